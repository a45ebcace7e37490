/* test_testing_sim.c - simulation mode (goc/testing.h): a seed replays one
 * interleaving byte for byte, virtual time jumps to the next timer, the
 * deadlock check still works, and the explorer finds, reports and replays
 * failing seeds.
 *
 * Every simulated run is a child process (goc_sim_fork): this process never
 * starts a runtime of its own, except in the last test, which checks that
 * goc_sim_fork then refuses to fork.
 * ctest: TIMEOUT 60
 */
#define _GNU_SOURCE
#include <goc.h>

#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers -------------------------------------------------------------- */

static int64_t wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Run fn under cfg in a child; return its status and (if out) its output,
 * malloc'd and NUL-terminated. */
static int run_capture(const goc_sim_config *cfg, int (*fn)(int, char **), char **out)
{
	FILE *f = tmpfile();
	CHECK(f != NULL);
	char *argv[] = {"test_testing_sim", NULL};
	int st = goc_sim_fork(cfg, fn, 1, argv, fileno(f), GOC_SEC(20));
	long n = lseek(fileno(f), 0, SEEK_END);
	CHECK(n >= 0);
	char *buf = malloc((size_t)n + 1);
	CHECK(buf != NULL);
	lseek(fileno(f), 0, SEEK_SET);
	CHECK(read(fileno(f), buf, (size_t)n) == n);
	buf[n] = 0;
	fclose(f);
	if (out)
		*out = buf;
	else
		free(buf);
	return st;
}

/* Run fn under cfg; it must exit 0 (its output is shown if not). */
static void run_ok(const goc_sim_config *cfg, int (*fn)(int, char **))
{
	char *out;
	int st = run_capture(cfg, fn, &out);
	if (st != 0)
		fprintf(stderr, "child output:\n%s\n", out);
	CHECK_EQ(st, 0);
	free(out);
}

