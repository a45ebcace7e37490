/* netpoll.c - poll descriptors: the per-fd state that lets goroutines park
 * on an fd until the OS poller (src/os/poll.h) says it is ready, after Go's
 * runtime/netpoll.go and internal/poll/fd_mutex.go.
 *
 * Data structures
 *   pd (goc__pd)  one per registered fd: its reader and writer waiter lists,
 *                 a readiness token per direction, the in-flight operation
 *                 count with a CLOSING bit, the closer's G. Registered with
 *                 the OS poller once (edge-triggered, both directions); the
 *                 poller calls pd_ready from whichever thread polled.
 *   fd table      fd -> pd, two levels (a static top array of lazily
 *                 allocated leaves), read lock-free (acquire), written by
 *                 CAS / exchange. Leaves are never freed.
 *   pd pool       pds come from chunks and return to a free list; they are
 *                 never freed while the process lives, so a stale pointer
 *                 (an event the poller harvested just before the fd was
 *                 unregistered, a call racing goc_fd_close) always points to
 *                 a pd, at worst a recycled one: the worst it can cause is a
 *                 spurious wake-up, which every waiter tolerates. A pd
 *                 reaches the polling thread through the OS poller, which
 *                 publishes it: what was written before goc__os_poll_add
 *                 happens before pd_ready runs (src/os/poll_epoll.c).
 *
 * Waiting (goc__pd_wait), the parking protocol of internal.h: under the pd
 * lock, take a readiness token if one is set; else queue a waiter record
 * (on the waiter's stack) and park. pd_ready, under the same lock, dequeues
 * every waiter of each ready direction and claims each; the claimed ones
 * are readied after the lock is dropped. When no waiter could be claimed it
 * sets the direction's token instead, so readiness that arrives between a
 * failed system call (EAGAIN) and the wait is never lost. With edge-
 * triggered epoll every arrival of data after the failed call produces an
 * event, so a waiter that queued after its EAGAIN is always woken. Tokens
 * can be stale (set for data already consumed): the cost is one extra
 * system call that fails with EAGAIN, as in Go. Several waiters in one
 * direction (acceptors sharing a listener) are all woken; those that find
 * nothing wait again. A deadline (goc__park's timer) or the close of a
 * context's done channel (a sudog on that channel's receive queue, as a
 * select case would queue) can claim the waiter first.
 *
 * Operations and closing (Go's fdMutex): `ops` packs CLOSING, a read op
 * lock, a write op lock, a "someone waits for it" bit per lock, and the
 * count of operations in flight. An operation holds a count (and, for
 * reads, accepts, writes and connects, its direction's op lock) from
 * before its first system call to its return: one CAS to begin, one to
 * end when nobody waits. A contender for a held op lock queues (rlq/wlq)
 * and the ending holder hands the lock over with its count. Serialising
 * each direction is what makes edge-triggered readiness safe: the one
 * holder that waits is woken by every event after its EAGAIN, and the op
 * lock holder alone owns `rdrained` (the last read drained the fd: TCP_INQ
 * said nothing was left, or a stream read came back short; until the next
 * read event the next read can park without first failing a system call;
 * never trusted once a hang-up or error event was seen, see `hup`).
 * goc_fd_close sets CLOSING (new operations then fail with GOC_ECLOSED),
 * wakes all waiters (readiness and op lock) with GOC_ECLOSED, waits until
 * the count drains, then unregisters and closes the fd, so the fd number
 * cannot be reused under a call still running. While CLOSING is set the
 * count only drops under the pd lock, so a closer that saw it reach zero
 * under the lock knows no one touches the pd any more.
 *
 * Deadlock detection: goc__s.netpoll_waiters counts waiters (sched.h); while
 * it is non-zero the scheduler polls and never declares a deadlock.
 *
 * Lock order: reg_lock -> pd lock -> a context's done-channel lock -> run
 * queues (goc__ready). pool_lock is a leaf. pd_ready runs on the polling
 * thread with no scheduler lock held (poll.h) and takes only the pd lock.
 */
