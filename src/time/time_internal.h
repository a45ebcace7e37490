/* time_internal.h - what src/time shares with src/ctx (never installed).
 *
 * goc__oneshot: a one-shot goc__timer whose stop can be trusted to mean
 * "the callback is not running and will not run".
 *
 * sched's goc__timer_stop promises that, but it reads t->heap before taking
 * the heap lock, and the firing path clears t->heap (heap_remove) before it
 * calls fn. So stop can return false while fn is about to run or running,
 * and an owner that frees the object then frees it under the callback. We
 * close that gap on our side: the callback's last touch of the object is
 * goc__oneshot_done (a release store of `done`), and a stop that finds the
 * timer no longer armed waits (acquire) until `done` is set. Callbacks are
 * short by contract (internal.h), so the wait is microseconds.
 *
 * One thing looks the same from here and never ends: a timer still armed
 * when the runtime stopped (goc_main returned) is dropped from its heap
 * without firing. The wait therefore gives up after a second, which is
 * orders of magnitude longer than any callback takes, and then assumes that
 * case (see goc__oneshot_stop).
 *
 * Owner rules: start and stop of one goc__oneshot are serialised by its
 * owner (goc_timer by its lock, ctx by holding a reference), as goc__timer
 * requires. `armed` is only read and written by the owner side.
 */
#ifndef GOC_TIME_INTERNAL_H
#define GOC_TIME_INTERNAL_H

#include "../internal.h"

typedef struct goc__oneshot {
	goc__timer t;            /* must stay first: callbacks get &t */
	_Atomic uint32_t done;   /* callback finished with the object (release) */
	bool armed;              /* owner's: started, not yet stopped or reaped */
} goc__oneshot;

/* Arm o to run fn(&o->t, now) at `when` (absolute, goc_now clock); t.arg is
 * arg. The caller owns o and has stopped it if it was armed. */
void goc__oneshot_start(goc__oneshot *o, int64_t when, void (*fn)(goc__timer *, int64_t), void *arg);
/* From the callback, as its last access to the object that holds o. */
static inline void goc__oneshot_done(goc__oneshot *o)
{
	atomic_store_explicit(&o->done, 1, memory_order_release); /* pairs with stop's acquire */
}
/* Disarm. true: it had not fired and now never will; false: it fired (the
 * callback has finished when this returns) or was not armed. */
bool goc__oneshot_stop(goc__oneshot *o);

/* Orphan registry: timers armed with no owner left to stop them (goc_after,
 * a released goc_after_func timer, goc_tick's ticker) are kept on one list,
 * so that memory still pending when the process exits stays reachable (and
 * leak checkers stay quiet) rather than lost with the timer heaps. */
typedef struct goc__tnode {
	struct goc__tnode *next, *prev;
	bool linked;             /* guarded by the registry lock */
	bool reaped;             /* the callback ran (one-shots); registry lock */
} goc__tnode;
/* Link n unless its one-shot already ran; false if it had (not linked). */
bool goc__orphan_add(goc__tnode *n);
/* Mark n's one-shot as run and unlink it if linked. */
void goc__orphan_reap(goc__tnode *n);

#endif
