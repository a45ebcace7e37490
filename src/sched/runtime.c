/* runtime.c - starting and stopping the runtime, goc_main, goc_procs, and
 * the small services every module uses (panic, strerror, random numbers,
 * wait-reason names, the deadlock check).
 *
 * Lifecycle: the runtime starts on first use (goc_main, goc_go, a timer or a
 * wait from any thread) with GOC_PROCS Ps (default: CPUs), one M per P and
 * the monitor thread. Under goc_main it stops when the main goroutine
 * returns: workers are told to stop and joined, then every G, stack, P and
 * M is freed, so a program checked by valgrind or ASan ends clean.
 * Goroutines still alive then are abandoned, as Go's are when main returns.
 * A runtime started lazily (plain main) runs until the process exits. */
#define _GNU_SOURCE
#include "sched.h"
#include "sim.h"
#include "../os/poll.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static pthread_mutex_t start_mu = PTHREAD_MUTEX_INITIALIZER;
static int requested_procs;          /* goc_procs before start; 0: env/CPUs */

/* The program's worker count (goc_procs) and the monitor's hog loan on top
 * of it (sysmon.c): nprocs = procs_user + procs_loan. goc_procs reports and
 * sets procs_user only, so a loan never shows. procs_mu guards both and
 * orders the resizes; it is taken after start_mu, never with goc__s.lock
 * held, and never by runtime_stop (which joins the monitor). */
static pthread_mutex_t procs_mu = PTHREAD_MUTEX_INITIALIZER;
static int32_t procs_user, procs_loan;

static _Atomic bool under_main;       /* goc_main is running: deadlock checks on */

_Noreturn void goc__panic(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fprintf(stderr, "goc: fatal: %s\n", buf);
	fflush(stderr);
	abort();
}

const char *goc_strerror(int err)
{
	switch (err) {
	case 0: return "success";
	case GOC_ECLOSED: return "channel closed";
	case GOC_ENEGATIVE: return "counter would go negative";
	case GOC_EAGAIN: return "operation would block";
	case GOC_ETIMEDOUT: return "deadline exceeded";
	case GOC_ECANCELED: return "context canceled";
	case GOC_EINVAL: return "invalid argument";
	case GOC_ENOMEM: return "out of memory";
	case GOC_EPERM: return "operation not permitted (misuse)";
	case GOC_EBUSY: return "resource busy";
	}
	if (err < 0 && err > -4000)
		return strerror(-err);
	return "unknown goc error";
}

const char *goc__wait_reason_name(int reason)
{
	static const char *const names[GOC__WAIT_COUNT] = {
		[GOC__WAIT_NONE] = "",
		[GOC__WAIT_CHAN_SEND] = "chan send",
		[GOC__WAIT_CHAN_RECV] = "chan receive",
		[GOC__WAIT_SELECT] = "select",
		[GOC__WAIT_SELECT_NO_CASES] = "select (no cases)",
		[GOC__WAIT_SLEEP] = "sleep",
		[GOC__WAIT_MUTEX] = "mutex",
		[GOC__WAIT_RWMUTEX] = "rwmutex",
		[GOC__WAIT_WAITGROUP] = "waitgroup",
		[GOC__WAIT_COND] = "cond",
		[GOC__WAIT_SEMA] = "semaphore",
		[GOC__WAIT_ONCE] = "once",
		[GOC__WAIT_IO] = "io wait",
		[GOC__WAIT_BLOCKING] = "blocking call",
		[GOC__WAIT_CTX] = "context",
	};
	return reason >= 0 && reason < GOC__WAIT_COUNT ? names[reason] : "?";
}

/* wyrand: a fast PRNG, one state per M. */
uint64_t goc__fastrand(goc__m *m)
{
	m->rand += 0xa0761d6478bd642full;
	__uint128_t t = (__uint128_t)m->rand * (m->rand ^ 0xe7037ed1a0b428dbull);
	return (uint64_t)(t >> 64) ^ (uint64_t)t;
}

static int procs_from_env(void)
{
	const char *e = getenv("GOC_PROCS");
	if (e && *e) {
		char *end;
		long v = strtol(e, &end, 10);
		if (*end == 0 && v > 0 && v <= 1024)
			return (int)v;
		fprintf(stderr, "goc: ignoring GOC_PROCS=%s (want 1..1024)\n", e);
	}
	return goc__ncpu();
}

/* ---- Ms ---------------------------------------------------------------- */

