/* test_debug_leak.c - goc_leakcheck: goroutines started after the baseline
 * and still alive after the timeout are reported (with creation site and
 * wait reason) and counted; those that finish in time, the caller and the
 * baseline's goroutines are not. Reports go to stderr: the tests capture
 * it in a temporary file. */
#include "test_debug_util.h"

#include <goc.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static int leakcheck_short(void *arg)
{
	(void)arg;
	return goc_leakcheck(GOC_MS(30));
}

static int leakcheck_long(void *arg)
{
	(void)arg;
	return goc_leakcheck(GOC_SEC(10));
}

/* Every wait_on goroutine reports its end here, after its last use of
 * the channel: tests wait for it before freeing the channel (a finished
 * leak check says the goroutines ended, not that their memory accesses
 * are ordered before the caller's next ones). */
static goc_waitgroup waiters = GOC_WAITGROUP_INIT;

static void wait_on(void *arg)
{
	int v;
	goc_recv(arg, &v);
	goc_waitgroup_done(&waiters);
}

static int spawn_waiter(goc_chan *c)
{
	goc_waitgroup_add(&waiters, 1);
	return goc_go(wait_on, c);
}

static void sleep_then_exit(void *arg)
{
	(void)arg;
	goc_sleep(GOC_MS(20));
}

static void test_no_goroutine_started_is_no_leak(void)
{
	CHECK_EQ(goc_leakcheck_baseline(), 0);
	char *out;
	CHECK_EQ(capture_stderr(leakcheck_short, NULL, &out), 0);
	CHECK_EQ(strlen(out), 0);
	free(out);
}

static void test_goroutines_that_finish_within_timeout_are_not_leaks(void)
{
	CHECK_EQ(goc_leakcheck_baseline(), 0);
	for (int i = 0; i < 8; i++)
		CHECK_EQ(goc_go(sleep_then_exit, NULL), 0);
	char *out;
	CHECK_EQ(capture_stderr(leakcheck_long, NULL, &out), 0);
	CHECK_EQ(strlen(out), 0);
	free(out);
}

static void test_survivor_is_counted_and_reported_with_site_and_reason(void)
{
	goc_chan *c = goc_chan_make(sizeof(int), 0);
	CHECK_EQ(goc_leakcheck_baseline(), 0);
	goc_go_attr attr = {.name = "stuck-reader"};
	goc_waitgroup_add(&waiters, 1);
	CHECK_EQ(goc_go_with(&attr, wait_on, c, 0), 0); int site_line = __LINE__;
	CHECK_EQ(spawn_waiter(c), 0);
	char *out;
	CHECK_EQ(capture_stderr(leakcheck_short, NULL, &out), 2);
	char site[64];
	snprintf(site, sizeof site, "test_debug_leak.c:%d", site_line);
	if (!strstr(out, "2 goroutines still running") || !strstr(out, site) ||
	    !strstr(out, "[chan receive") || !strstr(out, "\"stuck-reader\"") ||
	    !strstr(out, "in test_survivor_is_counted_and_reported_with_site_and_reason")) {
		fprintf(stderr, "unexpected leak report:\n%s\n", out);
		exit(1);
	}
#if !defined(GOC_TEST_TSAN)
	/* The backtrace names the goroutine's own function (frame pointers). */
	if (!strstr(out, "wait_on")) {
		fprintf(stderr, "no wait_on frame in the report:\n%s\n", out);
		exit(1);
	}
#endif
	free(out);
	goc_close(c); /* release them */
	CHECK_EQ(capture_stderr(leakcheck_long, NULL, &out), 0);
	free(out);
	goc_waitgroup_wait(&waiters);
	goc_chan_release(c);
}

