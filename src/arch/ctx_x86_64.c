/* ctx_x86_64.c - building the first frame of a new x86-64 context.
 * Mirrors the layout documented in switch_x86_64.S. */
#if defined(__x86_64__)
#include "arch.h"

#include <stdint.h>
#include <string.h>

void goc__ctx_trampoline(void);

void goc__ctx_make(goc__ctx *ctx, void *stack_lo, size_t size, void (*entry)(void *), void *arg)
{
	uintptr_t top = ((uintptr_t)stack_lo + size) & ~(uintptr_t)15;
	/* The switch pops the control-word slot and six registers, then ret
	 * leaves rsp = top - 16: 16-byte aligned before the trampoline's call,
	 * as the ABI requires. */
	uint64_t *sp = (uint64_t *)(top - 16);
	*--sp = (uint64_t)(uintptr_t)goc__ctx_trampoline; /* return address */
	*--sp = 0;                                        /* rbp */
	*--sp = 0;                                        /* rbx */
	*--sp = (uint64_t)(uintptr_t)entry;               /* r12 */
	*--sp = (uint64_t)(uintptr_t)arg;                 /* r13 */
	*--sp = 0;                                        /* r14 */
	*--sp = 0;                                        /* r15 */
	*--sp = 0;
	uint32_t mxcsr = 0x1f80;                          /* defaults: all masked, round-nearest */
	uint16_t fcw = 0x037f;
	__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
	__asm__ volatile("fnstcw %0" : "=m"(fcw));
	memcpy((char *)sp, &fcw, 2);
	memcpy((char *)sp + 4, &mxcsr, 4);
	ctx->sp = sp;
}
#endif
