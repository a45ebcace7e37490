/* sched.h - the scheduler's own data structures: G, P, M (see proc.c).
 * Modules outside src/sched/ use src/internal.h instead, except debug, which
 * reads the registry (gchunks) and the per-P figures under the locks named. */
#ifndef GOC_SCHED_H
#define GOC_SCHED_H

#include "../internal.h"
#include "../arch/arch.h"
#include "../stack/stack.h"

#include <pthread.h>

typedef struct goc__p goc__p;
typedef struct goc__m goc__m;

/* G status. Transitions: IDLE -> RUNNABLE (spawn) -> RUNNING -> WAITING
 * (park) -> RUNNABLE (ready) ... -> DEAD -> IDLE (reused). Written by the
 * scheduler only; read racily (relaxed) by dumps. */
enum { G_IDLE, G_RUNNABLE, G_RUNNING, G_WAITING, G_SYSCALL, G_DEAD };

#define G_INLINE_ARG 64   /* goc_go_copy arguments up to this size live in the G */

/* Field order is by cache line (the struct is 64-byte aligned; release
 * builds fill exactly four lines). A goroutine is created on one CPU and
 * often run, and later recycled, on another: each line it touches is a
 * cache miss there. Creating, running and ending a goroutine touch lines 0
 * and 1 only; parking and waking add line 2 (so does heading a batch on
 * the global run queue); line 3 is the inline copy of a goc_go_copy
 * argument (sanitizer builds add a fifth line). Hence the invariants of a free G, which creation
 * relies on instead of rewriting line 2: wait_reason == GOC__WAIT_NONE,
 * lock_depth == 0 (a running goroutine has no wait reason, and the exit
 * path drops a thread lock). */
struct goc__g {
	/* line 0: scheduling */
	goc__ctx ctx;              /* saved context while not running */
	goc__stack stack;          /* lo == NULL: none yet (bound at first run) */
	_Atomic uint32_t status;
	bool is_thread;            /* a foreign thread's G: no ctx, no stack */
	uint8_t copy_kind;         /* 0 none, 1 inline (argbuf), 2 heap (arg) */
	bool in_blocking;          /* inside goc_blocking: waits like a thread */
	uint8_t spawn_shift;       /* the spawn backlog rule's limit (proc.c) */
	goc__g *schedlink;         /* global run queue, free lists (their locks) */
	union {
		struct {           /* a goroutine's */
			void (*fn)(void *);
			void *arg;
		};
		struct {           /* a free G heading a batch on the global free list */
			goc__g *gfree_link;
			int32_t gfree_n;   /* Gs in the batch, chained by schedlink */
		};
	};

	/* line 1: set at creation (the registry's fields, read by dumps; written
	 * by the owning thread only) */
	uint64_t id;
	size_t stack_size;         /* requested usable size; 0: default */
	const goc__site *site;     /* creation site (static), NULL if unknown */
	uint64_t parent_id;
	int64_t created_at;
	const char *name;
	goc__m *lockedm;           /* goc_lock_thread */

	/* line 2: waiting */
	goc__g_wait wait;          /* internal.h's claim/param protocol */
	/* The park deadline's timer: on goc__park's frame, which outlives the
	 * wait; NULL when the park has no deadline. (The unlock function and
	 * deadline travel in the M: see goc__m.park_unlock.) Out of the G to
	 * keep it small: a million queued goroutines are a million Gs the
	 * kernel zeroes. */
	goc__timer *park_timer;
	const void *wait_obj;      /* registry */
	int64_t wait_since;        /* registry */
	_Atomic int wait_reason;   /* registry */
	_Atomic uint32_t park_arming; /* after_switch is still arming it (see park) */
	int lock_depth;            /* goc_lock_thread */
	/* A G heading a batch on the global run queue (runq.c) records the
	 * batch's count and last G. A G that parks on thread_wake (thread.c:
	 * a foreign thread's, or a goroutine inside goc_blocking) is not
	 * queued while it waits; goc__wait_prepare zeroes the word first. */
	union {
		_Atomic uint32_t thread_wake;
		int32_t batch_n;
	};
	goc__g *batch_tail;
#if defined(GOC__ASAN)
	void *asan_fake_stack;
#endif
#if defined(GOC__TSAN)
	void *san_fiber;           /* TSan fiber; travels with the stack */
#endif

