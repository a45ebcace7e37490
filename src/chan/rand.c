/* rand.c - the random numbers behind select's choice among ready cases.
 *
 * One wyrand generator per OS thread (each worker, each foreign thread),
 * seeded on first use from the clock and the thread's own address, so
 * workers draw independent streams without sharing a cache line. This is
 * the only source of randomness in the channel module: in simulation mode
 * (src/sched/sim.c) a worker draws from the seeded schedule's PRNG instead,
 * so a seed decides every select's choice too.
 *
 * The state is thread-local and read only inside this non-inlined function,
 * so a goroutine that moves between threads never uses a cached TLS address.
 */
#include "hchan.h"
#include "../sched/sim.h"

static __thread uint64_t rand_state;

static uint64_t rand_seed(void)
{
	uint64_t s = (uint64_t)goc__nanotime() ^ ((uint64_t)(uintptr_t)&rand_state * 0x9e3779b97f4a7c15ull);
	return s ? s : 0x853c49e6748fea9bull;
}

GOC__NOINLINE uint32_t goc__chan_rand(uint32_t n)
{
	if (GOC__UNLIKELY(goc__sim_active()) && goc__sim_on_worker())
		return goc__sim_rand(n);
	uint64_t s = rand_state;
	if (GOC__UNLIKELY(s == 0))
		s = rand_seed();
	/* wyrand: a Weyl sequence through a 64x64->128 multiply-fold. */
	s += 0xa0761d6478bd642full;
	rand_state = s;
	__uint128_t t = (__uint128_t)s * (s ^ 0xe7037ed1a0b428dbull);
	uint64_t r = (uint64_t)(t >> 64) ^ (uint64_t)t;
	/* Lemire's multiply-shift maps 32 random bits onto [0, n); the bias is
	 * below n / 2^32, far under what any test or program can observe. */
	return (uint32_t)(((r & 0xffffffffu) * (uint64_t)n) >> 32);
}
