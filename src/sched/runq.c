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
 * The global queue is one list in two parts, each FIFO: first the Gs that
 * have run before (they hold a stack), up to runq_resumed, then the ones
 * that never ran (they hold nothing yet). Refills take from the front, so
 * a goroutine woken while thousands of new ones wait (a loop of goc_go,
 * then sleeps: its stack is held until it runs, and each new one that
 * runs first takes a fresh stack) gets to finish first; the periodic
 * fairness check (every 61st schedule, find_runnable) takes a new one
 * first, so new goroutines always start. In simulation mode every G goes
 * to the end: the order is the seed's business.
 *
 * The list is a sequence of batches, as they were queued (an overflowing
 * ring's half, or one G): a batch's first G records its last and its
 * count (batch_tail, batch_n), so refills take whole batches without
 * reading the Gs in between. runq_resumed and runq_tail are batch tails;
 * the fairness take and simulation's picks cut a batch where they need.
 *
 * Simulation mode (sim.c) keeps every runnable G on the global queue: the
 * monitor thread moves Gs off a P it thinks hogged (sysmon.c), and an
 * empty ring leaves it nothing to move, so the order of runnable Gs - and
 * the seed's choice among them - depends on nothing but the program. */
#include "sched.h"
#include "sim.h"

#include <time.h>

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

/* The ring is full: take its older half plus g off it in one batch. Of
 * those, the Gs that have run (they hold a stack) go back on the ring, at
 * the tail, in the half just freed, and those that do not fit go to the
 * front part of the global queue; the ones that never ran go to its end.
 * Go moves the whole half to the end: then, when a burst of new goroutines
 * fills the ring (a loop of goc_go), goroutines woken meanwhile wait behind
 * every one of them, each keeping its stack, while each new one takes a
 * fresh stack (100,000 sleepers that needed ~3,000 stacks at a time took
 * 20,000). Go promises no order among runnable goroutines. */
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
	goc__g *head[2] = {NULL, NULL}, *tail[2] = {NULL, NULL}; /* [1]: have run */
	int32_t n[2] = {0, 0};
	uint32_t room = HALF;
	for (int i = 0; i <= HALF; i++) {
		goc__g *x = batch[i];
		int ran = x->stack.lo != NULL;
		if (ran && room > 0) {
			atomic_store_explicit(&p->runq[t % RUNQ_SIZE], x, memory_order_relaxed);
			t++;
			room--;
			continue;
		}
		if (tail[ran])
			tail[ran]->schedlink = x;
		else
			head[ran] = x;
		tail[ran] = x;
		n[ran]++;
	}
	atomic_store_explicit(&p->runq_tail, t, memory_order_release);
	goc__lock_acquire(&goc__s.lock);
	for (int ran = 0; ran < 2; ran++)
		if (n[ran])
			goc__globrunq_put_batch(head[ran], tail[ran], n[ran], ran);
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

#define RUNNEXT_GRACE_NS 3000 /* see the steal of runnext below */

/* Steal half of victim's ring into p's (p's ring is empty: we only steal
 * when idle). Returns one G to run now; the rest are queued on p. With
 * steal_next and an empty ring, its runnext G instead. */
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
			if (next && atomic_load_explicit(&victim->status, memory_order_relaxed) == P_RUNNING) {
				/* As Go's runqgrab: a running victim is usually
				 * about to run its runnext G itself (a G that a
				 * channel operation just readied, whose partner
				 * is about to block). Stealing it at once splits
				 * the pair across CPUs after every hand-off, and
				 * the thief's worker then sleeps and is woken for
				 * each one (buffered at P=2: 30,000-50,000 futex
				 * calls a run, 2.6x slower). So sleep a moment
				 * first (3 us asked; the kernel's timer slack
				 * makes it ~50), as a spinning M, which also keeps
				 * readiers from waking other Ms meanwhile, and
				 * take the G only if it is still there. A sleep,
				 * not a spin: re-reading the slot the victim
				 * writes at every hand-off slowed the victim
				 * (pingpong 1.2-1.3x). */
				struct timespec ts = {0, RUNNEXT_GRACE_NS};
				nanosleep(&ts, NULL);
			}
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
	goc__globrunq_put_batch(g, g, 1, g->stack.lo != NULL);
}

/* Link head..tail in after `after` (NULL: at the front). */
static void glob_link_after(goc__g *after, goc__g *head, goc__g *tail)
{
	if (after) {
		tail->schedlink = after->schedlink;
		after->schedlink = head;
	} else {
		tail->schedlink = goc__s.runq_head;
		goc__s.runq_head = head;
	}
	if (goc__s.runq_tail == after) /* after was the last (or the queue empty) */
		goc__s.runq_tail = tail;
}

