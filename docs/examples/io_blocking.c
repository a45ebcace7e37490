/* io_blocking.c - calls that cannot park (docs/io.md). A C library call
 * that blocks its thread (here: a raw read(2) of a pipe, standing in for a
 * database client or a DNS lookup) is wrapped in goc_blocking, which lends
 * the worker's P to another thread for the length of the call, so other
 * goroutines keep running even with one worker: here the call can only
 * return after a ticker goroutine has ticked three times and written to
 * the pipe. */
#include <goc.h>

#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

static _Atomic int ticks;

static int wake[2]; /* a plain pipe: goc never sees it */

static void *slow_library_call(void *arg)
{
	char c;
	if (read(wake[0], &c, 1) != 1) /* blocks this thread in the kernel */
		return NULL;
	return arg;
}

static void caller(void *arg)
{
	goc_chan *done = arg;
	char *answer = goc_blocking(slow_library_call, "the answer");
	printf("blocking call returned \"%s\"\n", answer);
	goc_close(done);
}

static goc_chan *stopped;

static void ticker(void *arg)
{
	goc_chan *done = arg;
	for (;;) {
		goc_case cs[] = {goc_case_recv(done, NULL)};
		if (goc_select_until(cs, 1, goc_now() + GOC_MS(5)) == 0)
			break;
		if (atomic_fetch_add(&ticks, 1) + 1 == 3) /* runs while the call blocks */
			(void)!write(wake[1], "!", 1);
	}
	goc_close(stopped);
}

static int example(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	goc_procs(1); /* one worker: without the hand-off the ticker would starve */
	if (pipe(wake) != 0)
		return 1;
	goc_chan *done = goc_chan_make(0, 0);
	stopped = goc_chan_make(0, 0);
	goc_go(caller, done);
	goc_go(ticker, done);
	goc_recv(done, NULL);
	goc_recv(stopped, NULL);
	int n = atomic_load(&ticks);
	printf("the ticker ran %d times meanwhile\n", n);
	goc_chan_release(done);
	goc_chan_release(stopped);
	close(wake[0]);
	close(wake[1]);
	return n >= 3 ? 0 : 1;
}

int main(int argc, char **argv)
{
	return goc_main(example, argc, argv);
}
