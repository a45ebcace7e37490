/* test_debug_stats.c - goc_stats reports the scheduler's counters: alive
 * and created goroutines, switches, parks, armed timers, processors and
 * their run queues, goroutines in blocking calls; zero before the runtime
 * starts; GOC_EINVAL for NULL. Counters are read without stopping the
 * scheduler, so the checks compare differences that the test itself
 * caused (lower bounds), never exact totals of concurrent activity. */
#include "test_debug_util.h"

#include <goc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 50 };

/* Waits on the channel, then reports its end on a waitgroup: the test
 * frees the channel only after goc_waitgroup_wait, which orders the
 * goroutine's last use of it before the free. */
typedef struct waiter {
	goc_chan *ch;
	goc_waitgroup wg;
} waiter;

static void wait_then_exit(void *arg)
{
	waiter *w = arg;
	int v;
	goc_recv(w->ch, &v);
	goc_waitgroup_done(&w->wg);
}

static void nap(void *arg)
{
	goc_sleep(GOC_MS(200));
}

/* The blocking call says it is inside (the count went up before it
 * started), then waits on the channel, blocking its thread. */
static goc_waitgroup inside = GOC_WAITGROUP_INIT;

static void *in_blocking_call(void *arg)
{
	waiter *w = arg;
	int v;
	goc_waitgroup_done(&inside);
	goc_recv(w->ch, &v);
	return NULL;
}

static void blocker(void *arg)
{
	goc_blocking(in_blocking_call, arg);
	goc_waitgroup_done(&((waiter *)arg)->wg);
}

static void test_spawned_goroutines_are_counted_alive_then_finished(void)
{
	goc_stats_t a, b, c;
	CHECK_EQ(goc_stats(&a), 0);
	CHECK(a.goroutines >= 1); /* the caller */
	waiter w = {.ch = goc_chan_make(sizeof(int), 0), .wg = GOC_WAITGROUP_INIT};
	goc_chan *ch = w.ch;
	goc_waitgroup_add(&w.wg, N);
	for (int i = 0; i < N; i++)
		CHECK_EQ(goc_go(wait_then_exit, &w), 0);
	CHECK_EQ(goc_stats(&b), 0);
	CHECK_EQ(b.created - a.created, N);
	CHECK_EQ(b.goroutines - a.goroutines, N);
	for (int i = 0; i < N; i++)
		CHECK_EQ(goc_send(ch, &i), 0);
	goc_waitgroup_wait(&w.wg);
	CHECK_EQ(goc_leakcheck(GOC_SEC(10)), 0);
	CHECK_EQ(goc_stats(&c), 0);
	CHECK_EQ(c.goroutines, a.goroutines);
	CHECK_EQ(c.created - a.created, N);
	/* Each of them ran (one switch in at least) and parked on ch, or
	 * found a sender waiting; our N sends parked or found receivers: at
	 * least N switches and N parks between them. */
	CHECK(c.switches - a.switches >= N);
	CHECK(c.parks - a.parks >= N / 2);
	goc_chan_release(ch);
}

static void test_sleeping_goroutines_show_as_armed_timers(void)
{
	goc_stats_t a, b;
	CHECK_EQ(goc_stats(&a), 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(goc_go(nap, NULL), 0);
	/* Let them reach their sleep. */
	for (int i = 0; i < 1000; i++) {
		CHECK_EQ(goc_stats(&b), 0);
		if (b.timers - a.timers >= 3)
			break;
		goc_yield();
		goc_sleep(GOC_MS(1));
	}
	CHECK(b.timers - a.timers >= 3);
	CHECK_EQ(goc_leakcheck(GOC_SEC(10)), 0);
}

static void test_processors_and_run_queues_are_reported(void)
{
	goc_stats_t s;
	CHECK_EQ(goc_stats(&s), 0);
	CHECK_EQ(s.procs, goc_procs(0));
	CHECK_EQ(s.nrunq, s.procs < GOC_STATS_MAX_PROCS ? s.procs : GOC_STATS_MAX_PROCS);
	CHECK(s.idle_procs >= 0 && s.idle_procs < s.procs); /* we are running on one */
	/* Worker threads start on demand (as Go's Ms do): with more processors
	 * than work so far, fewer threads than processors (GOC_PROCS=4 here
	 * showed 2). Ours is one of them. */
	CHECK(s.threads >= 1);
	/* Goroutines spawned without yielding wait in our processor's queue
	 * (or the global one): the queue lengths add up to at least N - 1
	 * (with 2 workers the other may take some, it runs them as well). */
	waiter w = {.ch = goc_chan_make(sizeof(int), 0), .wg = GOC_WAITGROUP_INIT};
	goc_chan *ch = w.ch;
	goc_waitgroup_add(&w.wg, N);
	for (int i = 0; i < N; i++)
		CHECK_EQ(goc_go(wait_then_exit, &w), 0);
	CHECK_EQ(goc_stats(&s), 0);
	int64_t queued = s.global_runq;
	for (int i = 0; i < s.nrunq; i++) {
		CHECK(s.runq[i] >= 0);
		queued += s.runq[i];
	}
	if (s.procs == 1)
		CHECK_EQ(queued, N);
	else
		CHECK(queued >= 1);
	CHECK_EQ(goc_close(ch), 0);
	goc_waitgroup_wait(&w.wg);
	CHECK_EQ(goc_leakcheck(GOC_SEC(10)), 0);
	goc_chan_release(ch);
}

static void test_goroutines_in_blocking_calls_are_counted(void)
{
	waiter w = {.ch = goc_chan_make(sizeof(int), 0), .wg = GOC_WAITGROUP_INIT};
	goc_chan *ch = w.ch;
	goc_waitgroup_add(&w.wg, 1);
	goc_waitgroup_add(&inside, 1);
	CHECK_EQ(goc_go(blocker, &w), 0);
	goc_waitgroup_wait(&inside);
	goc_stats_t s = {0};
	CHECK_EQ(goc_stats(&s), 0);
	CHECK_EQ(s.blocking, 1);
	CHECK_EQ(goc_close(ch), 0);
	goc_waitgroup_wait(&w.wg);
	CHECK_EQ(goc_leakcheck(GOC_SEC(10)), 0);
	CHECK_EQ(goc_stats(&s), 0);
	CHECK_EQ(s.blocking, 0);
	goc_chan_release(ch);
}

static void test_null_is_rejected(void)
{
	CHECK_EQ(goc_stats(NULL), GOC_EINVAL);
}

static int run_all(int argc, char **argv)
{
	CHECK_EQ(goc_leakcheck_baseline(), 0);
	RUN(test_spawned_goroutines_are_counted_alive_then_finished);
	RUN(test_sleeping_goroutines_show_as_armed_timers);
	RUN(test_processors_and_run_queues_are_reported);
	RUN(test_goroutines_in_blocking_calls_are_counted);
	RUN(test_null_is_rejected);
	return 0;
}

static void test_all_zero_before_the_runtime_starts(void)
{
	goc_stats_t s;
	memset(&s, 0xff, sizeof s);
	CHECK_EQ(goc_stats(&s), 0);
	goc_stats_t zero;
	memset(&zero, 0, sizeof zero);
	CHECK(memcmp(&s, &zero, sizeof s) == 0);
}

int main(int argc, char **argv)
{
	check_watchdog(60);
	RUN(test_all_zero_before_the_runtime_starts);
	return run_main_procs_1_and_2(run_all, argc, argv);
}
