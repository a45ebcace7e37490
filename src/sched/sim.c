/* sim.c - simulation mode: seeded schedules and virtual time
 * (include/goc/testing.h, docs/testing.md).
 *
 * In simulation mode the runtime has one P, so one M at a time runs
 * goroutines, and every choice the scheduler has is drawn from one PRNG
 * (wyrand) seeded by the configuration:
 *   - which runnable goroutine runs next (goc__sim_pick, at every park,
 *     yield and exit): uniformly among all runnable ones, or by PCT
 *     priorities (Burckhardt et al., "A randomized scheduler with
 *     probabilistic guarantees of finding bugs", ASPLOS 2010): each
 *     goroutine gets a random priority when created, the highest runnable
 *     one runs, and at d - 1 random steps the goroutine that just ran drops
 *     below every initial priority;
 *   - which ready case a select takes (rand.c asks goc__sim_rand);
 *   - whether a yield point (a blocking select, send or receive;
 *     goc_sim_point) switches goroutines.
 * Nothing else varies between runs: goroutine ids, timer order (the heap is
 * deterministic for a given sequence of operations) and run queue order
 * follow from the choices. So one seed is one interleaving.
 *
 * Virtual time: the clock (goc__sim_clock) starts at GOC__SIM_EPOCH and
 * stands still while any goroutine can run; when none can, the worker moves
 * it to the earliest timer and fires every timer due (goc__sim_fire_due).
 * With no timer either, the worker goes idle as usual and the deadlock
 * check reports "all goroutines are asleep". The epoch is far beyond any
 * monotonic clock reading, so code that compares a virtual deadline with
 * the real clock (goc__nanotime) always finds it in the future. src/chan,
 * src/sync, src/ctx, src/time and thread.c compare deadlines with
 * goc__clock_now instead; src/net (I/O, which no seed controls) reads the
 * real clock, so it parks with a deadline timer, which then fires in
 * virtual time. And the monitor thread, which fires timers late by the
 * real clock, never touches a virtual one.
 *
 * Data: everything below is written by the one worker holding the P (the
 * scheduler loop, or a goroutine it runs), or at runtime start before any
 * worker exists. The PCT priority table is also written by spawns from
 * other threads (the main goroutine is spawned by goc_main's thread), so it
 * has its own lock. */
#include "sim.h"
#include "sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 10^18 ns (~31.7 years): beyond any CLOCK_MONOTONIC reading (uptime). */
#define GOC__SIM_EPOCH INT64_C(1000000000000000000)
#define SIM_DEFAULT_YIELD 250
#define SIM_DEFAULT_PCT_STEPS 1000
#define SIM_MAX_PCT_DEPTH 64

_Atomic bool goc__sim_on;
_Atomic bool goc__sim_vtime;
_Atomic int64_t goc__sim_clock;

static struct {
	goc_sim_config cfg;
	uint64_t rand;             /* wyrand state */
	bool saw_main;             /* goc_main's goroutine was running */
	/* PCT */
	uint64_t step;             /* picks so far */
	uint64_t drops[SIM_MAX_PCT_DEPTH]; /* sorted steps at which priorities drop */
	int ndrops, nextdrop;
	goc__g *last;              /* the goroutine picked last */
} sim;

/* Set by goc_sim_main for the next runtime start (start lock order: the
 * caller is the only thread starting a runtime). */
static bool pending;
static goc_sim_config pending_cfg;

/* ---- PRNG ---------------------------------------------------------------- */

static uint64_t wyrand(uint64_t *s)
{
	*s += 0xa0761d6478bd642full;
	__uint128_t t = (__uint128_t)*s * (*s ^ 0xe7037ed1a0b428dbull);
	return (uint64_t)(t >> 64) ^ (uint64_t)t;
}

static uint32_t sim_below(uint32_t n)
{
	return (uint32_t)(((wyrand(&sim.rand) & 0xffffffffu) * (uint64_t)n) >> 32);
}

bool goc__sim_on_worker(void)
{
	goc__m *m = goc__getm();
	return m && m->p;
}

uint32_t goc__sim_rand(uint32_t n)
{
	return sim_below(n);
}

/* ---- PCT priorities -------------------------------------------------------
 * An open-addressing table G -> priority (sched's G struct has no room for
 * it and G structs are recycled: a spawn overwrites the entry). */