#define _GNU_SOURCE
#include "netpoll.h"
#include "../chan/hchan.h"
#include "../sched/sched.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef POLLRDHUP
#define POLLRDHUP 0   /* Linux only: elsewhere POLLHUP says it */
#endif

#define PD_CLOSING 0x80000000u
#define PD_RLOCK   0x40000000u   /* the read op lock is held */
#define PD_WLOCK   0x20000000u
#define PD_RWAIT   0x10000000u   /* rlq is not empty: ending takes the slow path */
#define PD_WWAIT   0x08000000u
#define PD_COUNT   0x07ffffffu   /* operations in flight */

struct goc__pd_waiter {
	goc__g *g;
	goc__pd_waiter *next, *prev;    /* on one of the pd's lists (pd lock) */
	goc__pd_waiter *wnext;          /* the waker's private chain, after dequeue */
	int result;                     /* set by the claiming waker */
	bool queued;                    /* pd lock */
};
typedef goc__pd_waiter pd_waiter;

static inline uint32_t lock_bit(int lock)
{
	return lock == GOC_FD_READ ? PD_RLOCK : lock == GOC_FD_WRITE ? PD_WLOCK : 0;
}

static inline uint32_t wait_bit(int lock)
{
	return lock == GOC_FD_READ ? PD_RWAIT : lock == GOC_FD_WRITE ? PD_WWAIT : 0;
}

/* ---- the fd table -------------------------------------------------------- */

#define LEAF_BITS 12
#define LEAF_SIZE (1u << LEAF_BITS)
#define TOP_SIZE  (1u << 18)       /* fds below 2^30: Linux's own ceiling */

typedef goc__pd *_Atomic pd_slot;
static pd_slot *_Atomic table[TOP_SIZE];

static pd_slot *slot_of(int fd, bool create)
{
	if (fd < 0 || (unsigned)fd >= TOP_SIZE * LEAF_SIZE)
		return NULL;
	pd_slot *_Atomic *top = &table[(unsigned)fd >> LEAF_BITS];
	pd_slot *leaf = atomic_load_explicit(top, memory_order_acquire);
	if (GOC__UNLIKELY(!leaf)) {
		if (!create)
			return NULL;
		pd_slot *fresh = calloc(LEAF_SIZE, sizeof *fresh);
		if (!fresh)
			return NULL;
		/* acq_rel: publish the zeroed leaf, or see the winner's. */
		if (atomic_compare_exchange_strong_explicit(top, &leaf, fresh, memory_order_acq_rel,
		                                            memory_order_acquire))
			leaf = fresh;
		else
			free(fresh);
	}
	return &leaf[(unsigned)fd & (LEAF_SIZE - 1)];
}

/* ---- the pd pool --------------------------------------------------------- */

#define CHUNK_PDS 64
typedef struct pd_chunk {
	struct pd_chunk *next;
	goc__pd pd[CHUNK_PDS];
} pd_chunk;

static goc__lock pool_lock = GOC__LOCK_INIT;
static goc__pd *pool_free;       /* pool_lock */
static pd_chunk *pool_chunks;    /* pool_lock; keeps every pd reachable */

static void pd_ready(goc__pollable *p, uint32_t events);

static goc__pd *pd_alloc(void)
{
	goc__lock_acquire(&pool_lock);
	if (!pool_free) {
		pd_chunk *c = calloc(1, sizeof *c);
		if (!c) {
			goc__lock_release(&pool_lock);
			return NULL;
		}
		c->next = pool_chunks;
		pool_chunks = c;
		for (int i = CHUNK_PDS - 1; i >= 0; i--) {
			goc__pd *pd = &c->pd[i];
			pd->pollable.ready = pd_ready;
			atomic_store_explicit(&pd->fd, -1, memory_order_relaxed);
			atomic_store_explicit(&pd->ops, PD_CLOSING, memory_order_relaxed);
			pd->free_next = pool_free;
			pool_free = pd;
		}
	}
	goc__pd *pd = pool_free;
	pool_free = pd->free_next;
	goc__lock_release(&pool_lock);
	return pd;
}

