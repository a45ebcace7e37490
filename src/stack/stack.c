/* stack.c - goroutine stacks: slabs, a guard below every stack where the
 * kernel allows it, a zero canary on the others, and one global pool of
 * free stacks that hands memory back to the OS.
 *
 * Why slabs. Linux caps the mappings of a process (vm.max_map_count, 65530
 * by default). One mmap per stack costs a mapping each, and an mprotect'd
 * guard page inside it splits it in two: guarded stacks stop near 32k, and
 * the app has nothing left. So stacks of one size class are cut from slabs,
 * one mmap holding up to 1024 slots (one mapping; neighbouring slabs usually
 * merge). A slot is [gap 68 KiB][usable stack]; the stack grows down from
 * the slot's top towards its gap. 68, not 64: the slot stride is then an
 * odd number of pages, so the top pages of neighbouring stacks fall in
 * different sets of the TLB (with 64 KiB every stride is a multiple of 16
 * pages and the hot stack tops share a sixteenth of the sets: the sieve's
 * steady state ran at 125 instead of 90 us per prime). Slabs are MAP_NORESERVE and
 * MADV_NOHUGEPAGE: a page costs memory only once written, so a million
 * stacks of 256 KiB are 324 GiB of address space and, idle, a page each.
 *
 * Guards. On Linux >= 6.13 every slot's gap gets guard markers
 * (MADV_GUARD_INSTALL, vm_linux.c): faults like PROT_NONE, costs no
 * mapping, so every stack is guarded. Older kernels (Debian 12's 6.1) get
 * the fallback the mapping budget dictates: the gap is mprotect'd PROT_NONE
 * (two mappings) for as many slots as (max_map_count - mappings in use at
 * start - half of max_map_count kept for the app - a slab allowance) / 2,
 * about 15,000 with the default limit; GOC_STACK_GUARDS=n caps the number
 * in both schemes. A slot keeps its guard for life and free slots are
 * reused newest first, so a program with fewer goroutines than that runs on
 * guarded stacks only. goc__stack_guard_hit lets the SIGSEGV handler say a
 * fault was an overflow.
 *
 * The canary, for stacks without a guard: the lowest 256 bytes must stay
 * zero; the scheduler checks at every switch (goc__stack_canary_ok).
 * Zero, not a pattern: fresh memory is zero already, so setting it never
 * dirties a page (a written pattern would cost 4 KiB of RSS per stack, 4
 * GiB per million), and every untouched canary reads the kernel's one zero
 * page, so the check hits the cache. An overflow writes return addresses,
 * frame pointers and data there and is caught at the next switch, before
 * the goroutine runs again; the unguarded 68 KiB gap below absorbs what it
 * wrote past lo, so the neighbouring stack is intact. What a canary misses:
 * an overflow writing only zeros over it, or one frame larger than 68 KiB
 * jumping canary and gap to scribble on the neighbouring slot's stack. That
 * residual risk is the price of a million stacks in 65530 mappings on old
 * kernels. Guarded stacks skip the canary (their check reads nothing):
 * only a frame over 68 KiB that jumps the whole guard escapes them (C code
 * built with -fstack-clash-protection cannot do that).
 * The usable size counts the canary: a goroutine may use size - 256 bytes.
 *
 * Prefaulting. A stack's top page is always written at once (the first
 * frame), and an unguarded one's canary page is read at the first switch.
 * Fresh slots are prepared in batches under the lock (a quarter of the
 * slab, 32 to 256 slots: slabs double as a class grows, so a program with
 * few goroutines prepares few): guards installed, top pages (and canary
 * pages) faulted in from the kernel side in one batched call after the
 * lock is dropped. On a VM a page fault costs tens of microseconds and
 * each call that changes page tables slows down every other stack touched
 * after it; the prime sieve (2000 goroutines made while the others run)
 * went from about 190 to 130 us per prime with 256-slot batches instead
 * of 32.
 * Recycled clean slots get the same per slot at hand-out.
 *
 * Size classes: the default size (class 0) and powers of two from 16 KiB to
 * 1 GiB; a request gets the smallest class that holds it.
 *
 * The pool. Per class: a LIFO of free stacks whose memory may be resident
 * ("dirty"), reused first because they are warm. Freeing never gives
 * memory back on the spot: that costs an madvise and a TLB shootdown on
 * every CPU (250 us per call on a paravirtualised VM), and a program whose
 * goroutine count swings (100,000 sleepers ending at once, a park bench
 * tearing down a million) would pay it per goroutine and then fault the
 * same pages in again on the next swing. Instead, as Go's background
 * scavenger does, the monitor thread gives back the excess over dkeep
 * (4096 default stacks, fewer for big classes: about 1 GiB of address
 * space, of which only the pages the goroutines touched are resident -
 * typically one or two per stack) at a paced rate (goc__stack_scavenge),
 * oldest first, and everything after a second with nothing running
 * (goc__stack_trim). So the dirty set never exceeds the peak number of
 * stacks in use, and returns to dkeep soon after a burst. Scavenging is
 * MADV_DONTNEED (adjacent slots coalesced into one call) outside the
 * lock; then the slots go to their slab's clean free list. A slab with
 * nothing used and nothing dirty is empty: one per class is kept as a
 * spare, the others are unmapped. The scheduler's per-P caches sit on top
 * of this pool.
 *
 * Slot states: FRESH (never handed out, beyond slab->bump) -> USED ->
 * DIRTY (in the class LIFO) -> USED again, or -> SCAVENGING (taken for
 * madvise, still counted in slab->ndirty so the slab cannot be unmapped
 * under it) -> CLEAN (slab free list) -> USED.
 *
 * Locking: pool.lock (a goc__lock) guards every field of the pool, classes
 * and slabs. It is a leaf lock: nothing else is taken under it but malloc's.
 * mmap, guard installs and the prefault of fresh batches happen under it
 * (once per slab, once per 32 slots); madvise DONTNEED, munmap and the
 * prefault of recycled slots happen outside it. The goc__stack a caller
 * holds carries its slab and guard bit in priv, so the queries in stack.h
 * take no lock.
 */
