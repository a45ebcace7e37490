/* once.c - goc_once: run a function exactly once, others waiting for it.
 *
 * state: NEW -> RUNNING (the caller that won the CAS runs fn) -> DONE, with
 * RUNNING_WAITED instead of RUNNING once a caller has queued to wait. Waiters
 * queue in the wait table (semtab.h) under the once's address, each after
 * moving the state to RUNNING_WAITED under the bucket lock; the runner, after
 * fn, swaps in DONE and, if it finds RUNNING_WAITED, takes the bucket lock and
 * readies them all. A waiter whose deadline fires removes itself; the state
 * keeps RUNNING_WAITED (it only costs the runner one lock round).
 *
 * Orderings: the runner's exchange to DONE is a release (acq_rel) and every
 * reader of DONE acquires, so fn's writes are visible to every caller that
 * returns, as Go's Once promises.
 */
#include "semtab.h"
#include "../sched/sim.h"

enum { ONCE_NEW, ONCE_RUNNING, ONCE_RUNNING_WAITED, ONCE_DONE };

static GOC__NOINLINE int once_slow(goc_once *o, void (*fn)(void *), void *arg, int64_t deadline)
{
	uint32_t old = ONCE_NEW;
	if (atomic_compare_exchange_strong_explicit(&o->state, &old, ONCE_RUNNING,
	                                            memory_order_acquire, memory_order_acquire)) {
		fn(arg);
		if (atomic_exchange_explicit(&o->state, ONCE_DONE, memory_order_acq_rel) ==
		    ONCE_RUNNING_WAITED) {
			goc__semroot *r = goc__semroot_of(o);
			goc__semroot_lock(r);
			goc__semw *w;
			while ((w = goc__semq_first(r, o))) {
				goc__semq_remove(r, w);
				if (goc__wait_claim(w->g))
					goc__ready(w->g);
			}
			goc__semroot_unlock(r);
		}
		return 0;
	}
	if (old == ONCE_DONE)
		return 0;
	if (deadline != GOC__NO_DEADLINE && goc__clock_now() >= deadline)
		return GOC_ETIMEDOUT;

	goc__semroot *r = goc__semroot_of(o);
	goc__semroot_lock(r);
	old = atomic_load_explicit(&o->state, memory_order_acquire);
	for (;;) {
		if (old == ONCE_DONE) {
			goc__semroot_unlock(r);
			return 0;
		}
		if (old == ONCE_RUNNING_WAITED ||
		    atomic_compare_exchange_weak_explicit(&o->state, &old, ONCE_RUNNING_WAITED,
		                                          memory_order_acquire, memory_order_acquire))
			break;
	}
	goc__semw w = {0};
	goc__semq_push(r, o, &w, false);
	if (goc__semq_park(r, &w, GOC__WAIT_ONCE, o, deadline) == GOC__WAKE_READY) {
		atomic_thread_fence(memory_order_acquire);
		return 0;
	}
	if (w.queued)
		goc__semq_remove(r, &w);
	goc__semroot_unlock(r);
	return GOC_ETIMEDOUT;
}

int goc_once_do_until(goc_once *once, void (*fn)(void *arg), void *arg, int64_t deadline)
{
	if (GOC__UNLIKELY(!once || !fn))
		return GOC_EINVAL;
	if (GOC__LIKELY(atomic_load_explicit(&once->state, memory_order_acquire) == ONCE_DONE))
		return 0;
	return once_slow(once, fn, arg, deadline);
}

int goc_once_do(goc_once *once, void (*fn)(void *arg), void *arg)
{
	return goc_once_do_until(once, fn, arg, GOC__NO_DEADLINE);
}

bool goc_once_done(goc_once *once)
{
	return once && atomic_load_explicit(&once->state, memory_order_acquire) == ONCE_DONE;
}
