/* hchan.h - the channel structure and the wait-queue helpers shared by
 * chan.c (send, receive, close) and select.c (never installed).
 *
 * A channel (after Go's hchan) is one allocation: this header, then the
 * ring buffer of cap elements. Everything below is guarded by `lock` (a
 * runtime lock) except where a field says otherwise.
 *
 * Invariants (lock held):
 *   - at least one of recvq and sendq is empty, except that one select may
 *     wait on both ends of the same channel (unbuffered);
 *   - buffered: recvq non-empty implies qcount == 0, sendq non-empty implies
 *     qcount == cap;
 *   - unbuffered: qcount == 0 always; a value moves straight from sender to
 *     receiver, never through the channel;
 *   - closed: sendq and recvq are empty (close fails or wakes every waiter,
 *     and no one enqueues after it).
 *
 * Waiter records (sudogs) live on the waiter's stack, from goc__wait_prepare
 * until its goc__park returns (internal.h, "parking"). A waker dequeues a
 * record and claims its G (goc__wait_claim) before touching the waiter's
 * memory; a failed claim means the waiter is already ending its wait
 * (deadline, or another case of its select won), and the record is skipped.
 *
 * Lock order: timer heap lock -> channel locks (in address order when a
 * select holds several) -> run queues (goc__ready). No timer is started or
 * stopped while a channel lock is held: goc__park arms the deadline after
 * the unlock function ran, and stops it before it returns.
 *
 * The channel lock (goc__chanlock, below) keeps the runtime lock's contract
 * (short critical sections; safe from goroutines, foreign threads and timer
 * callbacks; held across a park only as the lock its unlock function
 * releases) with a cheaper release: a plain store when nobody sleeps on it.
 * Locked instructions cost ~15 ns each on the build machine and a buffered
 * message took four (two per side); the plain-store release halves that.
 */
#ifndef GOC_CHAN_HCHAN_H
#define GOC_CHAN_HCHAN_H

#include "../internal.h"

#include <string.h>

typedef struct goc__sudog goc__sudog;

/* ---- the channel lock ----------------------------------------------------
 * state: 0 free, 1 held, 2 held and someone may sleep on it (Drepper's
 * three-state futex mutex). Acquire: one CAS; contenders spin, then yield,
 * then mark the lock 2 and sleep on the futex. Release: when the state is 1
 * a plain store (release) frees it, with no locked instruction; when it is
 * 2, an exchange and a wake, as usual.
 * The one race the plain store can lose: a contender turning 1 into 2 and
 * falling asleep between the releaser's load and its store. Its wake-up is
 * then lost, so contenders sleep at most GOC__CHANLOCK_NAP ns at a time and
 * retry: a rare, bounded delay under heavy contention, never a hang. Nothing
 * in the lock is read after the releasing store (a channel may be freed by
 * its last owner as soon as the lock is free). */
typedef struct goc__chanlock { _Atomic uint32_t state; } goc__chanlock;
#define GOC__CHANLOCK_NAP 1000000 /* 1 ms */

void goc__chanlock_slow(goc__chanlock *l);
void goc__chanlock_wake(goc__chanlock *l);

static inline void goc__chanlock_acquire(goc__chanlock *l)
{
	uint32_t free_ = 0;
	if (GOC__LIKELY(atomic_compare_exchange_weak_explicit(&l->state, &free_, 1, memory_order_acquire,
	                                                      memory_order_relaxed)))
		return;
	goc__chanlock_slow(l);
}

static inline void goc__chanlock_release(goc__chanlock *l)
{
	if (GOC__LIKELY(atomic_load_explicit(&l->state, memory_order_relaxed) == 1))
		atomic_store_explicit(&l->state, 0, memory_order_release);
	else
		goc__chanlock_wake(l);
}

/* One waiter on one channel (a select has one per case). */
struct goc__sudog {
	goc__g *g;                 /* the waiting goroutine or thread */
	goc__sudog *next, *prev;   /* queue links (channel lock) */
	goc_chan *c;
	void *elem;                /* send: the value; recv: destination or NULL */
	uint32_t index;            /* select: the case this record stands for */
	bool queued;               /* on c's queue (channel lock) */
	bool exclusive;            /* only c's lock holders can end this wait (no
	                              deadline, not a select): claim needs no CAS */
	bool success;              /* set by the waker: true = a value moved,
	                              false = woken by close */
};

typedef struct goc__waitq {
	/* Written under the lock; read without it (relaxed) by the try fast
	 * paths, which only need a snapshot. */
	goc__sudog *_Atomic first;
	goc__sudog *last;
} goc__waitq;

struct goc_chan {
	goc__chanlock lock;
	_Atomic uint32_t closed;   /* written under lock (release); read lock-free */
	_Atomic uint32_t refs;     /* references; the last release frees */
	_Atomic size_t qcount;     /* values in buf; written under lock, read lock-free */
	size_t cap;                /* immutable */
	size_t elem_size;          /* immutable */
	size_t sendx, recvx;       /* ring indices */
	goc__waitq recvq, sendq;   /* blocked receivers / senders, FIFO */
	unsigned char *buf;        /* cap * elem_size bytes after the header */
};

/* ---- wait queues (channel lock held) ------------------------------------ */

