/* test_ctx.c - contexts: background, cancel, errors, done channels, values,
 * deadlines and their inheritance, cancellation reaching 10,000
 * descendants (wide trees and a 10,000-deep chain), release detaching from
 * long-lived parents, release and cancel racing on several workers, foreign
 * threads, goc_ctx_sleep, bad input. Runs with GOC_PROCS=1 and 2.
 * ctest: TIMEOUT 60 */
#include "test_time_util.h"

#include <pthread.h>
#include <stdatomic.h>

/* Keys are compared by address: three distinct objects. */
static const char key_user = 0, key_req = 0, key_absent = 0;

static bool is_closed(goc_chan *c)
{
	/* A signal channel is only ever closed, never sent on: a receive that
	 * succeeds at once means closed. */
	return goc_try_recv(c, NULL) == GOC_ECLOSED;
}

static void test_background_is_never_cancelled(void)
{
	goc_ctx *bg = goc_ctx_background();
	CHECK(bg != NULL);
	CHECK(bg == goc_ctx_background());
	CHECK_EQ(goc_ctx_err(bg), 0);
	CHECK(goc_ctx_done(bg) == NULL); /* Go's nil Done: never ready in select */
	int64_t d = 0;
	CHECK(!goc_ctx_deadline(bg, &d));
	CHECK_EQ(d, GOC_NO_DEADLINE);
	CHECK_EQ(goc_ctx_cancel(bg), GOC_EINVAL);
	CHECK(goc_ctx_value(bg, "k") == NULL);
	goc_ctx_retain(bg);
	goc_ctx_release(bg);
	goc_ctx_release(bg); /* no-ops: static */
	CHECK_EQ(goc_ctx_err(bg), 0);
}

static void test_cancel_closes_done_and_sets_err_once(void)
{
	goc_ctx *c = goc_ctx_with_cancel(goc_ctx_background());
	CHECK(c != NULL);
	goc_chan *done = goc_ctx_done(c);
	CHECK(done != NULL);
	CHECK(goc_ctx_done(c) == done); /* one channel per context */
	CHECK_EQ(goc_ctx_err(c), 0);
	CHECK_EQ(goc_try_recv(done, NULL), GOC_EAGAIN);
	CHECK(!goc_ctx_deadline(c, NULL));
	CHECK_EQ(goc_ctx_cancel(c), 0);
	CHECK_EQ(goc_ctx_err(c), GOC_ECANCELED);
	CHECK(is_closed(done));
	CHECK_EQ(goc_ctx_cancel(c), 0); /* idempotent */
	CHECK_EQ(goc_ctx_err(c), GOC_ECANCELED);
	goc_ctx_release(c);
}

/* done made after the cancellation is born closed. */
static void test_done_requested_after_cancel_is_closed(void)
{
	goc_ctx *c = goc_ctx_with_cancel(goc_ctx_background());
	goc_ctx_cancel(c);
	CHECK(is_closed(goc_ctx_done(c)));
	goc_ctx_release(c);
}

static void test_child_of_cancelled_parent_is_born_cancelled(void)
{
	goc_ctx *p = goc_ctx_with_timeout(goc_ctx_background(), -1);
	CHECK_EQ(goc_ctx_err(p), GOC_ETIMEDOUT);
	goc_ctx *c = goc_ctx_with_cancel(p);
	CHECK_EQ(goc_ctx_err(c), GOC_ETIMEDOUT); /* the parent's error */
	CHECK(is_closed(goc_ctx_done(c)));
	goc_ctx *v = goc_ctx_with_value(p, "k", "v");
	CHECK_EQ(goc_ctx_err(v), GOC_ETIMEDOUT);
	goc_ctx_release(v);
	goc_ctx_release(c);
	goc_ctx_release(p);
}

