/* test_net_util.h - helpers shared by the network tests (tests/test_net*.c):
 * the clock, a watchdog, running a test body under GOC_PROCS=1 then 2, and
 * a spin-free way to know that goroutines have parked on an fd. */
#ifndef GOC_TEST_NET_UTIL_H
#define GOC_TEST_NET_UTIL_H

#include "check.h"
#include "../src/sched/sched.h"  /* goc__s.netpoll_waiters: how many wait on fds */

#include <goc.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

static inline int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#define MS(x) ((int64_t)(x) * 1000000)

/* Sanitizer builds are 10-50x slower: scale connection counts down. */
#if defined(GOC_TEST_TSAN)
#define SCALED(n) ((n) / 8 > 0 ? (n) / 8 : 1)
#elif defined(GOC_TEST_ASAN)
#define SCALED(n) ((n) / 3 > 0 ? (n) / 3 : 1)
#else
#define SCALED(n) (n)
#endif


#define watchdog(seconds) check_watchdog(seconds) /* check.h */

#define run_with_procs_1_and_2 check_run_procs_1_and_2 /* check.h */

/* Yield until at least n goroutines or threads are parked on fds: the
 * moment a test may act on what they wait for, without sleeping. */
static inline void wait_for_io_waiters(int64_t n)
{
	int64_t give_up = now_ns() + (int64_t)20 * 1000000000;
	while (atomic_load(&goc__s.netpoll_waiters) < n) {
		CHECK(now_ns() < give_up);
		goc_yield();
	}
}

#endif
