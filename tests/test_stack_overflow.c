/* test_stack_overflow.c - what happens when a stack overflows: a guarded
 * stack faults at once (and a SIGSEGV handler can tell it was an overflow),
 * an unguarded one trips its canary while the gap below keeps the
 * neighbouring stack intact. Each case runs in a forked child. */
#include "../src/arch/arch.h"
#include "../src/stack/stack.h"
#include "goc.h"
#include "check.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* argv[0], to re-execute this test (under valgrind too). */
static const char *self_path;

static goc__ctx main_ctx, deep_ctx;
static char *stop_below;

/* Recurse, writing every frame as real code does, until a frame lies below
 * stop_below; then switch back to main from the deepest point. */
static __attribute__((noinline)) void dig(int depth)
{
	volatile char frame[256];
	for (size_t i = 0; i < sizeof frame; i++)
		frame[i] = (char)(0x40 + (depth & 0x3f));
	if ((char *)frame > stop_below)
		dig(depth + 1);
	else
		goc__ctx_switch(&deep_ctx, &main_ctx);
	frame[0] = frame[1]; /* not a tail call */
}

static void dig_entry(void *arg)
{
	(void)arg;
	dig(0);
	for (;;)
		goc__ctx_switch(&deep_ctx, &main_ctx);
}

static void run_dig(goc__stack *s, char *below)
{
	stop_below = below;
	goc__ctx_make(&deep_ctx, s->lo, s->size, dig_entry, NULL);
	goc__ctx_switch(&main_ctx, &deep_ctx);
}

/* Fork; the child runs fn and exits 0 unless it dies first. */
static int in_child(void (*fn)(void))
{
	fflush(stderr);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct rlimit no_core = {0, 0};
		setrlimit(RLIMIT_CORE, &no_core);
		fn();
		_exit(0);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	return st;
}

/* ---- guarded stacks ------------------------------------------------------- */

static void overflow_guarded_stack(void)
{
	/* The default action, even where a sanitizer installed a handler. */
	signal(SIGSEGV, SIG_DFL);
	goc__stack s;
	CHECK_EQ(goc__stack_alloc(&s, 0), 0);
	CHECK(goc__stack_is_guarded(&s));
	run_dig(&s, s.lo - 32 * 1024);
	_exit(3); /* reached only if the overflow did not fault */
}

static void test_guarded_overflow_dies_with_sigsegv(void)
{
	int st = in_child(overflow_guarded_stack);
	CHECK(WIFSIGNALED(st));
	CHECK_EQ(WTERMSIG(st), SIGSEGV);
}

static goc__stack handler_stack;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	_exit(goc__stack_guard_hit(&handler_stack, si->si_addr) ? 42 : 43);
}

static void overflow_with_handler(void)
{
	stack_t alt = {.ss_sp = malloc(64 * 1024), .ss_size = 64 * 1024};
	CHECK(alt.ss_sp && sigaltstack(&alt, NULL) == 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
	CHECK_EQ(goc__stack_alloc(&handler_stack, 64 * 1024), 0);
	CHECK(goc__stack_is_guarded(&handler_stack));
	run_dig(&handler_stack, handler_stack.lo - 32 * 1024);
	_exit(3);
}

static void test_guard_hit_tells_a_segv_handler_it_was_an_overflow(void)
{
	int st = in_child(overflow_with_handler);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 42);
}

/* A fault elsewhere is not an overflow. */
static void wild_write_with_handler(void)
{
	stack_t alt = {.ss_sp = malloc(64 * 1024), .ss_size = 64 * 1024};
	CHECK(alt.ss_sp && sigaltstack(&alt, NULL) == 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
	CHECK_EQ(goc__stack_alloc(&handler_stack, 0), 0);
	char *volatile wild = (char *)(uintptr_t)64; /* opaque to the compiler */
	*wild = 1;
	_exit(3);
}

static void test_guard_hit_is_false_for_other_faults(void)
{
	int st = in_child(wild_write_with_handler);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 43);
}

