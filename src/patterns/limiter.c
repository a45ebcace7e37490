/* limiter.c - goc_limiter: token buckets with reservations (after Go's
 * golang.org/x/time/rate), combinable into multi-tier limiters.
 *
 * A bucket (leaf) has `tokens` as of time `last`; it gains rate tokens per
 * second up to burst. Taking n tokens subtracts n, possibly going negative:
 * the taker then owes -tokens and may act once they have accrued, at
 * now + (-tokens) / rate, its "time to act". Reservations are therefore
 * served in the order they were made. `last_event` is the latest time to
 * act handed out; cancelling a reservation gives back only the tokens no
 * later reservation has been scheduled on: n minus the tokens that accrue
 * between its time to act and last_event (Go's rate.Reservation.Cancel).
 *
 * A combined limiter (goc_limiter_all) holds the flattened, de-duplicated
 * set of its leaves (references). An event reserves on every leaf, one at a
 * time, and acts at the latest of their times to act; if any leaf cannot
 * grant in time, the reservations already made are cancelled. Leaves are
 * never locked two at a time, so combinations sharing leaves in any order
 * cannot deadlock.
 *
 * Locking: each leaf's `lock` (a runtime lock, never held across a wait)
 * guards tokens, last and last_event; rate and burst are immutable. The
 * refcount is atomic; `leaves` of a combined limiter is immutable.
 */
#include "pat.h"

#include <math.h> /* INFINITY, isinf (macros: no libm) */
#include <stdatomic.h>

#define LEAVES_ON_STACK 16

struct goc_limiter {
	_Atomic uint32_t refs;
	goc__lock lock;             /* leaf: guards the three fields below */
	double tokens;
	int64_t last;               /* tokens is as of this time */
	int64_t last_event;         /* latest time to act handed out */
	double rate;                /* tokens per second; immutable */
	double burst;               /* immutable */
	size_t nleaves;             /* 0: a leaf; else a combination of: */
	goc_limiter **leaves;
};

typedef struct reservation {
	goc_limiter *leaf;
	int64_t act;                /* time to act */
	double tokens;              /* 0: nothing reserved */
} reservation;

/* ---- leaf arithmetic (lock held) ----------------------------------------- */

static int64_t duration_of(const goc_limiter *l, double tokens)
{
	if (tokens <= 0)
		return 0;
	double ns = tokens / l->rate * 1e9;
	if (ns >= (double)(INT64_MAX / 4))
		return INT64_MAX / 4; /* "never", without overflowing now + it */
	int64_t whole = (int64_t)ns;
	return (double)whole < ns ? whole + 1 : whole; /* round up: never early */
}

static double tokens_of(const goc_limiter *l, int64_t ns)
{
	return ns <= 0 ? 0.0 : (double)ns * 1e-9 * l->rate;
}

/* The tokens at now (not stored). */
static double tokens_at(const goc_limiter *l, int64_t now)
{
	double t = l->tokens + tokens_of(l, now - l->last);
	return t > l->burst ? l->burst : t;
}

static void advance(goc_limiter *l, int64_t now)
{
	if (now < l->last)
		return; /* a reservation made at a later now got here first */
	l->tokens = tokens_at(l, now);
	l->last = now;
}

/* Take n tokens from leaf l if its time to act is within max_wait of now.
 * Fills r; false (nothing taken) otherwise. */
static bool leaf_reserve(goc_limiter *l, double n, int64_t now, int64_t max_wait, reservation *r)
{
	goc__lock_acquire(&l->lock);
	advance(l, now);
	double left = l->tokens - n;
	int64_t wait = duration_of(l, -left);
	bool ok = wait <= max_wait;
	if (ok) {
		l->tokens = left;
		r->leaf = l;
		r->act = now + wait;
		r->tokens = n;
		if (r->act > l->last_event)
			l->last_event = r->act;
	}
	goc__lock_release(&l->lock);
	return ok;
}

/* Give back what no later reservation depends on (Go's CancelAt). */
static void leaf_cancel(reservation *r, int64_t now)
{
	goc_limiter *l = r->leaf;
	if (r->tokens == 0 || r->act < now)
		return; /* acted already */
	goc__lock_acquire(&l->lock);
	double restore = r->tokens - tokens_of(l, l->last_event - r->act);
	if (restore > 0) {
		advance(l, now);
		l->tokens += restore;
		if (l->tokens > l->burst)
			l->tokens = l->burst;
		if (r->act == l->last_event) {
			int64_t prev = r->act - duration_of(l, r->tokens);
			if (prev >= now)
				l->last_event = prev;
		}
	}
	goc__lock_release(&l->lock);
	r->tokens = 0;
}

/* ---- reservations over every leaf ----------------------------------------- */

static goc_limiter *const *leaves_of(goc_limiter *const *self, size_t *n)
{
	const goc_limiter *l = *self;
	if (l->nleaves == 0) {
		*n = 1;
		return self;
	}
	*n = l->nleaves;
	return l->leaves;
}

/* Reserve tokens on every leaf, acting within max_wait: 0 and the time to
 * act in *act, or GOC_ETIMEDOUT (nothing reserved). rs has a slot per leaf. */
static int reserve_all(goc_limiter *const *leaves, size_t n, double tokens, int64_t now,
                       int64_t max_wait, reservation *rs, int64_t *act)
{
	*act = now;
	for (size_t i = 0; i < n; i++) {
		if (!leaf_reserve(leaves[i], tokens, now, max_wait, &rs[i])) {
			while (i-- > 0)
				leaf_cancel(&rs[i], now);
			return GOC_ETIMEDOUT;
		}
		if (rs[i].act > *act)
			*act = rs[i].act;
	}
	return 0;
}

