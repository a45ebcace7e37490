/* test_chan.c - channel conformance, from the Go specification's channel
 * rules (send, receive, close, len, cap, nil channels) and goc's additions
 * (try and deadline forms, error codes, signal channels, refcounts).
 * Runs under goc_main with GOC_PROCS workers (the suite uses 1 and 2).
 *
 * Observing "blocked": where a test needs a goroutine parked in a channel
 * operation before its next step, it uses what the API reveals (a
 * try_send on an unbuffered channel succeeds only when a receiver is
 * parked). Where nothing else reveals it (the order among several blocked
 * senders) the test waits for goc_stats' count of goroutine waits to move:
 * yielding on one worker is not enough, since under load the monitor may
 * hand a hogged worker's goroutines to another thread. No test sleeps to
 * synchronise. */
#include "check.h"

#include <goc.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#define MS (1000000LL)

/* The number of goroutine waits (parks) so far. */
static uint64_t parks_so_far(void)
{
	goc_stats_t s;
	CHECK_EQ(goc_stats(&s), 0);
	return s.parks;
}

/* Yield until some goroutine has parked since parks_so_far() gave base:
 * the one just spawned is then queued on its channel. */
static void wait_for_a_park_since(uint64_t base)
{
	int64_t give_up = now_ns() + 20000 * MS;
	while (parks_so_far() <= base) {
		CHECK(now_ns() < give_up);
		goc_yield();
	}
}
static void yield_some(void)
{
	for (int i = 0; i < 20; i++)
		goc_yield();
}

/* ---- make, len, cap, refcounts ----------------------------------------- */

static void test_make_rejects_size_overflow(void)
{
	errno = 0;
	CHECK(goc_chan_make(SIZE_MAX / 2, 3) == NULL);
	CHECK_EQ(errno, EINVAL);
}

static void test_len_and_cap_follow_the_buffer(void)
{
	goc_chan *c = goc_chan_make(sizeof(int), 3);
	CHECK(c);
	CHECK_EQ(goc_cap(c), 3);
	CHECK_EQ(goc_len(c), 0);
	int v = 7;
	CHECK_EQ(goc_send(c, &v), 0);
	CHECK_EQ(goc_send(c, &v), 0);
	CHECK_EQ(goc_len(c), 2);
	CHECK_EQ(goc_recv(c, &v), 0);
	CHECK_EQ(goc_len(c), 1);
	goc_chan_release(c);

	goc_chan *u = goc_chan_make(sizeof(int), 0);
	CHECK_EQ(goc_cap(u), 0);
	CHECK_EQ(goc_len(u), 0);
	goc_chan_release(u);
}

static void test_retain_keeps_the_channel_until_the_last_release(void)
{
	goc_chan *c = goc_chan_make(sizeof(int), 1);
	goc_chan_retain(c);
	goc_chan_retain(c);
	goc_chan_release(c);
	goc_chan_release(c);
	int v = 5; /* still one reference: usable (ASan would catch a free) */
	CHECK_EQ(goc_send(c, &v), 0);
	CHECK_EQ(goc_recv(c, &v), 0);
	CHECK_EQ(v, 5);
	goc_chan_release(c);
	goc_chan_retain(NULL);
	goc_chan_release(NULL);
}

/* ---- unbuffered --------------------------------------------------------- */

struct sender_arg {
	goc_chan *c;
	long value;
	_Atomic int done;
	int rc;
	goc_chan *finished; /* signal: the sender returned */
};

static void sender(void *p)
{
	struct sender_arg *a = p;
	a->rc = goc_send(a->c, &a->value);
	atomic_store(&a->done, 1);
	goc_close(a->finished);
}

static void test_unbuffered_send_completes_only_when_received(void)
{
	struct sender_arg a = { .c = goc_chan_make(sizeof(long), 0), .value = 42 };
	a.finished = goc_chan_make(0, 0);
	CHECK_EQ(goc_go(sender, &a), 0);
	yield_some();
	/* Whatever ran meanwhile, nobody received: the send cannot be done. */
	CHECK_EQ(atomic_load(&a.done), 0);
	CHECK_EQ(goc_len(a.c), 0);
	long got = 0;
	CHECK_EQ(goc_recv(a.c, &got), 0);
	CHECK_EQ(got, 42);
	CHECK_EQ(goc_recv(a.finished, NULL), GOC_ECLOSED);
	CHECK_EQ(a.rc, 0);
	goc_chan_release(a.c);
	goc_chan_release(a.finished);
}

