/* test_patterns_control.c - the patterns that control goroutines rather
 * than streams: token-bucket limiters (burst, pacing, cancellation giving
 * tokens back, multi-tier rollback, concurrent waiters), heartbeats (beats
 * never block and coalesce, pulses while waiting), stewards (a healthy ward
 * is left alone, a stuck or returned one is restarted with its done channel
 * closed, stop and done end everything) and replicated requests (first
 * answer wins, losers cancelled, all failing, caller cancelling, private
 * copy of arg). Bad input for each. Timing checks state their tolerance:
 * lower bounds are exact (limiters never admit early), upper bounds are
 * PROMPT (a shared 2-core machine, sanitizers). Runs with GOC_PROCS=1 and
 * 2; every test checks that no goroutine outlives it.
 * ctest: TIMEOUT 120 */
#include "test_patterns_util.h"

#include <math.h>
#include <stdatomic.h>

/* ---- limiters ------------------------------------------------------------- */

static void test_limiter_bad_input(void)
{
	double bad_rates[] = { 0, -1, INFINITY, NAN };
	for (size_t i = 0; i < sizeof bad_rates / sizeof bad_rates[0]; i++) {
		errno = 0;
		CHECK(goc_limiter_new(bad_rates[i], 1) == NULL);
		CHECK_EQ(last_errno(), EINVAL);
	}
	errno = 0;
	CHECK(goc_limiter_new(1, 0) == NULL);
	CHECK_EQ(last_errno(), EINVAL);
	goc_limiter *l = goc_limiter_new(10, 2);
	CHECK(l != NULL);
	goc_limiter *with_null[] = { l, NULL };
	CHECK(goc_limiter_all(NULL, 1) == NULL);
	CHECK(goc_limiter_all(with_null, 0) == NULL);
	CHECK(goc_limiter_all(with_null, 2) == NULL);
	CHECK_EQ(last_errno(), EINVAL);
	CHECK_EQ(goc_limiter_wait(NULL, NULL), GOC_EINVAL);
	CHECK_EQ(goc_limiter_wait_n(l, NULL, 0), GOC_EINVAL);
	CHECK_EQ(goc_limiter_wait_n(l, NULL, 3), GOC_EINVAL); /* more than the burst */
	CHECK(!goc_limiter_allow(NULL));
	CHECK(goc_limiter_tokens(NULL) == 0);
	CHECK(goc_limit_every(0) == 0);
	CHECK(goc_limit_every(GOC_MS(100)) == 10);
	goc_limiter_release(NULL);
	goc_limiter_release(l);
}

static void test_limiter_starts_full_and_admits_a_burst(void)
{
	goc_limiter *l = goc_limiter_new(1, 5); /* one per second: no refill during the test */
	for (int i = 0; i < 5; i++)
		CHECK(goc_limiter_allow(l));
	CHECK(!goc_limiter_allow(l));
	CHECK(goc_limiter_tokens(l) < 1);
	goc_limiter_release(l);
}

/* 100 events per second, burst 1: 11 waits take at least 100 ms (the
 * first is free; reservations are never early). */
static void test_limiter_wait_paces_events(void)
{
	int64_t t0 = goc_now(); /* before the bucket starts filling */
	goc_limiter *l = goc_limiter_new(100, 1);
	for (int i = 0; i < 11; i++)
		CHECK_EQ(goc_limiter_wait(l, NULL), 0);
	int64_t took = goc_now() - t0;
	CHECK(took >= GOC_MS(100));
	CHECK(took < GOC_MS(100) + PROMPT);
	goc_limiter_release(l);
}

/* Runs in its own goroutine: holds its own reference to the context. */
static void cancel_ctx(void *arg)
{
	goc_ctx_cancel(arg);
	goc_ctx_release(arg);
}

/* A wait that is cancelled gives its token back; a wait that would end
 * after the context's deadline fails at once. */
