/* pattern_example.h - what every examples/pattern_*.c shares: EXPECT (an
 * example checks its own results: a failed expectation prints what was
 * expected and makes the demo return 1, so the program exits non-zero) and
 * PATTERN_MAIN, which gives a standalone example its main. examples/tour.c
 * includes every pattern_*.c with GOC_TOUR defined and calls the demos in
 * order instead, so each file keeps its helpers static and prefixed. */
#ifndef GOC_PATTERN_EXAMPLE_H
#define GOC_PATTERN_EXAMPLE_H

#include <goc.h>

#include <stdio.h>
#include <stdlib.h>

#define EXPECT(cond)                                                                   \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
			return 1;                                                      \
		}                                                                      \
	} while (0)

/* Timing margins: the sanitizer builds (CMake defines GOC_TEST_ASAN or
 * GOC_TEST_TSAN for examples too) run goroutine switches 10-100x slower, so
 * the examples that judge health by silence wait longer there. */
#if defined(GOC_TEST_ASAN) || defined(GOC_TEST_TSAN)
#define EXAMPLE_SLOWDOWN 10
#else
#define EXAMPLE_SLOWDOWN 1
#endif

#ifdef GOC_TOUR
#define PATTERN_MAIN(demo)
#else
#define PATTERN_MAIN(demo)                                                             \
	static int pattern_main_(int argc, char **argv)                                \
	{                                                                              \
		(void)argc;                                                            \
		(void)argv;                                                            \
		int rc = demo();                                                       \
		printf("%s: %s\n", #demo, rc == 0 ? "ok" : "FAILED");                  \
		return rc;                                                             \
	}                                                                              \
	int main(int argc, char **argv)                                                \
	{                                                                              \
		setvbuf(stdout, NULL, _IOLBF, 0);                                      \
		return goc_main(pattern_main_, argc, argv);                            \
	}
#endif

#endif