struct receiver_arg {
	goc_chan *c;
	long got;
	int rc;
	goc_chan *finished;
};

static void receiver(void *p)
{
	struct receiver_arg *a = p;
	a->rc = goc_recv(a->c, &a->got);
	goc_close(a->finished);
}

/* Wait until some goroutine is parked receiving on unbuffered c: a
 * try_send succeeds exactly then (and delivers v to it). */
static void try_send_until_taken(goc_chan *c, const void *v)
{
	int64_t give_up = now_ns() + 5000 * MS;
	int rc;
	while ((rc = goc_try_send(c, v)) == GOC_EAGAIN) {
		CHECK(now_ns() < give_up);
		goc_yield();
	}
	CHECK_EQ(rc, 0);
}

static void test_try_send_succeeds_only_with_a_waiting_receiver(void)
{
	goc_chan *c = goc_chan_make(sizeof(long), 0);
	long v = 9;
	CHECK_EQ(goc_try_send(c, &v), GOC_EAGAIN);
	struct receiver_arg a = { .c = c, .finished = goc_chan_make(0, 0) };
	CHECK_EQ(goc_go(receiver, &a), 0);
	try_send_until_taken(c, &v);
	CHECK_EQ(goc_recv(a.finished, NULL), GOC_ECLOSED);
	CHECK_EQ(a.rc, 0);
	CHECK_EQ(a.got, 9);
	CHECK_EQ(goc_try_recv(c, &v), GOC_EAGAIN);
	goc_chan_release(c);
	goc_chan_release(a.finished);
}

static void test_try_recv_takes_from_a_waiting_sender(void)
{
	struct sender_arg a = { .c = goc_chan_make(sizeof(long), 0), .value = 77 };
	a.finished = goc_chan_make(0, 0);
	CHECK_EQ(goc_go(sender, &a), 0);
	long got = 0;
	int64_t give_up = now_ns() + 5000 * MS;
	int rc;
	while ((rc = goc_try_recv(a.c, &got)) == GOC_EAGAIN) {
		CHECK(now_ns() < give_up);
		goc_yield();
	}
	CHECK_EQ(rc, 0);
	CHECK_EQ(got, 77);
	CHECK_EQ(goc_recv(a.finished, NULL), GOC_ECLOSED);
	goc_chan_release(a.c);
	goc_chan_release(a.finished);
}

/* ---- buffered ----------------------------------------------------------- */

static void test_buffered_is_fifo_and_blocks_only_when_full(void)
{
	goc_chan *c = goc_chan_make(sizeof(int), 3);
	for (int i = 1; i <= 3; i++)
		CHECK_EQ(goc_try_send(c, &i), 0);
	int x = 4;
	CHECK_EQ(goc_try_send(c, &x), GOC_EAGAIN);
	for (int i = 1; i <= 3; i++) {
		CHECK_EQ(goc_try_recv(c, &x), 0);
		CHECK_EQ(x, i);
	}
	CHECK_EQ(goc_try_recv(c, &x), GOC_EAGAIN);
	/* Wrap the ring several times. */
	for (int i = 0; i < 100; i++) {
		int a = 2 * i, b = 2 * i + 1;
		CHECK_EQ(goc_send(c, &a), 0);
		CHECK_EQ(goc_send(c, &b), 0);
		CHECK_EQ(goc_recv(c, &x), 0);
		CHECK_EQ(x, 2 * i);
		CHECK_EQ(goc_recv(c, &x), 0);
		CHECK_EQ(x, 2 * i + 1);
	}
	goc_chan_release(c);
}

/* A sender blocked on a full buffer: the receive takes the head, and the
 * blocked value goes in at the tail (FIFO across the hand-off). */
