/* explore.c - running a test program under many seeds (goc/testing.h).
 *
 * Each run is a child process (fork) that calls goc_sim_main with its seed
 * and exits with fn's result: a fresh runtime, a fresh address space, and a
 * crash, a deadlock report (exit 2), a sanitizer abort or a hang (killed at
 * the timeout) fails only that run. The parent never starts a runtime of its
 * own: forking a process whose workers are running would copy their memory
 * but not their threads, so goc_sim_fork refuses (GOC_EBUSY).
 *
 * Output: a quiet exploration sends every run's stdout and stderr to one
 * temporary file, emptied before each run, and copies it to stderr only for
 * the first failing run, so a hundred passing runs print nothing.
 *
 * The parent waits with waitpid(WNOHANG) and short, growing naps (20 us to
 * 2 ms): a run typically lasts a millisecond or two, and this keeps the
 * wait cheap without a SIGCHLD handler that would belong to the program.
 */
#define _GNU_SOURCE
#include "../sched/sched.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT GOC_SEC(10)
#define DEFAULT_RUNS 100

static int child_exit_code(int rc)
{
	if (rc == 0)
		return 0;
	return (rc & 0xff) ? (rc & 0xff) : 1; /* never let a failure read as 0 */
}

int goc_sim_fork(const goc_sim_config *cfg, int (*fn)(int argc, char **argv), int argc, char **argv,
                 int out_fd, int64_t timeout)
{
	if (!fn || argc < 0)
		return GOC_EINVAL;
	if (atomic_load(&goc__s.started))
		return GOC_EBUSY;
	if (timeout <= 0)
		timeout = DEFAULT_TIMEOUT;
	fflush(NULL); /* or the child would print our buffered output again */
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (out_fd >= 0) {
			dup2(out_fd, STDOUT_FILENO);
			dup2(out_fd, STDERR_FILENO);
		}
		/* Line-buffered: a deadlock report ends the child with _exit,
		 * and what the program printed before it must not be lost. */
		setvbuf(stdout, NULL, _IOLBF, 0);
		int rc = goc_sim_main(cfg, fn, argc, argv);
		fflush(NULL);
		_exit(child_exit_code(rc));
	}
	int64_t give_up = goc__nanotime() + timeout;
	int64_t nap = 20000;
	int status;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (goc__nanotime() > give_up) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return GOC_ETIMEDOUT;
		}
		struct timespec ts = {0, nap};
		nanosleep(&ts, NULL);
		if (nap < 2000000)
			nap *= 2;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

static void describe(int status, char *buf, size_t size)
{
	if (status == GOC_ETIMEDOUT)
		snprintf(buf, size, "still running after the timeout: a hang or livelock");
	else if (status == 2)
		snprintf(buf, size, "exit status 2 (goc's deadlock report exits so)");
	else if (status > 128 && status < 128 + 65)
		snprintf(buf, size, "killed by signal %d (%s)", status - 128, strsignal(status - 128));
	else if (status >= 0)
		snprintf(buf, size, "exit status %d", status);
	else
		snprintf(buf, size, "could not run: %s", goc_strerror(status));
}

/* Copy the captured output of a run to stderr, framed. */
static void replay_output(int fd)
{
	if (fd < 0)
		return;
	off_t end = lseek(fd, 0, SEEK_END);
	if (end <= 0)
		return;
	lseek(fd, 0, SEEK_SET);
	fprintf(stderr, "---- output of the failing run ----\n");
	fflush(stderr);
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		if (write(STDERR_FILENO, buf, (size_t)n) < 0)
			break;
	fprintf(stderr, "---- end of output ----\n");
}

static void print_replay(const goc_sim_config *cfg, uint64_t seed, const char *prog)
{
	fprintf(stderr, "goc: explore: replay it with: GOC_SCHED_SEED=%llu", (unsigned long long)seed);
	if (cfg->real_time)
		fprintf(stderr, " GOC_VIRTUAL_TIME=0");
	if (cfg->pct_depth > 0)
		fprintf(stderr, " GOC_SCHED_PCT=%d", cfg->pct_depth);
	if (cfg->yield_permille != 0)
		fprintf(stderr, " GOC_SCHED_YIELD=%d", cfg->yield_permille < 0 ? 0 : cfg->yield_permille);
	fprintf(stderr, " %s\n", prog ? prog : "<program>");
}

int goc_explore(const goc_explore_opts *opts, int (*fn)(int argc, char **argv), int argc, char **argv,
                goc_explore_result *res)
{
	if (!fn || argc < 0)
		return GOC_EINVAL;
	goc_explore_opts o = {0};
	if (opts)
		o = *opts;
	if (o.runs <= 0)
		o.runs = DEFAULT_RUNS;
	if (o.timeout <= 0)
		o.timeout = DEFAULT_TIMEOUT;
	/* Replaying one seed: GOC_SCHED_SEED names it. */
	const char *e = getenv("GOC_SCHED_SEED");
	if (e && *e) {
		char *end;
		unsigned long long s = strtoull(e, &end, 0);
		if (!*end) {
			o.first_seed = s;
			o.runs = 1;
			o.verbose = true;
		}
	}
	goc_explore_result r = {0};
	FILE *capture = NULL;
	int fd = -1;
	if (!o.verbose) {
		capture = tmpfile();
		if (!capture)
			return -errno;
		fd = fileno(capture);
	}
	const char *prog = argc > 0 && argv ? argv[0] : NULL;
	int rc = 0;
	for (int i = 0; i < o.runs; i++) {
		goc_sim_config cfg = o.config;
		cfg.seed = o.first_seed + (uint64_t)i;
		if (fd >= 0) {
			if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) < 0) {
				rc = -errno;
				break;
			}
		}
		int st = goc_sim_fork(&cfg, fn, argc, argv, fd, o.timeout);
		if (st == GOC_EBUSY || st == GOC_EINVAL || (st < 0 && st != GOC_ETIMEDOUT)) {
			rc = st;
			break;
		}
		r.runs++;
		if (st == 0)
			continue;
		r.failures++;
		if (r.failures == 1) {
			char what[128];
			describe(st, what, sizeof what);
			r.failing_seed = cfg.seed;
			r.status = st;
			replay_output(fd);
			fprintf(stderr, "goc: explore: seed %llu fails (%s), run %d of %d\n",
			        (unsigned long long)cfg.seed, what, i + 1, o.runs);
			print_replay(&o.config, cfg.seed, prog);
		}
		rc = 1;
		if (!o.keep_going)
			break;
	}
	if (capture)
		fclose(capture);
	if (res)
		*res = r;
	return rc;
}