	/* line 3 */
	unsigned char argbuf[G_INLINE_ARG] __attribute__((aligned(64)));
} __attribute__((aligned(64)));

/* A chunk of G structs (proc.c, "G allocation"): the registry. */
typedef struct goc__gchunk {
	struct goc__gchunk *next;
	int32_t used, cap;
	_Atomic int32_t published;  /* slots [0, published) hold Gs */
	goc__g g[] __attribute__((aligned(64)));
} goc__gchunk;

/* P status */
enum { P_IDLE, P_RUNNING, P_SYSCALL, P_STOPPED };

#define RUNQ_SIZE 256
/* Default-size stacks a P keeps for its next goroutines (proc.c,
 * stack_put): 128, not 32, since a P that starts thousands of short
 * sleepers (timers) otherwise trips to the stack pool's lock for most of
 * them (timers 0.89-0.92x; chain at P=1 1.08-1.12x, not understood). */
#define STACK_CACHE 128
#define GFREE_MAX 64
#define TIMER_HEAP_ARITY 4

/* A heap entry carries a copy of its timer's when: sifting compares the
 * array alone and never reads a timer (which usually lives on a parked
 * goroutine's stack: a cold page each). */
typedef struct goc__timerent {
	int64_t when;
	goc__timer *t;
} goc__timerent;

typedef struct goc__timerheap {
	goc__lock lock;
	goc__timerent *t;          /* 4-ary min-heap on when; guarded by lock */
	int32_t len, cap;
	_Atomic int64_t next;      /* when of t[0], INT64_MAX if empty (racy hint) */
} goc__timerheap;

struct goc__p {
	int32_t id;
	_Atomic uint32_t status;
	goc__m *m;                 /* the M holding this P (P_RUNNING/P_SYSCALL) */
	goc__p *link;              /* idle P list (sched.lock) */
	uint64_t schedtick;        /* goroutines run; monitor reads it racily */
	/* Blocking-call hand-off word (blocking.c): (generation << 2) | state,
	 * state 0 running, 1 in a blocking call, 2 retaken by the monitor. The
	 * generation makes the exit's CAS fail if the P was retaken and then
	 * re-entered a blocking call under another M (no ABA). */
	_Atomic uint64_t sysword;
	uint64_t sysgen;           /* only the P's owner, entering a call */
	uint64_t sysmon_seen;      /* monitor-private: sysword at its last look */
	uint64_t sysmon_tick;      /* monitor-private: schedtick at its last look */
	int64_t sysmon_when;

	/* Local run queue: a bounded ring. The owner pushes at tail and pops
	 * at head; thieves take from head with CAS. head/tail only grow.
	 * tail is written by the owner only (release), head by CAS. */
	_Atomic uint32_t runq_head;
	_Atomic uint32_t runq_tail;
	goc__g *_Atomic runq[RUNQ_SIZE];
	goc__g *_Atomic runnext;   /* next G to run, ahead of the queue */
	/* Gs run in a row from runnext (through g0 or by direct hand-off,
	 * proc.c): a pair handing off to each other would keep the ring and
	 * the global queue waiting forever (Go ends such a chain with its
	 * time-slice preemption). Owner only. */
	uint32_t inherit;

	/* Free G structs (stackless) and a cache of default-size stacks,
	 * owner-only. A finished G gives its stack to the cache at once, so the
	 * next G to start reuses memory that is already faulted in and hot. */
	goc__g *gfree;
	int32_t ngfree;
	int32_t nstack;
	goc__stack stackcache[STACK_CACHE];
	void *fibercache[STACK_CACHE];      /* each cached stack's TSan fiber */
	uint64_t goid_next, goid_end;       /* ids handed out in batches */
	_Atomic int64_t ncreated, nexited;  /* owner-written; summed for counts */
	_Atomic int64_t nparks;             /* owner-written */

