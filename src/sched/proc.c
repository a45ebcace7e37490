/* proc.c - the scheduler: goroutines (G) run by OS threads (M) holding a
 * processor (P), after Go's proc.go.
 *
 * G  a goroutine: its context, stack (bound when it first runs), status,
 *    wait state and debug record. G structs are never freed while the
 *    runtime lives (dumps walk the G chunks), only recycled through free lists.
 * P  what an M needs to run Gs: a local run queue (runq.c) and runnext, a
 *    timer heap (timer.c), caches of free Gs and stacks. There are nprocs
 *    Ps (GOC_PROCS); an M runs Gs only while it holds one.
 * M  a worker thread. Its own stack is the scheduling context g0: a G gives
 *    up its M by switching to g0 (park, yield, exit), and g0 then finishes
 *    the job the G could not do on its own stack (releasing the lock the
 *    park protects, freeing the finished G's stack) and picks the next G.
 *
 * Finding work (find_runnable): own timers, runnext, local queue, the global
 * queue (first, one time in 61, so it is never starved), ready fds, then
 * stealing half of another P's queue. An M that finds nothing gives its P
 * back and sleeps: one such M at a time blocks in the poller (epoll) until
 * the next timer or fd event; the others sleep on their futex.
 *
 * Waking (wakep): making a G runnable while some P is idle and no M is
 * "spinning" (looking for work) hands an idle P to an idle M. Lost wake-ups
 * are prevented as in Go: a spinning M that gives up decrements nmspinning
 * and then re-checks every run queue (seq_cst on both sides), so either the
 * readier sees no spinner and wakes someone, or the spinner sees the work.
 *
 * Simulation mode (sim.c, one P): find_runnable hands the choice of the
 * next G to goc__sim_pick and fires timers on the sim clock instead; the
 * normal path pays one predictable branch on goc__sim_on for it.
 *
 * Lock order: timer heap locks -> sched.lock -> glock. Run queues are
 * lock-free; the global queue and idle lists are under sched.lock. */
#include "sched.h"
#include "sim.h"
#include "../os/poll.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

goc__sched goc__s;
_Atomic int goc__tracing;
static __thread goc__m *tls_m;
__thread uint32_t goc__tls_ptoken; /* internal.h, goc__p_token */

void goc__ptoken_refresh(goc__m *m)
{
	goc__tls_ptoken = m && m->p ? (uint32_t)(m->p->id + 1) << 2 : 0;
}

/* Not inlined and not cached: a goroutine may resume on another thread. */
GOC__NOINLINE goc__m *goc__getm(void)
{
	__asm__ volatile("" ::: "memory");
	return tls_m;
}

GOC__NOINLINE void goc__setm(goc__m *m)
{
	tls_m = m;
}

goc__g *goc__current(void)
{
	goc__m *m = goc__getm();
	if (m && m->curg)
		return m->curg;
	return goc__thread_g();
}

goc__g_wait *goc__g_waitp(goc__g *g) { return &g->wait; }
bool goc__g_is_thread(const goc__g *g) { return g->is_thread; }
bool goc__g_parks_thread(const goc__g *g) { return goc__parks_thread_inline(g); }
uint64_t goc__g_id(const goc__g *g) { return g->is_thread ? 0 : g->id; }

uint64_t goc_id(void)
{
	goc__m *m = goc__getm();
	return m && m->curg ? m->curg->id : 0;
}

void goc__wait_prepare(void)
{
	goc__g *g = goc__current();
	atomic_store_explicit(&g->wait.claim, GOC__WAKE_NONE, memory_order_relaxed);
	g->wait.param = NULL;
	/* Whoever parks on thread_wake (thread.c) starts from 0: the word
	 * keeps the previous wake's 1, and a goroutine's copy shares storage
	 * with its run-queue batch count (sched.h). */
	if (goc__parks_thread_inline(g))
		atomic_store_explicit(&g->thread_wake, 0, memory_order_relaxed);
}

static int goc__ncpu_cached(void)
{
	static _Atomic int n;
	int v = atomic_load_explicit(&n, memory_order_relaxed);
	if (!v) {
		v = goc__ncpu();
		atomic_store_explicit(&n, v, memory_order_relaxed);
	}
	return v;
}

int64_t goc__coarse_clock_tick(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	atomic_store_explicit(&goc__s.coarse_clock, now, memory_order_relaxed);
	return now;
}

/* The registry's clock (see goc__s.coarse_clock). */
static inline int64_t coarse_now(void)
{
	return atomic_load_explicit(&goc__s.coarse_clock, memory_order_relaxed);
}

/* ---- G allocation ------------------------------------------------------
 * G structs come from 2 MiB arena chunks (transparent huge pages where the
 * system allows), bump-allocated under glock and never freed before the
 * runtime stops: a million spawned goroutines cost a few hundred huge-page
 * faults instead of ~80,000 small ones, and the registry (dumps, leak
 * checks) is simply every slot of every chunk. */

#define G_CHUNK_BYTES ((size_t)2 << 20)

