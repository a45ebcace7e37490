/* test_patterns_stream.c - the for-select building blocks
 * (goc_send_or_done, goc_recv_or_done, goc_is_done) and the one-goroutine
 * stream helpers: goc_or_done, goc_tee, goc_bridge, goc_take, goc_repeat,
 * goc_repeat_fn. For each: values and order, closing when the input ends,
 * early cancellation through done (the goroutine ends, nothing leaks, no
 * value moves after done), bad input. Runs with GOC_PROCS=1 and 2.
 * ctest: TIMEOUT 120 */
#include "test_patterns_util.h"

#include <stdatomic.h>
#include <string.h>

/* ---- for-select building blocks ----------------------------------------- */

static void test_send_or_done(void)
{
	goc_chan *done = goc_chan_make(0, 0), *c = goc_chan_make(sizeof(long), 1);
	long v = 5, got = 0;
	CHECK_EQ(goc_send_or_done(done, c, &v), 0);
	CHECK_EQ(goc_recv(c, &got), 0);
	CHECK_EQ(got, 5);
	CHECK_EQ(goc_send_or_done(NULL, c, &v), 0); /* NULL done: a plain send */
	CHECK_EQ(goc_recv(c, &got), 0);
	/* done closed: cancelled, even though c has room (done is checked first). */
	goc_close(done);
	CHECK_EQ(goc_send_or_done(done, c, &v), GOC_ECANCELED);
	CHECK_EQ(goc_len(c), 0);
	goc_chan *open = goc_chan_make(0, 0);
	goc_close(c);
	CHECK_EQ(goc_send_or_done(open, c, &v), GOC_ECLOSED);
	CHECK_EQ(goc_send_or_done(open, NULL, &v), GOC_EINVAL);
	goc_chan_release(open);
	goc_chan_release(done);
	goc_chan_release(c);
}

static void test_recv_or_done(void)
{
	goc_chan *done = goc_chan_make(0, 0), *c = goc_chan_make(sizeof(long), 2);
	long v = 9, got = 0;
	goc_send(c, &v);
	CHECK_EQ(goc_recv_or_done(done, c, &got), 0);
	CHECK_EQ(got, 9);
	goc_send(c, &v);
	goc_close(c);
	CHECK_EQ(goc_recv_or_done(NULL, c, &got), 0);
	CHECK_EQ(goc_recv_or_done(done, c, &got), GOC_ECLOSED);
	goc_close(done);
	CHECK_EQ(goc_recv_or_done(done, c, &got), GOC_ECANCELED);
	CHECK_EQ(goc_recv_or_done(done, NULL, &got), GOC_EINVAL);
	goc_chan_release(done);
	goc_chan_release(c);
}

typedef struct canceller {
	goc_chan *done;
} canceller;

static void close_done_later(void *arg)
{
	canceller *k = arg;
	goc_sleep(GOC_MS(5));
	goc_close(k->done);
}

/* A blocked receive ends when done closes. */
static void test_recv_or_done_blocked_until_done(void)
{
	LEAK_BEGIN();
	goc_chan *done = goc_chan_make(0, 0), *c = goc_chan_make(sizeof(long), 0);
	canceller k = { done };
	CHECK_EQ(goc_go_copy(close_done_later, &k, sizeof k), 0);
	long got = 1;
	CHECK_EQ(goc_recv_or_done(done, c, &got), GOC_ECANCELED);
	goc_chan_release(done);
	goc_chan_release(c);
	LEAK_END();
}

static void test_is_done(void)
{
	goc_chan *done = goc_chan_make(0, 0);
	CHECK(!goc_is_done(NULL));
	CHECK(!goc_is_done(done));
	goc_close(done);
	CHECK(goc_is_done(done));
	CHECK(goc_is_done(done)); /* stays done */
	goc_chan_release(done);
}

/* ---- or-done ------------------------------------------------------------ */

