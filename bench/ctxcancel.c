/* ctxcancel.c - bench=ctxcancel (../shared/bench/SPEC.md): one cancellable
 * root context; n children derived from it, each watched by a goroutine
 * blocked in select on its done channel; then the root is cancelled.
 * ns_per_op is one context: from the first derive until every watcher has
 * exited; each watcher releases its own context on exit (Go's `defer
 * cancel()`), inside the timing. Checks that every watcher saw its context
 * cancelled with GOC_ECANCELED. GOC_PROCS defaults to 1. */
#define NAME "ctxcancel"
#include "bench.h"

#include <stdbool.h>

static goc_waitgroup wg;
static bool *canceled;

typedef struct watch {
	goc_ctx *ctx;
	long i;
} watch;

static void watcher(void *arg)
{
	watch *w = arg; /* a copy owned by this goroutine (goc_go_copy) */
	goc_case cs[] = {goc_case_recv(goc_ctx_done(w->ctx), NULL)};
	if (GOC_SELECT(cs) == 0)
		canceled[w->i] = goc_ctx_err(w->ctx) == GOC_ECANCELED;
	goc_ctx_release(w->ctx); /* defer cancel() */
	goc_waitgroup_done(&wg);
}

static int bench(int argc, char **argv)
{
	long n = bench_setup(argc, argv, 100000);
	goc_ctx *root = goc_ctx_with_cancel(goc_ctx_background());
	canceled = calloc((size_t)n, sizeof *canceled);
	if (!root || !canceled)
		bench_fail("setup failed", 0, 0);

	int64_t start = goc_now();
	goc_waitgroup_add(&wg, n);
	for (long i = 0; i < n; i++) {
		watch w = {goc_ctx_with_cancel(root), i};
		if (!w.ctx || goc_go_copy(watcher, &w, sizeof w) != 0)
			bench_fail("derive or spawn failed", i, n);
	}
	goc_ctx_cancel(root);
	goc_waitgroup_wait(&wg);
	int64_t elapsed = goc_now() - start;

	for (long i = 0; i < n; i++)
		if (!canceled[i])
			bench_fail("a watcher did not see its context canceled", i, 1);
	goc_ctx_release(root);
	free(canceled);
	bench_report(n, elapsed, "");
	return 0;
}

BENCH_MAIN(bench)