static goc__g *g_arena_alloc(void)
{
	goc__gchunk *c = goc__s.gchunks;
	if (!c || c->used == c->cap) {
		size_t size = G_CHUNK_BYTES;
		char *raw = mmap(NULL, size * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (raw == MAP_FAILED)
			return NULL;
		/* Keep the 2 MiB-aligned middle so it can be one huge page. */
		char *base = (char *)(((uintptr_t)raw + size - 1) & ~(uintptr_t)(size - 1));
		if (base > raw)
			munmap(raw, (size_t)(base - raw));
		if (base + size < raw + 2 * size)
			munmap(base + size, (size_t)(raw + 2 * size - (base + size)));
		madvise(base, size, MADV_HUGEPAGE);
		c = (goc__gchunk *)base;
		c->next = goc__s.gchunks;
		c->used = 0;
		c->cap = (int32_t)((size - sizeof(goc__gchunk)) / sizeof(goc__g));
		atomic_store_explicit(&c->published, 0, memory_order_relaxed);
		goc__s.gchunks = c;
	}
	goc__g *g = &c->g[c->used++];
	/* Dumps read `published` (acquire) to know which slots are Gs. */
	atomic_store_explicit(&c->published, c->used, memory_order_release);
	return g;
}


/* Free G structs. Each P keeps a list of up to GFREE_MAX (owner only).
 * The global list (glock) is a stack of batches, each a schedlink chain
 * whose head records the count and links to the next batch: a P that only
 * finishes goroutines (their spawner runs elsewhere) gives half its list
 * away in one batch, and a P that only spawns takes a whole batch, each in
 * O(1) under glock. Go's gfput/gfget walk the Gs under the lock instead;
 * here those Gs were last written on another CPU, so such a walk costs a
 * cache miss per G while the other side waits for glock. */

/* A G struct: p's free list, else a batch from the global list (the rest
 * of the batch becomes p's list), else a new one. */
static goc__g *g_alloc(goc__p *p)
{
	goc__g *g;
	if (p && p->gfree) {
		g = p->gfree;
		p->gfree = g->schedlink;
		p->ngfree--;
		return g;
	}
	goc__lock_acquire(&goc__s.glock);
	g = goc__s.gfree;
	if (!g) {
		g = g_arena_alloc();
		goc__lock_release(&goc__s.glock);
		return g;
	}
	goc__s.gfree = g->gfree_link;
	goc__s.ngfree -= g->gfree_n;
	goc__g *rest = g->schedlink;
	int32_t nrest = g->gfree_n - 1;
	if (!p && rest) { /* a thread without a P keeps one: the rest go back */
		rest->gfree_link = goc__s.gfree;
		rest->gfree_n = nrest;
		goc__s.gfree = rest;
		goc__s.ngfree += nrest;
	}
	goc__lock_release(&goc__s.glock);
	if (p) {
		p->gfree = rest;
		p->ngfree = nrest;
	}
	return g;
}

/* Recycle a finished G's struct; its stack went to the cache already. A
 * full P list gives half of itself, plus g, to the global list as one
 * batch. */
static void g_recycle(goc__p *p, goc__g *g)
{
	/* release, like G_DEAD's: a registry snapshot may read G_IDLE instead
	 * (acquire) and must still see everything the goroutine did. */
	atomic_store_explicit(&g->status, G_IDLE, memory_order_release);
	if (p && p->ngfree < GFREE_MAX) {
		g->schedlink = p->gfree;
		p->gfree = g;
		p->ngfree++;
		return;
	}
	goc__g *tail = g;
	int32_t n = 1;
	if (p) {
		while (p->ngfree > GFREE_MAX / 2) {
			goc__g *f = p->gfree;
			p->gfree = f->schedlink;
			p->ngfree--;
			tail->schedlink = f;
			tail = f;
			n++;
		}
	}
	tail->schedlink = NULL;
	g->gfree_n = n;
	goc__lock_acquire(&goc__s.glock);
	g->gfree_link = goc__s.gfree;
	goc__s.gfree = g;
	goc__s.ngfree += n;
	goc__lock_release(&goc__s.glock);
}

/* A finished G's stack (and its TSan fiber) goes to p's cache, or back to
 * the stack pool when it is not default-sized or the cache is full. */
static void stack_put(goc__p *p, goc__g *g)
{
	if (p && g->stack.size == goc__stack_default_size()) {
		if (p->nstack == STACK_CACHE) {
			/* Cache full: give the older half back to the stack pool. */
			for (int i = 0; i < STACK_CACHE / 2; i++) {
				goc__stack_free(&p->stackcache[i]);
				goc__san_fiber_free(p->fibercache[i]);
			}
			memmove(p->stackcache, p->stackcache + STACK_CACHE / 2,
			        sizeof(goc__stack) * (STACK_CACHE / 2));
			memmove(p->fibercache, p->fibercache + STACK_CACHE / 2,
			        sizeof(void *) * (STACK_CACHE / 2));
			p->nstack = STACK_CACHE / 2;
		}
		p->fibercache[p->nstack] = goc__g_fiber(g);
		p->stackcache[p->nstack++] = g->stack;
	} else {
		goc__stack_free(&g->stack);
		goc__san_fiber_free(goc__g_fiber(g));
	}
	goc__g_set_fiber(g, NULL);
	g->stack.lo = NULL;
}

static int stack_get(goc__p *p, goc__g *g)
{
	size_t size = g->stack_size;
	if (p && (size == 0 || size == goc__stack_default_size()) && p->nstack > 0) {
		p->nstack--;
		g->stack = p->stackcache[p->nstack];
		goc__g_set_fiber(g, p->fibercache[p->nstack]);
		return 0;
	}
	int rc = goc__stack_alloc(&g->stack, size);
	if (rc == 0)
		goc__g_set_fiber(g, goc__san_fiber_new());
	return rc;
}

static uint64_t goid_new(goc__p *p)
{
	if (p) {
		if (p->goid_next == p->goid_end) {
			p->goid_next = atomic_fetch_add_explicit(&goc__s.goid_gen, 16, memory_order_relaxed) + 1;
			p->goid_end = p->goid_next + 16;
		}
		return p->goid_next++;
	}
	return atomic_fetch_add_explicit(&goc__s.goid_gen, 1, memory_order_relaxed) + 1;
}

static void counter_add(_Atomic int64_t *c, int64_t d)
{
	/* Owner-written per-P counter: a plain read-modify-write suffices. */
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + d, memory_order_relaxed);
}

