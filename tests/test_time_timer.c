/* test_time_timer.c - goc_timer (channel and function timers), goc_ticker
 * and goc_tick: Go 1.23 stop/reset results and "no stale value" guarantee,
 * races between stop, reset, release and firing, ticks dropped for slow
 * readers, 100,000 armed timers at once. Runs with GOC_PROCS=1 and 2.
 * ctest: TIMEOUT 60 */
#include "test_time_util.h"
#include "../src/internal.h"

#include <errno.h>
#include <stdatomic.h>

/* ---- channel timers ----------------------------------------------------- */

static void test_timer_fires_once_with_its_time(void)
{
	int64_t start = goc_now();
	goc_timer *t = goc_timer_new(GOC_MS(5));
	CHECK(t != NULL);
	goc_chan *c = goc_timer_chan(t);
	CHECK(c != NULL);
	int64_t fired;
	CHECK_EQ(goc_recv(c, &fired), 0);
	CHECK(fired >= start + GOC_MS(5));
	CHECK(goc_now() - start - GOC_MS(5) <= LATE_BOUND);
	CHECK_EQ(goc_recv_until(c, NULL, goc_now() + GOC_MS(3)), GOC_ETIMEDOUT);
	/* Fired and received: stop says it was no longer active. */
	CHECK_EQ(goc_timer_stop(t), 0);
	goc_timer_release(t);
}

static void test_timer_stop_before_firing_prevents_it(void)
{
	goc_timer *t = goc_timer_new(GOC_MS(20));
	CHECK_EQ(goc_timer_stop(t), 1);
	CHECK_EQ(goc_timer_stop(t), 0); /* already stopped */
	CHECK_EQ(goc_recv_until(goc_timer_chan(t), NULL, goc_now() + GOC_MS(30)), GOC_ETIMEDOUT);
	goc_timer_release(t);
}

/* Go 1.23: a value sitting unreceived in the channel counts as "active":
 * stop discards it and returns 1; nothing stale is received afterwards. */
static void test_timer_stop_discards_unreceived_value(void)
{
	goc_timer *t = goc_timer_new(GOC_US(100));
	while (goc_len(goc_timer_chan(t)) == 0) /* bounded by the watchdog */
		goc_sleep(GOC_US(100));
	CHECK_EQ(goc_timer_stop(t), 1);
	CHECK_EQ(goc_try_recv(goc_timer_chan(t), NULL), GOC_EAGAIN);
	goc_timer_release(t);
}

static void test_timer_reset_rearms_and_reports_activity(void)
{
	goc_timer *t = goc_timer_new(GOC_SEC(10));
	int64_t start = goc_now();
	CHECK_EQ(goc_timer_reset(t, GOC_MS(5)), 1); /* was pending */
	int64_t fired;
	CHECK_EQ(goc_recv(goc_timer_chan(t), &fired), 0);
	CHECK(fired >= start + GOC_MS(5));
	/* Reset after it fired and was received: 0, and it fires again. */
	start = goc_now();
	CHECK_EQ(goc_timer_reset(t, GOC_MS(2)), 0);
	CHECK_EQ(goc_recv(goc_timer_chan(t), &fired), 0);
	CHECK(fired >= start + GOC_MS(2));
	/* Reset of a stopped timer: 0, and it fires. */
	CHECK_EQ(goc_timer_stop(t), 0);
	CHECK_EQ(goc_timer_reset(t, 0), 0);
	CHECK_EQ(goc_recv(goc_timer_chan(t), NULL), 0);
	goc_timer_release(t);
}

/* A value from before a reset is never received after it. */
static void test_timer_reset_discards_stale_value(void)
{
	goc_timer *t = goc_timer_new(0);
	while (goc_len(goc_timer_chan(t)) == 0)
		goc_sleep(GOC_US(50));
	int64_t reset_at = goc_now();
	CHECK_EQ(goc_timer_reset(t, GOC_MS(3)), 1);
	int64_t fired;
	CHECK_EQ(goc_recv(goc_timer_chan(t), &fired), 0);
	CHECK(fired >= reset_at + GOC_MS(3));
	goc_timer_release(t);
}

/* Stop racing the firing, many times over: exactly one of "stop returned
 * 1" and "a value was received" holds every time, with a receiver racing
 * too. Nothing arrives after stop returns. */
typedef struct race {
	goc_timer *t;
	goc_chan *go, *stopped, *ack;
	_Atomic int received;
	goc_waitgroup exited;
} race;

