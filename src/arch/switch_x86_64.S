/* switch_x86_64.S - context switch for the x86-64 System V ABI.
 *
 * C prototypes in arch.h. The ABI makes rbx, rbp, r12-r15, the MXCSR control
 * bits and the x87 control word callee-saved; everything else is dead across
 * a call, so that is all we save. Layout of a suspended stack, from sp up:
 *   [sp+0]  x87 CW (2 bytes) | MXCSR (4 bytes at sp+4)
 *   [sp+8]  r15  [sp+16] r14  [sp+24] r13  [sp+32] r12
 *   [sp+40] rbx  [sp+48] rbp  [sp+56] return address
 */
#if defined(__x86_64__)
	.text

/* void goc__ctx_switch(goc__ctx *from (rdi), goc__ctx *to (rsi)) */
	.globl	goc__ctx_switch
	.type	goc__ctx_switch, @function
	.p2align 4
goc__ctx_switch:
	.cfi_startproc
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	subq	$8, %rsp
	stmxcsr	4(%rsp)
	fnstcw	(%rsp)
	movq	%rsp, (%rdi)        /* from->sp */
	movq	(%rsi), %rsp        /* to->sp */
	fldcw	(%rsp)
	ldmxcsr	4(%rsp)
	addq	$8, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.cfi_endproc
	.size	goc__ctx_switch, .-goc__ctx_switch

/* First return of a new context lands here with entry in r12, arg in r13
 * (placed by goc__ctx_make). The stack is 16-byte aligned at the call. */
	.globl	goc__ctx_trampoline
	.type	goc__ctx_trampoline, @function
	.p2align 4
goc__ctx_trampoline:
	.cfi_startproc
	.cfi_undefined rip          /* outermost frame: unwinders stop here */
	movq	%r13, %rdi
	callq	*%r12
	ud2                         /* entry returned: a broken invariant */
	.cfi_endproc
	.size	goc__ctx_trampoline, .-goc__ctx_trampoline

	.section .note.GNU-stack,"",@progbits
#endif
