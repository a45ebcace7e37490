/* chan_close_rx.c - closing is the sender's job: ints_close takes the send
 * end only. */
#include <goc.h>

GOC_CHAN_DECLARE(ints, int);

int main(void)
{
	ints c = ints_make(0);
	ints_close(ints_tx_of(c));
#ifdef GOC_COMPILE_FAIL
	// expect-error: incompatible type
	ints_close(ints_rx_of(c));
#endif
	ints_release(c);
	return 0;
}
