/* fanout.c - bench=fanout (../shared/bench/SPEC.md): a generator sends 1..n
 * (uint64) on a channel of capacity 256; 8 workers each apply work(x) and
 * send the result on an out channel (capacity 256); the collector sums them.
 * The same sum is first computed sequentially (timed: seq_ns_per_item) and
 * must match. ns_per_op is one item through the pipeline; speedup is
 * sequential time / pipeline time. Default n = 1,000,000.
 *
 * Ownership: main makes both channels and releases them at the end; the
 * generator closes `in`, the last worker to finish closes `out` (a waitgroup
 * counts the workers, as Go's program does with a closer goroutine). */
#define NAME "fanout"
#include "bench.h"

enum { WORKERS = 8 };

static uint64_t work(uint64_t x)
{
	for (int r = 0; r < 64; r++) {
		x ^= x >> 33;
		x *= 0xff51afd7ed558ccdULL;
		x ^= x >> 33;
		x *= 0xc4ceb9fe1a85ec53ULL;
	}
	return x;
}

static goc_chan *in, *out;
static long count;
static goc_waitgroup workers = GOC_WAITGROUP_INIT, all_done = GOC_WAITGROUP_INIT;

static void generate(void *arg)
{
	(void)arg;
	for (uint64_t i = 1; i <= (uint64_t)count; i++)
		goc_send(in, &i);
	goc_close(in);
	goc_waitgroup_done(&all_done);
}

static void worker(void *arg)
{
	(void)arg;
	uint64_t x;
	while (goc_recv(in, &x) == 0) {
		uint64_t y = work(x);
		goc_send(out, &y);
	}
	goc_waitgroup_done(&workers);
	goc_waitgroup_done(&all_done);
}

static void closer(void *arg)
{
	(void)arg;
	goc_waitgroup_wait(&workers);
	goc_close(out);
	goc_waitgroup_done(&all_done);
}

static int bench(int argc, char **argv)
{
	count = bench_setup(argc, argv, 1000000);

	int64_t start = bench_now();
	uint64_t want = 0;
	for (uint64_t i = 1; i <= (uint64_t)count; i++)
		want += work(i);
	int64_t seq = bench_now() - start;

	start = bench_now();
	in = goc_chan_make(sizeof(uint64_t), 256);
	out = goc_chan_make(sizeof(uint64_t), 256);
	if (!in || !out)
		bench_fail("out of memory", 0, 1);
	goc_waitgroup_add(&workers, WORKERS);
	goc_waitgroup_add(&all_done, WORKERS + 2);
	if (goc_go(generate, NULL) != 0)
		bench_fail("spawn", 0, 1);
	for (int w = 0; w < WORKERS; w++)
		if (goc_go(worker, NULL) != 0)
			bench_fail("spawn", w, WORKERS);
	if (goc_go(closer, NULL) != 0)
		bench_fail("spawn", 0, 1);
	uint64_t sum = 0, y;
	while (goc_recv(out, &y) == 0)
		sum += y;
	int64_t elapsed = bench_now() - start;

	if (sum != want) {
		fprintf(stderr, NAME ": sum is %#llx, want %#llx\n", (unsigned long long)sum,
		        (unsigned long long)want);
		exit(1);
	}
	goc_waitgroup_wait(&all_done); /* nobody touches the channels any more */
	goc_chan_release(in);
	goc_chan_release(out);
	char extra[80];
	snprintf(extra, sizeof extra, " seq_ns_per_item=%.1f speedup=%.2f", (double)seq / (double)count,
	         (double)seq / (double)elapsed);
	bench_report(count, elapsed, extra);
	return 0;
}

BENCH_MAIN(bench)