static void test_limiter_cancelled_wait_gives_tokens_back(void)
{
	LEAK_BEGIN();
	goc_limiter *l = goc_limiter_new(1, 1);
	CHECK(goc_limiter_allow(l)); /* empty now: the next token is 1 s away */

	goc_ctx *ctx = goc_ctx_with_cancel(goc_ctx_background());
	goc_ctx_retain(ctx); /* the timer function's (it always runs: we wait for it) */
	goc_timer *t = goc_after_func(GOC_MS(20), cancel_ctx, ctx);
	CHECK(t != NULL);
	CHECK_EQ(goc_limiter_wait(l, ctx), GOC_ECANCELED);
	CHECK(goc_limiter_tokens(l) > -0.5); /* not in debt: the reservation was returned */
	goc_timer_release(t);
	goc_ctx_release(ctx);

	ctx = goc_ctx_with_timeout(goc_ctx_background(), GOC_MS(50));
	int64_t t0 = goc_now();
	CHECK_EQ(goc_limiter_wait(l, ctx), GOC_ETIMEDOUT);
	CHECK(goc_now() - t0 < GOC_MS(500)); /* did not wait for nothing (a wait: ~1 s) */
	CHECK(goc_limiter_tokens(l) > -0.5);
	goc_ctx_release(ctx);

	ctx = goc_ctx_with_cancel(goc_ctx_background());
	goc_ctx_cancel(ctx);
	CHECK_EQ(goc_limiter_wait(l, ctx), GOC_ECANCELED); /* cancelled before */
	goc_ctx_release(ctx);
	goc_limiter_release(l);
	LEAK_END();
}

/* Per second and per minute: an event passes only when both tiers admit
 * it; one refused by a tier takes nothing from the others. */
static void test_limiter_multi_tier(void)
{
	goc_limiter *per_min = goc_limiter_new(5.0 / 60, 5), *per_sec = goc_limiter_new(1, 3);
	goc_limiter *tiers[] = { per_min, per_sec };
	goc_limiter *both = goc_limiter_all(tiers, 2);
	CHECK(both != NULL);
	goc_limiter_release(per_sec); /* the combination holds its own */
	for (int i = 0; i < 3; i++)
		CHECK(goc_limiter_allow(both));
	CHECK(!goc_limiter_allow(both)); /* per second refuses */
	CHECK(goc_limiter_tokens(per_min) > 1.99); /* and per minute kept its 2 */
	CHECK(goc_limiter_tokens(both) < 1);
	CHECK_EQ(goc_limiter_wait_n(both, NULL, 4), GOC_EINVAL); /* per second's burst is 3 */

	/* Combinations combine: the leaves are shared, not counted twice. */
	goc_limiter *again[] = { both, per_min };
	goc_limiter *nested = goc_limiter_all(again, 2);
	CHECK(nested != NULL);
	CHECK(!goc_limiter_allow(nested));
	CHECK(goc_limiter_tokens(per_min) > 1.99);
	goc_limiter_release(nested);
	goc_limiter_release(both);
	goc_limiter_release(per_min);
}

typedef struct waiter {
	goc_limiter *l;
	goc_waitgroup *wg;
	int events;
} waiter;

static void wait_events(void *arg)
{
	waiter *w = arg;
	for (int i = 0; i < w->events; i++)
		CHECK_EQ(goc_limiter_wait(w->l, NULL), 0);
	goc_waitgroup_done(w->wg);
}

/* Four goroutines sharing a limiter of 1000/s, burst 1: 40 events need at
 * least 39 ms, whoever waits. */
static void test_limiter_shared_by_goroutines(void)
{
	LEAK_BEGIN();
	int64_t t0 = goc_now(); /* before the bucket starts filling */
	goc_limiter *l = goc_limiter_new(1000, 1);
	goc_waitgroup wg = GOC_WAITGROUP_INIT;
	waiter w = { l, &wg, 10 };
	for (int i = 0; i < 4; i++) {
		goc_waitgroup_add(&wg, 1);
		CHECK_EQ(goc_go(wait_events, &w), 0);
	}
	goc_waitgroup_wait(&wg);
	CHECK(goc_now() - t0 >= GOC_MS(39));
	goc_limiter_release(l);
	LEAK_END();
}

/* ---- heartbeats ----------------------------------------------------------- */

static void test_heartbeat_bad_input(void)
{
	errno = 0;
	CHECK(goc_heartbeat_new(-1) == NULL);
	CHECK_EQ(last_errno(), EINVAL);
	CHECK(goc_heartbeat_chan(NULL) == NULL);
	goc_heartbeat_beat(NULL);
	goc_heartbeat_retain(NULL);
	goc_heartbeat_release(NULL);
	goc_chan *c = goc_chan_make(0, 1);
	CHECK_EQ(goc_try_send(c, NULL), 0);
	goc_case cs[] = { goc_case_recv(c, NULL) };
	CHECK_EQ(goc_heartbeat_select(NULL, cs, 1), 0); /* a plain select */
	goc_chan_release(c);
}

