/* select.c - goc_select, goc_try_select, goc_select_until (after Go's
 * selectgo).
 *
 * One select, in four steps:
 *   0. Orders: the poll order is a uniformly random permutation of the
 *      cases that have a channel (NULL-channel cases never run); the lock
 *      order is the same cases sorted by channel address.
 *   1. Lock every channel in lock order, then poll the cases in poll order
 *      and run the first that can proceed (so the choice among ready cases
 *      is uniform). None: `default` (try) or deadline passed -> unlock, done.
 *   2. Otherwise enqueue one waiter record per case (in lock order) and park;
 *      the park's unlock function releases the channels.
 *   3. Woken (a waker claimed us and set our G's param to the record of the
 *      case it completed) or timed out: lock every channel again, dequeue
 *      the records still queued, unlock. The winner's record was dequeued
 *      by its waker; every other waker that found one of ours failed to
 *      claim us and dropped that record, so we are woken exactly once.
 *
 * Records live on the stack for up to SELECT_STACK_CASES cases; above that
 * one malloc holds the orders and the records (the only allocation in this
 * module outside goc_chan_make).
 *
 * In simulation mode (src/sched/sim.c) a blocking select is a yield point:
 * before it polls, the seed may switch to another goroutine.
 *
 * Lock order: several channel locks are taken in increasing address order
 * (sellock), each once even if several cases share the channel; so two
 * selects over the same channels can never deadlock. Timer heap -> channel
 * locks -> run queues, as everywhere (hchan.h).
 */
#include "hchan.h"
#include "../sched/sim.h"

#include <stdlib.h>

#define SELECT_STACK_CASES 64

enum { MODE_BLOCK, MODE_TRY, MODE_UNTIL };

/* ---- orders ------------------------------------------------------------- */

static inline uintptr_t case_key(const goc_case *cases, uint32_t i)
{
	return (uintptr_t)cases[i].chan;
}

/* Sort order[0..n) by channel address: insertion sort for the usual few
 * cases, heapsort (no allocation, n log n) for many. */
static void sort_by_chan(const goc_case *cases, uint32_t *order, uint32_t n)
{
	if (n <= 16) {
		for (uint32_t i = 1; i < n; i++) {
			uint32_t x = order[i];
			uintptr_t k = case_key(cases, x);
			uint32_t j = i;
			for (; j > 0 && case_key(cases, order[j - 1]) > k; j--)
				order[j] = order[j - 1];
			order[j] = x;
		}
		return;
	}
	/* Build a max-heap, then move the max to the end repeatedly. */
	for (uint32_t start = n / 2; start-- > 0;) {
		uint32_t r = start, x = order[r];
		for (uint32_t c; (c = 2 * r + 1) < n; r = c) {
			if (c + 1 < n && case_key(cases, order[c + 1]) > case_key(cases, order[c]))
				c++;
			if (case_key(cases, order[c]) <= case_key(cases, x))
				break;
			order[r] = order[c];
		}
		order[r] = x;
	}
	for (uint32_t end = n; end-- > 1;) {
		uint32_t x = order[end];
		order[end] = order[0];
		uint32_t r = 0;
		for (uint32_t c; (c = 2 * r + 1) < end; r = c) {
			if (c + 1 < end && case_key(cases, order[c + 1]) > case_key(cases, order[c]))
				c++;
			if (case_key(cases, order[c]) <= case_key(cases, x))
				break;
			order[r] = order[c];
		}
		order[r] = x;
	}
}

/* ---- locking every channel of a select ---------------------------------- */

/* Lock in increasing address order (lockorder is sorted), each channel once. */
static void sellock(const goc_case *cases, const uint32_t *lockorder, uint32_t n)
{
	goc_chan *prev = NULL;
	for (uint32_t k = 0; k < n; k++) {
		goc_chan *c = cases[lockorder[k]].chan;
		if (c != prev) {
			goc__chanlock_acquire(&c->lock);
			prev = c;
		}
	}
}

/* Unlock in reverse order, so the lowest channel is released last. When
 * this runs as the park's unlock function (on the scheduler's stack), the
 * select may be woken as soon as any channel is released and resume on
 * another thread; its first act is to lock lockorder[0] again, which we
 * still hold, so its stack (cases, lockorder) stays untouched until our
 * final unlock, after which we must not read it. */
