/* sim.h - seeded schedules and virtual time (src/sched/sim.c), for the
 * modules that make a scheduling choice or read the clock: proc.c (which
 * goroutine runs next), runq.c (runnable Gs on the global queue),
 * runtime.c (one worker, deadlock check), select.c and rand.c (which ready
 * case runs, yield points), chan.c (the yield point of a blocking send or
 * receive), src/time (the clock), and the modules whose deadlines are on
 * goc_now's clock (goc__clock_now): src/chan, src/sync, src/ctx, thread.c
 * (a foreign thread's deadline). Public side: include/goc/testing.h.
 *
 * The normal path pays one predictable branch on goc__sim_on per decision
 * (relaxed load of a flag written only while no worker runs: at runtime
 * start, before any M exists).
 */
#ifndef GOC_SCHED_SIM_H
#define GOC_SCHED_SIM_H

#include "../internal.h"

/* Simulation mode is on: one worker, every choice drawn from the seeded
 * PRNG. Written at runtime start only. */
extern _Atomic bool goc__sim_on;
/* The clock is virtual (implies goc__sim_on). */
extern _Atomic bool goc__sim_vtime;
/* The virtual clock, ns. Written by the one worker (and at start). */
extern _Atomic int64_t goc__sim_clock;

static inline bool goc__sim_active(void)
{
	return atomic_load_explicit(&goc__sim_on, memory_order_relaxed);
}

/* The clock every deadline in goc is measured on: virtual or monotonic. */
static inline int64_t goc__clock_now(void)
{
	if (GOC__UNLIKELY(atomic_load_explicit(&goc__sim_vtime, memory_order_relaxed)))
		return atomic_load_explicit(&goc__sim_clock, memory_order_relaxed);
	return goc__nanotime();
}

/* Runtime start (start lock held, no worker yet): take the pending
 * goc_sim_main configuration or the GOC_SCHED_* environment. true: the
 * runtime must run one worker in simulation mode. */
bool goc__sim_start(void);

/* Uniform in [0, n), n > 0, from the seeded PRNG. Only from the worker
 * holding the P (goc__sim_on_worker): the PRNG has no lock, and draws
 * from other threads would not be reproducible anyway. */
uint32_t goc__sim_rand(uint32_t n);
/* The caller is a worker holding the P. */
bool goc__sim_on_worker(void);

/* A yield point: may switch to another runnable goroutine (a seeded coin
 * flip, or PCT's priorities). Only call where the caller may park: no
 * runtime lock held. No-op outside a goroutine. */
void goc__sim_point(void);

/* ---- for proc.c (sched.h types) ----------------------------------------- */
struct goc__p;
/* Take the next goroutine to run from p's queues and the global queue, as
 * the seed decides; NULL if none is runnable. */
goc__g *goc__sim_pick(struct goc__p *p);
/* Nothing is runnable: fire what timers can fire (virtual time: move the
 * clock to the earliest timer first). true if any fired. */
bool goc__sim_fire_due(struct goc__p *p, bool advance);
/* The main goroutine returned: run nothing more (as Go exits at once). */
bool goc__sim_halted(void);
/* A goroutine was created (PCT gives it a random priority). */
void goc__sim_spawned(goc__g *g);

#endif