static void test_or_done_forwards_in_order_then_closes(void)
{
	LEAK_BEGIN();
	goc_chan *in = longs_upto(100), *done = goc_chan_make(0, 0);
	goc_chan *out = goc_or_done(done, in);
	CHECK(out != NULL);
	goc_chan_release(in); /* the goroutine holds its own */
	for (long i = 1; i <= 100; i++)
		CHECK_EQ(recv_long(out), i);
	CHECK(closes(out));
	goc_chan_release(out);
	goc_chan_release(done);
	LEAK_END();
}

static void test_or_done_stops_on_done(void)
{
	LEAK_BEGIN();
	goc_chan *in = goc_chan_make(sizeof(long), 0), *done = goc_chan_make(0, 0);
	goc_chan *out = goc_or_done(done, in);
	long v = 1;
	CHECK_EQ(goc_send(in, &v), 0);
	CHECK_EQ(recv_long(out), 1);
	goc_close(done); /* in stays open: only done can end it */
	CHECK(closes(out));
	goc_chan_release(out);
	goc_chan_release(in);
	goc_chan_release(done);
	LEAK_END();
}

/* done closed while the goroutine holds a value nobody reads. If it had
 * not reached its select when done closed, that select may find both done
 * and our receive ready and send the value it holds (Go semantics); after
 * that it sees done first, so value 1 is all that may still arrive. */
static void test_or_done_stops_while_sending(void)
{
	LEAK_BEGIN();
	goc_chan *in = longs_upto(3), *done = goc_chan_make(0, 0);
	goc_chan *out = goc_or_done(done, in);
	for (int i = 0; i < 10; i++)
		goc_yield();
	goc_close(done);
	long v = 0;
	int r = goc_recv_until(out, &v, goc_now() + PROMPT);
	CHECK(r == GOC_ECLOSED || (r == 0 && v == 1));
	CHECK(closes(out)); /* nothing more arrives after done */
	goc_chan_release(out);
	goc_chan_release(in);
	goc_chan_release(done);
	LEAK_END();
}

static void test_or_done_bad_input(void)
{
	errno = 0;
	CHECK(goc_or_done(NULL, NULL) == NULL);
	CHECK_EQ(last_errno(), EINVAL);
}

/* Values of any size are copied whole. */
typedef struct big {
	char text[100];
	long n;
} big;

static void test_or_done_carries_big_values(void)
{
	LEAK_BEGIN();
	goc_chan *in = goc_chan_make(sizeof(big), 2);
	big a = { "first", 1 }, b = { "second", 2 }, got;
	goc_send(in, &a);
	goc_send(in, &b);
	goc_close(in);
	goc_chan *out = goc_or_done(NULL, in);
	CHECK_EQ(goc_recv(out, &got), 0);
	CHECK(strcmp(got.text, "first") == 0 && got.n == 1);
	CHECK_EQ(goc_recv(out, &got), 0);
	CHECK(strcmp(got.text, "second") == 0 && got.n == 2);
	CHECK(closes(out));
	goc_chan_release(out);
	goc_chan_release(in);
	LEAK_END();
}

/* ---- tee ---------------------------------------------------------------- */

static void test_tee_gives_every_value_to_both(void)
{
	LEAK_BEGIN();
	goc_chan *in = longs_upto(50), *outs[2];
	CHECK_EQ(goc_tee(NULL, in, outs), 0);
	goc_chan_release(in);
	for (long i = 1; i <= 50; i++) {
		/* Alternate which side reads first: tee serves whichever is ready. */
		long a = recv_long(outs[i % 2]), b = recv_long(outs[1 - i % 2]);
		CHECK_EQ(a, i);
		CHECK_EQ(b, i);
	}
	CHECK(closes(outs[0]));
	CHECK(closes(outs[1]));
	goc_chan_release(outs[0]);
	goc_chan_release(outs[1]);
	LEAK_END();
}