#include "stack.h"
#include "valgrind.h"
#include "vm.h"
#include "../internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define STACK_DEFAULT    ((size_t)256 << 10)
#define GAP_BYTES        ((size_t)68 << 10)   /* see the top: odd page stride */
#define SLAB_FIRST_SLOTS 16u
#define SLAB_MAX_SLOTS   1024u
#define SLAB_MAX_BYTES   ((size_t)512 << 20)
#define SLAB_MAP_ALLOWANCE 2048      /* mappings budgeted for slabs themselves */
#define PREPARE_MIN      32u        /* fresh slots prepared at once: small slabs */
#define PREPARE_MAX      256u       /* ... big ones (a quarter of the slab) */
#define DIRTY_BYTES      ((size_t)1 << 30)
#define DIRTY_KEEP       4096u      /* most dirty stacks kept per class */
#define DIRTY_BATCH      256u        /* most scavenged in one batch */
#define DIRTY_MIN        4u
#define NCLASS           18          /* default + 2^14 .. 2^30 */

enum { SLOT_FRESH, SLOT_USED, SLOT_DIRTY, SLOT_SCAVENGING, SLOT_CLEAN };
#define SLOT_STATE   0x7u
#define SLOT_GUARDED 0x80u
#define PRIV_GUARDED ((uintptr_t)1)

typedef struct slab slab;
typedef struct stack_class stack_class;

struct slab {
	stack_class *cls;
	char *base;
	size_t bytes;
	uint32_t nslots;
	uint32_t bump;               /* slots [bump, nslots) are FRESH */
	uint32_t prepared;           /* slots [0, prepared) have been prepared */
	uint32_t nused, ndirty;      /* USED; DIRTY + SCAVENGING */
	uint32_t nfree;              /* CLEAN slots, in freelist[0..nfree) */
	uint32_t nguarded;
	bool in_partial;
	slab *pnext, *pprev;         /* class list of slabs with clean/fresh slots */
	slab *anext, *aprev;         /* class list of all slabs */
	uint8_t *state;              /* per slot: SLOT_* | SLOT_GUARDED */
	uint32_t *freelist;
};

typedef struct slot_ref {
	slab *sl;
	uint32_t idx;
} slot_ref;

struct stack_class {
	size_t size;                 /* usable bytes, page multiple */
	size_t slot_bytes;           /* gap + size */
	uint32_t next_nslots, max_nslots;
	slab *partial, *all, *spare;
	/* Free dirty stacks: dirty[dhead, dtail), oldest first, newest at the
	 * end (handed out first: warm). Grows as needed; dkeep of them stay,
	 * the monitor scavenges the excess, oldest first (goc__stack_scavenge). */
	slot_ref *dirty;             /* NULL until used */
	uint32_t dhead, dtail, dcap, dkeep;
};