/* Cancelling a child leaves its parent and siblings alone. */
static void test_cancel_does_not_go_up_or_sideways(void)
{
	goc_ctx *p = goc_ctx_with_cancel(goc_ctx_background());
	goc_ctx *a = goc_ctx_with_cancel(p), *b = goc_ctx_with_cancel(p);
	goc_ctx *a1 = goc_ctx_with_cancel(a);
	goc_ctx_cancel(a);
	CHECK_EQ(goc_ctx_err(a), GOC_ECANCELED);
	CHECK_EQ(goc_ctx_err(a1), GOC_ECANCELED);
	CHECK_EQ(goc_ctx_err(p), 0);
	CHECK_EQ(goc_ctx_err(b), 0);
	goc_ctx_release(a1);
	goc_ctx_release(a);
	goc_ctx_release(b);
	goc_ctx_release(p);
}

/* Releasing the last reference is Go's `defer cancel()`: it cancels (and
 * so cancels the descendants someone else still holds). */
static void test_last_release_cancels_descendants(void)
{
	goc_ctx *p = goc_ctx_with_cancel(goc_ctx_background());
	goc_ctx *c = goc_ctx_with_cancel(p);
	goc_ctx *v = goc_ctx_with_value(c, "k", "v");
	goc_ctx_retain(p);
	goc_ctx_release(p); /* one reference left: nothing happens */
	CHECK_EQ(goc_ctx_err(c), 0);
	goc_ctx_release(p);
	CHECK_EQ(goc_ctx_err(c), GOC_ECANCELED);
	CHECK_EQ(goc_ctx_err(v), GOC_ECANCELED);
	CHECK(is_closed(goc_ctx_done(v)));
	CHECK(goc_ctx_value(v, &key_absent) == NULL);
	goc_ctx_release(v);
	goc_ctx_release(c);
}

/* ---- values ------------------------------------------------------------- */

static void test_values_found_up_the_chain_by_key_identity(void)
{
	int user = 1, req = 2, shadow = 3;
	goc_ctx *a = goc_ctx_with_value(goc_ctx_background(), &key_user, &user);
	goc_ctx *b = goc_ctx_with_cancel(a);
	goc_ctx *c = goc_ctx_with_value(b, &key_req, &req);
	goc_ctx *d = goc_ctx_with_timeout(c, GOC_SEC(100));
	goc_ctx *e = goc_ctx_with_value(d, &key_user, &shadow);
	CHECK(goc_ctx_value(e, &key_user) == &shadow); /* nearest wins */
	CHECK(goc_ctx_value(d, &key_user) == &user);
	CHECK(goc_ctx_value(e, &key_req) == &req);
	CHECK(goc_ctx_value(b, &key_req) == NULL);      /* not visible upwards */
	CHECK(goc_ctx_value(e, &key_absent) == NULL);
	CHECK(goc_ctx_value(NULL, &key_user) == NULL);
	/* Keys are addresses: equal contents at another address differ. */
	CHECK(&key_user != &key_req);
	CHECK(goc_ctx_value(c, &key_req) == &req);
	/* A value context under background alone can never be cancelled. */
	CHECK(goc_ctx_done(a) == NULL);
	CHECK_EQ(goc_ctx_cancel(a), GOC_EINVAL);
	CHECK_EQ(goc_ctx_cancel(e), GOC_EINVAL);
	/* A value context shares its canceller's done channel. */
	CHECK(goc_ctx_done(e) == goc_ctx_done(d));
	CHECK(goc_ctx_done(c) == goc_ctx_done(b));
	/* Released out of order: the chain stays valid for what is held. */
	goc_ctx_release(a);
	goc_ctx_release(c);
	CHECK(goc_ctx_value(e, &key_req) == &req);
	goc_ctx_release(b); /* cancels b, d, e */
	CHECK_EQ(goc_ctx_err(e), GOC_ECANCELED);
	CHECK(goc_ctx_value(e, &key_user) == &shadow);
	goc_ctx_release(d);
	goc_ctx_release(e);
}

/* ---- deadlines ----------------------------------------------------------- */

