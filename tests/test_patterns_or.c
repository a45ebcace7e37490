/* test_patterns_or.c - goc_or: closes when any input closes (1, 2, 3 and
 * 100,000 inputs, every position), inputs closed before the call, a value
 * counting as fired, NULL inputs, stopping early by closing the result,
 * callers releasing their inputs at once, closes racing the registration,
 * nesting, the timers demo scaled down, bad input. Runs with GOC_PROCS=1
 * and 2; every test checks that no goroutine outlives it.
 * ctest: TIMEOUT 120 */
#include "test_patterns_util.h"

#include <stdatomic.h>

static goc_chan **make_signals(size_t n)
{
	goc_chan **cs = malloc(n * sizeof *cs);
	CHECK(cs != NULL);
	for (size_t i = 0; i < n; i++)
		CHECK((cs[i] = goc_chan_make(0, 0)) != NULL);
	return cs;
}

static void free_signals(goc_chan **cs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		goc_chan_release(cs[i]);
	free(cs);
}

static void test_or_rejects_bad_input(void)
{
	goc_chan *c = goc_chan_make(0, 0);
	errno = 0;
	CHECK(goc_or(NULL, 1) == NULL);
	CHECK_EQ(last_errno(), EINVAL);
	errno = 0;
	CHECK(goc_or(&c, 0) == NULL);
	CHECK_EQ(last_errno(), EINVAL);
	errno = 0;
	CHECK(goc_or(&c, SIZE_MAX) == NULL);
	CHECK_EQ(last_errno(), EINVAL);
	goc_chan_release(c);
}

/* For each position i: or over n fresh channels stays open until input i
 * closes, then closes. */
static void check_each_position(size_t n)
{
	LEAK_BEGIN();
	for (size_t i = 0; i < n; i++) {
		goc_chan **in = make_signals(n);
		goc_chan *any = goc_or(in, n);
		CHECK(any != NULL);
		goc_yield(); /* let the waiter register (or not: both must work) */
		CHECK(quiet(any));
		CHECK_EQ(goc_close(in[i]), 0);
		CHECK(closes(any));
		goc_chan_release(any);
		free_signals(in, n);
	}
	LEAK_END();
}

static void test_or_one_input(void) { check_each_position(1); }
static void test_or_two_inputs(void) { check_each_position(2); }
static void test_or_three_inputs(void) { check_each_position(3); }

static void test_or_100000_inputs(void)
{
	LEAK_BEGIN();
	size_t n = 100000;
	goc_chan **in = make_signals(n);
	int64_t t0 = goc_now();
	goc_chan *any = goc_or(in, n);
	CHECK(any != NULL);
	goc_yield();
	CHECK(quiet(any));
	CHECK_EQ(goc_close(in[n / 2 + 12345]), 0);
	CHECK(closes(any));
	int64_t ns = goc_now() - t0;
	fprintf(stderr, "    100000 inputs: %.1f ns per input\n", (double)ns / (double)n);
	goc_chan_release(any);
	for (size_t i = 0; i < n; i++)
		goc_close(in[i]);
	free_signals(in, n);
	LEAK_END();
}

/* The waiter must also see a close that happened before it registered, at
 * whatever position, including the first and last. */
static void test_or_input_closed_before_the_call(void)
{
	LEAK_BEGIN();
	size_t n = 64;
	size_t where[] = { 0, 1, 31, 63 };
	for (size_t k = 0; k < sizeof where / sizeof where[0]; k++) {
		goc_chan **in = make_signals(n);
		goc_close(in[where[k]]);
		goc_chan *any = goc_or(in, n);
		CHECK(closes(any));
		goc_chan_release(any);
		free_signals(in, n);
	}
	LEAK_END();
}

/* As with Go's or(), a value received from an input fires it too; the
 * value is consumed (once). */
