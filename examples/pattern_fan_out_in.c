/* pattern_fan_out_in.c - fan-out, fan-in (docs/patterns/fan-out-fan-in.md):
 * a slow stage is run by several goroutines reading the same input
 * (fan-out) and their outputs are merged into one channel (fan-in).
 * The prime finder: a stream of random numbers, a deliberately slow
 * primality test, the first 10 primes found. With one finder, then with one
 * per worker thread (goc_stage x n + goc_merge); the speedup is measured
 * and printed (it depends on the cores free at the time, so it is not
 * checked). goc_pool does the fan-out and fan-in in one call. */
#include "pattern_example.h"

#include <stdint.h>

#define FAN_PRIMES 10

static int fan_random(void *arg, void *out)
{
	uint64_t *x = arg; /* one generator goroutine: no sharing */
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	*(long *)out = 100000 + (long)(*x % 300000);
	return 0;
}

/* Slow on purpose (as in the book): try every divisor below n. */
static int fan_slow_prime(void *arg, const void *in, void *out)
{
	(void)arg;
	unsigned n = (unsigned)*(const long *)in;
	for (unsigned d = n - 1; d > 1; d--)
		if (n % d == 0)
			return GOC_STAGE_SKIP;
	*(long *)out = n;
	return GOC_STAGE_SEND;
}

static bool fan_is_prime(long n)
{
	for (long d = 2; d * d <= n; d++)
		if (n % d == 0)
			return false;
	return n > 1;
}

/* Find FAN_PRIMES primes with `finders` goroutines; ns taken, or -1. */
static int64_t fan_find(size_t finders, bool use_pool)
{
	goc_chan *done = goc_chan_make(0, 0);
	uint64_t seed = 88172645463325252u;
	int64_t t0 = goc_now();
	goc_chan *rnd = goc_repeat_fn(done, fan_random, &seed, sizeof(long));
	goc_chan *primes;
	if (use_pool) {
		primes = goc_pool(done, rnd, finders, fan_slow_prime, NULL, sizeof(long), 0);
	} else {
		goc_chan *found[64];
		for (size_t i = 0; i < finders; i++) /* fan out */
			found[i] = goc_stage(done, rnd, fan_slow_prime, NULL, sizeof(long), 0);
		primes = goc_merge(done, found, finders, 0); /* fan in */
		for (size_t i = 0; i < finders; i++)
			goc_chan_release(found[i]);
	}
	goc_chan *first = goc_take(done, primes, FAN_PRIMES);
	long p;
	int count = 0;
	bool all_prime = true;
	while (goc_recv(first, &p) == 0) {
		all_prime = all_prime && fan_is_prime(p);
		count++;
	}
	int64_t ns = goc_now() - t0;
	goc_close(done); /* stop the generator and the finders */
	/* The generator uses `seed` (on this frame) until it returns, and its
	 * output closes only after that: wait for the close before returning. */
	for (long x; goc_recv(rnd, &x) == 0;)
		;
	goc_chan_release(first);
	goc_chan_release(primes);
	goc_chan_release(rnd);
	goc_chan_release(done);
	return count == FAN_PRIMES && all_prime ? ns : -1;
}

static int pattern_fan_out_in(void)
{
	size_t n = (size_t)goc_procs(0);
	if (n > 64)
		n = 64;
	int64_t one = fan_find(1, false);
	EXPECT(one > 0);
	printf("  1 prime finder:  %d primes in %.0f ms\n", FAN_PRIMES, (double)one / 1e6);
	int64_t many = fan_find(n, false);
	EXPECT(many > 0);
	printf("  %zu prime finders (goc_stage x %zu, goc_merge): %d primes in %.0f ms: speedup %.2fx "
	       "(measured on %d worker threads)\n", n, n, FAN_PRIMES, (double)many / 1e6,
	       (double)one / (double)many, goc_procs(0));
	int64_t pool = fan_find(n, true);
	EXPECT(pool > 0);
	printf("  goc_pool of %zu: %d primes in %.0f ms\n", n, FAN_PRIMES, (double)pool / 1e6);
	return 0;
}

PATTERN_MAIN(pattern_fan_out_in)
