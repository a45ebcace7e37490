/* goc/sync.h - goroutine-aware synchronisation: mutex, rwmutex, waitgroup,
 * once, cond, weighted semaphore, errgroup (Go's sync, x/sync/semaphore and
 * x/sync/errgroup).
 *
 * Every wait parks the calling goroutine (its worker runs other goroutines
 * meanwhile); called from a thread goc did not start, it blocks that thread
 * instead. Every wait has a deadline form (`_until`, an absolute goc_now()
 * time) returning GOC_ETIMEDOUT, and the semaphore also a context form.
 *
 * All objects are plain structs: zero-initialised (or GOC_*_INIT) they are
 * ready to use, they need no destroy call, and they must not be copied once
 * used. Waiting goroutines are kept in a global table keyed by the object's
 * address (as Go's runtime does), so no object holds a queue.
 *
 * Misuse is reported, never silently absorbed: unlocking an unlocked mutex
 * returns GOC_EPERM, a waitgroup counter that would go negative returns
 * GOC_ENEGATIVE, and in both cases the object's state is left as it was.
 * Like Go's, the locks are not owned by a goroutine: any goroutine may unlock
 * a locked mutex (so an unlock by the wrong one cannot be detected).
 */
#ifndef GOC_SYNC_H
#define GOC_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- goc_mutex: mutual exclusion ----------------------------------------
 * Lock is one atomic instruction when free, unlock one more. A mutex used
 * only by goroutines of one worker (every mutex at GOC_PROCS=1, until a
 * foreign thread or a blocking call touches it) is biased to that worker
 * and locks with plain loads and stores; the first use from elsewhere
 * switches it to the atomic mode for good, at a cost of about a
 * microsecond (one membarrier). Contended, a locker spins briefly (only
 * while another worker may be running the holder), then parks. A waiter
 * that has waited over 1 ms switches the mutex to starvation mode: unlock
 * then hands the lock directly to the oldest waiter, so no waiter waits
 * forever. */
typedef struct goc_mutex {
	_Atomic uint32_t state;  /* private: locked, woken, starving, waiter count */
	_Atomic uint32_t bias;   /* private: the worker it is biased to, or the mode */
	_Atomic uint32_t held;   /* private: locked, while biased */
} goc_mutex;
#define GOC_MUTEX_INIT {0, 0, 0}

/* Lock m, parking until it is free. 0, or GOC_EINVAL for NULL. */
int goc_mutex_lock(goc_mutex *m);
/* As lock, giving up at deadline: GOC_ETIMEDOUT (m not locked by us). */
int goc_mutex_lock_until(goc_mutex *m, int64_t deadline);
/* Lock m if that needs no wait: 0, or GOC_EAGAIN. Never blocks. */
int goc_mutex_trylock(goc_mutex *m);
/* Unlock m: 0, or GOC_EPERM if m is not locked (state unchanged). */
int goc_mutex_unlock(goc_mutex *m);

/* ---- goc_rwmutex: many readers or one writer ----------------------------
 * Writer preference, as Go's: once a writer waits, new readers wait too, so
 * readers cannot starve writers; a writer's unlock admits every reader that
 * queued behind it before the next writer, so writers cannot starve readers.
 * A reader must not take a read lock it already holds if a writer may queue
 * in between (that deadlocks, as in Go). */
typedef struct goc_rwmutex {
	_Atomic uint32_t state;  /* private: writer, waiting flags, reader count */
} goc_rwmutex;
#define GOC_RWMUTEX_INIT {0}

/* Read-lock: 0, GOC_EINVAL, or GOC_EAGAIN if 2^29-1 readers already hold it. */
int goc_rwmutex_rlock(goc_rwmutex *rw);
int goc_rwmutex_rlock_until(goc_rwmutex *rw, int64_t deadline);   /* | GOC_ETIMEDOUT */
int goc_rwmutex_tryrlock(goc_rwmutex *rw);                        /* 0 | GOC_EAGAIN */
/* Drop one read lock: 0, or GOC_EPERM if no reader holds it. */
int goc_rwmutex_runlock(goc_rwmutex *rw);
/* Write-lock: 0 or GOC_EINVAL. */
int goc_rwmutex_lock(goc_rwmutex *rw);
int goc_rwmutex_lock_until(goc_rwmutex *rw, int64_t deadline);    /* | GOC_ETIMEDOUT */
int goc_rwmutex_trylock(goc_rwmutex *rw);                         /* 0 | GOC_EAGAIN */
/* Drop the write lock: 0, or GOC_EPERM if no writer holds it. */
int goc_rwmutex_unlock(goc_rwmutex *rw);

