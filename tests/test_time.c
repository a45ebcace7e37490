/* test_time.c - the clock, sleeping and goc_after: waits never end early,
 * end within a generous bound (LATE_BOUND, test_time_util.h says why),
 * concurrent sleepers all complete, goc_after delivers once and
 * leaks nothing when nobody receives. Runs with GOC_PROCS=1 and 2.
 * ctest: TIMEOUT 60 */
#include "test_time_util.h"
#include "../src/internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

static void test_clock_is_monotonic_and_durations_scale(void)
{
	CHECK_EQ(GOC_US(3), 3000);
	CHECK_EQ(GOC_MS(3), 3000000);
	CHECK_EQ(GOC_SEC(3), 3000000000LL);
	CHECK_EQ(GOC_MIN(2), 120000000000LL);
	int64_t prev = goc_now();
	CHECK(prev > 0);
	for (int i = 0; i < 100000; i++) {
		int64_t t = goc_now();
		CHECK(t >= prev);
		prev = t;
	}
	/* goc_deadline_in saturates instead of wrapping. */
	CHECK_EQ(goc_deadline_in(INT64_MAX), GOC_NO_DEADLINE);
	CHECK(goc_deadline_in(GOC_MS(1)) > goc_now());
	CHECK(goc_deadline_in(INT64_MIN) < 0);
}

/* Sleep d and return how late it ended; fails if it ended early. */
static int64_t sleep_lateness(int64_t d)
{
	int64_t start = goc_now();
	CHECK_EQ(goc_sleep(d), 0);
	int64_t slept = goc_now() - start;
	if (slept < d) {
		fprintf(stderr, "sleep of %lld ns ended after %lld ns\n", (long long)d, (long long)slept);
		exit(1);
	}
	return slept - d;
}

static void test_sleep_never_early_and_late_within_bound(void)
{
	static const int64_t ds[] = {1000, GOC_US(100), GOC_MS(1), GOC_MS(5), GOC_MS(20)};
	for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
		int64_t late = sleep_lateness(ds[i]);
		CHECK(late <= LATE_BOUND);
	}
}

static void test_sleep_until_past_or_zero_returns_at_once(void)
{
	int64_t start = goc_now();
	CHECK_EQ(goc_sleep(0), 0);
	CHECK_EQ(goc_sleep(-GOC_SEC(5)), 0);
	CHECK_EQ(goc_sleep_until(start - GOC_SEC(1)), 0);
	CHECK_EQ(goc_sleep_until(INT64_MIN), 0);
	CHECK(goc_now() - start < GOC_MS(5));
	/* sleep_until a future deadline ends at or after it. */
	int64_t dl = goc_now() + GOC_MS(3);
	CHECK_EQ(goc_sleep_until(dl), 0);
	CHECK(goc_now() >= dl);
}

static _Atomic int foreign_done;

static void *foreign_sleeper(void *arg)
{
	int64_t *late = arg;
	int64_t start = goc_now();
	CHECK_EQ(goc_sleep(GOC_MS(20)), 0);
	*late = goc_now() - start - GOC_MS(20);
	atomic_store(&foreign_done, 1);
	return NULL;
}

static void *join_thread(void *arg)
{
	pthread_join(*(pthread_t *)arg, NULL);
	return NULL;
}

/* From a thread goc did not start, sleep blocks that thread: goroutines
 * keep running (and sleeping) meanwhile. */
static void test_sleep_on_foreign_thread_blocks_only_it(void)
{
	atomic_store(&foreign_done, 0);
	pthread_t th;
	int64_t late = -1;
	CHECK_EQ(pthread_create(&th, NULL, foreign_sleeper, &late), 0);
	int rounds = 0;
	while (!atomic_load(&foreign_done)) {
		goc_sleep(GOC_US(200));
		rounds++;
	}
	CHECK(goc_blocking(join_thread, &th) == NULL);
	CHECK(late >= 0 && late <= LATE_BOUND);
	CHECK(rounds >= 2);
}

static void test_after_delivers_fire_time_once(void)
{
	int64_t start = goc_now();
	goc_chan *c = goc_after(GOC_MS(10));
	CHECK(c != NULL);
	CHECK_EQ(goc_cap(c), 1);
	int64_t fired = 0;
	CHECK_EQ(goc_recv(c, &fired), 0);
	int64_t got = goc_now();
	CHECK(fired >= start + GOC_MS(10)); /* never early */
	CHECK(fired <= got);
	CHECK(got - start - GOC_MS(10) <= LATE_BOUND);
	CHECK_EQ(goc_recv_until(c, &fired, goc_now() + GOC_MS(5)), GOC_ETIMEDOUT); /* once */
	goc_chan_release(c);
}

static void test_after_nonpositive_is_ready_at_once(void)
{
	int64_t before = goc_now();
	goc_chan *c = goc_after(0), *d = goc_after(-GOC_SEC(1));
	int64_t v;
	CHECK_EQ(goc_try_recv(c, &v), 0);
	CHECK(v >= before);
	CHECK_EQ(goc_try_recv(d, &v), 0);
	CHECK_EQ(goc_try_recv(c, &v), GOC_EAGAIN);
	goc_chan_release(c);
	goc_chan_release(d);
}

/* The after-in-select idiom: a timeout that loses the race is simply
 * released; its timer fires later into a channel only it still holds and
 * frees everything (ASan's leak check runs at exit). */
