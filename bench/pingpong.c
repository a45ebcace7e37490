/* pingpong.c - bench=pingpong (../shared/bench/SPEC.md): two goroutines
 * pass an int back and forth over two unbuffered channels, adding one each
 * round trip; ns_per_op is one round trip (default n = 1,000,000). Checks
 * that the value after n round trips is n. GOC_PROCS defaults to 1. */
#define NAME "pingpong"
#include "bench.h"

static goc_chan *ping, *pong;

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
	long n = bench_setup(argc, argv, 1000000);
	ping = goc_chan_make(sizeof(long), 0);
	pong = goc_chan_make(sizeof(long), 0);
	if (!ping || !pong || goc_go(echo, NULL) != 0)
		bench_fail("setup failed", 0, 0);

	int64_t start = bench_now();
	long v = 0;
	for (long i = 0; i < n; i++) {
		goc_send(ping, &v);
		goc_recv(pong, &v);
	}
	int64_t elapsed = bench_now() - start;
	goc_close(ping);

	if (v != n)
		bench_fail("wrong value after the round trips", v, n);
	bench_report(n, elapsed, "");
	return 0;
}

BENCH_MAIN(bench)
