/* test_sched_handoff.c - the direct hand-off (proc.c): a goroutine that
 * parks right after readying another switches straight to it. Checks that
 * the parked side's deferred work (unlock, deadline timer) still happens,
 * that endless hand-offs leave room for the global queue and for timers
 * (the INHERIT_MAX bound, proc.c: without it these tests hang and the watchdog
 * fails them), and that a goroutine wired to a thread is never switched to
 * on another. Runs with GOC_PROCS=1, then 2. ctest: TIMEOUT 60 */
#include "goc.h"
#include "check.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#define ROUNDS 20000

struct pair {
	goc_chan *ping, *pong;
	goc_waitgroup wg;
	_Atomic int stop;
	_Atomic long rounds;       /* bouncer's, so far */
	long sum;
};

/* Echo pings back as pongs (plus one) until ping closes. */
static void echoer(void *arg)
{
	struct pair *pr = arg;
	long v;
	while (goc_recv(pr->ping, &v) == 0)
		CHECK_EQ(goc_send(pr->pong, &(long){v + 1}), 0);
	goc_waitgroup_done(&pr->wg);
}

static void pair_init(struct pair *pr)
{
	pr->ping = goc_chan_make(sizeof(long), 0);
	pr->pong = goc_chan_make(sizeof(long), 0);
	CHECK(pr->ping && pr->pong);
	pr->wg = (goc_waitgroup)GOC_WAITGROUP_INIT;
	atomic_store(&pr->stop, 0);
	atomic_store(&pr->rounds, 0);
	pr->sum = 0;
}

static void pair_free(struct pair *pr)
{
	goc_chan_release(pr->ping);
	goc_chan_release(pr->pong);
}

/* Receives with a deadline park with a timer, armed by whoever runs the
 * parked goroutine's after-switch work: here, mostly the next goroutine. A
 * lost arming or stop shows as a spurious timeout or a leaked timer. */
static void test_pingpong_with_deadlines(void)
{
	struct pair pr;
	pair_init(&pr);
	goc_waitgroup_add(&pr.wg, 1);
	CHECK_EQ(goc_go(echoer, &pr), 0);
	for (long i = 0; i < ROUNDS; i++) {
		long v;
		CHECK_EQ(goc_send_until(pr.ping, &i, goc_now() + GOC_SEC(30)), 0);
		CHECK_EQ(goc_recv_until(pr.pong, &v, goc_now() + GOC_SEC(30)), 0);
		CHECK_EQ(v, i + 1);
	}
	/* And a deadline that does expire, between hand-offs. */
	long v;
	int64_t t0 = goc_now();
	CHECK_EQ(goc_recv_until(pr.pong, &v, t0 + GOC_MS(5)), GOC_ETIMEDOUT);
	CHECK(goc_now() - t0 >= GOC_MS(5));
	goc_close(pr.ping);
	goc_waitgroup_wait(&pr.wg);
	pair_free(&pr);
}

/* Two goroutines hand off to each other until told to stop. */
static void bouncer(void *arg)
{
	struct pair *pr = arg;
	long v = 0;
	while (!atomic_load_explicit(&pr->stop, memory_order_relaxed)) {
		CHECK_EQ(goc_send(pr->ping, &v), 0);
		CHECK_EQ(goc_recv(pr->pong, &v), 0);
		atomic_fetch_add_explicit(&pr->rounds, 1, memory_order_relaxed);
	}
	goc_close(pr->ping);
	pr->sum = v;
	goc_waitgroup_done(&pr->wg);
}

/* An echoer and a bouncer handing off to each other until pr->stop; the
 * wait group also counts the one goroutine the test adds to stop them. */
static void start_bouncing(struct pair *pr)
{
	pair_init(pr);
	goc_waitgroup_add(&pr->wg, 3);
	CHECK_EQ(goc_go(echoer, pr), 0);
	CHECK_EQ(goc_go(bouncer, pr), 0);
}

static void stopper(void *arg)
{
	struct pair *pr = arg;
	atomic_store(&pr->stop, 1);
	goc_waitgroup_done(&pr->wg);
}

/* Once the bouncing is under way, a plain thread spawns the stopper: with
 * no P, it goes on the global queue, which a worker busy with hand-offs
 * must still look at. */
static void *spawn_stopper(void *arg)
{
	struct pair *pr = arg;
	while (atomic_load(&pr->rounds) < 1000)
		sched_yield();
	CHECK_EQ(goc_go(stopper, arg), 0);
	return NULL;
}

static void test_endless_handoffs_leave_room_for_the_global_queue(void)
{
	struct pair pr;
	start_bouncing(&pr);
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, spawn_stopper, &pr), 0);
	goc_waitgroup_wait(&pr.wg);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(pr.sum >= 1000);
	pair_free(&pr);
}

/* A timer on the busy P fires although its worker never goes idle. */
static void timed_stop(void *arg)
{
	struct pair *pr = arg;
	while (atomic_load(&pr->rounds) < 1000)
		goc_yield();
	goc_sleep(GOC_MS(2));
	atomic_store(&pr->stop, 1);
	goc_waitgroup_done(&pr->wg);
}

static void test_endless_handoffs_leave_room_for_timers(void)
{
	struct pair pr;
	start_bouncing(&pr);
	CHECK_EQ(goc_go(timed_stop, &pr), 0);
	goc_waitgroup_wait(&pr.wg);
	CHECK(pr.sum >= 1000);
	pair_free(&pr);
}

/* A goroutine wired to its thread echoes: every hand-off to it must go
 * through the scheduler to that thread, never run it on the sender's. */
static void locked_echoer(void *arg)
{
	struct pair *pr = arg;
	CHECK_EQ(goc_lock_thread(), 0);
	pthread_t self = pthread_self();
	long v;
	while (goc_recv(pr->ping, &v) == 0) {
		CHECK(pthread_equal(pthread_self(), self));
		CHECK_EQ(goc_send(pr->pong, &(long){v + 1}), 0);
	}
	CHECK(pthread_equal(pthread_self(), self));
	CHECK_EQ(goc_unlock_thread(), 0);
	goc_waitgroup_done(&pr->wg);
}

static void test_no_handoff_to_a_goroutine_wired_to_another_thread(void)
{
	struct pair pr;
	pair_init(&pr);
	goc_waitgroup_add(&pr.wg, 1);
	CHECK_EQ(goc_go(locked_echoer, &pr), 0);
	for (long i = 0; i < ROUNDS / 10; i++) {
		long v;
		CHECK_EQ(goc_send(pr.ping, &i), 0);
		CHECK_EQ(goc_recv(pr.pong, &v), 0);
		CHECK_EQ(v, i + 1);
	}
	goc_close(pr.ping);
	goc_waitgroup_wait(&pr.wg);
	pair_free(&pr);
}

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	RUN(test_pingpong_with_deadlines);
	RUN(test_endless_handoffs_leave_room_for_the_global_queue);
	RUN(test_endless_handoffs_leave_room_for_timers);
	RUN(test_no_handoff_to_a_goroutine_wired_to_another_thread);
	return 0;
}

int main(int argc, char **argv)
{
	check_watchdog(30);
	return check_run_procs_1_and_2(run, argc, argv);
}
