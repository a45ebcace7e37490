/* bench.h - what every bench/<name>.c shares: the argument, the clock, the
 * failure exit and the result line of ../shared/bench/SPEC.md. Define NAME
 * before including. Each benchmark is one program; GOC_PROCS defaults to 1
 * (the suite's default) when the environment does not set it. */
#ifndef GOC_BENCH_H
#define GOC_BENCH_H

#include <goc.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* A wrong result or a bad argument: say which and exit 1. */
static inline __attribute__((noreturn, unused)) void bench_fail(const char *msg, long a, long b)
{
	fprintf(stderr, NAME ": %s (%ld, want %ld)\n", msg, a, b);
	exit(1);
}

/* n: the first argument, or def. */
static inline __attribute__((unused)) long bench_setup(int argc, char **argv, long def)
{
	if (argc > 2)
		bench_fail("usage: " NAME " [n]", argc, 2);
	if (argc < 2)
		return def;
	char *end;
	long n = strtol(argv[1], &end, 10);
	if (*end || n < 1)
		bench_fail("n must be a positive integer", n, 1);
	return n;
}

static inline __attribute__((unused)) int64_t bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The result line; extra is "" or " key=value ...". */
static inline __attribute__((unused)) void bench_report(long n, int64_t elapsed, const char *extra)
{
	printf("bench=" NAME " impl=goc procs=%d n=%ld ns_per_op=%.1f%s\n", goc_procs(0), n,
	       (double)elapsed / (double)n, extra);
}

/* main() of every benchmark: one worker unless GOC_PROCS says otherwise. */
#define BENCH_MAIN(fn)                                                                   \
	int main(int argc, char **argv)                                                  \
	{                                                                                \
		if (!getenv("GOC_PROCS"))                                                \
			goc_procs(1);                                                    \
		return goc_main(fn, argc, argv);                                         \
	}

#endif