/* Inside a child: report a failed expectation on stdout and fail. */
#define EXPECT(cond)                                                                   \
	do {                                                                           \
		if (!(cond)) {                                                         \
			printf("%s:%d: expected %s\n", __FILE__, __LINE__, #cond);    \
			return 1;                                                      \
		}                                                                      \
	} while (0)

/* ---- a program with many scheduling choices -------------------------------- */

static goc_mutex mix_mu = GOC_MUTEX_INIT;
static int mix_counter;

typedef struct mixer {
	int id;
	goc_chan *a, *b, *out;
	goc_waitgroup *wg;
} mixer;

static void mix_worker(void *arg)
{
	mixer *m = arg;
	for (int i = 0; i < 6; i++) {
		int v = m->id * 100 + i;
		goc_case cs[2] = {goc_case_send(m->a, &v), goc_case_send(m->b, &v)};
		int k = goc_select(cs, 2);
		goc_mutex_lock(&mix_mu);
		mix_counter++;
		printf("w%d sent %d on %c (counter %d)\n", m->id, v, k == 0 ? 'a' : 'b', mix_counter);
		goc_mutex_unlock(&mix_mu);
		if (i % 2)
			goc_sleep(GOC_MS(m->id + 1));
		else
			goc_yield();
	}
	goc_waitgroup_done(m->wg);
}

static void mix_reader(void *arg)
{
	mixer *m = arg;
	int v;
	for (;;) {
		goc_case cs[2] = {goc_case_recv(m->a, &v), goc_case_recv(m->b, &v)};
		int k = goc_select(cs, 2);
		if (!goc_case_ok(&cs[k]))
			break;
		printf("reader got %d from %c at +%lld us\n", v, k == 0 ? 'a' : 'b',
		       (long long)(goc_now() % 1000000000) / 1000);
	}
	goc_send(m->out, NULL);
}

static int mix_program(int argc, char **argv)
{
	goc_chan *a = goc_chan_make(sizeof(int), 1), *b = goc_chan_make(sizeof(int), 0);
	goc_chan *out = goc_chan_make(0, 0);
	goc_waitgroup wg = GOC_WAITGROUP_INIT;
	mixer ms[4];
	goc_waitgroup_add(&wg, 3);
	for (int i = 0; i < 3; i++) {
		ms[i] = (mixer){i, a, b, out, &wg};
		goc_go(mix_worker, &ms[i]);
	}
	ms[3] = (mixer){3, a, b, out, &wg};
	goc_go(mix_reader, &ms[3]);
	goc_ticker *t = goc_ticker_new(GOC_US(1500));
	for (int i = 0; i < 3; i++) {
		int64_t when;
		goc_recv(goc_ticker_chan(t), &when);
		printf("tick %d\n", i);
	}
	goc_ticker_release(t);
	goc_waitgroup_wait(&wg);
	goc_close(a);
	goc_close(b);
	goc_recv(out, NULL);
	printf("goroutine ids end at %llu, counter %d\n", (unsigned long long)goc_id(), mix_counter);
	return 0;
}

static void test_same_seed_replays_byte_for_byte(void)
{
	for (uint64_t seed = 1; seed <= 4; seed++) {
		goc_sim_config cfg = {.seed = seed};
		char *o1, *o2;
		CHECK_EQ(run_capture(&cfg, mix_program, &o1), 0);
		CHECK_EQ(run_capture(&cfg, mix_program, &o2), 0);
		CHECK(strlen(o1) > 200);
		if (strcmp(o1, o2) != 0) {
			fprintf(stderr, "seed %llu, run 1:\n%s\nrun 2:\n%s\n", (unsigned long long)seed, o1, o2);
			CHECK(!"same seed, same output");
		}
		free(o1);
		free(o2);
	}
}

static void test_same_seed_replays_under_pct(void)
{
	goc_sim_config cfg = {.seed = 9, .pct_depth = 3, .pct_steps = 100};
	char *o1, *o2;
	CHECK_EQ(run_capture(&cfg, mix_program, &o1), 0);
	CHECK_EQ(run_capture(&cfg, mix_program, &o2), 0);
	CHECK(strcmp(o1, o2) == 0);
	free(o1);
	free(o2);
}

static void test_different_seeds_give_different_interleavings(void)
{
	char *outs[8];
	int distinct = 0;
	for (int i = 0; i < 8; i++) {
		goc_sim_config cfg = {.seed = 100 + (uint64_t)i};
		CHECK_EQ(run_capture(&cfg, mix_program, &outs[i]), 0);
		bool seen = false;
		for (int j = 0; j < i; j++)
			seen = seen || strcmp(outs[i], outs[j]) == 0;
		distinct += !seen;
	}
	CHECK(distinct >= 4);
	for (int i = 0; i < 8; i++)
		free(outs[i]);
}

/* ---- select's choice comes from the seed ----------------------------------- */

static int select_program(int argc, char **argv)
{
	goc_chan *a = goc_chan_make(sizeof(int), 1), *b = goc_chan_make(sizeof(int), 1);
	int one = 1, v, counts[2] = {0, 0};
	for (int i = 0; i < 64; i++) {
		goc_try_send(a, &one);
		goc_try_send(b, &one);
		goc_case cs[2] = {goc_case_recv(a, &v), goc_case_recv(b, &v)};
		int k = goc_select(cs, 2);
		counts[k]++;
		putchar('a' + k);
	}
	putchar('\n');
	EXPECT(counts[0] > 8 && counts[1] > 8);
	return 0;
}

static void test_select_choice_is_seeded(void)
{
	goc_sim_config c1 = {.seed = 5}, c2 = {.seed = 6};
	char *o1, *o2, *o3;
	CHECK_EQ(run_capture(&c1, select_program, &o1), 0);
	CHECK_EQ(run_capture(&c1, select_program, &o2), 0);
	CHECK_EQ(run_capture(&c2, select_program, &o3), 0);
	CHECK(strcmp(o1, o2) == 0);
	CHECK(strcmp(o1, o3) != 0);
	free(o1);
	free(o2);
	free(o3);
}

/* ---- virtual time ------------------------------------------------------------ */

static int sleep_hour_program(int argc, char **argv)
{
	EXPECT(goc_sim_enabled());
	int64_t w0 = wall_now(), t0 = goc_now();
	EXPECT(goc_sleep(GOC_MIN(60)) == 0);
	EXPECT(goc_now() - t0 == GOC_MIN(60));
	EXPECT(wall_now() - w0 < GOC_SEC(2));
	/* The clock stands still while something can run. */
	int64_t t1 = goc_now();
	for (int i = 0; i < 100; i++)
		goc_yield();
	EXPECT(goc_now() == t1);
	return 0;
}

static void test_virtual_sleep_of_an_hour_is_instant_and_exact(void)
{
	goc_sim_config cfg = {.seed = 1};
	run_ok(&cfg, sleep_hour_program);
}

typedef struct sleeper {
	int64_t d;
	goc_chan *order;
} sleeper;

static void sleeper_fn(void *arg)
{
	sleeper *s = arg;
	goc_sleep(s->d);
	int64_t now = goc_now();
	goc_send(s->order, &now);
}

static int timers_program(int argc, char **argv)
{
	int64_t t0 = goc_now();
	goc_chan *order = goc_chan_make(sizeof(int64_t), 3);
	sleeper s[3] = {{GOC_SEC(3), order}, {GOC_SEC(1), order}, {GOC_SEC(2), order}};
	for (int i = 0; i < 3; i++)
		goc_go(sleeper_fn, &s[i]);
	for (int64_t want = 1; want <= 3; want++) {
		int64_t at;
		goc_recv(order, &at);
		EXPECT(at - t0 == GOC_SEC(want));
	}
	/* A ticker ticks at exact multiples of its period. */
	goc_ticker *t = goc_ticker_new(GOC_MS(10));
	int64_t t1 = goc_now();
	for (int64_t k = 1; k <= 5; k++) {
		int64_t at;
		goc_recv(goc_ticker_chan(t), &at);
		EXPECT(at - t1 == k * GOC_MS(10));
	}
	goc_ticker_release(t);
	/* goc_after and a timer that is stopped before it fires. */
	goc_timer *never = goc_timer_new(GOC_SEC(5));
	goc_chan *after = goc_after(GOC_SEC(4));
	int64_t t2 = goc_now(), at;
	EXPECT(goc_recv(after, &at) == 0 && at - t2 == GOC_SEC(4));
	EXPECT(goc_timer_stop(never) == 1);
	goc_timer_release(never);
	goc_chan_release(after);
	return 0;
}

static void test_virtual_timers_fire_in_order_at_their_times(void)
{
	goc_sim_config cfg = {.seed = 2};
	run_ok(&cfg, timers_program);
}

static int deadline_program(int argc, char **argv)
{
	goc_chan *c = goc_chan_make(sizeof(int), 0);
	int v;
	int64_t t0 = goc_now();
	EXPECT(goc_recv_until(c, &v, t0 + GOC_SEC(30)) == GOC_ETIMEDOUT);
	EXPECT(goc_now() - t0 == GOC_SEC(30));
	goc_case cs[1] = {goc_case_recv(c, &v)};
	t0 = goc_now();
	EXPECT(goc_select_until(cs, 1, t0 + GOC_MIN(5)) == GOC_ETIMEDOUT);
	EXPECT(goc_now() - t0 == GOC_MIN(5));
	/* A past deadline does not wait. */
	t0 = goc_now();
	EXPECT(goc_recv_until(c, &v, t0 - 1) == GOC_ETIMEDOUT);
	EXPECT(goc_now() == t0);
	/* A context with a timeout of one day. */
	goc_ctx *ctx = goc_ctx_with_timeout(goc_ctx_background(), GOC_MIN(24 * 60));
	t0 = goc_now();
	EXPECT(goc_recv(goc_ctx_done(ctx), NULL) == GOC_ECLOSED);
	EXPECT(goc_ctx_err(ctx) == GOC_ETIMEDOUT);
	EXPECT(goc_now() - t0 == GOC_MIN(24 * 60));
	goc_ctx_release(ctx);
	/* A mutex wait with a deadline. */
	goc_mutex mu = GOC_MUTEX_INIT;
	goc_mutex_lock(&mu);
	t0 = goc_now();
	EXPECT(goc_mutex_lock_until(&mu, t0 + GOC_SEC(7)) == GOC_ETIMEDOUT);
	EXPECT(goc_now() - t0 == GOC_SEC(7));
	goc_mutex_unlock(&mu);
	return 0;
}

static void test_virtual_deadlines_time_out_exactly(void)
{
	goc_sim_config cfg = {.seed = 3};
	run_ok(&cfg, deadline_program);
}

static int deadlock_program(int argc, char **argv)
{
	goc_chan *c = goc_chan_make(0, 0);
	goc_sleep(GOC_SEC(10)); /* a pending timer is no deadlock */
	printf("slept\n");
	goc_recv(c, NULL); /* nothing can ever send */
	return 0;
}

static void test_deadlock_is_reported_under_virtual_time(void)
{
	goc_sim_config cfg = {.seed = 4};
	char *out;
	int64_t w0 = wall_now();
	CHECK_EQ(run_capture(&cfg, deadlock_program, &out), 2);
	CHECK(wall_now() - w0 < GOC_SEC(5));
	CHECK(strstr(out, "slept\n") != NULL);
	CHECK(strstr(out, "all goroutines are asleep - deadlock!") != NULL);
	free(out);
}

static int real_time_program(int argc, char **argv)
{
	EXPECT(goc_sim_enabled());
	int64_t t0 = goc_now();
	goc_sleep(GOC_MS(20));
	int64_t d = goc_now() - t0;
	EXPECT(d >= GOC_MS(20));
	EXPECT(goc_now() < GOC_SEC(1000000)); /* the monotonic clock, not the sim epoch */
	return 0;
}

static void test_real_time_option_keeps_the_monotonic_clock(void)
{
	goc_sim_config cfg = {.seed = 4, .real_time = true};
	run_ok(&cfg, real_time_program);
}

/* Inside goc_blocking a goroutine is outside the simulated world, like a
 * foreign thread: the virtual clock does not move for it, and its sleep
 * waits in real time (it used to wait for the virtual clock forever). */
static int64_t slept_ns[2];

static void *sleep_in_call(void *arg)
{
	int64_t w0 = wall_now();
	if (goc_sleep(GOC_MS(5)) != 0)
		return NULL;
	*(int64_t *)arg = wall_now() - w0;
	return arg;
}

static goc_waitgroup blocked_sleepers = GOC_WAITGROUP_INIT;

static void blocked_sleeper(void *arg)
{
	if (goc_blocking(sleep_in_call, arg) != arg)
		*(int64_t *)arg = -1;
	goc_waitgroup_done(&blocked_sleepers);
}

static int sleep_in_blocking_program(int argc, char **argv)
{
	EXPECT(goc_sim_enabled());
	goc_waitgroup_add(&blocked_sleepers, 2);
	for (int i = 0; i < 2; i++)
		EXPECT(goc_go(blocked_sleeper, &slept_ns[i]) == 0);
	EXPECT(goc_waitgroup_wait(&blocked_sleepers) == 0);
	for (int i = 0; i < 2; i++)
		EXPECT(slept_ns[i] >= GOC_MS(5));
	return 0;
}

static void test_sleep_inside_a_blocking_call_waits_in_real_time(void)
{
	for (uint64_t seed = 1; seed <= 3; seed++) {
		goc_sim_config cfg = {.seed = seed};
		run_ok(&cfg, sleep_in_blocking_program);
	}
}

static int one_worker_program(int argc, char **argv)
{
	EXPECT(goc_procs(0) == 1);
	goc_procs(4);
	EXPECT(goc_procs(0) == 1);
	EXPECT(goc_sim_seed() == 12345);
	return 0;
}

static void test_simulation_keeps_one_worker(void)
{
	goc_sim_config cfg = {.seed = 12345};
	run_ok(&cfg, one_worker_program);
}

/* ---- environment --------------------------------------------------------- */

static int env_program(int argc, char **argv)
{
	EXPECT(goc_sim_enabled());
	EXPECT(goc_sim_seed() == 77);
	int64_t t0 = goc_now();
	goc_sleep(GOC_MIN(10));
	EXPECT(goc_now() - t0 == GOC_MIN(10)); /* virtual by default */
	return 0;
}

static void test_env_seed_turns_on_simulation(void)
{
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		setenv("GOC_SCHED_SEED", "77", 1);
		char *argv[] = {"env", NULL};
		_exit(goc_main(env_program, 1, argv));
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
}

/* ---- the explorer --------------------------------------------------------- */

static int fails_on_seed_5(int argc, char **argv)
{
	printf("running seed %llu\n", (unsigned long long)goc_sim_seed());
	return goc_sim_seed() == 5 ? 3 : 0;
}

static void test_explore_stops_at_the_first_failing_seed(void)
{
	goc_explore_opts o = {.runs = 50};
	goc_explore_result r;
	char *argv[] = {"t", NULL};
	CHECK_EQ(goc_explore(&o, fails_on_seed_5, 1, argv, &r), 1);
	CHECK_EQ(r.runs, 6);
	CHECK_EQ(r.failures, 1);
	CHECK_EQ(r.failing_seed, 5);
	CHECK_EQ(r.status, 3);
	o.keep_going = true;
	o.first_seed = 3;
	o.runs = 10;
	CHECK_EQ(goc_explore(&o, fails_on_seed_5, 1, argv, &r), 1);
	CHECK_EQ(r.runs, 10);
	CHECK_EQ(r.failures, 1);
	CHECK_EQ(r.failing_seed, 5);
	o.first_seed = 6;
	CHECK_EQ(goc_explore(&o, fails_on_seed_5, 1, argv, &r), 0);
	CHECK_EQ(r.failures, 0);
}

static void test_explore_replays_the_seed_in_the_environment(void)
{
	goc_explore_opts o = {.runs = 50};
	goc_explore_result r;
	char *argv[] = {"t", NULL};
	setenv("GOC_SCHED_SEED", "5", 1);
	int rc = goc_explore(&o, fails_on_seed_5, 1, argv, &r);
	setenv("GOC_SCHED_SEED", "4", 1);
	int rc4 = goc_explore(&o, fails_on_seed_5, 1, argv, NULL);
	unsetenv("GOC_SCHED_SEED");
	CHECK_EQ(rc, 1);
	CHECK_EQ(r.runs, 1);
	CHECK_EQ(r.failing_seed, 5);
	CHECK_EQ(rc4, 0);
}

static int livelock_program(int argc, char **argv)
{
	for (;;)
		goc_yield(); /* the virtual clock never moves: nothing blocks */
	return 0;
}

static int abort_program(int argc, char **argv)
{
	abort();
}

static void test_explore_fails_hangs_and_crashes(void)
{
	goc_explore_opts o = {.runs = 3, .timeout = GOC_MS(300)};
	goc_explore_result r;
	char *argv[] = {"t", NULL};
	CHECK_EQ(goc_explore(&o, livelock_program, 1, argv, &r), 1);
	CHECK_EQ(r.status, GOC_ETIMEDOUT);
	CHECK_EQ(r.runs, 1);
	o.timeout = GOC_SEC(30); /* a sanitizer's abort report takes its time */
	CHECK_EQ(goc_explore(&o, abort_program, 1, argv, &r), 1);
	CHECK_EQ(r.status, 128 + 6);
	CHECK_EQ(goc_explore(&o, NULL, 1, argv, &r), GOC_EINVAL);
}

/* Last: it starts a runtime in this process. */
static void nop(void *arg) {}

static void test_fork_refused_once_a_runtime_runs(void)
{
	CHECK_EQ(goc_go(nop, NULL), 0);
	goc_sim_config cfg = {0};
	char *argv[] = {"t", NULL};
	CHECK_EQ(goc_sim_fork(&cfg, fails_on_seed_5, 1, argv, -1, 0), GOC_EBUSY);
	CHECK_EQ(goc_explore(NULL, fails_on_seed_5, 1, argv, NULL), GOC_EBUSY);
	CHECK_EQ(goc_sim_main(&cfg, fails_on_seed_5, 1, argv), GOC_EBUSY);
}

int main(void)
{
	RUN(test_same_seed_replays_byte_for_byte);
	RUN(test_same_seed_replays_under_pct);
	RUN(test_different_seeds_give_different_interleavings);
	RUN(test_select_choice_is_seeded);
	RUN(test_virtual_sleep_of_an_hour_is_instant_and_exact);
	RUN(test_virtual_timers_fire_in_order_at_their_times);
	RUN(test_virtual_deadlines_time_out_exactly);
	RUN(test_deadlock_is_reported_under_virtual_time);
	RUN(test_real_time_option_keeps_the_monotonic_clock);
	RUN(test_sleep_inside_a_blocking_call_waits_in_real_time);
	RUN(test_simulation_keeps_one_worker);
	RUN(test_env_seed_turns_on_simulation);
	RUN(test_explore_stops_at_the_first_failing_seed);
	RUN(test_explore_replays_the_seed_in_the_environment);
	RUN(test_explore_fails_hangs_and_crashes);
	RUN(test_fork_refused_once_a_runtime_runs);
	return 0;
}
