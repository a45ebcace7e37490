/* mutex.c - goc_mutex: Go's sync.Mutex, with deadlines and misuse checks.
 *
 * state (one atomic word):
 *   LOCKED    the mutex is held
 *   WOKEN     a locker is awake (spinning, or just woken) and will retry, so
 *             unlock need not wake anyone
 *   STARVING  starvation mode: unlock hands ownership to the oldest waiter
 *   waiters   (state >> WAITER_SHIFT) records queued in the wait table
 *
 * Two modes, as in Go. Normal: unlock releases the lock and wakes the oldest
 * waiter, which competes with newly arriving lockers (they are on a CPU and
 * usually win, which is what makes the mutex fast); a woken waiter that
 * loses goes back to the head of the queue. A waiter that has waited over
 * 1 ms sets STARVING: from then on unlock hands the lock to the oldest
 * waiter directly (LOCKED never drops), new lockers queue at the tail
 * without trying, and the mode ends when a waiter that got the lock waited
 * under 1 ms or was the last one.
 *
 * Unlike Go's mutex, which hands over through a counting semaphore and so
 * has an instant where the lock is neither held nor free, every change that
 * involves a waiter happens under the bucket lock of the wait table
 * (semtab.h): a waiter adds itself to the count and queues in one critical
 * section, and whoever dequeues a record (the unlocker, or the waiter after
 * its deadline) takes it off the count. Hence:
 *   - waiters == the number of queued records, whenever the bucket lock is free;
 *   - STARVING is set only while LOCKED (a handoff keeps LOCKED set), and
 *     is cleared when the last waiter leaves;
 *   - a waiter that times out just leaves: nothing was handed to it that
 *     it could drop.
 * Lock-free paths (fast lock/unlock, spinning) only flip LOCKED and WOKEN,
 * so CAS loops under the bucket lock simply re-read and recompute.
 *
 * Orderings: acquiring CASes are acquire and releasing ones release, which
 * pairs each critical section with the next; a handoff is ordered by the
 * bucket lock and the ready/park pair.
 */
#include "semtab.h"

#define M_LOCKED       1u
#define M_WOKEN        2u
#define M_STARVING     4u
#define M_WAITER_SHIFT 3
#define M_WAITER       (1u << M_WAITER_SHIFT)

#define STARVATION_NS 1000000   /* Go's starvationThresholdNs */

static inline uint32_t waiters_of(uint32_t s) { return s >> M_WAITER_SHIFT; }

/* One waiter fewer; starvation mode ends with the last waiter. */
static inline uint32_t minus_waiter(uint32_t s)
{
	s -= M_WAITER;
	return waiters_of(s) == 0 ? s & ~M_STARVING : s;
}

static int lock_slow(goc_mutex *m, int64_t deadline);
static int unlock_slow(goc_mutex *m, uint32_t old);

int goc_mutex_lock(goc_mutex *m)
{
	if (GOC__UNLIKELY(!m))
		return GOC_EINVAL;
	uint32_t old = 0;
	if (GOC__LIKELY(atomic_compare_exchange_strong_explicit(&m->state, &old, M_LOCKED,
	                                                         memory_order_acquire,
	                                                         memory_order_relaxed)))
		return 0;
	return lock_slow(m, GOC__NO_DEADLINE);
}

int goc_mutex_lock_until(goc_mutex *m, int64_t deadline)
{
	if (GOC__UNLIKELY(!m))
		return GOC_EINVAL;
	uint32_t old = 0;
	if (atomic_compare_exchange_strong_explicit(&m->state, &old, M_LOCKED, memory_order_acquire,
	                                            memory_order_relaxed))
		return 0;
	return lock_slow(m, deadline);
}

int goc_mutex_trylock(goc_mutex *m)
{
	if (GOC__UNLIKELY(!m))
		return GOC_EINVAL;
	uint32_t old = atomic_load_explicit(&m->state, memory_order_relaxed);
	for (;;) {
		/* Busy, or in starvation mode (the lock belongs to the queue). */
		if (old & (M_LOCKED | M_STARVING))
			return GOC_EAGAIN;
		if (atomic_compare_exchange_weak_explicit(&m->state, &old, old | M_LOCKED,
		                                          memory_order_acquire, memory_order_relaxed))
			return 0;
	}
}