static void test_deadline_cancels_with_timedout_never_early(void)
{
	int64_t start = goc_now();
	goc_ctx *c = goc_ctx_with_timeout(goc_ctx_background(), GOC_MS(10));
	int64_t dl;
	CHECK(goc_ctx_deadline(c, &dl));
	CHECK(dl >= start + GOC_MS(10) && dl <= goc_now() + GOC_MS(10));
	CHECK_EQ(goc_ctx_err(c), 0);
	CHECK_EQ(goc_recv(goc_ctx_done(c), NULL), GOC_ECLOSED);
	int64_t now = goc_now();
	CHECK(now >= dl);
	CHECK(now - dl <= LATE_BOUND);
	CHECK_EQ(goc_ctx_err(c), GOC_ETIMEDOUT);
	/* Cancel after the deadline keeps the first error. */
	goc_ctx_cancel(c);
	CHECK_EQ(goc_ctx_err(c), GOC_ETIMEDOUT);
	goc_ctx_release(c);
}

static void test_deadline_in_past_is_cancelled_at_once(void)
{
	goc_ctx *c = goc_ctx_with_deadline(goc_ctx_background(), goc_now() - 1);
	CHECK_EQ(goc_ctx_err(c), GOC_ETIMEDOUT);
	CHECK(is_closed(goc_ctx_done(c)));
	goc_ctx_release(c);
	c = goc_ctx_with_timeout(goc_ctx_background(), 0);
	CHECK_EQ(goc_ctx_err(c), GOC_ETIMEDOUT);
	goc_ctx_release(c);
}

/* A child never outlives its parent's deadline: a later deadline is capped
 * at the parent's, and the parent's firing times the child out. An earlier
 * child deadline fires alone. */
static void test_deadline_inherited_and_capped_by_parent(void)
{
	goc_ctx *p = goc_ctx_with_timeout(goc_ctx_background(), GOC_MS(100));
	int64_t pd, cd;
	CHECK(goc_ctx_deadline(p, &pd));
	goc_ctx *late = goc_ctx_with_timeout(p, GOC_SEC(60));
	CHECK(goc_ctx_deadline(late, &cd));
	CHECK_EQ(cd, pd);
	goc_ctx *plain = goc_ctx_with_cancel(p);
	CHECK(goc_ctx_deadline(plain, &cd));
	CHECK_EQ(cd, pd);
	goc_ctx *val = goc_ctx_with_value(p, &key_user, NULL);
	CHECK(goc_ctx_deadline(val, &cd));
	CHECK_EQ(cd, pd);
	goc_ctx *early = goc_ctx_with_timeout(p, GOC_MS(5));
	CHECK(goc_ctx_deadline(early, &cd));
	CHECK(cd < pd);

	CHECK_EQ(goc_recv(goc_ctx_done(early), NULL), GOC_ECLOSED);
	CHECK_EQ(goc_ctx_err(early), GOC_ETIMEDOUT);
	/* The early child's firing did not cancel its parent: p and late are
	 * live, unless (a slow, loaded machine) p's own deadline has passed
	 * by now; the clock is read after the errors, so a cancellation seen
	 * before the deadline fails. */
	int perr = goc_ctx_err(p), lerr = goc_ctx_err(late);
	if (goc_now() < pd) {
		CHECK_EQ(perr, 0);
		CHECK_EQ(lerr, 0);
	}

	CHECK_EQ(goc_recv(goc_ctx_done(late), NULL), GOC_ECLOSED);
	CHECK(goc_now() >= pd);
	CHECK_EQ(goc_ctx_err(p), GOC_ETIMEDOUT);
	CHECK_EQ(goc_ctx_err(late), GOC_ETIMEDOUT);
	CHECK_EQ(goc_ctx_err(plain), GOC_ETIMEDOUT);
	CHECK_EQ(goc_ctx_err(val), GOC_ETIMEDOUT);
	goc_ctx_release(early);
	goc_ctx_release(val);
	goc_ctx_release(plain);
	goc_ctx_release(late);
	goc_ctx_release(p);
}

/* Explicit cancel before the deadline: ECANCELED, and the timer is gone
 * (the context is released long before it would have fired). */