/* Make a free pd stand for fd. Under its lock: a stale pd_ready may run
 * concurrently. Only CLOSING is cleared, never the count: an operation
 * that raced a close may still hold (and will drop) a count on it. */
static void pd_init(goc__pd *pd, int fd, int kind)
{
	goc__lock_acquire(&pd->lock);
	pd->rready = pd->wready = false;
	pd->evicted = false;
	pd->rq = pd->wq = pd->rlq = pd->wlq = NULL;
	pd->closer = NULL;
	pd->unlink_path = NULL;
	pd->rdrained = false;
	atomic_store_explicit(&pd->hup, false, memory_order_relaxed);
	atomic_store_explicit(&pd->polled, true, memory_order_relaxed);
	atomic_store_explicit(&pd->kind, kind, memory_order_relaxed);
	atomic_store_explicit(&pd->fd, fd, memory_order_relaxed);
	/* release: pairs with op_begin's acquire CAS. */
	atomic_fetch_and_explicit(&pd->ops, ~(PD_CLOSING | PD_RWAIT | PD_WWAIT), memory_order_release);
	goc__lock_release(&pd->lock);
}

/* Return pd to the pool. The caller set CLOSING and saw the count drain
 * (or, for a pd never published, never cleared it). */
static void pd_free(goc__pd *pd)
{
	goc__lock_acquire(&pd->lock);
	atomic_fetch_or_explicit(&pd->ops, PD_CLOSING, memory_order_relaxed);
	atomic_store_explicit(&pd->fd, -1, memory_order_relaxed);
	pd->rready = pd->wready = false;
	char *path = pd->unlink_path;
	pd->unlink_path = NULL;
	goc__lock_release(&pd->lock);
	free(path);
	goc__lock_acquire(&pool_lock);
	pd->free_next = pool_free;
	pool_free = pd;
	goc__lock_release(&pool_lock);
}

/* ---- registration -------------------------------------------------------- */

static goc__lock reg_lock = GOC__LOCK_INIT;   /* serialises lazy registration */

/* A pd for fd, registered with the poller. fresh: the kernel just made fd
 * non-blocking for us; otherwise make it so. */
static goc__pd *pd_make(int fd, bool fresh, int kind, int *err)
{
	int rc = goc__runtime_ensure();
	if (rc) {
		*err = rc;
		return NULL;
	}
	if (!fresh) {
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)) {
			*err = -errno;
			return NULL;
		}
	}
	goc__pd *pd = pd_alloc();
	if (!pd) {
		*err = GOC_ENOMEM;
		return NULL;
	}
	pd_init(pd, fd, kind);
	rc = goc__os_poll_add(fd, &pd->pollable);
	if (rc == -EPERM) {
		/* Regular files and directories: epoll refuses them, and
		 * they are always ready, so waits return at once. */
		atomic_store_explicit(&pd->polled, false, memory_order_relaxed);
	} else if (rc) {
		pd_free(pd);
		*err = rc;
		return NULL;
	}
	return pd;
}

goc__pd *goc__pd_lookup(int fd)
{
	pd_slot *s = slot_of(fd, false);
	return s ? atomic_load_explicit(s, memory_order_acquire) : NULL;
}

goc__pd *goc__pd_get(int fd, int *err)
{
	pd_slot *s = slot_of(fd, true);
	if (GOC__UNLIKELY(!s)) {
		*err = fd < 0 || (unsigned)fd >= TOP_SIZE * LEAF_SIZE ? -EBADF : GOC_ENOMEM;
		return NULL;
	}
	goc__pd *pd = atomic_load_explicit(s, memory_order_acquire);
	if (GOC__LIKELY(pd != NULL))
		return pd;
	goc__lock_acquire(&reg_lock);
	pd = atomic_load_explicit(s, memory_order_acquire);
	if (!pd) {
		pd = pd_make(fd, false, 0, err);
		if (pd)
			atomic_store_explicit(s, pd, memory_order_release); /* pairs with the loads above */
	}
	goc__lock_release(&reg_lock);
	return pd;
}

static void pd_wake_all_locked(goc__pd *pd, int result, pd_waiter **wake);
static void wake_chain(pd_waiter *w);

