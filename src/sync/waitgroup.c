/* waitgroup.c - goc_waitgroup: wait for a collection of goroutines.
 *
 * state packs the counter (high 32 bits) and the number of waiters (low 32)
 * into one atomic word, as Go's sync.WaitGroup does, so add/done are one
 * atomic add on the fast path. Waiters queue on `lock`-guarded list; the
 * Done that brings the counter to zero with waiters present takes the lock,
 * resets the word and wakes them all. Counter < 0 is refused (GOC_ENEGATIVE)
 * with the state restored. */
#include "../internal.h"

typedef struct wg_waiter {
	goc__g *g;
	struct wg_waiter *next;
} wg_waiter;

static void unlock_wg(void *arg)
{
	goc__lock_release(arg);
}

int goc_waitgroup_add(goc_waitgroup *wg, int delta)
{
	if (!wg)
		return GOC_EINVAL;
	uint64_t d = (uint64_t)(int64_t)delta << 32;
	uint64_t state = atomic_fetch_add_explicit(&wg->state, d, memory_order_acq_rel) + d;
	int32_t v = (int32_t)(state >> 32);
	uint32_t w = (uint32_t)state;
	if (v < 0) {
		atomic_fetch_sub_explicit(&wg->state, d, memory_order_acq_rel);
		return GOC_ENEGATIVE;
	}
	if (v > 0 || w == 0)
		return 0;
	/* Counter hit zero with waiters: wake them all. */
	goc__lock *l = (goc__lock *)&wg->lock;
	goc__lock_acquire(l);
	wg_waiter *list = wg->waiters;
	wg->waiters = NULL;
	atomic_store_explicit(&wg->state, 0, memory_order_release);
	goc__lock_release(l);
	while (list) {
		wg_waiter *next = list->next; /* read before waking: the record dies */
		goc__g *g = list->g;
		if (goc__wait_claim(g))
			goc__ready(g);
		list = next;
	}
	return 0;
}

int goc_waitgroup_done(goc_waitgroup *wg)
{
	return goc_waitgroup_add(wg, -1);
}

int goc_waitgroup_wait_until(goc_waitgroup *wg, int64_t deadline)
{
	if (!wg)
		return GOC_EINVAL;
	goc__lock *l = (goc__lock *)&wg->lock;
	for (;;) {
		uint64_t state = atomic_load_explicit(&wg->state, memory_order_acquire);
		if ((int32_t)(state >> 32) == 0)
			return 0;
		if (deadline != GOC__NO_DEADLINE && goc__nanotime() >= deadline)
			return GOC_ETIMEDOUT;
		goc__lock_acquire(l);
		if (!atomic_compare_exchange_strong_explicit(&wg->state, &state, state + 1,
		                                             memory_order_acq_rel, memory_order_acquire)) {
			goc__lock_release(l);
			continue;
		}
		wg_waiter me = {.g = goc__current(), .next = wg->waiters};
		goc__wait_prepare();
		wg->waiters = &me;
		int r = goc__park(unlock_wg, l, GOC__WAIT_WAITGROUP, wg, deadline);
		if (r == GOC__WAKE_READY)
			return 0;
		/* Timed out: leave the queue unless the last Done emptied it. */
		goc__lock_acquire(l);
		for (wg_waiter **pp = (wg_waiter **)&wg->waiters; *pp; pp = &(*pp)->next) {
			if (*pp == &me) {
				*pp = me.next;
				atomic_fetch_sub_explicit(&wg->state, 1, memory_order_acq_rel);
				break;
			}
		}
		goc__lock_release(l);
		return GOC_ETIMEDOUT;
	}
}

int goc_waitgroup_wait(goc_waitgroup *wg)
{
	return goc_waitgroup_wait_until(wg, GOC__NO_DEADLINE);
}
