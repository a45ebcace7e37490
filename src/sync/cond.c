/* cond.c - goc_cond: condition variables over a goc_mutex.
 *
 * The danger in a condition variable is the lost wake-up: a signal sent
 * after the waiter released the mutex but before it parked. Go's notifyList
 * closes that window with tickets (a waiter takes a ticket under the mutex;
 * signal serves tickets in order). Tickets leave holes when waiters can
 * time out, though: a signal aimed at a ticket whose owner already left
 * would wake nobody while others wait. So goc closes the window differently:
 *
 *   1. still holding the mutex, the waiter queues its record in the wait
 *      table (semtab.h) under the cond's address, marked "not parking";
 *   2. it unlocks the mutex;
 *   3. it retakes the bucket lock: if a signal already dequeued it
 *      (`signalled`), it returns at once; else it marks itself "parking"
 *      and parks, the park releasing the bucket lock.
 * A signaller dequeues the oldest record; one not parking is just marked
 * signalled (step 3 will see it), one parking is claimed and readied, and
 * one whose claim fails (its deadline fired) is skipped for the next. As
 * every waiter is queued before its mutex is released, a signal sent after
 * a waiter's predicate check always finds it (or an older waiter).
 *
 * nwait counts queued records (changed under the bucket lock only) so a
 * signal with no waiter takes no lock. A signaller holding the mutex sees
 * every waiter's increment through the mutex; one not holding it races
 * with waiters exactly as in Go.
 */
#include "semtab.h"

int goc_cond_wait(goc_cond *c, goc_mutex *m)
{
	return goc_cond_wait_until(c, m, GOC__NO_DEADLINE);
}

/* Hand a wake-up to the oldest waiter that can take it. Bucket lock held.
 * Returns false when nobody is queued. */
static bool wake_first(goc_cond *c, goc__semroot *r)
{
	goc__semw *w;
	while ((w = goc__semq_first(r, c))) {
		goc__semq_remove(r, w);
		atomic_fetch_sub_explicit(&c->nwait, 1, memory_order_relaxed);
		if (!w->parking) {
			w->signalled = true;
			return true;
		}
		if (goc__wait_claim(w->g)) {
			goc__ready(w->g);
			return true;
		}
	}
	return false;
}

int goc_cond_wait_until(goc_cond *c, goc_mutex *m, int64_t deadline)
{
	if (GOC__UNLIKELY(!c || !m))
		return GOC_EINVAL;
	goc__semroot *r = goc__semroot_of(c);
	goc__semw w = {0};

	goc__semroot_lock(r);
	goc__semq_push(r, c, &w, false);
	atomic_fetch_add_explicit(&c->nwait, 1, memory_order_relaxed);
	goc__semroot_unlock(r);

	int err = goc_mutex_unlock(m);
	if (GOC__UNLIKELY(err != 0)) {
		/* Not locked: misuse. Leave, passing on any signal we took. */
		goc__semroot_lock(r);
		if (w.queued) {
			goc__semq_remove(r, &w);
			atomic_fetch_sub_explicit(&c->nwait, 1, memory_order_relaxed);
		} else if (w.signalled) {
			wake_first(c, r);
		}
		goc__semroot_unlock(r);
		return err;
	}

	int res = GOC__WAKE_READY;
	goc__semroot_lock(r);
	if (w.signalled) {
		goc__semroot_unlock(r);
	} else {
		w.parking = true;
		res = goc__semq_park(r, &w, GOC__WAIT_COND, c, deadline);
		if (res != GOC__WAKE_READY) {
			/* Bucket lock held. A signaller that dequeued us failed
			 * its claim and went on to the next waiter. */
			if (w.queued) {
				goc__semq_remove(r, &w);
				atomic_fetch_sub_explicit(&c->nwait, 1, memory_order_relaxed);
			}
			goc__semroot_unlock(r);
		}
	}
	goc_mutex_lock(m);
	return res == GOC__WAKE_READY ? 0 : GOC_ETIMEDOUT;
}

int goc_cond_signal(goc_cond *c)
{
	if (GOC__UNLIKELY(!c))
		return GOC_EINVAL;
	if (atomic_load_explicit(&c->nwait, memory_order_relaxed) == 0)
		return 0;
	goc__semroot *r = goc__semroot_of(c);
	goc__semroot_lock(r);
	wake_first(c, r);
	goc__semroot_unlock(r);
	return 0;
}

int goc_cond_broadcast(goc_cond *c)
{
	if (GOC__UNLIKELY(!c))
		return GOC_EINVAL;
	if (atomic_load_explicit(&c->nwait, memory_order_relaxed) == 0)
		return 0;
	goc__semroot *r = goc__semroot_of(c);
	goc__semroot_lock(r);
	while (wake_first(c, r))
		;
	goc__semroot_unlock(r);
	return 0;
}
