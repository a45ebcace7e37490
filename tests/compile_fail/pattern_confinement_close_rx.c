/* pattern_confinement_close_rx.c - lexical confinement (examples/
 * pattern_confinement.c): closing is the sender's job; a consumer holding
 * the receive end cannot close the producer's channel. */
#include <goc.h>

GOC_CHAN_DECLARE(orders, int);

int main(void)
{
	orders c = orders_make(1);
	orders_rx in = orders_rx_of(c);
	orders_send(orders_tx_of(c), 1);
	int v = 0;
	orders_recv(in, &v);
#ifdef GOC_COMPILE_FAIL
	// expect-error: incompatible type
	orders_close(in);
#endif
	orders_release(c);
	return v == 1 ? 0 : 1;
}