	goc__timerheap timers;

	/* stats (owner-written, racily read) */
	uint64_t nswitch, nsteal;
} __attribute__((aligned(GOC__CACHELINE)));

struct goc__m {
	goc__ctx g0;               /* the thread's own scheduling context */
	goc__g *curg;              /* running G or NULL (in the scheduler) */
	goc__p *p;                 /* attached P or NULL */
	goc__p *nextp;             /* P handed over by whoever woke us */
	goc__g *lockedg;           /* goc_lock_thread: the only G this M runs */
	goc__m *link;              /* idle M list (sched.lock) */
	goc__m *alllink;           /* all Ms (sched.lock) */
	_Atomic uint32_t park;     /* futex word: 1 = wake-up posted */
	bool spinning;
	bool is_poller;
	uint64_t rand;
	pthread_t thread;
	int64_t id;
	/* A finished G's stack (or a parked one's unlock) is handled on g0,
	 * after the switch away: */
	goc__g *dead;
	goc__g *yielded;
	bool yield_behind;         /* the yielded G goes to the global queue's end */
	goc__g *parked;            /* with what goc__park asked for: */
	goc__unlock_fn park_unlock;
	void *park_unlock_arg;
	goc__g *exitblocking;      /* left a blocking call and found no P */
	goc__p *oldp;              /* the P this M had before its blocking call */
	uint64_t oldsysword;       /* ... and the sysword it lent it with: the
	                            * exit's CAS expects it (the P's sysgen may
	                            * be its next owner's by then) */
	/* Direct hand-off (proc.c, goc__park): a parking G switched straight
	 * to the G it had just readied, without going through g0. handoff is
	 * that parking G, whose after-switch work (unlock, WAITING) the next
	 * G does as soon as it arrives on this M (goc__resumed); non-NULL only
	 * between the two. */
	goc__g *handoff;
#if defined(GOC__TSAN)
	void *tsan_fiber;
#endif
#if defined(GOC__ASAN)
	const void *asan_stack_bottom;
	size_t asan_stack_size;
#endif
};

/* A goroutine's outermost frames never return (they switch away for good),
 * so they must not push entries on TSan's shadow call stack: a fiber is
 * reused with its stack, and leftover frames would pile up there. */
#if defined(GOC__TSAN)
#define GOC__NO_TSAN __attribute__((no_sanitize_thread))
#else
#define GOC__NO_TSAN
#endif

/* Global scheduler state. Lock order: timer heap locks -> sched.lock;
 * sched.lock is never held while taking a channel or timer lock. */
typedef struct goc__sched {
	goc__lock lock;
	/* global run queue (lock): Gs that have run, then Gs that never ran
	 * (runq.c); runq_resumed ends the first part (NULL: it is empty) */
	goc__g *runq_head, *runq_tail, *runq_resumed;
	_Atomic int64_t runq_size;
	/* idle Ps and Ms (lock) */
	goc__p *pidle;
	_Atomic int32_t npidle;
	goc__m *midle;
	int32_t nmidle;
	goc__m *allm;
	int32_t nm;
	_Atomic int32_t nmspinning;
	_Atomic int32_t nmblocking;      /* Ms in goc_blocking calls */
	/* Ps */
	goc__p **allp;
	_Atomic int32_t nprocs;          /* Ps in use: allp[0..nprocs) */
	_Atomic int32_t maxprocs;        /* Ps allocated: allp[0..maxprocs) */
	/* the one M blocked in the poller (if any) and until when */
	_Atomic int32_t poller_active;
	_Atomic int64_t poll_until;
	_Atomic int64_t netpoll_waiters;
	/* registry: G chunks and the global free G list (glock) */
	goc__lock glock;
	goc__gchunk *gchunks;            /* every G ever allocated (glock) */
	goc__g *gfree;                   /* batches of spare Gs (gfree_link, gfree_n) */
	int32_t ngfree;                  /* Gs in all the batches */
	_Atomic uint64_t goid_gen;
	_Atomic int64_t ngcreated;
	_Atomic int64_t nthreads_running;/* foreign thread Gs not parked */
	/* lifecycle */
	_Atomic int32_t started;
	_Atomic int32_t stopping;
	_Atomic int64_t timers_armed;
	/* CLOCK_MONOTONIC_COARSE ns, refreshed by the monitor at each tick
	 * (at most 10 ms apart while anything runs) and by every M that
	 * leaves idle: the registry's clock (created_at, wait_since), read
	 * with one relaxed load on the spawn and park paths instead of a
	 * clock call. Dumps print durations in ms, so a stale value only
	 * makes a wait look up to 10 ms longer. */
	_Atomic int64_t coarse_clock;
	/* stats */
	_Atomic uint64_t nparks, nsteals, nswitches;
} goc__sched;

