/* mutex.c - bench=mutex (../shared/bench/SPEC.md): 100 goroutines each do
 * n/100 lock, increment, unlock on one shared goc_mutex; the count must come
 * to n. ns_per_op is one lock/unlock pair (default n = 10,000,000; n must be
 * a multiple of 100). GOC_PROCS defaults to 1. */
#define NAME "mutex"
#include "bench.h"

#define GOROUTINES 100

static goc_mutex mu = GOC_MUTEX_INIT;
static goc_waitgroup wg = GOC_WAITGROUP_INIT;
static long count;   /* guarded by mu */
static long per_goroutine;

static void worker(void *arg)
{
	(void)arg;
	for (long i = 0; i < per_goroutine; i++) {
		goc_mutex_lock(&mu);
		count++;
		goc_mutex_unlock(&mu);
	}
	goc_waitgroup_done(&wg);
}

static int bench(int argc, char **argv)
{
	long n = bench_setup(argc, argv, 10000000);
	if (n % GOROUTINES != 0)
		bench_fail("n must be a multiple of 100", n % GOROUTINES, 0);
	per_goroutine = n / GOROUTINES;

	int64_t start = bench_now();
	goc_waitgroup_add(&wg, GOROUTINES);
	for (int g = 0; g < GOROUTINES; g++)
		if (goc_go(worker, NULL) != 0)
			bench_fail("goc_go failed", g, GOROUTINES);
	goc_waitgroup_wait(&wg);
	int64_t elapsed = bench_now() - start;

	if (count != n)
		bench_fail("wrong count", count, n);
	bench_report(n, elapsed, "");
	return 0;
}

BENCH_MAIN(bench)
