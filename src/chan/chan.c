/* chan.c - channels: make, retain/release, send, receive, close, len, cap
 * (select is in select.c; the structure and its invariants in hchan.h).
 *
 * Each operation, after Go's chansend/chanrecv/closechan:
 *   send: closed -> GOC_ECLOSED; a receiver waiting -> copy the value into
 *         its destination and wake it; room in the buffer -> append; else
 *         enqueue a record on sendq and park until a receiver (or close)
 *         completes it.
 *   recv: a sender waiting -> take its value (via the buffer head when
 *         buffered) and wake it; a value buffered -> take it; closed ->
 *         zero *out, GOC_ECLOSED; else enqueue on recvq and park.
 *   close: mark closed, then claim every waiter: receivers get the zero
 *         value and GOC_ECLOSED, senders GOC_ECLOSED.
 * Waiters are woken (goc__ready) after the channel lock is dropped, so the
 * woken goroutine never spins on a lock its waker still holds.
 *
 * In simulation mode (src/sched/sim.c) a blocking send or receive (not the
 * try forms) is a yield point, as a blocking select is: before it looks at
 * the channel, the seed may switch to another goroutine. So the order of
 * two operations that would both complete at once is explored too. Deadlines
 * are compared with goc__clock_now (virtual in simulation mode), as
 * select.c does.
 *
 * Lock order: timer heap -> one channel lock -> run queues (hchan.h).
 */
#include "hchan.h"
#include "../sched/sim.h"
#include "../arch/arch.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>

void goc__chan_unlock(void *c)
{
	goc__chanlock_release(&((goc_chan *)c)->lock);
}

/* ---- the channel lock's slow paths (hchan.h) ------------------------------ */

GOC__NOINLINE void goc__chanlock_slow(goc__chanlock *l)
{
	/* Spin while the holder runs on another CPU (critical sections are tens
	 * of ns), then give the CPU away in case it was preempted, then sleep. */
	for (int i = 0; i < 100; i++) {
		uint32_t free_ = 0;
		if (atomic_load_explicit(&l->state, memory_order_relaxed) == 0 &&
		    atomic_compare_exchange_weak_explicit(&l->state, &free_, 1, memory_order_acquire,
		                                          memory_order_relaxed))
			return;
		goc__cpu_relax();
	}
	for (int i = 0; i < 4; i++) {
		uint32_t free_ = 0;
		if (atomic_compare_exchange_strong_explicit(&l->state, &free_, 1, memory_order_acquire,
		                                            memory_order_relaxed))
			return;
		sched_yield();
	}
	/* Mark the lock contended (so its release wakes us) and sleep. The
	 * nap bounds the cost of the lost wake-up hchan.h describes. */
	while (atomic_exchange_explicit(&l->state, 2, memory_order_acquire) != 0)
		goc__futex_wait(&l->state, 2, goc__nanotime() + GOC__CHANLOCK_NAP);
}

GOC__NOINLINE void goc__chanlock_wake(goc__chanlock *l)
{
	/* The futex wake only names the address: no access to freed memory if
	 * the channel goes away once it is unlocked. */
	if (atomic_exchange_explicit(&l->state, 0, memory_order_release) == 2)
		goc__futex_wake(&l->state, 1);
}

/* ---- lifetime ----------------------------------------------------------- */

goc_chan *goc_chan_make(size_t elem_size, size_t cap)
{
	size_t bytes;
	if (__builtin_mul_overflow(elem_size, cap, &bytes) ||
	    bytes > SIZE_MAX - sizeof(goc_chan) - 16) {
		errno = EINVAL;
		return NULL;
	}
	/* The buffer follows the header, 16-byte aligned like malloc's. */
	size_t head = (sizeof(goc_chan) + 15) & ~(size_t)15;
	goc_chan *c = malloc(head + bytes);
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	atomic_init(&c->lock.state, 0);
	atomic_init(&c->closed, 0);
	atomic_init(&c->refs, 1);
	atomic_init(&c->qcount, 0);
	c->cap = cap;
	c->elem_size = elem_size;
	c->sendx = c->recvx = 0;
	atomic_init(&c->recvq.first, NULL);
	c->recvq.last = NULL;
	atomic_init(&c->sendq.first, NULL);
	c->sendq.last = NULL;
	c->buf = (unsigned char *)c + head;
	return c;
}

