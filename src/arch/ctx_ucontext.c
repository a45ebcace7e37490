/* ctx_ucontext.c - the portable context switch, for targets without an
 * assembly file (arch.h picks it: neither x86-64 nor AArch64).
 *
 * makecontext/swapcontext save everything the platform ABI requires,
 * including the FP environment, so the semantics match the assembly
 * versions. The price is speed: glibc's swapcontext also saves and restores
 * the signal mask, a system call per switch (about a microsecond instead of
 * a few nanoseconds). makecontext passes only int arguments, so entry and
 * arg travel as 32-bit halves and are reassembled in the trampoline.
 */
#include "arch.h"

#if !defined(GOC__ARCH_ASM)
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uintptr_t join(unsigned hi, unsigned lo)
{
	return (uintptr_t)(((uint64_t)hi << 32) | lo);
}

static void trampoline(unsigned e_hi, unsigned e_lo, unsigned a_hi, unsigned a_lo)
{
	void (*entry)(void *) = (void (*)(void *))join(e_hi, e_lo);
	entry((void *)join(a_hi, a_lo));
	abort(); /* entry returned: a broken invariant */
}

void goc__ctx_make(goc__ctx *ctx, void *stack_lo, size_t size, void (*entry)(void *), void *arg)
{
	uint64_t e = (uint64_t)(uintptr_t)entry, a = (uint64_t)(uintptr_t)arg;
	memset(ctx, 0, sizeof *ctx);
	if (getcontext(&ctx->uc) != 0)
		abort();
	ctx->uc.uc_stack.ss_sp = stack_lo;
	ctx->uc.uc_stack.ss_size = size;
	ctx->uc.uc_link = NULL;
	makecontext(&ctx->uc, (void (*)(void))trampoline, 4, (unsigned)(e >> 32), (unsigned)e,
	            (unsigned)(a >> 32), (unsigned)a);
}

void goc__ctx_switch(goc__ctx *from, goc__ctx *to)
{
	if (swapcontext(&from->uc, &to->uc) != 0)
		abort();
}
#endif
