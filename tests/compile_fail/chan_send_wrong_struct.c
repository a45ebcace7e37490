/* chan_send_wrong_struct.c - the typed send function of a struct channel
 * rejects another struct type. */
#include <goc.h>

struct point { double x, y; };
struct size { double w, h; };
GOC_CHAN_DECLARE(points, struct point);

int main(void)
{
	points c = points_make(1);
	struct point p = { 1, 2 };
	points_send(points_tx_of(c), p);
#ifdef GOC_COMPILE_FAIL
	// expect-error: incompatible type
	struct size s = { 3, 4 };
	points_send(points_tx_of(c), s);
#endif
	points_release(c);
	return 0;
}
