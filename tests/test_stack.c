/* test_stack.c - goroutine stacks (src/stack/): sizes, classes, reuse,
 * canary and guard queries. Overflows are in test_stack_overflow.c, the
 * million-stack and memory-return checks in test_stack_scale.c. */
#include "../src/stack/stack.h"
#include "goc.h"
#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

/* argv[0], to re-execute this test (under valgrind too). */
static const char *self_path;

/* A stack without a guard (those rely on the canary): allocate with the
 * guard cap at zero until one comes out unguarded (recycled stacks keep
 * their guards). */

static void alloc_unguarded(goc__stack *out, size_t size)
{
	enum { TRIES = 1024 };
	static goc__stack held[TRIES];
	size_t old = goc__stack_set_guard_limit(0);
	int n = 0;
	for (;;) {
		CHECK(n < TRIES);
		CHECK_EQ(goc__stack_alloc(&held[n], size), 0);
		if (!goc__stack_is_guarded(&held[n]))
			break;
		n++;
	}
	*out = held[n];
	while (n > 0)
		goc__stack_free(&held[--n]);
	goc__stack_set_guard_limit(old);
}

static void test_default_size_is_256k(void)
{
	/* CTest does not set GOC_STACK_SIZE. */
	CHECK_EQ(goc__stack_default_size(), 256 * KiB);
	goc__stack s;
	CHECK_EQ(goc__stack_alloc(&s, 0), 0);
	CHECK_EQ(s.size, 256 * KiB);
	CHECK(s.lo != NULL);
	goc__stack_free(&s);
	CHECK(s.lo == NULL);
}

/* Re-executes this binary with GOC_STACK_SIZE set; the child prints the
 * default size it sees. */
