/* waitgroup.c - goc_waitgroup: wait for a collection of goroutines.
 *
 * state packs the counter (high 32 bits, signed) and the number of queued
 * waiters (low 32) into one atomic word, as Go's sync.WaitGroup does, so
 * add/done are one CAS on the fast path and allocate nothing (the spawn
 * benchmark calls done a million times). A CAS rather than an atomic add:
 * a counter that would go negative is refused before anything is written.
 *
 * Waiters queue in the wait table (semtab.h) under the group's address. A
 * waiter increments the waiter count and queues in one critical section of
 * the bucket lock, and only while the counter is non-zero; the add that
 * brings the counter to zero with waiters takes the bucket lock, zeroes the
 * waiter count and readies every queued record. A waiter whose deadline
 * fires removes itself and uncounts itself under the same lock, unless a
 * waker already dequeued it (and then the waker's reset covered it). So
 * waiters == queued records whenever the bucket lock is free.
 *
 * Orderings: add's CAS is acq_rel, so each done's writes happen before the
 * zero is seen; waiters acquire through the bucket lock and the ready/park
 * pair, or through the acquire load that sees the counter at zero.
 */
#include "semtab.h"
#include "../sched/sim.h"

static inline int32_t counter_of(uint64_t s) { return (int32_t)(s >> 32); }
static inline uint32_t waiters_of(uint64_t s) { return (uint32_t)s; }

static GOC__NOINLINE void release_waiters(goc_waitgroup *wg)
{
	goc__semroot *r = goc__semroot_of(wg);
	goc__semroot_lock(r);
	uint64_t old = atomic_load_explicit(&wg->state, memory_order_relaxed);
	/* Another add may have raised the counter again (a new round began
	 * before this one's waiters ran): they then wait for that round. */
	while (counter_of(old) == 0 && waiters_of(old) != 0) {
		if (!atomic_compare_exchange_weak_explicit(&wg->state, &old, 0, memory_order_acq_rel,
		                                           memory_order_relaxed))
			continue;
		goc__semw *w;
		while ((w = goc__semq_first(r, wg))) {
			goc__semq_remove(r, w);
			if (goc__wait_claim(w->g))
				goc__ready(w->g);
		}
		break;
	}
	goc__semroot_unlock(r);
}

int goc_waitgroup_add(goc_waitgroup *wg, int delta)
{
	if (GOC__UNLIKELY(!wg))
		return GOC_EINVAL;
	uint64_t old = atomic_load_explicit(&wg->state, memory_order_relaxed);
	uint64_t nw;
	for (;;) {
		int64_t v = (int64_t)counter_of(old) + delta;
		if (GOC__UNLIKELY(v < 0))
			return GOC_ENEGATIVE;
		if (GOC__UNLIKELY(v > INT32_MAX))
			return GOC_EINVAL;
		nw = ((uint64_t)(uint32_t)v << 32) | waiters_of(old);
		if (GOC__LIKELY(atomic_compare_exchange_weak_explicit(&wg->state, &old, nw,
		                                                       memory_order_acq_rel,
		                                                       memory_order_relaxed)))
			break;
	}
	if (GOC__UNLIKELY(counter_of(nw) == 0 && waiters_of(nw) != 0))
		release_waiters(wg);
	return 0;
}

int goc_waitgroup_done(goc_waitgroup *wg)
{
	return goc_waitgroup_add(wg, -1);
}

int goc_waitgroup_wait_until(goc_waitgroup *wg, int64_t deadline)
{
	if (GOC__UNLIKELY(!wg))
		return GOC_EINVAL;
	uint64_t old = atomic_load_explicit(&wg->state, memory_order_acquire);
	if (counter_of(old) == 0)
		return 0;
	if (deadline != GOC__NO_DEADLINE && goc__clock_now() >= deadline)
		return GOC_ETIMEDOUT;

	goc__semroot *r = goc__semroot_of(wg);
	goc__semroot_lock(r);
	old = atomic_load_explicit(&wg->state, memory_order_acquire);
	for (;;) {
		if (counter_of(old) == 0) {
			goc__semroot_unlock(r);
			return 0;
		}
		if (waiters_of(old) == UINT32_MAX)
			goc__panic("waitgroup: too many waiters");
		if (atomic_compare_exchange_weak_explicit(&wg->state, &old, old + 1,
		                                          memory_order_acquire, memory_order_acquire))
			break;
	}
	goc__semw w = {0};
	goc__semq_push(r, wg, &w, false);
	if (goc__semq_park(r, &w, GOC__WAIT_WAITGROUP, wg, deadline) == GOC__WAKE_READY) {
		atomic_thread_fence(memory_order_acquire);
		return 0;
	}
	/* Timed out (bucket lock held). */
	if (w.queued) {
		goc__semq_remove(r, &w);
		atomic_fetch_sub_explicit(&wg->state, 1, memory_order_relaxed);
	}
	goc__semroot_unlock(r);
	return GOC_ETIMEDOUT;
}

int goc_waitgroup_wait(goc_waitgroup *wg)
{
	return goc_waitgroup_wait_until(wg, GOC__NO_DEADLINE);
}
