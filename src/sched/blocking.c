/* blocking.c - goroutines that hold their thread: blocking C calls
 * (goc_blocking) and goroutines wired to a thread (goc_lock_thread).
 *
 * A blocking call keeps its M but lends its P, as Go's entersyscall does:
 * entering marks the P "in a blocking call" (sysword, see sched.h); the
 * monitor retakes a P that stays so for more than a tick while work waits,
 * and hands it to another M. Leaving, the G takes its P back if it is still
 * marked (one CAS: the common, short call costs almost nothing), else any
 * idle P, else it queues itself and its M goes idle.
 * While inside the call the goroutine waits like a foreign thread would
 * (in_blocking: parking blocks the thread), since it holds no P. */
#include "sched.h"

enum { SYS_RUNNING = 0, SYS_BLOCKING = 1, SYS_RETAKEN = 2 };

bool goc__blocking_enter(void)
{
	goc__m *m = goc__getm();
	if (!m || !m->curg || m->curg->in_blocking || !m->p)
		return false; /* a foreign thread, or a nested call: nothing to lend */
	goc__g *g = m->curg;
	goc__p *p = m->p;
	atomic_store_explicit(&g->status, G_SYSCALL, memory_order_relaxed);
	atomic_store_explicit(&g->wait_reason, GOC__WAIT_BLOCKING, memory_order_relaxed);
	g->in_blocking = true;
	GOC__TRACE(GOC__EV_BLOCKING_ENTER, g, 0);
	m->oldp = p;
	m->p = NULL;
	goc__tls_ptoken = 0;
	m->oldsysword = (++p->sysgen << 2) | SYS_BLOCKING;
	atomic_fetch_add(&goc__s.nmblocking, 1);
	atomic_store_explicit(&p->sysword, m->oldsysword, memory_order_release);
	goc__sysmon_wake();
	return true;
}

void goc__blocking_exit(void)
{
	goc__m *m = goc__getm();
	if (!m || !m->curg || !m->curg->in_blocking)
		return;
	goc__g *g = m->curg;
	goc__p *p = m->oldp;
	m->oldp = NULL;
	g->in_blocking = false;
	GOC__TRACE(GOC__EV_BLOCKING_EXIT, g, 0);
	atomic_fetch_sub(&goc__s.nmblocking, 1);
	atomic_store_explicit(&g->wait_reason, GOC__WAIT_NONE, memory_order_relaxed);
	uint64_t expect = m->oldsysword;
	if (atomic_compare_exchange_strong_explicit(&p->sysword, &expect, (expect & ~(uint64_t)3) | SYS_RUNNING,
	                                            memory_order_acq_rel, memory_order_relaxed)) {
		m->p = p;
		goc__ptoken_refresh(m);
		atomic_store_explicit(&g->status, G_RUNNING, memory_order_relaxed);
		return;
	}
	/* The monitor gave our P away: any idle P will do. */
	goc__lock_acquire(&goc__s.lock);
	goc__p *np = goc__pidle_get_locked();
	goc__lock_release(&goc__s.lock);
	if (np) {
		goc__acquirep(m, np);
		goc__ptoken_refresh(m);
		atomic_store_explicit(&g->status, G_RUNNING, memory_order_relaxed);
		return;
	}
	/* None: queue this G for whichever M has a P, and idle this M. */
	m->exitblocking = g;
	goc__switch_to_g0(m, g);
}

/* Monitor side: called with the P observed in a blocking call since the
 * previous tick. Retake it if there is work for it. */
bool goc__blocking_retake(goc__p *p, uint64_t seen)
{
	if ((seen & 3) != SYS_BLOCKING)
		return false;
	bool work = !goc__runq_empty(p) || atomic_load(&goc__s.runq_size) > 0 ||
	            atomic_load_explicit(&p->timers.next, memory_order_relaxed) != INT64_MAX ||
	            atomic_load(&goc__s.nmspinning) + atomic_load(&goc__s.npidle) == 0;
	if (!work)
		return false;
	uint64_t expect = seen;
	if (!atomic_compare_exchange_strong_explicit(&p->sysword, &expect, (seen & ~(uint64_t)3) | SYS_RETAKEN,
	                                             memory_order_acq_rel, memory_order_relaxed))
		return false;
	p->m = NULL;
	goc__handoffp(p);
	return true;
}

void *goc_blocking(void *(*fn)(void *), void *arg)
{
	if (!fn)
		return NULL;
	/* Only the outermost of nested calls lends the P and takes it back. */
	bool entered = goc__blocking_enter();
	void *r = fn(arg);
	if (entered)
		goc__blocking_exit();
	return r;
}

int goc_lock_thread(void)
{
	goc__m *m = goc__getm();
	if (!m || !m->curg)
		return GOC_EPERM;
	goc__g *g = m->curg;
	g->lockedm = m;
	m->lockedg = g;
	g->lock_depth++;
	return 0;
}

int goc_unlock_thread(void)
{
	goc__m *m = goc__getm();
	if (!m || !m->curg || m->curg->lock_depth == 0)
		return GOC_EPERM;
	goc__g *g = m->curg;
	if (--g->lock_depth == 0) {
		g->lockedm = NULL;
		m->lockedg = NULL;
	}
	return 0;
}