extern goc__sched goc__s;

/* proc.c */
goc__m *goc__getm(void);
void goc__ptoken_refresh(goc__m *m); /* goc__tls_ptoken from m->p (internal.h) */
int64_t goc__coarse_clock_tick(void);  /* refresh goc__s.coarse_clock */
goc__p *goc__m_take_nextp(goc__m *m);  /* the P startm handed m (sched.lock) */
void goc__setm(goc__m *m);
void goc__worker_main(goc__m *m);
goc__m *goc__m_new(void);
void goc__wakep(void);
void goc__g_free_all(void);
void goc__handoffp(goc__p *p);
void goc__pidle_put_locked(goc__p *p);
goc__p *goc__pidle_get_locked(void);
void goc__acquirep(goc__m *m, goc__p *p);
bool goc__any_runq_work(void);
void goc__startm(goc__p *p, bool spinning);
/* runq.c */
bool goc__runq_put(goc__p *p, goc__g *g, bool next);
goc__g *goc__runq_get(goc__p *p);       /* runnext, else the ring's head */
goc__g *goc__runq_get_next(goc__p *p);  /* runnext only */
goc__g *goc__runq_get_ring(goc__p *p);  /* the ring's head only */
bool goc__runq_empty(goc__p *p);
goc__g *goc__runq_steal(goc__p *p, goc__p *victim, bool steal_next);
void goc__globrunq_put(goc__g *g);        /* takes sched.lock */
void goc__globrunq_put_locked(goc__g *g); /* sched.lock held */
/* head..tail linked by schedlink; resumed: Gs that have run (lock held) */
void goc__globrunq_put_batch(goc__g *head, goc__g *tail, int32_t n, bool resumed);
goc__g *goc__globrunq_get(goc__p *p);           /* a chain; lock held */
goc__g *goc__runq_put_chain(goc__p *p, goc__g *g); /* g's rest onto p; returns g; lock dropped */
goc__g *goc__globrunq_get_fair(void);          /* one G, new ones first; lock held */
/* Unlink g from the global queue; prev is the G before it (NULL: g is the
 * front), and g heads its batch (prev is NULL or a batch's tail). Lock
 * held. Returns g. */
