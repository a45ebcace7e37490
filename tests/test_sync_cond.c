/* test_sync_cond.c - goc_cond: no lost wake-ups, broadcast, deadlines that
 * do not swallow signals, misuse, foreign threads. Any GOC_PROCS. */
#include "test_sync_util.h"

#include <pthread.h>
#include <stdatomic.h>

static goc_mutex mu = GOC_MUTEX_INIT;
static goc_cond cv = GOC_COND_INIT;
static goc_waitgroup wg;
static long turn;          /* guarded by mu */
static long ready_count;   /* guarded by mu */

/* ---- ping-pong handshakes: a lost signal would hang (bounded below) ---- */

enum { HANDSHAKES = SCALED(20000) };

/* Each side waits for its turn, then passes it. With a 5 s deadline per
 * wait, a lost wake-up is a failure, not a hang. */
static void take_turns(void *arg)
{
	long me = (long)(intptr_t)arg;
	for (long i = 0; i < HANDSHAKES; i++) {
		goc_mutex_lock(&mu);
		while (turn % 2 != me)
			CHECK_EQ(goc_cond_wait_until(&cv, &mu, now_ns() + MS(5000)), 0);
		turn++;
		goc_cond_signal(&cv);
		goc_mutex_unlock(&mu);
	}
	goc_waitgroup_done(&wg);
}

static void test_signal_wait_handshakes_lose_no_wakeup(void)
{
	turn = 0;
	goc_waitgroup_add(&wg, 2);
	CHECK_EQ(goc_go(take_turns, (void *)0), 0);
	CHECK_EQ(goc_go(take_turns, (void *)1), 0);
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	CHECK_EQ(turn, 2L * HANDSHAKES);
	CHECK_EQ(atomic_load(&cv.nwait), 0);
}

/* The same, with the signal sent after unlocking (allowed, as in Go). */
static void take_turns_signal_outside(void *arg)
{
	long me = (long)(intptr_t)arg;
	for (long i = 0; i < HANDSHAKES; i++) {
		goc_mutex_lock(&mu);
		while (turn % 3 != me)
			CHECK_EQ(goc_cond_wait_until(&cv, &mu, now_ns() + MS(5000)), 0);
		turn++;
		goc_mutex_unlock(&mu);
		goc_cond_broadcast(&cv);
	}
	goc_waitgroup_done(&wg);
}

static void test_three_way_rotation_with_broadcast_outside_the_lock(void)
{
	turn = 0;
	goc_waitgroup_add(&wg, 3);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(goc_go(take_turns_signal_outside, (void *)(intptr_t)i), 0);
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	CHECK_EQ(turn, 3L * HANDSHAKES);
}

/* ---- broadcast wakes all -------------------------------------------------- */

static long generation;   /* guarded by mu */
static _Atomic int released;
static goc_cond cv_ready = GOC_COND_INIT;   /* waiters -> main: "one more waits" */

static void wait_for_generation(void *arg)
{
	(void)arg;
	goc_mutex_lock(&mu);
	long g = generation;
	ready_count++;
	goc_cond_signal(&cv_ready);
	while (generation == g)
		CHECK_EQ(goc_cond_wait(&cv, &mu), 0);
	goc_mutex_unlock(&mu);
	atomic_fetch_add(&released, 1);
	goc_waitgroup_done(&wg);
}

static void test_broadcast_wakes_every_waiter(void)
{
	enum { N = 50 };
	for (int round = 0; round < SCALED(20); round++) {
		ready_count = 0;
		atomic_store(&released, 0);
		goc_waitgroup_add(&wg, N);
		for (int i = 0; i < N; i++)
			CHECK_EQ(goc_go(wait_for_generation, NULL), 0);
		goc_mutex_lock(&mu);
		while (ready_count < N)
			CHECK_EQ(goc_cond_wait_until(&cv_ready, &mu, now_ns() + MS(5000)), 0);
		generation++;
		CHECK_EQ(goc_cond_broadcast(&cv), 0);
		goc_mutex_unlock(&mu);
		CHECK_EQ(goc_waitgroup_wait(&wg), 0);
		CHECK_EQ(atomic_load(&released), N);
	}
	CHECK_EQ(atomic_load(&cv.nwait), 0);
}

/* ---- deadlines --------------------------------------------------------- */

static void test_wait_until_times_out_with_mutex_relocked(void)
{
	CHECK_EQ(goc_mutex_lock(&mu), 0);
	int64_t t0 = now_ns();
	CHECK_EQ(goc_cond_wait_until(&cv, &mu, t0 + MS(20)), GOC_ETIMEDOUT);
	CHECK(now_ns() - t0 >= MS(20));
	CHECK_EQ(goc_mutex_trylock(&mu), GOC_EAGAIN);   /* we hold it again */
	CHECK_EQ(goc_mutex_unlock(&mu), 0);
	CHECK_EQ(atomic_load(&cv.nwait), 0);
	CHECK_EQ(atomic_load(&mu.state), 0);
}

/* A waiter that timed out must not absorb a later signal meant for a
 * waiter still waiting (the hole a ticket scheme would leave). */
static _Atomic int short_result = 1, long_result = 1;

static void short_waiter(void *arg)
{
	(void)arg;
	goc_mutex_lock(&mu);
	atomic_store(&short_result, goc_cond_wait_until(&cv, &mu, now_ns() + MS(10)));
	goc_mutex_unlock(&mu);
	goc_waitgroup_done(&wg);
}

static void long_waiter(void *arg)
{
	(void)arg;
	goc_mutex_lock(&mu);
	atomic_store(&long_result, goc_cond_wait_until(&cv, &mu, now_ns() + MS(5000)));
	goc_mutex_unlock(&mu);
	goc_waitgroup_done(&wg);
}