void goc_chan_retain(goc_chan *c)
{
	if (c)
		atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

void goc_chan_release(goc_chan *c)
{
	if (!c)
		return;
	/* acq_rel: release orders our uses of c before the free; acquire makes
	 * the freeing thread see everyone else's (a fence would do, but TSan
	 * does not model fences; on x86 both are one locked instruction). */
	if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
		return;
	/* Freeing under blocked waiters would hand them freed memory: keep the
	 * channel instead (a leak, and the deadlock detector names them). */
	goc__chanlock_acquire(&c->lock);
	bool waiters = goc__waitq_first(&c->recvq) || goc__waitq_first(&c->sendq);
	goc__chanlock_release(&c->lock);
	if (!waiters)
		free(c);
}

size_t goc_len(goc_chan *c)
{
	return c ? atomic_load_explicit(&c->qcount, memory_order_relaxed) : 0;
}

size_t goc_cap(goc_chan *c)
{
	return c ? c->cap : 0;
}

/* ---- lock-free "would block" checks (the try forms) ----------------------
 * As in Go: each is a snapshot of single words. A send that sees "not
 * closed" then "not ready" may fail at once: a closed channel never goes
 * from ready-for-send to not-ready, so there was a moment at which it was
 * open and full. Acquire loads keep the observations in program order. */

static inline bool chan_full(goc_chan *c)
{
	if (c->cap == 0)
		return goc__waitq_first(&c->recvq) == NULL;
	return atomic_load_explicit(&c->qcount, memory_order_acquire) == c->cap;
}

static inline bool chan_empty(goc_chan *c)
{
	if (c->cap == 0)
		return atomic_load_explicit(&c->sendq.first, memory_order_acquire) == NULL;
	return atomic_load_explicit(&c->qcount, memory_order_acquire) == 0;
}

/* ---- send --------------------------------------------------------------- */

enum { MODE_BLOCK, MODE_TRY, MODE_UNTIL };

static GOC__NOINLINE int send_park(goc_chan *c, const void *elem, int64_t deadline)
{
	goc__sudog sg = { .g = goc__current(), .c = c, .elem = (void *)elem,
	                  .exclusive = deadline == GOC__NO_DEADLINE };
	goc__wait_prepare();
	goc__waitq_push(&c->sendq, &sg);
	int r = goc__park(goc__chan_unlock, c, GOC__WAIT_CHAN_SEND, c, deadline);
	if (GOC__UNLIKELY(r == GOC__WAKE_TIMEOUT)) {
		/* A receiver may have dequeued and skipped us; if not, leave. */
		goc__chanlock_acquire(&c->lock);
		if (sg.queued)
			goc__waitq_remove(&c->sendq, &sg);
		goc__chanlock_release(&c->lock);
		return GOC_ETIMEDOUT;
	}
	return sg.success ? 0 : GOC_ECLOSED;
}

static inline int chan_send(goc_chan *c, const void *elem, int mode, int64_t deadline)
{
	if (GOC__UNLIKELY(!c || (!elem && c->elem_size)))
		return GOC_EINVAL;
	if (GOC__UNLIKELY(goc__sim_active()) && mode != MODE_TRY)
		goc__sim_point();
	if (mode == MODE_TRY && !atomic_load_explicit(&c->closed, memory_order_acquire) && chan_full(c))
		return GOC_EAGAIN;

	goc__chanlock_acquire(&c->lock);
	if (GOC__UNLIKELY(atomic_load_explicit(&c->closed, memory_order_relaxed))) {
		goc__chanlock_release(&c->lock);
		return GOC_ECLOSED;
	}
	goc__sudog *sg = goc__waitq_dequeue(&c->recvq);
	if (sg) {
		goc__chan_send_direct(c, sg, elem);
		goc__chanlock_release(&c->lock);
		goc__chan_wake(sg);
		return 0;
	}
	if (atomic_load_explicit(&c->qcount, memory_order_relaxed) < c->cap) {
		goc__chan_buf_put(c, elem);
		goc__chanlock_release(&c->lock);
		return 0;
	}
	if (mode != MODE_BLOCK) {
		if (mode == MODE_TRY || deadline <= goc__clock_now()) {
			goc__chanlock_release(&c->lock);
			return mode == MODE_TRY ? GOC_EAGAIN : GOC_ETIMEDOUT;
		}
	}
	return send_park(c, elem, mode == MODE_BLOCK ? GOC__NO_DEADLINE : deadline);
}

int goc_send(goc_chan *c, const void *elem)
{
	return chan_send(c, elem, MODE_BLOCK, GOC__NO_DEADLINE);
}

int goc_try_send(goc_chan *c, const void *elem)
{
	return chan_send(c, elem, MODE_TRY, 0);
}

int goc_send_until(goc_chan *c, const void *elem, int64_t deadline)
{
	if (deadline == GOC__NO_DEADLINE)
		return chan_send(c, elem, MODE_BLOCK, GOC__NO_DEADLINE);
	return chan_send(c, elem, MODE_UNTIL, deadline);
}

/* ---- receive ------------------------------------------------------------ */

static GOC__NOINLINE int recv_park(goc_chan *c, void *out, int64_t deadline)
{
	goc__sudog sg = { .g = goc__current(), .c = c, .elem = out,
	                  .exclusive = deadline == GOC__NO_DEADLINE };
	goc__wait_prepare();
	goc__waitq_push(&c->recvq, &sg);
	int r = goc__park(goc__chan_unlock, c, GOC__WAIT_CHAN_RECV, c, deadline);
	if (GOC__UNLIKELY(r == GOC__WAKE_TIMEOUT)) {
		goc__chanlock_acquire(&c->lock);
		if (sg.queued)
			goc__waitq_remove(&c->recvq, &sg);
		goc__chanlock_release(&c->lock);
		return GOC_ETIMEDOUT;
	}
	/* Woken by close: the closer zeroed *out already. */
	return sg.success ? 0 : GOC_ECLOSED;
}

static inline int chan_recv(goc_chan *c, void *out, int mode, int64_t deadline)
{
	if (GOC__UNLIKELY(!c))
		return GOC_EINVAL;
	if (GOC__UNLIKELY(goc__sim_active()) && mode != MODE_TRY)
		goc__sim_point();
	if (mode == MODE_TRY && chan_empty(c)) {
		/* Order matters (as in Go): empty, then open, means there was a
		 * moment when it was open and empty. Closed: re-check emptiness,
		 * since a value may have been sent just before the close. */
		if (!atomic_load_explicit(&c->closed, memory_order_acquire))
			return GOC_EAGAIN;
		if (chan_empty(c)) {
			if (out)
				memset(out, 0, c->elem_size);
			return GOC_ECLOSED;
		}
	}

	goc__chanlock_acquire(&c->lock);
	goc__sudog *sg = goc__waitq_dequeue(&c->sendq);
	if (sg) {
		goc__chan_recv_direct(c, sg, out);
		goc__chanlock_release(&c->lock);
		goc__chan_wake(sg);
		return 0;
	}
	if (atomic_load_explicit(&c->qcount, memory_order_relaxed) > 0) {
		goc__chan_buf_take(c, out);
		goc__chanlock_release(&c->lock);
		return 0;
	}
	if (atomic_load_explicit(&c->closed, memory_order_relaxed)) {
		goc__chanlock_release(&c->lock);
		if (out)
			memset(out, 0, c->elem_size);
		return GOC_ECLOSED;
	}
	if (mode != MODE_BLOCK) {
		if (mode == MODE_TRY || deadline <= goc__clock_now()) {
			goc__chanlock_release(&c->lock);
			return mode == MODE_TRY ? GOC_EAGAIN : GOC_ETIMEDOUT;
		}
	}
	return recv_park(c, out, mode == MODE_BLOCK ? GOC__NO_DEADLINE : deadline);
}

int goc_recv(goc_chan *c, void *out)
{
	return chan_recv(c, out, MODE_BLOCK, GOC__NO_DEADLINE);
}

int goc_try_recv(goc_chan *c, void *out)
{
	return chan_recv(c, out, MODE_TRY, 0);
}

int goc_recv_until(goc_chan *c, void *out, int64_t deadline)
{
	if (deadline == GOC__NO_DEADLINE)
		return chan_recv(c, out, MODE_BLOCK, GOC__NO_DEADLINE);
	return chan_recv(c, out, MODE_UNTIL, deadline);
}

/* ---- close -------------------------------------------------------------- */

int goc_close(goc_chan *c)
{
	if (!c)
		return GOC_EINVAL;
	goc__chanlock_acquire(&c->lock);
	if (atomic_load_explicit(&c->closed, memory_order_relaxed)) {
		goc__chanlock_release(&c->lock);
		return GOC_ECLOSED;
	}
	/* release: pairs with the lock-free acquire loads of the try paths. */
	atomic_store_explicit(&c->closed, 1, memory_order_release);

	/* Claim every waiter now, wake them after unlocking. The claimed
	 * records stay valid until their owners are readied, so they can be
	 * chained through their (now unused) next links, in queue order. */
	goc__sudog *head = NULL, **tail = &head, *sg;
	while ((sg = goc__waitq_dequeue(&c->recvq)) != NULL) {
		if (sg->elem)
			memset(sg->elem, 0, c->elem_size);
		sg->success = false;
		*tail = sg;
		tail = &sg->next;
	}
	while ((sg = goc__waitq_dequeue(&c->sendq)) != NULL) {
		sg->success = false;
		*tail = sg;
		tail = &sg->next;
	}
	*tail = NULL;
	goc__chanlock_release(&c->lock);
	while (head) {
		sg = head;
		head = sg->next; /* read before the wake frees the record */
		goc__chan_wake(sg);
	}
	return 0;
}
