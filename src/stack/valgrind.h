/* valgrind.h - tell valgrind where goroutine stacks are.
 *
 * Valgrind (memcheck) assumes one stack per thread; when a worker switches
 * to a goroutine its stack pointer jumps to another mapping, and without
 * registration memcheck takes that for a huge stack change and reports
 * errors (or gives up tracking). VALGRIND_STACK_REGISTER names the range.
 *
 * The client requests are a header-only magic instruction sequence that
 * does nothing outside valgrind (a few instructions, no library), so the
 * build uses <valgrind/valgrind.h> when it is installed (Debian: the
 * valgrind package) and compiles the calls away otherwise; goc then runs under valgrind only with
 * the warnings described above. The id lives in goc__stack.vg_id. */
#ifndef GOC_STACK_VALGRIND_H
#define GOC_STACK_VALGRIND_H

#include "stack.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define GOC__HAVE_VALGRIND 1
#endif
#endif

static inline void goc__vg_stack_register(goc__stack *s)
{
#if defined(GOC__HAVE_VALGRIND)
	s->vg_id = RUNNING_ON_VALGRIND ? VALGRIND_STACK_REGISTER(s->lo, s->lo + s->size) : 0;
#else
	(void)s;
#endif
}

static inline void goc__vg_stack_deregister(goc__stack *s)
{
#if defined(GOC__HAVE_VALGRIND)
	if (s->vg_id)
		VALGRIND_STACK_DEREGISTER(s->vg_id);
	s->vg_id = 0;
#else
	(void)s;
#endif
}

#endif