static struct {
	goc__lock lock;
	bool inited;
	bool markers;                /* guards are MADV_GUARD_INSTALL markers */
	bool no_markers;             /* goc__stack_set_guard_markers(false) */
	bool no_prefault;            /* goc__stack_set_prefault(false) */
	bool guards_set;             /* goc__stack_set_guard_limit was called */
	size_t guards_max, guards_used;
	stack_class cls[NCLASS];
} pool = {.lock = GOC__LOCK_INIT};

/* Written once by pool_init, before any stack exists; read lock-free. */
static size_t page_bytes, gap_bytes;

static size_t round_up(size_t v, size_t to)
{
	return (v + to - 1) / to * to;
}

static size_t sys_page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	return ps > 0 ? (size_t)ps : 4096;
}

/* ---- sizes -------------------------------------------------------------- */

/* "262144", "256k", "1M", "1g"; 0 when malformed. */
static size_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s)
		return 0;
	int shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end != '\0' || v > (GOC__STACK_MAX >> shift))
		return 0;
	return (size_t)(v << shift);
}

size_t goc__stack_default_size(void)
{
	static _Atomic size_t def;
	size_t d = atomic_load_explicit(&def, memory_order_relaxed);
	if (GOC__LIKELY(d))
		return d;
	size_t sz = STACK_DEFAULT;
	const char *e = getenv("GOC_STACK_SIZE");
	if (e && *e) {
		size_t v = parse_size(e);
		if (v >= GOC__STACK_MIN && v <= GOC__STACK_MAX)
			sz = v;
	}
	d = round_up(sz, sys_page_size());
	atomic_store_explicit(&def, d, memory_order_relaxed);
	return d;
}

/* ---- guard budget ------------------------------------------------------- */

static long read_long_file(const char *path, long dflt)
{
	FILE *f = fopen(path, "r");
	long v;
	if (!f)
		return dflt;
	if (fscanf(f, "%ld", &v) != 1)
		v = dflt;
	fclose(f);
	return v;
}

