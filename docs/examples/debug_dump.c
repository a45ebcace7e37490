/* debug_dump.c - what goc_dump shows (docs/debugging.md): a pipeline
 * stalled mid-way, every goroutine with its state, wait reason, how long,
 * creation site and the backtrace of its own frames. The same dump is
 * printed by SIGQUIT (Ctrl-\) and after the deadlock message.
 * Exits 0 when the dump (captured in memory) names each stage's wait. */
#include <goc.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void produce(void *arg)
{
	goc_chan *out = arg;
	for (int i = 0;; i++)
		if (goc_send(out, &i) != 0)
			return; /* closed: stop */
}

typedef struct stage {
	goc_chan *in, *out;
} stage;

static void square(void *arg)
{
	stage *s = arg;
	int v;
	while (goc_recv(s->in, &v) == 0) {
		v *= v;
		if (goc_send(s->out, &v) != 0)
			return;
	}
}

static int run(int argc, char **argv)
{
	goc_chan *nums = goc_chan_make(sizeof(int), 0), *squares = goc_chan_make(sizeof(int), 0);
	stage s = {nums, squares};
	goc_go_attr named = {.name = "producer"};
	goc_go_with(&named, produce, nums, 0);
	goc_go(square, &s);
	int v;
	goc_recv(squares, &v); /* take one value, then look at the stalled pipeline */
	goc_sleep(GOC_MS(20));

	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	goc_dump(mem);
	fclose(mem);
	fputs(text, stdout);
	bool ok = strstr(text, "\"producer\" [chan send") && strstr(text, "function square") &&
	          strstr(text, "[chan send") && strstr(text, "created by goroutine 1 at ");
	free(text);

	goc_close(squares); /* unwinds the pipeline: square's send fails, ... */
	goc_close(nums);
	goc_leakcheck(GOC_SEC(5));
	goc_chan_release(nums);
	goc_chan_release(squares);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	return goc_main(run, argc, argv);
}