static void test_timed_out_waiter_does_not_swallow_signal(void)
{
	atomic_store(&short_result, 1);
	atomic_store(&long_result, 1);
	goc_waitgroup_add(&wg, 1);
	CHECK_EQ(goc_go(short_waiter, NULL), 0);   /* queues first */
	while (atomic_load(&cv.nwait) < 1)
		goc_yield();
	goc_waitgroup_add(&wg, 1);
	CHECK_EQ(goc_go(long_waiter, NULL), 0);
	/* Wait until the short waiter has given up and the long one waits. */
	while (atomic_load(&short_result) == 1 || atomic_load(&cv.nwait) != 1)
		goc_yield();
	CHECK_EQ(atomic_load(&short_result), GOC_ETIMEDOUT);
	int64_t t0 = now_ns();
	CHECK_EQ(goc_cond_signal(&cv), 0);
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	CHECK_EQ(atomic_load(&long_result), 0);
	CHECK(now_ns() - t0 < MS(4000));
	CHECK_EQ(atomic_load(&cv.nwait), 0);
}

/* Signals racing with timeouts: with every signal counted, the number of
 * waiters woken by a signal never exceeds the number of signals. */
static _Atomic int wakes, timeouts_seen;

static void racing_waiter(void *arg)
{
	int64_t ns = (int64_t)(intptr_t)arg;
	goc_mutex_lock(&mu);
	int r = goc_cond_wait_until(&cv, &mu, now_ns() + ns);
	goc_mutex_unlock(&mu);
	if (r == 0)
		atomic_fetch_add(&wakes, 1);
	else
		atomic_fetch_add(&timeouts_seen, 1);
	goc_waitgroup_done(&wg);
}

static void test_signals_racing_with_timeouts(void)
{
	atomic_store(&wakes, 0);
	atomic_store(&timeouts_seen, 0);
	int signals = 0;
	for (int round = 0; round < SCALED(100); round++) {
		goc_waitgroup_add(&wg, 4);
		for (int i = 0; i < 4; i++)
			CHECK_EQ(goc_go(racing_waiter, (void *)(intptr_t)(10000 + i * 20000)), 0);
		goc_yield();
		goc_cond_signal(&cv);
		goc_cond_signal(&cv);
		signals += 2;
		CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	}
	CHECK(atomic_load(&wakes) <= signals);
	CHECK_EQ(atomic_load(&wakes) + atomic_load(&timeouts_seen), 4 * SCALED(100));
	CHECK_EQ(atomic_load(&cv.nwait), 0);
}

/* ---- misuse --------------------------------------------------------------- */

static void test_wait_with_unlocked_mutex_is_eperm(void)
{
	goc_mutex m = GOC_MUTEX_INIT;
	goc_cond c;
	memset(&c, 0, sizeof c);
	CHECK_EQ(goc_cond_wait(&c, &m), GOC_EPERM);
	CHECK_EQ(atomic_load(&c.nwait), 0);
	CHECK_EQ(atomic_load(&m.state), 0);
	CHECK_EQ(goc_cond_wait(NULL, &m), GOC_EINVAL);
	CHECK_EQ(goc_cond_wait(&c, NULL), GOC_EINVAL);
	CHECK_EQ(goc_cond_signal(NULL), GOC_EINVAL);
	CHECK_EQ(goc_cond_broadcast(NULL), GOC_EINVAL);
	CHECK_EQ(goc_cond_signal(&c), 0);   /* no waiter: nothing happens */
}

/* ---- foreign threads ------------------------------------------------------ */

static void *thread_take_turns(void *arg)
{
	register_foreign_thread();
	long me = (long)(intptr_t)arg;
	for (long i = 0; i < 5000; i++) {
		CHECK_EQ(goc_mutex_lock(&mu), 0);
		while (turn % 2 != me)
			CHECK_EQ(goc_cond_wait_until(&cv, &mu, now_ns() + MS(5000)), 0);
		turn++;
		goc_cond_signal(&cv);
		CHECK_EQ(goc_mutex_unlock(&mu), 0);
	}
	return NULL;
}

static void take_turns_5000(void *arg)
{
	long me = (long)(intptr_t)arg;
	for (long i = 0; i < 5000; i++) {
		goc_mutex_lock(&mu);
		while (turn % 2 != me)
			CHECK_EQ(goc_cond_wait_until(&cv, &mu, now_ns() + MS(5000)), 0);
		turn++;
		goc_cond_signal(&cv);
		goc_mutex_unlock(&mu);
	}
	goc_waitgroup_done(&wg);
}

static void test_thread_and_goroutine_take_turns(void)
{
	turn = 0;
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, thread_take_turns, (void *)1), 0);
	goc_waitgroup_add(&wg, 1);
	CHECK_EQ(goc_go(take_turns_5000, (void *)0), 0);
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	pthread_join(th, NULL);
	CHECK_EQ(turn, 10000);
}

static int real_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	RUN(test_signal_wait_handshakes_lose_no_wakeup);
	RUN(test_three_way_rotation_with_broadcast_outside_the_lock);
	RUN(test_broadcast_wakes_every_waiter);
	RUN(test_wait_until_times_out_with_mutex_relocked);
	RUN(test_timed_out_waiter_does_not_swallow_signal);
	RUN(test_signals_racing_with_timeouts);
	RUN(test_wait_with_unlocked_mutex_is_eperm);
	RUN(test_thread_and_goroutine_take_turns);
	return 0;
}

int main(int argc, char **argv)
{
	watchdog(60);
	CHECK_EQ(run_with_procs_1_and_2(real_main, argc, argv), 0);
	return 0;
}
