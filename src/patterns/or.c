/* or.c - goc_or: one signal channel that closes when any of n channels
 * closes, with one waiting goroutine and O(n) memory whatever n is.
 *
 * Go's or() spawns a goroutine per level of a recursion (n/2 goroutines,
 * each a 4-case select); a select over all n cases would sort n channels by
 * address and hold all n locks at once, twice. Neither is needed to wait for
 * "any of n": the watcher goroutine parks once and registers a receive
 * waiter record (a sudog, as select uses) on each input's receive queue,
 * one channel at a time. The first closer (or sender) that claims the
 * watcher's G wakes it, exactly as it would wake a select; the watcher then
 * takes its records off the other queues, closes the output and releases
 * everything.
 *
 * Registering after parking. Records must not be claimable before the
 * watcher's context is saved (internal.h, parking step 2), and holding every
 * input's lock until then is what select does. Instead the registration
 * runs as the park's unlock function (or_register), which the scheduler
 * calls after the context is saved: from its first record on, a waker may
 * ready the watcher, which may then resume on another worker while
 * or_register is still going. So:
 *   - or_register stops as soon as it sees the watcher claimed, and
 *     publishes how many records it queued (`registered`) before clearing
 *     `busy` (release);
 *   - the watcher, once resumed, waits for busy == 0 (acquire) before it
 *     touches the records, and or_register touches nothing of the state
 *     after clearing busy (the watcher frees it).
 * An input found ready while registering (closed, or a value to take) is
 * handled like a select's poll: the watcher claims itself (the CAS decides
 * against a concurrent waker), takes the value if any, and or_register
 * readies it once it has stopped touching the state.
 *
 * The records live in the state block, not on a stack. The output channel
 * is watched too (record 0): closing it is how a caller stops the watcher.
 *
 * Lock order: one channel lock at a time (or_register and the clean-up
 * never hold two), so no ordering between channels is needed; run queue
 * locks (goc__ready) only after the channel lock is dropped.
 *
 * This uses chan's waiter-queue helpers (src/chan/hchan.h) directly; a
 * close-watch hook exported by chan (enqueue/dequeue a receive record on one
 * channel, reporting "ready now") would keep the queue logic in one module.
 */
#include "pat.h"

#include <sched.h>

struct or_state {
	goc_chan *out;
	goc__g *g;                  /* the watcher */
	size_t n;                   /* records: [0] out, [1..n-1] the inputs */
	size_t registered;          /* records queued by or_register (prefix of
	                               sgs); written before busy is cleared */
	_Atomic uint32_t busy;      /* 1 while or_register may touch the state */
	goc__sudog sgs[];           /* sgs[k].c: the channel (NULL: skipped) */
};

/* Prefetch distance for the walk over the inputs: each is its own
 * allocation, so the walk is a chain of cache misses otherwise. */
#define OR_PREFETCH 8

/* Lock held. Can a receive on c proceed now (a value, or closed)? */
static inline bool chan_recv_ready(goc_chan *c)
{
	return goc__waitq_first(&c->sendq) != NULL ||
	       atomic_load_explicit(&c->qcount, memory_order_relaxed) > 0 ||
	       atomic_load_explicit(&c->closed, memory_order_relaxed);
}

/* Lock held, chan_recv_ready(c), the watcher claimed by us: receive as a
 * select would (values are discarded). Returns a sender to wake, or NULL. */
static goc__sudog *chan_recv_now(goc_chan *c)
{
	goc__sudog *sender = goc__waitq_dequeue(&c->sendq);
	if (sender) {
		goc__chan_recv_direct(c, sender, NULL);
		return sender;
	}
	if (atomic_load_explicit(&c->qcount, memory_order_relaxed) > 0)
		goc__chan_buf_take(c, NULL);
	return NULL; /* or closed: nothing to take */
}

/* The park's unlock function: queue a record on every input, one lock at a
 * time, until done or the watcher has been claimed. Runs on the scheduler's
 * stack after the watcher's context was saved. */
