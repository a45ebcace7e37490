/* switch.c - bench=switch: nanoseconds per goc__ctx_switch.
 *
 * Two contexts ping-pong on one thread: main switches to the peer, the peer
 * counts and switches back; n switches (n/2 round trips, n rounded down to
 * even; default 10,000,000, argv[1] overrides). Beside it, raw_ns: a bare
 * call of a function that saves and restores the same registers and FP
 * control words, but stays on its stack: the floor a switch is compared
 * with (the target: within 2x). The difference is mostly the
 * return-address predictor, which a stack switch defeats.
 * Prints one SPEC line (../shared/bench/SPEC.md); exits 1 if the peer's
 * count is wrong. procs is always 1: no scheduler is involved.
 */
#include "../src/arch/arch.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define DEFAULT_N 10000000L
#define STACK_BYTES (64 * 1024)

/* raw_save_restore(): the switch's saves and restores, no stack change. */
#if defined(__x86_64__)
__asm__(".text\n"
        ".p2align 4\n"
        "raw_save_restore:\n"
        "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
        "  subq $8, %rsp\n"
        "  stmxcsr 4(%rsp)\n  fnstcw (%rsp)\n"
        "  fldcw (%rsp)\n  ldmxcsr 4(%rsp)\n"
        "  addq $8, %rsp\n"
        "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n"
        "  ret\n");
#elif defined(__aarch64__)
__asm__(".text\n"
        ".p2align 4\n"
        "raw_save_restore:\n"
        "  sub sp, sp, #176\n"
        "  stp x19, x20, [sp, #0]\n  stp x21, x22, [sp, #16]\n  stp x23, x24, [sp, #32]\n"
        "  stp x25, x26, [sp, #48]\n  stp x27, x28, [sp, #64]\n  stp x29, x30, [sp, #80]\n"
        "  stp d8, d9, [sp, #96]\n  stp d10, d11, [sp, #112]\n"
        "  stp d12, d13, [sp, #128]\n  stp d14, d15, [sp, #144]\n"
        "  mrs x9, fpcr\n  str x9, [sp, #160]\n"
        "  ldr x10, [sp, #160]\n  cmp x9, x10\n  b.eq 1f\n  msr fpcr, x10\n"
        "1:\n"
        "  ldp x19, x20, [sp, #0]\n  ldp x21, x22, [sp, #16]\n  ldp x23, x24, [sp, #32]\n"
        "  ldp x25, x26, [sp, #48]\n  ldp x27, x28, [sp, #64]\n  ldp x29, x30, [sp, #80]\n"
        "  ldp d8, d9, [sp, #96]\n  ldp d10, d11, [sp, #112]\n"
        "  ldp d12, d13, [sp, #128]\n  ldp d14, d15, [sp, #144]\n"
        "  add sp, sp, #176\n"
        "  ret\n");
#else
/* The ucontext fallback: a switch from a context to itself. */
static goc__ctx self_ctx;
static void raw_save_restore(void)
{
	goc__ctx_switch(&self_ctx, &self_ctx);
}
#define RAW_IN_C 1
#endif

#if !defined(RAW_IN_C)
void raw_save_restore(void);
#endif

static goc__ctx main_ctx, peer_ctx;

static void peer(void *arg)
{
	long *count = arg;
	for (;;) {
		(*count)++;
		goc__ctx_switch(&peer_ctx, &main_ctx);
	}
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void round_trips(long rounds)
{
	for (long i = 0; i < rounds; i++)
		goc__ctx_switch(&main_ctx, &peer_ctx);
}

static void raw_calls(long calls)
{
	/* Through a volatile pointer: the call cannot be inlined or elided. */
	void (*volatile fn)(void) = raw_save_restore;
	for (long i = 0; i < calls; i++)
		fn();
}

int main(int argc, char **argv)
{
	long n = DEFAULT_N;
	if (argc > 1) {
		char *end;
		n = strtol(argv[1], &end, 10);
		if (*end != '\0' || n < 2) {
			fprintf(stderr, "usage: %s [n >= 2]\n", argv[0]);
			return 2;
		}
	}
	long rounds = n / 2;
	n = rounds * 2;

	void *stack = aligned_alloc(16, STACK_BYTES);
	if (!stack) {
		fprintf(stderr, "switch: out of memory\n");
		return 1;
	}
	long count = 0;
	goc__ctx_make(&peer_ctx, stack, STACK_BYTES, peer, &count);

	round_trips(rounds / 10 + 1); /* warm up: caches, predictors, page faults */
	long warm = count;
	int64_t t0 = now_ns();
	round_trips(rounds);
	int64_t t1 = now_ns();
	if (count - warm != rounds) {
		fprintf(stderr, "switch: peer ran %ld times, expected %ld\n", count - warm, rounds);
		return 1;
	}

	raw_calls(n / 10 + 1);
	int64_t t2 = now_ns();
	raw_calls(n);
	int64_t t3 = now_ns();

	printf("bench=switch impl=goc procs=1 n=%ld ns_per_op=%.3f raw_ns=%.3f\n", n,
	       (double)(t1 - t0) / (double)n, (double)(t3 - t2) / (double)n);
	free(stack);
	return 0;
}