/* ---- public --------------------------------------------------------------- */

goc_limiter *goc_limiter_new(double rate, int64_t burst)
{
	if (!(rate > 0) || isinf(rate) || burst < 1)
		return goc__pat_fail(EINVAL);
	goc_limiter *l = calloc(1, sizeof *l);
	if (!l)
		return goc__pat_fail(ENOMEM);
	atomic_init(&l->refs, 1);
	l->rate = rate;
	l->burst = (double)burst;
	l->tokens = l->burst; /* starts full */
	l->last = l->last_event = goc_now();
	return l;
}

/* Add l's leaves to set (of *n, room for cap), skipping ones already in. */
static void collect(goc_limiter **set, size_t *n, goc_limiter *l)
{
	size_t k;
	goc_limiter *const *ls = leaves_of(&l, &k);
	for (size_t i = 0; i < k; i++) {
		size_t j = 0;
		while (j < *n && set[j] != ls[i])
			j++;
		if (j == *n)
			set[(*n)++] = ls[i];
	}
}

goc_limiter *goc_limiter_all(goc_limiter *const *ls, size_t n)
{
	if (!ls || n == 0)
		return goc__pat_fail(EINVAL);
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		if (!ls[i])
			return goc__pat_fail(EINVAL);
		size_t k;
		leaves_of(&ls[i], &k);
		if (__builtin_add_overflow(total, k, &total) || total > SIZE_MAX / sizeof(goc_limiter *))
			return goc__pat_fail(EINVAL);
	}
	goc_limiter *l = calloc(1, sizeof *l);
	goc_limiter **set = malloc(total * sizeof *set);
	if (!l || !set) {
		free(l);
		free(set);
		return goc__pat_fail(ENOMEM);
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		collect(set, &k, ls[i]);
	for (size_t i = 0; i < k; i++)
		goc_limiter_retain(set[i]);
	atomic_init(&l->refs, 1);
	l->nleaves = k;
	l->leaves = set;
	return l;
}

bool goc_limiter_allow(goc_limiter *l)
{
	if (!l)
		return false;
	size_t n;
	goc_limiter *const *leaves = leaves_of(&l, &n);
	reservation stack_rs[LEAVES_ON_STACK], *rs = stack_rs;
	if (n > LEAVES_ON_STACK && !(rs = malloc(n * sizeof *rs)))
		return false;
	int64_t act;
	bool ok = reserve_all(leaves, n, 1.0, goc_now(), 0, rs, &act) == 0;
	if (rs != stack_rs)
		free(rs);
	return ok;
}

int goc_limiter_wait_n(goc_limiter *l, struct goc_ctx *ctx, int64_t n)
{
	if (!l || n < 1)
		return GOC_EINVAL;
	size_t nl;
	goc_limiter *const *leaves = leaves_of(&l, &nl);
	for (size_t i = 0; i < nl; i++)
		if ((double)n > leaves[i]->burst)
			return GOC_EINVAL; /* could never be granted */
	if (ctx) {
		int err = goc_ctx_err(ctx);
		if (err)
			return err;
	}
	int64_t deadline = GOC_NO_DEADLINE;
	if (ctx)
		goc_ctx_deadline(ctx, &deadline);

	reservation stack_rs[LEAVES_ON_STACK], *rs = stack_rs;
	if (nl > LEAVES_ON_STACK && !(rs = malloc(nl * sizeof *rs)))
		return GOC_ENOMEM;
	int64_t now = goc_now(), act;
	int64_t max_wait = deadline == GOC_NO_DEADLINE ? INT64_MAX : deadline - now;
	int rc = max_wait < 0 ? GOC_ETIMEDOUT : reserve_all(leaves, nl, (double)n, now, max_wait, rs, &act);
	if (rc == 0 && act > now) {
		goc_chan *done = ctx ? goc_ctx_done(ctx) : NULL;
		if (done)
			rc = goc_recv_until(done, NULL, act) == GOC_ETIMEDOUT ? 0 : goc_ctx_err(ctx);
		else if (ctx && goc_ctx_err(ctx))
			rc = goc_ctx_err(ctx); /* no done channel (out of memory) */
		else
			rc = goc_sleep_until(act);
		if (rc != 0) {
			now = goc_now();
			for (size_t i = 0; i < nl; i++)
				leaf_cancel(&rs[i], now);
		}
	}
	if (rs != stack_rs)
		free(rs);
	return rc;
}

int goc_limiter_wait(goc_limiter *l, struct goc_ctx *ctx)
{
	return goc_limiter_wait_n(l, ctx, 1);
}

double goc_limiter_tokens(goc_limiter *l)
{
	if (!l)
		return 0;
	size_t n;
	goc_limiter *const *leaves = leaves_of(&l, &n);
	int64_t now = goc_now();
	double least = INFINITY;
	for (size_t i = 0; i < n; i++) {
		goc__lock_acquire(&leaves[i]->lock);
		double t = now < leaves[i]->last ? leaves[i]->tokens : tokens_at(leaves[i], now);
		goc__lock_release(&leaves[i]->lock);
		if (t < least)
			least = t;
	}
	return least;
}

void goc_limiter_retain(goc_limiter *l)
{
	if (l)
		atomic_fetch_add_explicit(&l->refs, 1, memory_order_relaxed);
}

void goc_limiter_release(goc_limiter *l)
{
	if (!l || atomic_fetch_sub_explicit(&l->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (size_t i = 0; i < l->nleaves; i++)
		goc_limiter_release(l->leaves[i]);
	free(l->leaves);
	free(l);
}
