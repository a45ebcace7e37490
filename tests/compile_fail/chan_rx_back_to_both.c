/* chan_rx_back_to_both.c - narrowing is one way: a receive-only handle does
 * not convert back into a bidirectional one. */
#include <goc.h>

GOC_CHAN_DECLARE(ints, int);

int main(void)
{
	ints c = ints_make(0);
	ints_rx rx = ints_rx_of(c);
	(void)rx;
#ifdef GOC_COMPILE_FAIL
	// expect-error: invalid initializer|incompatible type
	ints again = rx;
	(void)again;
#endif
	ints_release(c);
	return 0;
}