/* ---- unguarded stacks: the canary ------------------------------------------ */

#define NPICK 64
#define PATTERN 0x5a

static void overflow_unguarded_stack(void)
{
	goc__stack_set_guard_limit(0);
	goc__stack s[NPICK];
	int n = 0;
	/* Recycled stacks keep their guards; fresh ones get none now. */
	for (int i = 0; i < NPICK; i++) {
		CHECK_EQ(goc__stack_alloc(&s[i], 0), 0);
		if (!goc__stack_is_guarded(&s[i]))
			s[n++] = s[i];
	}
	CHECK(n >= 2);
	/* A victim and the stack just below it in its slab. */
	int v = -1, below = -1;
	for (int i = 0; i < n && v < 0; i++)
		for (int j = 0; j < n; j++)
			if (s[i].lo > s[j].lo + s[j].size && s[i].lo - (s[j].lo + s[j].size) <= 68 * 1024 /* GAP_BYTES */) {
				v = i;
				below = j;
				break;
			}
	CHECK(v >= 0);
	goc__stack *vs = &s[v], *ns = &s[below];
	memset(ns->lo + ns->size - 8192, PATTERN, 8192);
	CHECK(goc__stack_canary_ok(vs));

	/* 16 KiB past the end: no fault, the canary is gone. */
	run_dig(vs, vs->lo - 16 * 1024);
	CHECK(!goc__stack_canary_ok(vs));
	CHECK(goc__stack_guard_hit(vs, vs->lo - 16 * 1024));
	/* The gap took the overflow: the neighbour's top is intact. */
	for (int k = 0; k < 8192; k++)
		CHECK_EQ((unsigned char)ns->lo[ns->size - 8192 + k], PATTERN);
	CHECK(goc__stack_canary_ok(ns));
	_exit(0);
}

static void test_unguarded_overflow_breaks_canary_not_neighbour(void)
{
	int st = in_child(overflow_unguarded_stack);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
}

/* Deep use that stays above the canary is not an overflow. */
static void deep_use_unguarded(void)
{
	goc__stack_set_guard_limit(0);
	goc__stack s;
	do
		CHECK_EQ(goc__stack_alloc(&s, 64 * 1024), 0);
	while (goc__stack_is_guarded(&s));
	run_dig(&s, s.lo + GOC__STACK_CANARY_BYTES + 1024);
	CHECK(goc__stack_canary_ok(&s));
	_exit(0);
}

static void test_deep_use_within_the_stack_keeps_the_canary(void)
{
	int st = in_child(deep_use_unguarded);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
}

static void run_guarded_suite(void)
{
	RUN(test_guarded_overflow_dies_with_sigsegv);
	RUN(test_guard_hit_tells_a_segv_handler_it_was_an_overflow);
	RUN(test_guard_hit_is_false_for_other_faults);
}

/* The guard tests again in a fresh process whose guards are mprotect'd
 * within the mapping budget: the scheme kernels before 6.13 get. */
static void test_guards_work_with_mprotect_too(void)
{
	fflush(stderr);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		execl(self_path, self_path, "--mprotect-guards", (char *)NULL);
		_exit(127);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
}

int main(int argc, char **argv)
{
	self_path = argv[0];
	if (argc > 1 && strcmp(argv[1], "--mprotect-guards") == 0) {
		CHECK(!goc__stack_set_guard_markers(false));
		fprintf(stderr, " with mprotect guards:\n");
		run_guarded_suite();
		return 0;
	}
	fprintf(stderr, " with %s guards:\n", goc__stack_set_guard_markers(true) ? "marker" : "mprotect");
	run_guarded_suite();
	RUN(test_unguarded_overflow_breaks_canary_not_neighbour);
	RUN(test_deep_use_within_the_stack_keeps_the_canary);
	RUN(test_guards_work_with_mprotect_too);
	return 0;
}
