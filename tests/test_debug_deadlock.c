/* test_debug_deadlock.c - deadlock detection: when every goroutine waits
 * and nothing can wake one, the process prints Go's message and a dump of
 * every goroutine and exits with status 2; a wait that a timer, an fd, a
 * foreign thread or a blocking call in progress will end is never reported.
 * Each scenario runs in a child process (this binary, re-executed with the
 * scenario's name), with GOC_PROCS=1 and 2 unless GOC_PROCS is set.
 * Timing: the "no false positive" scenarios are woken after 100-150 ms, long
 * enough for every worker to go idle and run the check first. */
#include "test_debug_util.h"

#include <goc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- child scenarios ------------------------------------------------------ */

static goc_chan *shared;

static void stuck_receiver(void *arg)
{
	int v;
	goc_recv(arg, &v);
}

static int deadlock_chan(int argc, char **argv)
{
	goc_chan *c = goc_chan_make(sizeof(int), 0);
	goc_go_attr attr = {.name = "stuck"};
	goc_go_with(&attr, stuck_receiver, c, 0);
	int v = 0;
	goc_send(goc_chan_make(sizeof(int), 0), &v); /* a channel nobody reads */
	return 0;
}

static void stuck_on_mutex(void *arg)
{
	goc_mutex_lock(arg);
}

static void stuck_in_select(void *arg)
{
	int v;
	goc_case cases[2] = {goc_case_recv(arg, &v), goc_case_recv(NULL, &v)};
	goc_select(cases, 2);
}

static int deadlock_many_reasons(int argc, char **argv)
{
	static goc_mutex mu = GOC_MUTEX_INIT;
	goc_mutex_lock(&mu);
	goc_go(stuck_on_mutex, &mu);
	goc_go(stuck_in_select, goc_chan_make(0, 0));
	goc_waitgroup wg = GOC_WAITGROUP_INIT;
	goc_waitgroup_add(&wg, 1);
	goc_waitgroup_wait(&wg);
	return 0;
}

/* Nothing ever wakes main, but it has an armed timer-free deadline-less
 * wait with GOC_DEADLOCK=0: the process must keep waiting. */
static int deadlock_disabled(int argc, char **argv)
{
	goc_recv(goc_chan_make(0, 0), NULL);
	return 0;
}

static void send_after_sleep(void *arg)
{
	goc_sleep(GOC_MS(100));
	int v = 7;
	goc_send(arg, &v);
}

static int wait_on_timer(int argc, char **argv)
{
	goc_chan *c = goc_chan_make(sizeof(int), 0);
	goc_go(send_after_sleep, c);
	int v = 0;
	goc_recv(c, &v);
	/* and a plain timer channel */
	goc_chan *t = goc_after(GOC_MS(100));
	goc_recv(t, NULL);
	goc_chan_release(t);
	goc_chan_release(c);
	printf("ok %d\n", v);
	return 0;
}

static int wait_on_fd(int argc, char **argv)
{
	int p[2];
	if (pipe(p) != 0)
		return 1;
	/* Another process (not a thread of ours) writes after 150 ms: only the
	 * fd can wake the reader. */
	pid_t pid = fork();
	if (pid == 0) {
		usleep(150000);
		(void)!write(p[1], "x", 1);
		_exit(0);
	}
	close(p[1]);
	char c = 0;
	ssize_t r = goc_read(p[0], &c, 1);
	waitpid(pid, NULL, 0);
	printf("ok %zd %c\n", r, c);
	return 0;
}

static void *thread_sends_later(void *arg)
{
	usleep(150000); /* has not called goc yet while main waits */
	int v = 9;
	goc_send(shared, &v);
	return arg;
}

static void *thread_parked_with_deadline(void *arg)
{
	/* Registered with goc and parked (with a deadline, on a futex: no
	 * timer), then it wakes up on its own and sends. */
	int v;
	goc_chan *never = goc_chan_make(sizeof(int), 0);
	goc_recv_until(never, &v, goc_deadline_in(GOC_MS(150)));
	goc_chan_release(never);
	v = 10;
	goc_send(shared, &v);
	return arg;
}

static void *join(void *arg)
{
	pthread_join(*(pthread_t *)arg, NULL);
	return NULL;
}

static int wait_on_thread(int argc, char **argv)
{
	shared = goc_chan_make(sizeof(int), 0);
	pthread_t t;
	pthread_create(&t, NULL, thread_sends_later, NULL);
	int v = 0;
	goc_recv(shared, &v);
	pthread_join(t, NULL);
	pthread_create(&t, NULL, thread_parked_with_deadline, NULL);
	int w = 0;
	goc_recv(shared, &w);
	goc_blocking(join, &t);
	goc_chan_release(shared);
	printf("ok %d %d\n", v, w);
	return 0;
}

static void *slow_call(void *arg)
{
	usleep(150000);
	return arg;
}

static void receive_one(void *arg)
{
	int v;
	goc_recv(arg, &v);
	goc_send(arg, &v);
}

