/* ctx.c - contexts (goc/ctx.h), after Go's context package.
 *
 * Kinds: background (one static object), cancel (with_cancel and
 * with_deadline: has a lock, an error, a lazily made done channel and a
 * list of children), value (a key/value link; cancelled exactly when its
 * nearest cancel ancestor is, so it has none of that state).
 *
 * Tree: every context points to its parent and holds a memory reference on
 * it (value lookup walks the chain, so ancestors outlive descendants). Each
 * context also knows its `canceller`: itself for a cancel context, the
 * parent's canceller for a value one (NULL under background alone). A new
 * cancel context links itself into the children list of its parent's
 * canceller, unless that one is already cancelled, in which case it is born
 * cancelled with the same error.
 *
 * Two counts: `handles` are the users' references (with_*, retain); when
 * the last goes, a cancel context is cancelled, unlinked from its parent's
 * list and its deadline timer stopped (Go's `defer cancel()`), so a
 * long-lived parent never accumulates finished children. `refs` keep the
 * memory: one for all handles together, one per child, one per canceller
 * that still has to visit it. At zero the context is freed and its parent's
 * reference dropped (iteratively: chains can be long).
 *
 * Cancelling c (err E): under c's lock, set err, close done, and for each
 * child: under its lock (parent before child), set err if unset and close
 * its done; unlink it (attach = NULL). A child that has children of its own
 * is pushed, with a reference, on a work list processed after c's lock is
 * dropped, the same way. So at most two context locks are held at once,
 * the recursion is a loop (10,000-deep chains are fine), and once err is
 * set no new child can link (with_cancel checks err under the lock).
 *
 * Children list: guarded by the parent's (canceller's) lock. A child
 * detaching itself reads `attach` (acquire); NULL means a canceller
 * already unlinked it. Otherwise it takes that lock and re-checks. A linked
 * child cannot be freed without taking its parent's lock, so a canceller
 * holding the parent's lock may touch every linked child without a
 * reference.
 *
 * Deadlines: one goc__oneshot per deadline context; its callback runs with
 * the timer heap lock held, so it only cancels the context itself (one
 * lock, one channel close) and, if it has children, hands them to a new
 * goroutine, as Go's AfterFunc-based timer does. The timer is stopped by
 * goc_ctx_cancel and by the last release, never under a context lock. A
 * cancel context reached through its parent keeps its timer until
 * released: firing then finds it cancelled and does nothing.
 *
 * Lock order: timer heap lock -> context lock of a parent -> context lock
 * of its child -> channel locks (closing done) -> run queues. No context
 * lock is held while starting or stopping a timer.
 */
#include "../time/time_internal.h"
#include "../sched/sim.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

enum { CTX_BACKGROUND, CTX_CANCEL, CTX_VALUE };

struct goc_ctx {
	/* ---- every kind; immutable after creation except the counts ---- */
	uint8_t kind;
	goc_ctx *parent;             /* holds one of parent->refs; NULL: root */
	goc_ctx *canceller;          /* nearest cancel context on the chain, or NULL */
	int64_t deadline;            /* effective: min(own, parent's) */
	_Atomic uint32_t handles;    /* users' references */
	_Atomic uint32_t refs;       /* memory: 1 for all handles, 1 per child, visitors */
	const void *key;             /* value contexts */
	void *value;
	/* ---- cancel contexts only (value contexts leave these zero: they are
	 * allocated whole all the same, as an object smaller than its type is
	 * undefined behaviour that gcc -O3 rightly rejects) */
	goc__lock lock;
	_Atomic int err;             /* written under lock (release); read lock-free */
	goc_chan *_Atomic done;      /* made under lock on first goc_ctx_done */
	goc_ctx *children;           /* lock: linked children, newest first */
	goc_ctx *next_sib, *prev_sib; /* guarded by attach's lock */
	goc_ctx *_Atomic attach;     /* whose children list we are on; NULL: none */
	goc_ctx *work;               /* private to the canceller visiting us */
	_Atomic uint32_t timer_armed; /* 1 while the deadline timer may be armed */
	goc__oneshot timer;          /* deadline contexts */
};

