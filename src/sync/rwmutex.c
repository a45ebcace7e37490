/* rwmutex.c - goc_rwmutex: a reader/writer lock with writer preference.
 *
 * state (one atomic word):
 *   WRITER    a writer holds the lock
 *   WWAIT     writers are queued (new readers must queue behind them)
 *   RWAIT     readers are queued
 *   readers   (state >> READER_SHIFT) readers holding the lock
 *
 * Policy (Go's rwmutex.go): a waiting writer stops new readers, and gets
 * the lock when the active readers have drained; a writer's unlock admits
 * every queued reader at once (those arrived during its hold), before the
 * next writer. So neither side starves. Writers queue FIFO and the lock is
 * handed to them directly (no barging while anyone is queued).
 *
 * Readers queue under key rw+1 and writers under key rw, both in rw's
 * bucket of the wait table (semtab.h), so one bucket lock covers both.
 * Invariants whenever that lock is free:
 *   WWAIT == writers queued; RWAIT == readers queued;
 *   never WRITER with readers > 0;
 *   WWAIT implies WRITER or readers > 0 (a queued writer waits for someone);
 *   RWAIT implies WRITER or WWAIT (a queued reader waits for a writer).
 * Lock-free fast paths never break these: rlock adds a reader only without
 * WRITER|WWAIT, lock takes only state 0, unlock drops only a bare WRITER,
 * runlock drops a reader unless it is the last one with a writer waiting
 * (that one takes the slow path: the writer must be handed the lock).
 * Every slow path changes the state under the bucket lock, then calls
 * settle(), which restores the invariants: hands the lock to the first
 * writer or admits the queued readers. settle claims waiters before it
 * publishes their grant; that is safe because, with the lock held and the
 * flags set, the only concurrent state changes are readers leaving.
 */
#include "semtab.h"
#include "../sched/sim.h"

enum {
	RW_WRITER = 1u,
	RW_WWAIT = 2u,
	RW_RWAIT = 4u,
	RW_READER_SHIFT = 3,
	RW_READER = 1u << RW_READER_SHIFT,
};
#define RW_MAX_READERS (UINT32_MAX >> RW_READER_SHIFT)

static inline uint32_t readers_of(uint32_t s) { return s >> RW_READER_SHIFT; }
static inline const void *writer_key(goc_rwmutex *rw) { return rw; }
static inline const void *reader_key(goc_rwmutex *rw) { return (const char *)rw + 1; }

/* Bucket lock held. after_writer: a writer just unlocked, so queued readers
 * go first (Go's rule); otherwise a drained lock goes to the first writer. */
static void settle(goc_rwmutex *rw, goc__semroot *r, bool after_writer)
{
	goc__semw *granted = NULL;   /* claimed waiters, linked through next */
	uint32_t add = 0;
	uint32_t old = atomic_load_explicit(&rw->state, memory_order_relaxed);
	while (!(old & RW_WRITER) && add == 0) {
		goc__semw *rq = goc__semq_first(r, reader_key(rw));
		goc__semw *wq = goc__semq_first(r, writer_key(rw));
		if (rq && (after_writer || !wq)) {
			/* Admit every queued reader (those past their deadline
			 * excepted); tried again below if none was left. */
			while ((rq = goc__semq_first(r, reader_key(rw)))) {
				goc__semq_remove(r, rq);
				if (goc__wait_claim(rq->g)) {
					rq->next = granted;
					granted = rq;
					add += RW_READER;
				}
			}
			after_writer = false;
			continue;
		}
		if (wq && readers_of(old) == 0) {
			goc__semq_remove(r, wq);
			if (goc__wait_claim(wq->g)) {
				wq->next = NULL;
				granted = wq;
				add = RW_WRITER;
			}
			continue;
		}
		break;
	}
	uint32_t flags = (goc__semq_first(r, writer_key(rw)) ? RW_WWAIT : 0) |
	                 (goc__semq_first(r, reader_key(rw)) ? RW_RWAIT : 0);
	uint32_t nw;
	do {
		nw = ((old & ~(RW_WWAIT | RW_RWAIT)) | flags) + add;
	} while (!atomic_compare_exchange_weak_explicit(&rw->state, &old, nw, memory_order_acq_rel,
	                                                memory_order_relaxed));
	while (granted) {
		goc__semw *next = granted->next;   /* read before the ready: the record dies */
		goc__ready(granted->g);
		granted = next;
	}
}

