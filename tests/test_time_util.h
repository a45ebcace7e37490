/* test_time_util.h - helpers shared by the time and context tests
 * (tests/test_time*.c, tests/test_ctx*.c): a watchdog that turns a hang into
 * a failure, sanitizer-aware scaling, and a runner that executes the whole
 * suite once per worker count (GOC_PROCS=1 and 2) unless GOC_PROCS is set. */
#ifndef GOC_TEST_TIME_UTIL_H
#define GOC_TEST_TIME_UTIL_H

#include "check.h"

#include <errno.h>
#include <goc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define SANITIZED CHECK_SANITIZED
/* Workload sizes: full in release builds, smaller under sanitizers, whose
 * 5-20x slowdown would otherwise push tests past a few seconds. */
#define SCALE(full, sanitized) (CHECK_SANITIZED ? (sanitized) : (full))

/* How late a sleep or timer may be before a test calls it a failure. On an
 * idle machine goc fires within about a millisecond (the idle poller's
 * epoll timeout has millisecond resolution); this bound is generous because
 * the 2-core machine is shared with other builds and sanitizers slow every
 * switch down (under TSan a runnable goroutine was seen to wait 0.5 s), but
 * it still catches a timer that is missed until some unrelated event wakes
 * the scheduler, or never fires. */
#if defined(GOC_TEST_TSAN)
#define LATE_BOUND GOC_SEC(2)
#elif defined(GOC_TEST_ASAN)
#define LATE_BOUND GOC_MS(250)
#else
#define LATE_BOUND GOC_MS(50)
#endif

/* errno through a call the compiler cannot merge: __errno_location is a
 * const function, so a caller that parks (and may resume on another
 * worker thread) could otherwise reuse the first thread's errno address. */
static __attribute__((noinline, unused)) int last_errno(void)
{
	__asm__ volatile("" ::: "memory");
	return errno;
}

/* Fail the process if it still runs after `seconds` (check.h; scaled
 * under sanitizers). */
#define watchdog(seconds) check_watchdog(seconds)

/* Run fn under goc_main with the GOC_PROCS of the environment, or, when it
 * is unset, once with 1 worker and once with 2 (each in a child process, so
 * each run starts from a fresh runtime). Returns the exit status. */
static inline int run_suite(int (*fn)(int, char **), int argc, char **argv, unsigned timeout)
{
	if (getenv("GOC_PROCS")) {
		watchdog(timeout);
		fprintf(stderr, "GOC_PROCS=%s\n", getenv("GOC_PROCS"));
		return goc_main(fn, argc, argv);
	}
	static const char *procs[] = {"1", "2"};
	for (size_t i = 0; i < sizeof procs / sizeof procs[0]; i++) {
		fflush(NULL);
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			setenv("GOC_PROCS", procs[i], 1);
			watchdog(timeout);
			fprintf(stderr, "GOC_PROCS=%s\n", procs[i]);
			_exit(goc_main(fn, argc, argv));
		}
		int st;
		if (waitpid(pid, &st, 0) < 0) {
			perror("waitpid");
			return 1;
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "suite failed with GOC_PROCS=%s (status %d)\n", procs[i], st);
			return 1;
		}
	}
	return 0;
}

#endif