void goc__globrunq_put_batch(goc__g *head, goc__g *tail, int32_t n, bool resumed)
{
	head->batch_tail = tail;
	head->batch_n = n;
	if (resumed && !goc__sim_active()) {
		glob_link_after(goc__s.runq_resumed, head, tail);
		goc__s.runq_resumed = tail;
	} else {
		glob_link_after(goc__s.runq_tail, head, tail);
	}
	atomic_fetch_add_explicit(&goc__s.runq_size, n, memory_order_relaxed);
}

/* Cut the batch headed by b after its first k Gs (0 < k < b->batch_n):
 * the rest becomes a batch of its own. Returns the first part's tail. */
static goc__g *batch_split(goc__g *b, int32_t k)
{
	goc__g *last = b;
	for (int32_t i = 1; i < k; i++)
		last = last->schedlink;
	goc__g *rest = last->schedlink;
	rest->batch_tail = b->batch_tail;
	rest->batch_n = b->batch_n - k;
	b->batch_tail = last;
	b->batch_n = k;
	return last;
}

goc__g *goc__globrunq_unlink(goc__g *prev, goc__g *g)
{
	if (g->batch_n > 1)
		batch_split(g, 1);
	if (prev)
		prev->schedlink = g->schedlink;
	else
		goc__s.runq_head = g->schedlink;
	if (goc__s.runq_tail == g)
		goc__s.runq_tail = prev;
	if (goc__s.runq_resumed == g)
		goc__s.runq_resumed = prev;
	g->schedlink = NULL;
	atomic_fetch_sub_explicit(&goc__s.runq_size, 1, memory_order_relaxed);
	return g;
}

goc__g *goc__globrunq_take_at(int64_t i)
{
	goc__g *prev = NULL, *b = goc__s.runq_head;
	while (i >= b->batch_n) {
		i -= b->batch_n;
		prev = b->batch_tail;
		b = prev->schedlink;
	}
	if (i > 0) {
		prev = batch_split(b, (int32_t)i);
		b = prev->schedlink;
	}
	return goc__globrunq_unlink(prev, b);
}

goc__g *goc__globrunq_get_fair(void)
{
	if (!goc__s.runq_head)
		return NULL;
	goc__g *prev = goc__s.runq_resumed;
	if (!prev || !prev->schedlink) /* no new one: the front */
		prev = NULL;
	return goc__globrunq_unlink(prev, prev ? prev->schedlink : goc__s.runq_head);
}

void goc__globrunq_put(goc__g *g)
{
	goc__lock_acquire(&goc__s.lock);
	goc__globrunq_put_locked(g);
	goc__lock_release(&goc__s.lock);
}

/* Take a fair share of the global queue, front first, for p: whole
 * batches up to the share (the first one cut if it alone is more). Only
 * the batch
 * heads and tails are read here: the Gs in between were last written on
 * the CPU that queued them (a miss each), so walking them under sched.lock
 * kept that CPU waiting for the lock (spawn at P=2: up to 128 misses per
 * take; the spawner slept on the futex). The caller hands the chain to
 * goc__runq_put_chain after unlocking. Returns the chain, linked by
 * schedlink, or NULL. sched.lock held. */
goc__g *goc__globrunq_get(goc__p *p)
{
	int64_t size = atomic_load_explicit(&goc__s.runq_size, memory_order_relaxed);
	if (size == 0)
		return NULL;
	int64_t n = size / goc__s.nprocs + 1;
	if (n > size)
		n = size;
	uint32_t used = atomic_load_explicit(&p->runq_tail, memory_order_relaxed) -
	                atomic_load_explicit(&p->runq_head, memory_order_relaxed);
	if (n > (int64_t)(RUNQ_SIZE - used) / 2 + 1) /* never overflow p's ring here: */
		n = (RUNQ_SIZE - used) / 2 + 1;      /* that would retake sched.lock */
	goc__g *first = goc__s.runq_head, *last = NULL;
	int64_t taken = 0;
	for (goc__g *b; (b = goc__s.runq_head) && taken + b->batch_n <= n;) {
		taken += b->batch_n;
		last = b->batch_tail;
		goc__s.runq_head = last->schedlink;
		if (goc__s.runq_resumed == last)
			goc__s.runq_resumed = NULL;
	}
	if (taken == 0) { /* the first batch alone is more than the share: cut it */
		last = batch_split(first, (int32_t)n);
		taken = n;
		goc__s.runq_head = last->schedlink;
	}
	if (!goc__s.runq_head)
		goc__s.runq_tail = NULL;
	last->schedlink = NULL;
	atomic_fetch_sub_explicit(&goc__s.runq_size, taken, memory_order_relaxed);
	return first;
}

/* After goc__globrunq_get, sched.lock dropped: the chain's first G is
 * returned to run now, the rest go on p's ring (the room was checked under
 * the lock; only p adds to it). */
goc__g *goc__runq_put_chain(goc__p *p, goc__g *g)
{
	if (!g)
		return NULL;
	for (goc__g *x = g->schedlink, *next; x; x = next) {
		next = x->schedlink;
		x->schedlink = NULL;
		goc__runq_put(p, x, false);
	}
	g->schedlink = NULL;
	return g;
}