/* pd's fd was closed without goc_fd_close and the kernel has handed the
 * number out again: retire pd. Its waiters fail with GOC_ECLOSED; it goes
 * back to the pool once its operations drain (op_end_slow). */
static void pd_evict(goc__pd *pd)
{
	uint32_t v = atomic_load_explicit(&pd->ops, memory_order_relaxed);
	do {
		if (v & PD_CLOSING)
			return; /* a closer owns it */
	} while (!atomic_compare_exchange_weak_explicit(&pd->ops, &v, v | PD_CLOSING, memory_order_acq_rel,
	                                                memory_order_relaxed));
	pd_waiter *wake = NULL;
	goc__lock_acquire(&pd->lock);
	pd_wake_all_locked(pd, GOC_ECLOSED, &wake);
	bool drained = (atomic_load_explicit(&pd->ops, memory_order_relaxed) & PD_COUNT) == 0;
	pd->evicted = !drained;
	goc__lock_release(&pd->lock);
	wake_chain(wake);
	if (drained)
		pd_free(pd);
}

goc__pd *goc__pd_new(int fd, int kind, int *err)
{
	pd_slot *s = slot_of(fd, true);
	if (!s) {
		*err = GOC_ENOMEM;
		return NULL;
	}
	goc__pd *pd = pd_make(fd, true, kind, err);
	if (!pd)
		return NULL;
	goc__pd *old = atomic_exchange_explicit(s, pd, memory_order_acq_rel);
	if (old)
		pd_evict(old);
	return pd;
}

int goc__pd_kind(goc__pd *pd, int fd)
{
	int k = atomic_load_explicit(&pd->kind, memory_order_relaxed);
	if (GOC__UNLIKELY(!(k & GOC__PD_KIND_KNOWN))) {
		int type;
		socklen_t len = sizeof type;
		struct stat st;
		k = GOC__PD_KIND_KNOWN;
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0)
			k |= GOC__PD_KIND_SOCKET | (type == SOCK_STREAM ? GOC__PD_KIND_STREAM : 0);
		else if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
			k |= GOC__PD_KIND_STREAM;
		atomic_store_explicit(&pd->kind, k, memory_order_relaxed);
	}
	return k;
}

void goc__pd_add_kind(goc__pd *pd, int kind)
{
	atomic_fetch_or_explicit(&pd->kind, kind, memory_order_relaxed);
}

void goc__pd_set_unlink_path(goc__pd *pd, char *path)
{
	goc__lock_acquire(&pd->lock);
	free(pd->unlink_path);
	pd->unlink_path = path;
	goc__lock_release(&pd->lock);
}

/* ---- waiter lists -------------------------------------------------------- */

static void waiter_push(pd_waiter **q, pd_waiter *w, goc__g *g)
{
	w->g = g;
	w->prev = NULL;
	w->next = *q;
	if (*q)
		(*q)->prev = w;
	*q = w;
	w->queued = true;
}

/* Append (the op-lock queues are FIFO: first come, first served). */
static void waiter_append(pd_waiter **q, pd_waiter *w, goc__g *g)
{
	w->g = g;
	w->next = NULL;
	w->prev = NULL;
	pd_waiter **p = q;
	while (*p) {
		w->prev = *p;
		p = &(*p)->next;
	}
	*p = w;
	w->queued = true;
}

static void waiter_remove(pd_waiter **q, pd_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		*q = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->next = w->prev = NULL;
	w->queued = false;
}

/* pd lock held: dequeue every waiter of q, claim what can be claimed and
 * chain those on *wake with result. True if any was claimed. */
static bool take_waiters(pd_waiter **q, int result, pd_waiter **wake)
{
	bool any = false;
	pd_waiter *w;
	while ((w = *q) != NULL) {
		waiter_remove(q, w);
		if (goc__wait_claim(w->g)) {
			w->result = result;
			w->wnext = *wake;
			*wake = w;
			any = true;
		}
	}
	return any;
}

