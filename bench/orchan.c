/* orchan.c - bench=orchan (../shared/bench/SPEC.md) with goc_or. */
#define NAME "orchan"

#include <goc.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void fail(const char *msg, long a, long b)
{
	fprintf(stderr, NAME ": %s (%ld, want %ld)\n", msg, a, b);
	exit(1);
}

static long setup(int argc, char **argv, long def)
{
	if (argc > 2)
		fail("usage: " NAME " [n]", argc, 2);
	if (argc < 2)
		return def;
	char *end;
	long n = strtol(argv[1], &end, 10);
	if (*end || n < 1)
		fail("n must be a positive integer", n, 1);
	return n;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int bench(int argc, char **argv)
{
	long n = setup(argc, argv, 10000);
	goc_chan **done = malloc((size_t)n * sizeof *done);
	for (long i = 0; i < n; i++)
		if (!(done[i] = goc_chan_make(0, 0)))
			fail("channel", i, n);
	int64_t start = now_ns();
	goc_chan *combined = goc_or(done, (size_t)n);
	if (!combined)
		fail("goc_or", 0, 1);
	goc_close(done[n - 1]);
	int rc = goc_recv(combined, NULL);
	int64_t elapsed = now_ns() - start;
	for (long i = 0; i < n - 1; i++)
		goc_close(done[i]);
	if (rc != GOC_ECLOSED)
		fail("the combined channel delivered a value; want it closed", rc, GOC_ECLOSED);
	goc_chan_release(combined);
	for (long i = 0; i < n; i++)
		goc_chan_release(done[i]);
	free(done);
	printf("bench=" NAME " impl=goc procs=%d n=%ld ns_per_op=%.1f\n", goc_procs(0), n,
	       (double)elapsed / (double)n);
	return 0;
}

int main(int argc, char **argv)
{
	if (!getenv("GOC_PROCS"))
		goc_procs(1);
	return goc_main(bench, argc, argv);
}