static void *m_thread(void *arg)
{
	goc__m *m = arg;
	goc__setm(m);
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_UNBLOCK, &all, NULL);
	/* Wait for startm to hand us a P. */
	while (atomic_load_explicit(&m->park, memory_order_acquire) == 0)
		goc__futex_wait(&m->park, 0, GOC__NO_DEADLINE);
	atomic_store_explicit(&m->park, 0, memory_order_relaxed);
	void *alt = goc__overflow_thread_init();
	goc__p *p = goc__m_take_nextp(m);
	if (p) {
		m->p = p;
		m->p->m = m;
		atomic_store_explicit(&m->p->status, P_RUNNING, memory_order_relaxed);
		goc__worker_main(m);
	}
	goc__overflow_thread_fini(alt);
	return NULL;
}

goc__m *goc__m_new(void)
{
	goc__m *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	goc__lock_acquire(&goc__s.lock);
	m->id = goc__s.nm++;
	m->alllink = goc__s.allm;
	goc__s.allm = m;
	goc__lock_release(&goc__s.lock);
	m->rand = (uint64_t)(uintptr_t)m ^ (uint64_t)goc__nanotime();
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	/* Workers start with signals blocked until set up (m_thread). */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&m->thread, &attr, m_thread, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		goc__lock_acquire(&goc__s.lock);
		goc__s.allm = m->alllink;
		goc__s.nm--;
		goc__lock_release(&goc__s.lock);
		free(m);
		return NULL;
	}
	return m;
}

/* ---- start / stop ------------------------------------------------------ */

static goc__p *p_new(int i)
{
	size_t size = (sizeof(goc__p) + GOC__CACHELINE - 1) & ~(size_t)(GOC__CACHELINE - 1);
	goc__p *p = aligned_alloc(GOC__CACHELINE, size);
	if (!p)
		return NULL;
	memset(p, 0, sizeof *p);
	p->id = i;
	atomic_store(&p->status, P_STOPPED);
	goc__timerheap_init(&p->timers);
	goc__s.allp[i] = p;
	atomic_store(&goc__s.maxprocs, i + 1);
	return p;
}

static int runtime_start_locked(void)
{
	int n = requested_procs > 0 ? requested_procs : procs_from_env();
	if (goc__sim_start()) /* seeded schedules (sim.c): one worker */
		n = 1;
	memset(&goc__s, 0, sizeof goc__s);
	int rc = goc__os_poll_init();
	if (rc)
		return rc;
	goc__membarrier_register(); /* before the workers exist (cheaper) */
	/* allp has room for every P there may ever be, so growing never moves
	 * it under readers; Ps are created on demand and live until stop. */
	goc__s.allp = calloc(GOC__MAXPROCS, sizeof *goc__s.allp);
	if (!goc__s.allp)
		return GOC_ENOMEM;
	for (int i = 0; i < n; i++)
		if (!p_new(i))
			return GOC_ENOMEM;
	goc__s.nprocs = n;
	procs_user = n;
	procs_loan = 0;
	/* All Ps start idle; the first readied G wakes a worker. */
	for (int i = n - 1; i >= 0; i--)
		goc__pidle_put_locked(goc__s.allp[i]);
	goc__overflow_install();
	goc__coarse_clock_tick();
	atomic_store(&goc__s.started, 1);
	return goc__sysmon_start();
}

int goc__runtime_ensure(void)
{
	if (GOC__LIKELY(atomic_load_explicit(&goc__s.started, memory_order_acquire)))
		return 0;
	pthread_mutex_lock(&start_mu);
	int rc = 0;
	if (!atomic_load(&goc__s.started))
		rc = runtime_start_locked();
	pthread_mutex_unlock(&start_mu);
	return rc;
}

int goc_procs(int n)
{
	int prev;
	pthread_mutex_lock(&start_mu);
	if (!atomic_load(&goc__s.started)) {
		prev = requested_procs > 0 ? requested_procs : procs_from_env();
		if (n > 0)
			requested_procs = n > 1024 ? 1024 : n;
		pthread_mutex_unlock(&start_mu);
		return prev;
	}
	pthread_mutex_unlock(&start_mu);
	pthread_mutex_lock(&procs_mu);
	prev = procs_user;
	if (n > 0 && n != prev && !goc__sim_active()) { /* simulation keeps its one worker */
		procs_user = n > GOC__MAXPROCS ? GOC__MAXPROCS : n;
		goc__procs_resize(procs_user + procs_loan);
	}
	pthread_mutex_unlock(&procs_mu);
	return prev;
}

void goc__procs_lend(int32_t loan)
{
	pthread_mutex_lock(&procs_mu);
	if (loan != procs_loan) {
		procs_loan = loan;
		goc__procs_resize(procs_user + loan);
	}
	pthread_mutex_unlock(&procs_mu);
}

