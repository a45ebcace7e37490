/* mutex.c - goc_mutex: Go's sync.Mutex, with deadlines and misuse checks.
 *
 * state (one atomic word):
 *   LOCKED    the mutex is held (bit 0)
 *   WOKEN     a locker is awake (spinning, or just woken) and will retry, so
 *             unlock need not wake anyone
 *   STARVING  starvation mode: the lock goes to the oldest waiter
 *   waiters   (state >> WAITER_SHIFT) records queued in the wait table
 *
 * Fast paths are one atomic instruction each, whatever the other bits say:
 * lock sets bit 0 (x86: lock bts) and owns the mutex if it was clear; unlock
 * clears it (lock btr), which also detects an unlock of an unlocked mutex
 * without writing anything. Only then does either look at the other bits
 * (a plain load of a line it just wrote), so waiters queued on a mutex do
 * not push every lock and unlock onto a CAS slow path.
 *
 * Two modes, as in Go. Normal: unlock releases the lock and wakes the oldest
 * waiter, which competes with newly arriving lockers (they are on a CPU and
 * usually win, which is what makes the mutex fast); a woken waiter that
 * loses goes back to the head of the queue. A waiter that has waited over
 * 1 ms sets STARVING: from then on the lock is handed to the oldest waiter
 * directly, new lockers queue at the tail, and the mode ends when a waiter
 * that got the lock waited under 1 ms or was the last one. Waits (and
 * deadlines) are measured on goc__clock_now, goc_now's clock: virtual in
 * simulation mode, so there the mode switches with the seeded schedule,
 * not with the host's speed.
 *
 * Handoff rule. In starvation mode, whoever sets LOCKED (the unlocker, which
 * takes the lock straight back after its clearing instruction, or any locker
 * whose set found STARVING) does not own the mutex: it hands it, LOCKED
 * still set, to the oldest waiter, under the bucket lock. So a starving
 * waiter is served at the first acquisition after each unlock, and the
 * fast paths stay single instructions. A locker that finds STARVING after
 * its set may be handing off a lock it came by normally (the flag was set
 * just after); that only serves the queue earlier.
 *
 * Every change that involves a waiter happens under the bucket lock of the
 * wait table (semtab.h): a waiter adds itself to the count and queues in one
 * critical section, and whoever dequeues a record (a waker, or the waiter
 * after its deadline) takes it off the count. Hence:
 *   - waiters == the number of queued records, whenever the bucket lock is free;
 *   - STARVING is set by a queueing waiter only while LOCKED, and is
 *     cleared by a handoff to a waiter that did not starve or when the last
 *     waiter leaves; STARVING without LOCKED means a handoff is owed;
 *   - a waiter that times out just leaves: nothing was handed to it that it
 *     could drop.
 * Lock-free paths only flip LOCKED and WOKEN, so CAS loops under the bucket
 * lock simply re-read and recompute.
 *
 * Orderings: setting LOCKED is an acquire and clearing it a release, which
 * pairs each critical section with the next; a handoff is ordered by the
 * bucket lock and the ready/park pair. An unlocker's load of the waiter
 * count after its clear cannot miss a waiter: queueing is a CAS that needs
 * LOCKED set, so it is ordered before the clear (then the load sees it) or
 * fails and retakes the free lock.
 */
#include "semtab.h"
#include "../sched/sim.h"

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

/* Set LOCKED; true if it was clear (we set it). One `lock bts` on x86. */
static inline bool set_locked(goc_mutex *m)
{
	return !(atomic_fetch_or_explicit(&m->state, M_LOCKED, memory_order_acquire) & M_LOCKED);
}

static int lock_slow(goc_mutex *m, int64_t deadline, bool owe_handoff);
static int unlock_slow(goc_mutex *m, uint32_t s);
static bool handoff(goc_mutex *m, bool keep_if_none);

int goc_mutex_lock(goc_mutex *m)
{
	return goc_mutex_lock_until(m, GOC__NO_DEADLINE);
}

int goc_mutex_lock_until(goc_mutex *m, int64_t deadline)
{
	if (GOC__UNLIKELY(!m))
		return GOC_EINVAL;
	if (GOC__LIKELY(set_locked(m))) {
		if (GOC__LIKELY(!(atomic_load_explicit(&m->state, memory_order_relaxed) & M_STARVING)))
			return 0;
		return lock_slow(m, deadline, true);
	}
	return lock_slow(m, deadline, false);
}

int goc_mutex_trylock(goc_mutex *m)
{
	if (GOC__UNLIKELY(!m))
		return GOC_EINVAL;
	if (!set_locked(m))
		return GOC_EAGAIN;
	if (GOC__LIKELY(!(atomic_load_explicit(&m->state, memory_order_relaxed) & M_STARVING)))
		return 0;
	/* Set during a starvation handoff: the lock is the queue's. */
	return handoff(m, true) ? GOC_EAGAIN : 0;
}

