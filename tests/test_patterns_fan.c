/* test_patterns_fan.c - pipeline stages (goc_stage), worker pools
 * (goc_pool: fan-out with bounded parallelism + fan-in) and goc_merge
 * (fan-in): values, order where it is defined (a stage keeps it; a merge
 * keeps each input's), filtering and stopping, the parallelism bound,
 * closing once every worker or input is done, early cancellation, bad
 * input. Runs with GOC_PROCS=1 and 2.
 * ctest: TIMEOUT 120 */
#include "test_patterns_util.h"

#include <stdatomic.h>

static int square(void *arg, const void *in, void *out)
{
	(void)arg;
	long v = *(const long *)in;
	*(long *)out = v * v;
	return GOC_STAGE_SEND;
}

static int odd_only(void *arg, const void *in, void *out)
{
	(void)arg;
	long v = *(const long *)in;
	*(long *)out = v;
	return v % 2 ? GOC_STAGE_SEND : GOC_STAGE_SKIP;
}

static int stop_after_3(void *arg, const void *in, void *out)
{
	(void)arg;
	long v = *(const long *)in;
	*(long *)out = v;
	return v > 3 ? GOC_STAGE_STOP : GOC_STAGE_SEND;
}

static void test_stage_keeps_order(void)
{
	LEAK_BEGIN();
	goc_chan *in = longs_upto(100);
	goc_chan *sq = goc_stage(NULL, in, square, NULL, sizeof(long), 0);
	goc_chan_release(in);
	for (long i = 1; i <= 100; i++)
		CHECK_EQ(recv_long(sq), i * i);
	CHECK(closes(sq));
	goc_chan_release(sq);
	LEAK_END();
}

static void test_stages_chain_filter_and_stop(void)
{
	LEAK_BEGIN();
	goc_chan *in = longs_upto(20);
	goc_chan *odd = goc_stage(NULL, in, odd_only, NULL, sizeof(long), 4); /* buffered */
	CHECK_EQ(goc_cap(odd), 4);
	goc_chan *sq = goc_stage(NULL, odd, square, NULL, sizeof(long), 0);
	for (long i = 1; i <= 19; i += 2)
		CHECK_EQ(recv_long(sq), i * i);
	CHECK(closes(sq));
	goc_chan_release(sq);
	goc_chan_release(odd);

	goc_chan *first = goc_stage(NULL, in, stop_after_3, NULL, sizeof(long), 0);
	CHECK(closes(first)); /* in is drained already */
	goc_chan_release(first);
	goc_chan_release(in);

	goc_chan *ten = longs_upto(10);
	goc_chan *three = goc_stage(NULL, ten, stop_after_3, NULL, sizeof(long), 0);
	for (long i = 1; i <= 3; i++)
		CHECK_EQ(recv_long(three), i);
	CHECK(closes(three)); /* fn said stop at 4 */
	goc_chan_release(three);
	goc_chan_release(ten);
	LEAK_END();
}

/* A stage whose output nobody reads ends when done closes. */
static void test_stage_cancelled_while_blocked(void)
{
	LEAK_BEGIN();
	goc_chan *done = goc_chan_make(0, 0);
	long one = 1;
	goc_chan *ones = goc_repeat(done, &one, 1, sizeof one);
	goc_chan *sq = goc_stage(done, ones, square, NULL, sizeof(long), 0);
	CHECK_EQ(recv_long(sq), 1);
	goc_close(done);
	CHECK(drains_to_close(sq)); /* the stage's next value may be in flight */
	goc_chan_release(sq);
	goc_chan_release(ones);
	goc_chan_release(done);
	LEAK_END();
}

/* ---- pools ---------------------------------------------------------------- */

typedef struct tracker {
	_Atomic int running, peak;
	_Atomic long calls;
} tracker;

/* Counts concurrent calls; yields inside so that overlap can happen even
 * on one worker thread. */
