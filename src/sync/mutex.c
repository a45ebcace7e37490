/* mutex.c - goc_mutex: Go's sync.Mutex, with deadlines and misuse checks.
 *
 * Two modes. A mutex starts biased to the P of its first locker, which then
 * locks and unlocks it with plain loads and stores; anyone else switches it
 * to the atomic mode for good ("biased mode", at the end of this file).
 * Most of this file is the atomic mode, Go's mutex:
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

/* ---- atomic mode: fast paths --------------------------------------------- */

static int lock_atomic(goc_mutex *m, int64_t deadline)
{
	if (GOC__LIKELY(set_locked(m))) {
		if (GOC__LIKELY(!(atomic_load_explicit(&m->state, memory_order_relaxed) & M_STARVING)))
			return 0;
		return lock_slow(m, deadline, true);
	}
	return lock_slow(m, deadline, false);
}

static int trylock_atomic(goc_mutex *m)
{
	if (!set_locked(m))
		return GOC_EAGAIN;
	if (GOC__LIKELY(!(atomic_load_explicit(&m->state, memory_order_relaxed) & M_STARVING)))
		return 0;
	/* Set during a starvation handoff: the lock is the queue's. */
	return handoff(m, true) ? GOC_EAGAIN : 0;
}

static int unlock_atomic(goc_mutex *m)
{
	/* One `lock btr` on x86; a clear bit stays clear: nothing written. */
	if (GOC__UNLIKELY(!(atomic_fetch_and_explicit(&m->state, ~M_LOCKED, memory_order_release) &
	                    M_LOCKED)))
		return GOC_EPERM;
	uint32_t s = atomic_load_explicit(&m->state, memory_order_relaxed);
	if (GOC__LIKELY(waiters_of(s) == 0 && !(s & M_STARVING)))
		return 0;
	return unlock_slow(m, s);
}

/* ---- atomic mode: slow paths ------------------------------------------- */

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

/* ---- biased mode ----------------------------------------------------------
 *
 * bias (one word besides state):
 *   B_FRESH     never locked: the first locker picks the mode
 *   B_REVOKED   atomic mode (everything above), for good
 *   B_REVOKING  being switched to atomic mode, under the bucket lock
 *   token       (P id + 1) << 2: biased to that P (goc__p_token)
 *
 * While biased, only code running as the bias P locks and unlocks, with a
 * plain load and store of held (1 locked, 0 free) and a re-check of bias,
 * with no atomic instruction: at GOC_PROCS=1, or for a mutex only one P
 * uses, that is most locks. Two threads never run as one P at once, and a
 * P moves between threads only through synchronising hand-offs, so the
 * P's own accesses are in program order (a goroutine of the P finding held
 * set is contention: it revokes, below, and queues in atomic mode).
 *
 * Anyone else (another P, a foreign thread, a goroutine inside
 * goc_blocking, a holder that migrated and unlocks elsewhere) first
 * revokes the bias, under the bucket lock: set B_REVOKING; if the caller is
 * not the bias P itself, goc__membarrier(), after which the bias P has
 * either finished any fast path it was in (its store to held is visible)
 * or will see B_REVOKING at its re-check; then exchange held for H_RETIRED
 * and convert: state = LOCKED if it was 1, else 0; then publish
 * B_REVOKED (release). A fast path that stored to held and then saw bias
 * change (it "diverted") waits for the bucket lock (the revoker holds it
 * from B_REVOKING to B_REVOKED), then exchanges held for H_RETIRED itself:
 * finding H_RETIRED means the revoker read its store (a locker was then
 * converted to the holder, an unlocker had released), finding its own
 * value means the revoker read the value before it (a locker does not hold
 * the lock, an unlocker still does, in atomic mode). Only the bias P and
 * the revoker ever write held, so one exchange decides.
 *
 * The price: a revocation by another thread costs a membarrier (about
 * 1 us: an interrupt to each CPU running one of our threads), once per
 * mutex. A program whose mutexes mostly end up shared would pay it for
 * each, so biases stop being granted once cross-thread revocations pass
 * GRANT_SLACK plus an eighth of the grants; a mutex created then starts
 * in atomic mode. Without membarrier (old kernels, sandboxes) every mutex
 * starts in atomic mode. */