/* Queue the caller as a reader or writer (bucket lock held, flag already
 * set) and wait. Returns 0 when granted, GOC_ETIMEDOUT otherwise. */
static int wait_for(goc_rwmutex *rw, goc__semroot *r, bool writer, int64_t deadline)
{
	goc__semw w = {0};
	goc__semq_push(r, writer ? writer_key(rw) : reader_key(rw), &w, false);
	if (goc__semq_park(r, &w, GOC__WAIT_RWMUTEX, rw, deadline) == GOC__WAKE_READY) {
		atomic_thread_fence(memory_order_acquire);  /* pairs with settle's grant */
		return 0;
	}
	if (w.queued) {
		goc__semq_remove(r, &w);
		settle(rw, r, false);   /* our flag may go; readers behind us may go in */
	}
	goc__semroot_unlock(r);
	return GOC_ETIMEDOUT;
}

/* ---- readers ------------------------------------------------------------ */

static inline bool try_rlock(goc_rwmutex *rw, uint32_t *oldp)
{
	uint32_t old = atomic_load_explicit(&rw->state, memory_order_relaxed);
	while (!(old & (RW_WRITER | RW_WWAIT)) && readers_of(old) < RW_MAX_READERS) {
		if (atomic_compare_exchange_weak_explicit(&rw->state, &old, old + RW_READER,
		                                          memory_order_acquire, memory_order_relaxed))
			return true;
	}
	*oldp = old;
	return false;
}

static GOC__NOINLINE int rlock_slow(goc_rwmutex *rw, int64_t deadline)
{
	goc__semroot *r = goc__semroot_of(rw);
	goc__semroot_lock(r);
	uint32_t old = atomic_load_explicit(&rw->state, memory_order_relaxed);
	for (;;) {
		if (!(old & (RW_WRITER | RW_WWAIT))) {
			if (readers_of(old) >= RW_MAX_READERS) {
				goc__semroot_unlock(r);
				return GOC_EAGAIN;
			}
			if (atomic_compare_exchange_weak_explicit(&rw->state, &old, old + RW_READER,
			                                          memory_order_acquire,
			                                          memory_order_relaxed)) {
				goc__semroot_unlock(r);
				return 0;
			}
			continue;
		}
		if (deadline != GOC__NO_DEADLINE && goc__clock_now() >= deadline) {
			goc__semroot_unlock(r);
			return GOC_ETIMEDOUT;
		}
		if (atomic_compare_exchange_weak_explicit(&rw->state, &old, old | RW_RWAIT,
		                                          memory_order_relaxed, memory_order_relaxed))
			return wait_for(rw, r, false, deadline);
	}
}

int goc_rwmutex_rlock(goc_rwmutex *rw)
{
	return goc_rwmutex_rlock_until(rw, GOC__NO_DEADLINE);
}

int goc_rwmutex_rlock_until(goc_rwmutex *rw, int64_t deadline)
{
	if (GOC__UNLIKELY(!rw))
		return GOC_EINVAL;
	uint32_t old;
	if (GOC__LIKELY(try_rlock(rw, &old)))
		return 0;
	return rlock_slow(rw, deadline);
}

int goc_rwmutex_tryrlock(goc_rwmutex *rw)
{
	if (GOC__UNLIKELY(!rw))
		return GOC_EINVAL;
	uint32_t old;
	return try_rlock(rw, &old) ? 0 : GOC_EAGAIN;
}

/* The last reader leaving while a writer waits: hand the writer the lock. */
static GOC__NOINLINE int runlock_slow(goc_rwmutex *rw)
{
	goc__semroot *r = goc__semroot_of(rw);
	goc__semroot_lock(r);
	uint32_t old = atomic_load_explicit(&rw->state, memory_order_relaxed);
	do {
		if (readers_of(old) == 0) {
			goc__semroot_unlock(r);
			return GOC_EPERM;
		}
	} while (!atomic_compare_exchange_weak_explicit(&rw->state, &old, old - RW_READER,
	                                                memory_order_release, memory_order_relaxed));
	settle(rw, r, false);
	goc__semroot_unlock(r);
	return 0;
}