static void race_receiver(void *arg)
{
	race *r = arg;
	while (goc_recv(r->go, NULL) == 0) {
		goc_case cs[] = {goc_case_recv(goc_timer_chan(r->t), NULL), goc_case_recv(r->stopped, NULL)};
		if (GOC_SELECT(cs) == 0)
			atomic_fetch_add(&r->received, 1);
		goc_send(r->ack, NULL);
	}
	goc_waitgroup_done(&r->exited); /* last touch of r (on main's stack) */
}

static void test_timer_stop_races_firing_and_receiver(void)
{
	int rounds = SCALE(3000, 500), stopped_active = 0;
	race r = {0};
	r.t = goc_timer_new(GOC_SEC(100));
	goc_timer_stop(r.t);
	r.go = goc_chan_make(0, 0);
	r.stopped = goc_chan_make(0, 0);
	r.ack = goc_chan_make(0, 0);
	goc_waitgroup_add(&r.exited, 1);
	CHECK_EQ(goc_go(race_receiver, &r), 0);
	for (int i = 0; i < rounds; i++) {
		goc_timer_reset(r.t, (i % 7) * 3000); /* 0..18 us */
		goc_send(r.go, NULL);
		if (i % 3)
			goc_sleep((i % 5) * 2000);
		int active = goc_timer_stop(r.t);
		CHECK(active == 0 || active == 1);
		stopped_active += active;
		/* End the receiver's round: it either got the value (and is
		 * sending ack) or still waits (take it out with `stopped`). */
		goc_case cs[] = {goc_case_send(r.stopped, NULL), goc_case_recv(r.ack, NULL)};
		if (GOC_SELECT(cs) == 0)
			goc_recv(r.ack, NULL);
		CHECK_EQ(goc_try_recv(goc_timer_chan(r.t), NULL), GOC_EAGAIN);
		CHECK_EQ(stopped_active + atomic_load(&r.received), i + 1);
	}
	goc_close(r.go);
	CHECK_EQ(goc_waitgroup_wait(&r.exited), 0);
	goc_timer_release(r.t);
	goc_chan_release(r.go);
	goc_chan_release(r.stopped);
	goc_chan_release(r.ack);
	fprintf(stderr, "    %d rounds: %d stopped while active, %d received\n", rounds, stopped_active,
	        atomic_load(&r.received));
}

/* Several goroutines hammer one timer with stop and reset while it fires;
 * afterwards a final stop leaves it silent. */
static goc_timer *shared_timer;
static goc_waitgroup hammer_wg;

static void hammer(void *arg)
{
	intptr_t k = (intptr_t)arg;
	for (int i = 0; i < SCALE(3000, 300); i++) {
		if ((i + k) % 3 == 0)
			goc_timer_stop(shared_timer);
		else
			goc_timer_reset(shared_timer, ((i * 7 + k) % 20) * 1000);
		goc_try_recv(goc_timer_chan(shared_timer), NULL);
		if (i % 50 == 0)
			goc_yield();
	}
	goc_waitgroup_done(&hammer_wg);
}

static void test_timer_concurrent_stop_reset_then_silent(void)
{
	shared_timer = goc_timer_new(0);
	goc_waitgroup_add(&hammer_wg, 4);
	for (intptr_t k = 0; k < 4; k++)
		CHECK_EQ(goc_go(hammer, (void *)k), 0);
	CHECK_EQ(goc_waitgroup_wait(&hammer_wg), 0);
	goc_timer_stop(shared_timer);
	CHECK_EQ(goc_recv_until(goc_timer_chan(shared_timer), NULL, goc_now() + GOC_MS(30)),
	         GOC_ETIMEDOUT);
	goc_timer_release(shared_timer);
}

/* Releasing a pending timer, and releasing right as it fires: nothing
 * leaks, nothing is touched after free (ASan). */
static void test_timer_release_pending_and_racing(void)
{
	for (int i = 0; i < SCALE(5000, 1000); i++) {
		goc_timer *t = goc_timer_new((i % 10) * 1000);
		CHECK(t != NULL);
		if (i % 4 == 0)
			goc_yield();
		goc_timer_release(t);
	}
	goc_timer_release(goc_timer_new(GOC_SEC(100)));
}

/* ---- function timers ---------------------------------------------------- */

static _Atomic int func_runs;
static goc_chan *func_done;

static void func_body(void *arg)
{
	/* Runs in its own goroutine: it may block. */
	goc_sleep(GOC_US(100));
	atomic_fetch_add(&func_runs, 1);
	uint64_t id = goc_id();
	CHECK(id != 0);
	goc_try_send(func_done, &id);
	(void)arg;
}