static inline goc__sudog *goc__waitq_first(const goc__waitq *q)
{
	return atomic_load_explicit(&q->first, memory_order_relaxed);
}

static inline void goc__waitq_push(goc__waitq *q, goc__sudog *sg)
{
	sg->next = NULL;
	sg->prev = q->last;
	if (q->last)
		q->last->next = sg;
	else
		atomic_store_explicit(&q->first, sg, memory_order_relaxed);
	q->last = sg;
	sg->queued = true;
}

static inline void goc__waitq_remove(goc__waitq *q, goc__sudog *sg)
{
	if (sg->prev)
		sg->prev->next = sg->next;
	else
		atomic_store_explicit(&q->first, sg->next, memory_order_relaxed);
	if (sg->next)
		sg->next->prev = sg->prev;
	else
		q->last = sg->prev;
	sg->next = sg->prev = NULL;
	sg->queued = false;
}

/* Claim sg's G for completing its wait (internal.h, step 3). A waiter with
 * no deadline, outside select, can only be ended by whoever holds the lock
 * of the one channel it waits on, which we do: no one can race us, and a
 * plain store does what the CAS would (one locked instruction less per
 * hand-off; goc__ready publishes it to the waiter). */
static inline bool goc__sudog_claim(goc__sudog *sg)
{
	if (sg->exclusive) {
		atomic_store_explicit(&goc__g_waitp(sg->g)->claim, GOC__WAKE_READY, memory_order_relaxed);
		return true;
	}
	return goc__wait_claim(sg->g);
}

/* The first waiter whose G we manage to claim, dequeued; NULL if none.
 * Records whose claim fails are dropped: their owner is ending its wait on
 * its own and will find them no longer queued. */
static inline goc__sudog *goc__waitq_dequeue(goc__waitq *q)
{
	goc__sudog *sg;
	while ((sg = goc__waitq_first(q)) != NULL) {
		goc__waitq_remove(q, sg);
		if (GOC__LIKELY(goc__sudog_claim(sg)))
			return sg;
	}
	return NULL;
}

/* ---- moving values ------------------------------------------------------ */

static inline void goc__elem_copy(void *dst, const void *src, size_t size)
{
	/* Word-sized elements are the common case: let the compiler inline it. */
	if (GOC__LIKELY(size == sizeof(uint64_t)))
		memcpy(dst, src, sizeof(uint64_t));
	else if (size)
		memcpy(dst, src, size);
}

static inline unsigned char *goc__chan_slot(goc_chan *c, size_t i)
{
	return c->buf + i * c->elem_size;
}

/* Lock held; sg claimed from recvq. Hand the sender's value straight to the
 * blocked receiver's destination (its stack, typically). */
static inline void goc__chan_send_direct(goc_chan *c, goc__sudog *sg, const void *src)
{
	if (sg->elem)
		goc__elem_copy(sg->elem, src, c->elem_size);
	sg->success = true;
}

/* Lock held; sg claimed from sendq. Receive what the blocked sender offers:
 * unbuffered, its value directly; buffered (then full), the head of the
 * buffer, and the sender's value goes into the slot that frees, at the tail,
 * so FIFO order holds. */
static inline void goc__chan_recv_direct(goc_chan *c, goc__sudog *sg, void *dst)
{
	if (c->cap == 0) {
		if (dst)
			goc__elem_copy(dst, sg->elem, c->elem_size);
	} else {
		unsigned char *slot = goc__chan_slot(c, c->recvx);
		if (dst)
			goc__elem_copy(dst, slot, c->elem_size);
		goc__elem_copy(slot, sg->elem, c->elem_size);
		if (++c->recvx == c->cap)
			c->recvx = 0;
		c->sendx = c->recvx;
	}
	sg->success = true;
}

/* Lock held, room in the buffer: append the value. */
static inline void goc__chan_buf_put(goc_chan *c, const void *src)
{
	goc__elem_copy(goc__chan_slot(c, c->sendx), src, c->elem_size);
	if (++c->sendx == c->cap)
		c->sendx = 0;
	atomic_store_explicit(&c->qcount, atomic_load_explicit(&c->qcount, memory_order_relaxed) + 1,
	                      memory_order_relaxed);
}

/* Lock held, buffer not empty: take the head value (dst may be NULL). */
static inline void goc__chan_buf_take(goc_chan *c, void *dst)
{
	if (dst)
		goc__elem_copy(dst, goc__chan_slot(c, c->recvx), c->elem_size);
	if (++c->recvx == c->cap)
		c->recvx = 0;
	atomic_store_explicit(&c->qcount, atomic_load_explicit(&c->qcount, memory_order_relaxed) - 1,
	                      memory_order_relaxed);
}

/* After the channel lock is dropped: resume the claimed waiter of sg. Reads
 * sg before the ready, since the waiter's stack (and sg) may be gone after. */
static inline void goc__chan_wake(goc__sudog *sg)
{
	goc__g *g = sg->g;
	goc__g_waitp(g)->param = sg;
	goc__ready(g);
}

/* The park unlock function for one channel. */
void goc__chan_unlock(void *c);

/* Uniform random number in [0, n), n > 0, from a fast per-thread generator
 * (rand.c). The one source of randomness of select: a deterministic
 * schedule mode replaces this function's state, nothing else. */
uint32_t goc__chan_rand(uint32_t n);

#endif