int goc_mutex_unlock(goc_mutex *m)
{
	if (GOC__UNLIKELY(!m))
		return GOC_EINVAL;
	uint32_t old = M_LOCKED;
	if (GOC__LIKELY(atomic_compare_exchange_strong_explicit(&m->state, &old, 0,
	                                                         memory_order_release,
	                                                         memory_order_relaxed)))
		return 0;
	return unlock_slow(m, old);
}

/* ---- slow paths --------------------------------------------------------- */

/* Set the state to expr (computed from old) with a CAS loop; old is updated.
 * Used with the bucket lock held, so only LOCKED and WOKEN can move under us
 * and recomputing from the fresh value is always right. */
#define STATE_UPDATE(m, old, expr)                                                        \
	do {                                                                              \
		uint32_t nw_;                                                             \
		do {                                                                      \
			nw_ = (expr);                                                     \
		} while (!atomic_compare_exchange_weak_explicit(&(m)->state, &(old), nw_, \
		                                                memory_order_acq_rel,    \
		                                                memory_order_relaxed));   \
		(old) = nw_;                                                              \
	} while (0)

static GOC__NOINLINE int lock_slow(goc_mutex *m, int64_t deadline)
{
	goc__semroot *r = goc__semroot_of(m);
	int64_t wait_start = 0;
	bool starving = false, awoke = false;
	int iter = 0;
	uint32_t old = atomic_load_explicit(&m->state, memory_order_relaxed);

	for (;;) {
		/* Spin while a running holder may release soon. Not in starvation
		 * mode: the lock goes to the queue anyway. Setting WOKEN tells
		 * unlock not to wake a waiter we would race with. */
		if ((old & (M_LOCKED | M_STARVING)) == M_LOCKED && goc__sync_can_spin(iter)) {
			if (!awoke && !(old & M_WOKEN) && waiters_of(old) != 0 &&
			    atomic_compare_exchange_weak_explicit(&m->state, &old, old | M_WOKEN,
			                                          memory_order_relaxed,
			                                          memory_order_relaxed))
				awoke = true;
			goc__sync_spin();
			iter++;
			old = atomic_load_explicit(&m->state, memory_order_relaxed);
			continue;
		}
		if (!(old & M_LOCKED)) {
			/* Free (so not starving): take it. */
			uint32_t nw = old | M_LOCKED;
			if (awoke)
				nw &= ~M_WOKEN;
			if (atomic_compare_exchange_weak_explicit(&m->state, &old, nw,
			                                          memory_order_acquire,
			                                          memory_order_relaxed))
				return 0;
			continue;
		}
		/* Held: queue. Past the deadline we give up here, unless we are
		 * the awake locker: then we queue anyway (clearing WOKEN on the
		 * way in, which unlockers rely on) and time out at once. */
		if (!awoke && deadline != GOC__NO_DEADLINE && goc__nanotime() >= deadline)
			return GOC_ETIMEDOUT;

		goc__semw w = {0};
		goc__semroot_lock(r);
		old = atomic_load_explicit(&m->state, memory_order_relaxed);
		for (;;) {
			if (!(old & M_LOCKED))
				break;
			uint32_t nw = old + M_WAITER;
			if (starving)
				nw |= M_STARVING;   /* old is LOCKED: STARVING stays tied to it */
			if (awoke)
				nw &= ~M_WOKEN;
			if (waiters_of(nw) == 0)
				goc__panic("mutex: too many waiters");
			if (atomic_compare_exchange_weak_explicit(&m->state, &old, nw,
			                                          memory_order_relaxed,
			                                          memory_order_relaxed))
				break;
		}
		if (!(old & M_LOCKED)) {
			/* Released while we took the bucket lock: try again. */
			goc__semroot_unlock(r);
			continue;
		}
		awoke = false;
		bool lifo = wait_start != 0;
		if (!wait_start)
			wait_start = goc__nanotime();
		w.since = wait_start;
		goc__semq_push(r, m, &w, lifo);
		int res = goc__semq_park(r, &w, GOC__WAIT_MUTEX, m, deadline);
		if (res != GOC__WAKE_READY) {
			/* Bucket lock held. Still queued: leave, and the starvation
			 * mode with us if we were the last waiter. Not queued: an
			 * unlocker dequeued us, failed the claim and did that. */
			if (w.queued) {
				goc__semq_remove(r, &w);
				old = atomic_load_explicit(&m->state, memory_order_relaxed);
				STATE_UPDATE(m, old, minus_waiter(old));
			}
			goc__semroot_unlock(r);
			return GOC_ETIMEDOUT;
		}
		if (w.handoff) {
			/* Starvation mode: the unlocker left LOCKED set for us. The
			 * acquire pairs with the unlocker's release of the state. */
			atomic_thread_fence(memory_order_acquire);
			return 0;
		}
		starving = starving || goc__nanotime() - wait_start > STARVATION_NS;
		awoke = true;
		iter = 0;
		old = atomic_load_explicit(&m->state, memory_order_relaxed);
	}
}