#define B_FRESH    0u
#define B_REVOKED  1u
#define B_REVOKING 2u
#define B_TOKEN0   4u   /* tokens are >= this */
#define H_RETIRED  2u
#define GRANT_SLACK 1024

static _Atomic int64_t bias_grants, bias_xrevokes;

static bool bias_grantable(void)
{
	if (!goc__membarrier_register())
		return false;
	int64_t x = atomic_load_explicit(&bias_xrevokes, memory_order_relaxed);
	int64_t g = atomic_load_explicit(&bias_grants, memory_order_relaxed);
	return x <= GRANT_SLACK + g / 8;
}

/* The first lock of a fresh mutex: biased to the caller's P, or atomic.
 * Returns the mode now in force. */
static GOC__NOINLINE uint32_t choose_mode(goc_mutex *m)
{
	uint32_t tok = goc__p_token();
	uint32_t want = tok && bias_grantable() ? tok : B_REVOKED;
	uint32_t b = B_FRESH;
	if (!atomic_compare_exchange_strong_explicit(&m->bias, &b, want, memory_order_acq_rel,
	                                             memory_order_acquire))
		return b;
	if (want != B_REVOKED)
		atomic_fetch_add_explicit(&bias_grants, 1, memory_order_relaxed);
	return want;
}

/* Put m in atomic mode (see above). Returns when bias is B_REVOKED. */
static GOC__NOINLINE void revoke(goc_mutex *m)
{
	goc__semroot *r = goc__semroot_of(m);
	goc__semroot_lock(r);
	uint32_t b = atomic_load_explicit(&m->bias, memory_order_acquire);
	if (b == B_FRESH &&
	    atomic_compare_exchange_strong_explicit(&m->bias, &b, B_REVOKED, memory_order_acq_rel,
	                                            memory_order_acquire)) {
		goc__semroot_unlock(r);
		return;
	}
	if (b >= B_TOKEN0) {
		/* Only the bucket lock's holder moves bias off a token. */
		atomic_store_explicit(&m->bias, B_REVOKING, memory_order_seq_cst);
		if (b != goc__p_token()) {
			goc__membarrier();
			atomic_fetch_add_explicit(&bias_xrevokes, 1, memory_order_relaxed);
		}
		uint32_t h = atomic_exchange_explicit(&m->held, H_RETIRED, memory_order_acq_rel);
		atomic_store_explicit(&m->state, h == 1 ? M_LOCKED : 0, memory_order_relaxed);
		atomic_store_explicit(&m->bias, B_REVOKED, memory_order_release);
	}
	goc__semroot_unlock(r);
}

/* A fast path stored v to held, then found the bias gone: wait out the
 * revoker and learn whether it read the store. */
static GOC__NOINLINE bool revoker_read_store(goc_mutex *m)
{
	goc__semroot *r = goc__semroot_of(m);
	goc__semroot_lock(r);
	goc__semroot_unlock(r);
	return atomic_exchange_explicit(&m->held, H_RETIRED, memory_order_acq_rel) == H_RETIRED;
}

/* The biased fast paths, inlined in the API. Each returns 1 done; 0 not
 * tried (not biased to this P, or held / not held as needed); -1 stored to
 * held and then found the bias gone (a revoker is at work: the slow path
 * asks it what the store did). */
static inline int bias_fast_lock(goc_mutex *m, uint32_t b)
{
	if (b < B_TOKEN0 || b != goc__p_token() ||
	    atomic_load_explicit(&m->held, memory_order_relaxed) != 0)
		return 0;
	atomic_store_explicit(&m->held, 1, memory_order_relaxed);
	atomic_signal_fence(memory_order_seq_cst); /* the CPU's fence: a revoker's membarrier */
	return GOC__LIKELY(atomic_load_explicit(&m->bias, memory_order_acquire) == b) ? 1 : -1;
}

