/* runq.c - run queues: each P's bounded lock-free ring plus `runnext`, and
 * the global queue under sched.lock (the same design as Go's proc.go).
 *
 * Local ring invariants: only the owning P's M writes runq_tail (store
 * release, after writing the slot); anyone may advance runq_head by CAS
 * (acquire-release: a thief's CAS commits its reads of the slots). So the
 * owner's push never races with itself, and a slot between head and tail is
 * never overwritten until head has moved past it.
 * runnext holds the G readied last by this P (e.g. the receiver a send just
 * woke): running it next keeps a communicating pair on one P with hot
 * caches, and it inherits the time slice, as in Go. Thieves take runnext
 * only as a last resort.
 *
 * Simulation mode (sim.c) keeps every runnable G on the global queue: the
 * monitor thread moves Gs off a P it thinks hogged (sysmon.c), and an
 * empty ring leaves it nothing to move, so the order of runnable Gs - and
 * the seed's choice among them - depends on nothing but the program. */
#include "sched.h"
#include "sim.h"

static bool runq_put_slow(goc__p *p, goc__g *g, uint32_t h, uint32_t t);

/* Put g on p's queue: into runnext when next (kicking the old runnext to
 * the tail), else at the tail; overflow moves half the ring to the global
 * queue. Owner only. */
bool goc__runq_put(goc__p *p, goc__g *g, bool next)
{
	if (GOC__UNLIKELY(goc__sim_active())) {
		goc__globrunq_put(g); /* never with sched.lock held in this mode */
		return true;
	}
	if (next) {
		goc__g *old = atomic_exchange_explicit(&p->runnext, g, memory_order_acq_rel);
		if (!old)
			return true;
		g = old;
	}
	for (;;) {
		uint32_t h = atomic_load_explicit(&p->runq_head, memory_order_acquire);
		uint32_t t = atomic_load_explicit(&p->runq_tail, memory_order_relaxed);
		if (t - h < RUNQ_SIZE) {
			atomic_store_explicit(&p->runq[t % RUNQ_SIZE], g, memory_order_relaxed);
			atomic_store_explicit(&p->runq_tail, t + 1, memory_order_release);
			return true;
		}
		if (runq_put_slow(p, g, h, t))
			return true;
	}
}

/* Move half of the full ring plus g to the global queue in one batch. */
static bool runq_put_slow(goc__p *p, goc__g *g, uint32_t h, uint32_t t)
{
	enum { HALF = RUNQ_SIZE / 2 };
	goc__g *batch[HALF + 1];
	for (uint32_t i = 0; i < HALF; i++)
		batch[i] = atomic_load_explicit(&p->runq[(h + i) % RUNQ_SIZE], memory_order_relaxed);
	if (!atomic_compare_exchange_strong_explicit(&p->runq_head, &h, h + HALF, memory_order_acq_rel,
	                                             memory_order_relaxed))
		return false; /* a thief took some: there is room now */
	batch[HALF] = g;
	for (int i = 0; i < HALF; i++)
		batch[i]->schedlink = batch[i + 1];
	goc__lock_acquire(&goc__s.lock);
	goc__globrunq_put_batch(batch[0], batch[HALF], HALF + 1);
	goc__lock_release(&goc__s.lock);
	return true;
}

/* Take runnext, or the head of the ring. The owner calls these; so may a
 * non-owner (sysmon draining a hogged P): the acquire loads of runnext and
 * the tail pair with goc__runq_put's releases, so the taker sees the fields
 * the owner wrote into the G (free on x86-64). */
goc__g *goc__runq_get_next(goc__p *p)
{
	goc__g *next = atomic_load_explicit(&p->runnext, memory_order_acquire);
	if (next && atomic_compare_exchange_strong_explicit(&p->runnext, &next, NULL,
	                                                    memory_order_acq_rel, memory_order_relaxed))
		return next;
	return NULL;
}

goc__g *goc__runq_get_ring(goc__p *p)
{
	for (;;) {
		uint32_t h = atomic_load_explicit(&p->runq_head, memory_order_acquire);
		uint32_t t = atomic_load_explicit(&p->runq_tail, memory_order_acquire);
		if (t == h)
			return NULL;
		goc__g *g = atomic_load_explicit(&p->runq[h % RUNQ_SIZE], memory_order_relaxed);
		if (atomic_compare_exchange_strong_explicit(&p->runq_head, &h, h + 1, memory_order_acq_rel,
		                                            memory_order_relaxed))
			return g;
	}
}

