/* select2.c - bench=select2 (../shared/bench/SPEC.md): two producers each
 * send 1, 2, ... (n/2 values, the second one more when n is odd) on their
 * own unbuffered channel; one consumer selects over both until it has n
 * values and checks each channel's sum. ns_per_op is one received value
 * (default n = 2,000,000). GOC_PROCS defaults to 1. */
#define NAME "select2"

#include "bench.h"


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
	long n = bench_setup(argc, argv, 2000000);
	struct producer p[2] = {
		{ goc_chan_make(sizeof(long), 0), n / 2 },
		{ goc_chan_make(sizeof(long), 0), n - n / 2 },
	};
	if (!p[0].ch || !p[1].ch)
		bench_fail("channel", 0, 1);

	int64_t start = bench_now();
	/* Each producer gets its own reference and releases it when done. */
	goc_chan_retain(p[0].ch);
	goc_chan_retain(p[1].ch);
	goc_waitgroup_add(&running, 2);
	if (goc_go(produce, &p[0]) != 0 || goc_go(produce, &p[1]) != 0)
		bench_fail("spawn", 0, 1);
	long sums[2] = { 0, 0 }, v;
	goc_case cs[] = { goc_case_recv(p[0].ch, &v), goc_case_recv(p[1].ch, &v) };
	for (long got = 0; got < n; got++) {
		int i = GOC_SELECT(cs);
		if (i < 0 || !goc_case_ok(&cs[i]))
			bench_fail("select failed", i, 0);
		sums[i] += v;
	}
	int64_t elapsed = bench_now() - start;
	goc_chan_release(p[0].ch);
	goc_chan_release(p[1].ch);
	goc_waitgroup_wait(&running);

	for (int i = 0; i < 2; i++)
		if (sums[i] != p[i].count * (p[i].count + 1) / 2)
			bench_fail("wrong sum from a producer", sums[i], p[i].count * (p[i].count + 1) / 2);
	bench_report(n, elapsed, "");
	return 0;
}

BENCH_MAIN(bench)