/* Normal mode, lock just released: wake the oldest waiter unless someone
 * else will take care of the lock (it was retaken, a locker is awake, or a
 * starvation handoff is under way). */
static void wake_one(goc_mutex *m)
{
	goc__semroot *r = goc__semroot_of(m);
	goc__semroot_lock(r);
	for (;;) {
		uint32_t old = atomic_load_explicit(&m->state, memory_order_relaxed);
		if (waiters_of(old) == 0 || (old & (M_LOCKED | M_WOKEN | M_STARVING)))
			break;
		goc__semw *w = goc__semq_first(r, m);
		if (!w)
			goc__panic("mutex: %u waiters counted but none queued", waiters_of(old));
		goc__semq_remove(r, w);
		if (!goc__wait_claim(w->g)) {
			/* Its deadline won: it is leaving; uncount it and look again. */
			STATE_UPDATE(m, old, minus_waiter(old));
			continue;
		}
		/* WOKEN: the woken waiter will compete; no other wake meanwhile. */
		STATE_UPDATE(m, old, (old - M_WAITER) | M_WOKEN);
		goc__ready(w->g);
		break;
	}
	goc__semroot_unlock(r);
}

/* Starvation mode: hand the lock, still LOCKED, to the oldest waiter. */
static void handoff(goc_mutex *m)
{
	goc__semroot *r = goc__semroot_of(m);
	goc__semroot_lock(r);
	uint32_t old = atomic_load_explicit(&m->state, memory_order_relaxed);
	for (;;) {
		goc__semw *w = goc__semq_first(r, m);
		if (!w) {
			/* Every waiter left (timed out) since we looked: just unlock. */
			STATE_UPDATE(m, old, old & ~(M_LOCKED | M_STARVING));
			break;
		}
		goc__semq_remove(r, w);
		if (!goc__wait_claim(w->g)) {
			STATE_UPDATE(m, old, minus_waiter(old));
			continue;
		}
		/* Leave starvation mode when this waiter did not starve or was
		 * the last: the same rule as Go's, applied by the giver. */
		bool stay = goc__nanotime() - w->since > STARVATION_NS;
		STATE_UPDATE(m, old, stay ? minus_waiter(old) : minus_waiter(old) & ~M_STARVING);
		w->handoff = true;
		goc__ready(w->g);
		break;
	}
	goc__semroot_unlock(r);
}

static GOC__NOINLINE int unlock_slow(goc_mutex *m, uint32_t old)
{
	for (;;) {
		if (!(old & M_LOCKED))
			return GOC_EPERM;   /* nothing written */
		if (old & M_STARVING) {
			handoff(m);
			return 0;
		}
		uint32_t nw = old & ~M_LOCKED;
		if (!atomic_compare_exchange_weak_explicit(&m->state, &old, nw, memory_order_release,
		                                           memory_order_relaxed))
			continue;
		if (waiters_of(nw) != 0 && !(nw & M_WOKEN))
			wake_one(m);
		return 0;
	}
}