/* ---- spawn ------------------------------------------------------------- */

/* The spawn backlog rule. A goroutine that spawns faster than the workers
 * start what it spawns (a loop of goc_go) steps behind all of it once the
 * global queue holds SPAWN_BACKLOG << its spawn_shift: when those
 * goroutines run to completion, that keeps unstarted goroutines a few
 * thousand G records instead of one per iteration (1,000,000 are 256 MB),
 * and their Gs and stacks recycle; Go's time-slice preemption bounds them
 * too. When they park instead (a daisy chain: each waits for a value the
 * spawner sends once it is done), running them early only binds a stack
 * to each that it would otherwise bind later, or never (run in order, a
 * chain's goroutines reuse a few stacks): chain ran at 30 us per link
 * instead of 1.5. So a yield after which fewer than half of the queued
 * goroutines finished lifts the spawner's limit out of reach, until a
 * yield where they finished or until the spawner parks (its burst is
 * over). Not a goroutine wired to its thread (it must not go to the
 * global queue), not in simulation (the seed orders everything there). */
#define SPAWN_BACKLOG 4096
#define SPAWN_SHIFT_OFF 16 /* 4096 << 16: 268 million queued */

static int64_t goroutines_exited(void)
{
	int64_t n = 0;
	for (int32_t i = 0; i < goc__s.maxprocs; i++)
		n += atomic_load_explicit(&goc__s.allp[i]->nexited, memory_order_relaxed);
	return n;
}

static GOC__NOINLINE void backlog_yield(goc__m *m, goc__g *g)
{
	int64_t queued = atomic_load_explicit(&goc__s.runq_size, memory_order_relaxed);
	int64_t exited = goroutines_exited();
	m->yield_behind = true;
	m->yielded = g;
	goc__switch_to_g0(m, g);
	g->spawn_shift = goroutines_exited() - exited >= queued / 2 ? 0 : SPAWN_SHIFT_OFF;
}

static _Noreturn void goexit(void);

GOC__NO_TSAN static void g_entry(void *arg)
{
	goc__g *g = arg;
	goc__m *m = goc__getm();
	goc__san_g_started(m, g);
	goc__resumed(m);
	g->fn(g->arg);
	goexit();
}

int (goc_go)(void (*fn)(void *), void *arg)
{
	return goc__go_at(NULL, fn, arg, 0, false, NULL);
}

int (goc_go_copy)(void (*fn)(void *), const void *arg, size_t size)
{
	return goc__go_at(NULL, fn, arg, size, true, NULL);
}

int (goc_go_with)(const goc_go_attr *attr, void (*fn)(void *), const void *arg, size_t size)
{
	return goc__go_at(attr, fn, arg, size, size > 0, NULL);
}

int goc__go_at(const goc_go_attr *attr, void (*fn)(void *), const void *arg, size_t size, bool copy,
               const goc__site *site)
{
	if (!fn || (copy && size > 0 && !arg))
		return GOC_EINVAL;
	size_t ssize = attr ? attr->stack_size : 0;
	if (ssize && (ssize < 16 * 1024 || ssize > ((size_t)1 << 30)))
		return GOC_EINVAL;
	int rc = goc__runtime_ensure();
	if (rc)
		return rc;
	goc__m *m = goc__getm();
	goc__p *p = m ? m->p : NULL;
	goc__g *g = g_alloc(p);
	if (!g)
		return GOC_ENOMEM;
	g->copy_kind = 0;
	g->spawn_shift = 0;
	if (copy) {
		if (size == 0) {
			arg = NULL;
		} else if (size <= G_INLINE_ARG) {
			memcpy(g->argbuf, arg, size);
			arg = g->argbuf;
			g->copy_kind = 1;
		} else {
			void *c = malloc(size);
			if (!c) {
				g_recycle(p, g);
				return GOC_ENOMEM;
			}
			memcpy(c, arg, size);
			arg = c;
			g->copy_kind = 2;
		}
	}
	g->fn = fn;
	g->arg = (void *)arg;
	g->stack_size = ssize;
	g->id = goid_new(p);
	g->site = site;
	g->name = attr ? attr->name : NULL;
	goc__g *parent = m ? m->curg : NULL;
	g->parent_id = parent ? parent->id : 0;
	g->created_at = coarse_now();
	g->lockedm = NULL;
	atomic_store_explicit(&g->status, G_RUNNABLE, memory_order_relaxed);
	GOC__TRACE(GOC__EV_SPAWN, g, (int64_t)g->parent_id);
	if (GOC__UNLIKELY(goc__sim_active()))
		goc__sim_spawned(g);
	if (p) {
		counter_add(&p->ncreated, 1);
		goc__runq_put(p, g, true);
	} else {
		atomic_fetch_add_explicit(&goc__s.ngcreated, 1, memory_order_relaxed);
		goc__globrunq_put(g);
	}
	if (atomic_load(&goc__s.npidle) > 0 && atomic_load(&goc__s.nmspinning) == 0)
		goc__wakep();
	if (parent && !parent->lockedm && !parent->in_blocking && !goc__sim_active() &&
	    atomic_load_explicit(&goc__s.runq_size, memory_order_relaxed) >
	            (int64_t)SPAWN_BACKLOG << parent->spawn_shift)
		backlog_yield(m, parent);
	return 0;
}

