/* pingpong.c - bench=pingpong (../shared/bench/SPEC.md): two goroutines
 * pass an int back and forth over two unbuffered channels, adding one each
 * round trip; ns_per_op is one round trip (default n = 1,000,000). Checks
 * that the value after n round trips is n. GOC_PROCS defaults to 1. */
#include <goc.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NAME "pingpong"

static goc_chan *ping, *pong;

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

static void echo(void *arg)
{
	(void)arg;
	long v;
	while (goc_recv(ping, &v) == 0) {
		v++;
		goc_send(pong, &v);
	}
}

static int bench(int argc, char **argv)
{
	long n = setup(argc, argv, 1000000);
	ping = goc_chan_make(sizeof(long), 0);
	pong = goc_chan_make(sizeof(long), 0);
	if (!ping || !pong || goc_go(echo, NULL) != 0)
		fail("setup failed", 0, 0);

	int64_t start = now_ns();
	long v = 0;
	for (long i = 0; i < n; i++) {
		goc_send(ping, &v);
		goc_recv(pong, &v);
	}
	int64_t elapsed = now_ns() - start;
	goc_close(ping);

	if (v != n)
		fail("wrong value after the round trips", v, n);
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
