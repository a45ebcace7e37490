/* chan_send_wrong_type.c - GOC_SEND takes exactly the element type: an int
 * does not go on a channel of double (as in Go, no implicit conversion). */
#include <goc.h>

GOC_CHAN_DECLARE(doubles, double);

int main(void)
{
	doubles c = doubles_make(2);
	doubles_tx tx = doubles_tx_of(c);
	double d = 2.5;
	GOC_SEND(tx, d);
	GOC_SEND(tx, 1.0);
#ifdef GOC_COMPILE_FAIL
	// expect-error: value type is not the element type of the channel
	int i = 1;
	GOC_SEND(tx, i);
#endif
	doubles_release(c);
	return 0;
}
