/* chan_strict_send_on_rx.c - GOC_SEND on a receive-only handle: the _rx
 * type has no send end (no member goc__tx). */
#include <goc.h>

GOC_CHAN_DECLARE(ints, int);

int main(void)
{
	ints c = ints_make(1);
	ints_rx rx = ints_rx_of(c);
	int v = 3;
	GOC_SEND(c, v); /* both ends: fine */
	GOC_RECV(rx, &v);
#ifdef GOC_COMPILE_FAIL
	// expect-error: no member named
	GOC_SEND(rx, v);
#endif
	ints_release(c);
	return 0;
}