static void selunlock(const goc_case *cases, const uint32_t *lockorder, uint32_t n)
{
	for (uint32_t k = n; k-- > 0;) {
		goc_chan *c = cases[lockorder[k]].chan;
		if (k > 0 && c == cases[lockorder[k - 1]].chan)
			continue; /* unlocked when k - 1 comes round */
		goc__chanlock_release(&c->lock);
	}
}

struct selpark {
	const goc_case *cases;
	const uint32_t *lockorder;
	uint32_t n;
};

static void selunlock_park(void *arg)
{
	const struct selpark *sp = arg;
	selunlock(sp->cases, sp->lockorder, sp->n);
}

/* ---- blocking ----------------------------------------------------------- */

/* No channel to wait on: Go's `select {}`. Only a deadline can end it. */
static int select_no_cases(int mode, int64_t deadline)
{
	if (mode == MODE_TRY)
		return GOC_EAGAIN;
	if (mode == MODE_UNTIL && deadline <= goc__clock_now())
		return GOC_ETIMEDOUT;
	for (;;) {
		goc__wait_prepare();
		if (goc__park(NULL, NULL, GOC__WAIT_SELECT_NO_CASES, NULL, deadline) == GOC__WAKE_TIMEOUT)
			return GOC_ETIMEDOUT;
	}
}

/* Steps 2 and 3, with every channel locked. */
static GOC__NOINLINE int select_park(goc_case *cases, const uint32_t *lockorder, uint32_t n,
                                     goc__sudog *heap_sgs, int64_t deadline)
{
	goc__sudog stack_sgs[n <= SELECT_STACK_CASES ? n : 1];
	goc__sudog *sgs = n <= SELECT_STACK_CASES ? stack_sgs : heap_sgs;
	goc__g *g = goc__current();

	goc__wait_prepare();
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = lockorder[k];
		goc_chan *c = cases[i].chan;
		goc__sudog *sg = &sgs[k];
		sg->g = g;
		sg->c = c;
		sg->elem = cases[i].elem;
		sg->index = i;
		sg->success = false;
		/* One case and no deadline: only that channel's lock holders can
		 * end the wait; else other cases' wakers and the deadline race. */
		sg->exclusive = n == 1 && deadline == GOC__NO_DEADLINE;
		goc__waitq_push(cases[i].dir == GOC__CASE_SEND ? &c->sendq : &c->recvq, sg);
	}
	struct selpark sp = { cases, lockorder, n };
	int r = goc__park(selunlock_park, &sp, GOC__WAIT_SELECT, NULL, deadline);

	goc__sudog *winner = r == GOC__WAKE_READY ? goc__g_waitp(g)->param : NULL;
	if (winner && (winner < sgs || winner >= sgs + n))
		goc__panic("select: woken by a waiter record that is not one of its cases");
	if (!(winner && n == 1)) {
		/* Step 3: drop the records no waker took (with one case and a
		 * winner there are none). */
		sellock(cases, lockorder, n);
		for (uint32_t k = 0; k < n; k++) {
			goc__sudog *sg = &sgs[k];
			if (sg != winner && sg->queued) {
				goc_chan *c = sg->c;
				goc__waitq_remove(cases[sg->index].dir == GOC__CASE_SEND ? &c->sendq : &c->recvq, sg);
			}
		}
		selunlock(cases, lockorder, n);
	}
	if (!winner)
		return GOC_ETIMEDOUT;
	/* A receive woken by close got its zero value from the closer. */
	cases[winner->index].ok = winner->success;
	return (int)winner->index;
}

/* ---- select ------------------------------------------------------------- */