static void test_blocked_sender_value_goes_to_the_tail(void)
{
	goc_chan *c = goc_chan_make(sizeof(long), 2);
	long v = 1;
	goc_send(c, &v);
	v = 2;
	goc_send(c, &v);
	struct sender_arg a = { .c = c, .value = 3, .finished = goc_chan_make(0, 0) };
	CHECK_EQ(goc_go(sender, &a), 0);
	yield_some();
	for (long want = 1; want <= 3; want++) {
		CHECK_EQ(goc_recv(c, &v), 0);
		CHECK_EQ(v, want);
	}
	CHECK_EQ(goc_recv(a.finished, NULL), GOC_ECLOSED);
	CHECK_EQ(a.rc, 0);
	goc_chan_release(c);
	goc_chan_release(a.finished);
}

/* ---- FIFO among blocked senders and receivers -------------------------- */

enum { NQUEUE = 8 };

static void test_blocked_senders_are_served_in_arrival_order(void)
{
	goc_chan *c = goc_chan_make(sizeof(long), 0);
	struct sender_arg a[NQUEUE];
	for (int i = 0; i < NQUEUE; i++) {
		a[i] = (struct sender_arg){ .c = c, .value = i, .finished = goc_chan_make(0, 0) };
		uint64_t base = parks_so_far();
		CHECK_EQ(goc_go(sender, &a[i]), 0);
		wait_for_a_park_since(base); /* sender i is queued before sender i+1 starts */
	}
	for (long i = 0; i < NQUEUE; i++) {
		long v = -1;
		CHECK_EQ(goc_recv(c, &v), 0);
		CHECK_EQ(v, i);
	}
	for (int i = 0; i < NQUEUE; i++) {
		CHECK_EQ(goc_recv(a[i].finished, NULL), GOC_ECLOSED);
		goc_chan_release(a[i].finished);
	}
	goc_chan_release(c);
}

static void test_blocked_receivers_are_served_in_arrival_order(void)
{
	goc_chan *c = goc_chan_make(sizeof(long), 0);
	struct receiver_arg a[NQUEUE];
	for (int i = 0; i < NQUEUE; i++) {
		a[i] = (struct receiver_arg){ .c = c, .got = -1, .finished = goc_chan_make(0, 0) };
		uint64_t base = parks_so_far();
		CHECK_EQ(goc_go(receiver, &a[i]), 0);
		wait_for_a_park_since(base);
	}
	for (long i = 0; i < NQUEUE; i++)
		CHECK_EQ(goc_send(c, &i), 0);
	for (int i = 0; i < NQUEUE; i++) {
		CHECK_EQ(goc_recv(a[i].finished, NULL), GOC_ECLOSED);
		CHECK_EQ(a[i].got, i);
		goc_chan_release(a[i].finished);
	}
	goc_chan_release(c);
}

/* ---- close -------------------------------------------------------------- */

static void test_recv_on_closed_drains_buffer_first(void)
{
	goc_chan *c = goc_chan_make(sizeof(long), 4);
	for (long i = 1; i <= 3; i++)
		goc_send(c, &i);
	CHECK_EQ(goc_close(c), 0);
	CHECK_EQ(goc_len(c), 3);
	long v;
	for (long i = 1; i <= 3; i++) {
		CHECK_EQ(goc_recv(c, &v), 0);
		CHECK_EQ(v, i);
	}
	v = 0x5555;
	CHECK_EQ(goc_recv(c, &v), GOC_ECLOSED);
	CHECK_EQ(v, 0);
	v = 0x5555;
	CHECK_EQ(goc_try_recv(c, &v), GOC_ECLOSED);
	CHECK_EQ(v, 0);
	v = 0x5555;
	CHECK_EQ(goc_recv_until(c, &v, now_ns() + 1000 * MS), GOC_ECLOSED);
	CHECK_EQ(v, 0);
	CHECK_EQ(goc_recv(c, NULL), GOC_ECLOSED);
	goc_chan_release(c);
}

static void test_send_on_closed_is_an_error_not_a_crash(void)
{
	goc_chan *c = goc_chan_make(sizeof(long), 2);
	CHECK_EQ(goc_close(c), 0);
	long v = 1;
	CHECK_EQ(goc_send(c, &v), GOC_ECLOSED);
	CHECK_EQ(goc_try_send(c, &v), GOC_ECLOSED);
	CHECK_EQ(goc_send_until(c, &v, now_ns() + 1000 * MS), GOC_ECLOSED);
	CHECK_EQ(goc_send_until(c, &v, 0), GOC_ECLOSED);
	CHECK_EQ(goc_len(c), 0);
	goc_chan_release(c);
}