static void test_heartbeat_beats_never_block_and_coalesce(void)
{
	goc_heartbeat *hb = goc_heartbeat_new(0);
	CHECK(hb != NULL);
	for (int i = 0; i < 3; i++)
		goc_heartbeat_beat(hb);
	CHECK_EQ(goc_try_recv(goc_heartbeat_chan(hb), NULL), 0);
	CHECK_EQ(goc_try_recv(goc_heartbeat_chan(hb), NULL), GOC_EAGAIN);
	goc_heartbeat_release(hb);
}

typedef struct hb_waiter {
	goc_heartbeat *hb;
	goc_chan *work, *result;
} hb_waiter;

static void wait_with_heartbeat(void *arg)
{
	hb_waiter *w = arg;
	long v = 0;
	goc_case cs[] = { goc_case_recv(w->work, &v) };
	int r = goc_heartbeat_select(w->hb, cs, 1);
	long got[2] = { r, cs[0].ok ? v : -1 };
	goc_send(w->result, got);
}

/* While its owner waits in goc_heartbeat_select, the heartbeat pulses at
 * its interval; the select still returns the case that ran, with ok. */
static void test_heartbeat_pulses_while_waiting(void)
{
	LEAK_BEGIN();
	goc_heartbeat *hb = goc_heartbeat_new(GOC_MS(5));
	hb_waiter w = { hb, goc_chan_make(sizeof(long), 0), goc_chan_make(2 * sizeof(long), 1) };
	CHECK_EQ(goc_go(wait_with_heartbeat, &w), 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(goc_recv_until(goc_heartbeat_chan(hb), NULL, goc_now() + PROMPT), 0);
	long v = 42, got[2];
	CHECK_EQ(goc_send(w.work, &v), 0);
	CHECK_EQ(goc_recv(w.result, got), 0);
	CHECK_EQ(got[0], 0);
	CHECK_EQ(got[1], 42);

	/* A closed channel: the case runs with ok false. */
	CHECK_EQ(goc_go(wait_with_heartbeat, &w), 0);
	goc_close(w.work);
	CHECK_EQ(goc_recv(w.result, got), 0);
	CHECK_EQ(got[0], 0);
	CHECK_EQ(got[1], -1);
	goc_chan_release(w.work);
	goc_chan_release(w.result);
	goc_heartbeat_release(hb);
	LEAK_END();
}

/* ---- stewards ------------------------------------------------------------- */

typedef struct ward_env {
	goc_chan *started;          /* each incarnation sends its number (buffered) */
	goc_chan *stuck;            /* incarnation 1 of a stuck ward blocks here */
	goc_chan *report;           /* ... and then reports whether its done was closed */
	_Atomic int incarnations;
	int mode;                   /* 0 healthy, 1 first one stuck, 2 returns at once */
} ward_env;

static void ward(goc_chan *done, goc_heartbeat *hb, void *arg)
{
	ward_env *e = arg;
	int me = atomic_fetch_add(&e->incarnations, 1) + 1;
	(void)goc_try_send(e->started, &me);
	if (e->mode == 2)
		return;
	if (e->mode == 1 && me == 1) {
		goc_recv(e->stuck, NULL); /* no heartbeat while stuck */
		bool was_done = goc_is_done(done);
		goc_send(e->report, &was_done);
		return;
	}
	goc_case cs[] = { goc_case_recv(done, NULL) };
	goc_heartbeat_select(hb, cs, 1); /* pulses until done */
}

static ward_env *ward_env_new(int mode)
{
	ward_env *e = calloc(1, sizeof *e);
	e->started = goc_chan_make(sizeof(int), 64);
	e->stuck = goc_chan_make(0, 0);
	e->report = goc_chan_make(sizeof(bool), 1);
	e->mode = mode;
	return e;
}

static void ward_env_free(ward_env *e)
{
	goc_chan_release(e->started);
	goc_chan_release(e->stuck);
	goc_chan_release(e->report);
	free(e);
}

static void test_steward_bad_input(void)
{
	errno = 0;
	CHECK(goc_steward_start(NULL, 0, ward, NULL) == NULL);
	CHECK_EQ(last_errno(), EINVAL);
	CHECK(goc_steward_start(NULL, GOC_MS(1), NULL, NULL) == NULL);
	CHECK_EQ(goc_steward_stop(NULL, GOC_NO_DEADLINE), GOC_EINVAL);
	CHECK_EQ(goc_steward_starts(NULL), 0);
	goc_steward_release(NULL);
}

/* A ward that keeps pulsing is never restarted (watched for 4 timeouts). */
static void test_steward_leaves_a_healthy_ward_alone(void)
{
	LEAK_BEGIN();
	ward_env *e = ward_env_new(0);
	/* Pulses every timeout / 2: a restart needs a pulse late by timeout / 2,
	 * which a loaded 2-core machine can cause at 25 ms, not at 100. */
	int64_t timeout = SCALE(GOC_MS(100), GOC_MS(400));
	goc_steward *s = goc_steward_start(NULL, timeout, ward, e);
	CHECK(s != NULL);
	goc_sleep(4 * timeout); /* observing an absence: nothing to wait for */
	CHECK_EQ(goc_steward_starts(s), 1);
	CHECK_EQ(goc_steward_stop(s, goc_now() + PROMPT), 0);
	CHECK_EQ(goc_steward_stop(s, goc_now() + PROMPT), 0); /* again: harmless */
	goc_steward_release(s);
	LEAK_END(); /* the ward saw its done closed and returned */
	ward_env_free(e);
}

/* A ward stuck without pulsing is replaced, its done channel closed. */
static void test_steward_restarts_a_stuck_ward(void)
{
	LEAK_BEGIN();
	ward_env *e = ward_env_new(1);
	goc_steward *s = goc_steward_start(NULL, GOC_MS(20), ward, e);
	CHECK(s != NULL);
	int n = 0;
	CHECK_EQ(goc_recv_until(e->started, &n, goc_now() + PROMPT), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(goc_recv_until(e->started, &n, goc_now() + PROMPT), 0);
	CHECK_EQ(n, 2);
	CHECK(goc_steward_starts(s) >= 2);
	goc_close(e->stuck); /* the abandoned ward wakes up... */
	bool was_done = false;
	CHECK_EQ(goc_recv(e->report, &was_done), 0);
	CHECK(was_done); /* ... to find it was told to stop */
	goc_steward_release(s);
	LEAK_END();
	ward_env_free(e);
}

/* A ward that returns is silent too: it is started again, each time. */
static void test_steward_restarts_a_ward_that_returned(void)
{
	LEAK_BEGIN();
	ward_env *e = ward_env_new(2);
	goc_chan *done = goc_chan_make(0, 0);
	goc_steward *s = goc_steward_start(done, GOC_MS(10), ward, e);
	for (int want = 1; want <= 3; want++) {
		int n = 0;
		CHECK_EQ(goc_recv_until(e->started, &n, goc_now() + PROMPT), 0);
		CHECK_EQ(n, want);
	}
	goc_close(done); /* the caller's done ends the steward too */
	CHECK_EQ(goc_steward_stop(s, goc_now() + PROMPT), 0);
	goc_chan_release(done);
	goc_steward_release(s);
	LEAK_END();
	ward_env_free(e);
}

/* ---- replicated requests ------------------------------------------------- */

typedef struct replica_env {
	int64_t delay[4];
	int fail_all;
	_Atomic int cancelled;
} replica_env;

static int replica(goc_ctx *ctx, void *arg, int i, void *result)
{
	replica_env *e = arg;
	if (e->fail_all)
		return i == 0 ? GOC_EPERM : GOC_EAGAIN;
	int r = goc_ctx_sleep(ctx, e->delay[i]);
	if (r != 0) {
		atomic_fetch_add(&e->cancelled, 1);
		return r;
	}
	*(long *)result = 100 + i;
	return 0;
}

static void test_replicate_bad_input(void)
{
	long out;
	replica_env e = { { 0 }, 0, 0 };
	CHECK_EQ(goc_replicate(NULL, 0, replica, &e, 0, &out, sizeof out), GOC_EINVAL);
	CHECK_EQ(goc_replicate(NULL, 65537, replica, &e, 0, &out, sizeof out), GOC_EINVAL);
	CHECK_EQ(goc_replicate(NULL, 2, NULL, &e, 0, &out, sizeof out), GOC_EINVAL);
	CHECK_EQ(goc_replicate(NULL, 2, replica, &e, 0, NULL, sizeof out), GOC_EINVAL);
	CHECK_EQ(goc_replicate(NULL, 2, replica, NULL, 8, &out, sizeof out), GOC_EINVAL);
	CHECK_EQ(goc_replicate(NULL, 2, replica, &e, SIZE_MAX, &out, sizeof out), GOC_EINVAL);
}

static void test_replicate_first_answer_wins_and_the_rest_are_cancelled(void)
{
	LEAK_BEGIN();
	replica_env e = { { GOC_SEC(30), GOC_MS(10), GOC_SEC(20), GOC_SEC(40) }, 0, 0 };
	long out = 0;
	int64_t t0 = goc_now();
	CHECK_EQ(goc_replicate(NULL, 4, replica, &e, 0, &out, sizeof out), 1);
	CHECK_EQ(out, 101);
	CHECK(goc_now() - t0 < PROMPT);
	LEAK_END(); /* the three slow replicas ended: cancelled, not waited out */
	CHECK_EQ(atomic_load(&e.cancelled), 3);
}

static void test_replicate_all_failing_returns_the_first_error(void)
{
	LEAK_BEGIN();
	replica_env e = { { 0 }, 1, 0 };
	long out = -7;
	int r = goc_replicate(NULL, 3, replica, &e, 0, &out, sizeof out);
	CHECK(r == GOC_EPERM || r == GOC_EAGAIN); /* whichever reported first */
	CHECK_EQ(out, -7); /* untouched */
	LEAK_END();
}

static void test_replicate_caller_context_ends_first(void)
{
	LEAK_BEGIN();
	replica_env e = { { GOC_SEC(30), GOC_SEC(30) }, 0, 0 };
	goc_ctx *ctx = goc_ctx_with_timeout(goc_ctx_background(), GOC_MS(20));
	long out = 0;
	CHECK_EQ(goc_replicate(ctx, 2, replica, &e, 0, &out, sizeof out), GOC_ETIMEDOUT);
	goc_ctx_release(ctx);
	LEAK_END();
	CHECK_EQ(atomic_load(&e.cancelled), 2);
}

/* With arg_size the replicas read a private copy: the caller's (stack)
 * original may be gone while the losers still run (ASan checks). */
static int replica_reading_arg_late(goc_ctx *ctx, void *arg, int i, void *result)
{
	if (i > 0)
		goc_ctx_sleep(ctx, GOC_SEC(30)); /* cancelled */
	*(long *)result = *(long *)arg + i;
	return 0;
}

static __attribute__((noinline)) long replicate_with_stack_arg(void)
{
	long arg = 1000, out = 0;
	CHECK_EQ(goc_replicate(NULL, 3, replica_reading_arg_late, &arg, sizeof arg, &out, sizeof out), 0);
	return out;
}

static void test_replicate_copies_arg(void)
{
	LEAK_BEGIN();
	CHECK_EQ(replicate_with_stack_arg(), 1000);
	LEAK_END();
}

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	RUN(test_limiter_bad_input);
	RUN(test_limiter_starts_full_and_admits_a_burst);
	RUN(test_limiter_wait_paces_events);
	RUN(test_limiter_cancelled_wait_gives_tokens_back);
	RUN(test_limiter_multi_tier);
	RUN(test_limiter_shared_by_goroutines);
	RUN(test_heartbeat_bad_input);
	RUN(test_heartbeat_beats_never_block_and_coalesce);
	RUN(test_heartbeat_pulses_while_waiting);
	RUN(test_steward_bad_input);
	RUN(test_steward_leaves_a_healthy_ward_alone);
	RUN(test_steward_restarts_a_stuck_ward);
	RUN(test_steward_restarts_a_ward_that_returned);
	RUN(test_replicate_bad_input);
	RUN(test_replicate_first_answer_wins_and_the_rest_are_cancelled);
	RUN(test_replicate_all_failing_returns_the_first_error);
	RUN(test_replicate_caller_context_ends_first);
	RUN(test_replicate_copies_arg);
	return 0;
}

int main(int argc, char **argv)
{
	return run_suite(run, argc, argv, 60);
}
