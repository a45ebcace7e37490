/* lock.c - the runtime lock: a futex mutex for short critical sections.
 *
 * state: 0 unlocked, 1 locked, 2 locked with (possible) sleepers. The
 * classic three-state futex mutex (Drepper, "Futexes are tricky"): the fast
 * path is one CAS; a contender spins (400 pauses: about 8 us on x86, where
 * a pause is ~20 ns), then marks the lock contended and sleeps; unlock
 * wakes one sleeper only when the state says there may be one. Most
 * critical sections take a few dozen ns, but a holder on another CPU may
 * take cache misses on data last written here, and on a VM a futex sleep
 * and wake cost more than the spin. With 100 pauses, spawn at P=2 lost
 * ~20 % to futex calls on sched.lock (A/B, 7 pairs, 131 -> 106 ns; no
 * change on other benchmarks).
 * acquire/release orderings: taking the lock is an acquire, dropping it a
 * release, pairing the critical sections. */
#include "../internal.h"
#include "../arch/arch.h"

bool goc__lock_try(goc__lock *l)
{
	uint32_t z = 0;
	return atomic_compare_exchange_strong_explicit(&l->state, &z, 1, memory_order_acquire,
	                                               memory_order_relaxed);
}

static GOC__NOINLINE void lock_slow(goc__lock *l)
{
	for (int i = 0; i < 400; i++) {
		if (atomic_load_explicit(&l->state, memory_order_relaxed) == 0 && goc__lock_try(l))
			return;
		goc__cpu_relax();
	}
	/* Announce a sleeper; whoever unlocks sees 2 and wakes one of us. */
	while (atomic_exchange_explicit(&l->state, 2, memory_order_acquire) != 0)
		goc__futex_wait(&l->state, 2, GOC__NO_DEADLINE);
}

void goc__lock_acquire(goc__lock *l)
{
	if (GOC__LIKELY(goc__lock_try(l)))
		return;
	lock_slow(l);
}

void goc__lock_release(goc__lock *l)
{
	if (GOC__UNLIKELY(atomic_exchange_explicit(&l->state, 0, memory_order_release) == 2))
		goc__futex_wake(&l->state, 1);
}
