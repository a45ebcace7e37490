/* test_select.c - select conformance, from the Go specification's select
 * statement: which cases are ready, NULL (nil) channel cases, default,
 * closed channels, the same channel in several cases, a blocked select
 * woken exactly once, deadlines, many cases, foreign threads, and the
 * for-select idiom. Fairness has its own test (test_select_fair.c). */
#include "check.h"

#include <goc.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdint.h>
#include <time.h>

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#define MS (1000000LL)

/* Wait until a receiver is parked on unbuffered c, and give it *v. */
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

/* ---- which case runs ---------------------------------------------------- */

static void test_select_runs_the_only_ready_case(void)
{
	goc_chan *a = goc_chan_make(sizeof(long), 1), *b = goc_chan_make(sizeof(long), 1);
	for (int round = 0; round < 200; round++) {
		long v = round, got = -1;
		goc_chan *ready = round % 2 ? a : b;
		CHECK_EQ(goc_send(ready, &v), 0);
		goc_case cs[] = { goc_case_recv(a, &got), goc_case_recv(b, &got) };
		int i = GOC_SELECT(cs);
		CHECK_EQ(i, round % 2 ? 0 : 1);
		CHECK(goc_case_ok(&cs[i]));
		CHECK_EQ(got, round);
	}
	goc_chan_release(a);
	goc_chan_release(b);
}

static void test_select_send_case_fills_room_in_buffer(void)
{
	goc_chan *full = goc_chan_make(sizeof(int), 1), *room = goc_chan_make(sizeof(int), 1);
	int x = 1, y = 2, z;
	CHECK_EQ(goc_send(full, &x), 0);
	goc_case cs[] = { goc_case_send(full, &x), goc_case_send(room, &y) };
	CHECK_EQ(GOC_SELECT(cs), 1);
	CHECK(goc_case_ok(&cs[1]));
	CHECK_EQ(goc_recv(room, &z), 0);
	CHECK_EQ(z, 2);
	goc_chan_release(full);
	goc_chan_release(room);
}

static void test_try_select_takes_default_and_leaves_nothing_queued(void)
{
	goc_chan *a = goc_chan_make(sizeof(long), 0), *b = goc_chan_make(sizeof(long), 0);
	long v = 1, w = 2;
	goc_case cs[] = { goc_case_recv(a, &v), goc_case_send(b, &w) };
	CHECK_EQ(GOC_TRY_SELECT(cs), GOC_EAGAIN);
	/* No record of that select may remain on either channel. */
	CHECK_EQ(goc_try_send(a, &v), GOC_EAGAIN);
	CHECK_EQ(goc_try_recv(b, &v), GOC_EAGAIN);
	goc_chan_release(a);
	goc_chan_release(b);
}

static void test_select_until_times_out_and_leaves_nothing_queued(void)
{
	goc_chan *a = goc_chan_make(sizeof(long), 0), *b = goc_chan_make(sizeof(long), 0);
	long v = 0, w = 5;
	goc_case cs[] = { goc_case_recv(a, &v), goc_case_send(b, &w) };
	/* Tolerance: at least the 20 ms asked for; no upper bound but the
	 * test's, since a loaded machine may wake us late. */
	int64_t t0 = now_ns();
	CHECK_EQ(GOC_SELECT_UNTIL(cs, t0 + 20 * MS), GOC_ETIMEDOUT);
	CHECK(now_ns() - t0 >= 20 * MS);
	CHECK_EQ(goc_try_send(a, &v), GOC_EAGAIN);
	CHECK_EQ(goc_try_recv(b, &v), GOC_EAGAIN);
	/* A past deadline is a try. */
	CHECK_EQ(GOC_SELECT_UNTIL(cs, 0), GOC_ETIMEDOUT);
	goc_chan_release(a);
	goc_chan_release(b);
}

struct feeder { goc_chan *c; long v; goc_chan *finished; };

static void feed_when_parked(void *p)
{
	struct feeder *f = p;
	try_send_until_taken(f->c, &f->v);
	goc_close(f->finished);
}

