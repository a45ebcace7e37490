/* chain.c - bench=chain (../shared/bench/SPEC.md): a daisy chain of n
 * goroutines; goroutine i receives from channel i and sends the value plus
 * one on channel i+1. Main sends 1 into the first channel and receives n+1
 * from the last. ns_per_op is one link, including building the chain
 * (default n = 100,000). GOC_PROCS defaults to 1.
 *
 * Like the Go program, the channels are not freed: the chain's goroutines
 * hold them until they finish, and the process ends right after. */
#define NAME "chain"

#include <goc.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void fail(const char *msg, long a, long b)
{
	fprintf(stderr, NAME ": %s (%ld, want %ld)\n", msg, a, b);
	exit(1);
}

/* n: the first argument, or def. */
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

static void report(long n, int64_t elapsed)
{
	printf("bench=" NAME " impl=goc procs=%d n=%ld ns_per_op=%.1f\n", goc_procs(0), n,
	       (double)elapsed / (double)n);
}

struct link { goc_chan *from, *to; };

static void whisper(void *arg)
{
	struct link *l = arg;
	long v;
	goc_recv(l->from, &v);
	v++;
	goc_send(l->to, &v);
}

static int bench(int argc, char **argv)
{
	long n = setup(argc, argv, 100000);

	/* Kept only to release the channels after the clock stops (the Go
	 * program leaves them to its collector). */
	goc_chan **all = malloc(sizeof *all * (size_t)(n + 1));
	if (!all)
		fail("out of memory", 0, n);

	int64_t start = now_ns();
	goc_chan *first = goc_chan_make(sizeof(long), 0), *left = first;
	all[0] = first;
	for (long i = 0; i < n; i++) {
		goc_chan *right = goc_chan_make(sizeof(long), 0);
		struct link l = { left, right };
		if (!right || goc_go_copy(whisper, &l, sizeof l) != 0)
			fail("building the chain", i, n);
		all[i + 1] = right;
		left = right;
	}
	long v = 1;
	goc_send(first, &v);
	goc_recv(left, &v);
	int64_t elapsed = now_ns() - start;

	if (v != n + 1)
		fail("last channel gave the wrong value", v, n + 1);
	/* Every whisper has sent, so none still uses its channels. */
	for (long i = 0; i <= n; i++)
		goc_chan_release(all[i]);
	free(all);
	report(n, elapsed);
	return 0;
}

int main(int argc, char **argv)
{
	if (!getenv("GOC_PROCS"))
		goc_procs(1); /* the suite's default: one worker */
	return goc_main(bench, argc, argv);
}