static void pd_wake_all_locked(goc__pd *pd, int result, pd_waiter **wake)
{
	take_waiters(&pd->rq, result, wake);
	take_waiters(&pd->wq, result, wake);
	take_waiters(&pd->rlq, result, wake);
	take_waiters(&pd->wlq, result, wake);
}

/* After the pd lock is dropped: resume the claimed waiters. Each record
 * lives on its waiter's stack until that waiter runs: read it first. */
static void wake_chain(pd_waiter *w)
{
	while (w) {
		pd_waiter *next = w->wnext;
		goc__g *g = w->g;
		goc__g_waitp(g)->param = w;
		goc__ready(g);
		w = next;
	}
}

/* ---- parking --------------------------------------------------------------- */

typedef struct park_arg {
	goc__pd *pd;
	goc_chan *done;
} park_arg;

static void pd_park_unlock(void *arg)
{
	park_arg *a = arg;
	goc__pd *pd = a->pd;  /* read a before a waker can resume its owner */
	if (a->done)
		goc__chanlock_release(&a->done->lock);
	goc__lock_release(&pd->lock);
}

/* A waiter without a P (a foreign thread, a goroutine inside goc_blocking)
 * needs some worker to poll for it: when no one is polling, start one. It
 * will find nothing to run, go idle and block in the poller. A goroutine
 * with a P needs nothing: its worker polls once it runs out of work. */
static void kick_poller(void)
{
	goc__m *m = goc__getm();
	if (m && m->curg && m->p)
		return;
	if (!atomic_load_explicit(&goc__s.poller_active, memory_order_acquire))
		goc__wakep();
}

/* pd lock held, deadline not passed: queue records for the calling G on
 * q1 (and q2 if not NULL) and on done's receive queue, park, and leave the
 * queues. Returns the claiming waker's result, GOC_ETIMEDOUT, or
 * GOC__PD_DONE. The pd lock is not held on return. on_leave, if not NULL,
 * runs under the pd lock when a record had to be removed by us. */
static int park_on(goc__pd *pd, pd_waiter **q1, pd_waiter **q2, bool fifo, int64_t deadline, goc_chan *done,
                   void (*on_leave)(goc__pd *pd))
{
	goc__wait_prepare();
	goc__g *g = goc__current();
	park_arg a = {pd, NULL};
	goc__sudog sg;
	if (done) {
		goc__chanlock_acquire(&done->lock);
		if (atomic_load_explicit(&done->closed, memory_order_relaxed)) {
			goc__chanlock_release(&done->lock);
			goc__lock_release(&pd->lock);
			return GOC__PD_DONE;
		}
		/* Queued as a select case would be: only close takes it. */
		sg = (goc__sudog){.g = g, .c = done, .elem = NULL, .exclusive = false};
		goc__waitq_push(&done->recvq, &sg);
		a.done = done;
	}
	pd_waiter w1 = {0}, w2 = {0};
	if (fifo)
		waiter_append(q1, &w1, g);
	else
		waiter_push(q1, &w1, g);
	if (q2)
		waiter_push(q2, &w2, g);
	atomic_fetch_add_explicit(&goc__s.netpoll_waiters, 1, memory_order_seq_cst);
	kick_poller();
	int how = goc__park(pd_park_unlock, &a, GOC__WAIT_IO, pd, deadline);
	atomic_fetch_sub_explicit(&goc__s.netpoll_waiters, 1, memory_order_relaxed);

	void *param = goc__g_waitp(g)->param;
	int res;
	if (how == GOC__WAKE_TIMEOUT)
		res = GOC_ETIMEDOUT;
	else if (done && param == &sg)
		res = GOC__PD_DONE;
	else
		res = ((pd_waiter *)param)->result;
	/* Leave the queues we may still be on. The record that woke us was
	 * dequeued by its waker; the others need the locks. */
	if (!(param == &w1 && !q2)) {
		goc__lock_acquire(&pd->lock);
		bool left = false;
		if (w1.queued) {
			waiter_remove(q1, &w1);
			left = true;
		}
		if (w2.queued)
			waiter_remove(q2, &w2);
		if (left && on_leave)
			on_leave(pd);
		goc__lock_release(&pd->lock);
	}
	if (done && param != &sg) {
		goc__chanlock_acquire(&done->lock);
		if (sg.queued)
			goc__waitq_remove(&done->recvq, &sg);
		goc__chanlock_release(&done->lock);
	}
	return res;
}