static void test_select_blocks_until_a_case_can_run(void)
{
	goc_chan *a = goc_chan_make(sizeof(long), 0), *b = goc_chan_make(sizeof(long), 0);
	struct feeder f = { b, 99, goc_chan_make(0, 0) };
	CHECK_EQ(goc_go(feed_when_parked, &f), 0);
	long va = -1, vb = -1;
	goc_case cs[] = { goc_case_recv(a, &va), goc_case_recv(b, &vb) };
	CHECK_EQ(GOC_SELECT(cs), 1);
	CHECK(goc_case_ok(&cs[1]));
	CHECK_EQ(vb, 99);
	CHECK_EQ(va, -1);
	CHECK_EQ(goc_recv(f.finished, NULL), GOC_ECLOSED);
	/* The select's record on a is gone. */
	CHECK_EQ(goc_try_send(a, &va), GOC_EAGAIN);
	goc_chan_release(a);
	goc_chan_release(b);
	goc_chan_release(f.finished);
}

static void receive_one(void *p)
{
	struct feeder *f = p;
	goc_recv(f->c, &f->v);
	goc_close(f->finished);
}

static void test_blocked_send_case_hands_value_to_receiver(void)
{
	goc_chan *a = goc_chan_make(sizeof(long), 0), *b = goc_chan_make(sizeof(long), 0);
	struct feeder f = { a, 0, goc_chan_make(0, 0) };
	CHECK_EQ(goc_go(receive_one, &f), 0);
	long x = 17, y = -1;
	goc_case cs[] = { goc_case_send(a, &x), goc_case_recv(b, &y) };
	CHECK_EQ(GOC_SELECT(cs), 0);
	CHECK(goc_case_ok(&cs[0]));
	CHECK_EQ(goc_recv(f.finished, NULL), GOC_ECLOSED);
	CHECK_EQ(f.v, 17);
	goc_chan_release(a);
	goc_chan_release(b);
	goc_chan_release(f.finished);
}

/* ---- closed channels ---------------------------------------------------- */

static void test_select_recv_on_closed_is_ready_with_zero(void)
{
	goc_chan *open = goc_chan_make(sizeof(long), 0), *closed = goc_chan_make(sizeof(long), 2);
	long one = 1;
	goc_send(closed, &one);
	goc_close(closed);
	long v = -7;
	goc_case cs[] = { goc_case_recv(open, &v), goc_case_recv(closed, &v) };
	CHECK_EQ(GOC_SELECT(cs), 1); /* the buffered value first */
	CHECK(goc_case_ok(&cs[1]));
	CHECK_EQ(v, 1);
	v = -7;
	CHECK_EQ(GOC_SELECT(cs), 1);
	CHECK(!goc_case_ok(&cs[1]));
	CHECK_EQ(v, 0);
	goc_chan_release(open);
	goc_chan_release(closed);
}

static void test_select_send_on_closed_reports_not_ok(void)
{
	goc_chan *c = goc_chan_make(sizeof(long), 4);
	goc_close(c);
	long v = 3;
	goc_case cs[] = { goc_case_send(c, &v) };
	CHECK_EQ(GOC_SELECT(cs), 0);
	CHECK(!goc_case_ok(&cs[0]));
	CHECK_EQ(goc_len(c), 0);
	goc_chan_release(c);
}

struct closer { goc_chan *c; goc_chan *watch; };

static void close_after_parked(void *p)
{
	struct closer *k = p;
	long token = 1;
	/* The select on watch and c is parked once this succeeds; the next
	 * select (on c only) is then most likely parked by the time we close
	 * (always, with one worker); either way it must see the close once. */
	try_send_until_taken(k->watch, &token);
	for (int i = 0; i < 3; i++)
		goc_yield();
	goc_close(k->c);
}

