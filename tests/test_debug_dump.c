/* test_debug_dump.c - goc_dump lists every live goroutine with its state,
 * wait reason, the object it waits on, how long, its creation site and
 * parent, and a backtrace through its own functions; SIGQUIT prints the
 * same dump and exits with status 2 (GOC_SIGQUIT=continue: keeps running;
 * GOC_SIGQUIT=0: the default action, death by SIGQUIT). The SIGQUIT cases
 * run in child processes (this binary with a scenario name). */
#include "test_debug_util.h"

#include <goc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <string.h>

/* The goroutines that use a channel report here after their last use of
 * it: the test waits for that before releasing the channels. */
static goc_waitgroup chan_users = GOC_WAITGROUP_INIT;

static void recv_forever(void *arg)
{
	int v;
	goc_recv(arg, &v);
	goc_waitgroup_done(&chan_users);
}

static void send_forever(void *arg)
{
	int v = 1;
	goc_send(arg, &v);
	goc_waitgroup_done(&chan_users);
}

static int64_t sleep_ns = GOC_SEC(1); /* outlives an in-process dump */

static void sleeper(void *arg)
{
	goc_sleep(sleep_ns);
}

static void lock_forever(void *arg)
{
	goc_mutex_lock(arg);
	goc_mutex_unlock(arg);
}

static void select_forever(void *arg)
{
	goc_case cases[1] = {goc_case_recv(arg, NULL)};
	goc_select(cases, 1);
	goc_waitgroup_done(&chan_users);
}

static void wait_group(void *arg)
{
	goc_waitgroup_wait(arg);
}

static int dump_to_string(void *arg)
{
	(void)arg;
	goc_dump(stderr);
	return 0;
}

static goc_chan *c_int, *c_sig, *c_out;
static goc_mutex mu = GOC_MUTEX_INIT;
static goc_waitgroup wg = GOC_WAITGROUP_INIT;

static void start_waiters(void)
{
	c_int = goc_chan_make(sizeof(int), 0);
	c_sig = goc_chan_make(0, 0);
	goc_mutex_lock(&mu);
	goc_waitgroup_add(&wg, 1);
	goc_waitgroup_add(&chan_users, 3);
	goc_go_attr attr = {.name = "reader"};
	goc_go_with(&attr, recv_forever, c_int, 0);
	c_out = goc_chan_make(sizeof(int), 0);
	goc_go(send_forever, c_out);
	goc_go(sleeper, NULL);
	goc_go(lock_forever, &mu);
	goc_go(select_forever, c_sig);
	goc_go(wait_group, &wg);
	/* Every one of them has parked once the counts say so. */
	goc_stats_t st;
	for (int i = 0; i < 100000; i++) {
		goc_stats(&st);
		if (st.goroutines == 7 && st.timers >= 1) {
			char *out;
			capture_stderr(dump_to_string, NULL, &out);
			bool all = strstr(out, "[chan receive") && strstr(out, "[chan send") && strstr(out, "[sleep") &&
			           strstr(out, "[mutex") && strstr(out, "[select") && strstr(out, "[waitgroup");
			free(out);
			if (all)
				return;
		}
		goc_sleep(GOC_MS(1));
	}
	CHECK(!"the waiters never parked");
}

static void stop_waiters(void)
{
	goc_close(c_int);
	goc_close(c_sig);
	int v;
	goc_recv(c_out, &v);
	goc_mutex_unlock(&mu);
	goc_waitgroup_done(&wg);
	goc_waitgroup_wait(&chan_users);
	goc_chan_release(c_int);
	goc_chan_release(c_sig);
	goc_chan_release(c_out);
	c_int = c_sig = c_out = NULL;
}

static void test_dump_names_state_reason_object_site_and_parent(void)
{
	CHECK_EQ(goc_leakcheck_baseline(), 0);
	start_waiters();
	char *out;
	capture_stderr(dump_to_string, NULL, &out);
	char obj[64], parent[96];
	snprintf(obj, sizeof obj, "waiting on %p", (void *)c_int);
	snprintf(parent, sizeof parent, "created by goroutine %llu at ", (unsigned long long)goc_id());
	const char *needles[] = {
		"goroutine dump: 7 goroutines",
		"[running]",             /* the caller */
		"\"reader\" [chan receive, ",
		"function recv_forever",
		obj,
		parent,
		"test_debug_dump.c:",
		"in start_waiters",
		"[chan send, ",
		"[sleep, ",
		"[mutex, ",
		"[select, ",
		"[waitgroup, ",
		" ago\n",
#if !defined(GOC_TEST_TSAN)
		"backtrace:",
		"recv_forever+0x",
		"lock_forever+0x",
#endif
		NULL};
	check_contains_all("goc_dump", out, needles);
	free(out);
	stop_waiters();
	CHECK_EQ(goc_leakcheck(GOC_SEC(10)), 0);
}

