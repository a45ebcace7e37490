/* testing_main.h - the main that every examples/testing_*.c shares.
 *
 * Each of those examples holds a buggy and a fixed version of one classic
 * concurrency bug in a single program under test, switched by a bool the
 * program reads. explore_bug_and_fix explores the buggy version over RUNS
 * seeds with goc_explore (goc/testing.h), expecting a failing seed, then
 * the fixed version, expecting every seed to pass, and says what it found.
 * It returns 0 when both hold: each example is a CTest test that passes
 * only if the bug is found and the fix holds. Each run is a child process
 * (fork), so the flag, set here in the parent, is every run's starting
 * value, and whatever a run changes dies with it. */
#ifndef GOC_TESTING_MAIN_H
#define GOC_TESTING_MAIN_H

#include <goc.h>

#include <stdio.h>

#define RUNS 100

typedef struct bug_story {
	const char *buggy;    /* the buggy version, as the report names it */
	const char *symptom;  /* what its failing seed does: "fails", "leaks"... */
	int status;           /* the exit status a failing run must have (2:
	                       * goc's deadlock report); 0: any failure */
	const char *fixed;    /* the fixed version, as the report names it */
} bug_story;

static int explore_bug_and_fix(const bug_story *s, int (*program)(int, char **), bool *fixed,
                               int argc, char **argv)
{
	goc_explore_opts opts = {.runs = RUNS};
	goc_explore_result res = {0};

	*fixed = false;
	if (goc_explore(&opts, program, argc, argv, &res) != 1 || (s->status && res.status != s->status)) {
		printf("%s: no seed %s in %d runs\n", s->buggy, s->symptom, res.runs);
		return 1;
	}
	printf("%s: seed %llu %s (found in %d runs)\n", s->buggy, (unsigned long long)res.failing_seed,
	       s->symptom, res.runs);

	*fixed = true;
	if (goc_explore(&opts, program, argc, argv, &res) != 0) {
		printf("%s: seed %llu fails\n", s->fixed, (unsigned long long)res.failing_seed);
		return 1;
	}
	printf("%s: all %d seeds pass\n", s->fixed, res.runs);
	return 0;
}

#endif