static void test_after_released_unreceived_frees_itself(void)
{
	enum { N = 2000 };
	int64_t base = goc__timers_armed();
	for (int i = 0; i < N; i++) {
		goc_chan *c = goc_after(GOC_US(50 + i % 500));
		CHECK(c != NULL);
		goc_chan_release(c);
	}
	/* Wait (bounded) for every one of them to fire and free itself. */
	int64_t give_up = goc_now() + GOC_SEC(5);
	while (goc__timers_armed() > base && goc_now() < give_up)
		goc_sleep(GOC_MS(1));
	CHECK(goc__timers_armed() <= base);
	/* One that is still pending when the program exits stays reachable
	 * (the orphan registry), so the leak checker does not report it. */
	goc_chan_release(goc_after(GOC_SEC(3600)));
}

static goc_waitgroup select_wg;

static void after_in_select_worker(void *arg)
{
	goc_chan *in = arg;
	int v, got = 0;
	for (;;) {
		goc_chan *timeout = goc_after(GOC_MS(200));
		goc_case cs[] = {goc_case_recv(in, &v), goc_case_recv(timeout, NULL)};
		int r = GOC_SELECT(cs);
		goc_chan_release(timeout);
		CHECK(r == 0); /* the producer is fast: no timeout expected */
		if (!goc_case_ok(&cs[0]))
			break;
		got++;
	}
	CHECK_EQ(got, 1000);
	goc_chan_release(in);
	goc_waitgroup_done(&select_wg);
}

/* A timeout per received value, as Go loops do with time.After. */
static void test_after_as_select_timeout(void)
{
	goc_chan *in = goc_chan_make(sizeof(int), 0);
	goc_chan_retain(in);
	goc_waitgroup_add(&select_wg, 1);
	CHECK_EQ(goc_go(after_in_select_worker, in), 0);
	for (int i = 0; i < 1000; i++)
		CHECK_EQ(goc_send(in, &i), 0);
	goc_close(in);
	goc_chan_release(in);
	CHECK_EQ(goc_waitgroup_wait(&select_wg), 0);
}

/* ---- 100,000 concurrent sleepers ---------------------------------------- */

static goc_waitgroup sleepers_wg;
static goc_chan *sleepers_release;
static _Atomic int64_t early, late_max;
static int64_t *lateness;

static void sleeper(void *arg)
{
	intptr_t i = (intptr_t)arg;
	int64_t d = GOC_MS(1) + (i % 10) * GOC_MS(1);
	int64_t start = goc_now();
	goc_sleep(d);
	int64_t late = goc_now() - start - d;
	if (late < 0)
		atomic_fetch_add(&early, 1);
	lateness[i] = late;
	int64_t m = atomic_load(&late_max);
	while (late > m && !atomic_compare_exchange_weak(&late_max, &m, late))
		;
	goc_waitgroup_done(&sleepers_wg);
	/* Stay parked until all have slept, so every sleeper exists at once
	 * and no stack is recycled under the measurement. Each sleeper owns a
	 * reference to the channel (the test may release its own before a
	 * sleeper past its done has received). */
	goc_recv(sleepers_release, NULL);
	goc_chan_release(sleepers_release);
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Sleeping goroutines all wake, never early. The count is kept to what
 * starts in about a second here (goroutine start, not timers, dominates:
 * test_time_timer arms 100,000 timers at once, and bench/timers runs
 * 100,000 sleeping goroutines with a self-check). */
static void test_concurrent_sleepers_all_wake_never_early(void)
{
	int n = SCALE(20000, 1000);
	sleepers_release = goc_chan_make(0, 0);
	lateness = calloc((size_t)n, sizeof *lateness);
	CHECK(lateness != NULL);
	atomic_store(&early, 0);
	atomic_store(&late_max, 0);
	int64_t start = goc_now();
	goc_waitgroup_add(&sleepers_wg, n);
	for (intptr_t i = 0; i < n; i++) {
		goc_chan_retain(sleepers_release);
		CHECK_EQ(goc_go(sleeper, (void *)i), 0);
	}
	CHECK_EQ(goc_waitgroup_wait_until(&sleepers_wg, goc_now() + GOC_SEC(60)), 0);
	int64_t wall = goc_now() - start;
	goc_close(sleepers_release);
	CHECK_EQ(atomic_load(&early), 0);
	qsort(lateness, (size_t)n, sizeof *lateness, cmp64);
	/* Informational: how late timers fire while 100k of them are armed
	 * and the workers are busy starting goroutines. */
	fprintf(stderr, "    %d sleepers (1-10 ms): wall %.1f ms, lateness p50 %.1f us, "
	                "p99 %.1f us, max %.1f us\n",
	        n, wall / 1e6, lateness[n / 2] / 1e3, lateness[n * 99 / 100] / 1e3,
	        lateness[n - 1] / 1e3);
	free(lateness);
	/* Every sleeper is late by at most the time it takes to start them
	 * all plus the usual bound: the workers are busy spawning. */
	CHECK(atomic_load(&late_max) <= wall + LATE_BOUND);
	goc_chan_release(sleepers_release);
}

static int suite(int argc, char **argv)
{
	RUN(test_clock_is_monotonic_and_durations_scale);
	RUN(test_sleep_never_early_and_late_within_bound);
	RUN(test_sleep_until_past_or_zero_returns_at_once);
	RUN(test_sleep_on_foreign_thread_blocks_only_it);
	RUN(test_after_delivers_fire_time_once);
	RUN(test_after_nonpositive_is_ready_at_once);
	RUN(test_after_released_unreceived_frees_itself);
	RUN(test_after_as_select_timeout);
	RUN(test_concurrent_sleepers_all_wake_never_early);
	return 0;
}

int main(int argc, char **argv)
{
	return run_suite(suite, argc, argv, 60);
}
