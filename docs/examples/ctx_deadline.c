/* ctx_deadline.c - a request with a deadline and a request id
 * (docs/time-and-context.md): handle() derives a context with a timeout for
 * its backend call, which works in steps and checks its context between
 * them. A fast backend finishes; a slow one is stopped by the deadline,
 * and so is a call made under a parent whose own deadline is tighter. */
#include <goc.h>

#include <stdio.h>

static const char request_id_key = 0; /* keys compare by address */

/* Work for `steps` x 2 ms, giving up as soon as ctx is done. */
static int backend(goc_ctx *ctx, int steps)
{
	for (int i = 0; i < steps; i++) {
		int rc = goc_ctx_sleep(ctx, GOC_MS(2));
		if (rc)
			return rc; /* GOC_ETIMEDOUT or GOC_ECANCELED */
	}
	const char *id = goc_ctx_value(ctx, &request_id_key);
	return id ? 0 : -1; /* the request id travelled down with the context */
}

static int handle(goc_ctx *parent, int steps)
{
	goc_ctx *ctx = goc_ctx_with_timeout(parent, GOC_MS(200)); /* our budget */
	int rc = backend(ctx, steps);
	goc_ctx_release(ctx); /* Go's `defer cancel()` */
	return rc;
}

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	int failures = 0;
	goc_ctx *req = goc_ctx_with_value(goc_ctx_background(), &request_id_key, "req-17");

	if (handle(req, 3) != 0)              /* ~6 ms: well within 200 ms */
		failures++, fprintf(stderr, "fast backend did not finish\n");
	int64_t start = goc_now();
	int rc = handle(req, 1000);           /* 2 s or more: cut at 200 ms */
	int64_t took = goc_now() - start;
	/* Never before the budget; well before the 2 s the whole job takes
	 * (the margin absorbs a slow, loaded or sanitized machine). */
	if (rc != GOC_ETIMEDOUT || took < GOC_MS(200) || took >= GOC_MS(1500))
		failures++, fprintf(stderr, "slow backend: %s after %lld ms\n", goc_strerror(rc),
		                    (long long)(took / 1000000));

	/* The caller's deadline is tighter than handle's 200 ms: it wins. */
	goc_ctx *tight = goc_ctx_with_timeout(req, GOC_MS(20));
	int64_t d_tight, d_inner;
	goc_ctx_deadline(tight, &d_tight);
	goc_ctx *inner = goc_ctx_with_timeout(tight, GOC_MS(200));
	goc_ctx_deadline(inner, &d_inner);
	if (d_inner != d_tight)
		failures++, fprintf(stderr, "a child's deadline outlived its parent's\n");
	goc_ctx_release(inner);
	rc = handle(tight, 1000);
	if (rc != GOC_ETIMEDOUT || goc_now() < d_tight)
		failures++, fprintf(stderr, "tight parent deadline: %s\n", goc_strerror(rc));
	goc_ctx_release(tight);
	goc_ctx_release(req);

	printf("ctx_deadline: %s\n", failures ? "FAIL" : "ok");
	return failures != 0;
}

int main(int argc, char **argv)
{
	return goc_main(run, argc, argv);
}
