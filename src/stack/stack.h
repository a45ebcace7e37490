/* stack.h - goroutine stacks (src/stack/stack.c has the design notes). */
#ifndef GOC_STACK_H
#define GOC_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct goc__stack {
	char *lo;        /* lowest usable byte (just above the guard, if any) */
	size_t size;     /* usable bytes */
	void *priv;      /* the stack module's bookkeeping */
} goc__stack;

/* The default usable size (GOC_STACK_SIZE env or 256 KiB), page-rounded. */
size_t goc__stack_default_size(void);
/* Allocate a stack of at least size usable bytes (0: default). Returns 0 or
 * GOC_ENOMEM / GOC_EINVAL (size out of range). Memory is committed lazily. */
int  goc__stack_alloc(goc__stack *s, size_t size);
/* Give a stack back; its pages may be returned to the OS. */
void goc__stack_free(goc__stack *s);
/* True while the overflow canary at the stack's low end is intact. */
bool goc__stack_canary_ok(const goc__stack *s);
/* Write the canary (done by alloc; sched calls it again when reusing). */
void goc__stack_canary_set(goc__stack *s);
/* True if addr lies in s's guard page or below s->lo within one page. */
bool goc__stack_guard_hit(const goc__stack *s, const void *addr);
/* Release cached stack memory (runtime shutdown). */
void goc__stack_shutdown(void);

#endif