GOC__NO_TSAN static _Noreturn void goexit(void)
{
	goc__m *m = goc__getm();
	goc__g *g = m->curg;
	m->dead = g;
	goc__switch_to_g0_exit(m, g);
	__builtin_unreachable();
}

/* ---- park / ready / yield --------------------------------------------- */

/* ---- direct hand-off ----------------------------------------------------
 * A goroutine that parks right after readying another (a channel hand-off:
 * the readied G sits in runnext) switches straight to it: one switch
 * instead of two through g0 and a trip through find_runnable, as Go's
 * runnext "inherits the time slice". The parking G's after-switch work
 * (after_switch: WAITING, unlock, deadline timer) must wait until its
 * context is saved, so the next G does it, first thing on arrival
 * (goc__resumed), on the same M. Not taken: in simulation (the seed picks),
 * with locked threads, when the P is being retired or the runtime stops,
 * for a G not started yet (no stack to switch to), and after INHERIT_MAX
 * runnext Gs in a row (p->inherit), so that find_runnable looks at timers,
 * the ring and the global queue before runnext again. */
#define INHERIT_MAX 32

static goc__g *handoff_target(goc__m *m, goc__g *g)
{
	goc__p *p = m->p;
	if (GOC__UNLIKELY(goc__sim_active()) || m->lockedg || g->lockedm || !p ||
	    p->inherit >= INHERIT_MAX ||
	    p->id >= atomic_load_explicit(&goc__s.nprocs, memory_order_relaxed) ||
	    atomic_load_explicit(&goc__s.stopping, memory_order_relaxed))
		return NULL;
	goc__g *next = atomic_load_explicit(&p->runnext, memory_order_relaxed);
	if (!next || !atomic_compare_exchange_strong_explicit(&p->runnext, &next, NULL, memory_order_acq_rel,
	                                                      memory_order_relaxed))
		return NULL; /* none, or stolen meanwhile */
	/* Ours now (a thief may have run it and parked it again before). */
	if (!next->stack.lo || next->lockedm) {
		/* Only the owner P stores a G into runnext: put it back. */
		atomic_store_explicit(&p->runnext, next, memory_order_release);
		return NULL;
	}
	p->inherit++;
	return next;
}

/* What execute does before switching to g, without leaving g's caller. */
static void run_next(goc__m *m, goc__g *next)
{
	atomic_store_explicit(&next->status, G_RUNNING, memory_order_relaxed);
	GOC__TRACE(GOC__EV_RUN, next, 0);
	m->curg = next;
	m->p->schedtick++;
	m->p->nswitch++;
}

static void after_switch(goc__m *m, goc__g *g);

void goc__resumed(goc__m *m)
{
	goc__ptoken_refresh(m);
	goc__g *prev = m->handoff;
	if (prev) {
		after_switch(m, prev);
		m->handoff = NULL;
	}
}

/* What ended a park. Every waker claims before it readies (internal.h,
 * "parking"), so a park that ends unclaimed was ended by something outside
 * the protocol (a stale wake word): the waiter's records may still be
 * queued on the object, so stop here rather than return into corruption. */
static int resumed_claim(goc__g *g)
{
	uint32_t claim = atomic_load_explicit(&g->wait.claim, memory_order_acquire);
	if (GOC__UNLIKELY(claim == GOC__WAKE_NONE))
		goc__panic("sched: goroutine %llu resumed from a park that nothing claimed",
		           (unsigned long long)goc__g_id(g));
	return (int)claim;
}

static void park_timeout(goc__timer *t, int64_t now)
{
	goc__g *g = t->arg;
	uint32_t none = GOC__WAKE_NONE;
	if (atomic_compare_exchange_strong_explicit(&g->wait.claim, &none, GOC__WAKE_TIMEOUT,
	                                            memory_order_acq_rel, memory_order_acquire))
		goc__ready(g);
}

int goc__park(goc__unlock_fn unlock, void *arg, int reason, const void *obj, int64_t deadline)
{
	goc__m *m = goc__getm();
	goc__g *g = m ? m->curg : NULL;
	if (!g || g->in_blocking) {
		if (!g)
			g = goc__thread_g();
		atomic_store_explicit(&g->wait_reason, reason, memory_order_relaxed);
		g->wait_obj = obj;
		g->wait_since = goc__coarse_clock_tick();
		goc__thread_park(g, unlock, arg, deadline);
		atomic_store_explicit(&g->wait_reason, GOC__WAIT_NONE, memory_order_relaxed);
		return resumed_claim(g);
	}
	if (m->lockedg == NULL && g->lockedm == NULL && m->p == NULL)
		goc__panic("sched: park of a goroutine that holds no P");
	goc__timer timer = {.when = deadline, .fn = park_timeout, .arg = g, .index = -1};
	g->park_timer = deadline != GOC__NO_DEADLINE ? &timer : NULL;
	m->park_unlock = unlock;
	m->park_unlock_arg = arg;
	g->spawn_shift = 0; /* the spawn backlog rule: a burst ends here */
	atomic_store_explicit(&g->wait_reason, reason, memory_order_relaxed);
	g->wait_obj = obj;
	g->wait_since = coarse_now();
	m->parked = g;
	goc__g *next = handoff_target(m, g);
	if (next) {
		m->handoff = g;
		run_next(m, next);
		goc__switch_to_next(m, g, next);
	} else {
		goc__switch_to_g0(m, g);
	}
	/* Resumed (maybe on another M). If after_switch (on g0, or on the
	 * next G after a hand-off) was still arming our deadline timer when a
	 * waker readied us, let it finish before we stop it: the timer lives
	 * on this frame. */
	if (deadline != GOC__NO_DEADLINE) {
		while (atomic_load_explicit(&g->park_arming, memory_order_acquire))
			sched_yield();
		goc__timer_stop(&timer);
		g->park_timer = NULL;
	}
	atomic_store_explicit(&g->wait_reason, GOC__WAIT_NONE, memory_order_relaxed);
	return resumed_claim(g);
}

