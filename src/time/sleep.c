/* sleep.c - the clock and sleeping (goc/time.h).
 *
 * A sleep is a park with a deadline and nothing else: no waiter record is
 * queued anywhere, so the only party that can claim the wait is the park's
 * own deadline timer (sched arms it after the goroutine's context is saved,
 * fires it from the per-P heap, and readies the goroutine). On a thread goc
 * did not start (or inside goc_blocking), goc__park blocks the thread on
 * its futex until the deadline instead. No locks are held here.
 */
#include "../internal.h"
#include "../sched/sim.h"

/* The clock source: the monotonic clock, or in simulation mode with
 * virtual time the sim clock (src/sched/sim.c), which only moves when every
 * goroutine is blocked. Every deadline in goc is on this clock. */
int64_t goc_now(void)
{
	return goc__clock_now();
}

int64_t goc_deadline_in(int64_t ns)
{
	int64_t d;
	if (__builtin_add_overflow(goc__clock_now(), ns, &d))
		return ns > 0 ? GOC_NO_DEADLINE : INT64_MIN;
	return d;
}

int goc_sleep_until(int64_t deadline)
{
	/* The deadline timer fires when the clock reaches deadline, and that
	 * is the clock we compare with: a sleep never ends early. The loop only
	 * guards the contract ("goc__park returns the claim") against a spurious
	 * return; with no waker, the claim is always the timeout. */
	while (goc__clock_now() < deadline) {
		int rc = goc__runtime_ensure();
		if (rc)
			return rc;
		goc__wait_prepare();
		if (goc__park(NULL, NULL, GOC__WAIT_SLEEP, NULL, deadline) == GOC__WAKE_TIMEOUT &&
		    GOC__UNLIKELY(atomic_load_explicit(&goc__sim_vtime, memory_order_relaxed)) &&
		    goc__g_parks_thread(goc__current()))
			break; /* Virtual time, on a thread outside the simulated
			        * world: the clock does not move for it, so it
			        * waited the time left in real time (thread.c),
			        * and that is its sleep. */
	}
	return 0;
}

int goc_sleep(int64_t ns)
{
	if (ns <= 0)
		return 0;
	return goc_sleep_until(goc_deadline_in(ns));
}