static void test_cancel_before_deadline(void)
{
	for (int i = 0; i < 1000; i++) {
		goc_ctx *c = goc_ctx_with_timeout(goc_ctx_background(), GOC_SEC(3600));
		if (i % 2)
			goc_ctx_cancel(c);
		goc_ctx_release(c);
	}
	goc_ctx *c = goc_ctx_with_timeout(goc_ctx_background(), GOC_MS(5));
	goc_ctx_cancel(c);
	CHECK_EQ(goc_ctx_err(c), GOC_ECANCELED);
	goc_sleep(GOC_MS(10));
	CHECK_EQ(goc_ctx_err(c), GOC_ECANCELED);
	goc_ctx_release(c);
}

/* ---- propagation to 10,000 descendants ---------------------------------- */

/* 10,000 descendants; 2,000 under sanitizers (TSan makes each goroutine
 * start some 20 times dearer). */
#define TREE_FANOUT 100
#define TREE_N SCALE(10000, 2000)
static goc_waitgroup watchers_wg;
static _Atomic int watchers_ok;

static void watcher(void *arg)
{
	goc_ctx *c = arg;
	goc_case cs[] = {goc_case_recv(goc_ctx_done(c), NULL)};
	CHECK_EQ(GOC_SELECT(cs), 0);
	int err = goc_ctx_err(c);
	if (err == GOC_ECANCELED || err == GOC_ETIMEDOUT)
		atomic_fetch_add(&watchers_ok, 1);
	goc_ctx_release(c); /* the watcher's own reference */
	goc_waitgroup_done(&watchers_wg);
}

/* root -> 100 children -> 99 grandchildren each: 10,000 descendants, mixed
 * kinds, each watched by a goroutine; one cancel of the root ends them all. */
static void test_cancel_reaches_10000_watched_descendants(void)
{
	goc_ctx *root = goc_ctx_with_cancel(goc_ctx_background());
	goc_ctx **all = calloc(TREE_N, sizeof *all);
	int n = 0;
	for (int i = 0; i < TREE_FANOUT; i++) {
		goc_ctx *c = goc_ctx_with_cancel(root);
		all[n++] = c;
		for (int j = 0; j < TREE_N / TREE_FANOUT - 1; j++) {
			goc_ctx *g;
			switch (j % 3) {
			case 0: g = goc_ctx_with_cancel(c); break;
			case 1: g = goc_ctx_with_timeout(c, GOC_SEC(3600)); break;
			default: g = goc_ctx_with_value(c, &key_req, NULL); break;
			}
			CHECK(g != NULL);
			all[n++] = g;
		}
	}
	CHECK_EQ(n, TREE_N);
	atomic_store(&watchers_ok, 0);
	goc_waitgroup_add(&watchers_wg, n);
	for (int i = 0; i < n; i++) {
		goc_ctx_retain(all[i]);
		CHECK_EQ(goc_go(watcher, all[i]), 0);
	}
	goc_yield();
	for (int i = 0; i < n; i++)
		CHECK_EQ(goc_ctx_err(all[i]), 0);
	CHECK_EQ(goc_ctx_cancel(root), 0);
	/* Synchronous: every descendant is cancelled when cancel returns. */
	for (int i = 0; i < n; i++)
		CHECK_EQ(goc_ctx_err(all[i]), GOC_ECANCELED);
	CHECK_EQ(goc_waitgroup_wait_until(&watchers_wg, goc_now() + GOC_SEC(60)), 0);
	CHECK_EQ(atomic_load(&watchers_ok), n);
	for (int i = n - 1; i >= 0; i--)
		goc_ctx_release(all[i]);
	goc_ctx_release(root);
	free(all);
}

/* A chain 10,000 deep (cancel and value links alternating): cancellation
 * and value lookup go all the way without recursion; releasing in either
 * order frees it all (ASan). */