static void test_or_value_on_an_input_fires_it(void)
{
	LEAK_BEGIN();
	goc_chan *in[2] = { goc_chan_make(sizeof(int), 1), goc_chan_make(sizeof(int), 0) };
	goc_chan *any = goc_or(in, 2);
	int v = 7;
	CHECK_EQ(goc_send(in[0], &v), 0);
	CHECK(closes(any));
	CHECK_EQ(goc_try_recv(in[0], &v), GOC_EAGAIN); /* taken by the waiter */
	goc_chan_release(any);

	/* A buffered value already there when the waiter registers. */
	CHECK_EQ(goc_send(in[0], &v), 0);
	any = goc_or(in, 2);
	CHECK(closes(any));
	CHECK_EQ(goc_len(in[0]), 0);
	goc_chan_release(any);

	for (int i = 0; i < 2; i++)
		goc_chan_release(in[i]);
	LEAK_END();
}

typedef struct sender {
	goc_chan *c;
	_Atomic int result;
} sender;

static void send_one(void *arg)
{
	sender *s = arg;
	int v = 1;
	atomic_store(&s->result, goc_send(s->c, &v));
}

static void test_or_takes_from_a_blocked_sender(void)
{
	LEAK_BEGIN();
	goc_chan *c = goc_chan_make(sizeof(int), 0), *other = goc_chan_make(0, 0);
	sender s = { c, 99 };
	CHECK_EQ(goc_go(send_one, &s), 0);
	for (int i = 0; i < 100 && goc_len(c) == 0; i++)
		goc_yield(); /* give the sender a chance to block first (either way works) */
	goc_chan *in[] = { other, c };
	goc_chan *any = goc_or(in, 2);
	CHECK(closes(any));
	CHECK_EQ(goc_leakcheck(PROMPT), 0); /* the sender got its value through */
	CHECK_EQ(atomic_load(&s.result), 0);
	goc_chan_release(any);
	goc_chan_release(c);
	goc_chan_release(other);
	LEAK_END();
}

/* NULL inputs are nil channels: they never fire. */
static void test_or_null_inputs_never_fire(void)
{
	LEAK_BEGIN();
	goc_chan *c = goc_chan_make(0, 0);
	goc_chan *in[] = { NULL, c, NULL };
	goc_chan *any = goc_or(in, 3);
	goc_yield();
	CHECK(quiet(any));
	goc_close(c);
	CHECK(closes(any));
	goc_chan_release(any);

	/* Only NULLs: it never fires; closing the result stops the waiter. */
	goc_chan *nils[2] = { NULL, NULL };
	any = goc_or(nils, 2);
	goc_yield();
	CHECK(quiet(any));
	CHECK_EQ(goc_close(any), 0);
	goc_chan_release(any);
	goc_chan_release(c);
	LEAK_END();
}

/* Closing the result is how a caller gives up: the waiter ends and frees
 * everything though no input ever closes. */
static void test_or_closing_the_result_stops_the_waiter(void)
{
	LEAK_BEGIN();
	size_t n = 1000;
	goc_chan **in = make_signals(n);
	goc_chan *any = goc_or(in, n);
	goc_yield();
	CHECK_EQ(goc_close(any), 0);
	goc_chan_release(any);
	CHECK_EQ(goc_leakcheck(PROMPT), 0);
	/* The inputs are untouched: still open, and nobody waits on them. */
	for (size_t i = 0; i < n; i++)
		CHECK(quiet(in[i]));
	free_signals(in, n);
	LEAK_END();
}

/* The waiter holds its own references: callers may drop theirs at once. */
static void test_or_inputs_released_by_the_caller_at_once(void)
{
	LEAK_BEGIN();
	size_t n = 100;
	goc_chan **in = make_signals(n);
	goc_chan *last = in[n - 1];
	goc_chan_retain(last);
	goc_chan *any = goc_or(in, n);
	free_signals(in, n); /* every reference but `last` */
	goc_close(last);
	goc_chan_release(last);
	CHECK(closes(any));
	goc_chan_release(any);
	LEAK_END(); /* and ASan checks the 100 channels were freed */
}

/* Closers running while the waiter registers (several workers): every
 * round must end with the result closed and nothing left behind. */
typedef struct closer {
	goc_chan *c;
} closer;

static void close_it(void *arg)
{
	goc_close(((closer *)arg)->c);
}