static void test_tee_stops_on_done_with_one_side_unread(void)
{
	LEAK_BEGIN();
	goc_chan *in = longs_upto(10), *done = goc_chan_make(0, 0), *outs[2];
	CHECK_EQ(goc_tee(done, in, outs), 0);
	CHECK_EQ(recv_long(outs[0]), 1); /* outs[1] never read: tee waits on it */
	goc_close(done);
	CHECK(closes(outs[0]));
	CHECK(closes(outs[1]));
	goc_chan_release(outs[0]);
	goc_chan_release(outs[1]);
	goc_chan_release(in);
	goc_chan_release(done);
	LEAK_END();
}

static void test_tee_bad_input(void)
{
	goc_chan *in = goc_chan_make(sizeof(long), 0), *outs[2];
	CHECK_EQ(goc_tee(NULL, NULL, outs), GOC_EINVAL);
	CHECK_EQ(goc_tee(NULL, in, NULL), GOC_EINVAL);
	goc_chan_release(in);
}

/* ---- bridge ------------------------------------------------------------- */

/* A channel of channels: three streams of longs (10i+1 .. 10i+3), one
 * stream of ints (wrong element size: skipped) and a NULL (skipped). */
static goc_chan *streams(void)
{
	goc_chan *chans = goc_chan_make(sizeof(goc_chan *), 8);
	for (int s = 0; s < 3; s++) {
		goc_chan *c = goc_chan_make(sizeof(long), 3);
		for (long k = 1; k <= 3; k++) {
			long v = 10 * s + k;
			goc_send(c, &v);
		}
		goc_close(c);
		CHECK_EQ(goc_send(chans, &c), 0); /* our reference goes with it */
		if (s == 0) {
			goc_chan *ints = goc_chan_make(sizeof(int), 1), *nil = NULL;
			int x = 99;
			goc_send(ints, &x);
			goc_close(ints);
			goc_send(chans, &ints);
			goc_send(chans, &nil);
		}
	}
	goc_close(chans);
	return chans;
}

static void test_bridge_flattens_in_order(void)
{
	LEAK_BEGIN();
	goc_chan *chans = streams();
	goc_chan *out = goc_bridge(NULL, chans, sizeof(long));
	CHECK(out != NULL);
	goc_chan_release(chans);
	for (int s = 0; s < 3; s++)
		for (long k = 1; k <= 3; k++)
			CHECK_EQ(recv_long(out), 10 * s + k);
	CHECK(closes(out));
	goc_chan_release(out);
	LEAK_END(); /* and ASan: every inner channel was released */
}

/* Cancelled mid-stream: the current stream and the ones still queued in
 * the channel of channels are released. */
static void test_bridge_stops_on_done_and_releases_streams(void)
{
	LEAK_BEGIN();
	goc_chan *chans = streams(), *done = goc_chan_make(0, 0);
	goc_chan *out = goc_bridge(done, chans, sizeof(long));
	CHECK_EQ(recv_long(out), 1);
	goc_close(done);
	CHECK(drains_to_close(out)); /* value 2 may be in flight */
	goc_chan_release(out);
	goc_chan_release(chans);
	goc_chan_release(done);
	LEAK_END();
}

typedef struct stream_feeder {
	goc_chan *chans, *done;
	int streams;
} stream_feeder;

/* A producer of streams, the way one should be written: hand a stream over
 * only if the send happened, release it otherwise. */
static void feed_streams(void *arg)
{
	stream_feeder *f = arg;
	for (int s = 0; s < f->streams; s++) {
		goc_chan *c = goc_chan_make(sizeof(long), 1);
		long v = s;
		goc_send(c, &v);
		goc_close(c);
		if (goc_send_or_done(f->done, f->chans, &c) != 0) {
			goc_chan_release(c);
			break;
		}
	}
	goc_close(f->chans);
}

