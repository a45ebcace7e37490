/* replicate.c - goc_replicate: n replicas of one request, the first answer
 * wins, the others are cancelled.
 *
 * One shared block per call, reference counted (the caller and each
 * replica): a child context of the caller's, a buffered channel of
 * outcomes (capacity n, so a replica never blocks reporting), a result slot
 * per replica, and the optional private copy of arg. Replica i writes only
 * slot i, then sends {i, rc}; the caller reads slot i only after receiving
 * that message (the channel orders the two). On the first success the
 * caller copies the slot out, cancels the child context and returns without
 * waiting; the replicas still running see the cancellation, report into
 * the buffer nobody reads, and the last reference frees the block.
 */
#include "pat.h"

#include <stdatomic.h>
#include <string.h>

#define REPLICAS_MAX 65536

typedef struct outcome {
	int32_t replica;
	int32_t rc;
} outcome;

typedef struct repl {
	_Atomic uint32_t refs;
	goc_ctx *ctx;               /* child of the caller's context */
	goc_chan *outcomes;         /* outcome values, capacity n */
	goc_replica_fn fn;
	void *arg;                  /* the caller's arg, or copy below */
	size_t result_size;
	unsigned char *slots;       /* n * result_size */
	unsigned char data[];       /* slots, then the copy of arg */
} repl;

typedef struct replica_run {
	repl *r;
	int index;
} replica_run;

static void repl_unref(repl *r)
{
	if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1)
		return;
	goc_ctx_release(r->ctx);
	goc_chan_release(r->outcomes);
	free(r);
}

static void replica_main(void *arg)
{
	replica_run run = *(replica_run *)arg; /* goc_go_copy'd */
	repl *r = run.r;
	int rc = r->fn(r->ctx, r->arg, run.index, r->slots + (size_t)run.index * r->result_size);
	outcome o = { run.index, rc > 0 ? GOC_EINVAL : rc };
	(void)goc_try_send(r->outcomes, &o); /* room for every replica's */
	repl_unref(r);
}

int goc_replicate(struct goc_ctx *ctx, size_t n, goc_replica_fn fn, const void *arg, size_t arg_size,
                  void *result, size_t result_size)
{
	if (n == 0 || n > REPLICAS_MAX || !fn || (!result && result_size) || (!arg && arg_size))
		return GOC_EINVAL;
	size_t slots, bytes;
	if (__builtin_mul_overflow(n, result_size, &slots) || __builtin_add_overflow(slots, arg_size, &bytes) ||
	    bytes > SIZE_MAX - sizeof(repl))
		return GOC_EINVAL;
	if (!ctx)
		ctx = goc_ctx_background();

	repl *r = calloc(1, sizeof(repl) + bytes);
	if (!r)
		return GOC_ENOMEM;
	r->ctx = goc_ctx_with_cancel(ctx);
	r->outcomes = goc_chan_make(sizeof(outcome), n);
	if (!r->ctx || !r->outcomes) {
		goc_ctx_release(r->ctx);
		goc_chan_release(r->outcomes);
		free(r);
		return GOC_ENOMEM;
	}
	atomic_init(&r->refs, 1);
	r->fn = fn;
	r->result_size = result_size;
	r->slots = r->data;
	r->arg = (void *)arg;
	if (arg_size) {
		r->arg = r->data + slots;
		memcpy(r->arg, arg, arg_size);
	}

	size_t started = 0;
	for (; started < n; started++) {
		replica_run run = { r, (int)started };
		atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
		goc_go_attr attr = { 0 };
		attr.name = "goc_replicate replica";
		if (goc__go_at(&attr, replica_main, &run, sizeof run, true, GOC__SITE()) != 0) {
			atomic_fetch_sub_explicit(&r->refs, 1, memory_order_relaxed);
			break;
		}
	}
	int rc = started == 0 ? GOC_ENOMEM : 0, first_err = 0;
	bool won = false;
	for (size_t got = 0; !won && rc == 0 && got < started; got++) {
		outcome o;
		switch (goc_recv_or_done(goc_ctx_done(ctx), r->outcomes, &o)) {
		case 0:
			if (o.rc == 0) {
				memcpy(result, r->slots + (size_t)o.replica * result_size, result_size);
				rc = o.replica;
				won = true;
			} else if (!first_err) {
				first_err = o.rc;
			}
			break;
		case GOC_ECANCELED:
			rc = goc_ctx_err(ctx); /* the caller's context ended first */
			break;
		default:
			rc = GOC_ENOMEM; /* select could not allocate */
			break;
		}
	}
	if (!won && rc == 0)
		rc = first_err ? first_err : GOC_ENOMEM; /* every replica failed (or none ran) */
	goc_ctx_cancel(r->ctx); /* the losers stop */
	repl_unref(r);
	return rc;
}