static int tracked_square(void *arg, const void *in, void *out)
{
	tracker *t = arg;
	int now = atomic_fetch_add(&t->running, 1) + 1;
	for (int peak = atomic_load(&t->peak); now > peak && !atomic_compare_exchange_weak(&t->peak, &peak, now);)
		;
	goc_yield();
	goc_sleep(GOC_US(50));
	atomic_fetch_add(&t->calls, 1);
	atomic_fetch_sub(&t->running, 1);
	return square(NULL, in, out);
}

static void test_pool_computes_everything_within_its_bound(void)
{
	LEAK_BEGIN();
	long n = SCALE(2000, 300);
	goc_chan *in = longs_upto(n);
	tracker t = { 0, 0, 0 };
	goc_chan *out = goc_pool(NULL, in, 4, tracked_square, &t, sizeof(long), 0);
	goc_chan_release(in);
	long sum = 0, count = 0, v;
	while (goc_recv_until(out, &v, goc_now() + PROMPT) == 0) {
		sum += v;
		count++;
	}
	CHECK_EQ(count, n);
	CHECK_EQ(sum, n * (n + 1) * (2 * n + 1) / 6);
	CHECK_EQ(atomic_load(&t.calls), n);
	CHECK(atomic_load(&t.peak) <= 4);
	CHECK(atomic_load(&t.peak) >= 2); /* the workers did overlap (they sleep) */
	goc_chan_release(out);
	LEAK_END();
}

static void test_pool_stop_stops_every_worker(void)
{
	LEAK_BEGIN();
	goc_chan *in = longs_upto(1000);
	goc_chan *out = goc_pool(NULL, in, 8, stop_after_3, NULL, sizeof(long), 0);
	long v, got = 0;
	while (goc_recv_until(out, &v, goc_now() + PROMPT) == 0)
		got++;
	/* One worker saw a value > 3 and stopped them all; the values before
	 * it (and those workers already held) may have been sent. */
	CHECK(got <= 3 + 8);
	CHECK(goc_len(in) > 1000 - 3 - 2 * 8 - 1); /* nobody drained in */
	goc_chan_release(out);
	goc_chan_release(in);
	LEAK_END();
}

static void test_pool_cancelled_with_workers_blocked(void)
{
	LEAK_BEGIN();
	goc_chan *done = goc_chan_make(0, 0);
	long one = 1;
	goc_chan *ones = goc_repeat(done, &one, 1, sizeof one);
	goc_chan *out = goc_pool(done, ones, 16, square, NULL, sizeof(long), 0);
	CHECK_EQ(recv_long(out), 1);
	goc_close(done); /* 16 workers, most blocked sending: all end */
	CHECK(drains_to_close(out)); /* a worker not yet parked may still send */
	goc_chan_release(out);
	goc_chan_release(ones);
	goc_chan_release(done);
	LEAK_END();
}

static void test_pool_bad_input(void)
{
	goc_chan *in = goc_chan_make(sizeof(long), 0);
	struct { size_t workers; goc_stage_fn fn; goc_chan *in; } bad[] = {
		{ 0, square, in }, { 65537, square, in }, { 2, NULL, in }, { 2, square, NULL },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		errno = 0;
		CHECK(goc_pool(NULL, bad[i].in, bad[i].workers, bad[i].fn, NULL, sizeof(long), 0) == NULL);
		CHECK_EQ(last_errno(), EINVAL);
	}
	errno = 0;
	CHECK(goc_stage(NULL, in, square, NULL, SIZE_MAX, 2) == NULL); /* capacity overflows */
	CHECK_EQ(last_errno(), EINVAL);
	errno = 0;
	CHECK(goc_pool(NULL, in, 1000, square, NULL, SIZE_MAX / 100, 0) == NULL);
	CHECK_EQ(last_errno(), EINVAL);
	goc_chan_release(in);
}

/* ---- merge ---------------------------------------------------------------- */

/* Inputs k = 0..2 carry 1000k+1 .. 1000k+n; the merge must deliver all of
 * them, each input's values in order. */