static void test_close_wakes_a_parked_select_exactly_once(void)
{
	for (int round = 0; round < 50; round++) {
		goc_chan *c = goc_chan_make(sizeof(long), 0), *watch = goc_chan_make(sizeof(long), 0);
		struct closer k = { c, watch };
		CHECK_EQ(goc_go(close_after_parked, &k), 0);
		long v = -1, t = 0;
		goc_case cs[] = { goc_case_recv(watch, &t), goc_case_recv(c, &v) };
		CHECK_EQ(GOC_SELECT(cs), 0);
		CHECK_EQ(t, 1);
		/* c twice (one close wakes the select once) and a NULL case. */
		goc_case cs2[] = { goc_case_recv(c, &v), goc_case_recv(NULL, NULL), goc_case_recv(c, &v) };
		int i = GOC_SELECT(cs2);
		CHECK(i == 0 || i == 2);
		CHECK(!goc_case_ok(&cs2[i]));
		CHECK_EQ(v, 0);
		goc_chan_release(c);
		goc_chan_release(watch);
	}
}

/* ---- NULL channels, no cases, bad cases --------------------------------- */

static void test_null_channel_cases_are_never_ready(void)
{
	goc_chan *ready = goc_chan_make(sizeof(long), 1);
	long v = 8, out = 0;
	goc_case none[] = { goc_case_recv(NULL, &out), goc_case_send(NULL, &v) };
	CHECK_EQ(GOC_TRY_SELECT(none), GOC_EAGAIN);
	int64_t t0 = now_ns();
	CHECK_EQ(GOC_SELECT_UNTIL(none, t0 + 10 * MS), GOC_ETIMEDOUT);
	CHECK(now_ns() - t0 >= 10 * MS);
	for (int round = 0; round < 500; round++) {
		CHECK_EQ(goc_send(ready, &v), 0);
		goc_case cs[] = { goc_case_recv(NULL, &out), goc_case_send(NULL, &v),
		                  goc_case_recv(ready, &out), goc_case_recv(NULL, NULL) };
		CHECK_EQ(GOC_SELECT(cs), 2);
		CHECK_EQ(out, 8);
	}
	goc_chan_release(ready);
}

/* Child mode (argv[1]): a main goroutine that blocks in select {} (or in a
 * select whose cases are all NULL) is the only goroutine: the deadlock
 * detector must report it and exit 2, as Go does. */
static int select_forever_main(int argc, char **argv)
{
	if (strcmp(argv[1], "select-no-cases") == 0) {
		goc_select(NULL, 0);
	} else {
		long v;
		goc_case cs[] = { goc_case_recv(NULL, &v), goc_case_send(NULL, &v) };
		GOC_SELECT(cs);
	}
	return 0; /* not reached: exit 0 would fail the parent's check */
}

static const char *self_path;