/* ---- operations in flight ------------------------------------------------ */

/* A reader left rlq (or a writer wlq) on its own: clear the wait bit if
 * the queue is now empty, so op_end can take its fast path again. */
static void left_rlq(goc__pd *pd)
{
	if (!pd->rlq)
		atomic_fetch_and_explicit(&pd->ops, ~PD_RWAIT, memory_order_relaxed);
}

static void left_wlq(goc__pd *pd)
{
	if (!pd->wlq)
		atomic_fetch_and_explicit(&pd->ops, ~PD_WWAIT, memory_order_relaxed);
}

/* The op lock is held: wait for it under the pd lock, FIFO. */
static int op_begin_slow(goc__pd *pd, int lock, int64_t deadline, goc_chan *done)
{
	uint32_t lb = lock_bit(lock), wb = wait_bit(lock);
	goc__lock_acquire(&pd->lock);
	uint32_t v = atomic_load_explicit(&pd->ops, memory_order_relaxed);
	for (;;) {
		if (v & PD_CLOSING) {
			goc__lock_release(&pd->lock);
			return GOC_ECLOSED;
		}
		if (!(v & lb)) {
			if (atomic_compare_exchange_weak_explicit(&pd->ops, &v, (v + 1) | lb, memory_order_acquire,
			                                          memory_order_relaxed)) {
				goc__lock_release(&pd->lock);
				return 0;
			}
			continue;
		}
		if (deadline != GOC__NO_DEADLINE && deadline <= goc__nanotime()) {
			goc__lock_release(&pd->lock);
			return GOC_ETIMEDOUT;
		}
		if ((v & wb) || atomic_compare_exchange_weak_explicit(&pd->ops, &v, v | wb, memory_order_relaxed,
		                                                      memory_order_relaxed))
			break;
	}
	bool rd = lock == GOC_FD_READ;
	/* 0: the ending holder handed us the lock, with its count. */
	return park_on(pd, rd ? &pd->rlq : &pd->wlq, NULL, true, deadline, done, rd ? left_rlq : left_wlq);
}

int goc__pd_op_begin(goc__pd *pd, int fd, int lock, int64_t deadline, goc_chan *done)
{
	uint32_t lb = lock_bit(lock);
	uint32_t v = atomic_load_explicit(&pd->ops, memory_order_relaxed);
	int rc = 0;
	for (;;) {
		if (GOC__UNLIKELY(v & PD_CLOSING))
			return GOC_ECLOSED;
		if (GOC__UNLIKELY(v & lb)) {
			rc = op_begin_slow(pd, lock, deadline, done);
			break;
		}
		/* acquire: pairs with pd_init's release and op_end's. */
		if (atomic_compare_exchange_weak_explicit(&pd->ops, &v, (v + 1) | lb, memory_order_acquire,
		                                          memory_order_relaxed))
			break;
	}
	if (rc == 0 && GOC__UNLIKELY(atomic_load_explicit(&pd->fd, memory_order_relaxed) != fd)) {
		goc__pd_op_end(pd, lock);
		rc = GOC_ECLOSED;
	}
	return rc;
}

