/* test_arch.c - the context switch (src/arch/): goc__ctx_make/_switch.
 *
 * Standalone: needs only the arch files, so tests/arch-cross-check.sh also
 * builds it for AArch64 (run under qemu) and against the ucontext fallback.
 * The register test loads distinct values into every callee-saved register
 * in each of two contexts, from a small assembly helper, and checks each
 * context gets its own values back after the other ran.
 */
#include "../src/arch/arch.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define STACK_BYTES (64 * 1024)

static void *stack_new(void)
{
	void *p = aligned_alloc(16, STACK_BYTES);
	CHECK(p != NULL);
	return p;
}

/* ---- ping-pong ------------------------------------------------------------ */

static goc__ctx main_ctx, peer_ctx;
static int trace[16], ntrace;

static void pingpong_entry(void *arg)
{
	CHECK_EQ(*(int *)arg, 42);
	for (int i = 0; i < 4; i++) {
		trace[ntrace++] = 100 + i;
		goc__ctx_switch(&peer_ctx, &main_ctx);
	}
	for (;;)
		goc__ctx_switch(&peer_ctx, &main_ctx);
}

static void test_ping_pong_alternates_between_two_contexts(void)
{
	int arg = 42;
	void *stk = stack_new();
	ntrace = 0;
	goc__ctx_make(&peer_ctx, stk, STACK_BYTES, pingpong_entry, &arg);
	for (int i = 0; i < 4; i++) {
		trace[ntrace++] = i;
		goc__ctx_switch(&main_ctx, &peer_ctx);
	}
	CHECK_EQ(ntrace, 8);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(trace[2 * i], i);
		CHECK_EQ(trace[2 * i + 1], 100 + i);
	}
	free(stk);
}

/* ---- callee-saved registers ---------------------------------------------- */

/* regs_switch(from, to, in, out): load in[] into the callee-saved
 * registers, goc__ctx_switch(from, to), store the registers into out[]. */
#if defined(__x86_64__)
#define NREGS 6 /* rbx rbp r12 r13 r14 r15 */
__asm__(".text\n"
        ".p2align 4\n"
        "test_regs_switch:\n"
        "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
        "  pushq %rcx\n" /* out; seven pushes leave rsp 16-byte aligned for the call */
        "  movq 0(%rdx), %rbx\n  movq 8(%rdx), %rbp\n  movq 16(%rdx), %r12\n"
        "  movq 24(%rdx), %r13\n  movq 32(%rdx), %r14\n  movq 40(%rdx), %r15\n"
        "  call goc__ctx_switch@PLT\n"
        "  popq %rcx\n"
        "  movq %rbx, 0(%rcx)\n  movq %rbp, 8(%rcx)\n  movq %r12, 16(%rcx)\n"
        "  movq %r13, 24(%rcx)\n  movq %r14, 32(%rcx)\n  movq %r15, 40(%rcx)\n"
        "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n"
        "  ret\n");
#elif defined(__aarch64__)
#define NREGS 19 /* x19-x29, d8-d15 */
__asm__(".text\n"
        ".p2align 4\n"
        "test_regs_switch:\n"
        "  stp x29, x30, [sp, #-176]!\n  mov x29, sp\n"
        "  stp x19, x20, [sp, #16]\n  stp x21, x22, [sp, #32]\n  stp x23, x24, [sp, #48]\n"
        "  stp x25, x26, [sp, #64]\n  stp x27, x28, [sp, #80]\n"
        "  stp d8, d9, [sp, #96]\n  stp d10, d11, [sp, #112]\n"
        "  stp d12, d13, [sp, #128]\n  stp d14, d15, [sp, #144]\n"
        "  str x3, [sp, #160]\n"
        "  ldp x19, x20, [x2, #0]\n  ldp x21, x22, [x2, #16]\n  ldp x23, x24, [x2, #32]\n"
        "  ldp x25, x26, [x2, #48]\n  ldp x27, x28, [x2, #64]\n  ldr x29, [x2, #80]\n"
        "  ldp d8, d9, [x2, #88]\n  ldp d10, d11, [x2, #104]\n"
        "  ldp d12, d13, [x2, #120]\n  ldp d14, d15, [x2, #136]\n"
        "  bl goc__ctx_switch\n"
        "  ldr x3, [sp, #160]\n"
        "  stp x19, x20, [x3, #0]\n  stp x21, x22, [x3, #16]\n  stp x23, x24, [x3, #32]\n"
        "  stp x25, x26, [x3, #48]\n  stp x27, x28, [x3, #64]\n  str x29, [x3, #80]\n"
        "  stp d8, d9, [x3, #88]\n  stp d10, d11, [x3, #104]\n"
        "  stp d12, d13, [x3, #120]\n  stp d14, d15, [x3, #136]\n"
        "  ldp x19, x20, [sp, #16]\n  ldp x21, x22, [sp, #32]\n  ldp x23, x24, [sp, #48]\n"
        "  ldp x25, x26, [sp, #64]\n  ldp x27, x28, [sp, #80]\n"
        "  ldp d8, d9, [sp, #96]\n  ldp d10, d11, [sp, #112]\n"
        "  ldp d12, d13, [sp, #128]\n  ldp d14, d15, [sp, #144]\n"
        "  ldp x29, x30, [sp], #176\n"
        "  ret\n");
