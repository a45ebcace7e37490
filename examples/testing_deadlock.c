/* testing_deadlock.c - an unbuffered-channel deadlock that happens in one
 * order only, found by exploring schedules.
 *
 * A worker reports that it is done with a non-blocking send on an
 * unbuffered channel ("don't block if nobody listens"). That send succeeds
 * only if the receiver is already waiting. If the worker finishes first,
 * its signal is dropped, the main goroutine waits for it forever, and goc
 * reports "all goroutines are asleep - deadlock!" (exit status 2). In the
 * other order the program works, which is why such bugs survive testing.
 * The fix gives the signal somewhere to wait: a channel of capacity 1 (or
 * goc_close, which no receiver can miss).
 *
 * Exits 0 when the explorer finds the deadlock within RUNS seeds and the
 * fixed version passes RUNS seeds.
 */
#include <goc.h>
#include <stdio.h>

#define RUNS 100

static goc_chan *logc; /* const char *: a logging goroutine's input */
static bool fixed;

static void logger(void *arg)
{
	const char *msg;
	while (goc_recv(logc, &msg) == 0)
		;
}

static void worker(void *arg)
{
	goc_chan *done = arg;
	const char *msg = "worker: working";
	goc_send(logc, &msg);
	goc_try_send(done, NULL); /* BUG (unbuffered): lost if nobody waits yet */
}

static int program(int argc, char **argv)
{
	logc = goc_chan_make(sizeof(const char *), 0);
	goc_go(logger, NULL);
	goc_chan *done = goc_chan_make(0, fixed ? 1 : 0);
	goc_go(worker, done);
	const char *msg = "main: waiting for the worker";
	goc_send(logc, &msg);
	goc_recv(done, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	goc_explore_opts opts = {.runs = RUNS};
	goc_explore_result res;

	fixed = false;
	if (goc_explore(&opts, program, argc, argv, &res) != 1 || res.status != 2) {
		printf("unbuffered done: no deadlocking seed in %d runs\n", res.runs);
		return 1;
	}
	printf("unbuffered done: seed %llu deadlocks (found in %d runs)\n",
	       (unsigned long long)res.failing_seed, res.runs);

	fixed = true;
	if (goc_explore(&opts, program, argc, argv, &res) != 0) {
		printf("buffered done: seed %llu fails\n", (unsigned long long)res.failing_seed);
		return 1;
	}
	printf("buffered done: all %d seeds pass\n", res.runs);
	return 0;
}
