/* spawn.c - bench=spawn (../shared/bench/SPEC.md): main spawns n goroutines
 * that each only call Done on a waitgroup, then waits; ns_per_op is one
 * goroutine, start to finish (default n = 1,000,000). The check is that the
 * wait returns. GOC_PROCS defaults to 1. */
#include <goc.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NAME "spawn"

static goc_waitgroup wg = GOC_WAITGROUP_INIT;

static void fail(const char *msg)
{
	fprintf(stderr, NAME ": %s\n", msg);
	exit(1);
}

static long setup(int argc, char **argv, long def)
{
	if (argc > 2)
		fail("usage: " NAME " [n]");
	if (argc < 2)
		return def;
	char *end;
	long n = strtol(argv[1], &end, 10);
	if (*end || n < 1)
		fail("n must be a positive integer");
	return n;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void done(void *arg)
{
	(void)arg;
	goc_waitgroup_done(&wg);
}

static int bench(int argc, char **argv)
{
	long n = setup(argc, argv, 1000000);
	int64_t start = now_ns();
	goc_waitgroup_add(&wg, (int)n);
	for (long i = 0; i < n; i++)
		if (goc_go(done, NULL) != 0)
			fail("goc_go failed");
	if (goc_waitgroup_wait(&wg) != 0)
		fail("wait failed");
	int64_t elapsed = now_ns() - start;
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
