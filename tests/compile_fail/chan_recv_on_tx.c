/* chan_recv_on_tx.c - a send-only handle cannot receive, nor pass for a
 * receive-only one. */
#include <goc.h>

GOC_CHAN_DECLARE(ints, int);

int main(void)
{
	ints c = ints_make(1);
	ints_tx tx = ints_tx_of(c);
	int v = 0;
	ints_send(tx, 4);
	ints_recv(ints_rx_of(c), &v);
#ifdef GOC_COMPILE_FAIL
	// expect-error: incompatible type
	ints_recv(tx, &v);
#endif
	ints_release(c);
	return v == 4 ? 0 : 1;
}
