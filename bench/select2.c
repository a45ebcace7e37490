/* select2.c - bench=select2 (../shared/bench/SPEC.md): two producers each
 * send 1, 2, ... (n/2 values, the second one more when n is odd) on their
 * own unbuffered channel; one consumer selects over both until it has n
 * values and checks each channel's sum. ns_per_op is one received value
 * (default n = 2,000,000). GOC_PROCS defaults to 1. */
#define NAME "select2"

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

struct producer { goc_chan *ch; long count; };

static goc_waitgroup running = GOC_WAITGROUP_INIT;

static void produce(void *arg)
{
	struct producer p = *(struct producer *)arg; /* main's frame may go */
	for (long i = 1; i <= p.count; i++)
		goc_send(p.ch, &i);
	goc_chan_release(p.ch);
	goc_waitgroup_done(&running);
}

static int bench(int argc, char **argv)
{
	long n = setup(argc, argv, 2000000);
	struct producer p[2] = {
		{ goc_chan_make(sizeof(long), 0), n / 2 },
		{ goc_chan_make(sizeof(long), 0), n - n / 2 },
	};
	if (!p[0].ch || !p[1].ch)
		fail("channel", 0, 1);

	int64_t start = now_ns();
	/* Each producer gets its own reference and releases it when done. */
	goc_chan_retain(p[0].ch);
	goc_chan_retain(p[1].ch);
	goc_waitgroup_add(&running, 2);
	if (goc_go(produce, &p[0]) != 0 || goc_go(produce, &p[1]) != 0)
		fail("spawn", 0, 1);
	long sums[2] = { 0, 0 }, v;
	goc_case cs[] = { goc_case_recv(p[0].ch, &v), goc_case_recv(p[1].ch, &v) };
	for (long got = 0; got < n; got++) {
		int i = GOC_SELECT(cs);
		if (i < 0 || !goc_case_ok(&cs[i]))
			fail("select failed", i, 0);
		sums[i] += v;
	}
	int64_t elapsed = now_ns() - start;
	goc_chan_release(p[0].ch);
	goc_chan_release(p[1].ch);
	goc_waitgroup_wait(&running);

	for (int i = 0; i < 2; i++)
		if (sums[i] != p[i].count * (p[i].count + 1) / 2)
			fail("wrong sum from a producer", sums[i], p[i].count * (p[i].count + 1) / 2);
	report(n, elapsed);
	return 0;
}

int main(int argc, char **argv)
{
	if (!getenv("GOC_PROCS"))
		goc_procs(1); /* the suite's default: one worker */
	return goc_main(bench, argc, argv);
}
