/* check.h - the test suite's assertion helpers: a failing check prints the
 * expression, what was expected and what happened, then exits 1. */
#ifndef GOC_TEST_CHECK_H
#define GOC_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#endif
