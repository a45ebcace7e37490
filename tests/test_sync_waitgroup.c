/* test_sync_waitgroup.c - goc_waitgroup: counting, refusal of negative
 * counts, reuse, many waiters, deadlines, foreign threads. Any GOC_PROCS. */
#include "test_sync_util.h"

#include <pthread.h>
#include <stdatomic.h>

static goc_waitgroup wg, done_wg;
static _Atomic int finished, woken;

static void finish(void *arg)
{
	(void)arg;
	atomic_fetch_add(&finished, 1);
	goc_waitgroup_done(&wg);
}

static void test_wait_returns_after_every_done(void)
{
	enum { N = SCALED(5000) };
	atomic_store(&finished, 0);
	CHECK_EQ(goc_waitgroup_add(&wg, N), 0);
	for (int i = 0; i < N; i++)
		CHECK_EQ(goc_go(finish, NULL), 0);
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	CHECK_EQ(atomic_load(&finished), N);
	CHECK_EQ(atomic_load(&wg.state), 0);
}

static void test_negative_counter_is_refused_and_state_kept(void)
{
	goc_waitgroup w = GOC_WAITGROUP_INIT;
	CHECK_EQ(goc_waitgroup_done(&w), GOC_ENEGATIVE);
	CHECK_EQ(atomic_load(&w.state), 0);
	CHECK_EQ(goc_waitgroup_add(&w, 3), 0);
	CHECK_EQ(goc_waitgroup_add(&w, -4), GOC_ENEGATIVE);
	CHECK_EQ(atomic_load(&w.state) >> 32, 3);
	CHECK_EQ(goc_waitgroup_add(&w, -3), 0);
	CHECK_EQ(goc_waitgroup_wait(&w), 0);
	CHECK_EQ(goc_waitgroup_add(&w, INT32_MAX), 0);
	CHECK_EQ(goc_waitgroup_add(&w, 1), GOC_EINVAL);   /* counter overflow */
	CHECK_EQ(goc_waitgroup_add(&w, -INT32_MAX), 0);
	CHECK_EQ(atomic_load(&w.state), 0);
	CHECK_EQ(goc_waitgroup_add(NULL, 1), GOC_EINVAL);
	CHECK_EQ(goc_waitgroup_done(NULL), GOC_EINVAL);
	CHECK_EQ(goc_waitgroup_wait(NULL), GOC_EINVAL);
	CHECK_EQ(goc_waitgroup_wait_until(NULL, 0), GOC_EINVAL);
}

static void wait_then_count(void *arg)
{
	(void)arg;
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	atomic_fetch_add(&woken, 1);
	goc_waitgroup_done(&done_wg);
}

/* Many waiters are all released by the one done that reaches zero, and the
 * group is reused round after round. */
static void test_many_waiters_released_and_group_reused(void)
{
	enum { ROUNDS = SCALED(200), WAITERS = 10 };
	for (int round = 0; round < ROUNDS; round++) {
		atomic_store(&woken, 0);
		CHECK_EQ(goc_waitgroup_add(&wg, 2), 0);
		CHECK_EQ(goc_waitgroup_add(&done_wg, WAITERS), 0);
		for (int i = 0; i < WAITERS; i++)
			CHECK_EQ(goc_go(wait_then_count, NULL), 0);
		if (round % 2)
			goc_yield();   /* sometimes the waiters queue first */
		CHECK_EQ(goc_go(finish, NULL), 0);
		CHECK_EQ(goc_waitgroup_done(&wg), 0);
		CHECK_EQ(goc_waitgroup_wait(&done_wg), 0);
		CHECK_EQ(atomic_load(&woken), WAITERS);
		CHECK_EQ(atomic_load(&wg.state), 0);
	}
}

static _Atomic int timed_results[4];

static void wait_20ms(void *arg)
{
	int i = (int)(intptr_t)arg;
	int64_t t0 = now_ns();
	int r = goc_waitgroup_wait_until(&wg, t0 + MS(20));
	if (r == GOC_ETIMEDOUT && now_ns() - t0 < MS(20))
		r = 999;   /* early */
	atomic_store(&timed_results[i], r);
	goc_waitgroup_done(&done_wg);
}

