/* orchan.c - bench=orchan (../shared/bench/SPEC.md) with goc_or. */
#define NAME "orchan"

#include "bench.h"

static int bench(int argc, char **argv)
{
	long n = bench_setup(argc, argv, 10000);
	goc_chan **done = malloc((size_t)n * sizeof *done);
	for (long i = 0; i < n; i++)
		if (!(done[i] = goc_chan_make(0, 0)))
			bench_fail("channel", i, n);
	int64_t start = bench_now();
	goc_chan *combined = goc_or(done, (size_t)n);
	if (!combined)
		bench_fail("goc_or", 0, 1);
	goc_close(done[n - 1]);
	int rc = goc_recv(combined, NULL);
	int64_t elapsed = bench_now() - start;
	for (long i = 0; i < n - 1; i++)
		goc_close(done[i]);
	if (rc != GOC_ECLOSED)
		bench_fail("the combined channel delivered a value; want it closed", rc, GOC_ECLOSED);
	goc_chan_release(combined);
	for (long i = 0; i < n; i++)
		goc_chan_release(done[i]);
	free(done);
	bench_report(n, elapsed, "");
	return 0;
}

BENCH_MAIN(bench)
