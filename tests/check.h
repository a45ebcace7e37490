/* check.h - the test suite's assertion helpers: a failing check prints the
 * expression, what was expected and what happened, then exits 1. */
#ifndef GOC_TEST_CHECK_H
#define GOC_TEST_CHECK_H

#include <goc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 1 in the ASan and TSan builds (CMake defines GOC_TEST_ASAN/TSAN), where
 * goroutine switches are 10-100x slower: tests scale their work down. */
#if defined(GOC_TEST_ASAN) || defined(GOC_TEST_TSAN)
#define CHECK_SANITIZED 1
#else
#define CHECK_SANITIZED 0
#endif

#define CHECK(cond)                                                                    \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
			exit(1);                                                       \
		}                                                                      \
	} while (0)

#define CHECK_EQ(got, want)                                                            \
	do {                                                                           \
		long long g_ = (long long)(got), w_ = (long long)(want);               \
		if (g_ != w_) {                                                        \
			fprintf(stderr, "%s:%d: %s: expected %lld, got %lld\n", __FILE__, \
			        __LINE__, #got, w_, g_);                               \
			exit(1);                                                       \
		}                                                                      \
	} while (0)

/* Run one named test function, printing its name (tests read as a spec). */
#define RUN(fn)                                                                        \
	do {                                                                           \
		fprintf(stderr, "  %s\n", #fn);                                        \
		fn();                                                                  \
	} while (0)

static __attribute__((unused)) void check_watchdog_fired(int sig)
{
	(void)sig;
	static const char msg[] = "watchdog: test did not finish in time (hang?)\n";
	(void)!write(2, msg, sizeof msg - 1);
	_exit(3);
}

/* Fail the process (exit 3, with a message) if it still runs after
 * `seconds`, five times that under sanitizers as CTest's own timeouts are
 * scaled: a hang fails fast and says so. */
static inline __attribute__((unused)) void check_watchdog(unsigned seconds)
{
	signal(SIGALRM, check_watchdog_fired);
	alarm(CHECK_SANITIZED ? 5 * seconds : seconds);
}

/* Run fn under goc_main with 1 worker, then with 2 (the suite's two
 * configurations), or once with GOC_PROCS when that is set. */
static inline __attribute__((unused)) int check_run_procs_1_and_2(int (*fn)(int, char **), int argc,
                                                                  char **argv)
{
	if (getenv("GOC_PROCS"))
		return goc_main(fn, argc, argv);
	for (int procs = 1; procs <= 2; procs++) {
		fprintf(stderr, "GOC_PROCS=%d\n", procs);
		goc_procs(procs);
		int r = goc_main(fn, argc, argv);
		if (r != 0)
			return r;
	}
	return 0;
}

/* Run program in simulation mode (goc_sim_fork, a child process) under
 * seeds 1, 2 and 3; each run must exit 0 within 20 s. Call it before any
 * runtime starts in this process. */
static inline __attribute__((unused)) void check_sim_seeds(int (*program)(int, char **),
                                                           const char *name)
{
	char *argv[] = {(char *)name, NULL};
	for (uint64_t seed = 1; seed <= 3; seed++) {
		goc_sim_config cfg = {.seed = seed};
		CHECK_EQ(goc_sim_fork(&cfg, program, 1, argv, -1, GOC_SEC(20)), 0);
	}
}

#endif