static void op_end_slow(goc__pd *pd, int lock)
{
	uint32_t lb = lock_bit(lock), wb = wait_bit(lock);
	pd_waiter *handed = NULL;
	goc__g *closer = NULL;
	bool recycle = false;
	goc__lock_acquire(&pd->lock);
	uint32_t v = atomic_load_explicit(&pd->ops, memory_order_relaxed);
	if (lb && !(v & PD_CLOSING)) {
		pd_waiter **q = lock == GOC_FD_READ ? &pd->rlq : &pd->wlq;
		pd_waiter *w;
		while ((w = *q) != NULL) {
			waiter_remove(q, w);
			if (goc__wait_claim(w->g)) {
				w->result = 0;
				w->wnext = NULL;
				handed = w;
				break;
			}
		}
		if (!*q)
			atomic_fetch_and_explicit(&pd->ops, ~wb, memory_order_relaxed);
	}
	if (!handed) {
		/* Drop our count and our lock bit (set: we hold it). */
		v = atomic_fetch_sub_explicit(&pd->ops, 1 + lb, memory_order_acq_rel) - (1 + lb);
		if ((v & PD_CLOSING) && (v & PD_COUNT) == 0) {
			if (pd->closer) {
				if (goc__wait_claim(pd->closer))
					closer = pd->closer;
				pd->closer = NULL;
			} else if (pd->evicted) {
				pd->evicted = false;
				recycle = true;
			}
		}
	}
	goc__lock_release(&pd->lock);
	if (handed)
		wake_chain(handed); /* its wnext is unset: a chain of one */
	if (closer)
		goc__ready(closer);
	if (recycle)
		pd_free(pd);
}

void goc__pd_op_end(goc__pd *pd, int lock)
{
	uint32_t lb = lock_bit(lock), wb = wait_bit(lock);
	uint32_t v = atomic_load_explicit(&pd->ops, memory_order_relaxed);
	while (GOC__LIKELY(!(v & (PD_CLOSING | wb))))
		if (atomic_compare_exchange_weak_explicit(&pd->ops, &v, (v - 1) & ~lb, memory_order_release,
		                                          memory_order_relaxed))
			return;
	op_end_slow(pd, lock);
}

/* ---- readiness ----------------------------------------------------------- */

/* The poller's callback (poll.h): any thread, no scheduler lock held. */
static void pd_ready(goc__pollable *p, uint32_t events)
{
	goc__pd *pd = (goc__pd *)p;
	pd_waiter *wake = NULL;
	if (events & (GOC__POLL_HUP | GOC__POLL_ERR))
		atomic_store_explicit(&pd->hup, true, memory_order_relaxed); /* published by rev's release */
	if (events & GOC__POLL_IN)
		atomic_fetch_add_explicit(&pd->rev, 1, memory_order_release); /* see rdrained */
	goc__lock_acquire(&pd->lock);
	if ((events & GOC__POLL_IN) && !take_waiters(&pd->rq, GOC_FD_READ, &wake))
		pd->rready = true;
	if ((events & GOC__POLL_OUT) && !take_waiters(&pd->wq, GOC_FD_WRITE, &wake))
		pd->wready = true;
	goc__lock_release(&pd->lock);
	wake_chain(wake);
}

static int take_tokens(goc__pd *pd, int events)
{
	int got = 0;
	if ((events & GOC_FD_READ) && pd->rready) {
		pd->rready = false;
		got |= GOC_FD_READ;
	}
	if ((events & GOC_FD_WRITE) && pd->wready) {
		pd->wready = false;
		got |= GOC_FD_WRITE;
	}
	return got;
}

int goc__pd_wait(goc__pd *pd, int events, int64_t deadline, goc_chan *done)
{
	if (!atomic_load_explicit(&pd->polled, memory_order_relaxed))
		return events; /* a regular file: always ready */
	goc__lock_acquire(&pd->lock);
	if (atomic_load_explicit(&pd->ops, memory_order_relaxed) & PD_CLOSING) {
		goc__lock_release(&pd->lock);
		return GOC_ECLOSED;
	}
	int got = take_tokens(pd, events);
	if (got || (deadline != GOC__NO_DEADLINE && deadline <= goc__nanotime())) {
		goc__lock_release(&pd->lock);
		return got ? got : GOC_ETIMEDOUT;
	}
	pd_waiter **q1 = events & GOC_FD_READ ? &pd->rq : &pd->wq;
	pd_waiter **q2 = events == (GOC_FD_READ | GOC_FD_WRITE) ? &pd->wq : NULL;
	return park_on(pd, q1, q2, false, deadline, done, NULL);
}

