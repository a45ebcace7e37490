/* sanitizer.c - every goroutine switch goes through here, so that ASan and
 * TSan know which stack and which logical thread ("fiber") is running.
 *
 * Without annotations ASan mistakes a switch for a huge stack unwind (and
 * reports false stack-buffer errors), and TSan merges every goroutine on a
 * worker into one thread (missing real races, and reporting races on the
 * stacks it thinks one thread owns). In plain builds the wrappers are one
 * inlined call to goc__ctx_switch.
 *
 * ASan: before a switch, __sanitizer_start_switch_fiber(save, target stack);
 * after arriving, __sanitizer_finish_switch_fiber(saved). A finishing
 * goroutine passes NULL as save so its fake stack is freed. The M's own
 * (thread) stack bounds are learnt on the first arrival in a goroutine.
 * TSan: one fiber per running goroutine (see goc__san_fiber_new) and the thread's own fiber for g0; __tsan_switch_to_fiber(target, 0)
 * before each switch also orders the switch for the race detector. */
#include "sched.h"

#if defined(GOC__ASAN)
#include <sanitizer/asan_interface.h>
#endif
#if defined(GOC__TSAN)
#include <sanitizer/tsan_interface.h>
#endif

void goc__san_m_init(goc__m *m)
{
#if defined(GOC__TSAN)
	m->tsan_fiber = __tsan_get_current_fiber();
#endif
	(void)m;
}

/* TSan fibers are costly to make (each is a TSan thread whose state is
 * written afresh: about 1 MB of first touches here) and TSan caps live
 * fibers with its threads (8128), so a fiber belongs to a stack, not to
 * a G: it is taken when a stack is first bound and travels with the stack
 * through the P's cache.
 * When a stack goes back to the stack pool its fiber waits here for the
 * next stack bound, instead of being destroyed and made again: a program
 * whose goroutines come and go by the thousand (the P caches overflow and
 * refill) made one per goroutine, which took a TSan test two minutes.
 * Reusing a fiber for another stack is sound: every switch to a fiber
 * passes through the M's own fiber (flag 0: synchronising), so whatever a
 * fiber did before happens before its next goroutine starts, as with a
 * fiber reused from the P's cache. Few wait (FIBER_KEEP, enough to absorb
 * the caches' overflows and refills), and none once the runtime stops: a
 * live fiber is a live TSan thread, and TSan's vector clocks and fork()
 * grow with those (8,192 kept made sync-heavy and forking tests 5-8x
 * slower). */
#if defined(GOC__TSAN)
#define FIBER_KEEP 256
static goc__lock fiber_lock = GOC__LOCK_INIT;
static void *fiber_free[FIBER_KEEP];
static int fiber_nfree;
#endif

void *goc__san_fiber_new(void)
{
#if defined(GOC__TSAN)
	void *f = NULL;
	goc__lock_acquire(&fiber_lock);
	if (fiber_nfree > 0)
		f = fiber_free[--fiber_nfree];
	goc__lock_release(&fiber_lock);
	return f ? f : __tsan_create_fiber(0);
#else
	return NULL;
#endif
}

void goc__san_fiber_free(void *fiber)
{
#if defined(GOC__TSAN)
	if (!fiber)
		return;
	goc__lock_acquire(&fiber_lock);
	if (fiber_nfree < FIBER_KEEP) {
		fiber_free[fiber_nfree++] = fiber;
		fiber = NULL;
	}
	goc__lock_release(&fiber_lock);
	if (fiber)
		__tsan_destroy_fiber(fiber);
#endif
	(void)fiber;
}

void goc__san_fibers_drain(void)
{
#if defined(GOC__TSAN)
	goc__lock_acquire(&fiber_lock);
	int n = fiber_nfree;
	fiber_nfree = 0;
	goc__lock_release(&fiber_lock);
	while (n > 0)
		__tsan_destroy_fiber(fiber_free[--n]);
#endif
}

/* Called first thing on a goroutine's stack each time it (re)starts. The
 * stack left behind is the M's own (learn its bounds), or, after a direct
 * hand-off (m->handoff set), the previous goroutine's. */
static inline void arrived_on_g(goc__m *m, goc__g *g)
{
#if defined(GOC__ASAN)
	if (m->handoff)
		__sanitizer_finish_switch_fiber(g->asan_fake_stack, NULL, NULL);
	else
		__sanitizer_finish_switch_fiber(g->asan_fake_stack, &m->asan_stack_bottom, &m->asan_stack_size);
#endif
	(void)m;
	(void)g;
}

/* g switched away and is back, possibly on another M (callers re-read
 * theirs): tell the sanitizers, then finish a hand-off to g. */
static inline void resumed(goc__g *g)
{
	goc__m *m = goc__getm();
	arrived_on_g(m, g);
	goc__resumed(m);
}

void goc__san_g_started(goc__m *m, goc__g *g)
{
	arrived_on_g(m, g);
}

void goc__switch_to_g(goc__m *m, goc__g *g)
{
#if defined(GOC__ASAN)
	void *fake = NULL;
	__sanitizer_start_switch_fiber(&fake, g->stack.lo, g->stack.size);
#endif
#if defined(GOC__TSAN)
	__tsan_switch_to_fiber(g->san_fiber, 0);
#endif
	goc__ctx_switch(&m->g0, &g->ctx);
#if defined(GOC__ASAN)
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
}

void goc__switch_to_g0(goc__m *m, goc__g *g)
{
#if defined(GOC__ASAN)
	__sanitizer_start_switch_fiber(&g->asan_fake_stack, m->asan_stack_bottom, m->asan_stack_size);
#endif
#if defined(GOC__TSAN)
	__tsan_switch_to_fiber(m->tsan_fiber, 0);
#endif
	goc__ctx_switch(&g->ctx, &m->g0);
	resumed(g);
}

void goc__switch_to_next(goc__m *m, goc__g *g, goc__g *next)
{
#if defined(GOC__ASAN)
	__sanitizer_start_switch_fiber(&g->asan_fake_stack, next->stack.lo, next->stack.size);
#endif
#if defined(GOC__TSAN)
	__tsan_switch_to_fiber(next->san_fiber, 0);
#endif
	goc__ctx_switch(&g->ctx, &next->ctx);
	resumed(g);
}

GOC__NO_TSAN void goc__switch_to_g0_exit(goc__m *m, goc__g *g)
{
#if defined(GOC__ASAN)
	__sanitizer_start_switch_fiber(NULL, m->asan_stack_bottom, m->asan_stack_size);
#endif
#if defined(GOC__TSAN)
	__tsan_switch_to_fiber(m->tsan_fiber, 0);
#endif
	goc__ctx_switch(&g->ctx, &m->g0);
	goc__panic("sched: a finished goroutine was resumed");
}
