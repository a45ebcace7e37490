/* test_debug_sanitizer.c - users' own concurrency bugs are found by their
 * usual tools across goroutine switches (goc annotates its stacks and
 * switches for ASan, TSan and valgrind). Each bug runs in a child process
 * (this binary re-executed with the scenario's name) and the parent expects
 * the tool's report:
 *  - TSan build: a data race between two goroutines running at the same
 *    time on two workers is reported ("data race", both goroutines'
 *    functions in the stacks, TSan's exit status 66);
 *  - ASan build: a goroutine reading memory another goroutine freed before
 *    handing it over is reported as a heap-use-after-free, with the
 *    reader's and the freer's functions;
 *  - plain build: the same use-after-free is reported by valgrind's
 *    memcheck ("Invalid read"), and the race scenario is checked to
 *    really run its two goroutines in parallel on two workers (what makes
 *    it a race for TSan) and to end normally when nothing watches it. */
#include "test_debug_util.h"

#include <goc.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the race ------------------------------------------------------------ */

static long racy;                 /* written by both racers, unsynchronised */
static _Atomic int arrived;       /* relaxed: creates no happens-before */
static _Atomic int met[2];        /* this round, racer i met the other */
static goc_waitgroup racers = GOC_WAITGROUP_INIT;

/* Both racers spin, without yielding, until the other has arrived: if
 * both see it within 20 ms they were running at the same time on two
 * workers, with no scheduler synchronisation between their writes. A racer
 * that gives up writes nothing and the round is tried again. */
static void racer(void *arg)
{
	int me = (int)(intptr_t)arg;
	atomic_fetch_add_explicit(&arrived, 1, memory_order_relaxed);
	int64_t t0 = goc_now();
	while (atomic_load_explicit(&arrived, memory_order_relaxed) < 2)
		if (goc_now() - t0 > GOC_MS(20)) {
			atomic_store_explicit(&met[me], 0, memory_order_relaxed);
			goc_waitgroup_done(&racers);
			return;
		}
	for (int i = 0; i < 1000; i++)
		racy++;
	atomic_store_explicit(&met[me], 1, memory_order_relaxed);
	goc_waitgroup_done(&racers);
}

static int race(int argc, char **argv)
{
	for (int round = 0; round < 100; round++) {
		atomic_store(&arrived, 0);
		goc_waitgroup_add(&racers, 2);
		goc_go(racer, (void *)(intptr_t)0);
		goc_go(racer, (void *)(intptr_t)1);
		goc_waitgroup_wait(&racers);
		if (atomic_load(&met[0]) && atomic_load(&met[1])) {
			printf("parallel on two workers\n");
			return 0;
		}
	}
	printf("never parallel\n");
	return 0;
}

/* ---- the use-after-free ------------------------------------------------------ */

static void freer(void *arg)
{
	int *p = malloc(sizeof *p);
	*p = 42;
	free(p);
	goc_send(arg, &p); /* hands over a dangling pointer */
}

static volatile int reader_result;
static goc_waitgroup readers = GOC_WAITGROUP_INIT;

static void reader(void *arg)
{
	int *p;
	goc_recv(arg, &p);
	reader_result = *p; /* the bug */
	goc_waitgroup_done(&readers);
}

static int uaf(int argc, char **argv)
{
	goc_chan *c = goc_chan_make(sizeof(int *), 0);
	goc_waitgroup_add(&readers, 1);
	goc_go(reader, c);
	goc_go(freer, c);
	goc_waitgroup_wait(&readers);
	goc_chan_release(c);
	printf("finished\n");
	return 0;
}

/* ---- tests -------------------------------------------------------------------- */

static void test_race_scenario_runs_its_goroutines_in_parallel(void)
{
	const char *env[] = {"GOC_PROCS=2", NULL};
	child_result r = run_child("race", env, 60);
#if defined(GOC_TEST_TSAN)
	const char *needles[] = {"WARNING: ThreadSanitizer: data race", "racer", NULL};
	if (!child_exited_with(&r, 66)) {
		child_print("race under TSan", &r);
		exit(1);
	}
	check_contains_all("race under TSan", r.err, needles);
#else
	if (!child_exited_with(&r, 0) || strcmp(r.out, "parallel on two workers\n") != 0) {
		child_print("race", &r);
		exit(1);
	}
#endif
	child_free(&r);
}

#if !defined(GOC_TEST_TSAN) && !defined(GOC_TEST_ASAN)
/* Run this binary's uaf scenario under valgrind (memcheck). */
static child_result run_under_valgrind(void)
{
	int pe[2];
	CHECK_EQ(pipe(pe), 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		dup2(pe[1], 2);
		close(pe[0]);
		close(pe[1]);
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		if (n <= 0)
			_exit(126);
		self[n] = 0;
		char *argv[] = {"valgrind", "--error-exitcode=9", "-q", self, "uaf", NULL};
		putenv("GOC_PROCS=2");
		execvp("valgrind", argv);
		_exit(127);
	}
	close(pe[1]);
	child_result r = {0};
	size_t cap = 1 << 16, len = 0;
	r.err = malloc(cap);
	ssize_t k;
	while ((k = read(pe[0], r.err + len, cap - len - 1)) > 0) {
		len += (size_t)k;
		if (cap - len < 4096) {
			cap *= 2;
			r.err = realloc(r.err, cap);
		}
	}
	r.err[len] = 0;
	close(pe[0]);
	r.out = calloc(1, 1);
	CHECK_EQ(waitpid(pid, &r.status, 0), pid);
	return r;
}
#endif

static void test_use_after_free_across_goroutines_is_reported(void)
{
#if defined(GOC_TEST_ASAN)
	const char *env[] = {"GOC_PROCS=2", NULL};
	child_result r = run_child("uaf", env, 60);
	const char *needles[] = {"ERROR: AddressSanitizer: heap-use-after-free", "in reader", "freed by thread",
	                         "in freer", NULL};
	if (WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) {
		child_print("uaf under ASan", &r);
		exit(1);
	}
	check_contains_all("uaf under ASan", r.err, needles);
	child_free(&r);
#elif defined(GOC_TEST_TSAN)
	/* TSan does not look for use-after-free: the ASan build proves it.
	 * Here the scenario must at least run to its end (its dangling read
	 * is not one TSan faults on). */
	const char *env[] = {"GOC_PROCS=2", NULL};
	child_result r = run_child("uaf", env, 60);
	if (!strstr(r.out, "finished\n")) {
		child_print("uaf under TSan", &r);
		exit(1);
	}
	child_free(&r);
#else
	child_result r = run_under_valgrind();
	const char *needles[] = {"Invalid read of size 4", "reader", "freer", NULL};
	if (!child_exited_with(&r, 9)) {
		child_print("uaf under valgrind", &r);
		exit(1);
	}
	check_contains_all("uaf under valgrind", r.err, needles);
	child_free(&r);
#endif
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "race") == 0)
		return goc_main(race, argc, argv);
	if (argc > 1 && strcmp(argv[1], "uaf") == 0)
		return goc_main(uaf, argc, argv);
	check_watchdog(120);
	RUN(test_race_scenario_runs_its_goroutines_in_parallel);
	RUN(test_use_after_free_across_goroutines_is_reported);
	return 0;
}