static void test_10000_deep_chain(void)
{
	enum { DEPTH = 10000 };
	for (int order = 0; order < 2; order++) {
		goc_ctx **chain = calloc(DEPTH + 1, sizeof *chain);
		int root_val = 42;
		chain[0] = goc_ctx_with_value(goc_ctx_background(), &key_user, &root_val);
		goc_ctx *top = goc_ctx_with_cancel(chain[0]);
		chain[1] = top;
		for (int i = 2; i <= DEPTH; i++)
			chain[i] = i % 2 ? goc_ctx_with_value(chain[i - 1], &key_req, NULL)
			                 : goc_ctx_with_timeout(chain[i - 1], GOC_SEC(3600) - i);
		goc_ctx *leaf = chain[DEPTH];
		CHECK(goc_ctx_value(leaf, &key_user) == &root_val);
		CHECK_EQ(goc_ctx_err(leaf), 0);
		goc_chan *done = goc_ctx_done(leaf);
		CHECK_EQ(goc_ctx_cancel(top), 0);
		CHECK_EQ(goc_ctx_err(leaf), GOC_ECANCELED);
		CHECK(is_closed(done));
		if (order == 0) {
			for (int i = 0; i <= DEPTH; i++)
				goc_ctx_release(chain[i]);
		} else {
			for (int i = DEPTH; i >= 0; i--)
				goc_ctx_release(chain[i]);
		}
		free(chain);
	}
}

/* A deadline with a subtree under it: the timer callback cancels the
 * context and hands the subtree to a goroutine; all get ETIMEDOUT. */
static void test_deadline_reaches_watched_subtree(void)
{
	enum { N = SCALE(2000, 500) };
	goc_ctx *p = goc_ctx_with_timeout(goc_ctx_background(), GOC_MS(10));
	atomic_store(&watchers_ok, 0);
	goc_waitgroup_add(&watchers_wg, N);
	goc_ctx *kids[N];
	for (int i = 0; i < N; i++) {
		goc_ctx *c = goc_ctx_with_cancel(p);
		goc_ctx *g = goc_ctx_with_cancel(c); /* grandchildren too */
		kids[i] = c;
		CHECK_EQ(goc_go(watcher, g), 0); /* the watcher owns g */
	}
	CHECK_EQ(goc_waitgroup_wait_until(&watchers_wg, goc_now() + GOC_SEC(20)), 0);
	CHECK_EQ(atomic_load(&watchers_ok), N);
	CHECK_EQ(goc_ctx_err(p), GOC_ETIMEDOUT);
	for (int i = 0; i < N; i++) {
		CHECK_EQ(goc_ctx_err(kids[i]), GOC_ETIMEDOUT);
		goc_ctx_release(kids[i]);
	}
	goc_ctx_release(p);
}

/* ---- release and cancel under concurrency -------------------------------- */

static goc_ctx *shared_root;
static goc_waitgroup churn_wg;

static void churn(void *arg)
{
	intptr_t k = (intptr_t)arg;
	for (int i = 0; i < SCALE(20000, 3000); i++) {
		goc_ctx *c;
		switch ((i + k) % 4) {
		case 0: c = goc_ctx_with_cancel(shared_root); break;
		case 1: c = goc_ctx_with_timeout(shared_root, (i % 50) * 1000); break;
		case 2: c = goc_ctx_with_timeout(shared_root, GOC_SEC(3600)); break;
		default: c = goc_ctx_with_value(shared_root, &key_req, NULL); break;
		}
		CHECK(c != NULL);
		goc_ctx *g = goc_ctx_with_cancel(c);
		if (i % 3 == 0)
			goc_ctx_done(g);
		if (i % 5 == 0)
			goc_ctx_cancel(c);
		if (i % 64 == 0)
			goc_yield();
		/* Release in both orders. */
		if (i % 2) {
			goc_ctx_release(g);
			goc_ctx_release(c);
		} else {
			goc_ctx_release(c);
			if ((i + k) % 4 != 3) /* c's release cancelled g (not a value c's) */
				CHECK(goc_ctx_err(g) != 0);
			goc_ctx_release(g);
		}
	}
	goc_waitgroup_done(&churn_wg);
}

/* Workers derive and release short-lived children of one long-lived root
 * as fast as they can, with deadlines firing meanwhile: the root ends with
 * no children (its cancel below walks the list: ASan would see a dangling
 * one) and nothing leaks. */
