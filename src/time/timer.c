/* timer.c - goc_after, goc_timer (channel and function timers), goc_ticker
 * and goc_tick, on top of sched's per-P timer heaps (internal.h "timers").
 *
 * Objects:
 *   after    one-shot record {timer, channel}: owns one channel reference
 *            until it fires; then sends the time, drops its reference and
 *            frees itself. The caller's reference is separate, so releasing
 *            it early is safe and nothing leaks.
 *   goc_timer  a goc__oneshot plus either a channel (capacity 1, owned by
 *            the timer) or fn/arg. Function timers are reference counted:
 *            one reference for the handle, one while armed, so a released
 *            pending timer still fires (like time.AfterFunc) and frees
 *            itself afterwards.
 *   goc_ticker a periodic goc__timer plus its channel (capacity 1).
 *
 * Go 1.23 channel semantics: a timer's channel only ever holds a value from
 * the current arming. stop/reset disarm first, then drain the channel: the
 * timer is the only sender, so once it is disarmed (and its callback has
 * finished, see goc__oneshot_stop) a drained channel stays empty. Whether
 * stop found the timer armed, or drained an unreceived value, is its result.
 *
 * Callbacks run with the heap lock held (internal.h): they only try-send,
 * release channel references, spawn a goroutine (function timers, as Go's
 * runtime does for AfterFunc), take the registry lock and free memory.
 *
 * Lock order: goc_timer.lock / goc_ticker.lock -> timer heap lock (via
 * goc__timer_start/stop) -> channel lock, registry lock, run queues.
 * No callback takes a goc_timer or goc_ticker lock.
 */
#include "time_internal.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>

/* ---- one-shots with a trustworthy stop ---------------------------------- */

void goc__oneshot_start(goc__oneshot *o, int64_t when, void (*fn)(goc__timer *, int64_t), void *arg)
{
	o->t.when = when;
	o->t.period = 0;
	o->t.fn = fn;
	o->t.arg = arg;
	atomic_store_explicit(&o->done, 0, memory_order_relaxed);
	o->armed = true;
	goc__timer_start(&o->t); /* the heap lock orders done=0 before the callback */
}

bool goc__oneshot_stop(goc__oneshot *o)
{
	if (!o->armed)
		return false;
	o->armed = false;
	if (goc__timer_stop(&o->t))
		return true;
	/* Fired: wait until the callback is done with the object (see
	 * time_internal.h for why stop's own guarantee is not enough, and for
	 * the one-second bound). */
	if (atomic_load_explicit(&o->done, memory_order_acquire))
		return false;
	int64_t give_up = goc__nanotime() + 1000000000;
	for (unsigned spin = 0; !atomic_load_explicit(&o->done, memory_order_acquire); spin++) {
		if (spin < 64)
			continue;
		if (goc__nanotime() > give_up)
			break;
		sched_yield();
	}
	return false;
}

/* ---- orphan registry ---------------------------------------------------- */

static goc__lock orphans_lock = GOC__LOCK_INIT;
static goc__tnode orphans = {&orphans, &orphans, true, false}; /* list head */

bool goc__orphan_add(goc__tnode *n)
{
	goc__lock_acquire(&orphans_lock);
	bool add = !n->reaped;
	if (add) {
		n->prev = &orphans;
		n->next = orphans.next;
		orphans.next->prev = n;
		orphans.next = n;
		n->linked = true;
	}
	goc__lock_release(&orphans_lock);
	return add;
}

void goc__orphan_reap(goc__tnode *n)
{
	goc__lock_acquire(&orphans_lock);
	n->reaped = true;
	if (n->linked) {
		n->prev->next = n->next;
		n->next->prev = n->prev;
		n->linked = false;
	}
	goc__lock_release(&orphans_lock);
}

static void orphan_rearm(goc__tnode *n)
{
	goc__lock_acquire(&orphans_lock);
	n->reaped = false;
	goc__lock_release(&orphans_lock);
}

/* ---- goc_after ---------------------------------------------------------- */

typedef struct after {
	goc__timer t;
	goc__tnode node;
	goc_chan *c;             /* the timer's own reference */
	/* 2 at creation: the callback's and goc_after's own, which it drops
	 * once goc__timer_start has returned (sched may still read t after
	 * dropping the heap lock, when the callback may already have run). */
	_Atomic uint32_t refs;
} after;

