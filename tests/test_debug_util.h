/* test_debug_util.h - helpers of the debug module's tests: running this
 * test binary again as a child process (one scenario per child, named by
 * its first argument) with extra environment, capturing what it prints,
 * and capturing the current process's stderr. */
#ifndef GOC_TEST_DEBUG_UTIL_H
#define GOC_TEST_DEBUG_UTIL_H

#include "check.h"

#include <goc.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct child_result {
	int status;       /* waitpid status */
	char *out, *err;  /* everything written to stdout / stderr (malloc'd) */
} child_result;

static inline bool child_exited_with(const child_result *r, int code)
{
	return WIFEXITED(r->status) && WEXITSTATUS(r->status) == code;
}

static inline void child_free(child_result *r)
{
	free(r->out);
	free(r->err);
}

static inline void child_print(const char *what, const child_result *r)
{
	fprintf(stderr, "%s: status %#x (%s %d)\n--- stdout ---\n%s\n--- stderr ---\n%s\n", what, r->status,
	        WIFEXITED(r->status) ? "exit" : "signal",
	        WIFEXITED(r->status) ? WEXITSTATUS(r->status) : WTERMSIG(r->status), r->out, r->err);
}

/* Called in the child between fork and exec (e.g. to close fds). */
typedef void (*child_hook)(void *arg);

/* Run /proc/self/exe scenario [arg2] with env (a NULL-terminated list of
 * "NAME=value", added to ours) and wait at most timeout_s seconds (then
 * it is killed with SIGKILL, which the caller sees in status). The child's
 * stdin is a pipe the parent holds open. If watch is given it is called in
 * the parent with the child's pid, its stdout and stderr so far and the
 * write end of that pipe (*in; close it and set it to -1 to give the child
 * EOF) each time the child writes, until it returns true. */
typedef bool (*child_watch)(pid_t pid, const char *out, const char *err, int *in, void *arg);

static inline child_result run_child_watch(const char *scenario, const char *arg2, const char *const *env,
                                           int timeout_s, child_watch watch, void *warg)
{
	int po[2], pe[2], pi[2];
	CHECK_EQ(pipe(po), 0);
	CHECK_EQ(pipe(pe), 0);
	CHECK_EQ(pipe(pi), 0);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		dup2(pi[0], 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(pi[0]);
		close(pi[1]);
		close(po[0]);
		close(pe[0]);
		close(po[1]);
		close(pe[1]);
		for (const char *const *e = env; e && *e; e++)
			putenv((char *)*e);
		char *argv[] = {"child", (char *)scenario, (char *)arg2, NULL};
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	close(pi[0]);
	int in = pi[1];
	child_result r = {0};
	size_t cap[2] = {4096, 4096}, len[2] = {0, 0};
	char *buf[2] = {malloc(cap[0]), malloc(cap[1])};
	CHECK(buf[0] && buf[1]);
	buf[0][0] = buf[1][0] = 0;
	struct pollfd fds[2] = {{.fd = po[0], .events = POLLIN}, {.fd = pe[0], .events = POLLIN}};
	int open_fds = 2;
	bool watching = watch != NULL;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	bool killed = false;
	while (open_fds > 0) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		long ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms > timeout_s * 1000L && !killed) {
			kill(pid, SIGKILL);
			killed = true;
		}
		int n = poll(fds, 2, 100);
		if (n <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (len[i] + 4096 + 1 > cap[i]) {
				cap[i] *= 2;
				buf[i] = realloc(buf[i], cap[i]);
				CHECK(buf[i] != NULL);
			}
			ssize_t k = read(fds[i].fd, buf[i] + len[i], cap[i] - len[i] - 1);
			if (k <= 0) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
				continue;
			}
			len[i] += (size_t)k;
			buf[i][len[i]] = 0;
			if (watching && watch(pid, buf[0], buf[1], &in, warg))
				watching = false;
		}
	}
	if (in >= 0)
		close(in);
	CHECK_EQ(waitpid(pid, &r.status, 0), pid);
	r.out = buf[0];
	r.err = buf[1];
	return r;
}

static inline child_result run_child(const char *scenario, const char *const *env, int timeout_s)
{
	return run_child_watch(scenario, NULL, env, timeout_s, NULL, NULL);
}

/* Run fn(arg) with fd 2 redirected to a temporary file; returns fn's result
 * and what it wrote (malloc'd, NUL-terminated) in *text. */
static inline int capture_stderr(int (*fn)(void *), void *arg, char **text)
{
	char path[] = "/tmp/goc_debug_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	unlink(path);
	fflush(stderr);
	int saved = dup(2);
	dup2(fd, 2);
	int r = fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	off_t len = lseek(fd, 0, SEEK_END);
	char *buf = calloc(1, (size_t)len + 1);
	CHECK(buf != NULL);
	CHECK_EQ(pread(fd, buf, (size_t)len, 0), len);
	close(fd);
	*text = buf;
	return r;
}

/* Require every string of the NULL-terminated list in text. */
static inline void check_contains_all(const char *what, const char *text, const char *const *needles)
{
	for (const char *const *n = needles; *n; n++)
		if (!strstr(text, *n)) {
			fprintf(stderr, "%s: expected to find \"%s\" in:\n%s\n", what, *n, text);
			exit(1);
		}
}

#define run_main_procs_1_and_2 check_run_procs_1_and_2 /* check.h */

#endif