static void *run_child(void *mode)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 2);
		execl(self_path, self_path, (const char *)mode, (char *)NULL);
		_exit(127);
	}
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return (void *)-1;
	return (void *)(intptr_t)(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

static void test_select_with_no_cases(void)
{
	CHECK_EQ(goc_try_select(NULL, 0), GOC_EAGAIN);
	int64_t t0 = now_ns();
	CHECK_EQ(goc_select_until(NULL, 0, t0 + 10 * MS), GOC_ETIMEDOUT);
	CHECK(now_ns() - t0 >= 10 * MS);
	CHECK_EQ(goc_select_until(NULL, 0, 0), GOC_ETIMEDOUT);
	/* Blocking forever: the detector ends the child with status 2. */
	CHECK_EQ((intptr_t)goc_blocking(run_child, "select-no-cases"), 2);
	CHECK_EQ((intptr_t)goc_blocking(run_child, "select-null-cases"), 2);
}

static void test_bad_cases_are_einval(void)
{
	goc_chan *c = goc_chan_make(sizeof(long), 1);
	CHECK_EQ(goc_select(NULL, 1), GOC_EINVAL);
	CHECK_EQ(goc_try_select(NULL, 2), GOC_EINVAL);
	goc_case bad[] = { goc_case_recv(c, NULL) };
	bad[0].dir = 77;
	CHECK_EQ(GOC_TRY_SELECT(bad), GOC_EINVAL);
	goc_case nullval[] = { goc_case_send(c, NULL) }; /* elem_size 8 needs a value */
	CHECK_EQ(GOC_TRY_SELECT(nullval), GOC_EINVAL);
	CHECK_EQ(goc_len(c), 0);
	goc_case zero = { 0 };
	CHECK_EQ(goc_try_select(&zero, 1), GOC_EINVAL);
	goc_chan_release(c);
}

/* ---- the same channel in several cases ---------------------------------- */

static void test_same_channel_in_several_cases(void)
{
	goc_chan *c = goc_chan_make(sizeof(long), 1);
	long v = 4, a = 0, b = 0;
	int seen[2] = { 0, 0 };
	for (int round = 0; round < 200; round++) {
		CHECK_EQ(goc_send(c, &v), 0);
		goc_case cs[] = { goc_case_recv(c, &a), goc_case_recv(c, &b) };
		int i = GOC_SELECT(cs);
		CHECK(i == 0 || i == 1);
		seen[i]++;
	}
	/* Each has probability 2^-200 of never being chosen. */
	CHECK(seen[0] > 0 && seen[1] > 0);
	goc_chan_release(c);
}

/* Two selects, each offering to send and to receive on one unbuffered
 * channel, must pair up: one sends, the other receives. */
struct pair_arg { goc_chan *c; long mine, got; int idx; goc_chan *finished; };

static void send_or_recv(void *p)
{
	struct pair_arg *a = p;
	goc_case cs[] = { goc_case_send(a->c, &a->mine), goc_case_recv(a->c, &a->got) };
	a->idx = GOC_SELECT(cs);
	goc_close(a->finished);
}

static void test_selects_on_both_ends_of_one_channel_pair_up(void)
{
	for (int round = 0; round < 100; round++) {
		goc_chan *c = goc_chan_make(sizeof(long), 0);
		struct pair_arg x = { c, 1, -1, -1, goc_chan_make(0, 0) };
		struct pair_arg y = { c, 2, -1, -1, goc_chan_make(0, 0) };
		CHECK_EQ(goc_go(send_or_recv, &x), 0);
		CHECK_EQ(goc_go(send_or_recv, &y), 0);
		CHECK_EQ(goc_recv(x.finished, NULL), GOC_ECLOSED);
		CHECK_EQ(goc_recv(y.finished, NULL), GOC_ECLOSED);
		CHECK(x.idx + y.idx == 1); /* one sent (0), one received (1) */
		if (x.idx == 0)
			CHECK_EQ(y.got, 1);
		else
			CHECK_EQ(x.got, 2);
		goc_chan_release(c);
		goc_chan_release(x.finished);
		goc_chan_release(y.finished);
	}
}

/* ---- a blocked select is woken exactly once ----------------------------- */

enum { WAKE_SENDERS = 4, WAKE_PER_SENDER = 5000 };

struct wake_arg { goc_chan *c; long base; goc_waitgroup *wg; };

static void wake_sender(void *p)
{
	struct wake_arg *a = p;
	for (long i = 1; i <= WAKE_PER_SENDER; i++) {
		long v = a->base + i;
		goc_send(a->c, &v);
	}
	goc_waitgroup_done(a->wg);
}

static void test_blocked_select_is_woken_exactly_once(void)
{
	/* Senders race on three unbuffered channels that one select waits on:
	 * every value sent is received once, and nothing is left behind. */
	goc_chan *ch[3];
	for (int i = 0; i < 3; i++)
		ch[i] = goc_chan_make(sizeof(long), 0);
	goc_waitgroup wg = GOC_WAITGROUP_INIT;
	struct wake_arg args[WAKE_SENDERS];
	long want_sum = 0;
	goc_waitgroup_add(&wg, WAKE_SENDERS);
	for (int s = 0; s < WAKE_SENDERS; s++) {
		args[s] = (struct wake_arg){ ch[s % 3], (long)s * 1000000, &wg };
		for (long i = 1; i <= WAKE_PER_SENDER; i++)
			want_sum += args[s].base + i;
		CHECK_EQ(goc_go(wake_sender, &args[s]), 0);
	}
	long sum = 0, v;
	for (int got = 0; got < WAKE_SENDERS * WAKE_PER_SENDER; got++) {
		goc_case cs[] = { goc_case_recv(ch[0], &v), goc_case_recv(ch[1], &v),
		                  goc_case_recv(ch[2], &v) };
		int i = GOC_SELECT(cs);
		CHECK(i >= 0 && i < 3);
		CHECK(goc_case_ok(&cs[i]));
		sum += v;
	}
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	CHECK_EQ(sum, want_sum);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(goc_try_recv(ch[i], &v), GOC_EAGAIN);
		CHECK_EQ(goc_try_send(ch[i], &v), GOC_EAGAIN);
		goc_chan_release(ch[i]);
	}
}

