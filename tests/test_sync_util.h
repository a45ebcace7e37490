/* test_sync_util.h - helpers shared by the sync tests (tests/test_sync_*.c):
 * a monotonic clock (the same clock as goc_now), a watchdog that turns a
 * hang into a failure, and a spin-free way to start goroutines together. */
#ifndef GOC_TEST_SYNC_UTIL_H
#define GOC_TEST_SYNC_UTIL_H

#include "check.h"
#include "../src/internal.h"   /* goc__current: see register_foreign_thread */

#include <goc.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

/* CLOCK_MONOTONIC in ns: what goc's deadlines are measured against. */
static inline int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#define MS(x) ((int64_t)(x) * 1000000)

/* Sanitizer builds make goroutine creation and switches 10-100x slower:
 * loops that create many goroutines run a tenth as many rounds there. */
#define SCALED(n) (CHECK_SANITIZED ? ((n) / 10 > 0 ? (n) / 10 : 1) : (n))

/* Fail the process if it is still running after `seconds` (check.h). */
#define watchdog(seconds) check_watchdog(seconds)

#define run_with_procs_1_and_2 check_run_procs_1_and_2 /* check.h */

/* Make the calling foreign thread known to the runtime before it takes a
 * goc lock: a thread that only ever took the lock-free fast paths is not
 * counted by goc_main's deadlock check, which could then report goroutines
 * waiting for that thread as a deadlock. goc__current() creates the
 * thread's G, which counts it (src/sched/thread.c). */
static inline void register_foreign_thread(void)
{
	(void)goc__current();
}

#endif
