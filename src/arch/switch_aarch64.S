/* switch_aarch64.S - context switch for AArch64 (AAPCS64).
 *
 * C prototypes in arch.h. AAPCS64 makes x19-x28, the frame pointer x29, the
 * link register x30 (our return address), sp and the low 64 bits of v8-v15
 * (d8-d15) callee-saved; every other register is dead across a call, so
 * that is all we save. FPCR (rounding mode, flush-to-zero, default NaN) is
 * saved per context too, as MXCSR is on x86-64: a goroutine's FP mode does
 * not leak to whatever runs next on its thread. x18 (the platform register)
 * is left alone. Layout of a suspended stack, from sp up (176 bytes, keeps
 * sp 16-byte aligned):
 *   [sp+0]   x19 x20   [sp+16]  x21 x22   [sp+32]  x23 x24
 *   [sp+48]  x25 x26   [sp+64]  x27 x28   [sp+80]  x29 x30 (fp, return)
 *   [sp+96]  d8  d9    [sp+112] d10 d11   [sp+128] d12 d13
 *   [sp+144] d14 d15   [sp+160] FPCR      [sp+168] unused
 */
#if defined(__aarch64__)
	.text

/* void goc__ctx_switch(goc__ctx *from (x0), goc__ctx *to (x1)) */
	.globl	goc__ctx_switch
	.type	goc__ctx_switch, %function
	.p2align 4
goc__ctx_switch:
	.cfi_startproc
	sub	sp, sp, #176
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	stp	d8,  d9,  [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	mrs	x9, fpcr
	str	x9, [sp, #160]
	mov	x10, sp
	str	x10, [x0]               /* from->sp */
	ldr	x10, [x1]               /* to->sp */
	mov	sp, x10
	ldr	x10, [sp, #160]
	cmp	x9, x10                 /* writing FPCR can be slow: only if it differs */
	b.eq	1f
	msr	fpcr, x10
1:	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	ldp	d8,  d9,  [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	add	sp, sp, #176
	ret
	.cfi_endproc
	.size	goc__ctx_switch, .-goc__ctx_switch

/* The first switch to a new context returns here, with entry in x19 and arg
 * in x20 (placed by goc__ctx_make) and sp 16-byte aligned. */
	.globl	goc__ctx_trampoline
	.type	goc__ctx_trampoline, %function
	.p2align 4
goc__ctx_trampoline:
	.cfi_startproc
	.cfi_undefined x30          /* outermost frame: unwinders stop here */
	mov	x0, x20
	blr	x19
	brk	#0x1                    /* entry returned: a broken invariant */
	.cfi_endproc
	.size	goc__ctx_trampoline, .-goc__ctx_trampoline

	.section .note.GNU-stack,"",%progbits
#endif