static void test_merge_interleaves_keeping_each_order(void)
{
	LEAK_BEGIN();
	long n = 200;
	goc_chan *ins[3];
	for (int k = 0; k < 3; k++) {
		ins[k] = goc_chan_make(sizeof(long), (size_t)n);
		for (long i = 1; i <= n; i++) {
			long v = 1000 * k + i;
			goc_send(ins[k], &v);
		}
		goc_close(ins[k]);
	}
	goc_chan *all = goc_merge(NULL, ins, 3, 0);
	for (int k = 0; k < 3; k++)
		goc_chan_release(ins[k]);
	long last[3] = { 0, 0, 0 }, count = 0, v;
	while (goc_recv_until(all, &v, goc_now() + PROMPT) == 0) {
		int k = (int)(v / 1000);
		CHECK(k >= 0 && k < 3);
		CHECK_EQ(v % 1000, last[k] + 1);
		last[k] = v % 1000;
		count++;
	}
	CHECK_EQ(count, 3 * n);
	goc_chan_release(all);
	LEAK_END();
}

static void test_merge_closes_only_when_every_input_has(void)
{
	LEAK_BEGIN();
	goc_chan *a = goc_chan_make(sizeof(long), 0), *b = goc_chan_make(sizeof(long), 0);
	goc_chan *ins[] = { a, b };
	goc_chan *m = goc_merge(NULL, ins, 2, 1);
	goc_close(a);
	long v = 5;
	CHECK_EQ(goc_send(b, &v), 0);
	CHECK_EQ(recv_long(m), 5);
	CHECK(quiet(m));
	goc_close(b);
	CHECK(closes(m));
	goc_chan_release(m);
	goc_chan_release(a);
	goc_chan_release(b);
	LEAK_END();
}

static void test_merge_cancelled(void)
{
	LEAK_BEGIN();
	goc_chan *done = goc_chan_make(0, 0);
	goc_chan *ins[8];
	for (int k = 0; k < 8; k++) {
		long v = k;
		ins[k] = goc_repeat(done, &v, 1, sizeof v);
	}
	goc_chan *m = goc_merge(done, ins, 8, 0);
	for (int i = 0; i < 20; i++)
		recv_long(m);
	goc_close(done);
	CHECK(drains_to_close(m));
	goc_chan_release(m);
	for (int k = 0; k < 8; k++)
		goc_chan_release(ins[k]);
	goc_chan_release(done);
	LEAK_END();
}

static void test_merge_bad_input(void)
{
	goc_chan *l = goc_chan_make(sizeof(long), 0), *i = goc_chan_make(sizeof(int), 0);
	goc_chan *mixed[] = { l, i }, *with_null[] = { l, NULL };
	errno = 0;
	CHECK(goc_merge(NULL, NULL, 1, 0) == NULL);
	CHECK_EQ(last_errno(), EINVAL);
	errno = 0;
	CHECK(goc_merge(NULL, mixed, 0, 0) == NULL);
	CHECK_EQ(last_errno(), EINVAL);
	errno = 0;
	CHECK(goc_merge(NULL, mixed, 2, 0) == NULL);
	CHECK_EQ(last_errno(), EINVAL);
	errno = 0;
	CHECK(goc_merge(NULL, with_null, 2, 0) == NULL);
	CHECK_EQ(last_errno(), EINVAL);
	errno = 0;
	CHECK(goc_merge(NULL, mixed, 1, SIZE_MAX) == NULL); /* capacity overflows */
	CHECK_EQ(last_errno(), EINVAL);
	goc_chan_release(l);
	goc_chan_release(i);
}

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	RUN(test_stage_keeps_order);
	RUN(test_stages_chain_filter_and_stop);
	RUN(test_stage_cancelled_while_blocked);
	RUN(test_pool_computes_everything_within_its_bound);
	RUN(test_pool_stop_stops_every_worker);
	RUN(test_pool_cancelled_with_workers_blocked);
	RUN(test_pool_bad_input);
	RUN(test_merge_interleaves_keeping_each_order);
	RUN(test_merge_closes_only_when_every_input_has);
	RUN(test_merge_cancelled);
	RUN(test_merge_bad_input);
	return 0;
}

int main(int argc, char **argv)
{
	return run_suite(run, argc, argv, 60);
}