int goc_rwmutex_runlock(goc_rwmutex *rw)
{
	if (GOC__UNLIKELY(!rw))
		return GOC_EINVAL;
	uint32_t old = atomic_load_explicit(&rw->state, memory_order_relaxed);
	for (;;) {
		if (readers_of(old) == 0)
			return GOC_EPERM;   /* nothing written */
		if (readers_of(old) == 1 && (old & RW_WWAIT))
			return runlock_slow(rw);
		if (atomic_compare_exchange_weak_explicit(&rw->state, &old, old - RW_READER,
		                                          memory_order_release, memory_order_relaxed))
			return 0;
	}
}

/* ---- writers ------------------------------------------------------------ */

static GOC__NOINLINE int lock_slow(goc_rwmutex *rw, int64_t deadline)
{
	goc__semroot *r = goc__semroot_of(rw);
	goc__semroot_lock(r);
	uint32_t old = atomic_load_explicit(&rw->state, memory_order_relaxed);
	for (;;) {
		/* Free: no writer, no reader, no writer ahead of us (readers may
		 * be queued only transiently, never with the bucket lock free). */
		if (!(old & (RW_WRITER | RW_WWAIT)) && readers_of(old) == 0) {
			if (atomic_compare_exchange_weak_explicit(&rw->state, &old, old | RW_WRITER,
			                                          memory_order_acquire,
			                                          memory_order_relaxed)) {
				goc__semroot_unlock(r);
				return 0;
			}
			continue;
		}
		if (deadline != GOC__NO_DEADLINE && goc__clock_now() >= deadline) {
			goc__semroot_unlock(r);
			return GOC_ETIMEDOUT;
		}
		if (atomic_compare_exchange_weak_explicit(&rw->state, &old, old | RW_WWAIT,
		                                          memory_order_relaxed, memory_order_relaxed))
			return wait_for(rw, r, true, deadline);
	}
}

int goc_rwmutex_lock(goc_rwmutex *rw)
{
	return goc_rwmutex_lock_until(rw, GOC__NO_DEADLINE);
}

int goc_rwmutex_lock_until(goc_rwmutex *rw, int64_t deadline)
{
	if (GOC__UNLIKELY(!rw))
		return GOC_EINVAL;
	uint32_t old = 0;
	if (GOC__LIKELY(atomic_compare_exchange_strong_explicit(&rw->state, &old, RW_WRITER,
	                                                         memory_order_acquire,
	                                                         memory_order_relaxed)))
		return 0;
	return lock_slow(rw, deadline);
}

int goc_rwmutex_trylock(goc_rwmutex *rw)
{
	if (GOC__UNLIKELY(!rw))
		return GOC_EINVAL;
	uint32_t old = 0;
	return atomic_compare_exchange_strong_explicit(&rw->state, &old, RW_WRITER,
	                                               memory_order_acquire, memory_order_relaxed)
	               ? 0
	               : GOC_EAGAIN;
}

int goc_rwmutex_unlock(goc_rwmutex *rw)
{
	if (GOC__UNLIKELY(!rw))
		return GOC_EINVAL;
	uint32_t old = RW_WRITER;
	if (GOC__LIKELY(atomic_compare_exchange_strong_explicit(&rw->state, &old, 0,
	                                                         memory_order_release,
	                                                         memory_order_relaxed)))
		return 0;
	if (!(old & RW_WRITER))
		return GOC_EPERM;
	goc__semroot *r = goc__semroot_of(rw);
	goc__semroot_lock(r);
	old = atomic_load_explicit(&rw->state, memory_order_relaxed);
	do {
		if (!(old & RW_WRITER)) {
			goc__semroot_unlock(r);
			return GOC_EPERM;
		}
	} while (!atomic_compare_exchange_weak_explicit(&rw->state, &old, old & ~RW_WRITER,
	                                                memory_order_release, memory_order_relaxed));
	settle(rw, r, true);
	goc__semroot_unlock(r);
	return 0;
}
