/* testing_explore.c - finding a lost update with goc_explore
 * (docs/testing.md).
 *
 * Two goroutines increment a shared counter by reading it, doing something
 * that may let another goroutine run (here goc_sim_point, which marks the
 * spot for the explorer; a channel operation or a lock would do the same),
 * and writing it back. Most schedules give 2; some give 1. goc_explore runs
 * the test under seed after seed, each in a fresh child process, and stops
 * at the first failure, printing the seed that replays it:
 *
 *     goc: explore: seed 7 fails (exit status 1), run 8 of 100
 *     goc: explore: replay it with: GOC_SCHED_SEED=7 ./testing_explore
 *
 * The fixed version, with the read and the write under one mutex, passes
 * every seed. This program exits 0 when the explorer finds the bug and the
 * fix passes.
 */
#include <goc.h>
#include <stdio.h>

static goc_mutex mu = GOC_MUTEX_INIT;
static int counter;
static bool use_mutex;

static void increment(void *arg)
{
	goc_waitgroup *wg = arg;
	if (use_mutex)
		goc_mutex_lock(&mu);
	int v = counter;
	goc_sim_point(); /* another goroutine may run here */
	counter = v + 1;
	if (use_mutex)
		goc_mutex_unlock(&mu);
	goc_waitgroup_done(wg);
}

static int test_counter(int argc, char **argv)
{
	goc_waitgroup wg = GOC_WAITGROUP_INIT;
	goc_waitgroup_add(&wg, 2);
	goc_go(increment, &wg);
	goc_go(increment, &wg);
	goc_waitgroup_wait(&wg);
	if (counter != 2) {
		printf("counter = %d, want 2\n", counter);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	goc_explore_opts opts = {.runs = 100};
	goc_explore_result res;

	use_mutex = false;
	if (goc_explore(&opts, test_counter, argc, argv, &res) != 1)
		return 1; /* the explorer should have found the lost update */
	printf("unlocked: seed %llu loses an update\n", (unsigned long long)res.failing_seed);

	use_mutex = true;
	if (goc_explore(&opts, test_counter, argc, argv, &res) != 0)
		return 1;
	printf("locked: %d seeds pass\n", res.runs);
	return 0;
}
