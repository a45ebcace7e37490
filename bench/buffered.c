/* buffered.c - bench=buffered (../shared/bench/SPEC.md): one producer sends
 * 1..n on an int channel of capacity 1024 and closes it; the consumer
 * receives until closed and checks the sum. ns_per_op is one message
 * (default n = 10,000,000). GOC_PROCS defaults to 1. */
#define NAME "buffered"

#include "bench.h"


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
	long n = bench_setup(argc, argv, 10000000);
	count = n;
	ch = goc_chan_make(sizeof(long), 1024);
	if (!ch)
		bench_fail("channel", 0, 1);

	int64_t start = bench_now();
	if (goc_go(produce, NULL) != 0)
		bench_fail("spawn", 0, 1);
	long v, sum = 0;
	while (goc_recv(ch, &v) == 0)
		sum += v;
	int64_t elapsed = bench_now() - start;

	if (sum != n * (n + 1) / 2)
		bench_fail("wrong sum", sum, n * (n + 1) / 2);
	goc_chan_release(ch);
	bench_report(n, elapsed, "");
	return 0;
}

BENCH_MAIN(bench)