static void test_baseline_goroutines_are_not_leaks(void)
{
	goc_chan *c = goc_chan_make(0, 0);
	CHECK_EQ(spawn_waiter(c), 0);
	CHECK_EQ(spawn_waiter(c), 0);
	CHECK_EQ(goc_leakcheck_baseline(), 0); /* both are in it */
	CHECK_EQ(spawn_waiter(c), 0);
	char *out;
	CHECK_EQ(capture_stderr(leakcheck_short, NULL, &out), 1);
	CHECK(strstr(out, "1 goroutine still running") != NULL);
	free(out);
	goc_close(c);
	goc_waitgroup_wait(&waiters);
	goc_chan_release(c);
}

static void *leakcheck_on_thread(void *arg)
{
	char *out;
	*(int *)arg = capture_stderr(leakcheck_short, NULL, &out);
	free(out);
	return NULL;
}

static void *join_thread(void *arg)
{
	pthread_join(*(pthread_t *)arg, NULL);
	return NULL;
}

static void test_leakcheck_from_a_foreign_thread_counts_goroutines(void)
{
	/* The caller is not a goroutine, so the main goroutine (in the
	 * baseline) and the new one are told apart by the baseline alone. */
	goc_chan *c = goc_chan_make(0, 0);
	CHECK_EQ(goc_leakcheck_baseline(), 0);
	CHECK_EQ(spawn_waiter(c), 0);
	int n = -1;
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, leakcheck_on_thread, &n), 0);
	goc_blocking(join_thread, &t);
	CHECK_EQ(n, 1);
	goc_close(c);
	goc_waitgroup_wait(&waiters);
	goc_chan_release(c);
}

/* Child: leave one goroutine waiting when main returns. */
static goc_chan *volatile abandoned; /* reachable: not a leak for LSan */

static int abandon_one(int argc, char **argv)
{
	goc_chan *c = abandoned = goc_chan_make(sizeof(int), 0);
	goc_go_attr attr = {.name = "abandoned"};
	goc_stats_t st;
	goc_stats(&st);
	uint64_t parks = st.parks;
	goc_waitgroup_add(&waiters, 1);
	goc_go_with(&attr, wait_on, c, 0);
	/* Return once it has parked in its receive: nothing else parks in this
	 * program, so the park count moves exactly then (the count is taken
	 * after the goroutine's state and wait reason are set). */
	int64_t give_up = goc_now() + GOC_SEC(20);
	for (;;) {
		goc_stats(&st);
		if (st.parks > parks)
			return 0;
		if (goc_now() > give_up) {
			fprintf(stderr, "abandon_one: the goroutine never parked\n");
			return 1;
		}
		goc_yield();
	}
}

static void test_goc_debug_leaks_lists_goroutines_alive_when_main_returns(void)
{
	const char *env[] = {"GOC_DEBUG=leaks", NULL};
	child_result r = run_child("abandon_one", env, 30);
	const char *needles[] = {"goc: 1 goroutine still running when goc_main returned", "\"abandoned\" [chan receive",
	                         "in abandon_one", NULL};
	if (!child_exited_with(&r, 0)) {
		child_print("abandon_one", &r);
		exit(1);
	}
	check_contains_all("GOC_DEBUG=leaks", r.err, needles);
	child_free(&r);
	/* Without GOC_DEBUG, nothing is printed. */
	r = run_child("abandon_one", NULL, 30);
	CHECK(child_exited_with(&r, 0) && strlen(r.err) == 0);
	child_free(&r);
}

static int run_all(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	RUN(test_no_goroutine_started_is_no_leak);
	RUN(test_goroutines_that_finish_within_timeout_are_not_leaks);
	RUN(test_survivor_is_counted_and_reported_with_site_and_reason);
	RUN(test_baseline_goroutines_are_not_leaks);
	RUN(test_leakcheck_from_a_foreign_thread_counts_goroutines);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "abandon_one") == 0)
		return goc_main(abandon_one, argc, argv);
	check_watchdog(60);
	RUN(test_goc_debug_leaks_lists_goroutines_alive_when_main_returns);
	return run_main_procs_1_and_2(run_all, argc, argv);
}
