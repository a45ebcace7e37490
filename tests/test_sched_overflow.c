/* test_sched_overflow.c - a goroutine that overflows its stack is reported
 * by id and creation site, and the process dies (never silent corruption).
 * The overflow runs in a forked child; the parent reads its stderr.
 * In sanitizer builds the sanitizer's own SIGSEGV handler may get there
 * first: then the test accepts its stack-overflow/SEGV report instead, and
 * still requires the child to die abnormally. */
#include "check.h"

#include <goc.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int keep_going = 1; /* hides the recursion's end from the compiler */

static int recurse(int n)
{
	volatile char pad[512];
	pad[0] = (char)n;
	if (!keep_going)
		return pad[0];
	return recurse(n + 1) + pad[0];
}

static void overflow(void *arg)
{
	(void)arg;
	recurse(0);
}

static int child_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	goc_go_attr attr = {.stack_size = 64 * 1024, .name = "overflower"};
	goc_go_with(&attr, overflow, NULL, 0);
	goc_waitgroup never = GOC_WAITGROUP_INIT;
	goc_waitgroup_add(&never, 1);
	goc_waitgroup_wait_until(&never, INT64_MAX);
	return 0;
}

static void test_overflow_is_reported_with_goroutine_and_site(void)
{
	int pipefd[2];
	CHECK_EQ(pipe(pipefd), 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		_exit(goc_main(child_main, 0, NULL) == 0 ? 0 : 3);
	}
	close(pipefd[1]);
	char out[8192] = {0};
	size_t len = 0;
	ssize_t r;
	while (len < sizeof out - 1 && (r = read(pipefd[0], out + len, sizeof out - 1 - len)) > 0)
		len += (size_t)r;
	close(pipefd[0]);
	int status = 0;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
#if defined(GOC_TEST_ASAN) || defined(GOC_TEST_TSAN)
	/* The sanitizers' handlers end the process with their own exit code
	 * (TSan: 66) instead of a signal; either way it must not carry on. */
	bool died = WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
	                                    WEXITSTATUS(status) != 3);
	bool reported = strstr(out, "stack overflow in goroutine") || strstr(out, "stack-overflow") ||
	                strstr(out, "SEGV");
	if (!died || !reported) {
		fprintf(stderr, "status %#x, report:\n%s\n", status, out);
		exit(1);
	}
#else
	CHECK(WIFSIGNALED(status)); /* died, did not carry on */
	if (!strstr(out, "stack overflow in goroutine") || !strstr(out, "test_sched_overflow.c") ||
	    !strstr(out, "child_main")) {
		fprintf(stderr, "unexpected report:\n%s\n", out);
		exit(1);
	}
	CHECK_EQ(WTERMSIG(status), SIGABRT);
#endif
}

int main(void)
{
	RUN(test_overflow_is_reported_with_goroutine_and_site);
	printf("ok\n");
	return 0;
}