static void test_after_func_runs_in_a_new_goroutine(void)
{
	func_done = goc_chan_make(sizeof(uint64_t), 16);
	atomic_store(&func_runs, 0);
	int64_t start = goc_now();
	goc_timer *t = goc_after_func(GOC_MS(3), func_body, NULL);
	CHECK(t != NULL);
	CHECK(goc_timer_chan(t) == NULL);
	uint64_t id;
	CHECK_EQ(goc_recv(func_done, &id), 0);
	CHECK(goc_now() - start >= GOC_MS(3));
	CHECK(id != goc_id());
	CHECK_EQ(goc_timer_stop(t), 0); /* it ran */
	/* Reset after it ran: it runs again. */
	CHECK_EQ(goc_timer_reset(t, GOC_US(500)), 0);
	CHECK_EQ(goc_recv(func_done, &id), 0);
	CHECK_EQ(atomic_load(&func_runs), 2);
	goc_timer_release(t);
}

static void test_after_func_stopped_never_runs(void)
{
	atomic_store(&func_runs, 0);
	goc_timer *t = goc_after_func(GOC_MS(5), func_body, NULL);
	CHECK_EQ(goc_timer_stop(t), 1);
	goc_timer_release(t);
	CHECK_EQ(goc_recv_until(func_done, NULL, goc_now() + GOC_MS(20)), GOC_ETIMEDOUT);
	CHECK_EQ(atomic_load(&func_runs), 0);
	CHECK(goc_after_func(1, NULL, NULL) == NULL);
	CHECK_EQ(last_errno(), EINVAL);
}

/* Like an unreferenced time.AfterFunc: releasing the handle does not
 * cancel it. */
static void test_after_func_released_still_runs(void)
{
	atomic_store(&func_runs, 0);
	for (int i = 0; i < 10; i++)
		goc_timer_release(goc_after_func(GOC_US(200) * i, func_body, NULL));
	for (int i = 0; i < 10; i++)
		CHECK_EQ(goc_recv(func_done, NULL), 0);
	CHECK_EQ(atomic_load(&func_runs), 10);
	goc_chan_release(func_done);
}

/* ---- tickers ------------------------------------------------------------ */

static void test_ticker_ticks_on_schedule_never_early(void)
{
	int64_t period = GOC_MS(2), start = goc_now();
	goc_ticker *t = goc_ticker_new(period);
	CHECK(t != NULL);
	int64_t prev = 0, asked = goc_now();
	for (int i = 1; i <= 10; i++) {
		int64_t v;
		CHECK_EQ(goc_recv(goc_ticker_chan(t), &v), 0);
		CHECK(v > prev);
		/* The i-th tick received is at least the i-th period: ticks can
		 * be dropped (slow reader) but never come early. */
		CHECK(v >= start + i * period);
		/* And the next one is never more than a period (plus the
		 * lateness bound) away from when we asked for it. */
		CHECK(goc_now() - asked <= period + LATE_BOUND);
		prev = v;
		asked = goc_now();
	}
	CHECK_EQ(goc_ticker_stop(t), 0);
	CHECK_EQ(goc_recv_until(goc_ticker_chan(t), NULL, goc_now() + 3 * period), GOC_ETIMEDOUT);
	goc_ticker_release(t);
}

static void test_ticker_drops_ticks_for_slow_reader(void)
{
	int64_t start = goc_now();
	goc_ticker *t = goc_ticker_new(GOC_US(500));
	goc_sleep(GOC_MS(30)); /* ~60 periods without reading */
	CHECK_EQ(goc_len(goc_ticker_chan(t)), 1);
	int64_t old, next;
	CHECK_EQ(goc_try_recv(goc_ticker_chan(t), &old), 0);
	/* No burst: the tick after the buffered one is a new one, fired after
	 * the drain (a ticker that queued its ticks would give the one after
	 * `old`, ~start + 1 ms). Not "the channel is empty right after the
	 * drain": a tick may fire in between, however short, since a late
	 * tick's successor is due less than a period after it. The 10 ms
	 * margin covers a worker that read the clock for a firing just before
	 * the drain and sent just after it. */
	CHECK_EQ(goc_recv(goc_ticker_chan(t), &next), 0);
	CHECK(next > old);
	CHECK(next >= start + GOC_MS(20));
	goc_ticker_release(t);
}