#endif

#if defined(NREGS)
void test_regs_switch(goc__ctx *from, goc__ctx *to, const uint64_t *in, uint64_t *out);

static void fill_regs(uint64_t *v, uint64_t seed)
{
	for (int i = 0; i < NREGS; i++)
		v[i] = (seed << 32) ^ (0x9e3779b97f4a7c15ull * (uint64_t)(i + 1));
}

static void check_regs(const uint64_t *got, const uint64_t *want)
{
	for (int i = 0; i < NREGS; i++)
		if (got[i] != want[i]) {
			fprintf(stderr, "callee-saved register %d: expected %#llx, got %#llx\n", i,
			        (unsigned long long)want[i], (unsigned long long)got[i]);
			exit(1);
		}
}
#endif

#define REG_ROUNDS 1000
static int reg_rounds_done;

static void regs_entry(void *arg)
{
	(void)arg;
	volatile double dv = 2.5;
	volatile uint64_t iv = 0xfeedfacecafebeefull;
	for (int r = 0;; r++) {
#if defined(NREGS)
		uint64_t in[NREGS], out[NREGS];
		fill_regs(in, 0xb0b0 + (uint64_t)r);
		test_regs_switch(&peer_ctx, &main_ctx, in, out);
		check_regs(out, in);
#else
		goc__ctx_switch(&peer_ctx, &main_ctx);
#endif
		CHECK(dv == 2.5 && iv == 0xfeedfacecafebeefull);
		reg_rounds_done = r + 1;
	}
}

static void test_callee_saved_registers_survive_switches(void)
{
	void *stk = stack_new();
	volatile double dv = -1.25;
	volatile uint64_t iv = 0x0123456789abcdefull;
	reg_rounds_done = 0;
	goc__ctx_make(&peer_ctx, stk, STACK_BYTES, regs_entry, NULL);
	for (int r = 0; r < REG_ROUNDS; r++) {
#if defined(NREGS)
		uint64_t in[NREGS], out[NREGS];
		fill_regs(in, 0xa1a1 + (uint64_t)r);
		test_regs_switch(&main_ctx, &peer_ctx, in, out);
		check_regs(out, in);
#else
		goc__ctx_switch(&main_ctx, &peer_ctx);
#endif
		CHECK(dv == -1.25 && iv == 0x0123456789abcdefull);
	}
	CHECK_EQ(reg_rounds_done, REG_ROUNDS - 1);
	free(stk);
}

/* ---- FP control word: rounding mode per context --------------------------- */

#if defined(__x86_64__)
/* MXCSR bits 13-14 and x87 CW bits 10-11 hold the rounding mode. */
enum { RM_NEAREST = 0, RM_DOWN = 1, RM_UP = 2, RM_ZERO = 3 };
static void set_rounding(unsigned rm)
{
	unsigned mxcsr;
	unsigned short cw;
	__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
	mxcsr = (mxcsr & ~0x6000u) | rm << 13;
	__asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	cw = (unsigned short)((cw & ~0xc00u) | rm << 10);
	__asm__ volatile("fldcw %0" : : "m"(cw));
}
static unsigned get_rounding(void)
{
	unsigned mxcsr;
	unsigned short cw;
	__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	unsigned a = (mxcsr >> 13) & 3, b = (cw >> 10) & 3u;
	return a == b ? a : 0xff; /* the two units must agree */
}
#elif defined(__aarch64__)
/* FPCR.RMode, bits 22-23. */
enum { RM_NEAREST = 0, RM_UP = 1, RM_DOWN = 2, RM_ZERO = 3 };
static void set_rounding(unsigned rm)
{
	uint64_t v;
	__asm__ volatile("mrs %0, fpcr" : "=r"(v));
	v = (v & ~(3ull << 22)) | (uint64_t)rm << 22;
	__asm__ volatile("msr fpcr, %0" : : "r"(v));
}
static unsigned get_rounding(void)
{
	uint64_t v;
	__asm__ volatile("mrs %0, fpcr" : "=r"(v));
	return (unsigned)(v >> 22) & 3;
}
#else
#include <fenv.h>
enum { RM_NEAREST = FE_TONEAREST, RM_DOWN = FE_DOWNWARD, RM_UP = FE_UPWARD, RM_ZERO = FE_TOWARDZERO };
static void set_rounding(unsigned rm) { fesetround((int)rm); }
static unsigned get_rounding(void) { return (unsigned)fegetround(); }
#endif

