/* overflow.c - turning a goroutine stack overflow into a report.
 *
 * Two detectors (stack.c explains which stacks get which):
 *  - a guard page below the stack: the overflowing access faults at once.
 *    A SIGSEGV handler, running on a per-thread alternate signal stack
 *    (the faulting stack is unusable), checks whether the fault address is
 *    in the running goroutine's guard page and, if so, writes the report
 *    with async-signal-safe calls only and aborts;
 *  - the canary at the stack's low end, checked by the scheduler each time
 *    a goroutine switches out (proc.c, after_switch): catches overflows of
 *    stacks without a guard page before the damage spreads further.
 * Faults that are not overflows get the default action (a core dump at the
 * faulting instruction), as if we had not been there. The handler is only
 * installed if the application has none for SIGSEGV. */
#include "sched.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ALTSTACK_SIZE (64 * 1024)

static struct sigaction old_segv;
static _Atomic int installed;

static size_t fmt_u64(char *buf, uint64_t v)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

static void put(const char *s)
{
	(void)!write(2, s, strlen(s));
}

static void put_u64(uint64_t v)
{
	char b[24];
	(void)!write(2, b, fmt_u64(b, v));
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	goc__m *m = goc__getm();
	goc__g *g = m ? m->curg : NULL;
	if (g && !g->is_thread && g->stack.lo && goc__stack_guard_hit(&g->stack, si->si_addr)) {
		put("goc: fatal: stack overflow in goroutine ");
		put_u64(g->id);
		put(" (created at ");
		const goc__site *site = g->site;
		put(site && site->file ? site->file : "?");
		put(":");
		put_u64(site ? (uint64_t)site->line : 0);
		put(" in ");
		put(site && site->func ? site->func : "?");
		put("), stack size ");
		put_u64(g->stack.size);
		put(" bytes; spawn it with a larger goc_go_attr.stack_size or set GOC_STACK_SIZE\n");
		signal(SIGABRT, SIG_DFL);
		abort();
	}
	/* Not ours: restore the previous disposition and let the access fault
	 * again with it. */
	sigaction(SIGSEGV, &old_segv, NULL);
	(void)sig;
	(void)uc;
}

void goc__overflow_install(void)
{
	int z = 0;
	if (!atomic_compare_exchange_strong(&installed, &z, 1))
		return;
	struct sigaction cur;
	sigaction(SIGSEGV, NULL, &cur);
	if ((cur.sa_flags & SA_SIGINFO) || cur.sa_handler != SIG_DFL)
		return; /* the application handles SIGSEGV itself */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
}

/* Each worker thread gets an alternate signal stack for the handler. */
void *goc__overflow_thread_init(void)
{
	stack_t ss;
	memset(&ss, 0, sizeof ss);
	ss.ss_sp = malloc(ALTSTACK_SIZE);
	if (!ss.ss_sp)
		return NULL;
	ss.ss_size = ALTSTACK_SIZE;
	if (sigaltstack(&ss, NULL) != 0) {
		free(ss.ss_sp);
		return NULL;
	}
	return ss.ss_sp;
}

void goc__overflow_thread_fini(void *altstack)
{
	if (!altstack)
		return;
	stack_t ss;
	memset(&ss, 0, sizeof ss);
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	free(altstack);
}
