/* test_patterns_util.h - helpers shared by the pattern tests
 * (tests/test_patterns_*.c): sanitizer-aware scaling (check.h), leak checks around each test, channel probes,
 * and a runner that executes a suite once with GOC_PROCS=1 and once with 2
 * (each in a child process, from a fresh runtime) unless GOC_PROCS is set. */
#ifndef GOC_TEST_PATTERNS_UTIL_H
#define GOC_TEST_PATTERNS_UTIL_H

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
#define SCALE(full, sanitized) (SANITIZED ? (sanitized) : (full))

/* How long a test waits for something that must happen "promptly" (a
 * channel closing after done, goroutines ending): generous, since the
 * 2-core machine is shared and sanitizers slow every switch; a hang still
 * fails well inside the ctest timeout. */
#define PROMPT GOC_SEC(SANITIZED ? 10 : 3)

/* errno read through a call the compiler cannot merge (a goroutine may
 * resume on another thread, whose errno lives elsewhere). */
static __attribute__((noinline, unused)) int last_errno(void)
{
	__asm__ volatile("" ::: "memory");
	return errno;
}

/* ---- leak checks --------------------------------------------------------
 * Every test starts with LEAK_BEGIN() and ends with LEAK_END(): every
 * goroutine the test started (directly, or inside a pattern) must have
 * ended within PROMPT. Memory leaks are ASan's job (detect_leaks=1). */
#define LEAK_BEGIN() CHECK_EQ(goc_leakcheck_baseline(), 0)
#define LEAK_END() CHECK_EQ(goc_leakcheck(PROMPT), 0)

/* ---- channel probes ------------------------------------------------------ */

/* Wait (at most PROMPT) for c to be closed and drained: true if it was. */
static __attribute__((unused)) bool closes(goc_chan *c)
{
	return goc_recv_until(c, NULL, goc_now() + PROMPT) == GOC_ECLOSED;
}

/* After a cancellation: values already on their way may still arrive
 * (a sender blocked in select on the output and done may be taken either
 * way, as in Go); discard them and wait (at most PROMPT) for the close. */
static __attribute__((unused)) bool drains_to_close(goc_chan *c)
{
	int64_t deadline = goc_now() + PROMPT;
	int r;
	while ((r = goc_recv_until(c, NULL, deadline)) == 0)
		;
	return r == GOC_ECLOSED;
}

/* Nothing to receive from c right now (open and empty). */
static __attribute__((unused)) bool quiet(goc_chan *c)
{
	return goc_try_recv(c, NULL) == GOC_EAGAIN;
}

/* Receive one long from c within PROMPT; fails the test otherwise. */
static __attribute__((unused)) long recv_long(goc_chan *c)
{
	long v = 0;
	int r = goc_recv_until(c, &v, goc_now() + PROMPT);
	if (r != 0) {
		fprintf(stderr, "recv_long: %s\n", goc_strerror(r));
		exit(1);
	}
	return v;
}

/* A channel of longs with the values 1..n, closed after them (buffered:
 * no goroutine needed). */
static __attribute__((unused)) goc_chan *longs_upto(long n)
{
	goc_chan *c = goc_chan_make(sizeof(long), (size_t)n);
	CHECK(c != NULL);
	for (long i = 1; i <= n; i++)
		CHECK_EQ(goc_send(c, &i), 0);
	goc_close(c);
	return c;
}

/* ---- watchdog and runner ------------------------------------------------- */

static inline int run_suite(int (*fn)(int, char **), int argc, char **argv, unsigned timeout)
{
	if (getenv("GOC_PROCS")) {
		check_watchdog(timeout);
		fprintf(stderr, "GOC_PROCS=%s\n", getenv("GOC_PROCS"));
		return goc_main(fn, argc, argv);
	}
	static const char *procs[] = { "1", "2" };
	for (size_t i = 0; i < sizeof procs / sizeof procs[0]; i++) {
		fflush(NULL);
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			setenv("GOC_PROCS", procs[i], 1);
			check_watchdog(timeout);
			fprintf(stderr, "GOC_PROCS=%s\n", procs[i]);
			exit(goc_main(fn, argc, argv)); /* exit, not _exit: LSan checks at exit */
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
