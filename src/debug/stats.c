/* stats.c - goc_stats: the scheduler's counters, summed over the Ps.
 *
 * Per-P counters are written by their owner only (plain or relaxed) and
 * read here racily; the sums are exact once the runtime is quiet and a few
 * events behind otherwise. allp never moves while the runtime lives (it has
 * room for GOC__MAXPROCS), and Ps are never freed before the runtime stops,
 * so reading allp[0..maxprocs) needs no lock. The global counters of
 * goc__s (nparks, nsteals, nswitches) are not kept up to date by sched:
 * only the per-P ones are summed. */
#include "debug.h"

#include <string.h>

/* Plain per-P words written by their owner without atomics. */
GOC__NO_TSAN static void read_p_counters(const goc__p *p, uint64_t *nswitch, uint64_t *nsteal)
{
	*nswitch = p->nswitch;
	*nsteal = p->nsteal;
}

static int32_t runq_length(goc__p *p)
{
	uint32_t h = atomic_load_explicit(&p->runq_head, memory_order_acquire);
	uint32_t t = atomic_load_explicit(&p->runq_tail, memory_order_acquire);
	int32_t n = (int32_t)(t - h);
	if (n < 0 || n > RUNQ_SIZE)
		n = 0; /* torn read (head moved after we read tail) */
	if (atomic_load_explicit(&p->runnext, memory_order_relaxed))
		n++;
	return n;
}

int goc_stats(goc_stats_t *out)
{
	if (!out)
		return GOC_EINVAL;
	memset(out, 0, sizeof *out);
	if (!atomic_load_explicit(&goc__s.started, memory_order_acquire))
		return 0;
	int32_t maxp = atomic_load(&goc__s.maxprocs);
	int32_t nprocs = atomic_load(&goc__s.nprocs);
	int64_t created = atomic_load_explicit(&goc__s.ngcreated, memory_order_relaxed);
	for (int32_t i = 0; i < maxp; i++) {
		goc__p *p = goc__s.allp[i];
		uint64_t sw, st;
		read_p_counters(p, &sw, &st);
		out->switches += sw;
		out->steals += st;
		created += atomic_load_explicit(&p->ncreated, memory_order_relaxed);
		out->parks += (uint64_t)atomic_load_explicit(&p->nparks, memory_order_relaxed);
		if (i < nprocs && i < GOC_STATS_MAX_PROCS)
			out->runq[i] = runq_length(p);
	}
	out->created = created;
	out->goroutines = goc__goroutines_alive();
	out->timers = goc__timers_armed();
	out->procs = nprocs;
	out->idle_procs = atomic_load(&goc__s.npidle);
	goc__lock_acquire(&goc__s.lock);
	out->threads = goc__s.nm;
	goc__lock_release(&goc__s.lock);
	out->blocking = atomic_load(&goc__s.nmblocking);
	out->global_runq = atomic_load(&goc__s.runq_size);
	out->nrunq = nprocs < GOC_STATS_MAX_PROCS ? nprocs : GOC_STATS_MAX_PROCS;
	return 0;
}