static void test_short_children_of_long_lived_parent_churn(void)
{
	shared_root = goc_ctx_with_cancel(goc_ctx_background());
	goc_waitgroup_add(&churn_wg, 4);
	for (intptr_t k = 0; k < 4; k++)
		CHECK_EQ(goc_go(churn, (void *)k), 0);
	CHECK_EQ(goc_waitgroup_wait_until(&churn_wg, goc_now() + GOC_SEC(30)), 0);
	CHECK_EQ(goc_ctx_err(shared_root), 0);
	goc_ctx_cancel(shared_root);
	goc_ctx_release(shared_root);
}

/* Cancelling the root while workers derive and release under it. */
static goc_waitgroup race_wg;

static void derive_and_release(void *arg)
{
	goc_ctx *root = arg;
	for (int i = 0; i < SCALE(2000, 300); i++) {
		goc_ctx *c = goc_ctx_with_cancel(root);
		goc_ctx *g = goc_ctx_with_timeout(c, (i % 20) * 1000);
		/* Seeing the root cancelled does not mean the cancel has reached
		 * g yet (as in Go, a parent's err is set before its children are
		 * cancelled); it must reach it promptly. */
		if (goc_ctx_err(root))
			CHECK_EQ(goc_recv_until(goc_ctx_done(g), NULL, goc_now() + GOC_SEC(10)), GOC_ECLOSED);
		goc_ctx_release(c);
		goc_ctx_release(g);
	}
	goc_ctx_release(root);
	goc_waitgroup_done(&race_wg);
}

static void test_cancel_races_derive_and_release(void)
{
	for (int round = 0; round < SCALE(20, 5); round++) {
		goc_ctx *root = goc_ctx_with_cancel(goc_ctx_background());
		goc_waitgroup_add(&race_wg, 3);
		for (int k = 0; k < 3; k++) {
			goc_ctx_retain(root);
			CHECK_EQ(goc_go(derive_and_release, root), 0);
		}
		goc_sleep((round % 4) * 200 * 1000);
		goc_ctx_cancel(root);
		goc_ctx_release(root);
		CHECK_EQ(goc_waitgroup_wait(&race_wg), 0);
	}
}

/* ---- goc_ctx_sleep, foreign threads -------------------------------------- */

static void cancel_later(void *arg)
{
	goc_sleep(GOC_MS(5));
	goc_ctx_cancel(arg);
	goc_ctx_release(arg);
}

static void test_ctx_sleep_ends_early_only_on_cancel(void)
{
	int64_t start = goc_now();
	CHECK_EQ(goc_ctx_sleep(goc_ctx_background(), GOC_MS(3)), 0);
	CHECK(goc_now() - start >= GOC_MS(3));
	goc_ctx *c = goc_ctx_with_cancel(goc_ctx_background());
	start = goc_now();
	CHECK_EQ(goc_ctx_sleep(c, GOC_MS(2)), 0);
	CHECK(goc_now() - start >= GOC_MS(2));
	goc_ctx_retain(c);
	CHECK_EQ(goc_go(cancel_later, c), 0);
	start = goc_now();
	CHECK_EQ(goc_ctx_sleep(c, GOC_SEC(60)), GOC_ECANCELED);
	CHECK(goc_now() - start < GOC_SEC(10));
	CHECK_EQ(goc_ctx_sleep(c, GOC_SEC(60)), GOC_ECANCELED); /* at once now */
	goc_ctx_release(c);
	goc_ctx *t = goc_ctx_with_timeout(goc_ctx_background(), GOC_MS(3));
	CHECK_EQ(goc_ctx_sleep(t, GOC_SEC(60)), GOC_ETIMEDOUT);
	goc_ctx_release(t);
}

static void *foreign_waiter(void *arg)
{
	goc_ctx *c = arg;
	/* Blocks this thread (not a goroutine) until the cancel. */
	CHECK_EQ(goc_recv(goc_ctx_done(c), NULL), GOC_ECLOSED);
	CHECK_EQ(goc_ctx_err(c), GOC_ECANCELED);
	goc_ctx *child = goc_ctx_with_timeout(c, GOC_MS(1));
	CHECK_EQ(goc_ctx_err(child), GOC_ECANCELED);
	goc_ctx_release(child);
	goc_ctx_release(c);
	return NULL;
}

