/* ctx_pipeline.c - cancellation through a pipeline (docs/time-and-context.md):
 * generate -> square -> consumer. Every stage is a for-select on its
 * context's done channel, so when the consumer has what it needs and
 * cancels, every stage returns, even one blocked sending, and nothing
 * leaks: the wait group proves each stage exited. */
#include <goc.h>

#include <stdio.h>

typedef struct stage {
	goc_ctx *ctx;
	goc_chan *in, *out;   /* long values; in is NULL for the generator */
	goc_waitgroup *wg;
} stage;

/* Send v on out unless ctx is done first: false when cancelled. */
static bool send_or_done(goc_ctx *ctx, goc_chan *out, long v)
{
	goc_case cs[] = {goc_case_send(out, &v), goc_case_recv(goc_ctx_done(ctx), NULL)};
	return GOC_SELECT(cs) == 0;
}

static void generate(void *arg)
{
	stage *s = arg;
	for (long i = 1; send_or_done(s->ctx, s->out, i); i++)
		;
	goc_close(s->out);
	goc_waitgroup_done(s->wg);
}

static void square(void *arg)
{
	stage *s = arg;
	for (;;) {
		long v;
		goc_case cs[] = {goc_case_recv(s->in, &v), goc_case_recv(goc_ctx_done(s->ctx), NULL)};
		if (GOC_SELECT(cs) == 1 || !goc_case_ok(&cs[0]))
			break; /* cancelled, or the input ended */
		if (!send_or_done(s->ctx, s->out, v * v))
			break;
	}
	goc_close(s->out);
	goc_waitgroup_done(s->wg);
}

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	goc_ctx *ctx = goc_ctx_with_cancel(goc_ctx_background());
	goc_waitgroup wg = GOC_WAITGROUP_INIT;
	goc_chan *nums = goc_chan_make(sizeof(long), 0), *squares = goc_chan_make(sizeof(long), 0);
	stage gen = {ctx, NULL, nums, &wg}, sq = {ctx, nums, squares, &wg};
	goc_waitgroup_add(&wg, 2);
	goc_go(generate, &gen);
	goc_go(square, &sq);

	long sum = 0, v;
	for (int i = 0; i < 10 && goc_recv(squares, &v) == 0; i++)
		sum += v;
	goc_ctx_cancel(ctx); /* we have enough: tell every stage to stop */

	int rc = goc_waitgroup_wait_until(&wg, goc_now() + GOC_SEC(5));
	bool ok = rc == 0 && sum == 385 && goc_ctx_err(ctx) == GOC_ECANCELED;
	goc_ctx_release(ctx);
	goc_chan_release(nums);
	goc_chan_release(squares);
	printf("ctx_pipeline: sum of the first 10 squares = %ld, stages %s: %s\n", sum,
	       rc == 0 ? "stopped" : "STILL RUNNING", ok ? "ok" : "FAIL");
	return !ok;
}

int main(int argc, char **argv)
{
	return goc_main(run, argc, argv);
}