int goc_mutex_unlock(goc_mutex *m)
{
	if (GOC__UNLIKELY(!m))
		return GOC_EINVAL;
	/* One `lock btr` on x86; a clear bit stays clear: nothing written. */
	if (GOC__UNLIKELY(!(atomic_fetch_and_explicit(&m->state, ~M_LOCKED, memory_order_release) &
	                    M_LOCKED)))
		return GOC_EPERM;
	uint32_t s = atomic_load_explicit(&m->state, memory_order_relaxed);
	if (GOC__LIKELY(waiters_of(s) == 0 && !(s & M_STARVING)))
		return 0;
	return unlock_slow(m, s);
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

static GOC__NOINLINE int lock_slow(goc_mutex *m, int64_t deadline, bool owe_handoff)
{
	/* The fast path set LOCKED in starvation mode: serve the queue first
	 * (if it emptied meanwhile, the lock is ours), then queue ourselves. */
	if (owe_handoff && !handoff(m, true))
		return 0;

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
		if (!(old & (M_LOCKED | M_STARVING))) {
			/* Free, normal mode: take it. */
			uint32_t nw = old | M_LOCKED;
			if (awoke)
				nw &= ~M_WOKEN;
			if (atomic_compare_exchange_weak_explicit(&m->state, &old, nw,
			                                          memory_order_acquire,
			                                          memory_order_relaxed))
				return 0;
			continue;
		}
		/* Held, or owed to the queue: queue. Past the deadline we give up
		 * here, unless we are the awake locker: then we queue anyway
		 * (clearing WOKEN on the way in, which unlockers rely on) and
		 * time out at once. */
		if (!awoke && deadline != GOC__NO_DEADLINE && goc__clock_now() >= deadline)
			return GOC_ETIMEDOUT;

		goc__semw w = {0};
		goc__semroot_lock(r);
		old = atomic_load_explicit(&m->state, memory_order_relaxed);
		for (;;) {
			if (!(old & (M_LOCKED | M_STARVING)))
				break;
			uint32_t nw = old + M_WAITER;
			if (starving && (old & M_LOCKED))
				nw |= M_STARVING;
			if (awoke)
				nw &= ~M_WOKEN;
			if (waiters_of(nw) == 0)
				goc__panic("mutex: too many waiters");
			if (atomic_compare_exchange_weak_explicit(&m->state, &old, nw,
			                                          memory_order_relaxed,
			                                          memory_order_relaxed))
				break;
		}
		if (!(old & (M_LOCKED | M_STARVING))) {
			/* Released while we took the bucket lock: try again. */
			goc__semroot_unlock(r);
			continue;
		}
		awoke = false;
		bool lifo = wait_start != 0;
		if (!wait_start)
			wait_start = goc__clock_now();
		w.since = wait_start;
		goc__semq_push(r, m, &w, lifo);
		int res = goc__semq_park(r, &w, GOC__WAIT_MUTEX, m, deadline);
		if (res != GOC__WAKE_READY) {
			/* Bucket lock held. Still queued: leave, and the starvation
			 * mode with us if we were the last waiter. Not queued: a
			 * waker dequeued us, failed the claim and did that. */
			if (w.queued) {
				goc__semq_remove(r, &w);
				old = atomic_load_explicit(&m->state, memory_order_relaxed);
				STATE_UPDATE(m, old, minus_waiter(old));
			}
			goc__semroot_unlock(r);
			return GOC_ETIMEDOUT;
		}
		if (w.handoff) {
			/* The giver left LOCKED set for us; the acquire pairs with
			 * its release of the state. */
			atomic_thread_fence(memory_order_acquire);
			return 0;
		}
		starving = starving || goc__clock_now() - wait_start > STARVATION_NS;
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
			goc__panic("mutex %p: %u waiters counted but none queued (copied while in "
			           "use, or used after goc_main returned with goroutines waiting?)",
			           (void *)m, waiters_of(old));
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

/* We set LOCKED in starvation mode: give the lock, LOCKED still set, to the
 * oldest waiter. With none left (they timed out) starvation mode ends, and
 * the lock is kept (keep_if_none: a locker) or released (an unlocker).
 * Returns whether a waiter got it. */
static bool handoff(goc_mutex *m, bool keep_if_none)
{
	goc__semroot *r = goc__semroot_of(m);
	bool given = false;
	goc__semroot_lock(r);
	uint32_t old = atomic_load_explicit(&m->state, memory_order_relaxed);
	for (;;) {
		goc__semw *w = goc__semq_first(r, m);
		if (!w) {
			STATE_UPDATE(m, old, keep_if_none ? old & ~M_STARVING
			                                  : old & ~(M_LOCKED | M_STARVING));
			break;
		}
		goc__semq_remove(r, w);
		if (!goc__wait_claim(w->g)) {
			STATE_UPDATE(m, old, minus_waiter(old));
			continue;
		}
		/* Leave starvation mode when this waiter did not starve or was
		 * the last: the same rule as Go's, applied by the giver. */
		bool stay = goc__clock_now() - w->since > STARVATION_NS;
		STATE_UPDATE(m, old, stay ? minus_waiter(old) : minus_waiter(old) & ~M_STARVING);
		w->handoff = true;
		goc__ready(w->g);
		given = true;
		break;
	}
	goc__semroot_unlock(r);
	return given;
}

/* After the fast path cleared LOCKED; s is the state seen just after. */
static GOC__NOINLINE int unlock_slow(goc_mutex *m, uint32_t s)
{
	if (s & M_STARVING) {
		/* Take the lock straight back to hand it over. If someone else
		 * set LOCKED first, the handoff is theirs to do. */
		if (set_locked(m))
			handoff(m, false);
		return 0;
	}
	if (waiters_of(s) != 0 && !(s & (M_LOCKED | M_WOKEN)))
		wake_one(m);
	return 0;
}