static int wait_on_blocking_call(int argc, char **argv)
{
	goc_chan *c = goc_chan_make(sizeof(int), 0);
	goc_go(receive_one, c); /* waits on c while main is in a blocking call */
	goc_blocking(slow_call, NULL);
	int v = 5;
	goc_send(c, &v);
	goc_recv(c, &v);
	goc_chan_release(c);
	printf("ok %d\n", v);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int, char **);
} scenarios[] = {
	{"deadlock_chan", deadlock_chan},
	{"deadlock_many_reasons", deadlock_many_reasons},
	{"deadlock_disabled", deadlock_disabled},
	{"wait_on_timer", wait_on_timer},
	{"wait_on_fd", wait_on_fd},
	{"wait_on_thread", wait_on_thread},
	{"wait_on_blocking_call", wait_on_blocking_call},
};

/* ---- the tests (parent) ----------------------------------------------------- */

static const char *procs_env = NULL; /* "GOC_PROCS=n" for this round */

static child_result run(const char *scenario, const char *extra_env, int timeout_s)
{
	const char *env[] = {procs_env, extra_env, NULL};
	if (!procs_env) {
		env[0] = extra_env;
		env[1] = NULL;
	}
	return run_child(scenario, env, timeout_s);
}

static void expect_deadlock(const char *scenario, const char *const *needles)
{
	child_result r = run(scenario, NULL, 30);
	if (!child_exited_with(&r, 2)) {
		child_print(scenario, &r);
		exit(1);
	}
	check_contains_all(scenario, r.err, needles);
	/* The message comes first, as Go prints it. */
	CHECK(strncmp(r.err, "goc: all goroutines are asleep - deadlock!\n", 43) == 0);
	child_free(&r);
}

static void test_goroutines_waiting_on_each_other_are_reported_with_a_dump(void)
{
	const char *needles[] = {
		"goroutine dump: 2 goroutines",
		"goroutine 1 [chan send",
		"main goroutine",
		"\"stuck\" [chan receive",
		"function stuck_receiver",
		"created by goroutine 1 at ",
		"test_debug_deadlock.c:",
		"in deadlock_chan",
		"waiting on 0x",
#if !defined(GOC_TEST_TSAN)
		"backtrace:",
		"deadlock_chan+0x", /* main's frames, below the runtime's */
#endif
		NULL};
	expect_deadlock("deadlock_chan", needles);
}

static void test_each_wait_reason_is_named_in_the_dump(void)
{
	const char *needles[] = {"goroutine dump: 3 goroutines", "[waitgroup", "[mutex", "[select",
	                         "function stuck_on_mutex", "function stuck_in_select", NULL};
	expect_deadlock("deadlock_many_reasons", needles);
}

static void test_deadlock_detection_can_be_turned_off(void)
{
	/* With GOC_DEADLOCK=0 the child waits forever: it is still running
	 * when killed after 1 s (SIGKILL), never exiting with 2. */
	child_result r = run("deadlock_disabled", "GOC_DEADLOCK=0", 1);
	if (!WIFSIGNALED(r.status) || WTERMSIG(r.status) != SIGKILL || strstr(r.err, "deadlock")) {
		child_print("deadlock_disabled", &r);
		exit(1);
	}
	child_free(&r);
}

static void expect_no_deadlock(const char *scenario, const char *want_out)
{
	child_result r = run(scenario, NULL, 30);
	if (!child_exited_with(&r, 0) || strcmp(r.out, want_out) != 0 || strstr(r.err, "deadlock")) {
		child_print(scenario, &r);
		fprintf(stderr, "expected stdout \"%s\"\n", want_out);
		exit(1);
	}
	child_free(&r);
}

static void test_waiting_on_a_timer_is_not_a_deadlock(void)
{
	expect_no_deadlock("wait_on_timer", "ok 7\n");
}

static void test_waiting_on_an_fd_is_not_a_deadlock(void)
{
	expect_no_deadlock("wait_on_fd", "ok 1 x\n");
}

static void test_waiting_on_a_foreign_thread_is_not_a_deadlock(void)
{
	expect_no_deadlock("wait_on_thread", "ok 9 10\n");
}

static void test_waiting_on_a_blocking_call_is_not_a_deadlock(void)
{
	expect_no_deadlock("wait_on_blocking_call", "ok 5\n");
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
			if (strcmp(argv[1], scenarios[i].name) == 0)
				return goc_main(scenarios[i].fn, argc, argv);
		fprintf(stderr, "unknown scenario %s\n", argv[1]);
		return 1;
	}
	check_watchdog(120);
	static char env[32];
	for (int procs = 1; procs <= 2; procs++) {
		if (getenv("GOC_PROCS")) {
			if (procs == 2)
				break;
		} else {
			snprintf(env, sizeof env, "GOC_PROCS=%d", procs);
			procs_env = env;
		}
		fprintf(stderr, "%s\n", procs_env ? procs_env : getenv("GOC_PROCS"));
		RUN(test_goroutines_waiting_on_each_other_are_reported_with_a_dump);
		RUN(test_each_wait_reason_is_named_in_the_dump);
		RUN(test_deadlock_detection_can_be_turned_off);
		RUN(test_waiting_on_a_timer_is_not_a_deadlock);
		RUN(test_waiting_on_an_fd_is_not_a_deadlock);
		RUN(test_waiting_on_a_foreign_thread_is_not_a_deadlock);
		RUN(test_waiting_on_a_blocking_call_is_not_a_deadlock);
	}
	return 0;
}
