/* report.c - the runtime's fatal reports (deadlock, stack overflow) and the
 * debug module's goc_main hooks.
 *
 * goc__debug_deadlock runs on the last worker going idle, with sched.lock
 * held, when sched has proved nothing can ever wake a goroutine (runtime.c,
 * goc__check_deadlock): every goroutine is parked, so the dump reads
 * stable records and stacks. It takes glock (after sched.lock: the
 * documented order) and allocates; it never takes sched.lock.
 *
 * goc__stack_overflow_report runs on a worker's scheduler stack (g0) right
 * after the overflowing goroutine switched out with its canary broken; the
 * goroutine's frames are still there, so it gets a backtrace walked into
 * the stack's gap. (The guard-page path reports from the SIGSEGV handler in
 * src/sched/overflow.c, async-signal-safely, without one.) */
#include "debug.h"

#include <stdlib.h>
#include <unistd.h>

_Noreturn void goc__debug_deadlock(void)
{
	goc__debug_dump_to(stderr, "goc: all goroutines are asleep - deadlock!\n");
	fflush(stderr);
	goc__trace_stop_at_exit(); /* the trace shows how it got there */
	_exit(2);
}

#define OVERFLOW_FRAMES 4096
#define OVERFLOW_SHOWN 12

_Noreturn void goc__stack_overflow_report(goc__g *g)
{
	fprintf(stderr, "goc: fatal: stack overflow in goroutine %llu", (unsigned long long)g->id);
	if (g->name)
		fprintf(stderr, " \"%s\"", g->name);
	const goc__site *site = g->site;
	fprintf(stderr, " (created at %s:%d in %s), stack size %zu bytes\n",
	        site && site->file ? site->file : "?", site ? site->line : 0,
	        site && site->func ? site->func : "?", g->stack.size);
	fprintf(stderr, "goc: spawn it with a larger goc_go_attr.stack_size, or set GOC_STACK_SIZE\n");
	/* The deepest frames, which say what recursed: the walk may start in
	 * the 68 KiB gap below the stack, where the overflow wrote. */
	goc__gsnap s = {
		.g = g, .id = g->id, .status = G_WAITING, .stack_lo = g->stack.lo, .stack_size = g->stack.size,
	};
#if defined(GOC__ARCH_ASM)
	s.sp = g->ctx.sp;
#endif
	uintptr_t *pcs = malloc(OVERFLOW_FRAMES * sizeof *pcs);
	int n = pcs ? goc__debug_backtrace(&s, 64 * 1024, pcs, OVERFLOW_FRAMES) : 0;
	if (n > 0) {
		goc__symctx *sym = goc__sym_new();
		fprintf(stderr, "goc: innermost frames of %d%s:\n", n, n == OVERFLOW_FRAMES ? "+" : "");
		for (int i = 0; i < n && i < OVERFLOW_SHOWN; i++) {
			const char *name, *module;
			uintptr_t off;
			if (goc__sym_lookup(sym, pcs[i] - 1, &name, &off, &module))
				fprintf(stderr, "      #%-2d 0x%016llx %s+0x%llx\n", i, (unsigned long long)pcs[i], name,
				        (unsigned long long)(off + 1));
			else
				fprintf(stderr, "      #%-2d 0x%016llx\n", i, (unsigned long long)pcs[i]);
		}
		goc__sym_free(sym);
	}
	free(pcs);
	fflush(stderr);
	abort();
}

void goc__debug_start(void)
{
	goc__trace_start_from_env();
	goc__sigquit_start();
}

void goc__debug_stop(void)
{
	goc__sigquit_stop();
	goc__leak_report_at_exit();
	goc__trace_stop_at_exit();
}
