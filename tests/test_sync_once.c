/* test_sync_once.c - goc_once: exactly one call under a race of goroutines
 * and threads, waiters see its effects, deadline form. Any GOC_PROCS. */
#include "test_sync_util.h"

#include <pthread.h>
#include <stdatomic.h>

static goc_waitgroup wg;
static _Atomic int calls, saw_value;
static long value;   /* written once by the once's fn, read after goc_once_do */

static void init_value(void *arg)
{
	atomic_fetch_add(&calls, 1);
	goc_yield();   /* let the racers pile up behind us */
	goc_yield();
	value = (long)(intptr_t)arg;
}

static goc_once race_once = GOC_ONCE_INIT;

static void racer(void *arg)
{
	CHECK_EQ(goc_once_do(&race_once, init_value, arg), 0);
	if (value == 42)
		atomic_fetch_add(&saw_value, 1);
	goc_waitgroup_done(&wg);
}

static void *thread_racer(void *arg)
{
	register_foreign_thread();
	CHECK_EQ(goc_once_do(&race_once, init_value, arg), 0);
	if (value == 42)
		atomic_fetch_add(&saw_value, 1);
	return NULL;
}

static void test_once_runs_fn_exactly_once_under_a_race(void)
{
	for (int round = 0; round < SCALED(50); round++) {
		memset(&race_once, 0, sizeof race_once);
		value = 0;
		atomic_store(&calls, 0);
		atomic_store(&saw_value, 0);
		pthread_t th[2];
		for (int i = 0; i < 2; i++)
			CHECK_EQ(pthread_create(&th[i], NULL, thread_racer, (void *)42), 0);
		goc_waitgroup_add(&wg, 20);
		for (int i = 0; i < 20; i++)
			CHECK_EQ(goc_go(racer, (void *)42), 0);
		CHECK_EQ(goc_waitgroup_wait(&wg), 0);
		for (int i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		CHECK_EQ(atomic_load(&calls), 1);
		CHECK_EQ(atomic_load(&saw_value), 22);
		CHECK(goc_once_done(&race_once));
	}
}

static void count_call(void *arg)
{
	(void)arg;
	atomic_fetch_add(&calls, 1);
}

static void test_once_bad_input_and_done_query(void)
{
	goc_once o = GOC_ONCE_INIT;
	CHECK(!goc_once_done(&o));
	CHECK_EQ(goc_once_do(NULL, count_call, NULL), GOC_EINVAL);
	CHECK_EQ(goc_once_do(&o, NULL, NULL), GOC_EINVAL);
	CHECK(!goc_once_done(&o));
	atomic_store(&calls, 0);
	CHECK_EQ(goc_once_do(&o, count_call, NULL), 0);
	CHECK_EQ(goc_once_do(&o, count_call, NULL), 0);
	CHECK_EQ(atomic_load(&calls), 1);
	CHECK(goc_once_done(&o));
	CHECK(!goc_once_done(NULL));
}

/* fn blocks until main lets it go; a waiter with a deadline gives up, one
 * without waits and then sees fn's effect. */
static goc_once slow_once = GOC_ONCE_INIT;
static goc_waitgroup gate;
static _Atomic int timed_result = 1, plain_result = 1;

static void slow_init(void *arg)
{
	(void)arg;
	goc_waitgroup_wait(&gate);
	value = 7;
}

static void runner(void *arg)
{
	(void)arg;
	goc_once_do(&slow_once, slow_init, NULL);
	goc_waitgroup_done(&wg);
}

static void timed_waiter(void *arg)
{
	(void)arg;
	int64_t t0 = now_ns();
	int r = goc_once_do_until(&slow_once, count_call, NULL, t0 + MS(20));
	if (r == GOC_ETIMEDOUT && now_ns() - t0 < MS(20))
		r = 999;
	atomic_store(&timed_result, r);
	goc_waitgroup_done(&wg);
}

static void plain_waiter(void *arg)
{
	(void)arg;
	int r = goc_once_do(&slow_once, count_call, NULL);
	atomic_store(&plain_result, r == 0 && value == 7 ? 0 : -1);
	goc_waitgroup_done(&wg);
}

static void test_once_do_until_gives_up_while_fn_runs(void)
{
	memset(&slow_once, 0, sizeof slow_once);
	atomic_store(&timed_result, 1);
	atomic_store(&plain_result, 1);
	value = 0;
	atomic_store(&calls, 0);
	goc_waitgroup_add(&gate, 1);
	goc_waitgroup_add(&wg, 3);
	CHECK_EQ(goc_go(runner, NULL), 0);
	while (atomic_load(&slow_once.state) == 0)
		goc_yield();
	CHECK_EQ(goc_go(timed_waiter, NULL), 0);
	CHECK_EQ(goc_go(plain_waiter, NULL), 0);
	while (atomic_load(&timed_result) == 1)
		goc_yield();
	CHECK_EQ(atomic_load(&timed_result), GOC_ETIMEDOUT);
	CHECK(!goc_once_done(&slow_once));
	goc_waitgroup_done(&gate);
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	CHECK_EQ(atomic_load(&plain_result), 0);
	CHECK_EQ(atomic_load(&calls), 0);   /* the waiters' fns never ran */
	CHECK(goc_once_done(&slow_once));
}

/* ---- simulation mode (goc/testing.h) -------------------------------------- */

static goc_once sim_once = GOC_ONCE_INIT;
static goc_chan *sim_started, *sim_release;
static bool sim_marked;

static void sim_mark(void *arg)
{
	(void)arg;
	sim_marked = true;
}

static void sim_slow_fn(void *arg)
{
	(void)arg;
	CHECK_EQ(goc_send(sim_started, &(int){1}), 0);
	CHECK_EQ(goc_recv(sim_release, NULL), GOC_ECLOSED);
}

static void sim_runner(void *arg)
{
	CHECK_EQ(goc_once_do(&sim_once, sim_slow_fn, arg), 0);
}

/* Exit status 0 when the deadlines were measured on goc_now's clock. */
static int sim_deadline_program(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	sim_started = goc_chan_make(sizeof(int), 0);
	sim_release = goc_chan_make(sizeof(int), 0);
	CHECK(sim_started && sim_release);
	CHECK_EQ(goc_go(sim_runner, NULL), 0);
	CHECK_EQ(goc_recv(sim_started, NULL), 0);   /* its fn runs */
	/* A deadline already reached on the virtual clock times out at once:
	 * no park, so the goroutine just spawned has not run. */
	CHECK_EQ(goc_go(sim_mark, NULL), 0);
	CHECK_EQ(goc_once_do_until(&sim_once, count_call, NULL, goc_now()), GOC_ETIMEDOUT);
	CHECK(!sim_marked);
	/* A future one times out exactly at the virtual deadline. */
	int64_t t0 = goc_now();
	CHECK_EQ(goc_once_do_until(&sim_once, count_call, NULL, t0 + MS(4)), GOC_ETIMEDOUT);
	CHECK_EQ(goc_now() - t0, MS(4));
	CHECK(sim_marked);
	CHECK(!goc_once_done(&sim_once));
	CHECK_EQ(goc_close(sim_release), 0);
	CHECK_EQ(goc_once_do(&sim_once, count_call, NULL), 0);
	CHECK(goc_once_done(&sim_once));
	CHECK_EQ(atomic_load(&calls), 0);
	goc_chan_release(sim_started);
	goc_chan_release(sim_release);
	return 0;
}

/* Deadlines are measured on goc_now's clock, virtual in simulation mode.
 * Before any runtime starts in this process (goc_sim_fork). */
static void test_deadlines_on_the_virtual_clock_in_simulation(void)
{
	check_sim_seeds(sim_deadline_program, "test_sync_once");
}

static int real_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	RUN(test_once_runs_fn_exactly_once_under_a_race);
	RUN(test_once_bad_input_and_done_query);
	RUN(test_once_do_until_gives_up_while_fn_runs);
	return 0;
}

int main(int argc, char **argv)
{
	watchdog(60);
	RUN(test_deadlines_on_the_virtual_clock_in_simulation);
	CHECK_EQ(run_with_procs_1_and_2(real_main, argc, argv), 0);
	return 0;
}