/* ---- many cases: the allocation path and the heapsort lock order -------- */

static void test_select_over_many_channels(void)
{
	enum { N = 100 };
	goc_chan *ch[N];
	long vals[N] = { 0 };
	goc_case cs[N];
	for (int i = 0; i < N; i++)
		ch[i] = goc_chan_make(sizeof(long), 0);
	for (int target = 0; target < N; target += 7) {
		for (int i = 0; i < N; i++)
			cs[i] = i % 2 ? goc_case_recv(ch[i], &vals[i]) : goc_case_send(ch[i], &vals[i]);
		struct feeder f = { ch[target], 1000 + target, goc_chan_make(0, 0) };
		if (target % 2)
			CHECK_EQ(goc_go(feed_when_parked, &f), 0);
		else
			CHECK_EQ(goc_go(receive_one, &f), 0);
		vals[target] = target % 2 ? -1 : 1000 + target;
		int i = goc_select(cs, N);
		CHECK_EQ(i, target);
		CHECK(goc_case_ok(&cs[i]));
		CHECK_EQ(goc_recv(f.finished, NULL), GOC_ECLOSED);
		CHECK_EQ(target % 2 ? vals[target] : f.v, 1000 + target);
		goc_chan_release(f.finished);
	}
	/* 40 cases (stack records, heapsort order) with duplicates. */
	for (int i = 0; i < 40; i++)
		cs[i] = goc_case_recv(ch[i % 13], &vals[0]);
	CHECK_EQ(goc_try_select(cs, 40), GOC_EAGAIN);
	for (int i = 0; i < N; i++) {
		long v;
		CHECK_EQ(goc_try_send(ch[i], &v), GOC_EAGAIN);
		goc_chan_release(ch[i]);
	}
}

/* ---- foreign threads ---------------------------------------------------- */

struct thread_sel { goc_chan *a, *b; long n; long sum; };

static void *thread_selector(void *p)
{
	struct thread_sel *t = p;
	goc_chan *a = t->a, *b = t->b;
	long v;
	while (a || b) {
		goc_case cs[] = { goc_case_recv(a, &v), goc_case_recv(b, &v) };
		int i = GOC_SELECT(cs);
		if (i < 0)
			return (void *)1;
		if (!goc_case_ok(&cs[i])) {
			if (i == 0)
				a = NULL;
			else
				b = NULL;
			continue;
		}
		t->sum += v;
	}
	return NULL;
}

static void count_to(void *p)
{
	struct thread_sel *t = p;
	for (long i = 1; i <= t->n; i++)
		goc_send(t->a, &i);
	goc_close(t->a);
}

static void *join_thread(void *p)
{
	void *rc = (void *)1;
	if (pthread_join(*(pthread_t *)p, &rc) != 0)
		return (void *)2;
	return rc;
}

static void *thread_count_to(void *p)
{
	struct thread_sel *t = p;
	for (long i = 1; i <= t->n; i++) {
		goc_case cs[] = { goc_case_send(t->a, &i) };
		if (GOC_SELECT(cs) != 0)
			return (void *)1;
	}
	goc_close(t->a);
	return NULL;
}

