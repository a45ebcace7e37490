/* timer.c - per-P timer heaps (internal.h, "timers").
 *
 * Each P owns a 4-ary min-heap of armed timers ordered by `when`, under the
 * heap's own lock (a 4-ary heap is shallower than a binary one and its four
 * children share a cache line, as in Go's runtime). Timers are armed on the
 * arming thread's P (or P 0 from a foreign thread) and never move heaps
 * while armed, so t->heap names the lock that guards t.
 *
 * t->heap is set by the first start and only changed by a later start
 * (never cleared by firing); t->index >= 0 says "armed". So a stop that
 * races with the firing always takes the heap lock and returns only after
 * fn has finished, even if fn already disarmed the timer.
 *
 * Firing: whoever finds a heap's head due (its own P in the schedule loop,
 * an idle worker scanning all Ps, the poller after waking, the monitor for a
 * P whose worker is stuck) pops it and runs fn with the heap lock held. So
 * goc__timer_stop, which takes the same lock, returns only when fn is not
 * running and will not run. Lock order: heap lock -> anything fn takes
 * (channel locks, sched.lock); never the reverse.
 *
 * `next` caches the head's deadline for lock-free checks (relaxed: a stale
 * value only delays a check to the next scheduling round, and every arming
 * that moves a heap's head earlier also kicks the poller if it sleeps
 * later than that). */
#include "sched.h"
#include "../os/poll.h"

#include <stdlib.h>

void goc__timerheap_init(goc__timerheap *h)
{
	h->lock = (goc__lock)GOC__LOCK_INIT;
	h->t = NULL;
	h->len = h->cap = 0;
	atomic_store(&h->next, INT64_MAX);
}

void goc__timerheap_free(goc__timerheap *h)
{
	for (int32_t i = 0; i < h->len; i++)
		h->t[i].t->index = -1;
	free(h->t);
	h->t = NULL;
	h->len = h->cap = 0;
}

/* Both sifts read only the array; each moved timer gets its new index (one
 * write per level, the only time a timer is touched). */
static void sift_up(goc__timerent *a, int32_t i)
{
	goc__timerent e = a[i];
	while (i > 0) {
		int32_t parent = (i - 1) / TIMER_HEAP_ARITY;
		if (a[parent].when <= e.when)
			break;
		a[i] = a[parent];
		a[i].t->index = i;
		i = parent;
	}
	a[i] = e;
	e.t->index = i;
}

static void sift_down(goc__timerent *a, int32_t len, int32_t i)
{
	goc__timerent e = a[i];
	for (;;) {
		int32_t c = i * TIMER_HEAP_ARITY + 1, best = c;
		if (c >= len)
			break;
		for (int32_t k = c + 1; k < c + TIMER_HEAP_ARITY && k < len; k++)
			if (a[k].when < a[best].when)
				best = k;
		if (a[best].when >= e.when)
			break;
		a[i] = a[best];
		a[i].t->index = i;
		i = best;
	}
	a[i] = e;
	e.t->index = i;
}

static void heap_remove(goc__timerheap *h, int32_t i)
{
	goc__timer *t = h->t[i].t;
	h->len--;
	if (i != h->len) {
		h->t[i] = h->t[h->len];
		sift_down(h->t, h->len, i);
		sift_up(h->t, i);
	}
	t->index = -1;
	atomic_store_explicit(&h->next, h->len ? h->t[0].when : INT64_MAX, memory_order_relaxed);
}

void goc__timer_start(goc__timer *t)
{
	goc__runtime_ensure();
	goc__m *m = goc__getm();
	goc__p *p = m && m->p ? m->p : goc__s.allp[0];
	goc__timerheap *h = &p->timers;
	goc__lock_acquire(&h->lock);
	if (h->len == h->cap) {
		int32_t cap = h->cap ? h->cap * 2 : 64;
		goc__timerent *a = realloc(h->t, (size_t)cap * sizeof *a);
		if (!a)
			goc__panic("timer: out of memory growing a timer heap to %d", cap);
		h->t = a;
		h->cap = cap;
	}
	atomic_store_explicit(&t->heap, h, memory_order_release);
	h->t[h->len] = (goc__timerent){t->when, t};
	sift_up(h->t, h->len++);
	/* seq_cst store here and load of poll_until below, against the
	 * poller's seq_cst store of poll_until and load of next (proc.c,
	 * poll_block): either we see its poll_until and interrupt it, or it
	 * sees this timer when it computes how long to sleep. */
	atomic_store(&h->next, h->t[0].when);
	int64_t when = t->when; /* t may fire and be freed once we unlock */
	atomic_fetch_add_explicit(&goc__s.timers_armed, 1, memory_order_relaxed);
	goc__lock_release(&h->lock);
	if (when < atomic_load(&goc__s.poll_until))
		goc__os_poll_interrupt();
	else if (!m || !m->p)
		goc__wakep();
}

bool goc__timer_stop(goc__timer *t)
{
	goc__timerheap *h = atomic_load_explicit(&t->heap, memory_order_acquire);
	if (!h)
		return false;
	goc__lock_acquire(&h->lock);
	bool armed = t->index >= 0;
	if (armed) {
		heap_remove(h, t->index);
		atomic_fetch_sub_explicit(&goc__s.timers_armed, 1, memory_order_relaxed);
	}
	goc__lock_release(&h->lock);
	return armed;
}

int goc__timers_run(goc__timerheap *h, int64_t now)
{
	if (atomic_load_explicit(&h->next, memory_order_relaxed) > now)
		return 0;
	int fired = 0;
	goc__lock_acquire(&h->lock);
	while (h->len > 0 && h->t[0].when <= now) {
		goc__timer *t = h->t[0].t;
		if (t->period > 0) {
			/* Re-arm first (skipping missed periods, like a ticker that
			 * drops ticks for a slow reader), then fire. */
			int64_t late = now - t->when;
			t->when += t->period * (1 + late / t->period);
			h->t[0].when = t->when;
			sift_down(h->t, h->len, 0);
			atomic_store_explicit(&h->next, h->t[0].when, memory_order_relaxed);
			t->fn(t, now);
		} else {
			heap_remove(h, 0);
			t->fn(t, now);
			/* Only now: what fn readied is visible before the deadlock
			 * check can see one timer fewer. */
			atomic_fetch_sub_explicit(&goc__s.timers_armed, 1, memory_order_relaxed);
		}
		fired++;
	}
	goc__lock_release(&h->lock);
	return fired;
}

int64_t goc__timers_next(void)
{
	int64_t next = INT64_MAX;
	for (int32_t i = 0; i < goc__s.maxprocs; i++) {
		int64_t w = atomic_load(&goc__s.allp[i]->timers.next); /* seq_cst: see timer_start */
		if (w < next)
			next = w;
	}
	return next;
}

int64_t goc__timers_armed(void)
{
	return atomic_load_explicit(&goc__s.timers_armed, memory_order_relaxed);
}