void goc__ready(goc__g *g)
{
	if (goc__parks_thread_inline(g)) {
		goc__thread_ready(g);
		return;
	}
	atomic_store_explicit(&g->status, G_RUNNABLE, memory_order_relaxed);
	GOC__TRACE(GOC__EV_UNBLOCK, g, 0);
	goc__m *m = goc__getm();
	if (m && m->p && !m->is_poller)
		goc__runq_put(m->p, g, true);
	else
		goc__globrunq_put(g);
	if (atomic_load(&goc__s.npidle) > 0 && atomic_load(&goc__s.nmspinning) == 0)
		goc__wakep();
}

bool goc__can_spin(int iter)
{
	if (iter >= 4 || goc__ncpu_cached() <= 1)
		return false;
	goc__m *m = goc__getm();
	if (!m || !m->p)
		return true; /* a foreign thread (or one in a blocking call) */
	if (atomic_load_explicit(&goc__s.nprocs, memory_order_relaxed) <=
	    atomic_load_explicit(&goc__s.npidle, memory_order_relaxed) +
	            atomic_load_explicit(&goc__s.nmspinning, memory_order_relaxed) + 1)
		return false;
	return goc__runq_empty(m->p);
}

void goc_yield(void)
{
	goc__m *m = goc__getm();
	goc__g *g = m ? m->curg : NULL;
	if (!g || g->in_blocking) {
		/* A foreign thread, or a goroutine inside goc_blocking: it holds
		 * no P to requeue itself on, and its thread is its own. */
		sched_yield();
		return;
	}
	m->yielded = g;
	goc__switch_to_g0(m, g);
}

/* ---- M/P handoff ------------------------------------------------------- */

goc__p *goc__pidle_get_locked(void)
{
	goc__p *p = goc__s.pidle;
	if (p) {
		goc__s.pidle = p->link;
		atomic_fetch_sub(&goc__s.npidle, 1);
	}
	return p;
}

void goc__pidle_put_locked(goc__p *p)
{
	atomic_store_explicit(&p->status, P_IDLE, memory_order_relaxed);
	p->m = NULL;
	p->link = goc__s.pidle;
	goc__s.pidle = p;
	atomic_fetch_add(&goc__s.npidle, 1);
}

void goc__acquirep(goc__m *m, goc__p *p)
{
	m->p = p;
	p->m = m;
	atomic_store_explicit(&p->status, P_RUNNING, memory_order_relaxed);
}

/* Handing a P to a sleeping M. The M's park word says "look", but the
 * shutdown wakes every M at once (runtime_stop), so an M may look before
 * the P is there: nextp and spinning are written and taken under
 * sched.lock (m_take_nextp), never raced for. */
static void m_hand(goc__m *m, goc__p *p, bool spinning)
{
	m->spinning = spinning;
	m->nextp = p;
}

goc__p *goc__m_take_nextp(goc__m *m)
{
	goc__lock_acquire(&goc__s.lock);
	goc__p *p = m->nextp;
	m->nextp = NULL;
	goc__lock_release(&goc__s.lock);
	return p;
}

/* Start an M (an idle one, or a new thread) that begins with P p
 * (spinning if asked). */
void goc__startm(goc__p *p, bool spinning)
{
	goc__lock_acquire(&goc__s.lock);
	goc__m *m = goc__s.midle;
	if (m) {
		goc__s.midle = m->link;
		goc__s.nmidle--;
		m_hand(m, p, spinning);
	}
	goc__lock_release(&goc__s.lock);
	if (!m) {
		m = goc__m_new();
		if (!m) {
			/* No thread: give the P back; running Ms will find the work. */
			goc__lock_acquire(&goc__s.lock);
			goc__pidle_put_locked(p);
			goc__lock_release(&goc__s.lock);
			if (spinning)
				atomic_fetch_sub(&goc__s.nmspinning, 1);
			return;
		}
		goc__lock_acquire(&goc__s.lock);
		m_hand(m, p, spinning);
		goc__lock_release(&goc__s.lock);
	}
	goc__sysmon_wake();
	atomic_store_explicit(&m->park, 1, memory_order_release);
	goc__futex_wake(&m->park, 1);
}

void goc__wakep(void)
{
	if (atomic_load(&goc__s.npidle) == 0)
		return;
	int32_t zero = 0;
	if (!atomic_compare_exchange_strong(&goc__s.nmspinning, &zero, 1))
		return;
	goc__lock_acquire(&goc__s.lock);
	goc__p *p = goc__pidle_get_locked();
	goc__lock_release(&goc__s.lock);
	if (!p) {
		atomic_fetch_sub(&goc__s.nmspinning, 1);
		return;
	}
	goc__startm(p, true);
}