/* Change the number of Ps in use. Growing makes the new (or previously
 * stopped) Ps idle and available; shrinking lowers nprocs, and each M that
 * holds a P beyond it gives it up at its next scheduling point (proc.c,
 * find_runnable), moving its queue to the global queue. Timers on stopped
 * Ps keep firing: idle workers and the poller scan every allocated P. */
void goc__procs_resize(int n)
{
	if (n > GOC__MAXPROCS)
		n = GOC__MAXPROCS;
	if (goc__sim_active())
		return; /* simulation mode keeps its one worker */
	goc__lock_acquire(&goc__s.lock);
	int old = goc__s.nprocs;
	for (int i = old; i < n; i++) {
		goc__p *p = i < goc__s.maxprocs ? goc__s.allp[i] : p_new(i);
		if (!p) {
			n = i;
			break;
		}
		if (atomic_load(&p->status) == P_STOPPED)
			goc__pidle_put_locked(p);
	}
	if (n < old) {
		/* Take the retired Ps off the idle list now; busy ones retire
		 * themselves. */
		goc__p **pp = &goc__s.pidle;
		while (*pp) {
			if ((*pp)->id >= n) {
				goc__p *p = *pp;
				*pp = p->link;
				atomic_store(&p->status, P_STOPPED);
				atomic_fetch_sub(&goc__s.npidle, 1);
			} else {
				pp = &(*pp)->link;
			}
		}
	}
	atomic_store(&goc__s.nprocs, n);
	goc__lock_release(&goc__s.lock);
	for (int i = old; i < n; i++)
		goc__wakep();
}

/* Stop every M and free everything. Called with no goroutine running code
 * that matters any more (goc_main's fn returned). */
static void runtime_stop(void)
{
	atomic_store(&goc__s.stopping, 1);
	goc__sysmon_stop();
	goc__os_poll_interrupt();
	/* Wake idle Ms; Ms running abandoned goroutines that never yield cannot
	 * be stopped: then we leave the memory alone rather than free it under
	 * them. */
	goc__lock_acquire(&goc__s.lock);
	goc__m *all = goc__s.allm;
	goc__lock_release(&goc__s.lock);
	for (goc__m *m = all; m; m = m->alllink) {
		atomic_store_explicit(&m->park, 1, memory_order_release);
		goc__futex_wake(&m->park, 1);
	}
	bool clean = true;
	int64_t deadline = goc__nanotime() + 2000000000;
	for (goc__m *m = all; m; m = m->alllink) {
		struct timespec ts;
		int64_t d = deadline;
		ts.tv_sec = 0;
		for (;;) {
			if (pthread_tryjoin_np(m->thread, NULL) == 0)
				break;
			if (goc__nanotime() > d) {
				clean = false;
				break;
			}
			goc__os_poll_interrupt();
			atomic_store_explicit(&m->park, 1, memory_order_release);
			goc__futex_wake(&m->park, 1);
			ts.tv_nsec = 1000000;
			nanosleep(&ts, NULL);
		}
		if (!clean)
			break;
	}
	if (!clean) {
		fprintf(stderr, "goc: a worker is still running a goroutine at exit; its memory is not freed\n");
		return;
	}
	for (goc__m *m = all, *next; m; m = next) {
		next = m->alllink;
		free(m);
	}
	goc__sync_runtime_stopped();
	for (int i = 0; i < goc__s.maxprocs; i++) {
		goc__p *p = goc__s.allp[i];
		for (int k = 0; k < p->nstack; k++) {
			goc__stack_free(&p->stackcache[k]);
			goc__san_fiber_free(p->fibercache[k]);
		}
		goc__timerheap_free(&p->timers);
		free(p);
	}
	free(goc__s.allp);
	for (goc__gchunk *c = goc__s.gchunks, *next; c; c = next) {
		next = c->next;
		for (int32_t i = 0; i < c->used; i++) {
			goc__g *g = &c->g[i];
			if (g->stack.lo) {
				goc__stack_free(&g->stack);
				goc__san_fiber_free(goc__g_fiber(g));
			}
			if (g->copy_kind == 2 && g->fn)
				free(g->arg);
		}
		munmap(c, (size_t)2 << 20);
	}
	goc__san_fibers_drain();
	goc__stack_shutdown();
	goc__os_poll_close();
	goc__thread_g_release();
	memset(&goc__s, 0, sizeof goc__s);
}

struct main_call {
	int (*fn)(int, char **);
	int argc;
	char **argv;
	int result;
	_Atomic uint32_t done;
};