static unsigned fp_seen_at_entry;
static int fp_rounds;

static void fp_entry(void *arg)
{
	(void)arg;
	fp_seen_at_entry = get_rounding();
	set_rounding(RM_ZERO);
	for (;;) {
		goc__ctx_switch(&peer_ctx, &main_ctx);
		CHECK_EQ(get_rounding(), RM_ZERO);
		/* The mode really is in force: 1/3 rounds toward zero. */
		volatile double one = 1.0, three = 3.0;
		volatile double down = one / three;
		set_rounding(RM_UP);
		volatile double up = one / three;
		set_rounding(RM_ZERO);
		CHECK(down < up);
		fp_rounds++;
	}
}

static void test_fp_rounding_mode_is_per_context(void)
{
	void *stk = stack_new();
	unsigned saved = get_rounding();
	set_rounding(RM_UP);
	fp_rounds = 0;
	goc__ctx_make(&peer_ctx, stk, STACK_BYTES, fp_entry, NULL);
	set_rounding(RM_DOWN); /* after make: the new context keeps RM_UP */
	for (int i = 0; i < 100; i++) {
		goc__ctx_switch(&main_ctx, &peer_ctx);
		CHECK_EQ(get_rounding(), RM_DOWN);
	}
	CHECK_EQ(fp_seen_at_entry, RM_UP);
	CHECK_EQ(fp_rounds, 99);
	set_rounding(saved);
	free(stk);
}

/* ---- stack alignment at entry ----------------------------------------------- */

static uintptr_t seen_frame, seen_local;
static char seen_text[32];

static __attribute__((noinline)) void note_alignment(void)
{
	_Alignas(16) volatile char local[16];
	local[0] = 1;
	seen_frame = (uintptr_t)__builtin_frame_address(0);
	seen_local = (uintptr_t)local;
}

static void align_entry(void *arg)
{
	note_alignment();
	/* printf with doubles uses aligned vector stores on x86-64. */
	snprintf(seen_text, sizeof seen_text, "%.2f", *(double *)arg);
	for (;;)
		goc__ctx_switch(&peer_ctx, &main_ctx);
}

static void test_new_context_stack_is_16_byte_aligned(void)
{
	/* Odd bounds: make must align the top itself. */
	char *stk = stack_new();
	double d = 3.25;
	for (size_t skew = 0; skew < 16; skew += 3) {
		seen_frame = seen_local = 1;
		goc__ctx_make(&peer_ctx, stk + skew, STACK_BYTES - 16 - 2 * skew, align_entry, &d);
		goc__ctx_switch(&main_ctx, &peer_ctx);
		CHECK_EQ(seen_frame % 16, 0);
		CHECK_EQ(seen_local % 16, 0);
		CHECK(strcmp(seen_text, "3.25") == 0);
	}
	free(stk);
}

/* ---- 1000 contexts round-robin --------------------------------------------- */

#define RR_N 1000
#define RR_ROUNDS 50
static goc__ctx rr_ctx[RR_N];
static long rr_step;

static void rr_entry(void *arg)
{
	int i = (int)(intptr_t)arg;
	for (;;) {
		if (rr_step % RR_N != i) {
			fprintf(stderr, "context %d ran at step %ld\n", i, rr_step);
			exit(1);
		}
		rr_step++;
		goc__ctx_switch(&rr_ctx[i], i + 1 < RR_N ? &rr_ctx[i + 1] : &main_ctx);
	}
}

static void test_thousand_contexts_round_robin(void)
{
	void **stacks = calloc(RR_N, sizeof *stacks);
	CHECK(stacks != NULL);
	for (int i = 0; i < RR_N; i++) {
		stacks[i] = stack_new();
		goc__ctx_make(&rr_ctx[i], stacks[i], STACK_BYTES, rr_entry, (void *)(intptr_t)i);
	}
	rr_step = 0;
	for (int r = 0; r < RR_ROUNDS; r++) {
		goc__ctx_switch(&main_ctx, &rr_ctx[0]);
		CHECK_EQ(rr_step, (long)(r + 1) * RR_N);
	}
	for (int i = 0; i < RR_N; i++)
		free(stacks[i]);
	free(stacks);
}

int main(void)
{
	RUN(test_ping_pong_alternates_between_two_contexts);
	RUN(test_callee_saved_registers_survive_switches);
	RUN(test_fp_rounding_mode_is_per_context);
	RUN(test_new_context_stack_is_16_byte_aligned);
	RUN(test_thousand_contexts_round_robin);
	return 0;
}