/* Hand p to some M because this M cannot use it (blocking call, locked G):
 * start an M if there is work, else make p idle. */
void goc__handoffp(goc__p *p)
{
	if (!goc__runq_empty(p) || atomic_load(&goc__s.runq_size) > 0 ||
	    atomic_load_explicit(&p->timers.next, memory_order_relaxed) != INT64_MAX) {
		goc__startm(p, false);
		return;
	}
	if (atomic_load(&goc__s.nmspinning) == 0 && atomic_load(&goc__s.npidle) == 0) {
		int32_t zero = 0;
		if (atomic_compare_exchange_strong(&goc__s.nmspinning, &zero, 1)) {
			goc__startm(p, true);
			return;
		}
	}
	goc__lock_acquire(&goc__s.lock);
	goc__pidle_put_locked(p);
	goc__lock_release(&goc__s.lock);
}

/* Sleep this M (no P) until startm hands it one. */
static void stopm(goc__m *m)
{
	goc__lock_acquire(&goc__s.lock);
	m->link = goc__s.midle;
	goc__s.midle = m;
	goc__s.nmidle++;
	goc__check_deadlock(); /* sched.lock held */
	goc__lock_release(&goc__s.lock);
	while (atomic_load_explicit(&m->park, memory_order_acquire) == 0)
		goc__futex_wait(&m->park, 0, GOC__NO_DEADLINE);
	atomic_store_explicit(&m->park, 0, memory_order_relaxed);
	goc__coarse_clock_tick(); /* this sleep may have been long */
	goc__p *p = goc__m_take_nextp(m);
	if (p)
		goc__acquirep(m, p);
}

/* Leaving the spinning state with work in hand: make sure another M looks
 * for the rest, if there may be more. */
static void reset_spinning(goc__m *m)
{
	m->spinning = false;
	if (atomic_fetch_sub(&goc__s.nmspinning, 1) == 1)
		goc__wakep();
}

/* ---- finding work ------------------------------------------------------ */

static void run_all_timers(int64_t now)
{
	for (int32_t i = 0; i < goc__s.maxprocs; i++)
		goc__timers_run(&goc__s.allp[i]->timers, now);
}

bool goc__any_runq_work(void)
{
	if (atomic_load(&goc__s.runq_size) > 0)
		return true;
	for (int32_t i = 0; i < goc__s.nprocs; i++)
		if (!goc__runq_empty(goc__s.allp[i]))
			return true;
	return false;
}

/* This M has no P and nothing to do: become the poller (block in epoll until
 * the next timer or fd) if nobody is, else sleep on the futex. Returns when
 * the M holds a P again (or the runtime stops). */
static void idle(goc__m *m)
{
	for (;;) {
		if (atomic_load(&goc__s.stopping))
			return;
		int32_t zero = 0;
		if (!atomic_compare_exchange_strong(&goc__s.poller_active, &zero, 1)) {
			stopm(m);
			if (m->p || atomic_load(&goc__s.stopping))
				return;
			continue;
		}
		m->is_poller = true;
		/* seq_cst pair with goc__timer_start: see timer.c. */
		atomic_store(&goc__s.poll_until, INT64_MAX);
		int64_t until = goc__timers_next();
		if (!goc__any_runq_work()) {
			if (until == INT64_MAX && atomic_load(&goc__s.netpoll_waiters) == 0) {
				goc__lock_acquire(&goc__s.lock);
				goc__check_deadlock();
				goc__lock_release(&goc__s.lock);
			}
			atomic_store(&goc__s.poll_until, until);
			goc__os_poll_wait(until);
		}
		atomic_store(&goc__s.poll_until, 0);
		goc__coarse_clock_tick();
		/* Fire due timers and collect fds; their Gs go to the global
		 * queue (is_poller), then take a P to run them ourselves. */
		run_all_timers(goc__nanotime());
		m->is_poller = false;
		atomic_store(&goc__s.poller_active, 0);
		if (goc__any_runq_work()) {
			goc__lock_acquire(&goc__s.lock);
			goc__p *p = goc__pidle_get_locked();
			goc__lock_release(&goc__s.lock);
			if (p) {
				goc__acquirep(m, p);
				return;
			}
			/* Every P is busy and their Ms will run the work: sleep
			 * instead of polling again at once (that loop spun a CPU
			 * re-reading the clock while 100,000 timers fired). */
			stopm(m);
			if (m->p || atomic_load(&goc__s.stopping))
				return;
		}
	}
}

/* goc_procs shrank below p's id: move p's runnable Gs to the global queue
 * and stop using it. */
static void retire_p(goc__m *m, goc__p *p)
{
	goc__g *g;
	while ((g = goc__runq_get(p)))
		goc__globrunq_put(g);
	goc__lock_acquire(&goc__s.lock);
	atomic_store(&p->status, P_STOPPED);
	p->m = NULL;
	m->p = NULL;
	goc__lock_release(&goc__s.lock);
	if (m->spinning) {
		m->spinning = false;
		atomic_fetch_sub(&goc__s.nmspinning, 1);
	}
	goc__wakep();
}

/* Simulation mode's find_runnable: the seed picks among every runnable G;
 * with none, timers fire (virtual time: the clock jumps to the next one);
 * with no timer either, the M gives up the P and idles like any other, and
 * the deadlock check there sees "all goroutines asleep". */
