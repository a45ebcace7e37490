/* buffered.c - bench=buffered (../shared/bench/SPEC.md): one producer sends
 * 1..n on an int channel of capacity 1024 and closes it; the consumer
 * receives until closed and checks the sum. ns_per_op is one message
 * (default n = 10,000,000). GOC_PROCS defaults to 1. */
#define NAME "buffered"

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

static goc_chan *ch;
static long count;

static void produce(void *arg)
{
	(void)arg;
	for (long i = 1; i <= count; i++)
		goc_send(ch, &i);
	goc_close(ch);
}

static int bench(int argc, char **argv)
{
	long n = setup(argc, argv, 10000000);
	count = n;
	ch = goc_chan_make(sizeof(long), 1024);
	if (!ch)
		fail("channel", 0, 1);

	int64_t start = now_ns();
	if (goc_go(produce, NULL) != 0)
		fail("spawn", 0, 1);
	long v, sum = 0;
	while (goc_recv(ch, &v) == 0)
		sum += v;
	int64_t elapsed = now_ns() - start;

	if (sum != n * (n + 1) / 2)
		fail("wrong sum", sum, n * (n + 1) / 2);
	goc_chan_release(ch);
	report(n, elapsed);
	return 0;
}

int main(int argc, char **argv)
{
	if (!getenv("GOC_PROCS"))
		goc_procs(1); /* the suite's default: one worker */
	return goc_main(bench, argc, argv);
}
