/* sema.c - goc_sema: weighted semaphore (Go's x/sync/semaphore).
 *
 * cur counts tokens held (0..size); nwait counts records queued in the wait
 * table (semtab.h) under the semaphore's address. Waiters are served FIFO:
 * the head's request is granted as soon as it fits, and nothing behind it
 * is granted before it (so a large request is not starved by small ones).
 *
 * Fast paths take no lock: acquire CASes cur up when nobody is queued;
 * release CASes cur down and looks for waiters only when nwait > 0. The
 * waiter side pairs with that as a Dekker handshake: it increments nwait
 * (seq_cst) and then reads cur (seq_cst), while release writes cur (seq_cst
 * CAS) and then reads nwait (seq_cst); so either the waiter sees the tokens,
 * or the releaser sees the waiter and serves the queue under the bucket lock.
 *
 * Granting (bucket lock held): reserve the head's tokens with a CAS on cur,
 * dequeue it, then claim it; if the claim fails (its deadline won) give the
 * tokens back and go on. A waiter of the context form (sema_ctx.c) is not
 * claimed but sent its grant on a channel. A waiter that leaves from the
 * head of the queue serves the queue again, since those behind it may now
 * fit.
 */
#include "semtab.h"
#include "../sched/sim.h"

int goc_sema_init(goc_sema *s, int64_t n)
{
	if (!s || n < 0)
		return GOC_EINVAL;
	s->size = n;
	atomic_store_explicit(&s->cur, 0, memory_order_relaxed);
	atomic_store_explicit(&s->nwait, 0, memory_order_relaxed);
	return 0;
}

/* Take n tokens if they are free now. */
bool goc__sema_take(goc_sema *s, int64_t n)
{
	int64_t c = atomic_load_explicit(&s->cur, memory_order_seq_cst);
	while (s->size - c >= n) {
		if (atomic_compare_exchange_weak_explicit(&s->cur, &c, c + n, memory_order_seq_cst,
		                                          memory_order_seq_cst))
			return true;
	}
	return false;
}

void goc__sema_serve(goc_sema *s, goc__semroot *r)
{
	goc__semw *w;
	while ((w = goc__semq_first(r, s))) {
		if (!goc__sema_take(s, w->n))
			break;
		goc__semq_remove(r, w);
		atomic_fetch_sub_explicit(&s->nwait, 1, memory_order_relaxed);
		if (w->grant)
			goc__sema_grant_chan(w);   /* sema_ctx.c: cannot fail */
		else if (goc__wait_claim(w->g))
			goc__ready(w->g);
		else
			atomic_fetch_sub_explicit(&s->cur, w->n, memory_order_seq_cst);
	}
}

/* Queue for n tokens and park until granted or the deadline. */
static GOC__NOINLINE int acquire_slow(goc_sema *s, int64_t n, int64_t deadline)
{
	goc__semroot *r = goc__semroot_of(s);
	goc__semw w = {0};
	w.n = n;
	goc__semroot_lock(r);
	atomic_fetch_add_explicit(&s->nwait, 1, memory_order_seq_cst);
	if (!goc__semq_first(r, s) && goc__sema_take(s, n)) {
		atomic_fetch_sub_explicit(&s->nwait, 1, memory_order_relaxed);
		goc__semroot_unlock(r);
		return 0;
	}
	goc__semq_push(r, s, &w, false);
	if (goc__semq_park(r, &w, GOC__WAIT_SEMA, s, deadline) == GOC__WAKE_READY) {
		atomic_thread_fence(memory_order_acquire);
		return 0;
	}
	/* Bucket lock held. Not queued: a granter dequeued us, failed the
	 * claim and gave the tokens back. */
	if (w.queued) {
		bool front = goc__semq_first(r, s) == &w;
		goc__semq_remove(r, &w);
		atomic_fetch_sub_explicit(&s->nwait, 1, memory_order_relaxed);
		if (front)
			goc__sema_serve(s, r);
	}
	goc__semroot_unlock(r);
	return GOC_ETIMEDOUT;
}


int goc_sema_acquire_until(goc_sema *s, int64_t n, int64_t deadline)
{
	int err = goc__sema_check(s, n);
	if (err)
		return err;
	if (atomic_load_explicit(&s->nwait, memory_order_seq_cst) == 0 && goc__sema_take(s, n))
		return 0;
	if (deadline != GOC__NO_DEADLINE && goc__clock_now() >= deadline)
		return GOC_ETIMEDOUT;
	return acquire_slow(s, n, deadline);
}

int goc_sema_acquire(goc_sema *s, int64_t n)
{
	return goc_sema_acquire_until(s, n, GOC__NO_DEADLINE);
}

int goc_sema_try_acquire(goc_sema *s, int64_t n)
{
	int err = goc__sema_check(s, n);
	if (err)
		return err;
	if (atomic_load_explicit(&s->nwait, memory_order_seq_cst) == 0 && goc__sema_take(s, n))
		return 0;
	return GOC_EAGAIN;
}

int goc_sema_release(goc_sema *s, int64_t n)
{
	if (GOC__UNLIKELY(!s || n < 0))
		return GOC_EINVAL;
	int64_t c = atomic_load_explicit(&s->cur, memory_order_relaxed);
	do {
		if (n > c)
			return GOC_EPERM;   /* nothing written */
	} while (!atomic_compare_exchange_weak_explicit(&s->cur, &c, c - n, memory_order_seq_cst,
	                                                memory_order_relaxed));
	if (atomic_load_explicit(&s->nwait, memory_order_seq_cst) != 0) {
		goc__semroot *r = goc__semroot_of(s);
		goc__semroot_lock(r);
		goc__sema_serve(s, r);
		goc__semroot_unlock(r);
	}
	return 0;
}