static inline int bias_fast_unlock(goc_mutex *m, uint32_t b)
{
	if (b < B_TOKEN0 || b != goc__p_token() ||
	    atomic_load_explicit(&m->held, memory_order_relaxed) != 1)
		return 0;
	atomic_store_explicit(&m->held, 0, memory_order_release);
	atomic_signal_fence(memory_order_seq_cst); /* as in bias_fast_lock */
	return GOC__LIKELY(atomic_load_explicit(&m->bias, memory_order_relaxed) == b) ? 1 : -1;
}

/* m is biased to this P and held reads h. Only this P writes held while
 * the bias lasts, and a revoker retires it (a value no caller asks for)
 * before anything else can change, so the answer holds. */
static bool biased_here_and(goc_mutex *m, uint32_t b, uint32_t h)
{
	return b >= B_TOKEN0 && b == goc__p_token() &&
	       atomic_load_explicit(&m->held, memory_order_acquire) == h &&
	       atomic_load_explicit(&m->bias, memory_order_relaxed) == b;
}

/* Lock (try: without waiting) when the mode was not atomic at the API's
 * look; fast is what bias_fast_lock said. */
static GOC__NOINLINE int lock_biased(goc_mutex *m, uint32_t b, int fast, int64_t deadline,
                                     bool try)
{
	if (fast == 0 && b == B_FRESH) {
		b = choose_mode(m);
		fast = bias_fast_lock(m, b);
		if (fast > 0)
			return 0;
	}
	if (fast < 0) {
		if (revoker_read_store(m))
			return 0; /* converted to the holder */
	} else if (try && biased_here_and(m, b, 1)) {
		return GOC_EAGAIN; /* held by a goroutine of this P: no need to revoke */
	} else if (b != B_REVOKED) { /* (choose_mode may have picked atomic) */
		revoke(m); /* another P's, contention on ours, or a revocation under way */
	}
	return try ? trylock_atomic(m) : lock_atomic(m, deadline);
}

static GOC__NOINLINE int unlock_biased(goc_mutex *m, uint32_t b, int fast)
{
	if (fast < 0) {
		if (revoker_read_store(m))
			return 0; /* it saw the lock free */
	} else if (b == B_FRESH) {
		return GOC_EPERM; /* never locked */
	} else if (biased_here_and(m, b, 0)) {
		return GOC_EPERM; /* ours, and not locked */
	} else {
		/* A holder that moved to another P, an unlock of an unlocked
		 * mutex, or a revocation under way: the atomic state decides. */
		revoke(m);
	}
	return unlock_atomic(m);
}

/* ---- the API --------------------------------------------------------------- */

int goc_mutex_lock(goc_mutex *m)
{
	return goc_mutex_lock_until(m, GOC__NO_DEADLINE);
}

/* lock_until and trylock (try: a constant once inlined). */
static inline int lock_api(goc_mutex *m, int64_t deadline, bool try)
{
	if (GOC__UNLIKELY(!m))
		return GOC_EINVAL;
	uint32_t b = atomic_load_explicit(&m->bias, memory_order_acquire);
	if (GOC__LIKELY(b == B_REVOKED))
		return try ? trylock_atomic(m) : lock_atomic(m, deadline);
	int fast = bias_fast_lock(m, b);
	if (GOC__LIKELY(fast > 0))
		return 0;
	return lock_biased(m, b, fast, deadline, try);
}

int goc_mutex_lock_until(goc_mutex *m, int64_t deadline)
{
	return lock_api(m, deadline, false);
}

int goc_mutex_trylock(goc_mutex *m)
{
	return lock_api(m, GOC__NO_DEADLINE, true);
}

int goc_mutex_unlock(goc_mutex *m)
{
	if (GOC__UNLIKELY(!m))
		return GOC_EINVAL;
	uint32_t b = atomic_load_explicit(&m->bias, memory_order_acquire);
	if (GOC__LIKELY(b == B_REVOKED))
		return unlock_atomic(m);
	int fast = bias_fast_unlock(m, b);
	if (GOC__LIKELY(fast > 0))
		return 0;
	return unlock_biased(m, b, fast);
}