static void main_goroutine(void *arg)
{
	struct main_call *c = arg;
	c->result = c->fn(c->argc, c->argv);
	/* Main is over: goroutines still parked are abandoned, not deadlocked. */
	atomic_store(&under_main, false);
	atomic_store_explicit(&c->done, 1, memory_order_release);
	goc__futex_wake(&c->done, 1);
}

int goc_main(int (*fn)(int argc, char **argv), int argc, char **argv)
{
	if (!fn)
		return GOC_EINVAL;
	pthread_mutex_lock(&start_mu);
	if (under_main || atomic_load(&goc__s.started)) {
		pthread_mutex_unlock(&start_mu);
		return GOC_EBUSY;
	}
	int rc = runtime_start_locked();
	if (rc == 0)
		under_main = true;
	pthread_mutex_unlock(&start_mu);
	if (rc)
		return rc;
	goc__debug_start();
	struct main_call c = {.fn = fn, .argc = argc, .argv = argv};
	static const goc__site main_site = {"goc_main", "main", 0};
	rc = goc__go_at(NULL, main_goroutine, &c, 0, false, &main_site);
	if (rc)
		return rc;
	while (atomic_load_explicit(&c.done, memory_order_acquire) == 0)
		goc__futex_wait(&c.done, 0, GOC__NO_DEADLINE);
	goc__debug_stop();
	pthread_mutex_lock(&start_mu);
	under_main = false;
	runtime_stop();
	pthread_mutex_unlock(&start_mu);
	return c.result;
}

bool goc__under_main(void)
{
	return under_main;
}

/* ---- deadlock ---------------------------------------------------------- */

int64_t goc__goroutines_alive(void)
{
	int64_t n = atomic_load_explicit(&goc__s.ngcreated, memory_order_relaxed);
	for (int32_t i = 0; i < goc__s.maxprocs; i++) {
		goc__p *p = goc__s.allp[i];
		n += atomic_load_explicit(&p->ncreated, memory_order_relaxed) -
		     atomic_load_explicit(&p->nexited, memory_order_relaxed);
	}
	return n;
}

/* Does a thread exist that the runtime did not start, other than the one
 * waiting in goc_main? Such a thread (an application's pthread, a foreign
 * thread parked with a deadline, one that has not called goc yet) may
 * still wake a goroutine, so no deadlock can be proven while it lives.
 * Known threads: goc_main's caller, the Ms, the monitor, the debug
 * module's, and TSan's background thread in TSan builds. Counting
 * /proc/self/task errs only towards "alive" (a thread being created or
 * exiting is counted), never towards a false deadlock. Runs only when every
 * other test already says deadlock. */
static bool foreign_threads_alive(void)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return true; /* cannot tell: assume the worst */
	int64_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	int64_t known = 1 + goc__s.nm + 1 + goc__debug_threads();
#if defined(GOC__TSAN)
	known++;
#endif
	return n > known;
}

/* Called with sched.lock held by an M about to sleep. Every P idle, no M
 * spinning, polling, or inside a blocking call, nothing runnable, no timer
 * armed and no fd waited on, no foreign thread running or even alive:
 * nothing can ever make a goroutine runnable again. Only under goc_main (a
 * lazily started runtime cannot know about threads that have not called
 * goc yet), and not with GOC_DEADLOCK=0. */
void goc__check_deadlock(void)
{
	if (!under_main || atomic_load(&goc__s.stopping))
		return;
	if (atomic_load(&goc__s.npidle) != goc__s.nprocs || atomic_load(&goc__s.nmspinning) != 0 ||
	    atomic_load(&goc__s.nmblocking) != 0 || atomic_load(&goc__s.runq_size) != 0 ||
	    atomic_load(&goc__s.timers_armed) != 0 || atomic_load(&goc__s.netpoll_waiters) != 0 ||
	    atomic_load(&goc__s.nthreads_running) != 0)
		return;
	if (goc__s.nmidle + (atomic_load(&goc__s.poller_active) ? 1 : 0) < goc__s.nm)
		return; /* an M is between states (or running a locked G) */
	if (goc__any_runq_work())
		return;
	if (goc__goroutines_alive() <= 0)
		return;
	const char *e = getenv("GOC_DEADLOCK");
	if (e && strcmp(e, "0") == 0)
		return;
	/* Simulation mode (sim.c) judges by goroutines alone: its runs assume
	 * no foreign thread acts (docs/testing.md), and in a forked run under
	 * TSan the sanitizer's own restarted threads would hide every deadlock. */
	if (!goc__sim_active() && foreign_threads_alive())
		return;
	goc__debug_deadlock();
}