static void or_register(void *arg)
{
	struct or_state *st = arg;
	goc__g *g = st->g;
	_Atomic uint32_t *claim = &goc__g_waitp(g)->claim;
	goc__sudog *wake_sender = NULL;
	bool wake_self = false;
	size_t k = 0;

	for (; k < st->n; k++) {
		if (k + OR_PREFETCH < st->n && st->sgs[k + OR_PREFETCH].c)
			__builtin_prefetch(st->sgs[k + OR_PREFETCH].c, 1);
		goc__sudog *sg = &st->sgs[k];
		goc_chan *c = sg->c;
		if (!c)
			continue;
		/* Relaxed: only an early exit; the claim CAS below decides. */
		if (atomic_load_explicit(claim, memory_order_relaxed) != GOC__WAKE_NONE)
			break;
		goc__chanlock_acquire(&c->lock);
		if (chan_recv_ready(c)) {
			if (goc__wait_claim(g)) {
				wake_sender = chan_recv_now(c);
				wake_self = true;
			}
			goc__chanlock_release(&c->lock);
			break;
		}
		sg->g = g;
		sg->elem = NULL;
		sg->index = 0;
		sg->exclusive = false; /* several wakers race: claims are CASes */
		sg->success = false;
		goc__waitq_push(&c->recvq, sg);
		goc__chanlock_release(&c->lock);
	}
	st->registered = k;
	if (wake_self)
		goc__g_waitp(g)->param = NULL;
	/* release: the watcher reads the records after an acquire of busy == 0.
	 * The state may be freed from here on: only locals below. */
	atomic_store_explicit(&st->busy, 0, memory_order_release);
	if (wake_sender)
		goc__chan_wake(wake_sender);
	if (wake_self)
		goc__ready(g);
}

static void or_wait(void *arg)
{
	struct or_state *st = arg;
	st->g = goc__current();
	atomic_store_explicit(&st->busy, 1, memory_order_relaxed);
	goc__wait_prepare();
	goc__park(or_register, st, GOC__WAIT_SELECT, st->out, GOC__NO_DEADLINE);

	/* Claimed and readied. Wait for or_register to let go of the state
	 * (only with several workers can we run while it still does). */
	while (atomic_load_explicit(&st->busy, memory_order_acquire))
		sched_yield();
	/* One pass: dequeue each record and drop the input's reference while
	 * the channel is in cache (for large n each input is a cache miss). */
	for (size_t k = 0; k < st->n; k++) {
		if (k + OR_PREFETCH < st->n && st->sgs[k + OR_PREFETCH].c)
			__builtin_prefetch(st->sgs[k + OR_PREFETCH].c, 1);
		goc__sudog *sg = &st->sgs[k];
		goc_chan *c = sg->c;
		if (!c)
			continue;
		if (k < st->registered) {
			goc__chanlock_acquire(&c->lock);
			if (sg->queued)
				goc__waitq_remove(&c->recvq, sg);
			goc__chanlock_release(&c->lock);
		}
		if (k > 0)
			goc_chan_release(c); /* record 0 is out: released last */
	}
	/* Release and free first, close last: once the caller sees the output
	 * closed, all that is left of us is that one reference. */
	goc_chan *out = st->out;
	free(st);
	goc_close(out); /* GOC_ECLOSED when the caller closed it to stop us */
	goc_chan_release(out);
}

goc_chan *goc_or(goc_chan *const *chans, size_t n)
{
	if (!chans || n == 0 || n >= (SIZE_MAX - sizeof(struct or_state)) / sizeof(goc__sudog))
		return goc__pat_fail(EINVAL);
	struct or_state *st = malloc(sizeof *st + (n + 1) * sizeof(goc__sudog));
	if (!st)
		return goc__pat_fail(ENOMEM);
	goc_chan *out = goc_chan_make(0, 0);
	if (!out) {
		free(st);
		return goc__pat_fail(ENOMEM);
	}
	st->out = out;
	st->n = n + 1;
	st->registered = 0;
	goc_chan_retain(out);
	st->sgs[0].c = out;
	for (size_t i = 0; i < n; i++) {
		if (i + OR_PREFETCH < n && chans[i + OR_PREFETCH])
			__builtin_prefetch(chans[i + OR_PREFETCH], 1);
		goc_chan_retain(chans[i]); /* the caller may release its own at once */
		st->sgs[i + 1].c = chans[i];
	}
	if (goc__pat_spawn("goc_or", or_wait, st) != 0) {
		for (size_t k = 0; k < st->n; k++)
			goc_chan_release(st->sgs[k].c);
		free(st);
		goc_chan_release(out);
		return goc__pat_fail(ENOMEM);
	}
	return out;
}
