/* chan_recv_wrong_type.c - GOC_RECV needs a pointer to exactly the element
 * type: a double channel does not receive into an int. */
#include <goc.h>

GOC_CHAN_DECLARE(doubles, double);

int main(void)
{
	doubles c = doubles_make(1);
	double d = 0;
	GOC_SEND(c, 1.5);
	GOC_RECV(doubles_rx_of(c), &d);
#ifdef GOC_COMPILE_FAIL
	// expect-error: pointer type is not a pointer to the element type of the channel
	int i;
	GOC_RECV(doubles_rx_of(c), &i);
#endif
	doubles_release(c);
	return d == 1.5 ? 0 : 1;
}