/* ---- goc_waitgroup: wait for a collection of goroutines ----------------- */
typedef struct goc_waitgroup {
	_Atomic uint64_t state;  /* private: counter << 32 | waiters */
} goc_waitgroup;
#define GOC_WAITGROUP_INIT {0}

/* Add delta (may be negative) to the counter; when it reaches zero every
 * waiter is released. GOC_ENEGATIVE if it would go below zero, GOC_EINVAL
 * for NULL or above INT32_MAX; the counter is unchanged on error. Call the
 * positive adds before the goroutines (and the wait) they account for. */
int goc_waitgroup_add(goc_waitgroup *wg, int delta);
/* goc_waitgroup_add(wg, -1). */
int goc_waitgroup_done(goc_waitgroup *wg);
/* Wait until the counter is zero (at once if it is). The group may be
 * reused (add again) once every wait has returned. */
int goc_waitgroup_wait(goc_waitgroup *wg);
int goc_waitgroup_wait_until(goc_waitgroup *wg, int64_t deadline); /* | GOC_ETIMEDOUT */

/* ---- goc_once: run a function exactly once ------------------------------ */
typedef struct goc_once {
	_Atomic uint32_t state;  /* private: new, running, running with waiters, done */
} goc_once;
#define GOC_ONCE_INIT {0}

/* Call fn(arg) if no call on this once has run it yet. Concurrent callers
 * wait (park) until that first fn has returned, so on return fn's effects
 * are visible. 0, or GOC_EINVAL for NULL. fn must not use the same once
 * (that deadlocks, as in Go). */
int goc_once_do(goc_once *once, void (*fn)(void *arg), void *arg);
/* As goc_once_do, but a caller that must wait for another's fn gives up at
 * deadline: GOC_ETIMEDOUT (fn is still running; it will still complete). */
int goc_once_do_until(goc_once *once, void (*fn)(void *arg), void *arg, int64_t deadline);
/* Whether a call's fn has completed. */
bool goc_once_done(goc_once *once);

/* ---- goc_cond: condition variable over a goc_mutex ---------------------- */
typedef struct goc_cond {
	_Atomic uint32_t nwait;  /* private: queued waiters (signal's fast path) */
} goc_cond;
#define GOC_COND_INIT {0}

/* With m locked: atomically unlock m and wait for a signal, then relock m
 * before returning. 0, GOC_EINVAL, or GOC_EPERM if m was not locked (no
 * wait then). There are no spurious wake-ups, but the condition may have
 * changed again before m is relocked: check it in a loop, as in Go. */
int goc_cond_wait(goc_cond *c, goc_mutex *m);
/* As wait, giving up at deadline: GOC_ETIMEDOUT, with m locked again. */
int goc_cond_wait_until(goc_cond *c, goc_mutex *m, int64_t deadline);
/* Wake the longest-waiting waiter, if any. Holding m is allowed, not needed. */
int goc_cond_signal(goc_cond *c);
/* Wake every waiter. */
int goc_cond_broadcast(goc_cond *c);

/* ---- goc_sema: weighted semaphore (Go's x/sync/semaphore) ---------------
 * size tokens; acquire(n) waits until n are free. Waiters are served in
 * FIFO order: a large request is not starved by a stream of small ones. */
typedef struct goc_sema {
	int64_t size;            /* tokens in all (set once, before use) */
	_Atomic int64_t cur;     /* private: tokens held */
	_Atomic uint32_t nwait;  /* private: queued waiters */
} goc_sema;
#define GOC_SEMA_INIT(n) {(n), 0, 0}