int goc__pd_wait_fresh(goc__pd *pd, int fd, int events, int64_t deadline, goc_chan *done)
{
	if (!atomic_load_explicit(&pd->polled, memory_order_relaxed))
		return events;
	/* Forget old readiness, then ask the kernel: readiness that comes
	 * after the poll(2) sets a token or wakes us. */
	goc__lock_acquire(&pd->lock);
	(void)take_tokens(pd, events);
	goc__lock_release(&pd->lock);
	struct pollfd pfd = {.fd = fd, .events = (short)((events & GOC_FD_READ ? POLLIN | POLLRDHUP : 0) |
	                                               (events & GOC_FD_WRITE ? POLLOUT : 0))};
	int n;
	while ((n = poll(&pfd, 1, 0)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return -errno;
	if (n > 0) {
		if (pfd.revents & POLLNVAL)
			return -EBADF;
		int got = 0;
		if (pfd.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR))
			got |= GOC_FD_READ;
		if (pfd.revents & (POLLOUT | POLLHUP | POLLERR))
			got |= GOC_FD_WRITE;
		if (got & events)
			return got & events;
	}
	return goc__pd_wait(pd, events, deadline, done);
}

/* ---- closing ------------------------------------------------------------- */

static void closer_unlock(void *arg)
{
	goc__lock_release(&((goc__pd *)arg)->lock);
}

/* Set CLOSING, wake every waiter with GOC_ECLOSED, wait for the operations
 * in flight to end, and unregister pd's fd. -EBADF if already closing. */
static int pd_shutdown(goc__pd *pd, int fd)
{
	uint32_t v = atomic_load_explicit(&pd->ops, memory_order_relaxed);
	do {
		if ((v & PD_CLOSING) || atomic_load_explicit(&pd->fd, memory_order_relaxed) != fd)
			return -EBADF;
	} while (!atomic_compare_exchange_weak_explicit(&pd->ops, &v, v | PD_CLOSING, memory_order_acq_rel,
	                                                memory_order_relaxed));
	pd_waiter *wake = NULL;
	goc__lock_acquire(&pd->lock);
	pd_wake_all_locked(pd, GOC_ECLOSED, &wake);
	if (wake) {
		goc__lock_release(&pd->lock);
		wake_chain(wake);
		goc__lock_acquire(&pd->lock);
	}
	while ((atomic_load_explicit(&pd->ops, memory_order_acquire) & PD_COUNT) != 0) {
		goc__wait_prepare();
		pd->closer = goc__current();
		goc__park(closer_unlock, pd, GOC__WAIT_IO, pd, GOC__NO_DEADLINE);
		goc__lock_acquire(&pd->lock);
	}
	goc__lock_release(&pd->lock);
	if (atomic_load_explicit(&pd->polled, memory_order_relaxed))
		(void)goc__os_poll_del(fd);
	return 0;
}

static void slot_clear(int fd, goc__pd *pd)
{
	pd_slot *s = slot_of(fd, false);
	goc__pd *expect = pd;
	/* A CAS: a new fd with this number may already have its own pd. */
	if (s)
		atomic_compare_exchange_strong_explicit(s, &expect, NULL, memory_order_acq_rel,
		                                        memory_order_relaxed);
}

int goc_fd_close(int fd)
{
	goc__pd *pd = goc__pd_lookup(fd);
	if (pd) {
		int rc = pd_shutdown(pd, fd);
		if (rc)
			return rc;
	}
	int rc = close(fd) == 0 || errno == EINTR ? 0 : -errno; /* Linux: EINTR still closed it */
	if (pd) {
		slot_clear(fd, pd);
		if (pd->unlink_path && pd->unlink_path[0] != '\0')
			(void)unlink(pd->unlink_path);
		pd_free(pd);
	}
	return rc;
}

int goc_fd_release(int fd)
{
	goc__pd *pd = goc__pd_lookup(fd);
	if (!pd)
		return -EBADF;
	int rc = pd_shutdown(pd, fd);
	if (rc)
		return rc;
	slot_clear(fd, pd);
	pd_free(pd);
	return 0;
}

int goc_fd_register(int fd)
{
	int err = 0;
	return goc__pd_get(fd, &err) ? 0 : err;
}
