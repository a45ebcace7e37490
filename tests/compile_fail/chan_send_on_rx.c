/* chan_send_on_rx.c - a receive-only handle cannot send: ints_send takes an
 * ints_tx, and an ints_rx is a different struct type. */
#include <goc.h>

GOC_CHAN_DECLARE(ints, int);

int main(void)
{
	ints c = ints_make(1);
	ints_rx rx = ints_rx_of(c);
	int v = 0;
	ints_send(ints_tx_of(c), 1); /* the send end may send */
	ints_recv(rx, &v);
#ifdef GOC_COMPILE_FAIL
	// expect-error: incompatible type
	ints_send(rx, 1);
#endif
	ints_release(c);
	return v == 1 ? 0 : 1;
}
