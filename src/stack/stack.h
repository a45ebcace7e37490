/* stack.h - goroutine stacks (src/stack/stack.c has the design notes).
 *
 * Every function here is thread-safe. goc__stack_canary_ok, _is_guarded and
 * _guard_hit read only the goc__stack they are given: they are cheap enough
 * for every switch and async-signal-safe (a SIGSEGV handler may call them).
 */
#ifndef GOC_STACK_H
#define GOC_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct goc__stack {
	char *lo;        /* lowest usable byte (just above the guard/gap) */
	size_t size;     /* usable bytes (the canary is inside, at lo) */
	void *priv;      /* the stack module's bookkeeping */
	unsigned vg_id;  /* valgrind's stack id, 0 when not under valgrind */
} goc__stack;

#define GOC__STACK_MIN          ((size_t)16 << 10)  /* per-goroutine size range */
#define GOC__STACK_MAX          ((size_t)1 << 30)
#define GOC__STACK_CANARY_BYTES 256                 /* must stay zero */

/* The default usable size (GOC_STACK_SIZE env, bytes or with a k/m/g
 * suffix, within the range above; else 256 KiB), page-rounded. */
size_t goc__stack_default_size(void);
/* Allocate a stack of at least size usable bytes (0: default). Returns 0 or
 * GOC_ENOMEM / GOC_EINVAL (size out of range). Memory is committed lazily. */
int  goc__stack_alloc(goc__stack *s, size_t size);
/* Give a stack back; its pages may be returned to the OS. Clears s->lo. */
void goc__stack_free(goc__stack *s);
/* True while the overflow canary at the stack's low end is intact. */
bool goc__stack_canary_ok(const goc__stack *s);
/* Restore the canary if it is not intact (alloc hands out intact ones). */
void goc__stack_canary_set(goc__stack *s);
/* True if addr lies in the gap just below s->lo: s's guard pages when it
 * has them (where an overflow faults), or its unprotected buffer gap. */
bool goc__stack_guard_hit(const goc__stack *s, const void *addr);
/* True if s has PROT_NONE guard pages below it (an overflow faults). */
bool goc__stack_is_guarded(const goc__stack *s);
/* Give every free stack's memory back to the OS now, and unmap empty slabs.
 * Stacks in use are untouched. */
void goc__stack_trim(void);
/* Give back the memory of free stacks beyond what the pool keeps warm,
 * oldest first, for about budget_ns (the monitor's paced scavenger).
 * Returns how many stacks were scavenged. */
uint32_t goc__stack_scavenge(int64_t budget_ns);
/* Runtime shutdown: unmap every slab no goroutine uses (no madvise first). */
void goc__stack_shutdown(void);

/* Tuning, for tests and benchmarks. */
/* Cap the number of guarded stacks (default: unlimited with guard markers,
 * else what the mapping budget allows; GOC_STACK_GUARDS=n). Stacks already
 * guarded keep their guard. Returns the previous cap. */
size_t goc__stack_set_guard_limit(size_t n);
/* Use MADV_GUARD_INSTALL markers when the kernel has them (the default) or
 * not (mprotect guards within the mapping budget). Takes full effect only
 * before the first allocation. Returns whether markers are in use. */
bool goc__stack_set_guard_markers(bool on);
/* Prefault the pages a new stack's owner touches at once (default on). */
void goc__stack_set_prefault(bool on);

#endif
