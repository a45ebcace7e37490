/* semtab.c - the table of wait queues every sync primitive parks on
 * (semtab.h has the protocol). Owns: the buckets, the per-key queues, the
 * park helper, and the spin policy.
 *
 * Structure: SEMTAB_SIZE buckets, each with its own lock, cache-line sized so
 * that unrelated objects do not share a lock's line. A bucket's `heads` list
 * links the first waiter of each key (knext); that waiter also holds the
 * key's tail. Objects hash to buckets by address; collisions only cost a walk
 * of the (short) heads list, never of another object's waiters.
 *
 * Invariants (bucket lock held): a waiter is on exactly one key queue iff
 * w->queued; a key has a head iff it has waiters; head->prev == NULL and
 * head->tail is the last waiter; only heads' knext/tail are meaningful.
 */
#include "semtab.h"
#include "../arch/arch.h"

#define SEMTAB_SIZE 256   /* a power of two: the hash takes the top bits */

static goc__semroot semtab[SEMTAB_SIZE];

goc__semroot *goc__semroot_of(const void *addr)
{
	/* Fibonacci hashing: objects a few words apart land far apart. */
	uint64_t h = ((uint64_t)(uintptr_t)addr >> 3) * 0x9e3779b97f4a7c15ull;
	return &semtab[h >> 56];
}

/* The head of key's queue and the link that points at it. */
static goc__semw **head_link(goc__semroot *r, const void *key)
{
	goc__semw **pp = &r->heads;
	while (*pp && (*pp)->key != key)
		pp = &(*pp)->knext;
	return pp;
}

void goc__semq_push(goc__semroot *r, const void *key, goc__semw *w, bool lifo)
{
	goc__semw **pp = head_link(r, key);
	goc__semw *h = *pp;
	w->key = key;
	w->g = goc__current();
	w->queued = true;
	if (!h) {
		w->next = w->prev = NULL;
		w->tail = w;
		w->knext = r->heads;
		r->heads = w;
	} else if (lifo) {
		/* w becomes the head: it takes over the head's bucket link. */
		w->prev = NULL;
		w->next = h;
		w->tail = h->tail;
		w->knext = h->knext;
		h->prev = w;
		*pp = w;
	} else {
		w->next = NULL;
		w->prev = h->tail;
		h->tail->next = w;
		h->tail = w;
	}
}

goc__semw *goc__semq_first(goc__semroot *r, const void *key)
{
	return *head_link(r, key);
}

void goc__semq_remove(goc__semroot *r, goc__semw *w)
{
	if (!w->queued)
		goc__panic("semtab: removing a waiter that is not queued");
	goc__semw **pp = head_link(r, w->key);
	goc__semw *h = *pp;
	if (!h)
		goc__panic("semtab: queued waiter has no queue");
	if (w == h) {
		goc__semw *n = w->next;
		if (n) {
			n->prev = NULL;
			n->tail = w->tail;
			n->knext = w->knext;
			*pp = n;
		} else {
			*pp = w->knext;
		}
	} else {
		w->prev->next = w->next;
		if (w->next)
			w->next->prev = w->prev;
		else
			h->tail = w->prev;
	}
	w->next = w->prev = w->knext = w->tail = NULL;
	w->queued = false;
}

/* goc_main returned and its workers stopped: goroutines still parked on sync
 * objects are abandoned and their stacks (where their records live) are
 * about to be freed. Unlink those records so that no bucket points into
 * freed memory when the table is used again (a foreign thread, a later
 * goc_main). Foreign threads' records stay: those threads are alive. The
 * objects the abandoned goroutines waited on keep counting them, as a
 * channel keeps the goroutines blocked on it: they must not be used after.
 * Call after the workers are joined, before goroutine stacks are freed. */
void goc__sync_runtime_stopped(void)
{
	for (int i = 0; i < SEMTAB_SIZE; i++) {
		goc__semroot *r = &semtab[i];
		goc__semroot_lock(r);
		goc__semw *h = r->heads;
		while (h) {
			goc__semw *knext = h->knext;
			for (goc__semw *w = h, *next; w; w = next) {
				next = w->next;
				if (!goc__g_is_thread(w->g))
					goc__semq_remove(r, w);
			}
			h = knext;
		}
		goc__semroot_unlock(r);
	}
}

static void unlock_root(void *arg)
{
	goc__lock_release(&((goc__semroot *)arg)->lock);
}

int goc__semq_park(goc__semroot *r, goc__semw *w, int reason, const void *obj, int64_t deadline)
{
	/* The claim is reset under the bucket lock: no waker can see w before
	 * goc__park's unlock releases it, and none claims before that. */
	goc__wait_prepare();
	int res = goc__park(unlock_root, r, reason, obj, deadline);
	if (res == GOC__WAKE_READY)
		return res;
	goc__semroot_lock(r);
	return GOC__WAKE_TIMEOUT;
}

/* ---- spinning ----------------------------------------------------------
 * Spinning pays only when the holder is running on another CPU, so: a few
 * rounds at most, and never on a single CPU. Whether another worker may be
 * running the holder is the scheduler's knowledge (idle and spinning
 * workers, our P's run queue: Go's sync_runtime_canSpin); when it provides
 * goc__can_spin, that decides. Without it we only know the CPU count: the
 * public worker count (goc_procs) takes the runtime's start lock, which
 * goc_main holds while it stops the workers, so a worker must not ask. */
bool goc__can_spin(int iter) __attribute__((weak));

#define SPIN_ROUNDS 4
#define SPIN_PAUSES 30

bool goc__sync_can_spin(int iter)
{
	if (iter >= SPIN_ROUNDS)
		return false;
	if (goc__can_spin)
		return goc__can_spin(iter);
	static _Atomic int ncpu;
	int c = atomic_load_explicit(&ncpu, memory_order_relaxed);
	if (c == 0) {
		c = goc__ncpu();
		atomic_store_explicit(&ncpu, c, memory_order_relaxed);
	}
	return c > 1;
}

void goc__sync_spin(void)
{
	for (int i = 0; i < SPIN_PAUSES; i++)
		goc__cpu_relax();
}
