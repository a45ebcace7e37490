/* semtab.h - the sync module's wait queues (internal to src/sync/).
 *
 * Like Go's sema.go, the goroutines waiting on a sync object do not live in
 * the object: they queue in one global table of buckets, hashed by the
 * object's address. So no sync object holds a queue, every one is statically
 * initialisable (all zeros), and no object ever needs a destroy call.
 *
 * A bucket (goc__semroot) holds a short list of queue heads, one per key
 * with waiters; each key's waiters form a doubly linked FIFO. A waiter
 * record (goc__semw) lives on the waiting goroutine's (or thread's) stack
 * and is valid until its wait returns.
 *
 * Every primitive keeps the same discipline, which makes deadlines safe:
 *   - a waiter's registration in the object's state word and its push onto
 *     the queue happen in one critical section of the bucket lock;
 *   - whoever removes a record from a queue (a waker, or the waiter itself
 *     after a timeout) does the object's accounting for it, under that lock;
 *   - a waker removes a record, then goc__wait_claim()s it; only when the
 *     claim succeeds does it complete the operation for the waiter (hand
 *     it the lock, the tokens...) and goc__ready() it. A failed claim means
 *     the waiter's deadline fired first: the waker undoes nothing the waiter
 *     would miss and moves on to the next record.
 *
 * Lock order: a bucket lock is a leaf among sync's locks (no two bucket
 * locks are ever held together; none is held while calling user code or
 * another primitive). Under it, sync may call goc__ready (run queue locks)
 * and goc__wait_claim. The park timer claims Gs without taking bucket locks.
 */
#ifndef GOC_SYNC_SEMTAB_H
#define GOC_SYNC_SEMTAB_H

#include "../internal.h"

typedef struct goc__semw goc__semw;
struct goc__semw {
	const void *key;      /* what it waits on (an object address, or one byte past) */
	goc__g *g;            /* the waiting G (a foreign thread's G too) */
	goc__semw *next;      /* same-key queue, towards the tail */
	goc__semw *prev;      /* same-key queue, towards the head */
	goc__semw *knext;     /* head only: the next key's head in the bucket */
	goc__semw *tail;      /* head only: the key's last waiter */
	int64_t since;        /* when the waiter first queued (mutex starvation) */
	int64_t n;            /* weighted semaphore: tokens wanted */
	void *grant;          /* weighted semaphore, context form: its grant channel */
	bool queued;          /* on a queue now (bucket lock) */
	bool parking;         /* cond: committed to park, so wakers claim it */
	bool signalled;       /* cond: woken before it parked */
	bool handoff;         /* mutex: ownership was handed over with the wake */
};

typedef struct goc__semroot {
	goc__lock lock;
	goc__semw *heads;     /* queue heads, one per key with waiters (lock) */
} __attribute__((aligned(GOC__CACHELINE))) goc__semroot;

/* The bucket for an address. Objects that need one lock over several keys
 * (rwmutex: readers and writers) pick the bucket by the object's address
 * and use other keys inside it. */
goc__semroot *goc__semroot_of(const void *addr);

static inline void goc__semroot_lock(goc__semroot *r) { goc__lock_acquire(&r->lock); }
static inline void goc__semroot_unlock(goc__semroot *r) { goc__lock_release(&r->lock); }

/* Queue w (fields zeroed by the caller except as set here) for key: at the
 * tail, or at the head when lifo (a waiter that was woken and lost the race
 * goes back to the front, as in Go's mutex). Bucket lock held. */
void goc__semq_push(goc__semroot *r, const void *key, goc__semw *w, bool lifo);
/* The oldest waiter for key, or NULL. Bucket lock held. */
goc__semw *goc__semq_first(goc__semroot *r, const void *key);
/* Unlink a queued waiter. Bucket lock held. */
void goc__semq_remove(goc__semroot *r, goc__semw *w);

/* Park the caller on w (queued by it under the held bucket lock) until a
 * waker readies it or the deadline passes. Returns GOC__WAKE_READY with the
 * lock released, or GOC__WAKE_TIMEOUT with the lock held again: the caller
 * then removes w if w->queued is still set, does its accounting, unlocks. */
int goc__semq_park(goc__semroot *r, goc__semw *w, int reason, const void *obj, int64_t deadline);

/* Shutdown hook for sched's runtime_stop (semtab.c says when to call it). */
void goc__sync_runtime_stopped(void);

/* ---- goc_sema internals shared by sema.c and its context form ---------- */
/* GOC_EINVAL for NULL, n < 0 or n > size; else 0. */
static inline int goc__sema_check(goc_sema *s, int64_t n)
{
	return (!s || n < 0 || n > s->size) ? GOC_EINVAL : 0;
}
/* Take n tokens if they are free now (ignores the queue). */
bool goc__sema_take(goc_sema *s, int64_t n);
/* Grant queued requests in FIFO order while they fit. Bucket lock held. */
void goc__sema_serve(goc_sema *s, goc__semroot *r);
/* Deliver a grant to a waiter of the context form (w->grant set). */
void goc__sema_grant_chan(goc__semw *w);

/* Spin only when it can pay off: another worker may be running the holder
 * (see semtab.c). iter counts the spins of this acquisition so far. */
bool goc__sync_can_spin(int iter);
/* One spin: a few dozen pause instructions. */
void goc__sync_spin(void);

#endif