static size_t default_size_with_env(const char *value)
{
	int fd[2];
	CHECK(pipe(fd) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		dup2(fd[1], 1);
		setenv("GOC_STACK_SIZE", value, 1);
		execl(self_path, self_path, "--print-default-size", (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	char buf[64] = {0};
	ssize_t n = read(fd[0], buf, sizeof buf - 1);
	close(fd[0]);
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(n > 0);
	return (size_t)strtoull(buf, NULL, 10);
}

static void test_env_overrides_default_size_within_range(void)
{
	CHECK_EQ(default_size_with_env("65536"), 64 * KiB);
	CHECK_EQ(default_size_with_env("1m"), 1 * MiB);
	CHECK_EQ(default_size_with_env("100000"), 102400); /* page-rounded */
	CHECK_EQ(default_size_with_env("16K"), 16 * KiB);
	CHECK_EQ(default_size_with_env("1G"), 1024 * MiB);
	/* Out of range or malformed: ignored. */
	CHECK_EQ(default_size_with_env("4096"), 256 * KiB);
	CHECK_EQ(default_size_with_env("2g"), 256 * KiB);
	CHECK_EQ(default_size_with_env("lots"), 256 * KiB);
	CHECK_EQ(default_size_with_env("64kb"), 256 * KiB);
}

static void test_sizes_outside_16k_to_1g_are_einval(void)
{
	goc__stack s = {0};
	CHECK_EQ(goc__stack_alloc(&s, 1), GOC_EINVAL);
	CHECK_EQ(goc__stack_alloc(&s, 16 * KiB - 1), GOC_EINVAL);
	CHECK_EQ(goc__stack_alloc(&s, 1024 * MiB + 1), GOC_EINVAL);
	CHECK_EQ(goc__stack_alloc(&s, SIZE_MAX), GOC_EINVAL);
	CHECK_EQ(goc__stack_alloc(NULL, 0), GOC_EINVAL);
	CHECK(s.lo == NULL);
}

static void test_sizes_round_up_to_a_class(void)
{
	static const size_t want[][2] = {
		{16 * KiB, 16 * KiB},   {16 * KiB + 1, 32 * KiB}, {100 * KiB, 128 * KiB},
		{200 * KiB, 256 * KiB}, {256 * KiB, 256 * KiB},   {300 * KiB, 512 * KiB},
		{1024 * MiB, 1024 * MiB},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		goc__stack s;
		CHECK_EQ(goc__stack_alloc(&s, want[i][0]), 0);
		CHECK_EQ(s.size, want[i][1]);
		CHECK_EQ((uintptr_t)s.lo % 4096, 0);
		/* Both ends are usable. */
		s.lo[GOC__STACK_CANARY_BYTES] = 1;
		s.lo[s.size - 1] = 2;
		CHECK(goc__stack_canary_ok(&s));
		goc__stack_free(&s);
	}
}

static void test_stacks_are_disjoint_and_keep_their_data(void)
{
	enum { N = 300 };
	static const size_t sizes[] = {0, 16 * KiB, 64 * KiB, 256 * KiB, 1 * MiB};
	goc__stack s[N];
	for (int i = 0; i < N; i++) {
		CHECK_EQ(goc__stack_alloc(&s[i], sizes[i % 5]), 0);
		memset(s[i].lo + s[i].size - 512, i & 0xff, 512);
		memset(s[i].lo + GOC__STACK_CANARY_BYTES, ~i & 0xff, 64);
	}
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++)
			CHECK(s[i].lo + s[i].size <= s[j].lo || s[j].lo + s[j].size <= s[i].lo);
	/* Free every third, reallocate them, and check the others. */
	for (int i = 0; i < N; i += 3)
		goc__stack_free(&s[i]);
	for (int i = 0; i < N; i += 3) {
		CHECK_EQ(goc__stack_alloc(&s[i], sizes[i % 5]), 0);
		memset(s[i].lo + s[i].size - 512, i & 0xff, 512);
		memset(s[i].lo + GOC__STACK_CANARY_BYTES, ~i & 0xff, 64);
	}
	for (int i = 0; i < N; i++) {
		for (int k = 0; k < 512; k++)
			CHECK_EQ((unsigned char)s[i].lo[s[i].size - 512 + k], i & 0xff);
		for (int k = 0; k < 64; k++)
			CHECK_EQ((unsigned char)s[i].lo[GOC__STACK_CANARY_BYTES + k], ~i & 0xff);
		CHECK(goc__stack_canary_ok(&s[i]));
	}
	/* Free in reverse (LIFO) order. */
	for (int i = N - 1; i >= 0; i--)
		goc__stack_free(&s[i]);
}

static void test_freed_stack_is_reused_newest_first(void)
{
	goc__stack a, b, c;
	CHECK_EQ(goc__stack_alloc(&a, 0), 0);
	CHECK_EQ(goc__stack_alloc(&b, 0), 0);
	char *alo = a.lo, *blo = b.lo;
	goc__stack_free(&a);
	goc__stack_free(&b);
	CHECK_EQ(goc__stack_alloc(&c, 0), 0);
	CHECK(c.lo == blo); /* warm memory first */
	goc__stack_free(&c);
	CHECK_EQ(goc__stack_alloc(&c, 0), 0);
	CHECK(c.lo == blo);
	CHECK_EQ(goc__stack_alloc(&a, 0), 0);
	CHECK(a.lo == alo);
	goc__stack_free(&a);
	goc__stack_free(&c);
}

static void test_canary_detects_writes_at_the_low_end(void)
{
	goc__stack s;
	alloc_unguarded(&s, 0);
	CHECK(goc__stack_canary_ok(&s));
	/* Anything written in the lowest 256 bytes counts, at either end. */
	s.lo[0] = 1;
	CHECK(!goc__stack_canary_ok(&s));
	goc__stack_canary_set(&s);
	CHECK(goc__stack_canary_ok(&s));
	s.lo[GOC__STACK_CANARY_BYTES - 1] = (char)0x80;
	CHECK(!goc__stack_canary_ok(&s));
	goc__stack_canary_set(&s);
	CHECK(goc__stack_canary_ok(&s));
	/* The byte above the canary is the goroutine's. */
	s.lo[GOC__STACK_CANARY_BYTES] = 1;
	CHECK(goc__stack_canary_ok(&s));
	s.lo[GOC__STACK_CANARY_BYTES] = 0;
	goc__stack_free(&s);
}

static void test_reused_stack_never_inherits_a_broken_canary(void)
{
	goc__stack s;
	alloc_unguarded(&s, 0);
	char *lo = s.lo;
	memset(s.lo, 0xab, 100);
	CHECK(!goc__stack_canary_ok(&s));
	goc__stack_free(&s);
	size_t old = goc__stack_set_guard_limit(0); /* keep it unguarded */
	CHECK_EQ(goc__stack_alloc(&s, 0), 0);
	goc__stack_set_guard_limit(old);
	CHECK(s.lo == lo);
	CHECK(!goc__stack_is_guarded(&s));
	CHECK(goc__stack_canary_ok(&s));
	goc__stack_free(&s);
}

static void test_guarded_stack_needs_no_canary(void)
{
	goc__stack s;
	CHECK_EQ(goc__stack_alloc(&s, 0), 0);
	CHECK(goc__stack_is_guarded(&s));
	/* An overflow faults in the guard before it reaches lo: the check
	 * reads nothing (no page fault, no cache miss at each switch). */
	CHECK(goc__stack_canary_ok(&s));
	goc__stack_free(&s);
}

static void test_unguarded_stack_gains_a_guard_when_reused_within_budget(void)
{
	goc__stack s;
	alloc_unguarded(&s, 0);
	char *lo = s.lo;
	goc__stack_free(&s);
	CHECK_EQ(goc__stack_alloc(&s, 0), 0);
	CHECK(s.lo == lo);
	CHECK(goc__stack_is_guarded(&s));
	goc__stack_free(&s);
}

static void test_guard_hit_covers_the_gap_below_lo(void)
{
	goc__stack s;
	CHECK_EQ(goc__stack_alloc(&s, 0), 0);
	CHECK(goc__stack_guard_hit(&s, s.lo - 1));
	CHECK(goc__stack_guard_hit(&s, s.lo - 4096));
	CHECK(!goc__stack_guard_hit(&s, s.lo));
	CHECK(!goc__stack_guard_hit(&s, s.lo + s.size - 1));
	CHECK(!goc__stack_guard_hit(&s, s.lo + s.size + 100 * 4096));
	CHECK(!goc__stack_guard_hit(&s, NULL));
	/* A small program's first stacks are all guarded. */
	CHECK(goc__stack_is_guarded(&s));
	goc__stack_free(&s);
}

static void test_bad_input_never_crashes(void)
{
	goc__stack s = {0};
	goc__stack_free(NULL);
	goc__stack_free(&s);
	CHECK(goc__stack_canary_ok(&s));
	goc__stack_canary_set(&s);
	CHECK(!goc__stack_guard_hit(&s, (void *)16));
	CHECK(!goc__stack_guard_hit(NULL, (void *)16));
	CHECK(!goc__stack_is_guarded(&s));
	CHECK(!goc__stack_is_guarded(NULL));
}

static void test_trim_and_shutdown_keep_stacks_in_use(void)
{
	goc__stack a, b;
	CHECK_EQ(goc__stack_alloc(&a, 0), 0);
	CHECK_EQ(goc__stack_alloc(&b, 64 * KiB), 0);
	a.lo[a.size - 1] = 7;
	b.lo[b.size - 1] = 9;
	goc__stack_trim();
	goc__stack_shutdown();
	CHECK_EQ(a.lo[a.size - 1], 7);
	CHECK_EQ(b.lo[b.size - 1], 9);
	goc__stack_free(&a);
	goc__stack_free(&b);
	goc__stack_shutdown();
	/* Usable again after shutdown (the runtime may restart). */
	CHECK_EQ(goc__stack_alloc(&a, 0), 0);
	a.lo[a.size - 1] = 1;
	goc__stack_free(&a);
}

/* The whole suite again in a fresh process whose guards are mprotect'd
 * within the mapping budget: the scheme kernels before 6.13 get. */
static void test_suite_passes_with_mprotect_guards(void)
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

static void run_suite(void)
{
	RUN(test_default_size_is_256k);
	RUN(test_env_overrides_default_size_within_range);
	RUN(test_sizes_outside_16k_to_1g_are_einval);
	RUN(test_sizes_round_up_to_a_class);
	RUN(test_stacks_are_disjoint_and_keep_their_data);
	RUN(test_freed_stack_is_reused_newest_first);
	RUN(test_canary_detects_writes_at_the_low_end);
	RUN(test_reused_stack_never_inherits_a_broken_canary);
	RUN(test_guarded_stack_needs_no_canary);
	RUN(test_unguarded_stack_gains_a_guard_when_reused_within_budget);
	RUN(test_guard_hit_covers_the_gap_below_lo);
	RUN(test_bad_input_never_crashes);
	RUN(test_trim_and_shutdown_keep_stacks_in_use);
}

int main(int argc, char **argv)
{
	self_path = argv[0];
	if (argc > 1 && strcmp(argv[1], "--print-default-size") == 0) {
		printf("%zu\n", goc__stack_default_size());
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--mprotect-guards") == 0) {
		CHECK(!goc__stack_set_guard_markers(false));
		fprintf(stderr, " with mprotect guards:\n");
		run_suite();
		return 0;
	}
	fprintf(stderr, " with %s guards:\n", goc__stack_set_guard_markers(true) ? "marker" : "mprotect");
	run_suite();
	RUN(test_suite_passes_with_mprotect_guards);
	return 0;
}