static void test_foreign_thread_selects_with_goroutines(void)
{
	enum { N = 5000 };
	goc_chan *a = goc_chan_make(sizeof(long), 0), *b = goc_chan_make(sizeof(long), 4);
	struct thread_sel sel = { a, b, 0, 0 };
	struct thread_sel pa = { a, NULL, N, 0 }, pb = { b, NULL, N, 0 };
	pthread_t t, u;
	CHECK_EQ(pthread_create(&t, NULL, thread_selector, &sel), 0);
	CHECK_EQ(goc_go(count_to, &pa), 0);
	CHECK_EQ(pthread_create(&u, NULL, thread_count_to, &pb), 0);
	CHECK(goc_blocking(join_thread, &u) == NULL);
	CHECK(goc_blocking(join_thread, &t) == NULL);
	CHECK_EQ(sel.sum, 2 * ((long)N * (N + 1) / 2));
	goc_chan_release(a);
	goc_chan_release(b);
}

static void *thread_select_timeout(void *p)
{
	goc_chan *c = p;
	long v;
	goc_case cs[] = { goc_case_recv(c, &v), goc_case_recv(NULL, &v) };
	int64_t t0 = now_ns();
	if (GOC_SELECT_UNTIL(cs, t0 + 10 * MS) != GOC_ETIMEDOUT || now_ns() - t0 < 10 * MS)
		return (void *)1;
	return NULL;
}

static void test_foreign_thread_select_deadline(void)
{
	goc_chan *c = goc_chan_make(sizeof(long), 0);
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, thread_select_timeout, c), 0);
	CHECK(goc_blocking(join_thread, &t) == NULL);
	long v = 0;
	CHECK_EQ(goc_try_send(c, &v), GOC_EAGAIN);
	goc_chan_release(c);
}

/* ---- the for-select idiom ----------------------------------------------- */

struct merge_src { goc_chan *out; long from, to; };

static void produce_range(void *p)
{
	struct merge_src *s = p;
	for (long i = s->from; i <= s->to; i++)
		goc_send(s->out, &i);
	goc_close(s->out);
}

/* Merge two inputs until both are closed, disabling each closed input by
 * setting its variable to NULL (Go's nil-channel idiom); stop early when
 * done is closed. */
static long merge_until_done(goc_chan *in1, goc_chan *in2, goc_chan *done, long *count)
{
	long sum = 0, v;
	*count = 0;
	while (in1 || in2) {
		goc_case cs[] = {
			goc_case_recv(done, NULL),
			goc_case_recv(in1, &v),
			goc_case_recv(in2, &v),
		};
		switch (GOC_SELECT(cs)) {
		case 0:
			return sum;
		case 1:
			if (!goc_case_ok(&cs[1])) {
				in1 = NULL;
				continue;
			}
			sum += v;
			break;
		case 2:
			if (!goc_case_ok(&cs[2])) {
				in2 = NULL;
				continue;
			}
			sum += v;
			break;
		default:
			CHECK(!"select failed");
		}
		++*count;
	}
	return sum;
}

static void test_for_select_loop_with_nil_channel_idiom(void)
{
	goc_chan *in1 = goc_chan_make(sizeof(long), 0), *in2 = goc_chan_make(sizeof(long), 3);
	goc_chan *done = goc_chan_make(0, 0);
	struct merge_src s1 = { in1, 1, 1000 }, s2 = { in2, 1001, 3000 };
	CHECK_EQ(goc_go(produce_range, &s1), 0);
	CHECK_EQ(goc_go(produce_range, &s2), 0);
	long count;
	CHECK_EQ(merge_until_done(in1, in2, done, &count), 3000L * 3001 / 2);
	CHECK_EQ(count, 3000);
	/* A closed done channel ends the loop at once. */
	goc_close(done);
	goc_chan *idle = goc_chan_make(sizeof(long), 0);
	CHECK_EQ(merge_until_done(idle, NULL, done, &count), 0);
	CHECK_EQ(count, 0);
	goc_chan_release(in1);
	goc_chan_release(in2);
	goc_chan_release(done);
	goc_chan_release(idle);
}

/* ---- typed, directional channels ---------------------------------------- */

GOC_CHAN_DECLARE(ints, int);
struct point { double x, y; };
GOC_CHAN_DECLARE(points, struct point);

struct gen_arg { ints_tx out; int n; };

static void gen_body(void *p)
{
	struct gen_arg *g = p;
	for (int i = 1; i <= g->n; i++)
		ints_send(g->out, i);
	ints_close(g->out);
	ints_tx_release(g->out);
}