static void test_bridge_with_a_live_producer(void)
{
	LEAK_BEGIN();
	goc_chan *chans = goc_chan_make(sizeof(goc_chan *), 0), *done = goc_chan_make(0, 0);
	stream_feeder f = { chans, done, 1000 };
	CHECK_EQ(goc_go(feed_streams, &f), 0);
	goc_chan *out = goc_bridge(done, chans, sizeof(long));
	for (long s = 0; s < 100; s++)
		CHECK_EQ(recv_long(out), s);
	goc_close(done); /* both the producer and the bridge stop */
	CHECK(drains_to_close(out)); /* the value the bridge holds may be in flight */
	CHECK_EQ(goc_leakcheck(PROMPT), 0);
	goc_chan_release(out);
	goc_chan_release(chans);
	goc_chan_release(done);
	LEAK_END();
}

static void test_bridge_bad_input(void)
{
	errno = 0;
	CHECK(goc_bridge(NULL, NULL, sizeof(long)) == NULL);
	CHECK_EQ(last_errno(), EINVAL);
	goc_chan *ints = goc_chan_make(sizeof(int), 0);
	errno = 0;
	CHECK(goc_bridge(NULL, ints, sizeof(long)) == NULL); /* not a channel of channels */
	CHECK_EQ(last_errno(), EINVAL);
	goc_chan_release(ints);
}

/* ---- generators --------------------------------------------------------- */

static void test_repeat_cycles_until_done(void)
{
	LEAK_BEGIN();
	goc_chan *done = goc_chan_make(0, 0);
	long values[] = { 1, 2, 3 };
	goc_chan *r = goc_repeat(done, values, 3, sizeof(long));
	values[0] = 100; /* copied: the generator does not see this */
	for (int i = 0; i < 10; i++)
		CHECK_EQ(recv_long(r), i % 3 + 1);
	goc_close(done);
	CHECK(drains_to_close(r)); /* the next value may be in flight */
	goc_chan_release(r);
	goc_chan_release(done);
	LEAK_END();
}

static void test_take_first_n(void)
{
	LEAK_BEGIN();
	goc_chan *done = goc_chan_make(0, 0);
	long one = 1;
	goc_chan *ones = goc_repeat(done, &one, 1, sizeof(long));
	goc_chan *five = goc_take(done, ones, 5);
	for (int i = 0; i < 5; i++)
		CHECK_EQ(recv_long(five), 1);
	CHECK(closes(five));
	goc_chan_release(five);

	goc_chan *none = goc_take(done, ones, 0);
	CHECK(closes(none)); /* n == 0: closed at once */
	goc_chan_release(none);
	goc_close(done); /* stops the repeat */
	goc_chan_release(ones);

	/* An input shorter than n: the output closes when it does. */
	goc_chan *three = longs_upto(3);
	goc_chan *t = goc_take(NULL, three, 10);
	for (long i = 1; i <= 3; i++)
		CHECK_EQ(recv_long(t), i);
	CHECK(closes(t));
	goc_chan_release(t);
	goc_chan_release(three);
	goc_chan_release(done);
	LEAK_END();
}

typedef struct counter {
	long next, stop_at;
} counter;

static int count_up(void *arg, void *out)
{
	counter *c = arg;
	if (c->stop_at && c->next > c->stop_at)
		return 1; /* end of the stream */
	*(long *)out = c->next++;
	return 0;
}

static void test_repeat_fn(void)
{
	LEAK_BEGIN();
	counter c = { 1, 5 };
	goc_chan *r = goc_repeat_fn(NULL, count_up, &c, sizeof(long));
	for (long i = 1; i <= 5; i++)
		CHECK_EQ(recv_long(r), i);
	CHECK(closes(r)); /* fn said stop */
	goc_chan_release(r);

	goc_chan *done = goc_chan_make(0, 0);
	counter forever = { 1, 0 };
	r = goc_repeat_fn(done, count_up, &forever, sizeof(long));
	for (long i = 1; i <= 100; i++)
		CHECK_EQ(recv_long(r), i);
	goc_close(done);
	CHECK(drains_to_close(r)); /* the next value may be in flight */
	goc_chan_release(r);
	goc_chan_release(done);
	LEAK_END();
}