static void test_close_twice_is_eclosed(void)
{
	goc_chan *c = goc_chan_make(0, 0);
	CHECK_EQ(goc_close(c), 0);
	CHECK_EQ(goc_close(c), GOC_ECLOSED);
	goc_chan_release(c);
}

static void test_close_wakes_every_blocked_receiver_with_zero(void)
{
	enum { N = 16 };
	goc_chan *c = goc_chan_make(sizeof(long), 0);
	struct receiver_arg a[N];
	for (int i = 0; i < N; i++) {
		a[i] = (struct receiver_arg){ .c = c, .got = 0x1234, .rc = 1, .finished = goc_chan_make(0, 0) };
		CHECK_EQ(goc_go(receiver, &a[i]), 0);
	}
	yield_some();
	CHECK_EQ(goc_close(c), 0);
	for (int i = 0; i < N; i++) {
		CHECK_EQ(goc_recv(a[i].finished, NULL), GOC_ECLOSED);
		CHECK_EQ(a[i].rc, GOC_ECLOSED);
		CHECK_EQ(a[i].got, 0);
		goc_chan_release(a[i].finished);
	}
	goc_chan_release(c);
}

static void test_close_fails_every_blocked_sender(void)
{
	enum { N = 16 };
	goc_chan *c = goc_chan_make(sizeof(long), 1);
	long v = 100;
	goc_send(c, &v); /* full: the senders below block */
	struct sender_arg a[N];
	for (int i = 0; i < N; i++) {
		a[i] = (struct sender_arg){ .c = c, .value = i, .rc = 1, .finished = goc_chan_make(0, 0) };
		CHECK_EQ(goc_go(sender, &a[i]), 0);
	}
	yield_some();
	CHECK_EQ(goc_close(c), 0);
	int delivered = 0;
	for (int i = 0; i < N; i++) {
		CHECK_EQ(goc_recv(a[i].finished, NULL), GOC_ECLOSED);
		CHECK(a[i].rc == 0 || a[i].rc == GOC_ECLOSED);
		delivered += a[i].rc == 0;
		goc_chan_release(a[i].finished);
	}
	/* Senders that had not parked yet may have lost the race to close and
	 * failed too; none can have delivered: the buffer held only 100. */
	CHECK_EQ(delivered, 0);
	CHECK_EQ(goc_recv(c, &v), 0);
	CHECK_EQ(v, 100);
	CHECK_EQ(goc_recv(c, &v), GOC_ECLOSED);
	goc_chan_release(c);
}

/* ---- NULL channels and bad arguments ------------------------------------ */

static void test_null_channel_operations_are_einval(void)
{
	long v = 0;
	CHECK_EQ(goc_send(NULL, &v), GOC_EINVAL);
	CHECK_EQ(goc_recv(NULL, &v), GOC_EINVAL);
	CHECK_EQ(goc_try_send(NULL, &v), GOC_EINVAL);
	CHECK_EQ(goc_try_recv(NULL, &v), GOC_EINVAL);
	CHECK_EQ(goc_send_until(NULL, &v, 0), GOC_EINVAL);
	CHECK_EQ(goc_recv_until(NULL, &v, 0), GOC_EINVAL);
	CHECK_EQ(goc_close(NULL), GOC_EINVAL);
	CHECK_EQ(goc_len(NULL), 0);
	CHECK_EQ(goc_cap(NULL), 0);
	goc_chan *c = goc_chan_make(sizeof(long), 1);
	CHECK_EQ(goc_send(c, NULL), GOC_EINVAL); /* a value is required */
	CHECK_EQ(goc_len(c), 0);
	goc_chan_release(c);
}

/* ---- signal channels (elem_size 0) -------------------------------------- */

static void signaller(void *p)
{
	goc_send(p, NULL);
}

