/* timers.c - bench=timers (../shared/bench/SPEC.md): n goroutines each
 * sleep 10 ms + (i % 10) ms, then Done on a waitgroup; main waits.
 * ns_per_op = (wall - longest sleep) / n, where the longest sleep (19 ms,
 * or 10 + (n-1) ms for n < 10) is the floor no implementation can beat;
 * wall_ms is the whole. Checks that the wait did not end before the
 * longest sleep and that every sleeper slept at least its duration.
 * GOC_PROCS defaults to 1. */
#define NAME "timers"
#include "bench.h"

#include <stdatomic.h>

static goc_waitgroup wg;
static _Atomic long early;

static void sleeper(void *arg)
{
	int64_t d = (int64_t)(intptr_t)arg;
	int64_t start = goc_now();
	goc_sleep(d);
	if (goc_now() - start < d)
		atomic_fetch_add_explicit(&early, 1, memory_order_relaxed);
	goc_waitgroup_done(&wg);
}

static int bench(int argc, char **argv)
{
	long n = bench_setup(argc, argv, 100000);
	int64_t start = goc_now();
	goc_waitgroup_add(&wg, n);
	for (long i = 0; i < n; i++) {
		int64_t d = GOC_MS(10) + (i % 10) * GOC_MS(1);
		if (goc_go(sleeper, (void *)(intptr_t)d) != 0)
			bench_fail("goc_go failed", i, n);
	}
	goc_waitgroup_wait(&wg);
	int64_t wall = goc_now() - start;

	int64_t longest = n < 10 ? GOC_MS(10) + (n - 1) * GOC_MS(1) : GOC_MS(19);
	if (wall < longest)
		bench_fail("all done before the longest sleep was over (ns)", (long)wall, (long)longest);
	if (atomic_load(&early))
		bench_fail("sleepers woke early", atomic_load(&early), 0);
	char extra[48];
	snprintf(extra, sizeof extra, " wall_ms=%.1f", (double)wall / 1e6);
	bench_report(n, wall - longest, extra);
	return 0;
}

BENCH_MAIN(bench)