goc__g *goc__globrunq_unlink(goc__g *prev, goc__g *g);
goc__g *goc__globrunq_take_at(int64_t i); /* unlink the i-th (simulation); lock held */
/* timer.c */
void goc__timerheap_init(goc__timerheap *h);
void goc__timerheap_free(goc__timerheap *h);
int  goc__timers_run(goc__timerheap *h, int64_t now); /* fired count */
int64_t goc__timers_next(void);                       /* earliest over all Ps */
/* thread.c */
goc__g *goc__thread_g(void);
void goc__thread_park(goc__g *g, goc__unlock_fn unlock, void *arg, int64_t deadline);
void goc__thread_ready(goc__g *g);
bool goc__blocking_retake(goc__p *p, uint64_t seen);
/* overflow.c */
void goc__overflow_install(void);
void *goc__overflow_thread_init(void);
void goc__overflow_thread_fini(void *altstack);
/* sysmon.c */
int  goc__sysmon_start(void);
void goc__sysmon_stop(void);
void goc__sysmon_wake(void);
/* runtime.c */
#define GOC__MAXPROCS 1024
uint64_t goc__fastrand(goc__m *m);
void goc__check_deadlock(void);
bool goc__under_main(void);
int64_t goc__goroutines_alive(void);
void goc__procs_resize(int n);          /* nprocs = n (goc_procs, the loan) */
void goc__procs_lend(int32_t loan);     /* sysmon: nprocs = goc_procs' count + loan */
/* thread.c */
void goc__thread_g_release(void);
/* sanitizer.c: fiber annotations around goc__ctx_switch */
void *goc__san_fiber_new(void);      /* NULL outside TSan builds */
/* A G's TSan fiber (the field exists in TSan builds only). */
/* The G waits by blocking its OS thread on thread_wake (thread.c): a
 * foreign thread's, or a goroutine inside goc_blocking (it holds no P). */
static inline bool goc__parks_thread_inline(const goc__g *g)
{
	return g->is_thread || g->in_blocking;
}
static inline void *goc__g_fiber(const goc__g *g)
{
#if defined(GOC__TSAN)
	return g->san_fiber;
#else
	(void)g;
	return NULL;
#endif
}
static inline void goc__g_set_fiber(goc__g *g, void *fiber)
{
#if defined(GOC__TSAN)
	g->san_fiber = fiber;
#else
	(void)g;
	(void)fiber;
#endif
}
void goc__san_fiber_free(void *fiber);  /* kept for reuse, a few */
void goc__san_fibers_drain(void);       /* destroy those (runtime stop) */
void goc__san_m_init(goc__m *m);
void goc__san_g_started(goc__m *m, goc__g *g); /* first thing on a new G */
void goc__switch_to_g(goc__m *m, goc__g *g);  /* g0 -> g */
void goc__switch_to_g0(goc__m *m, goc__g *g); /* g -> g0 */
void goc__switch_to_g0_exit(goc__m *m, goc__g *g); /* g -> g0, g finished */
void goc__switch_to_next(goc__m *m, goc__g *g, goc__g *next); /* g -> next (hand-off) */
void goc__resumed(goc__m *m);  /* every G, first thing after a switch back to it */

/* Tracing (src/debug/trace.c defines goc__trace_emit and is the only
 * module that sets goc__tracing; sched only reports events through it). */
enum {
	GOC__EV_SPAWN,      /* arg: parent goroutine id */
	GOC__EV_RUN,
	GOC__EV_BLOCK,      /* arg: wait reason */
	GOC__EV_UNBLOCK,
	GOC__EV_YIELD,
	GOC__EV_EXIT,
	GOC__EV_BLOCKING_ENTER,
	GOC__EV_BLOCKING_EXIT,
};
extern _Atomic int goc__tracing;
#pragma weak goc__trace_emit
void goc__trace_emit(int ev, goc__g *g, int64_t arg);
#define GOC__TRACE(ev, g, arg)                                                          \
	do {                                                                             \
		if (GOC__UNLIKELY(atomic_load_explicit(&goc__tracing, memory_order_relaxed))) \
			goc__trace_emit((ev), (g), (arg));                               \
	} while (0)

/* debug hooks (src/debug/) */
_Noreturn void goc__debug_deadlock(void);       /* message + dump, exit 2 */
_Noreturn void goc__stack_overflow_report(goc__g *g); /* names g, aborts */
void goc__debug_start(void);                    /* goc_main: signals, trace */
void goc__debug_stop(void);
int goc__debug_threads(void);                   /* threads it started (SIGQUIT dumper) */

#endif