static void test_signal_channel_carries_no_data(void)
{
	goc_chan *c = goc_chan_make(0, 0);
	CHECK_EQ(goc_go(signaller, c), 0);
	CHECK_EQ(goc_recv(c, NULL), 0);
	goc_chan *b = goc_chan_make(0, 2);
	CHECK_EQ(goc_send(b, NULL), 0);
	CHECK_EQ(goc_send(b, NULL), 0);
	CHECK_EQ(goc_try_send(b, NULL), GOC_EAGAIN);
	CHECK_EQ(goc_len(b), 2);
	char dummy = 'x';
	CHECK_EQ(goc_recv(b, &dummy), 0);
	CHECK_EQ(dummy, 'x'); /* zero bytes copied */
	CHECK_EQ(goc_recv(b, NULL), 0);
	goc_close(b);
	CHECK_EQ(goc_recv(b, NULL), GOC_ECLOSED);
	goc_chan_release(c);
	goc_chan_release(b);
}

/* ---- values are copied whole -------------------------------------------- */

struct blob { uint32_t seq; unsigned char bytes[1000]; uint32_t check; };

static void fill_blob(struct blob *b, uint32_t seq)
{
	b->seq = seq;
	uint32_t h = seq * 2654435761u;
	for (int i = 0; i < 1000; i++)
		b->bytes[i] = (unsigned char)(h >> (i % 24));
	b->check = h ^ 0xabcdef;
}

static int blob_ok(const struct blob *b, uint32_t seq)
{
	struct blob want;
	fill_blob(&want, seq);
	return memcmp(b, &want, sizeof want) == 0;
}

struct blob_arg { goc_chan *c; int n; goc_chan *finished; };

static void blob_sender(void *p)
{
	struct blob_arg *a = p;
	struct blob b;
	for (int i = 0; i < a->n; i++) {
		fill_blob(&b, (uint32_t)i);
		goc_send(a->c, &b);
		memset(&b, 0xee, sizeof b); /* the channel holds its own copy */
	}
	goc_close(a->finished);
}

static void test_large_values_are_copied_whole(void)
{
	for (size_t cap = 0; cap <= 3; cap += 3) {
		struct blob_arg a = { goc_chan_make(sizeof(struct blob), cap), 300, goc_chan_make(0, 0) };
		CHECK_EQ(goc_go(blob_sender, &a), 0);
		struct blob b;
		for (int i = 0; i < a.n; i++) {
			CHECK_EQ(goc_recv(a.c, &b), 0);
			CHECK(blob_ok(&b, (uint32_t)i));
		}
		CHECK_EQ(goc_recv(a.finished, NULL), GOC_ECLOSED); /* a outlives the sender */
		goc_chan_release(a.c);
		goc_chan_release(a.finished);
	}
}

/* ---- deadlines ---------------------------------------------------------- */

static void test_past_deadline_behaves_as_try(void)
{
	goc_chan *c = goc_chan_make(sizeof(int), 1);
	int v = 3;
	CHECK_EQ(goc_send_until(c, &v, 0), 0); /* room: succeeds */
	CHECK_EQ(goc_send_until(c, &v, now_ns() - 1), GOC_ETIMEDOUT);
	CHECK_EQ(goc_recv_until(c, &v, 0), 0);
	CHECK_EQ(goc_recv_until(c, &v, now_ns()), GOC_ETIMEDOUT);
	goc_chan_release(c);
}

static void test_deadline_expires_and_leaves_no_waiter(void)
{
	/* Tolerance: the wait must last at least the 20 ms asked for; no upper
	 * bound beyond the test timeout, since a loaded machine may be late. */
	goc_chan *c = goc_chan_make(sizeof(int), 0);
	int v = 1;
	int64_t t0 = now_ns();
	CHECK_EQ(goc_recv_until(c, &v, t0 + 20 * MS), GOC_ETIMEDOUT);
	CHECK(now_ns() - t0 >= 20 * MS);
	/* The timed-out receiver is gone: nobody takes a value now. */
	CHECK_EQ(goc_try_send(c, &v), GOC_EAGAIN);
	t0 = now_ns();
	CHECK_EQ(goc_send_until(c, &v, t0 + 20 * MS), GOC_ETIMEDOUT);
	CHECK(now_ns() - t0 >= 20 * MS);
	CHECK_EQ(goc_try_recv(c, &v), GOC_EAGAIN);
	goc_chan_release(c);
}

