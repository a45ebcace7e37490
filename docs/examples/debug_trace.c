/* debug_trace.c - recording a pipeline's scheduling trace
 * (docs/debugging.md): goc_trace_start/stop around a three-stage pipeline
 * (generate -> square -> sum) write a Chrome trace event file that
 * Perfetto (ui.perfetto.dev) or chrome://tracing opens. The same trace of a
 * whole program: GOC_TRACE=trace.json ./program.
 * Usage: debug_trace [file.json]   (default: a temporary file, removed).
 * Exits 0 when the pipeline's result is right and the file was written.
 * tests/test_debug_trace.c includes this file (with DEBUG_TRACE_NO_MAIN)
 * and checks the trace of this pipeline event by event. */
#include <goc.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

enum { N = 100 };

typedef struct stage {
	goc_chan *in, *out;
	int n; /* generate: how many numbers */
} stage;

static void generate(void *arg)
{
	stage *s = arg;
	for (int i = 1; i <= s->n; i++)
		goc_send(s->out, &i);
	goc_close(s->out);
}

static void square(void *arg)
{
	stage *s = arg;
	int v;
	while (goc_recv(s->in, &v) == 0) {
		v *= v;
		goc_send(s->out, &v);
	}
	goc_close(s->out);
}

/* generate -> square -> here, over unbuffered channels: 1^2 + ... + n^2. */
static long sum_of_squares(int n)
{
	goc_chan *nums = goc_chan_make(sizeof(int), 0), *squares = goc_chan_make(sizeof(int), 0);
	stage gen = {NULL, nums, n}, sq = {nums, squares, 0};
	goc_go(generate, &gen);
	goc_go(square, &sq);
	long sum = 0;
	int v;
	while (goc_recv(squares, &v) == 0)
		sum += v;
	goc_chan_release(nums);
	goc_chan_release(squares);
	return sum;
}

static int run(int argc, char **argv)
{
	char tmp[] = "/tmp/goc_trace_XXXXXX";
	const char *path = argc > 1 ? argv[1] : NULL;
	if (!path) {
		int fd = mkstemp(tmp);
		if (fd < 0)
			return 1;
		close(fd);
		path = tmp;
	}
	if (goc_trace_start(path) != 0)
		return 1;
	long sum = sum_of_squares(N);
	int rc = goc_trace_stop();
	printf("sum of squares 1..%d = %ld; trace %s (%s)\n", N, sum, rc == 0 ? "written" : "failed",
	       argc > 1 ? path : "temporary");
	if (argc <= 1)
		unlink(tmp);
	return rc == 0 && sum == (long)N * (N + 1) * (2 * N + 1) / 6 ? 0 : 1;
}

#ifndef DEBUG_TRACE_NO_MAIN
int main(int argc, char **argv)
{
	return goc_main(run, argc, argv);
}
#endif