static long count_mappings(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	long n = 0;
	int c;
	if (!f)
		return 1024; /* unknown: assume a busy process */
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* How many stacks may get guards (pool.lock held, pool.markers known). */
static size_t guard_budget(void)
{
	const char *e = getenv("GOC_STACK_GUARDS");
	if (e && *e) {
		char *end;
		unsigned long long v = strtoull(e, &end, 10);
		if (*end == '\0')
			return (size_t)v;
	}
	if (pool.markers)
		return SIZE_MAX; /* markers cost no mapping */
	long max = read_long_file("/proc/sys/vm/max_map_count", 65530);
	long avail = max - count_mappings() - max / 2 - SLAB_MAP_ALLOWANCE;
	return avail > 0 ? (size_t)avail / 2 : 0;
}

/* ---- pool setup and size classes (pool.lock held) ---------------------- */

static void class_init(stack_class *c, size_t size)
{
	c->size = size;
	c->slot_bytes = gap_bytes + size;
	size_t n = SLAB_MAX_BYTES / c->slot_bytes;
	c->max_nslots = n < 1 ? 1 : n > SLAB_MAX_SLOTS ? SLAB_MAX_SLOTS : (uint32_t)n;
	c->next_nslots = c->max_nslots < SLAB_FIRST_SLOTS ? c->max_nslots : SLAB_FIRST_SLOTS;
	size_t d = DIRTY_BYTES / size;
	c->dkeep = d < DIRTY_MIN ? DIRTY_MIN : d > DIRTY_KEEP ? DIRTY_KEEP : (uint32_t)d;
}

static void pool_init(void)
{
	page_bytes = sys_page_size();
	gap_bytes = round_up(GAP_BYTES, page_bytes);
	pool.markers = !pool.no_markers && goc__vm_supports(GOC__VM_GUARD);
	if (!pool.guards_set)
		pool.guards_max = guard_budget();
	class_init(&pool.cls[0], goc__stack_default_size());
	for (int i = 1; i < NCLASS; i++)
		class_init(&pool.cls[i], round_up((size_t)1 << (13 + i), page_bytes));
	pool.inited = true;
}

/* The smallest class holding size bytes (size already validated). */
static stack_class *class_for(size_t size)
{
	stack_class *def = &pool.cls[0];
	if (size == 0 || size == def->size)
		return def;
	int i = 1;
	while (pool.cls[i].size < size)
		i++;
	if (def->size >= size && def->size <= pool.cls[i].size)
		return def;
	return &pool.cls[i];
}

/* ---- tuning (tests, benchmarks) ----------------------------------------- */

size_t goc__stack_set_guard_limit(size_t n)
{
	goc__lock_acquire(&pool.lock);
	if (!pool.inited)
		pool_init();
	size_t old = pool.guards_max;
	pool.guards_max = n;
	pool.guards_set = true;
	goc__lock_release(&pool.lock);
	return old;
}

bool goc__stack_set_guard_markers(bool on)
{
	goc__lock_acquire(&pool.lock);
	if (!pool.inited) {
		pool.no_markers = !on;
		pool_init();
	} else if (!on && pool.markers) {
		/* Existing guards stay; new ones are mprotect'd, within the
		 * mapping budget (which the markers had no need of). */
		pool.markers = false;
		if (!pool.guards_set)
			pool.guards_max = guard_budget();
	}
	bool markers = pool.markers;
	goc__lock_release(&pool.lock);
	return markers;
}

void goc__stack_set_prefault(bool on)
{
	goc__lock_acquire(&pool.lock);
	pool.no_prefault = !on;
	goc__lock_release(&pool.lock);
}

/* ---- slabs (pool.lock held) -------------------------------------------- */

static void partial_link(stack_class *c, slab *sl)
{
	if (sl->in_partial)
		return;
	sl->in_partial = true;
	sl->pprev = NULL;
	sl->pnext = c->partial;
	if (c->partial)
		c->partial->pprev = sl;
	c->partial = sl;
}

static void partial_unlink(stack_class *c, slab *sl)
{
	if (!sl->in_partial)
		return;
	sl->in_partial = false;
	if (sl->pprev)
		sl->pprev->pnext = sl->pnext;
	else
		c->partial = sl->pnext;
	if (sl->pnext)
		sl->pnext->pprev = sl->pprev;
}

static void all_link(stack_class *c, slab *sl)
{
	sl->aprev = NULL;
	sl->anext = c->all;
	if (c->all)
		c->all->aprev = sl;
	c->all = sl;
}

/* Detach an empty slab from its class; the caller unmaps it unlocked. */
static void slab_detach(slab *sl)
{
	stack_class *c = sl->cls;
	partial_unlink(c, sl);
	if (sl->aprev)
		sl->aprev->anext = sl->anext;
	else
		c->all = sl->anext;
	if (sl->anext)
		sl->anext->aprev = sl->aprev;
	if (c->spare == sl)
		c->spare = NULL;
	pool.guards_used -= sl->nguarded;
}

static void slab_free_meta(slab *sl)
{
	free(sl->state);
	free(sl->freelist);
	free(sl);
}

static slab *slab_new(stack_class *c)
{
	uint32_t n = c->next_nslots;
	slab *sl = calloc(1, sizeof *sl);
	if (!sl)
		return NULL;
	sl->state = calloc(n, 1);
	sl->freelist = malloc(sizeof(uint32_t) * n);
	if (!sl->state || !sl->freelist) {
		slab_free_meta(sl);
		return NULL;
	}
	char *p;
	for (;;) {
		p = mmap(NULL, n * c->slot_bytes, PROT_READ | PROT_WRITE,
		         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p != MAP_FAILED)
			break;
		if (n == 1) {
			slab_free_meta(sl);
			return NULL;
		}
		n /= 2; /* address space or overcommit limits: try smaller */
	}
#ifdef MADV_NOHUGEPAGE
	/* A huge page would make one touched stack page cost 2 MiB. */
	madvise(p, n * c->slot_bytes, MADV_NOHUGEPAGE);
#endif
	sl->cls = c;
	sl->base = p;
	sl->bytes = n * c->slot_bytes;
	sl->nslots = n;
	all_link(c, sl);
	partial_link(c, sl);
	if (c->next_nslots < c->max_nslots)
		c->next_nslots = c->next_nslots * 2 < c->max_nslots ? c->next_nslots * 2 : c->max_nslots;
	return sl;
}

static char *slot_lo(const slab *sl, uint32_t idx)
{
	return sl->base + (size_t)idx * sl->cls->slot_bytes + gap_bytes;
}

static bool slot_guarded(const slab *sl, uint32_t idx)
{
	return sl->state[idx] & SLOT_GUARDED;
}

static void slot_mark_guarded(slab *sl, uint32_t idx)
{
	pool.guards_used++;
	sl->nguarded++;
	sl->state[idx] |= SLOT_GUARDED;
}

/* Give one slot's gap a guard if the budget allows. */
static void slot_try_guard(slab *sl, uint32_t idx)
{
	if (pool.guards_used >= pool.guards_max)
		return;
	char *gap = slot_lo(sl, idx) - gap_bytes;
	if (pool.markers) {
		struct iovec r = {gap, gap_bytes};
		if (goc__vm_apply(GOC__VM_GUARD, &r, 1) == 0)
			slot_mark_guarded(sl, idx);
		return;
	}
	if (mprotect(gap, gap_bytes, PROT_NONE) != 0) {
		/* Out of mappings sooner than computed: stop trying. */
		pool.guards_max = pool.guards_used;
		return;
	}
	slot_mark_guarded(sl, idx);
}

/* The pages a slot's owner touches at once: the top page (the first
 * frame) and, without a guard, the canary's page (read at every switch). */
static size_t slot_hot_pages(const slab *sl, uint32_t idx, struct iovec *wr, struct iovec *rd)
{
	char *lo = slot_lo(sl, idx);
	*wr = (struct iovec){lo + sl->cls->size - page_bytes, page_bytes};
	if (slot_guarded(sl, idx))
		return 0;
	*rd = (struct iovec){lo, page_bytes};
	return 1;
}

/* Prepare fresh slots [from, to): guards, then prefault (lock held). */
/* Pages to fault in after pool.lock is dropped (a fault on a VM costs tens
 * of microseconds: under the lock, it would serialise every worker that
 * needs a stack). Faulting a page another thread already touches is
 * harmless. */
typedef struct prefault {
	struct iovec wr[PREPARE_MAX], rd[PREPARE_MAX];
	size_t nwr, nrd;
} prefault;

static void prefault_apply(const prefault *pf)
{
	if (pf->nwr)
		goc__vm_apply(GOC__VM_PREFAULT_WRITE, pf->wr, pf->nwr);
	if (pf->nrd)
		goc__vm_apply(GOC__VM_PREFAULT_READ, pf->rd, pf->nrd);
}

static void slab_prepare(slab *sl, uint32_t from, uint32_t to, prefault *pf)
{
	struct iovec wr[PREPARE_MAX];
	uint32_t n = to - from, ng = 0;
	if (pool.markers) {
		for (uint32_t i = 0; i < n && pool.guards_used + ng < pool.guards_max; i++, ng++)
			wr[ng] = (struct iovec){slot_lo(sl, from + i) - gap_bytes, gap_bytes};
		if (ng && goc__vm_apply(GOC__VM_GUARD, wr, ng) == 0) {
			for (uint32_t i = 0; i < ng; i++)
				slot_mark_guarded(sl, from + i);
		} else {
			/* Some failed: find out which, one by one. */
			for (uint32_t i = 0; i < ng; i++)
				slot_try_guard(sl, from + i);
		}
	} else {
		for (uint32_t i = 0; i < n; i++)
			slot_try_guard(sl, from + i);
	}
	sl->prepared = to;
	if (pool.no_prefault)
		return;
	for (uint32_t i = 0; i < n; i++)
		pf->nrd += slot_hot_pages(sl, from + i, &pf->wr[pf->nwr++], &pf->rd[pf->nrd]);
}

/* A free slot of class c, or false when a new slab cannot be mapped. */
static bool slot_take(stack_class *c, slot_ref *r, prefault *pf)
{
	if (c->dtail > c->dhead) {
		*r = c->dirty[--c->dtail];
		r->sl->ndirty--;
		return true;
	}
	slab *sl = c->partial;
	if (!sl && !(sl = slab_new(c)))
		return false;
	r->sl = sl;
	if (sl->nfree) {
		r->idx = sl->freelist[--sl->nfree];
	} else {
		r->idx = sl->bump++;
		if (r->idx >= sl->prepared) {
			uint32_t batch = sl->nslots / 4;
			batch = batch < PREPARE_MIN ? PREPARE_MIN : batch > PREPARE_MAX ? PREPARE_MAX : batch;
			uint32_t to = r->idx + batch;
			slab_prepare(sl, r->idx, to < sl->nslots ? to : sl->nslots, pf);
		}
	}
	if (sl->nfree == 0 && sl->bump == sl->nslots)
		partial_unlink(c, sl);
	return true;
}

/* ---- scavenging: madvise and munmap outside the lock ------------------- */

/* Unmap detached slabs (linked by pnext). */
static void unmap_slabs(slab *list)
{
	while (list) {
		slab *sl = list;
		list = sl->pnext;
		if (munmap(sl->base, sl->bytes) == 0) {
			slab_free_meta(sl);
			continue;
		}
		/* munmap fails when splitting a merged mapping would exceed
		 * max_map_count: keep the slab, empty and clean. */
		madvise(sl->base, sl->bytes, MADV_DONTNEED);
		goc__lock_acquire(&pool.lock);
		all_link(sl->cls, sl);
		partial_link(sl->cls, sl);
		pool.guards_used += sl->nguarded;
		goc__lock_release(&pool.lock);
	}
}

static int ref_cmp(const void *a, const void *b)
{
	const slot_ref *x = a, *y = b;
	uintptr_t px = (uintptr_t)slot_lo(x->sl, x->idx), py = (uintptr_t)slot_lo(y->sl, y->idx);
	return px < py ? -1 : px > py;
}

/* The slots in refs are SCAVENGING (the caller took them under the lock):
 * drop their memory, then make them CLEAN and unmap slabs left empty. */
static void scavenge(slot_ref *refs, uint32_t n)
{
	if (n == 0)
		return;
	qsort(refs, n, sizeof *refs, ref_cmp);
	char *run_lo = slot_lo(refs[0].sl, refs[0].idx);
	char *run_hi = run_lo + refs[0].sl->cls->size;
	for (uint32_t i = 1; i <= n; i++) {
		char *lo = i < n ? slot_lo(refs[i].sl, refs[i].idx) : NULL;
		if (lo && lo - gap_bytes == run_hi) {
			/* Adjacent slot: one call covers both (and the gap between,
			 * whose guard, mprotect or marker, survives DONTNEED). */
			run_hi = lo + refs[i].sl->cls->size;
			continue;
		}
		madvise(run_lo, (size_t)(run_hi - run_lo), MADV_DONTNEED);
		if (lo) {
			run_lo = lo;
			run_hi = lo + refs[i].sl->cls->size;
		}
	}

	slab *unmap = NULL;
	goc__lock_acquire(&pool.lock);
	for (uint32_t i = 0; i < n; i++) {
		slab *sl = refs[i].sl;
		stack_class *c = sl->cls;
		sl->state[refs[i].idx] = (uint8_t)((sl->state[refs[i].idx] & SLOT_GUARDED) | SLOT_CLEAN);
		sl->freelist[sl->nfree++] = refs[i].idx;
		sl->ndirty--;
		partial_link(c, sl);
		if (sl->nused || sl->ndirty)
			continue;
		if (!c->spare) {
			c->spare = sl;
		} else if (c->spare != sl) {
			slab_detach(sl);
			sl->pnext = unmap;
			unmap = sl;
		}
	}
	goc__lock_release(&pool.lock);
	unmap_slabs(unmap);
}

/* Take up to max of class c's dirty slots, oldest first (lock held). */
static uint32_t dirty_take_oldest(stack_class *c, slot_ref *out, uint32_t max)
{
	uint32_t have = c->dtail - c->dhead;
	uint32_t n = have < max ? have : max;
	for (uint32_t i = 0; i < n; i++) {
		out[i] = c->dirty[c->dhead + i];
		slab *sl = out[i].sl;
		sl->state[out[i].idx] = (uint8_t)((sl->state[out[i].idx] & SLOT_GUARDED) | SLOT_SCAVENGING);
	}
	c->dhead += n;
	if (c->dhead == c->dtail)
		c->dhead = c->dtail = 0;
	return n;
}

/* Room for one more dirty stack at dtail: compact or grow the array.
 * False when there is no memory for it. */
static bool dirty_make_room(stack_class *c)
{
	if (c->dirty && c->dtail < c->dcap)
		return true;
	if (c->dirty && c->dhead >= c->dcap / 2) {
		memmove(c->dirty, c->dirty + c->dhead, sizeof(slot_ref) * (c->dtail - c->dhead));
		c->dtail -= c->dhead;
		c->dhead = 0;
		return true;
	}
	uint32_t ncap = c->dcap ? 2 * c->dcap : c->dkeep;
	slot_ref *d = realloc(c->dirty, sizeof(slot_ref) * ncap);
	if (!d)
		return false;
	c->dirty = d;
	c->dcap = ncap;
	return true;
}

/* ---- the API ------------------------------------------------------------ */

int goc__stack_alloc(goc__stack *s, size_t size)
{
	if (!s || (size != 0 && (size < GOC__STACK_MIN || size > GOC__STACK_MAX)))
		return GOC_EINVAL;
	goc__lock_acquire(&pool.lock);
	if (GOC__UNLIKELY(!pool.inited))
		pool_init();
	stack_class *c = class_for(round_up(size, page_bytes));
	slot_ref r;
	prefault pf = {.nwr = 0, .nrd = 0};
	if (!slot_take(c, &r, &pf)) {
		goc__lock_release(&pool.lock);
		return GOC_ENOMEM;
	}
	slab *sl = r.sl;
	uint8_t st = sl->state[r.idx];
	if ((st & SLOT_STATE) == SLOT_USED)
		goc__panic("stack: slot %u of slab %p handed out twice", r.idx, (void *)sl->base);
	if (!(st & SLOT_GUARDED))
		slot_try_guard(sl, r.idx);
	sl->state[r.idx] = (uint8_t)((sl->state[r.idx] & SLOT_GUARDED) | SLOT_USED);
	sl->nused++;
	if (c->spare == sl)
		c->spare = NULL;
	bool guarded = slot_guarded(sl, r.idx);
	/* A recycled clean slot lost its pages to MADV_DONTNEED. */
	if ((st & SLOT_STATE) == SLOT_CLEAN && !pool.no_prefault && pf.nwr == 0)
		pf.nrd = slot_hot_pages(sl, r.idx, &pf.wr[pf.nwr++], &pf.rd[0]);
	goc__lock_release(&pool.lock);
	prefault_apply(&pf);
	s->lo = slot_lo(sl, r.idx);
	s->size = c->size;
	s->priv = (void *)((uintptr_t)sl | (guarded ? PRIV_GUARDED : 0));
	/* A dirty slot's last owner may have broken the canary (an overflow
	 * being reported, or a test); its canary page is mapped already.
	 * Fresh and clean slots read zero. */
	if ((st & SLOT_STATE) == SLOT_DIRTY)
		goc__stack_canary_set(s);
	goc__vg_stack_register(s);
	return 0;
}

void goc__stack_free(goc__stack *s)
{
	if (!s || !s->lo)
		return;
	slab *sl = (slab *)((uintptr_t)s->priv & ~PRIV_GUARDED);
	stack_class *c = sl->cls;
	uint32_t idx = (uint32_t)((size_t)(s->lo - gap_bytes - sl->base) / c->slot_bytes);
	goc__vg_stack_deregister(s);
	s->lo = NULL;
	s->priv = NULL;

	bool now = false;
	goc__lock_acquire(&pool.lock);
	if ((sl->state[idx] & SLOT_STATE) != SLOT_USED)
		goc__panic("stack: freeing slot %u of slab %p, which is not in use", idx, (void *)sl->base);
	sl->nused--;
	sl->ndirty++;
	if (dirty_make_room(c)) {
		c->dirty[c->dtail++] = (slot_ref){sl, idx};
		sl->state[idx] = (uint8_t)((sl->state[idx] & SLOT_GUARDED) | SLOT_DIRTY);
	} else {
		/* No memory to remember it: scavenge it at once. */
		sl->state[idx] = (uint8_t)((sl->state[idx] & SLOT_GUARDED) | SLOT_SCAVENGING);
		now = true;
	}
	goc__lock_release(&pool.lock);
	if (now)
		scavenge(&(slot_ref){sl, idx}, 1);
}

/* Scavenge c's oldest dirty stacks, up to batch_max per madvise round,
 * until only the warm ones (c->dkeep, or none) are left or
 * goc__nanotime() passes until. */
static uint32_t class_scavenge(stack_class *c, bool keep_warm, uint32_t batch_max, int64_t until)
{
	slot_ref batch[DIRTY_BATCH];
	uint32_t total = 0;
	for (;;) {
		goc__lock_acquire(&pool.lock);
		uint32_t have = c->dtail - c->dhead, keep = keep_warm ? c->dkeep : 0;
		uint32_t excess = have > keep ? have - keep : 0;
		uint32_t n = dirty_take_oldest(c, batch, excess < batch_max ? excess : batch_max);
		goc__lock_release(&pool.lock);
		if (n == 0)
			return total;
		scavenge(batch, n);
		total += n;
		if (until != INT64_MAX && goc__nanotime() >= until)
			return total;
	}
}

/* Small batches for the paced scavenger: each madvise may cost a TLB
 * shootdown, and the budget is only checked between batches. */
#define SCAVENGE_BATCH 16u

uint32_t goc__stack_scavenge(int64_t budget_ns)
{
	uint32_t total = 0;
	int64_t start = goc__nanotime();
	int64_t until = budget_ns > INT64_MAX - start ? INT64_MAX : start + budget_ns;
	for (int i = 0; i < NCLASS; i++) {
		total += class_scavenge(&pool.cls[i], true, SCAVENGE_BATCH, until);
		if (until != INT64_MAX && goc__nanotime() >= until)
			break;
	}
	return total;
}

/* Detach c's slabs with nothing used or dirty and push them on unmap (a
 * list by pnext, for unmap_slabs after the lock is dropped). Lock held. */
static slab *detach_empty(stack_class *c, slab *unmap)
{
	for (slab *sl = c->all, *next; sl; sl = next) {
		next = sl->anext;
		if (sl->nused == 0 && sl->ndirty == 0) {
			slab_detach(sl);
			sl->pnext = unmap;
			unmap = sl;
		}
	}
	return unmap;
}

void goc__stack_trim(void)
{
	slab *unmap = NULL;
	for (int i = 0; i < NCLASS; i++) {
		stack_class *c = &pool.cls[i];
		class_scavenge(c, false, DIRTY_BATCH, INT64_MAX);
		/* Now the spare and any other empty slab go too. */
		goc__lock_acquire(&pool.lock);
		unmap = detach_empty(c, unmap);
		goc__lock_release(&pool.lock);
	}
	unmap_slabs(unmap);
}

/* Everything goes, with no madvise: a slab nobody uses is unmapped whole,
 * dirty slots and all (scavenging them first, as trim does, cost 0.6 s at
 * the exit of a program that once had 100,000 goroutines). Slots being
 * scavenged right now keep their slab (its ndirty stays above 0). */
void goc__stack_shutdown(void)
{
	slab *unmap = NULL;
	goc__lock_acquire(&pool.lock);
	for (int i = 0; i < NCLASS; i++) {
		stack_class *c = &pool.cls[i];
		uint32_t keep = c->dhead;
		for (uint32_t k = c->dhead; k < c->dtail; k++) {
			slot_ref r = c->dirty[k];
			if (r.sl->nused == 0) {
				/* Its memory goes with the slab: clean from here on
				 * (and so still usable if the munmap fails). */
				r.sl->ndirty--;
				r.sl->state[r.idx] = (uint8_t)((r.sl->state[r.idx] & SLOT_GUARDED) | SLOT_CLEAN);
				r.sl->freelist[r.sl->nfree++] = r.idx;
				partial_link(c, r.sl);
			} else {
				c->dirty[keep++] = r;
			}
		}
		c->dtail = keep;
		unmap = detach_empty(c, unmap);
	}
	goc__lock_release(&pool.lock);
	unmap_slabs(unmap);
}

/* ---- overflow queries (lock-free, async-signal-safe) ------------------- */

bool goc__stack_is_guarded(const goc__stack *s)
{
	return s && s->lo && ((uintptr_t)s->priv & PRIV_GUARDED);
}

/* Not instrumented: in sanitizer builds the low end of a stack may still
 * carry poisoned shadow from an earlier owner's frames. */
__attribute__((no_sanitize_address)) bool goc__stack_canary_ok(const goc__stack *s)
{
	if (!s || !s->lo || ((uintptr_t)s->priv & PRIV_GUARDED))
		return true; /* a guarded stack faults instead */
	const uint64_t *w = (const uint64_t *)(const void *)s->lo;
	uint64_t acc = 0;
	for (int i = 0; i < GOC__STACK_CANARY_BYTES / 8; i++)
		acc |= w[i];
	return acc == 0;
}

__attribute__((no_sanitize_address)) void goc__stack_canary_set(goc__stack *s)
{
	/* Write only when broken: writing zeros would still dirty a page. */
	if (!s || !s->lo || goc__stack_canary_ok(s))
		return;
	/* A plain loop, not memset: ASan intercepts memset. */
	volatile uint64_t *w = (volatile uint64_t *)(void *)s->lo;
	for (int i = 0; i < GOC__STACK_CANARY_BYTES / 8; i++)
		w[i] = 0;
}

bool goc__stack_guard_hit(const goc__stack *s, const void *addr)
{
	if (!s || !s->lo)
		return false;
	uintptr_t a = (uintptr_t)addr, lo = (uintptr_t)s->lo;
	return a < lo && a >= lo - gap_bytes;
}