static void after_unref(after *a)
{
	if (atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) == 1)
		free(a);
}

static void after_fire(goc__timer *t, int64_t now)
{
	after *a = t->arg;
	goc_try_send(a->c, &now); /* capacity 1, only sender: never full */
	goc_chan_release(a->c);
	goc__orphan_reap(&a->node);
	after_unref(a);
}

goc_chan *goc_after(int64_t ns)
{
	goc_chan *c = goc_chan_make(sizeof(int64_t), 1);
	if (!c)
		return NULL;
	if (ns <= 0) {
		int64_t now = goc_now();
		goc_try_send(c, &now);
		return c;
	}
	after *a = calloc(1, sizeof *a);
	if (!a) {
		goc_chan_release(c);
		errno = ENOMEM;
		return NULL;
	}
	goc_chan_retain(c);
	a->c = c;
	a->t.when = goc_deadline_in(ns);
	a->t.fn = after_fire;
	a->t.arg = a;
	a->t.index = -1;
	atomic_init(&a->refs, 2);
	goc__orphan_add(&a->node);
	goc__timer_start(&a->t);
	after_unref(a);
	return c;
}

/* ---- goc_timer ---------------------------------------------------------- */

struct goc_timer {
	goc__oneshot os;
	goc__lock lock;          /* serialises stop/reset/release of os */
	goc_chan *c;             /* channel timers: the timer's channel */
	void (*fn)(void *arg);   /* function timers */
	void *arg;
	_Atomic uint32_t refs;   /* function timers: handle + 1 while armed */
	goc__tnode node;         /* function timers released while armed */
};

static void timer_free(goc_timer *t)
{
	goc_chan_release(t->c);
	free(t);
}

static void timer_unref(goc_timer *t)
{
	if (atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1)
		timer_free(t);
}

static void chan_timer_fire(goc__timer *tm, int64_t now)
{
	goc_timer *t = tm->arg;
	goc_try_send(t->c, &now); /* drained at every arming: never full */
	goc__oneshot_done(&t->os);
}

struct func_call {
	void (*fn)(void *);
	void *arg;
};

static void func_timer_run(void *p)
{
	struct func_call *call = p;
	call->fn(call->arg);
}

static void func_timer_fire(goc__timer *tm, int64_t now)
{
	goc_timer *t = tm->arg;
	struct func_call call = {t->fn, t->arg};
	/* goc_go_copy keeps the 16-byte copy inside the G: no allocation
	 * unless the runtime has to grow its G arena. */
	int rc = goc_go_copy(func_timer_run, &call, sizeof call);
	if (rc)
		goc__panic("time: cannot start the goroutine of an after_func timer: %s",
		           goc_strerror(rc));
	goc__orphan_reap(&t->node);
	goc__oneshot_done(&t->os);
	timer_unref(t); /* the armed reference */
}

static goc_timer *timer_alloc(void)
{
	goc_timer *t = calloc(1, sizeof *t);
	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	t->os.t.index = -1;
	t->lock = (goc__lock)GOC__LOCK_INIT;
	atomic_init(&t->refs, 1);
	return t;
}

/* Lock held. Arm for ns from now. */
static void timer_arm(goc_timer *t, int64_t ns)
{
	if (t->fn) {
		atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
		orphan_rearm(&t->node);
		goc__oneshot_start(&t->os, goc_deadline_in(ns), func_timer_fire, t);
	} else {
		goc__oneshot_start(&t->os, goc_deadline_in(ns), chan_timer_fire, t);
	}
}

/* Lock held. Disarm and drain; 1 if the timer was still active. */
static int timer_disarm(goc_timer *t)
{
	bool stopped = goc__oneshot_stop(&t->os);
	if (t->fn) {
		if (stopped) /* the armed reference; never the last: the caller's handle keeps t */
			atomic_fetch_sub_explicit(&t->refs, 1, memory_order_relaxed);
		return stopped;
	}
	bool drained = goc_try_recv(t->c, NULL) == 0;
	return stopped || drained;
}

goc_timer *goc_timer_new(int64_t ns)
{
	goc_timer *t = timer_alloc();
	if (!t)
		return NULL;
	t->c = goc_chan_make(sizeof(int64_t), 1);
	if (!t->c) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	timer_arm(t, ns);
	return t;
}