static goc__g *sim_find_runnable(goc__m *m)
{
	for (;;) {
		if (m->spinning) { /* one P: there is nobody else to wake */
			m->spinning = false;
			atomic_fetch_sub(&goc__s.nmspinning, 1);
		}
		if (atomic_load_explicit(&goc__s.stopping, memory_order_relaxed) || goc__sim_halted())
			return NULL;
		goc__p *p = m->p;
		goc__g *g = goc__sim_pick(p);
		if (g)
			return g;
		if (goc__sim_fire_due(p, true))
			continue;
		goc__lock_acquire(&goc__s.lock);
		if (atomic_load(&goc__s.runq_size) > 0) {
			goc__lock_release(&goc__s.lock);
			continue;
		}
		goc__pidle_put_locked(p);
		m->p = NULL;
		goc__lock_release(&goc__s.lock);
		idle(m);
		if (!m->p)
			return NULL;
	}
}

static goc__g *find_runnable(goc__m *m)
{
	goc__g *g;
	if (GOC__UNLIKELY(goc__sim_active()))
		return sim_find_runnable(m);
top:
	if (atomic_load_explicit(&goc__s.stopping, memory_order_relaxed))
		return NULL;
	goc__p *p = m->p;
	if (GOC__UNLIKELY(p->id >= atomic_load_explicit(&goc__s.nprocs, memory_order_relaxed))) {
		retire_p(m, p);
		idle(m);
		if (!m->p)
			return NULL;
		goto top;
	}
	goc__timers_run(&p->timers, atomic_load_explicit(&p->timers.next, memory_order_relaxed) == INT64_MAX
	                                    ? 0
	                                    : goc__nanotime());
	/* After a long runnext chain, the others first: the global queue's
	 * head, then the ring's (Go's schedule: every 61st tick, and the end
	 * of an inherited time slice). */
	bool fair = p->inherit >= INHERIT_MAX;
	if (fair)
		p->inherit = 0;
	if ((fair || p->schedtick % 61 == 0) &&
	    atomic_load_explicit(&goc__s.runq_size, memory_order_relaxed) > 0) {
		goc__lock_acquire(&goc__s.lock);
		g = goc__globrunq_get_fair();
		goc__lock_release(&goc__s.lock);
		if (g)
			goto found;
	}
	if (fair && (g = goc__runq_get_ring(p)))
		goto found;
	if ((g = goc__runq_get_next(p))) {
		p->inherit++;
		goto found;
	}
	if ((g = goc__runq_get_ring(p))) {
		p->inherit = 0;
		goto found;
	}
	if (atomic_load_explicit(&goc__s.runq_size, memory_order_relaxed) > 0) {
		goc__lock_acquire(&goc__s.lock);
		g = goc__globrunq_get(p);
		goc__lock_release(&goc__s.lock);
		if ((g = goc__runq_put_chain(p, g)))
			goto found;
	}
	if (atomic_load_explicit(&goc__s.netpoll_waiters, memory_order_relaxed) > 0 &&
	    !atomic_load_explicit(&goc__s.poller_active, memory_order_relaxed)) {
		int32_t zero = 0;
		if (atomic_compare_exchange_strong(&goc__s.poller_active, &zero, 1)) {
			int n = goc__os_poll_wait(0);
			atomic_store(&goc__s.poller_active, 0);
			if (n > 0 && (g = goc__runq_get(p)))
				goto found;
		}
	}
	/* Steal, spinning: at most half the busy Ms spin at once. */
	if (!m->spinning && 2 * atomic_load(&goc__s.nmspinning) < goc__s.nprocs - atomic_load(&goc__s.npidle)) {
		m->spinning = true;
		atomic_fetch_add(&goc__s.nmspinning, 1);
	}
	if (m->spinning && goc__s.nprocs > 1) {
		int64_t now = goc__nanotime();
		for (int round = 0; round < 4; round++) {
			uint32_t start = (uint32_t)goc__fastrand(m);
			for (int32_t k = 0; k < goc__s.nprocs; k++) {
				goc__p *v = goc__s.allp[(start + k) % goc__s.nprocs];
				if (v == p)
					continue;
				if (round == 3)
					goc__timers_run(&v->timers, now);
				if ((g = goc__runq_get(p)))
					goto found; /* a timer we ran readied something */
				if ((g = goc__runq_steal(p, v, round == 3))) {
					p->nsteal++;
					goto found;
				}
			}
		}
	}
	/* Nothing: give up the P. Re-check the global queue under the lock. */
	goc__lock_acquire(&goc__s.lock);
	if (atomic_load(&goc__s.runq_size) > 0) {
		g = goc__globrunq_get(p);
		goc__lock_release(&goc__s.lock);
		g = goc__runq_put_chain(p, g);
		goto found;
	}
	goc__pidle_put_locked(p);
	m->p = NULL;
	goc__lock_release(&goc__s.lock);
	bool was_spinning = m->spinning;
	if (was_spinning) {
		m->spinning = false;
		atomic_fetch_sub(&goc__s.nmspinning, 1); /* seq_cst: then re-check, see top */
		if (goc__any_runq_work()) {
			goc__lock_acquire(&goc__s.lock);
			p = goc__pidle_get_locked();
			goc__lock_release(&goc__s.lock);
			if (p) {
				goc__acquirep(m, p);
				m->spinning = true;
				atomic_fetch_add(&goc__s.nmspinning, 1);
				goto top;
			}
		}
	}
	idle(m);
	if (!m->p)
		return NULL;
	goto top;
found:
	if (m->spinning)
		reset_spinning(m);
	return g;
}