static void test_ticker_reset_changes_period(void)
{
	goc_ticker *t = goc_ticker_new(GOC_SEC(100));
	int64_t start = goc_now();
	CHECK_EQ(goc_ticker_reset(t, GOC_MS(1)), 0);
	for (int i = 1; i <= 3; i++) {
		int64_t v;
		CHECK_EQ(goc_recv(goc_ticker_chan(t), &v), 0);
		CHECK(v >= start + i * GOC_MS(1));
	}
	CHECK_EQ(goc_ticker_stop(t), 0);
	CHECK_EQ(goc_ticker_reset(t, GOC_MS(1)), 0); /* restarts a stopped one */
	CHECK_EQ(goc_recv(goc_ticker_chan(t), NULL), 0);
	CHECK_EQ(goc_ticker_reset(t, 0), GOC_EINVAL);
	CHECK_EQ(goc_ticker_reset(t, -5), GOC_EINVAL);
	goc_ticker_release(t);
}

static void test_tick_channel_outlives_its_release(void)
{
	goc_chan *c = goc_tick(GOC_MS(1));
	CHECK(c != NULL);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(goc_recv(c, NULL), 0);
	goc_chan_release(c); /* the ticker keeps ticking into its own reference */
	CHECK(goc_tick(0) == NULL);
	CHECK_EQ(last_errno(), EINVAL);
}

/* ---- bad input ----------------------------------------------------------- */

static void test_bad_input_is_an_error_not_a_crash(void)
{
	CHECK_EQ(goc_timer_stop(NULL), GOC_EINVAL);
	CHECK_EQ(goc_timer_reset(NULL, 1), GOC_EINVAL);
	CHECK(goc_timer_chan(NULL) == NULL);
	goc_timer_release(NULL);
	CHECK(goc_ticker_new(0) == NULL);
	CHECK_EQ(last_errno(), EINVAL);
	CHECK(goc_ticker_new(-1) == NULL);
	CHECK_EQ(goc_ticker_stop(NULL), GOC_EINVAL);
	CHECK_EQ(goc_ticker_reset(NULL, 5), GOC_EINVAL);
	CHECK(goc_ticker_chan(NULL) == NULL);
	goc_ticker_release(NULL);
}

/* ---- 100,000 armed timers ----------------------------------------------- */

/* 100,000 timers armed at once (one heap per worker holds them all), with
 * deadlines in scrambled order; every one delivers exactly once, never
 * early, and the heaps end empty. */
static void test_100k_timers_armed_at_once(void)
{
	int n = SCALE(100000, 20000);
	goc_timer **ts = calloc((size_t)n, sizeof *ts);
	int64_t *due = calloc((size_t)n, sizeof *due);
	CHECK(ts && due);
	int64_t base = goc__timers_armed();
	for (int i = 0; i < n; i++) {
		int64_t d = GOC_MS(5) + (int64_t)((i * 7919) % 10000) * 1000; /* 5..15 ms */
		due[i] = goc_now() + d;
		ts[i] = goc_timer_new(d);
		CHECK(ts[i] != NULL);
	}
	CHECK(goc__timers_armed() - base <= n);
	int64_t worst = 0;
	for (int i = 0; i < n; i++) {
		int64_t fired;
		CHECK_EQ(goc_recv(goc_timer_chan(ts[i]), &fired), 0);
		CHECK(fired >= due[i]);
		if (fired - due[i] > worst)
			worst = fired - due[i];
	}
	for (int i = 0; i < n; i++) {
		CHECK_EQ(goc_timer_stop(ts[i]), 0);
		goc_timer_release(ts[i]);
	}
	CHECK_EQ(goc__timers_armed(), base);
	fprintf(stderr, "    %d timers: worst lateness %.2f ms\n", n, worst / 1e6);
	free(ts);
	free(due);
}

static int suite(int argc, char **argv)
{
	RUN(test_timer_fires_once_with_its_time);
	RUN(test_timer_stop_before_firing_prevents_it);
	RUN(test_timer_stop_discards_unreceived_value);
	RUN(test_timer_reset_rearms_and_reports_activity);
	RUN(test_timer_reset_discards_stale_value);
	RUN(test_timer_stop_races_firing_and_receiver);
	RUN(test_timer_concurrent_stop_reset_then_silent);
	RUN(test_timer_release_pending_and_racing);
	RUN(test_after_func_runs_in_a_new_goroutine);
	RUN(test_after_func_stopped_never_runs);
	RUN(test_after_func_released_still_runs);
	RUN(test_ticker_ticks_on_schedule_never_early);
	RUN(test_ticker_drops_ticks_for_slow_reader);
	RUN(test_ticker_reset_changes_period);
	RUN(test_tick_channel_outlives_its_release);
	RUN(test_bad_input_is_an_error_not_a_crash);
	RUN(test_100k_timers_armed_at_once);
	return 0;
}

int main(int argc, char **argv)
{
	return run_suite(suite, argc, argv, 60);
}