typedef struct prio_ent {
	goc__g *g;
	uint64_t prio;
} prio_ent;

static goc__lock prio_lock = GOC__LOCK_INIT;
static prio_ent *prio_tab;
static size_t prio_cap, prio_len;

static size_t prio_hash(const goc__g *g, size_t cap)
{
	return (size_t)(((uintptr_t)g >> 4) * 0x9e3779b97f4a7c15ull) & (cap - 1);
}

/* prio_lock held. Returns the slot of g (inserting it), NULL if out of
 * memory (the goroutine then has priority 0). */
static prio_ent *prio_slot(goc__g *g)
{
	if (2 * (prio_len + 1) > prio_cap) {
		size_t cap = prio_cap ? 2 * prio_cap : 256;
		prio_ent *t = calloc(cap, sizeof *t);
		if (!t)
			return NULL;
		for (size_t i = 0; i < prio_cap; i++) {
			if (!prio_tab[i].g)
				continue;
			size_t k = prio_hash(prio_tab[i].g, cap);
			while (t[k].g)
				k = (k + 1) & (cap - 1);
			t[k] = prio_tab[i];
		}
		free(prio_tab);
		prio_tab = t;
		prio_cap = cap;
	}
	size_t k = prio_hash(g, prio_cap);
	while (prio_tab[k].g && prio_tab[k].g != g)
		k = (k + 1) & (prio_cap - 1);
	if (!prio_tab[k].g) {
		prio_tab[k].g = g;
		prio_tab[k].prio = 0;
		prio_len++;
	}
	return &prio_tab[k];
}

static uint64_t prio_of(goc__g *g)
{
	goc__lock_acquire(&prio_lock);
	prio_ent *e = prio_slot(g);
	uint64_t p = e ? e->prio : 0;
	goc__lock_release(&prio_lock);
	return p;
}

static void prio_set(goc__g *g, uint64_t p)
{
	goc__lock_acquire(&prio_lock);
	prio_ent *e = prio_slot(g);
	if (e)
		e->prio = p;
	goc__lock_release(&prio_lock);
}

void goc__sim_spawned(goc__g *g)
{
	if (sim.cfg.pct_depth <= 0)
		return;
	/* Initial priorities lie above every drop value (1..depth-1). The
	 * draw happens under prio_lock: spawns may come from another thread. */
	goc__lock_acquire(&prio_lock);
	uint64_t p = (wyrand(&sim.rand) >> 8) + SIM_MAX_PCT_DEPTH;
	prio_ent *e = prio_slot(g);
	if (e)
		e->prio = p;
	goc__lock_release(&prio_lock);
}

/* ---- configuration -------------------------------------------------------- */

static bool env_num(const char *name, long long lo, long long hi, long long *out)
{
	const char *e = getenv(name);
	if (!e || !*e)
		return false;
	char *end;
	unsigned long long v = strtoull(e, &end, 0);
	if (*end || (long long)v < lo || (long long)v > hi) {
		fprintf(stderr, "goc: ignoring %s=%s (want %lld..%lld)\n", name, e, lo, hi);
		return false;
	}
	*out = (long long)v;
	return true;
}

static bool config_from_env(goc_sim_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	bool on = false;
	const char *e = getenv("GOC_SCHED_SEED");
	if (e && *e) {
		char *end;
		cfg->seed = strtoull(e, &end, 0);
		if (*end)
			fprintf(stderr, "goc: ignoring GOC_SCHED_SEED=%s (want a number)\n", e);
		else
			on = true;
	}
	long long v;
	if (env_num("GOC_VIRTUAL_TIME", 0, 1, &v)) {
		cfg->real_time = v == 0;
		if (v == 1 && !on) {
			cfg->seed = 1;
			on = true;
		}
	}
	if (env_num("GOC_SCHED_PCT", 0, SIM_MAX_PCT_DEPTH, &v))
		cfg->pct_depth = (int)v;
	if (env_num("GOC_SCHED_YIELD", -1, 1000, &v))
		cfg->yield_permille = v == 0 ? -1 : (int)v;
	return on;
}

