/* chain.c - bench=chain (../shared/bench/SPEC.md): a daisy chain of n
 * goroutines; goroutine i receives from channel i and sends the value plus
 * one on channel i+1. Main sends 1 into the first channel and receives n+1
 * from the last. ns_per_op is one link, including building the chain
 * (default n = 100,000). GOC_PROCS defaults to 1.
 *
 * Like the Go program, the channels are not freed: the chain's goroutines
 * hold them until they finish, and the process ends right after. */
#define NAME "chain"

#include "bench.h"


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
	long n = bench_setup(argc, argv, 100000);

	/* Kept only to release the channels after the clock stops (the Go
	 * program leaves them to its collector). */
	goc_chan **all = malloc(sizeof *all * (size_t)(n + 1));
	if (!all)
		bench_fail("out of memory", 0, n);

	int64_t start = bench_now();
	goc_chan *first = goc_chan_make(sizeof(long), 0), *left = first;
	all[0] = first;
	for (long i = 0; i < n; i++) {
		goc_chan *right = goc_chan_make(sizeof(long), 0);
		struct link l = { left, right };
		if (!right || goc_go_copy(whisper, &l, sizeof l) != 0)
			bench_fail("building the chain", i, n);
		all[i + 1] = right;
		left = right;
	}
	long v = 1;
	goc_send(first, &v);
	goc_recv(left, &v);
	int64_t elapsed = bench_now() - start;

	if (v != n + 1)
		bench_fail("last channel gave the wrong value", v, n + 1);
	/* Every whisper has sent, so none still uses its channels. */
	for (long i = 0; i <= n; i++)
		goc_chan_release(all[i]);
	free(all);
	bench_report(n, elapsed, "");
	return 0;
}

BENCH_MAIN(bench)