static void *join_thread(void *arg)
{
	pthread_join(*(pthread_t *)arg, NULL);
	return NULL;
}

static void test_foreign_thread_waits_on_done(void)
{
	goc_ctx *c = goc_ctx_with_cancel(goc_ctx_background());
	goc_ctx_done(c);
	goc_ctx_retain(c);
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, foreign_waiter, c), 0);
	goc_sleep(GOC_MS(2));
	goc_ctx_cancel(c);
	goc_blocking(join_thread, &th);
	goc_ctx_release(c);
}

static void test_bad_input_is_an_error_not_a_crash(void)
{
	CHECK(goc_ctx_with_cancel(NULL) == NULL);
	CHECK_EQ(last_errno(), EINVAL);
	CHECK(goc_ctx_with_deadline(NULL, 0) == NULL);
	CHECK(goc_ctx_with_timeout(NULL, GOC_SEC(1)) == NULL);
	CHECK(goc_ctx_with_value(NULL, &key_user, NULL) == NULL);
	CHECK_EQ(goc_ctx_err(NULL), GOC_EINVAL);
	CHECK_EQ(goc_ctx_cancel(NULL), GOC_EINVAL);
	CHECK(goc_ctx_done(NULL) == NULL);
	CHECK(!goc_ctx_deadline(NULL, NULL));
	CHECK_EQ(goc_ctx_sleep(NULL, 1), GOC_EINVAL);
	goc_ctx_retain(NULL);
	goc_ctx_release(NULL);
}

/* ---- simulation mode (goc/testing.h) -------------------------------------- */

/* Exit status 0 when deadlines were measured on goc_now's clock. */
static int sim_deadline_program(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	/* A deadline reached on the virtual clock: cancelled at once, before
	 * any timer could fire. */
	goc_ctx *c = goc_ctx_with_deadline(goc_ctx_background(), goc_now());
	CHECK_EQ(goc_ctx_err(c), GOC_ETIMEDOUT);
	goc_ctx_release(c);
	/* A future one fires exactly at the virtual deadline. */
	int64_t t0 = goc_now();
	c = goc_ctx_with_timeout(goc_ctx_background(), GOC_MS(5));
	CHECK_EQ(goc_ctx_err(c), 0);
	CHECK_EQ(goc_recv(goc_ctx_done(c), NULL), GOC_ECLOSED);
	CHECK_EQ(goc_now() - t0, GOC_MS(5));
	CHECK_EQ(goc_ctx_err(c), GOC_ETIMEDOUT);
	goc_ctx_release(c);
	return 0;
}

/* Before any runtime starts in this process (goc_sim_fork). */
static void test_deadlines_on_the_virtual_clock_in_simulation(void)
{
	check_sim_seeds(sim_deadline_program, "test_ctx");
}

static int suite(int argc, char **argv)
{
	RUN(test_background_is_never_cancelled);
	RUN(test_cancel_closes_done_and_sets_err_once);
	RUN(test_done_requested_after_cancel_is_closed);
	RUN(test_child_of_cancelled_parent_is_born_cancelled);
	RUN(test_cancel_does_not_go_up_or_sideways);
	RUN(test_last_release_cancels_descendants);
	RUN(test_values_found_up_the_chain_by_key_identity);
	RUN(test_deadline_cancels_with_timedout_never_early);
	RUN(test_deadline_in_past_is_cancelled_at_once);
	RUN(test_deadline_inherited_and_capped_by_parent);
	RUN(test_cancel_before_deadline);
	RUN(test_cancel_reaches_10000_watched_descendants);
	RUN(test_10000_deep_chain);
	RUN(test_deadline_reaches_watched_subtree);
	RUN(test_short_children_of_long_lived_parent_churn);
	RUN(test_cancel_races_derive_and_release);
	RUN(test_ctx_sleep_ends_early_only_on_cancel);
	RUN(test_foreign_thread_waits_on_done);
	RUN(test_bad_input_is_an_error_not_a_crash);
	return 0;
}

int main(int argc, char **argv)
{
	RUN(test_deadlines_on_the_virtual_clock_in_simulation);
	return run_suite(suite, argc, argv, 60);
}
