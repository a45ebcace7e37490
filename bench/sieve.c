/* sieve.c - bench=sieve (../shared/bench/SPEC.md): the concurrent prime
 * sieve. A generator sends 2, 3, 4, ... and each prime found adds a filter
 * goroutine that drops its multiples; all channels are unbuffered. Runs
 * until the n-th prime, checked against a sequential computation (n = 2000
 * gives 17389). ns_per_op is total time / n (default n = 2,000). GOC_PROCS
 * defaults to 1. The Go program leaves its goroutines blocked in the chain
 * until the process exits; this one, after the clock stops, closes the
 * generator's channel so the chain unwinds and every goroutine releases its
 * channels (leak checkers then see a clean exit).
 *
 * Ownership: each goroutine holds one reference to each channel it uses and
 * releases both when it returns; a filter closes its output when its input
 * closes. */
#define NAME "sieve"

#include "bench.h"


static goc_waitgroup running = GOC_WAITGROUP_INIT;

static void generate(void *arg)
{
	goc_chan *ch = arg;
	for (long i = 2; goc_send(ch, &i) == 0; i++)
		;
	goc_chan_release(ch);
	goc_waitgroup_done(&running);
}

struct filter { goc_chan *in, *out; long prime; };

static void filter(void *arg)
{
	struct filter *f = arg;
	long v;
	while (goc_recv(f->in, &v) == 0)
		if (v % f->prime != 0)
			goc_send(f->out, &v);
	goc_close(f->out);
	goc_chan_release(f->in);
	goc_chan_release(f->out);
	goc_waitgroup_done(&running);
}

/* The n-th prime, sequentially, by trial division. */
static long nth_prime(long n)
{
	long *primes = malloc(sizeof(long) * (size_t)n), count = 0;
	if (!primes)
		bench_fail("out of memory", 0, 1);
	for (long c = 2;; c++) {
		int is_prime = 1;
		for (long i = 0; i < count && primes[i] * primes[i] <= c; i++)
			if (c % primes[i] == 0) {
				is_prime = 0;
				break;
			}
		if (is_prime) {
			primes[count++] = c;
			if (count == n) {
				free(primes);
				return c;
			}
		}
	}
}

static int bench(int argc, char **argv)
{
	long n = bench_setup(argc, argv, 2000);

	int64_t start = bench_now();
	goc_chan *ch = goc_chan_make(sizeof(long), 0), *first = ch;
	goc_waitgroup_add(&running, 1);
	if (!ch)
		bench_fail("out of memory", 0, 1);
	goc_chan_retain(ch);    /* the generator's */
	goc_chan_retain(first); /* main's own, to close it at the end */
	if (goc_go(generate, ch) != 0)
		bench_fail("starting the generator", 0, 1);
	long prime = 0;
	for (long i = 0; i < n; i++) {
		goc_recv(ch, &prime);
		goc_chan *next = goc_chan_make(sizeof(long), 0);
		if (!next)
			bench_fail("out of memory", i, n);
		goc_chan_retain(next); /* the filter's out; main keeps next */
		struct filter f = { ch, next, prime }; /* main's ch reference moves */
		goc_waitgroup_add(&running, 1);
		if (goc_go_copy(filter, &f, sizeof f) != 0)
			bench_fail("adding a filter", i, n);
		ch = next;
	}
	int64_t elapsed = bench_now() - start;

	/* Unwind: the generator's send fails, each filter sees its input
	 * closed and closes its output; main drains the last channel. */
	goc_close(first);
	goc_chan_release(first);
	long v;
	while (goc_recv(ch, &v) == 0)
		;
	goc_chan_release(ch);
	goc_waitgroup_wait(&running);

	long want = nth_prime(n);
	if (prime != want)
		bench_fail("wrong n-th prime", prime, want);
	bench_report(n, elapsed, "");
	return 0;
}

BENCH_MAIN(bench)
