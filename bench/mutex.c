/* mutex.c - bench=mutex (../shared/bench/SPEC.md): 100 goroutines each do
 * n/100 lock, increment, unlock on one shared goc_mutex; the count must come
 * to n. ns_per_op is one lock/unlock pair (default n = 10,000,000; n must be
 * a multiple of 100). GOC_PROCS defaults to 1. */
#include <goc.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NAME "mutex"
#define GOROUTINES 100

static goc_mutex mu = GOC_MUTEX_INIT;
static goc_waitgroup wg = GOC_WAITGROUP_INIT;
static long count;   /* guarded by mu */
static long per_goroutine;

static void fail(const char *msg, long a, long b)
{
	fprintf(stderr, NAME ": %s (%ld, want %ld)\n", msg, a, b);
	exit(1);
}

static long setup(int argc, char **argv, long def)
{
	if (argc > 2)
		fail("usage: " NAME " [n]", argc, 2);
	if (argc < 2)
		return def;
	char *end;
	long n = strtol(argv[1], &end, 10);
	if (*end || n < 1)
		fail("n must be a positive integer", n, 1);
	return n;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void worker(void *arg)
{
	(void)arg;
	for (long i = 0; i < per_goroutine; i++) {
		goc_mutex_lock(&mu);
		count++;
		goc_mutex_unlock(&mu);
	}
	goc_waitgroup_done(&wg);
}

static int bench(int argc, char **argv)
{
	long n = setup(argc, argv, 10000000);
	if (n % GOROUTINES != 0)
		fail("n must be a multiple of 100", n % GOROUTINES, 0);
	per_goroutine = n / GOROUTINES;

	int64_t start = now_ns();
	goc_waitgroup_add(&wg, GOROUTINES);
	for (int g = 0; g < GOROUTINES; g++)
		if (goc_go(worker, NULL) != 0)
			fail("goc_go failed", g, GOROUTINES);
	goc_waitgroup_wait(&wg);
	int64_t elapsed = now_ns() - start;

	if (count != n)
		fail("wrong count", count, n);
	printf("bench=" NAME " impl=goc procs=%d n=%ld ns_per_op=%.1f\n", goc_procs(0), n,
	       (double)elapsed / (double)n);
	return 0;
}

int main(int argc, char **argv)
{
	if (!getenv("GOC_PROCS"))
		goc_procs(1);
	return goc_main(bench, argc, argv);
}
