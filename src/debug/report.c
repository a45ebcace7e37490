/* report.c - the runtime's fatal reports: deadlock and stack overflow.
 * (The goroutine dump, SIGQUIT handling and tracing build on these.) */
#include "../sched/sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

_Noreturn void goc__debug_deadlock(void)
{
	fprintf(stderr, "goc: all goroutines are asleep - deadlock!\n");
	fflush(stderr);
	_exit(2);
}

_Noreturn void goc__stack_overflow_report(goc__g *g)
{
	fprintf(stderr,
	        "goc: fatal: stack overflow in goroutine %llu (created at %s:%d in %s), stack size %zu bytes\n",
	        (unsigned long long)g->id, g->file ? g->file : "?", g->line, g->func ? g->func : "?",
	        g->stack.size);
	fflush(stderr);
	abort();
}

void goc__debug_start(void) {}
void goc__debug_stop(void) {}
