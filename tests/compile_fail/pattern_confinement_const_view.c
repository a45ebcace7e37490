/* pattern_confinement_const_view.c - lexical confinement of data (examples/
 * pattern_confinement.c): a worker gets a const view of its part of the
 * data; writing through it does not compile. */
#include <goc.h>

typedef struct slice {
	const int *data;
	int len;
} slice;

static int sum(slice s)
{
	int total = 0;
	for (int i = 0; i < s.len; i++)
		total += s.data[i];
#ifdef GOC_COMPILE_FAIL
	// expect-error: read-only
	s.data[0] = 0;
#endif
	return total;
}

int main(void)
{
	int data[] = { 1, 2, 3 };
	slice s = { data, 3 };
	return sum(s) == 6 ? 0 : 1;
}
