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
 * main (testing_main.h) explores both versions over RUNS (100) seeds and
 * exits 0 when a seed deadlocks the first and every seed passes the fix.
 */
#include <goc.h>
#include <stdio.h>

#include "testing_main.h"

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
	bug_story story = {.buggy = "unbuffered done", .symptom = "deadlocks", .status = 2,
	                   .fixed = "buffered done"};
	return explore_bug_and_fix(&story, program, &fixed, argc, argv);
}