bool goc__sim_start(void)
{
	goc_sim_config cfg;
	bool on;
	if (pending) {
		cfg = pending_cfg;
		on = true;
	} else {
		on = config_from_env(&cfg);
	}
	atomic_store(&goc__sim_on, on);
	atomic_store(&goc__sim_vtime, on && !cfg.real_time);
	atomic_store(&goc__sim_clock, GOC__SIM_EPOCH);
	memset(&sim, 0, sizeof sim);
	goc__lock_acquire(&prio_lock);
	free(prio_tab);
	prio_tab = NULL;
	prio_cap = prio_len = 0;
	goc__lock_release(&prio_lock);
	if (!on)
		return false;
	if (cfg.yield_permille == 0)
		cfg.yield_permille = SIM_DEFAULT_YIELD;
	if (cfg.yield_permille > 1000)
		cfg.yield_permille = 1000;
	if (cfg.pct_depth > SIM_MAX_PCT_DEPTH)
		cfg.pct_depth = SIM_MAX_PCT_DEPTH;
	if (cfg.pct_steps <= 0)
		cfg.pct_steps = SIM_DEFAULT_PCT_STEPS;
	sim.cfg = cfg;
	/* Mix the seed once so that neighbouring seeds start far apart. */
	sim.rand = cfg.seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
	wyrand(&sim.rand);
	if (cfg.pct_depth > 1) {
		sim.ndrops = cfg.pct_depth - 1;
		for (int i = 0; i < sim.ndrops; i++)
			sim.drops[i] = 1 + wyrand(&sim.rand) % (uint64_t)cfg.pct_steps;
		for (int i = 1; i < sim.ndrops; i++) /* insertion sort, d <= 64 */
			for (int j = i; j > 0 && sim.drops[j - 1] > sim.drops[j]; j--) {
				uint64_t t = sim.drops[j];
				sim.drops[j] = sim.drops[j - 1];
				sim.drops[j - 1] = t;
			}
	}
	return true;
}

/* ---- choosing the next goroutine ------------------------------------------
 * In this mode goc__runq_put sends every runnable G to the global queue
 * (runq.c), in the order the program made them runnable; the candidates
 * are that queue's entries. p's ring and runnext stay empty (they are
 * still read, first, for robustness: one P and no stealing, so only the
 * owner takes from them). */

static uint32_t ring_len(goc__p *p)
{
	return atomic_load_explicit(&p->runq_tail, memory_order_relaxed) -
	       atomic_load_explicit(&p->runq_head, memory_order_relaxed);
}

static goc__g *ring_at(goc__p *p, uint32_t i)
{
	uint32_t h = atomic_load_explicit(&p->runq_head, memory_order_relaxed);
	return atomic_load_explicit(&p->runq[(h + i) % RUNQ_SIZE], memory_order_relaxed);
}

/* Remove the ring's i-th entry: swap it to the head, then pop. */
static goc__g *ring_take(goc__p *p, uint32_t i)
{
	uint32_t h = atomic_load_explicit(&p->runq_head, memory_order_relaxed);
	goc__g *g = atomic_load_explicit(&p->runq[(h + i) % RUNQ_SIZE], memory_order_relaxed);
	if (i) {
		goc__g *first = atomic_load_explicit(&p->runq[h % RUNQ_SIZE], memory_order_relaxed);
		atomic_store_explicit(&p->runq[(h + i) % RUNQ_SIZE], first, memory_order_relaxed);
	}
	atomic_store_explicit(&p->runq_head, h + 1, memory_order_release);
	return g;
}

/* PCT: the candidate with the highest priority (the first on ties). */
static int64_t pct_best(goc__p *p, uint32_t nring)
{
	int64_t best = -1;
	uint64_t bestp = 0;
	for (uint32_t i = 0; i < nring; i++) {
		uint64_t pr = prio_of(ring_at(p, i));
		if (best < 0 || pr > bestp) {
			best = i;
			bestp = pr;
		}
	}
	goc__lock_acquire(&goc__s.lock);
	int64_t i = nring;
	for (goc__g *g = goc__s.runq_head; g; g = g->schedlink, i++) {
		uint64_t pr = prio_of(g);
		if (best < 0 || pr > bestp) {
			best = i;
			bestp = pr;
		}
	}
	goc__lock_release(&goc__s.lock);
	return best;
}