static void test_or_closes_racing_the_registration(void)
{
	LEAK_BEGIN();
	size_t n = 64;
	int rounds = SCALE(2000, 200);
	for (int r = 0; r < rounds; r++) {
		goc_chan **in = make_signals(n);
		closer cl = { in[(size_t)r * 7 % n] };
		if (r % 2)
			CHECK_EQ(goc_go_copy(close_it, &cl, sizeof cl), 0);
		goc_chan *any = goc_or(in, n);
		if (r % 2 == 0)
			CHECK_EQ(goc_go_copy(close_it, &cl, sizeof cl), 0);
		CHECK(closes(any));
		goc_chan_release(any);
		CHECK_EQ(goc_leakcheck(PROMPT), 0);
		free_signals(in, n);
	}
	LEAK_END();
}

/* Several closes at once and a caller closing the result at the same time. */
static void test_or_everything_closing_at_once(void)
{
	LEAK_BEGIN();
	size_t n = 16;
	for (int r = 0; r < SCALE(500, 50); r++) {
		goc_chan **in = make_signals(n);
		goc_chan *any = goc_or(in, n);
		for (size_t i = 0; i < n; i += 3) {
			closer cl = { in[i] };
			CHECK_EQ(goc_go_copy(close_it, &cl, sizeof cl), 0);
		}
		if (r % 3 == 0)
			goc_close(any);
		CHECK(closes(any));
		CHECK_EQ(goc_leakcheck(PROMPT), 0);
		goc_chan_release(any);
		free_signals(in, n);
	}
	LEAK_END();
}

static void test_or_of_ors(void)
{
	LEAK_BEGIN();
	goc_chan **in = make_signals(6);
	goc_chan *a = goc_or(in, 3), *b = goc_or(in + 3, 3);
	goc_chan *ab[] = { a, b };
	goc_chan *any = goc_or(ab, 2);
	goc_chan_release(a);
	goc_chan_release(b);
	goc_yield();
	CHECK(quiet(any));
	goc_close(in[4]);
	CHECK(closes(any));
	goc_chan_release(any);
	/* a still waits for in[0..2]: the top waiter never closes its inputs. */
	for (int i = 0; i < 3; i++)
		goc_close(in[i]);
	free_signals(in, 6);
	LEAK_END();
}

/* The classic demo, scaled down (the example runs the real one): or of
 * timers after 2 h, 5 min, 100 ms, 1 h, 1 min fires after about 100 ms. */
static void test_or_of_timers(void)
{
	LEAK_BEGIN();
	int64_t after[] = { GOC_MIN(120), GOC_MIN(5), GOC_MS(100), GOC_MIN(60), GOC_MIN(1) };
	goc_chan *t[5];
	int64_t start = goc_now(); /* before the timers start: none fires earlier than 100 ms after it */
	for (int i = 0; i < 5; i++)
		CHECK((t[i] = goc_after(after[i])) != NULL);
	goc_chan *any = goc_or(t, 5);
	for (int i = 0; i < 5; i++)
		goc_chan_release(t[i]);
	CHECK(closes(any));
	int64_t took = goc_now() - start;
	CHECK(took >= GOC_MS(100));
	CHECK(took < GOC_MS(100) + PROMPT);
	goc_chan_release(any);
	LEAK_END();
}

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	RUN(test_or_rejects_bad_input);
	RUN(test_or_one_input);
	RUN(test_or_two_inputs);
	RUN(test_or_three_inputs);
	RUN(test_or_100000_inputs);
	RUN(test_or_input_closed_before_the_call);
	RUN(test_or_value_on_an_input_fires_it);
	RUN(test_or_takes_from_a_blocked_sender);
	RUN(test_or_null_inputs_never_fire);
	RUN(test_or_closing_the_result_stops_the_waiter);
	RUN(test_or_inputs_released_by_the_caller_at_once);
	RUN(test_or_closes_racing_the_registration);
	RUN(test_or_everything_closing_at_once);
	RUN(test_or_of_ors);
	RUN(test_or_of_timers);
	return 0;
}

int main(int argc, char **argv)
{
	return run_suite(run, argc, argv, 60);
}