static void test_wait_until_times_out_and_uncounts_itself(void)
{
	CHECK_EQ(goc_waitgroup_add(&wg, 1), 0);
	CHECK_EQ(goc_waitgroup_add(&done_wg, 3), 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(goc_go(wait_20ms, (void *)(intptr_t)i), 0);
	CHECK_EQ(goc_waitgroup_wait(&done_wg), 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(atomic_load(&timed_results[i]), GOC_ETIMEDOUT);
	/* Counter 1, no waiter left counted. */
	CHECK_EQ(atomic_load(&wg.state), (uint64_t)1 << 32);
	CHECK_EQ(goc_waitgroup_wait_until(&wg, now_ns() - 1), GOC_ETIMEDOUT);
	CHECK_EQ(goc_waitgroup_done(&wg), 0);
	CHECK_EQ(goc_waitgroup_wait_until(&wg, now_ns() - 1), 0);
	CHECK_EQ(atomic_load(&wg.state), 0);
}

/* Timeouts racing with the final done: every waiter returns 0 or
 * ETIMEDOUT, and the state always comes back to zero. */
static void wait_short(void *arg)
{
	int64_t ns = (int64_t)(intptr_t)arg;
	int r = goc_waitgroup_wait_until(&wg, now_ns() + ns);
	CHECK(r == 0 || r == GOC_ETIMEDOUT);
	goc_waitgroup_done(&done_wg);
}

static void test_timeouts_racing_with_release(void)
{
	for (int round = 0; round < SCALED(200); round++) {
		CHECK_EQ(goc_waitgroup_add(&wg, 1), 0);
		CHECK_EQ(goc_waitgroup_add(&done_wg, 4), 0);
		for (int i = 0; i < 4; i++)
			CHECK_EQ(goc_go(wait_short, (void *)(intptr_t)(i * 15000)), 0);
		goc_yield();
		CHECK_EQ(goc_waitgroup_done(&wg), 0);
		CHECK_EQ(goc_waitgroup_wait(&done_wg), 0);
		CHECK_EQ(atomic_load(&wg.state), 0);
	}
}

static void *thread_waits(void *arg)
{
	(void)arg;
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	atomic_fetch_add(&woken, 1);
	return NULL;
}

static void test_foreign_threads_wait_for_goroutines(void)
{
	atomic_store(&woken, 0);
	atomic_store(&finished, 0);
	CHECK_EQ(goc_waitgroup_add(&wg, 100), 0);
	pthread_t th[3];
	for (int i = 0; i < 3; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, thread_waits, NULL), 0);
	for (int i = 0; i < 100; i++)
		CHECK_EQ(goc_go(finish, NULL), 0);
	/* Park (not pthread_join, which would block this worker) until the
	 * goroutines are done; then the threads are released too. */
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(atomic_load(&woken), 3);
	CHECK_EQ(atomic_load(&finished), 100);
}

/* ---- simulation mode (goc/testing.h) -------------------------------------- */

static goc_waitgroup sim_wg;
static bool sim_marked;

static void sim_mark(void *arg)
{
	(void)arg;
	sim_marked = true;
}

static void *sim_thread_wait(void *arg)
{
	int64_t *real_ns = arg;
	int64_t t0 = now_ns();
	int rc = goc_waitgroup_wait_until(&sim_wg, goc_now() + MS(20));
	*real_ns = now_ns() - t0;
	return (void *)(intptr_t)rc;
}

/* Exit status 0 when every deadline was measured on goc_now's clock. */
static int sim_deadline_program(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	CHECK_EQ(goc_waitgroup_add(&sim_wg, 1), 0);
	/* A deadline already reached on the virtual clock times out at once:
	 * no park, so the goroutine just spawned has not run. */
	CHECK_EQ(goc_go(sim_mark, NULL), 0);
	CHECK_EQ(goc_waitgroup_wait_until(&sim_wg, goc_now()), GOC_ETIMEDOUT);
	CHECK(!sim_marked);
	/* A future one times out exactly at the virtual deadline. */
	int64_t t0 = goc_now();
	CHECK_EQ(goc_waitgroup_wait_until(&sim_wg, t0 + MS(7)), GOC_ETIMEDOUT);
	CHECK_EQ(goc_now() - t0, MS(7));
	CHECK(sim_marked);
	/* A foreign thread is outside the simulation: it waits the time left
	 * on the real clock (the virtual clock never moves for it). */
	pthread_t th;
	int64_t real_ns = 0;
	void *rc;
	CHECK_EQ(pthread_create(&th, NULL, sim_thread_wait, &real_ns), 0);
	CHECK_EQ(pthread_join(th, &rc), 0);
	CHECK_EQ((int)(intptr_t)rc, GOC_ETIMEDOUT);
	CHECK(real_ns >= MS(20));
	CHECK_EQ(goc_waitgroup_done(&sim_wg), 0);
	CHECK_EQ(goc_waitgroup_wait_until(&sim_wg, goc_now()), 0);
	return 0;
}

/* Deadlines are measured on goc_now's clock, virtual in simulation mode.
 * Before any runtime starts in this process (goc_sim_fork). */
static void test_deadlines_on_the_virtual_clock_in_simulation(void)
{
	check_sim_seeds(sim_deadline_program, "test_sync_waitgroup");
}

static int real_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	RUN(test_wait_returns_after_every_done);
	RUN(test_negative_counter_is_refused_and_state_kept);
	RUN(test_many_waiters_released_and_group_reused);
	RUN(test_wait_until_times_out_and_uncounts_itself);
	RUN(test_timeouts_racing_with_release);
	RUN(test_foreign_threads_wait_for_goroutines);
	return 0;
}

int main(int argc, char **argv)
{
	watchdog(60);
	RUN(test_deadlines_on_the_virtual_clock_in_simulation);
	CHECK_EQ(run_with_procs_1_and_2(real_main, argc, argv), 0);
	return 0;
}