goc__g *goc__sim_pick(goc__p *p)
{
	if (goc__under_main())
		sim.saw_main = true;
	/* Timers due on the current clock fire before choosing: a deadline
	 * that has come must not wait for every goroutine to block. */
	goc__sim_fire_due(p, false);
	goc__g *next = atomic_exchange_explicit(&p->runnext, NULL, memory_order_relaxed);
	if (next)
		goc__runq_put(p, next, false);
	uint32_t nring = ring_len(p);
	int64_t nglob = atomic_load_explicit(&goc__s.runq_size, memory_order_relaxed);
	int64_t total = (int64_t)nring + nglob;
	if (total == 0)
		return NULL;
	sim.step++;
	int64_t k;
	if (sim.cfg.pct_depth > 0) {
		/* A drop point: the goroutine that ran last goes below all. */
		while (sim.nextdrop < sim.ndrops && sim.drops[sim.nextdrop] <= sim.step) {
			if (sim.last)
				prio_set(sim.last, (uint64_t)(sim.ndrops - sim.nextdrop));
			sim.nextdrop++;
		}
		k = pct_best(p, nring);
	} else {
		k = total > UINT32_MAX ? (int64_t)(wyrand(&sim.rand) % (uint64_t)total)
		                       : (int64_t)sim_below((uint32_t)total);
	}
	goc__g *g;
	if (k < nring) {
		g = ring_take(p, (uint32_t)k);
	} else {
		goc__lock_acquire(&goc__s.lock);
		g = goc__globrunq_take_at(k - nring); /* sched.lock held */
		goc__lock_release(&goc__s.lock);
	}
	sim.last = g;
	return g;
}

bool goc__sim_fire_due(goc__p *p, bool advance)
{
	if (!atomic_load_explicit(&goc__sim_vtime, memory_order_relaxed)) {
		int fired = 0;
		for (int32_t i = 0; i < goc__s.maxprocs; i++)
			fired += goc__timers_run(&goc__s.allp[i]->timers, goc__nanotime());
		return fired > 0;
	}
	(void)p;
	int64_t now = atomic_load_explicit(&goc__sim_clock, memory_order_relaxed);
	if (advance) {
		int64_t next = goc__timers_next();
		if (next == INT64_MAX)
			return false;
		if (next > now) {
			now = next;
			atomic_store_explicit(&goc__sim_clock, now, memory_order_relaxed);
		}
	}
	int fired = 0;
	for (int32_t i = 0; i < goc__s.maxprocs; i++)
		fired += goc__timers_run(&goc__s.allp[i]->timers, now);
	return fired > 0;
}

bool goc__sim_halted(void)
{
	return sim.saw_main && !goc__under_main();
}

/* ---- yield points ----------------------------------------------------------- */

void goc__sim_point(void)
{
	goc__m *m = goc__getm();
	if (!m || !m->curg || !m->p || m->curg->in_blocking)
		return;
	if (sim.cfg.pct_depth > 0) {
		/* PCT decides at the pick: the yielder runs on unless a
		 * runnable goroutine has a higher priority. */
		goc_yield();
		return;
	}
	if (sim.cfg.yield_permille > 0 && sim_below(1000) < (uint32_t)sim.cfg.yield_permille)
		goc_yield();
}

/* ---- public ------------------------------------------------------------------ */

int goc_sim_main(const goc_sim_config *cfg, int (*fn)(int argc, char **argv), int argc, char **argv)
{
	if (!fn)
		return GOC_EINVAL;
	if (atomic_load(&goc__s.started))
		return GOC_EBUSY;
	goc_sim_config zero = {0};
	pending_cfg = cfg ? *cfg : zero;
	pending = true;
	int rc = goc_main(fn, argc, argv);
	pending = false;
	if (!atomic_load(&goc__s.started)) {
		/* The run is over: the clock is real again until the next start. */
		atomic_store(&goc__sim_vtime, false);
		atomic_store(&goc__sim_on, false);
	}
	return rc;
}

bool goc_sim_enabled(void)
{
	return goc__sim_active() && atomic_load(&goc__s.started);
}

uint64_t goc_sim_seed(void)
{
	return goc_sim_enabled() ? sim.cfg.seed : 0;
}

void goc_sim_point(void)
{
	if (GOC__UNLIKELY(goc__sim_active()))
		goc__sim_point();
}