/* ---- running a G ------------------------------------------------------- */

static void bind_stack(goc__m *m, goc__g *g)
{
	int rc = stack_get(m->p, g);
	if (rc)
		goc__panic("stack: cannot allocate a %zu-byte stack for goroutine %llu (%s)",
		           g->stack_size ? g->stack_size : goc__stack_default_size(),
		           (unsigned long long)g->id, goc_strerror(rc));
	goc__ctx_make(&g->ctx, g->stack.lo, g->stack.size, g_entry, g);
}

/* After a G switched to g0: finish what it asked for. */
static void after_switch(goc__m *m, goc__g *g)
{
	if (!goc__stack_canary_ok(&g->stack))
		goc__stack_overflow_report(g);
	if (m->parked) {
		m->parked = NULL;
		atomic_store_explicit(&g->status, G_WAITING, memory_order_relaxed);
		counter_add(&m->p->nparks, 1);
		GOC__TRACE(GOC__EV_BLOCK, g, atomic_load_explicit(&g->wait_reason, memory_order_relaxed));
		goc__timer *timer = g->park_timer; /* on g's parked frame */
		if (timer)
			atomic_store_explicit(&g->park_arming, 1, memory_order_relaxed);
		/* From here a waker may ready g and another M may run it. */
		if (m->park_unlock)
			m->park_unlock(m->park_unlock_arg);
		if (timer) {
			goc__timer_start(timer);
			atomic_store_explicit(&g->park_arming, 0, memory_order_release);
		}
	} else if (m->yielded) {
		m->yielded = NULL;
		atomic_store_explicit(&g->status, G_RUNNABLE, memory_order_relaxed);
		GOC__TRACE(GOC__EV_YIELD, g, 0);
		if (m->yield_behind) {
			m->yield_behind = false;
			goc__lock_acquire(&goc__s.lock);
			goc__globrunq_put_batch(g, g, 1, false); /* behind the new ones too */
			goc__lock_release(&goc__s.lock);
		} else {
			goc__runq_put(m->p, g, false);
		}
	} else if (m->exitblocking) {
		m->exitblocking = NULL;
		atomic_store_explicit(&g->status, G_RUNNABLE, memory_order_relaxed);
		goc__globrunq_put(g);
	} else if (m->dead) {
		m->dead = NULL;
		/* release: a registry snapshot that sees G_DEAD (acquire) also
		 * sees everything the goroutine did, so goc_leakcheck() == 0
		 * orders the finished goroutines before its caller. */
		atomic_store_explicit(&g->status, G_DEAD, memory_order_release);
		GOC__TRACE(GOC__EV_EXIT, g, 0);
		counter_add(&m->p->nexited, 1);
		stack_put(m->p, g);
		if (g->copy_kind == 2)
			free(g->arg);
		g->fn = NULL;
		g->arg = NULL;
		g->copy_kind = 0;
		if (m->lockedg == g) {
			m->lockedg = NULL;
			g->lockedm = NULL;
			g->lock_depth = 0;
		}
		g_recycle(m->p, g);
	}
}

static void execute(goc__m *m, goc__g *g)
{
	if (!g->stack.lo)
		bind_stack(m, g);
	run_next(m, g);
	goc__switch_to_g(m, g);
	goc__tls_ptoken = 0; /* scheduler code is no P's goroutine code */
	/* Back on g0 from the last G of a chain of hand-offs: m->curg. */
	g = m->curg;
	m->curg = NULL;
	after_switch(m, g);
}

/* This M is wired to a goroutine (goc_lock_thread) that is not running:
 * hand the P to someone else and sleep until the G is given back to us with
 * a P (start_locked_m). */
static void stop_locked_m(goc__m *m)
{
	if (m->p) {
		goc__p *p = m->p;
		m->p = NULL;
		goc__handoffp(p);
	}
	while (atomic_load_explicit(&m->park, memory_order_acquire) == 0)
		goc__futex_wait(&m->park, 0, GOC__NO_DEADLINE);
	atomic_store_explicit(&m->park, 0, memory_order_relaxed);
	goc__p *p = goc__m_take_nextp(m);
	if (p)
		goc__acquirep(m, p);
}

/* We found g, but g is wired to another M: give that M our P (it runs g)
 * and go idle. */
static void start_locked_m(goc__m *m, goc__g *g)
{
	goc__m *lm = g->lockedm;
	goc__p *p = m->p;
	m->p = NULL;
	atomic_store_explicit(&g->status, G_RUNNABLE, memory_order_relaxed);
	goc__lock_acquire(&goc__s.lock);
	m_hand(lm, p, false); /* lm's stop_locked_m acquires p */
	goc__lock_release(&goc__s.lock);
	atomic_store_explicit(&lm->park, 1, memory_order_release);
	goc__futex_wake(&lm->park, 1);
}

void goc__worker_main(goc__m *m)
{
	goc__setm(m);
	goc__san_m_init(m);
	for (;;) {
		if (atomic_load_explicit(&goc__s.stopping, memory_order_relaxed))
			break;
		if (m->lockedg) {
			stop_locked_m(m);
			if (!m->p)
				break; /* stopping */
			execute(m, m->lockedg);
			continue;
		}
		if (!m->p) {
			idle(m);
			if (!m->p)
				break;
		}
		goc__g *g = find_runnable(m);
		if (!g)
			break;
		if (g->lockedm && g->lockedm != m) {
			start_locked_m(m, g);
			continue;
		}
		execute(m, g);
	}
}