/* Set s to n free tokens (n >= 0), before any use. 0 or GOC_EINVAL. */
int goc_sema_init(goc_sema *s, int64_t n);
/* Acquire n tokens, waiting as needed. 0, or GOC_EINVAL (NULL, n < 0, or
 * n > size: such a request could never be met). */
int goc_sema_acquire(goc_sema *s, int64_t n);
int goc_sema_acquire_until(goc_sema *s, int64_t n, int64_t deadline); /* | GOC_ETIMEDOUT */
/* Acquire n tokens unless ctx is done first: then goc_ctx_err(ctx)
 * (GOC_ECANCELED or GOC_ETIMEDOUT) and nothing is acquired. */
struct goc_ctx;
int goc_sema_acquire_ctx(goc_sema *s, struct goc_ctx *ctx, int64_t n);
/* Acquire n tokens only if free and nobody waits: 0, or GOC_EAGAIN. */
int goc_sema_try_acquire(goc_sema *s, int64_t n);
/* Return n tokens: 0, or GOC_EPERM if that is more than are held (state
 * unchanged). */
int goc_sema_release(goc_sema *s, int64_t n);

/* ---- goc_errgroup: goroutines working on subtasks of one task -----------
 * Go's errgroup: goc_errgroup_go starts fn in a goroutine; goc_errgroup_wait
 * waits for all of them and returns the first non-zero result. With a
 * context (goc_errgroup_init_ctx) the first failure, or wait's return,
 * cancels the group's context, telling the others to stop. */
typedef struct goc_errgroup {
	goc_waitgroup wg;        /* private */
	goc_sema limit;          /* private: size 0 = no limit */
	_Atomic int err;         /* private: the first error */
	struct goc_ctx *ctx;     /* private: the group's context, or NULL */
} goc_errgroup;
#define GOC_ERRGROUP_INIT {GOC_WAITGROUP_INIT, GOC_SEMA_INIT(0), 0, 0}

/* A group without a context (a zeroed goc_errgroup is the same). */
void goc_errgroup_init(goc_errgroup *g);
/* A group whose context derives from parent (NULL: background) and is
 * cancelled by the first error or when wait returns. 0, GOC_EINVAL or
 * GOC_ENOMEM. goc_errgroup_wait releases that context: call it once. */
int goc_errgroup_init_ctx(goc_errgroup *g, struct goc_ctx *parent);
/* The group's context (NULL without one), for fn to watch. Valid until
 * goc_errgroup_wait returns. */
struct goc_ctx *goc_errgroup_ctx(goc_errgroup *g);
/* At most n goroutines of the group at once (n <= 0: no limit). 0, or
 * GOC_EBUSY while goroutines of the group are active. */
int goc_errgroup_set_limit(goc_errgroup *g, int n);
/* Run fn(arg) in a new goroutine, first waiting for a free slot if a limit
 * is set. A non-zero result of fn is the group's error if it is the first.
 * 0, GOC_EINVAL, or the spawn's error (GOC_ENOMEM). */
int goc_errgroup_go(goc_errgroup *g, int (*fn)(void *arg), void *arg);
/* As go, giving up at deadline while waiting for a slot: GOC_ETIMEDOUT
 * (fn not started). */
int goc_errgroup_go_until(goc_errgroup *g, int (*fn)(void *arg), void *arg, int64_t deadline);
/* As go, but only if a slot is free now: 0 or GOC_EAGAIN. */
int goc_errgroup_try_go(goc_errgroup *g, int (*fn)(void *arg), void *arg);
/* Wait for every goroutine started by go; then cancel and release the
 * group's context. Returns the first error, or 0. */
int goc_errgroup_wait(goc_errgroup *g);
/* As wait, giving up at deadline. 0 once every goroutine has finished
 * (then as wait: the context is cancelled and released, and the first
 * error, or 0, is stored in *first_err unless it is NULL); GOC_ETIMEDOUT
 * if some still run at deadline, leaving the group and its context as
 * they were (wait again later); GOC_EINVAL for a NULL group. The error
 * comes back apart because a subtask may fail with GOC_ETIMEDOUT too. */
int goc_errgroup_wait_until(goc_errgroup *g, int64_t deadline, int *first_err);

#ifdef __cplusplus
}
#endif
#endif
