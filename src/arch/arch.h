/* arch.h - saving and restoring a goroutine's machine context.
 *
 * A context is what a suspended goroutine needs to resume: its stack pointer,
 * with the callee-saved registers pushed on its own stack (the assembly
 * files), or a ucontext_t where no assembly exists for the target.
 * Everything else (caller-saved registers) is dead at a call boundary, which
 * is what makes a cooperative switch cheap: goc__ctx_switch is an ordinary C
 * call that returns on another stack.
 */
#ifndef GOC_ARCH_H
#define GOC_ARCH_H

#include <stddef.h>

#if defined(__x86_64__) || defined(__aarch64__)
#define GOC__ARCH_ASM 1
typedef struct goc__ctx { void *sp; } goc__ctx;
#else
#include <ucontext.h>
typedef struct goc__ctx { ucontext_t uc; } goc__ctx;
#endif

/* Prepare ctx so that the first switch to it calls entry(arg) on the stack
 * [stack_lo, stack_lo + size). entry must never return: a finished goroutine
 * switches away for good. */
void goc__ctx_make(goc__ctx *ctx, void *stack_lo, size_t size, void (*entry)(void *), void *arg);

/* Save the running context into *from and resume *to. Returns when something
 * later switches back to *from. */
void goc__ctx_switch(goc__ctx *from, goc__ctx *to);

/* One step of a busy wait: tells the CPU (and a hypervisor) we spin. A
 * pause is ~20 ns on the x86 machines we measure on. */
static inline void goc__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#else
	__asm__ volatile("" ::: "memory");
#endif
}

#endif
