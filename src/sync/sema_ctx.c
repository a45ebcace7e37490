/* sema_ctx.c - goc_sema_acquire_ctx: a weighted acquire that a context's
 * cancellation can end (Go's semaphore.Acquire(ctx, n)).
 *
 * A context signals cancellation only by closing its done channel, and a
 * goroutine can wait on a channel only through the channel module, so this
 * waiter waits in goc_select over two channels: the context's done channel
 * and a one-slot grant channel of its own (made for this wait only: the
 * uncontended path allocates nothing). It queues in the semaphore's FIFO
 * like any waiter (semtab.h), but marked with its grant channel: the granter
 * (sema.c, serve) reserves its tokens and puts a signal in that channel
 * instead of claiming and readying it. The grant is thus a buffered send
 * that cannot block or fail, done under the bucket lock.
 *
 * If the context wins, the waiter retakes the bucket lock: still queued, it
 * leaves (serving those behind it if it was the head, as Go does); already
 * granted, it returns the tokens it was given and reports the cancellation,
 * as Go's Acquire does ("pretend we didn't"). Lock order: bucket lock ->
 * the grant channel's lock (the granter's try_send).
 */
#include "semtab.h"

#include "goc/chan.h"
#include "goc/ctx.h"

/* Called by serve() for a waiter queued here, bucket lock held, its tokens
 * already reserved. */
void goc__sema_grant_chan(goc__semw *w)
{
	/* One slot, one grant: this cannot fail. */
	if (goc_try_send((goc_chan *)w->grant, NULL) != 0)
		goc__panic("sema: grant channel refused the grant");
}

int goc_sema_acquire_ctx(goc_sema *s, goc_ctx *ctx, int64_t n)
{
	int err = goc__sema_check(s, n);
	if (err)
		return err;
	if (!ctx)
		return GOC_EINVAL;
	/* Go's Acquire: a done context fails even when tokens are free. */
	if ((err = goc_ctx_err(ctx)) != 0)
		return err;
	if (atomic_load_explicit(&s->nwait, memory_order_seq_cst) == 0 && goc__sema_take(s, n))
		return 0;
	goc_chan *done = goc_ctx_done(ctx);
	if (!done) {
		if ((err = goc_ctx_err(ctx)) != 0)
			return err;
		/* Never cancelled (a background chain) or no memory for done. */
		return errno == ENOMEM ? GOC_ENOMEM : goc_sema_acquire(s, n);
	}
	goc_chan *grant = goc_chan_make(0, 1);
	if (!grant)
		return GOC_ENOMEM;

	goc__semroot *r = goc__semroot_of(s);
	goc__semw w = {0};
	w.n = n;
	w.grant = grant;
	goc__semroot_lock(r);
	atomic_fetch_add_explicit(&s->nwait, 1, memory_order_seq_cst);
	if (!goc__semq_first(r, s) && goc__sema_take(s, n)) {
		atomic_fetch_sub_explicit(&s->nwait, 1, memory_order_relaxed);
		goc__semroot_unlock(r);
		goc_chan_release(grant);
		return 0;
	}
	goc__semq_push(r, s, &w, false);
	goc__semroot_unlock(r);

	goc_case cases[2] = {goc_case_recv(grant, NULL), goc_case_recv(done, NULL)};
	int which = goc_select(cases, 2);
	if (which == 0) {
		goc_chan_release(grant);
		return 0;
	}
	/* which is 1 (done closed), or an error from select. */
	/* Cancelled: leave the queue, or give back a grant that raced in. */
	goc__semroot_lock(r);
	if (w.queued) {
		bool front = goc__semq_first(r, s) == &w;
		goc__semq_remove(r, &w);
		atomic_fetch_sub_explicit(&s->nwait, 1, memory_order_relaxed);
		if (front)
			goc__sema_serve(s, r);
	} else {
		atomic_fetch_sub_explicit(&s->cur, n, memory_order_seq_cst);
		goc__sema_serve(s, r);
	}
	goc__semroot_unlock(r);
	goc_chan_release(grant);
	if (which < 0)
		return which;
	err = goc_ctx_err(ctx);
	return err ? err : GOC_ECANCELED;
}