goc_timer *goc_after_func(int64_t ns, void (*fn)(void *arg), void *arg)
{
	if (!fn) {
		errno = EINVAL;
		return NULL;
	}
	goc_timer *t = timer_alloc();
	if (!t)
		return NULL;
	t->fn = fn;
	t->arg = arg;
	timer_arm(t, ns);
	return t;
}

goc_chan *goc_timer_chan(goc_timer *t)
{
	return t ? t->c : NULL;
}

int goc_timer_stop(goc_timer *t)
{
	if (!t)
		return GOC_EINVAL;
	goc__lock_acquire(&t->lock);
	int active = timer_disarm(t);
	goc__lock_release(&t->lock);
	return active;
}

int goc_timer_reset(goc_timer *t, int64_t ns)
{
	if (!t)
		return GOC_EINVAL;
	goc__lock_acquire(&t->lock);
	int active = timer_disarm(t);
	timer_arm(t, ns);
	goc__lock_release(&t->lock);
	return active;
}

void goc_timer_release(goc_timer *t)
{
	if (!t)
		return;
	if (t->fn) {
		/* A pending function timer lives on until it fires: keep it
		 * reachable meanwhile (the registry), then drop the handle. */
		goc__lock_acquire(&t->lock);
		if (t->os.armed)
			goc__orphan_add(&t->node);
		goc__lock_release(&t->lock);
		timer_unref(t);
		return;
	}
	goc__lock_acquire(&t->lock);
	goc__oneshot_stop(&t->os);
	goc__lock_release(&t->lock);
	timer_free(t);
}

/* ---- tickers ------------------------------------------------------------ */

struct goc_ticker {
	goc__timer t;            /* periodic: stays in its heap while armed, so
	                            sched's stop waits for a running callback */
	goc__lock lock;          /* serialises stop/reset/release */
	bool armed;              /* lock */
	goc_chan *c;
	goc__tnode node;         /* goc_tick's tickers live forever */
};

static void ticker_fire(goc__timer *tm, int64_t now)
{
	goc_ticker *t = tm->arg;
	goc_try_send(t->c, &now); /* full: the reader is slow, drop the tick */
}

/* Lock held. */
static void ticker_disarm(goc_ticker *t)
{
	if (t->armed) {
		goc__timer_stop(&t->t);
		t->armed = false;
	}
	goc_try_recv(t->c, NULL);
}

/* Lock held, period > 0. */
static void ticker_arm(goc_ticker *t, int64_t period)
{
	t->t.when = goc_deadline_in(period);
	t->t.period = period;
	t->t.fn = ticker_fire;
	t->t.arg = t;
	t->armed = true;
	goc__timer_start(&t->t);
}

goc_ticker *goc_ticker_new(int64_t period)
{
	if (period <= 0) {
		errno = EINVAL;
		return NULL;
	}
	goc_ticker *t = calloc(1, sizeof *t);
	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	t->c = goc_chan_make(sizeof(int64_t), 1);
	if (!t->c) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->t.index = -1;
	t->lock = (goc__lock)GOC__LOCK_INIT;
	ticker_arm(t, period);
	return t;
}

goc_chan *goc_ticker_chan(goc_ticker *t)
{
	return t ? t->c : NULL;
}

int goc_ticker_stop(goc_ticker *t)
{
	if (!t)
		return GOC_EINVAL;
	goc__lock_acquire(&t->lock);
	ticker_disarm(t);
	goc__lock_release(&t->lock);
	return 0;
}

int goc_ticker_reset(goc_ticker *t, int64_t period)
{
	if (!t || period <= 0)
		return GOC_EINVAL;
	goc__lock_acquire(&t->lock);
	ticker_disarm(t);
	ticker_arm(t, period);
	goc__lock_release(&t->lock);
	return 0;
}

void goc_ticker_release(goc_ticker *t)
{
	if (!t)
		return;
	goc__lock_acquire(&t->lock);
	ticker_disarm(t);
	goc__lock_release(&t->lock);
	goc_chan_release(t->c);
	free(t);
}

goc_chan *goc_tick(int64_t period)
{
	goc_ticker *t = goc_ticker_new(period);
	if (!t)
		return NULL;
	goc_chan_retain(t->c);   /* the caller's reference */
	goc__orphan_add(&t->node); /* never stopped: keep it reachable */
	return t->c;
}
