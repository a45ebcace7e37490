/* test_stack_scale.c - stacks at scale: a million alive at once within the
 * default vm.max_map_count, touched memory given back to the OS after
 * free (trim, and the paced scavenger's excess only), and alloc/free from several threads at once. */
#include "../src/stack/stack.h"
#include "goc.h"
#include "check.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

/* argv[0], to re-execute this test (under valgrind too). */
static const char *self_path;

static long count_mappings(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	CHECK(f != NULL);
	long n = 0;
	int c;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static long max_map_count(void)
{
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
	long v = 65530;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = 65530;
		fclose(f);
	}
	return v;
}

/* A "Vm...:" figure from /proc/self/status, in bytes. */
static size_t status_bytes(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	CHECK(f != NULL);
	char line[256];
	size_t kb = 0, klen = strlen(key);
	while (fgets(line, sizeof line, f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			kb = strtoull(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	CHECK(kb > 0);
	return kb * KiB;
}

static size_t rss_bytes(void)
{
	return status_bytes("VmRSS");
}

static int cmp_lo(const void *a, const void *b)
{
	const goc__stack *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static bool markers;

static void test_million_stacks_alive_at_once(void)
{
	enum { N = 1000000 };
	/* Just the allocator: no goroutine will touch these pages. */
	goc__stack_set_prefault(false);
	long maps_before = count_mappings(), max = max_map_count();
	size_t vm_before = status_bytes("VmSize");
	goc__stack *s = calloc(N, sizeof *s);
	CHECK(s != NULL);
	long guarded = 0;
	for (long i = 0; i < N; i++) {
		int rc = goc__stack_alloc(&s[i], 0);
		if (rc != 0) {
			fprintf(stderr, "alloc %ld failed: %d\n", i, rc);
			exit(1);
		}
		guarded += goc__stack_is_guarded(&s[i]);
		if (i % 997 == 0) {
			s[i].lo[s[i].size - 1] = 1; /* as a goroutine's first frame */
			CHECK(goc__stack_canary_ok(&s[i]));
		}
	}
	long maps_alive = count_mappings();
	fprintf(stderr, "    %d stacks: %ld guarded, mappings %ld -> %ld (max %ld)\n", N, guarded,
	        maps_before, maps_alive, max);
	/* Guards where the budget allows, and at least half the mapping limit
	 * left to the application. */
	if (markers)
		CHECK_EQ(guarded, N);
	else
		CHECK(guarded >= 1000);
	CHECK(maps_alive - maps_before <= max / 2);

	/* Pairwise disjoint. */
	goc__stack *sorted = malloc(sizeof *s * N);
	CHECK(sorted != NULL);
	memcpy(sorted, s, sizeof *s * N);
	qsort(sorted, N, sizeof *sorted, cmp_lo);
	for (long i = 0; i + 1 < N; i++)
		CHECK(sorted[i].lo + sorted[i].size <= sorted[i + 1].lo);
	free(sorted);

	for (long i = 0; i < N; i++)
		goc__stack_free(&s[i]);
	goc__stack_trim();
	/* Every slab unmapped: they were 320 GiB of address space. (The
	 * mapping count is no measure here: sanitizers keep shadow mappings
	 * of unmapped regions.) */
	CHECK(status_bytes("VmSize") < vm_before + 1024 * MiB);
	free(s);
	goc__stack_set_prefault(true);
}

/* Again in a fresh process whose guards are mprotect'd within the mapping
 * budget: what a stock kernel before 6.13 with max_map_count 65530 gets. */
static void test_million_stacks_with_mprotect_guards(void)
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

static void test_touched_memory_goes_back_to_the_os(void)
{
	enum { N = 1024 };
	const size_t touch = 128 * KiB;
	static goc__stack s[N];
	goc__stack_trim();
	size_t base = rss_bytes();
	for (int i = 0; i < N; i++) {
		CHECK_EQ(goc__stack_alloc(&s[i], 0), 0);
		memset(s[i].lo + s[i].size - touch, 0x33, touch);
	}
	size_t full = rss_bytes();
	CHECK(full >= base + N * touch * 9 / 10);
	for (int i = 0; i < N; i++)
		goc__stack_free(&s[i]);
	size_t freed = rss_bytes();
	fprintf(stderr, "    rss: base %zu MiB, touched %zu MiB, freed %zu MiB", base / MiB,
	        full / MiB, freed / MiB);
	/* The pool keeps up to 4096 recently freed stacks warm (stack.c): a
	 * free returns nothing yet, and loses nothing. Measured as drops: a
	 * sanitizer's shadow of the touched memory stays resident, and is not
	 * ours to return. */
	CHECK(freed <= full + MiB);
	goc__stack_trim();
	size_t trimmed = rss_bytes();
	fprintf(stderr, ", trimmed %zu MiB\n", trimmed / MiB);
	CHECK(full - trimmed >= N * touch * 9 / 10);
	/* Reused after trim: zero again (fresh pages), canaries intact. */
	for (int i = 0; i < 8; i++) {
		CHECK_EQ(goc__stack_alloc(&s[i], 0), 0);
		CHECK(goc__stack_canary_ok(&s[i]));
		CHECK_EQ(s[i].lo[s[i].size - 1], 0);
	}
	for (int i = 0; i < 8; i++)
		goc__stack_free(&s[i]);
}

/* Freeing gives nothing back on the spot; the scavenger (the monitor calls
 * it, paced) returns the free stacks beyond the 4096 the pool keeps warm,
 * oldest first, and only those. */
static void test_scavenger_returns_the_excess_only(void)
{
	enum { KEEP = 4096, EXTRA = 1024, N = KEEP + EXTRA };
	static goc__stack s[N];
	goc__stack_trim();
	for (int i = 0; i < N; i++) {
		CHECK_EQ(goc__stack_alloc(&s[i], 0), 0);
		memset(s[i].lo + s[i].size - 4 * KiB, 0x5a, 4 * KiB);
	}
	size_t full = rss_bytes();
	char *last = s[N - 1].lo;
	for (int i = 0; i < N; i++)
		goc__stack_free(&s[i]);
	CHECK(rss_bytes() <= full + MiB);
	CHECK_EQ(goc__stack_scavenge(INT64_MAX), EXTRA);
	size_t scavenged = rss_bytes();
	fprintf(stderr, "    rss: touched %zu KiB, after scavenge %zu KiB\n", full / KiB, scavenged / KiB);
	CHECK(full - scavenged >= EXTRA * 4 * KiB * 9 / 10);
	CHECK(full - scavenged <= (EXTRA + KEEP / 4) * 4 * KiB);
	CHECK_EQ(goc__stack_scavenge(INT64_MAX), 0); /* nothing beyond the keep */
	/* The newest (kept) come back warm: the last freed is the first out. */
	goc__stack t;
	CHECK_EQ(goc__stack_alloc(&t, 0), 0);
	CHECK(t.lo == last);
	CHECK_EQ((unsigned char)t.lo[t.size - 1], 0x5a);
	goc__stack_free(&t);
	goc__stack_trim();
	CHECK(rss_bytes() + KEEP * 4 * KiB * 9 / 10 <= scavenged);
}

#define THREADS 4
#define OPS 20000
#define LIVE 64

static void *churn(void *arg)
{
	uint64_t id = (uint64_t)(uintptr_t)arg, x = 0x9e3779b97f4a7c15ull * (id + 1);
	static const size_t sizes[] = {0, 16 * KiB, 64 * KiB, 0};
	goc__stack live[LIVE];
	uint64_t tag[LIVE];
	int n = 0;
	for (int op = 0; op < OPS; op++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (n < LIVE && (n == 0 || x % 3 != 0)) {
			CHECK_EQ(goc__stack_alloc(&live[n], sizes[x % 4]), 0);
			tag[n] = (id << 48) | (uint64_t)op;
			memcpy(live[n].lo + live[n].size - 8, &tag[n], 8);
			memcpy(live[n].lo + GOC__STACK_CANARY_BYTES, &tag[n], 8);
			n++;
		} else {
			int k = (int)(x % (uint64_t)n);
			uint64_t top, bottom;
			memcpy(&top, live[k].lo + live[k].size - 8, 8);
			memcpy(&bottom, live[k].lo + GOC__STACK_CANARY_BYTES, 8);
			CHECK(top == tag[k] && bottom == tag[k]);
			CHECK(goc__stack_canary_ok(&live[k]));
			goc__stack_free(&live[k]);
			live[k] = live[--n];
			tag[k] = tag[n];
		}
	}
	while (n > 0)
		goc__stack_free(&live[--n]);
	return NULL;
}

static void test_threads_allocate_and_free_concurrently(void)
{
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		CHECK(pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)i) == 0);
	for (int i = 0; i < THREADS; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	goc__stack_trim();
}

int main(int argc, char **argv)
{
	self_path = argv[0];
	if (argc > 1 && strcmp(argv[1], "--mprotect-guards") == 0) {
		CHECK(!goc__stack_set_guard_markers(false));
		fprintf(stderr, " with mprotect guards:\n");
		RUN(test_million_stacks_alive_at_once);
		return 0;
	}
	markers = goc__stack_set_guard_markers(true);
	fprintf(stderr, " with %s guards:\n", markers ? "marker" : "mprotect");
	RUN(test_million_stacks_alive_at_once);
	RUN(test_touched_memory_goes_back_to_the_os);
	RUN(test_scavenger_returns_the_excess_only);
	RUN(test_threads_allocate_and_free_concurrently);
	RUN(test_million_stacks_with_mprotect_guards);
	return 0;
}
