/* spawn.c - bench=spawn (../shared/bench/SPEC.md): main spawns n goroutines
 * that each only call Done on a waitgroup, then waits; ns_per_op is one
 * goroutine, start to finish (default n = 1,000,000). The check is that the
 * wait returns. GOC_PROCS defaults to 1. */
#define NAME "spawn"
#include "bench.h"

static goc_waitgroup wg = GOC_WAITGROUP_INIT;

static void done(void *arg)
{
	(void)arg;
	goc_waitgroup_done(&wg);
}

static int bench(int argc, char **argv)
{
	long n = bench_setup(argc, argv, 1000000);
	int64_t start = bench_now();
	goc_waitgroup_add(&wg, (int)n);
	for (long i = 0; i < n; i++)
		if (goc_go(done, NULL) != 0)
			bench_fail("goc_go failed", 0, 0);
	if (goc_waitgroup_wait(&wg) != 0)
		bench_fail("wait failed", 0, 0);
	int64_t elapsed = bench_now() - start;
	bench_report(n, elapsed, "");
	return 0;
}

BENCH_MAIN(bench)
