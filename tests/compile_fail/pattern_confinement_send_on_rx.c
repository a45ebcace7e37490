/* pattern_confinement_send_on_rx.c - lexical confinement (examples/
 * pattern_confinement.c): a producer returns only the receive end of its
 * channel; the caller cannot send on it, nor close it. */
#include <goc.h>

GOC_CHAN_DECLARE(orders, int);

static void produce(void *arg)
{
	orders_tx *out = arg;
	orders_send(*out, 1);
	orders_close(*out);
	orders_tx_release(*out);
}

static orders_rx orders_of(void)
{
	orders c = orders_make(1);
	orders_retain(c);
	orders_tx tx = orders_tx_of(c);
	goc_go_copy(produce, &tx, sizeof tx);
	return orders_rx_of(c);
}

int main(void)
{
	orders_rx in = orders_of();
	int v = 0;
	orders_recv(in, &v);
#ifdef GOC_COMPILE_FAIL
	// expect-error: incompatible type
	orders_send(in, 2);
#endif
	orders_rx_release(in);
	return v == 1 ? 0 : 1;
}