static void test_generators_bad_input(void)
{
	long v = 1;
	errno = 0;
	CHECK(goc_repeat(NULL, &v, 0, sizeof v) == NULL);
	CHECK_EQ(last_errno(), EINVAL);
	errno = 0;
	CHECK(goc_repeat(NULL, NULL, 1, sizeof v) == NULL);
	CHECK_EQ(last_errno(), EINVAL);
	errno = 0;
	CHECK(goc_repeat(NULL, &v, SIZE_MAX / 2, 16) == NULL); /* size overflows */
	CHECK_EQ(last_errno(), EINVAL);
	errno = 0;
	CHECK(goc_repeat_fn(NULL, NULL, NULL, sizeof v) == NULL);
	CHECK_EQ(last_errno(), EINVAL);
	errno = 0;
	CHECK(goc_take(NULL, NULL, 3) == NULL);
	CHECK_EQ(last_errno(), EINVAL);
}

/* Signals (elem_size 0) repeat too. */
static void test_repeat_signals(void)
{
	LEAK_BEGIN();
	goc_chan *done = goc_chan_make(0, 0);
	goc_chan *ticks = goc_repeat(done, NULL, 1, 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(goc_recv(ticks, NULL), 0);
	goc_close(done);
	CHECK(drains_to_close(ticks)); /* the next signal may be in flight */
	goc_chan_release(ticks);
	goc_chan_release(done);
	LEAK_END();
}

/* A pipeline of helpers, cancelled from the far end. */
static void test_cancelling_a_chain_of_helpers(void)
{
	LEAK_BEGIN();
	goc_chan *done = goc_chan_make(0, 0);
	long v = 7;
	goc_chan *a = goc_repeat(done, &v, 1, sizeof v);
	goc_chan *b = goc_or_done(done, a);
	goc_chan *outs[2];
	CHECK_EQ(goc_tee(done, b, outs), 0);
	goc_chan *c = goc_take(done, outs[0], 1000000);
	CHECK_EQ(recv_long(c), 7);
	CHECK_EQ(recv_long(outs[1]), 7);
	goc_close(done);
	CHECK(drains_to_close(c)); /* take's next value may be in flight */
	goc_chan *all[] = { a, b, outs[0], outs[1], c };
	for (int i = 0; i < 5; i++)
		goc_chan_release(all[i]);
	goc_chan_release(done);
	LEAK_END();
}

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	RUN(test_send_or_done);
	RUN(test_recv_or_done);
	RUN(test_recv_or_done_blocked_until_done);
	RUN(test_is_done);
	RUN(test_or_done_forwards_in_order_then_closes);
	RUN(test_or_done_stops_on_done);
	RUN(test_or_done_stops_while_sending);
	RUN(test_or_done_bad_input);
	RUN(test_or_done_carries_big_values);
	RUN(test_tee_gives_every_value_to_both);
	RUN(test_tee_stops_on_done_with_one_side_unread);
	RUN(test_tee_bad_input);
	RUN(test_bridge_flattens_in_order);
	RUN(test_bridge_stops_on_done_and_releases_streams);
	RUN(test_bridge_with_a_live_producer);
	RUN(test_bridge_bad_input);
	RUN(test_repeat_cycles_until_done);
	RUN(test_take_first_n);
	RUN(test_repeat_fn);
	RUN(test_generators_bad_input);
	RUN(test_repeat_signals);
	RUN(test_cancelling_a_chain_of_helpers);
	return 0;
}

int main(int argc, char **argv)
{
	return run_suite(run, argc, argv, 60);
}