struct late_arg { goc_chan *c; goc_chan *finished; };

static void late_sender(void *p)
{
	struct late_arg *a = p;
	long v = 31;
	/* Wait for the receiver to park first, then deliver well before its
	 * deadline (500 ms away: generous for a loaded machine). */
	try_send_until_taken(a->c, &v);
	goc_close(a->finished);
}

static void test_value_arriving_before_deadline_is_received(void)
{
	struct late_arg a = { goc_chan_make(sizeof(long), 0), goc_chan_make(0, 0) };
	CHECK_EQ(goc_go(late_sender, &a), 0);
	long v = 0;
	CHECK_EQ(goc_recv_until(a.c, &v, now_ns() + 5000 * MS), 0);
	CHECK_EQ(v, 31);
	CHECK_EQ(goc_recv(a.finished, NULL), GOC_ECLOSED);
	goc_chan_release(a.c);
	goc_chan_release(a.finished);
}

/* Many short deadlines racing real deliveries: every value is either
 * received once or, when its send timed out, not at all. */
struct race_arg { goc_chan *c; int n; long sent_sum; int sent; goc_chan *finished; };

static void racing_sender(void *p)
{
	struct race_arg *a = p;
	for (long i = 1; i <= a->n; i++) {
		if (goc_send_until(a->c, &i, now_ns() + (i % 4) * 10000) == 0) {
			a->sent_sum += i;
			a->sent++;
		}
	}
	goc_close(a->c);
	goc_close(a->finished);
}

static void test_deadlines_racing_deliveries_lose_nothing(void)
{
	struct race_arg a = { goc_chan_make(sizeof(long), 0), 3000, 0, 0, goc_chan_make(0, 0) };
	CHECK_EQ(goc_go(racing_sender, &a), 0);
	long v, sum = 0;
	int got = 0, rc;
	for (;;) {
		rc = goc_recv_until(a.c, &v, now_ns() + (got % 3) * 20000);
		if (rc == GOC_ETIMEDOUT)
			goc_yield(); /* a past deadline does not park: let the sender run */
		if (rc == GOC_ECLOSED)
			break;
		if (rc == 0) {
			sum += v;
			got++;
		} else {
			CHECK_EQ(rc, GOC_ETIMEDOUT);
		}
	}
	CHECK_EQ(goc_recv(a.finished, NULL), GOC_ECLOSED);
	CHECK_EQ(got, a.sent);
	CHECK_EQ(sum, a.sent_sum);
	goc_chan_release(a.c);
	goc_chan_release(a.finished);
}

/* ---- foreign threads ---------------------------------------------------- */

struct thread_arg { goc_chan *in, *out; long n; long sum; };

static void *thread_producer(void *p)
{
	struct thread_arg *a = p;
	for (long i = 1; i <= a->n; i++)
		if (goc_send(a->out, &i) != 0)
			return (void *)1;
	goc_close(a->out);
	return NULL;
}

static void *thread_consumer(void *p)
{
	struct thread_arg *a = p;
	long v;
	while (goc_recv(a->in, &v) == 0)
		a->sum += v;
	return NULL;
}

static void goroutine_relay(void *p)
{
	/* Receive from a thread, send on to another thread. */
	struct thread_arg *a = p;
	long v;
	while (goc_recv(a->in, &v) == 0)
		goc_send(a->out, &v);
	goc_close(a->out);
}

static void *join_thread(void *p)
{
	void *rc = (void *)1;
	if (pthread_join(*(pthread_t *)p, &rc) != 0)
		return (void *)2;
	return rc;
}

