/* ctx_aarch64.c - building the first frame of a new AArch64 context.
 * Mirrors the 176-byte layout documented in switch_aarch64.S: the first
 * switch pops it and "returns" into goc__ctx_trampoline with entry in x19,
 * arg in x20, a zero frame pointer (ends frame-pointer walks) and the
 * creator's FPCR, at a 16-byte aligned sp (AAPCS64 requires it always). */
#if defined(__aarch64__)
#include "arch.h"

#include <stdint.h>
#include <string.h>

void goc__ctx_trampoline(void);

void goc__ctx_make(goc__ctx *ctx, void *stack_lo, size_t size, void (*entry)(void *), void *arg)
{
	uintptr_t top = ((uintptr_t)stack_lo + size) & ~(uintptr_t)15;
	uint64_t *frame = (uint64_t *)(top - 176);
	uint64_t fpcr;
	__asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
	memset(frame, 0, 176);
	frame[0] = (uint64_t)(uintptr_t)entry;               /* x19 */
	frame[1] = (uint64_t)(uintptr_t)arg;                 /* x20 */
	frame[10] = 0;                                       /* x29 */
	frame[11] = (uint64_t)(uintptr_t)goc__ctx_trampoline; /* x30 */
	frame[20] = fpcr;                                    /* [sp+160] */
	ctx->sp = frame;
}
#endif