static int select_impl(goc_case *cases, size_t n, int mode, int64_t deadline)
{
	if (n == 0)
		return select_no_cases(mode, deadline);
	if (!cases || n > INT32_MAX)
		return GOC_EINVAL;
	if (GOC__UNLIKELY(goc__sim_active()) && mode != MODE_TRY)
		goc__sim_point();

	uint32_t stack_orders[2 * SELECT_STACK_CASES];
	uint32_t *pollorder = stack_orders;
	goc__sudog *heap_sgs = NULL;
	void *heap = NULL;
	if (n > SELECT_STACK_CASES) {
		/* The one allocation: orders and waiter records together. */
		heap = malloc(n * sizeof(goc__sudog) + 2 * n * sizeof(uint32_t));
		if (!heap)
			return GOC_ENOMEM;
		heap_sgs = heap;
		pollorder = (uint32_t *)(heap_sgs + n);
	}
	uint32_t *lockorder = pollorder + n;

	/* Step 0: a random permutation of the cases with channels (inside-out
	 * Fisher-Yates), validating them on the way. */
	uint32_t norder = 0;
	for (uint32_t i = 0; i < (uint32_t)n; i++) {
		goc_case *cas = &cases[i];
		if (GOC__UNLIKELY(cas->dir != GOC__CASE_SEND && cas->dir != GOC__CASE_RECV))
			goto invalid;
		if (!cas->chan)
			continue;
		if (GOC__UNLIKELY(cas->dir == GOC__CASE_SEND && !cas->elem && cas->chan->elem_size))
			goto invalid;
		uint32_t j = norder ? goc__chan_rand(norder + 1) : 0; /* rand(1) is 0 */
		pollorder[norder] = pollorder[j];
		pollorder[j] = i;
		norder++;
	}
	if (norder == 0) {
		free(heap);
		return select_no_cases(mode, deadline);
	}
	memcpy(lockorder, pollorder, norder * sizeof(uint32_t));
	sort_by_chan(cases, lockorder, norder);

	/* Step 1: poll with everything locked. */
	sellock(cases, lockorder, norder);
	goc__sudog *sg = NULL;
	uint32_t i = 0;
	bool ok = false;
	for (uint32_t k = 0; k < norder; k++) {
		i = pollorder[k];
		goc_case *cas = &cases[i];
		goc_chan *c = cas->chan;
		if (cas->dir == GOC__CASE_RECV) {
			if ((sg = goc__waitq_dequeue(&c->sendq)) != NULL) {
				goc__chan_recv_direct(c, sg, cas->elem);
				ok = true;
				goto ran;
			}
			if (atomic_load_explicit(&c->qcount, memory_order_relaxed) > 0) {
				goc__chan_buf_take(c, cas->elem);
				ok = true;
				goto ran;
			}
			if (atomic_load_explicit(&c->closed, memory_order_relaxed)) {
				if (cas->elem)
					memset(cas->elem, 0, c->elem_size);
				ok = false;
				goto ran;
			}
		} else {
			if (atomic_load_explicit(&c->closed, memory_order_relaxed)) {
				ok = false; /* Go panics here; we report the case as failed */
				goto ran;
			}
			if ((sg = goc__waitq_dequeue(&c->recvq)) != NULL) {
				goc__chan_send_direct(c, sg, cas->elem);
				ok = true;
				goto ran;
			}
			if (atomic_load_explicit(&c->qcount, memory_order_relaxed) < c->cap) {
				goc__chan_buf_put(c, cas->elem);
				ok = true;
				goto ran;
			}
		}
	}

	/* Nothing ready. */
	int r;
	if (mode == MODE_TRY || (mode == MODE_UNTIL && deadline <= goc__clock_now())) {
		selunlock(cases, lockorder, norder);
		r = mode == MODE_TRY ? GOC_EAGAIN : GOC_ETIMEDOUT;
	} else {
		r = select_park(cases, lockorder, norder, heap_sgs,
		                mode == MODE_BLOCK ? GOC__NO_DEADLINE : deadline);
	}
	free(heap);
	return r;

ran:
	selunlock(cases, lockorder, norder);
	if (sg)
		goc__chan_wake(sg);
	free(heap);
	cases[i].ok = ok;
	return (int)i;

invalid:
	free(heap);
	return GOC_EINVAL;
}

int goc_select(goc_case *cases, size_t n)
{
	return select_impl(cases, n, MODE_BLOCK, GOC__NO_DEADLINE);
}

int goc_try_select(goc_case *cases, size_t n)
{
	return select_impl(cases, n, MODE_TRY, 0);
}

int goc_select_until(goc_case *cases, size_t n, int64_t deadline)
{
	if (deadline == GOC__NO_DEADLINE)
		return select_impl(cases, n, MODE_BLOCK, GOC__NO_DEADLINE);
	return select_impl(cases, n, MODE_UNTIL, deadline);
}