/* The next G: runnext first, then the head of the ring. */
goc__g *goc__runq_get(goc__p *p)
{
	goc__g *g = goc__runq_get_next(p);
	return g ? g : goc__runq_get_ring(p);
}

bool goc__runq_empty(goc__p *p)
{
	uint32_t h = atomic_load_explicit(&p->runq_head, memory_order_acquire);
	uint32_t t = atomic_load_explicit(&p->runq_tail, memory_order_acquire);
	return h == t && atomic_load_explicit(&p->runnext, memory_order_acquire) == NULL;
}

/* Steal half of victim's ring into p's (p's ring is empty: we only steal
 * when idle). Returns one G to run now; the rest are queued on p. */
goc__g *goc__runq_steal(goc__p *p, goc__p *victim, bool steal_next)
{
	for (;;) {
		uint32_t h = atomic_load_explicit(&victim->runq_head, memory_order_acquire);
		uint32_t t = atomic_load_explicit(&victim->runq_tail, memory_order_acquire);
		uint32_t n = t - h;
		n = n - n / 2;
		if (n == 0) {
			if (!steal_next)
				return NULL;
			goc__g *next = atomic_load_explicit(&victim->runnext, memory_order_acquire);
			if (next && atomic_compare_exchange_strong_explicit(&victim->runnext, &next, NULL,
			                                                    memory_order_acq_rel,
			                                                    memory_order_relaxed))
				return next;
			return NULL;
		}
		if (n > RUNQ_SIZE / 2) /* read an inconsistent head/tail pair: retry */
			continue;
		uint32_t pt = atomic_load_explicit(&p->runq_tail, memory_order_relaxed);
		for (uint32_t i = 0; i < n; i++) {
			goc__g *g = atomic_load_explicit(&victim->runq[(h + i) % RUNQ_SIZE], memory_order_relaxed);
			atomic_store_explicit(&p->runq[(pt + i) % RUNQ_SIZE], g, memory_order_relaxed);
		}
		if (!atomic_compare_exchange_strong_explicit(&victim->runq_head, &h, h + n,
		                                             memory_order_acq_rel, memory_order_relaxed))
			continue;
		/* The stolen Gs now sit in p's slots [pt, pt+n); run the last. */
		n--;
		goc__g *g = atomic_load_explicit(&p->runq[(pt + n) % RUNQ_SIZE], memory_order_relaxed);
		if (n)
			atomic_store_explicit(&p->runq_tail, pt + n, memory_order_release);
		return g;
	}
}

void goc__globrunq_put_locked(goc__g *g)
{
	g->schedlink = NULL;
	goc__globrunq_put_batch(g, g, 1);
}

void goc__globrunq_put_batch(goc__g *head, goc__g *tail, int32_t n)
{
	tail->schedlink = NULL;
	if (goc__s.runq_tail)
		goc__s.runq_tail->schedlink = head;
	else
		goc__s.runq_head = head;
	goc__s.runq_tail = tail;
	atomic_fetch_add_explicit(&goc__s.runq_size, n, memory_order_relaxed);
}

void goc__globrunq_put(goc__g *g)
{
	goc__lock_acquire(&goc__s.lock);
	goc__globrunq_put_locked(g);
	goc__lock_release(&goc__s.lock);
}

/* Take a share of the global queue (max 0: a fair share) for p: one G is
 * returned, the rest go on p's ring. sched.lock held. */
goc__g *goc__globrunq_get(goc__p *p, int32_t max)
{
	int64_t size = atomic_load_explicit(&goc__s.runq_size, memory_order_relaxed);
	if (size == 0)
		return NULL;
	int64_t n = size / goc__s.nprocs + 1;
	if (n > size)
		n = size;
	if (max > 0 && n > max)
		n = max;
	uint32_t used = atomic_load_explicit(&p->runq_tail, memory_order_relaxed) -
	                atomic_load_explicit(&p->runq_head, memory_order_relaxed);
	if (n > (int64_t)(RUNQ_SIZE - used) / 2 + 1) /* never overflow p's ring here: */
		n = (RUNQ_SIZE - used) / 2 + 1;      /* that would retake sched.lock */
	atomic_fetch_sub_explicit(&goc__s.runq_size, n, memory_order_relaxed);
	goc__g *g = goc__s.runq_head;
	goc__s.runq_head = g->schedlink;
	while (--n > 0) {
		goc__g *g1 = goc__s.runq_head;
		goc__s.runq_head = g1->schedlink;
		goc__runq_put(p, g1, false);
	}
	if (!goc__s.runq_head)
		goc__s.runq_tail = NULL;
	return g;
}
