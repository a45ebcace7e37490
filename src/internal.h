/* internal.h - the contract between goc's modules (never installed).
 *
 * Modules, bottom up (a lower module never includes a higher one's header):
 *   os, arch, stack  ->  sched (G/P/M, parking, timers, netpoll hooks)
 *   ->  chan, time, sync, ctx, net  ->  patterns;  debug reads sched's registry.
 *
 * Everything a module above sched needs from it is declared here; sched's
 * own data structures (P, M, run queues) live in src/sched/sched.h.
 */
#ifndef GOC_INTERNAL_H
#define GOC_INTERNAL_H

#include "goc.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GOC__LIKELY(x)   __builtin_expect(!!(x), 1)
#define GOC__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define GOC__NOINLINE    __attribute__((noinline))
#define GOC__CACHELINE   64
#define GOC__NO_DEADLINE INT64_MAX

/* Abort with "goc: fatal: <message>" naming a broken internal invariant. */
_Noreturn void goc__panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- os: clock, futex, cpu count (src/os/) ---------------------------- */

int64_t goc__nanotime(void);                       /* CLOCK_MONOTONIC ns */
/* Sleep while *addr == val, until woken, deadline (absolute, goc__nanotime
 * clock; GOC__NO_DEADLINE for none) or spuriously: callers loop. */
void goc__futex_wait(_Atomic uint32_t *addr, uint32_t val, int64_t deadline);
void goc__futex_wake(_Atomic uint32_t *addr, int n);
int  goc__ncpu(void);
/* Asymmetric fences (Linux membarrier, 4.14+). goc__membarrier_register
 * enables them for the process (once; cheapest before threads exist) and
 * says whether goc__membarrier works. goc__membarrier returns only after
 * every running thread of the process has executed a full memory barrier:
 * a thread can then order its accesses with a compiler barrier alone,
 * against a peer that calls this (goc_mutex's biased mode, src/sync). */
bool goc__membarrier_register(void);
void goc__membarrier(void);

/* ---- runtime lock: short critical sections only ------------------------
 * A futex mutex (spin briefly, then sleep the thread). Safe from goroutines
 * and foreign threads. Never hold one across goc__park except as the lock
 * that the park's unlock function releases. */
typedef struct goc__lock { _Atomic uint32_t state; } goc__lock;
#define GOC__LOCK_INIT {0}
void goc__lock_acquire(goc__lock *l);
void goc__lock_release(goc__lock *l);
bool goc__lock_try(goc__lock *l);

/* ---- goroutines --------------------------------------------------------- */

typedef struct goc__g goc__g;

enum goc__wait_reason {
	GOC__WAIT_NONE,
	GOC__WAIT_CHAN_SEND,
	GOC__WAIT_CHAN_RECV,
	GOC__WAIT_SELECT,
	GOC__WAIT_SELECT_NO_CASES,
	GOC__WAIT_SLEEP,
	GOC__WAIT_MUTEX,
	GOC__WAIT_RWMUTEX,
	GOC__WAIT_WAITGROUP,
	GOC__WAIT_COND,
	GOC__WAIT_SEMA,
	GOC__WAIT_ONCE,
	GOC__WAIT_IO,
	GOC__WAIT_BLOCKING,   /* in goc_blocking: not parked, but off its P */
	GOC__WAIT_CTX,
	GOC__WAIT_COUNT
};
const char *goc__wait_reason_name(int reason);

/* How a park ended (the value of goc__g.wait_claim once it is non-zero). */
enum { GOC__WAKE_NONE = 0, GOC__WAKE_READY = 1, GOC__WAKE_TIMEOUT = 2 };

/* The fields of a G that modules above sched may touch. The rest of the
 * struct is sched's (src/sched/sched.h). */
typedef struct goc__g_wait {
	/* 0 while the G waits; the first party to CAS it to non-zero (a waker:
	 * GOC__WAKE_READY, the deadline: GOC__WAKE_TIMEOUT) owns ending the wait.
	 * acq_rel CAS: pairs the waker's writes (wait_param, copied values) with
	 * the G's reads after it resumes. */
	_Atomic uint32_t claim;
	/* Set by the claiming waker before goc__ready: what completed the wait
	 * (e.g. the channel waiter record of the select case that ran). */
	void *param;
} goc__g_wait;

/* The calling goroutine, or the calling foreign thread's own G (created on
 * first use; is_thread). Never NULL. Not inlined: a goroutine may resume on
 * another thread after any park, so the TLS address must be re-read. */
goc__g *goc__current(void);
goc__g_wait *goc__g_waitp(goc__g *g);
bool goc__g_is_thread(const goc__g *g);
/* Its parks block its OS thread: a foreign thread's G, or a goroutine
 * inside goc_blocking (sched/thread.c). */
