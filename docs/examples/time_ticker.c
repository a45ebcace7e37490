/* time_ticker.c - a heartbeat (docs/time-and-context.md): a worker reports
 * "alive" on every tick of a goc_ticker while it works, in a for-select
 * loop that also watches its context, and stops ticking when cancelled.
 * The monitor counts the beats it gets in ~50 ms, then cancels. */
#include <goc.h>

#include <stdio.h>

typedef struct worker_args {
	goc_ctx *ctx;
	goc_chan *beats;  /* int64_t: the tick time */
	goc_waitgroup *wg;
} worker_args;

static void worker(void *arg)
{
	worker_args *w = arg;
	goc_ticker *pulse = goc_ticker_new(GOC_MS(5));
	for (;;) {
		int64_t t;
		goc_case cs[] = {goc_case_recv(goc_ctx_done(w->ctx), NULL),
		                 goc_case_recv(goc_ticker_chan(pulse), &t)};
		if (GOC_SELECT(cs) == 0)
			break;
		/* Never block on the heartbeat: a busy monitor misses a beat. */
		goc_try_send(w->beats, &t);
	}
	goc_ticker_release(pulse);
	goc_waitgroup_done(w->wg);
}

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	goc_ctx *ctx = goc_ctx_with_cancel(goc_ctx_background());
	goc_waitgroup wg = GOC_WAITGROUP_INIT;
	worker_args w = {ctx, goc_chan_make(sizeof(int64_t), 1), &wg};
	goc_waitgroup_add(&wg, 1);
	goc_go(worker, &w);

	int beats = 0;
	int64_t last = 0, t, end = goc_now() + GOC_MS(50);
	bool monotonic = true;
	while (goc_recv_until(w.beats, &t, end) == 0) {
		monotonic = monotonic && t > last;
		last = t;
		beats++;
	}
	goc_ctx_cancel(ctx);
	goc_waitgroup_wait(&wg); /* the worker saw the cancel and stopped */
	goc_ctx_release(ctx);
	goc_chan_release(w.beats);

	/* 50 ms of 5 ms ticks is at most 10 beats; a loaded machine may drop
	 * some, but an idle one never drops them all. */
	bool ok = beats >= 1 && beats <= 10 && monotonic;
	printf("time_ticker: %d beats, %s\n", beats, ok ? "ok" : "FAIL");
	return !ok;
}

int main(int argc, char **argv)
{
	return goc_main(run, argc, argv);
}