static goc_ctx background = {
	.kind = CTX_BACKGROUND,
	.deadline = GOC__NO_DEADLINE,
};

goc_ctx *goc_ctx_background(void)
{
	return &background;
}

/* ---- memory ------------------------------------------------------------- */

static void ctx_ref(goc_ctx *c)
{
	if (c->kind != CTX_BACKGROUND)
		atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

static void ctx_unref(goc_ctx *c)
{
	while (c && c->kind != CTX_BACKGROUND) {
		/* acq_rel: our uses of c happen before the free by whoever is last. */
		if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
			return;
		goc_ctx *parent = c->parent;
		if (c->kind == CTX_CANCEL)
			goc_chan_release(atomic_load_explicit(&c->done, memory_order_relaxed));
		free(c);
		c = parent;
	}
}

/* ---- cancellation ------------------------------------------------------- */

/* c locked, c->err unset: set it and close done if it was made. */
static void set_err_locked(goc_ctx *c, int err)
{
	atomic_store_explicit(&c->err, err, memory_order_release); /* pairs with goc_ctx_err */
	goc_chan *d = atomic_load_explicit(&c->done, memory_order_relaxed);
	if (d)
		goc_close(d);
}

/* c locked, c->err set: cancel and unlink every child; push those with
 * children of their own on *work, each with a reference. */
static void cancel_children_locked(goc_ctx *c, int err, goc_ctx **work)
{
	goc_ctx *ch = c->children, *next;
	c->children = NULL;
	for (; ch; ch = next) {
		next = ch->next_sib;
		ch->next_sib = ch->prev_sib = NULL;
		goc__lock_acquire(&ch->lock); /* parent before child */
		if (!atomic_load_explicit(&ch->err, memory_order_relaxed))
			set_err_locked(ch, err);
		bool has_children = ch->children != NULL;
		goc__lock_release(&ch->lock);
		if (has_children) {
			ctx_ref(ch);
			ch->work = *work;
			*work = ch;
		}
		/* release: a detaching child that reads NULL sees the unlink. */
		atomic_store_explicit(&ch->attach, NULL, memory_order_release);
	}
}

/* Visit the work list: cancel the children of each context on it. */
static void cancel_work(goc_ctx *work, int err)
{
	while (work) {
		goc_ctx *c = work;
		work = c->work;
		goc__lock_acquire(&c->lock);
		cancel_children_locked(c, err, &work);
		goc__lock_release(&c->lock);
		ctx_unref(c);
	}
}

/* Cancel c (a cancel context) and its descendants with err. If c was
 * cancelled already (its first error stays), still visit any children left
 * linked: a deadline hands its subtree to a goroutine, and a goc_ctx_cancel
 * meanwhile must not return before the subtree is cancelled. */
static void cancel(goc_ctx *c, int err)
{
	goc_ctx *work = NULL;
	goc__lock_acquire(&c->lock);
	int first = atomic_load_explicit(&c->err, memory_order_relaxed);
	if (first)
		err = first;
	else
		set_err_locked(c, err);
	cancel_children_locked(c, err, &work);
	goc__lock_release(&c->lock);
	cancel_work(work, err);
}

struct deferred_cancel {
	goc_ctx *c;
	int err;
};

static void deferred_cancel_run(void *p)
{
	struct deferred_cancel *d = p;
	goc__lock_acquire(&d->c->lock);
	goc_ctx *work = NULL;
	cancel_children_locked(d->c, d->err, &work);
	goc__lock_release(&d->c->lock);
	cancel_work(work, d->err);
	ctx_unref(d->c);
}

/* Timer callback (heap lock held): the deadline passed. c is alive: its
 * timer is armed, and the last release stops it (waiting for us) before
 * dropping the handles' reference. */
static void deadline_fire(goc__timer *t, int64_t now)
{
	goc_ctx *c = t->arg;
	bool orphans = false;
	goc__lock_acquire(&c->lock);
	if (!atomic_load_explicit(&c->err, memory_order_relaxed)) {
		set_err_locked(c, GOC_ETIMEDOUT);
		if (c->children) {
			ctx_ref(c);
			orphans = true;
		}
	}
	goc__lock_release(&c->lock);
	if (orphans) {
		/* The subtree may be large: cancel it off the timer heap's lock. */
		struct deferred_cancel d = {c, GOC_ETIMEDOUT};
		if (goc_go_copy(deferred_cancel_run, &d, sizeof d) != 0)
			deferred_cancel_run(&d); /* out of memory: do it here */
	}
	goc__oneshot_done(&c->timer); /* last touch of c */
}

static void stop_timer(goc_ctx *c)
{
	/* Only the caller that clears the flag stops: concurrent cancels from
	 * several holders must not race on one timer (internal.h). */
	if (atomic_load_explicit(&c->timer_armed, memory_order_relaxed) &&
	    atomic_exchange_explicit(&c->timer_armed, 0, memory_order_acq_rel))
		goc__oneshot_stop(&c->timer);
}

/* Unlink c from its parent's children list, if a canceller has not. */
static void detach(goc_ctx *c)
{
	goc_ctx *p = atomic_load_explicit(&c->attach, memory_order_acquire);
	if (!p)
		return;
	goc__lock_acquire(&p->lock); /* p is alive: c holds a reference chain to it */
	if (atomic_load_explicit(&c->attach, memory_order_relaxed) == p) {
		if (c->prev_sib)
			c->prev_sib->next_sib = c->next_sib;
		else
			p->children = c->next_sib;
		if (c->next_sib)
			c->next_sib->prev_sib = c->prev_sib;
		c->next_sib = c->prev_sib = NULL;
		atomic_store_explicit(&c->attach, NULL, memory_order_relaxed);
	}
	goc__lock_release(&p->lock);
}

/* ---- creation ----------------------------------------------------------- */

static goc_ctx *ctx_new(goc_ctx *parent, int kind)
{
	if (!parent) {
		errno = EINVAL;
		return NULL;
	}
	goc_ctx *c = calloc(1, sizeof *c);
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	c->kind = (uint8_t)kind;
	c->parent = parent;
	c->deadline = parent->deadline;
	atomic_init(&c->handles, 1);
	atomic_init(&c->refs, 1);
	ctx_ref(parent);
	if (kind == CTX_VALUE) {
		c->canceller = parent->canceller;
	} else {
		c->canceller = c;
		c->lock = (goc__lock)GOC__LOCK_INIT;
		c->timer.t.index = -1;
	}
	return c;
}

/* Link a new cancel context under its parent's canceller, or cancel it at
 * once if that one is cancelled already. */
static void attach(goc_ctx *c)
{
	goc_ctx *p = c->parent->canceller;
	if (!p)
		return; /* under background alone: nothing can cancel us from above */
	goc__lock_acquire(&p->lock);
	int err = atomic_load_explicit(&p->err, memory_order_relaxed);
	if (!err) {
		c->next_sib = p->children;
		c->prev_sib = NULL;
		if (p->children)
			p->children->prev_sib = c;
		p->children = c;
		atomic_store_explicit(&c->attach, p, memory_order_relaxed);
	}
	goc__lock_release(&p->lock);
	if (err)
		cancel(c, err); /* nobody else knows c yet: no children to visit */
}

goc_ctx *goc_ctx_with_cancel(goc_ctx *parent)
{
	goc_ctx *c = ctx_new(parent, CTX_CANCEL);
	if (c)
		attach(c);
	return c;
}

goc_ctx *goc_ctx_with_deadline(goc_ctx *parent, int64_t deadline)
{
	if (parent && parent->deadline <= deadline)
		return goc_ctx_with_cancel(parent); /* the parent's deadline comes first */
	goc_ctx *c = ctx_new(parent, CTX_CANCEL);
	if (!c)
		return NULL;
	c->deadline = deadline;
	attach(c);
	if (atomic_load_explicit(&c->err, memory_order_relaxed))
		return c; /* born cancelled by the parent */
	if (deadline <= goc__clock_now()) {
		cancel(c, GOC_ETIMEDOUT);
		return c;
	}
	atomic_store_explicit(&c->timer_armed, 1, memory_order_relaxed);
	goc__oneshot_start(&c->timer, deadline, deadline_fire, c);
	return c;
}

goc_ctx *goc_ctx_with_timeout(goc_ctx *parent, int64_t ns)
{
	return goc_ctx_with_deadline(parent, goc_deadline_in(ns));
}

goc_ctx *goc_ctx_with_value(goc_ctx *parent, const void *key, void *value)
{
	goc_ctx *c = ctx_new(parent, CTX_VALUE);
	if (c) {
		c->key = key;
		c->value = value;
	}
	return c;
}

/* ---- queries ------------------------------------------------------------ */

void *goc_ctx_value(goc_ctx *ctx, const void *key)
{
	for (goc_ctx *c = ctx; c; c = c->parent)
		if (c->kind == CTX_VALUE && c->key == key)
			return c->value;
	return NULL;
}

int goc_ctx_err(goc_ctx *ctx)
{
	if (!ctx)
		return GOC_EINVAL;
	goc_ctx *c = ctx->canceller;
	return c ? atomic_load_explicit(&c->err, memory_order_acquire) : 0;
}

goc_chan *goc_ctx_done(goc_ctx *ctx)
{
	if (!ctx) {
		errno = EINVAL;
		return NULL;
	}
	goc_ctx *c = ctx->canceller;
	if (!c)
		return NULL;
	goc_chan *d = atomic_load_explicit(&c->done, memory_order_acquire);
	if (GOC__LIKELY(d != NULL))
		return d;
	goc__lock_acquire(&c->lock);
	d = atomic_load_explicit(&c->done, memory_order_relaxed);
	if (!d) {
		d = goc_chan_make(0, 0);
		if (d) {
			if (atomic_load_explicit(&c->err, memory_order_relaxed))
				goc_close(d);
			/* release: the channel's initialisation before its address. */
			atomic_store_explicit(&c->done, d, memory_order_release);
		} else {
			errno = ENOMEM;
		}
	}
	goc__lock_release(&c->lock);
	return d;
}

bool goc_ctx_deadline(goc_ctx *ctx, int64_t *deadline)
{
	int64_t d = ctx ? ctx->deadline : GOC__NO_DEADLINE;
	if (deadline)
		*deadline = d;
	return d != GOC__NO_DEADLINE;
}

/* ---- cancel, retain, release -------------------------------------------- */

int goc_ctx_cancel(goc_ctx *ctx)
{
	if (!ctx || ctx->kind != CTX_CANCEL)
		return GOC_EINVAL;
	cancel(ctx, GOC_ECANCELED);
	stop_timer(ctx);
	return 0;
}

void goc_ctx_retain(goc_ctx *ctx)
{
	if (ctx && ctx->kind != CTX_BACKGROUND)
		atomic_fetch_add_explicit(&ctx->handles, 1, memory_order_relaxed);
}

void goc_ctx_release(goc_ctx *ctx)
{
	if (!ctx || ctx->kind == CTX_BACKGROUND)
		return;
	if (atomic_fetch_sub_explicit(&ctx->handles, 1, memory_order_acq_rel) != 1)
		return;
	if (ctx->kind == CTX_CANCEL) {
		cancel(ctx, GOC_ECANCELED);
		detach(ctx);
		stop_timer(ctx);
	}
	ctx_unref(ctx);
}

int goc_ctx_sleep(goc_ctx *ctx, int64_t ns)
{
	if (!ctx)
		return GOC_EINVAL;
	int64_t deadline = goc_deadline_in(ns);
	goc_chan *done = goc_ctx_done(ctx);
	if (!done) {
		if (ctx->canceller) /* could not make the channel */
			return goc_ctx_err(ctx) ? goc_ctx_err(ctx) : GOC_ENOMEM;
		goc_sleep_until(deadline);
		return 0;
	}
	int rc = goc_recv_until(done, NULL, deadline);
	return rc == GOC_ETIMEDOUT ? 0 : goc_ctx_err(ctx);
}