/* The idiomatic generator: it makes the channel, keeps the send end to
 * itself and returns only the receive end. */
static ints_rx count_up(int n)
{
	ints c = ints_make(0);
	struct gen_arg g = { ints_tx_of(c), n };
	ints_retain(c); /* one reference for the generator, one for the caller */
	goc_go_copy(gen_body, &g, sizeof g);
	return ints_rx_of(c);
}

static void test_typed_generator_returns_receive_end(void)
{
	ints_rx r = count_up(100);
	int v, sum = 0, n = 0;
	while (ints_recv(r, &v) == 0) {
		sum += v;
		n++;
	}
	CHECK_EQ(n, 100);
	CHECK_EQ(sum, 5050);
	CHECK_EQ(v, 0);
	ints_rx_release(r);
}

static void test_typed_strict_macros_and_cases(void)
{
	points p = points_make(2);
	points_tx tx = points_tx_of(p);
	points_rx rx = points_rx_of(p);
	struct point a = { 1.5, -2 }, b;
	CHECK_EQ(GOC_SEND(tx, a), 0);
	CHECK_EQ(GOC_TRY_SEND(p, a), 0);
	CHECK_EQ(points_try_send(tx, a), GOC_EAGAIN);
	CHECK_EQ(points_len(p), 2);
	CHECK_EQ(points_cap(p), 2);
	CHECK_EQ(GOC_RECV(rx, &b), 0);
	CHECK(b.x == 1.5 && b.y == -2);
	CHECK_EQ(GOC_TRY_RECV(p, &b), 0);
	CHECK_EQ(points_try_recv(rx, &b), GOC_EAGAIN);
	goc_case cs[] = { GOC_CASE_SEND(tx, &a), points_case_recv(rx, &b) };
	CHECK_EQ(GOC_SELECT(cs), 0);
	const struct point *cp = &a;
	goc_case cs2[] = { points_case_recv(rx, &b), GOC_CASE_SEND(tx, cp) };
	int i = GOC_SELECT(cs2); /* one value buffered: both cases are ready */
	CHECK(i == 0 || i == 1);
	CHECK_EQ(points_close(tx), 0);
	CHECK_EQ(points_send_until(tx, a, 0), GOC_ECLOSED);
	int left = 0;
	while (points_recv_until(rx, &b, 0) == 0)
		left++;
	CHECK_EQ(left, i == 0 ? 0 : 2);
	CHECK(b.x == 0 && b.y == 0);
	points_release(p);
}

int main_test(int argc, char **argv)
{
	RUN(test_select_runs_the_only_ready_case);
	RUN(test_select_send_case_fills_room_in_buffer);
	RUN(test_try_select_takes_default_and_leaves_nothing_queued);
	RUN(test_select_until_times_out_and_leaves_nothing_queued);
	RUN(test_select_blocks_until_a_case_can_run);
	RUN(test_blocked_send_case_hands_value_to_receiver);
	RUN(test_select_recv_on_closed_is_ready_with_zero);
	RUN(test_select_send_on_closed_reports_not_ok);
	RUN(test_close_wakes_a_parked_select_exactly_once);
	RUN(test_null_channel_cases_are_never_ready);
	RUN(test_select_with_no_cases);
	RUN(test_bad_cases_are_einval);
	RUN(test_same_channel_in_several_cases);
	RUN(test_selects_on_both_ends_of_one_channel_pair_up);
	RUN(test_blocked_select_is_woken_exactly_once);
	RUN(test_select_over_many_channels);
	RUN(test_foreign_thread_selects_with_goroutines);
	RUN(test_foreign_thread_select_deadline);
	RUN(test_for_select_loop_with_nil_channel_idiom);
	RUN(test_typed_generator_returns_receive_end);
	RUN(test_typed_strict_macros_and_cases);
	return 0;
}

int main(int argc, char **argv)
{
	self_path = argv[0];
	if (argc > 1)
		return goc_main(select_forever_main, argc, argv);
	return goc_main(main_test, argc, argv);
}