static void test_dump_to_null_writes_to_stderr(void)
{
	char *out;
	capture_stderr((int (*)(void *))(void *)goc_dump, NULL, &out);
	CHECK(strstr(out, "goroutine dump: ") != NULL);
	free(out);
}

static int run_all(int argc, char **argv)
{
	RUN(test_dump_names_state_reason_object_site_and_parent);
	RUN(test_dump_to_null_writes_to_stderr);
	return 0;
}

/* ---- SIGQUIT (child processes) ----------------------------------------------- */

static void *read_to_eof(void *arg)
{
	char c;
	while (read(0, &c, 1) > 0)
		;
	return arg;
}

/* Child: start the waiters, say "ready" on stdout, then wait (in a
 * blocking call) for the parent to close our stdin, unless the signal ends
 * the process first. */
static int sigquit_child(int argc, char **argv)
{
	sleep_ns = GOC_SEC(120);
	start_waiters();
	printf("ready\n");
	fflush(stdout);
	goc_blocking(read_to_eof, NULL);
	printf("still running\n");
	fflush(stdout);
	_exit(0); /* the sleeper would keep goc_main's leak report busy */
}

/* Signal once the child is ready; with GOC_SIGQUIT=continue, give it EOF
 * once its dump is complete (the last goroutine, wait_group, printed). */
static bool send_quit_when_ready(pid_t pid, const char *out, const char *err, int *in, void *arg)
{
	bool *sent = arg;
	if (!*sent && strstr(out, "ready\n")) {
		kill(pid, SIGQUIT);
		*sent = true;
	}
	if (*sent && getenv("GOC_SIGQUIT_TEST_CONTINUE") && strstr(err, "function wait_group\n")) {
		close(*in);
		*in = -1;
		return true;
	}
	return false;
}

static child_result quit_child(const char *env)
{
	const char *envs[] = {env, NULL};
	bool sent = false;
	if (env && strcmp(env, "GOC_SIGQUIT=continue") == 0)
		setenv("GOC_SIGQUIT_TEST_CONTINUE", "1", 1);
	else
		unsetenv("GOC_SIGQUIT_TEST_CONTINUE");
	child_result r = run_child_watch("sigquit", NULL, env ? envs : NULL, 60, send_quit_when_ready, &sent);
	CHECK(sent);
	return r;
}

static void test_sigquit_dumps_every_goroutine_and_exits_2(void)
{
	child_result r = quit_child(NULL);
	const char *needles[] = {"SIGQUIT: quit", "goroutine dump: 7 goroutines", "\"reader\" [chan receive",
	                         "[sleep", "[mutex", "created by goroutine 1 at ", NULL};
	if (!child_exited_with(&r, 2) || strstr(r.out, "still running")) {
		child_print("sigquit", &r);
		exit(1);
	}
	check_contains_all("sigquit", r.err, needles);
	child_free(&r);
}

static void test_sigquit_continue_dumps_and_keeps_running(void)
{
	child_result r = quit_child("GOC_SIGQUIT=continue");
	if (!child_exited_with(&r, 0) || !strstr(r.out, "still running") || !strstr(r.err, "SIGQUIT: quit")) {
		child_print("sigquit continue", &r);
		exit(1);
	}
	child_free(&r);
}

static void test_sigquit_opt_out_leaves_the_default_action(void)
{
	child_result r = quit_child("GOC_SIGQUIT=0");
	if (!WIFSIGNALED(r.status) || WTERMSIG(r.status) != SIGQUIT || strstr(r.err, "goroutine dump")) {
		child_print("sigquit opt-out", &r);
		exit(1);
	}
	child_free(&r);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "sigquit") == 0)
		return goc_main(sigquit_child, argc, argv);
	check_watchdog(120);
	CHECK_EQ(run_main_procs_1_and_2(run_all, argc, argv), 0);
	/* No core files from the opt-out child. */
	struct rlimit nocore = {0, 0};
	setrlimit(RLIMIT_CORE, &nocore);
	RUN(test_sigquit_dumps_every_goroutine_and_exits_2);
	RUN(test_sigquit_continue_dumps_and_keeps_running);
	RUN(test_sigquit_opt_out_leaves_the_default_action);
	return 0;
}