static void test_foreign_threads_send_and_receive(void)
{
	enum { N = 20000 };
	for (size_t cap = 0; cap <= 16; cap += 16) {
		goc_chan *t2g = goc_chan_make(sizeof(long), cap), *g2t = goc_chan_make(sizeof(long), cap);
		struct thread_arg prod = { .out = t2g, .n = N };
		struct thread_arg relay = { .in = t2g, .out = g2t };
		struct thread_arg cons = { .in = g2t };
		pthread_t tp, tc;
		CHECK_EQ(pthread_create(&tc, NULL, thread_consumer, &cons), 0);
		CHECK_EQ(goc_go(goroutine_relay, &relay), 0);
		CHECK_EQ(pthread_create(&tp, NULL, thread_producer, &prod), 0);
		/* pthread_join blocks its OS thread: run it as a blocking call
		 * so the relay goroutine keeps a worker even with GOC_PROCS=1. */
		CHECK(goc_blocking(join_thread, &tp) == NULL);
		CHECK(goc_blocking(join_thread, &tc) == NULL);
		CHECK_EQ(cons.sum, (long)N * (N + 1) / 2);
		goc_chan_release(t2g);
		goc_chan_release(g2t);
	}
}

/* ---- simulation mode (goc/testing.h) -------------------------------------- */

/* Two goroutines each send 8 letters into a channel with room for all of
 * them: no send blocks, so without yield points a sender, once it runs,
 * would send all 8 before the other sends any. Blocking sends and receives
 * are yield points in simulation mode: under some seeds the letters
 * interleave, and a seed replays its order. The child's exit status is 10
 * + the number of runs of equal letters in the order received (12: not
 * interleaved; 2 would be goc's deadlock report). */
static goc_chan *letters;

static void send_letters(void *arg)
{
	char letter = (char)(uintptr_t)arg;
	for (int i = 0; i < 8; i++)
		goc_send(letters, &letter);
}

static int letters_program(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	letters = goc_chan_make(1, 16);
	goc_go(send_letters, (void *)(uintptr_t)'a');
	goc_go(send_letters, (void *)(uintptr_t)'b');
	int runs = 0;
	char prev = 0, c;
	for (int i = 0; i < 16; i++) {
		if (goc_recv(letters, &c) != 0)
			return 100;
		runs += c != prev;
		prev = c;
	}
	goc_chan_release(letters);
	return 10 + runs;
}

/* Before any runtime starts in this process (goc_sim_fork forks). */
static void test_blocking_send_and_recv_are_yield_points_in_simulation(void)
{
	char *argv[] = {"test_chan", NULL};
	int most = 0;
	for (uint64_t seed = 1; seed <= 8; seed++) {
		goc_sim_config cfg = {.seed = seed};
		int a = goc_sim_fork(&cfg, letters_program, 1, argv, -1, GOC_SEC(20));
		int b = goc_sim_fork(&cfg, letters_program, 1, argv, -1, GOC_SEC(20));
		CHECK(a >= 12 && a <= 26);
		CHECK_EQ(a, b);
		most = a > most ? a : most;
	}
	CHECK(most > 12);
}

int main_test(int argc, char **argv)
{
	RUN(test_make_rejects_size_overflow);
	RUN(test_len_and_cap_follow_the_buffer);
	RUN(test_retain_keeps_the_channel_until_the_last_release);
	RUN(test_unbuffered_send_completes_only_when_received);
	RUN(test_try_send_succeeds_only_with_a_waiting_receiver);
	RUN(test_try_recv_takes_from_a_waiting_sender);
	RUN(test_buffered_is_fifo_and_blocks_only_when_full);
	RUN(test_blocked_sender_value_goes_to_the_tail);
	RUN(test_blocked_senders_are_served_in_arrival_order);
	RUN(test_blocked_receivers_are_served_in_arrival_order);
	RUN(test_recv_on_closed_drains_buffer_first);
	RUN(test_send_on_closed_is_an_error_not_a_crash);
	RUN(test_close_twice_is_eclosed);
	RUN(test_close_wakes_every_blocked_receiver_with_zero);
	RUN(test_close_fails_every_blocked_sender);
	RUN(test_null_channel_operations_are_einval);
	RUN(test_signal_channel_carries_no_data);
	RUN(test_large_values_are_copied_whole);
	RUN(test_past_deadline_behaves_as_try);
	RUN(test_deadline_expires_and_leaves_no_waiter);
	RUN(test_value_arriving_before_deadline_is_received);
	RUN(test_deadlines_racing_deliveries_lose_nothing);
	RUN(test_foreign_threads_send_and_receive);
	return 0;
}

int main(int argc, char **argv)
{
	RUN(test_blocking_send_and_recv_are_yield_points_in_simulation);
	return goc_main(main_test, argc, argv);
}