bool goc__g_parks_thread(const goc__g *g);
uint64_t goc__g_id(const goc__g *g);
/* The P the caller runs on, as a nonzero token ((id + 1) << 2), or 0 on a
 * thread holding no P (a foreign thread, a goroutine inside goc_blocking,
 * the scheduler itself). While one thread holds a P, no other runs
 * goroutine code as that P, and a P changes threads only through
 * synchronising hand-offs: so data touched only by "goroutine code running
 * as P k" needs no atomics (goc_mutex's biased mode). The scheduler sets
 * the thread's token each time goroutine code resumes on it (goc__resumed),
 * clears it when the thread returns to its scheduler, and on the way in and
 * out of goc_blocking. Inline, so read it only where no park can come
 * between the read and the use (a parked goroutine may resume elsewhere). */
extern __thread uint32_t goc__tls_ptoken __attribute__((tls_model("initial-exec")));
static inline uint32_t goc__p_token(void)
{
	return goc__tls_ptoken;
}

/* ---- parking: the one wait protocol every module uses ------------------
 *
 *  1. The waiter locks its object, calls goc__wait_prepare() (clears
 *     claim and param), and enqueues a waiter record naming its G; the record
 *     may live on the waiter's stack: it stays valid until goc__park returns.
 *  2. It calls goc__park(unlock, arg, reason, obj, deadline). unlock(arg)
 *     runs after the goroutine's context is saved, so no waker can resume it
 *     early; unlock must release the object's lock and must not park.
 *  3. A waker, holding the object's lock, dequeues a record and calls
 *     goc__wait_claim(g). Only when that returns true may it complete the
 *     operation for the waiter, set param and call goc__ready(g); when false
 *     the waiter was already claimed (deadline, another select case): skip it.
 *  4. goc__park returns the claim: GOC__WAKE_READY, or GOC__WAKE_TIMEOUT when
 *     the deadline claimed first; then the waiter relocks and removes its
 *     record if still queued (a waker may have dequeued and skipped it).
 *
 * A deadline <= now still parks briefly and times out at once; callers that
 * want "try" semantics check before parking. GOC__NO_DEADLINE: no timer. */
void goc__wait_prepare(void);
static inline bool goc__wait_claim(goc__g *g)
{
	uint32_t expect = GOC__WAKE_NONE;
	return atomic_compare_exchange_strong_explicit(&goc__g_waitp(g)->claim, &expect,
	                                               GOC__WAKE_READY, memory_order_acq_rel,
	                                               memory_order_acquire);
}
typedef void (*goc__unlock_fn)(void *arg);
int  goc__park(goc__unlock_fn unlock, void *arg, int reason, const void *obj, int64_t deadline);
/* Make a parked G runnable (goes to the current P's runnext, or the global
 * queue from a foreign thread). The caller must have won the claim. */
void goc__ready(goc__g *g);

/* ---- timers: per-P 4-ary heaps (src/sched/timer.c) ---------------------
 * fn runs on a worker or the monitor thread, with the timer's heap lock held:
 * it must be short, must not park and must not start/stop timers; it may
 * claim and ready Gs and do non-blocking channel operations (lock order:
 * timer heap lock -> channel locks -> run queue locks).
 * A periodic timer (period > 0) is re-armed at when + period before fn runs.
 * One timer's start/stop/reset must not race each other: its owner
 * serialises them (goc_timer does with its own lock). */
typedef struct goc__timer goc__timer;
struct goc__timer {
	int64_t when;
	int64_t period;                         /* 0: one-shot */
	void (*fn)(goc__timer *t, int64_t now);
	void *arg;
	void *_Atomic heap;                     /* sched's: heap of the last start */
	int32_t index;                          /* sched's: heap slot, -1: not armed */
};
void goc__timer_start(goc__timer *t);   /* t->when, fn, arg, period set by caller */
/* Disarm; true if it was armed (and so did not fire this time). After it
 * returns, fn is not running and will not run until the next start. */
bool goc__timer_stop(goc__timer *t);
/* Number of armed timers in the whole runtime (deadlock detection, stats). */
int64_t goc__timers_armed(void);

/* ---- blocking calls (sched hands the P to another thread meanwhile) --- */
bool goc__blocking_enter(void);   /* false: nothing lent (nested, no P) */
void goc__blocking_exit(void);

/* ---- spinning ------------------------------------------------------------
 * May a waiter spin (iteration iter, from 0) before parking? As Go's
 * canSpin: only briefly, only with more than one CPU and more than one busy
 * P, and only if the caller's P has nothing else to run. */
bool goc__can_spin(int iter);

/* ---- runtime start ----------------------------------------------------- */
/* Start the runtime if it is not running (idempotent, thread-safe). */
int  goc__runtime_ensure(void);
/* Called by the runtime after its workers stopped and before goroutine
 * stacks are freed (src/sync/semtab.c: drop wait records that live on
 * abandoned goroutines' stacks). */
void goc__sync_runtime_stopped(void);

/* ---- sanitizer hooks (src/sched/sanitizer.h has the switch wrappers) --- */
#if defined(__SANITIZE_ADDRESS__)
#define GOC__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GOC__ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define GOC__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GOC__TSAN 1
#endif
#endif

#endif
