/* fan.c - pipeline stages, worker pools (fan-out + fan-in) and goc_merge
 * (fan-in).
 *
 * A pool is `workers` goroutines sharing one block: the references (done,
 * in, out), the stage function, an internal stop channel, and one pair of
 * value buffers per worker. Each worker receives from in, calls fn, sends
 * the result on out, until in is closed, done or stop fires, or fn says
 * stop (it then closes stop, so its siblings end too). `live` counts the
 * workers still running; the one that takes it to zero closes out,
 * releases the references and frees the block. A stage is a pool of one.
 *
 * A merge is one goroutine per input sharing a block (done, out, an abort
 * channel and `live`), each with its own small block (its input and a value
 * buffer); the last one to end closes out and frees the shared block.
 *
 * Spawn failure part-way: the workers already started are told to stop
 * through the internal channel (stop / abort), those never started are
 * accounted for as if they had ended, and the call returns NULL (ENOMEM):
 * the started ones end on their own and the last frees everything.
 *
 * Synchronisation: `live` is the only shared mutable field (atomic, acq_rel
 * so the last worker sees everything the others did before freeing). The
 * buffers are per worker.
 */
#include "pat.h"

#include <stdatomic.h>
#include <string.h>

#define POOL_MAX_WORKERS 65536

typedef struct pool {
	goc_chan *done, *in, *out, *stop;
	goc_stage_fn fn;
	void *arg;
	size_t in_esz, out_esz;
	_Atomic size_t live;
	unsigned char bufs[];       /* workers * (in_esz + out_esz) */
} pool;

typedef struct pool_worker {
	pool *p;
	unsigned char *in_buf, *out_buf;
} pool_worker;

static void pool_free(pool *p)
{
	goc_chan_release(p->done);
	goc_chan_release(p->in);
	goc_chan_release(p->out);
	goc_chan_release(p->stop);
	free(p);
}

/* A worker (or a worker that never started) is finished. */
static void pool_leave(pool *p)
{
	if (atomic_fetch_sub_explicit(&p->live, 1, memory_order_acq_rel) != 1)
		return;
	goc__pat_close(p->out);
	pool_free(p);
}

static void pool_run(void *arg)
{
	pool_worker w = *(pool_worker *)arg; /* goc_go_copy'd */
	pool *p = w.p;
	while (goc__pat_recv2(p->done, p->stop, p->in, w.in_buf) == 0) {
		memset(w.out_buf, 0, p->out_esz);
		int r = p->fn(p->arg, w.in_buf, w.out_buf);
		if (r == GOC_STAGE_SKIP)
			continue;
		if (r != GOC_STAGE_SEND) {
			goc__pat_close(p->stop); /* tell the other workers */
			break;
		}
		if (goc__pat_send2(p->done, p->stop, p->out, w.out_buf) != 0)
			break;
	}
	pool_leave(p);
}

goc_chan *goc_pool(goc_chan *done, goc_chan *in, size_t workers, goc_stage_fn fn, void *arg,
                   size_t out_elem_size, size_t cap)
{
	if (!in || !fn || workers == 0 || workers > POOL_MAX_WORKERS)
		return goc__pat_fail(EINVAL);
	size_t in_esz = goc__pat_elem_size(in), per, bytes;
	if (__builtin_add_overflow(in_esz, out_elem_size, &per) ||
	    __builtin_mul_overflow(per, workers, &bytes) || bytes > SIZE_MAX - sizeof(pool))
		return goc__pat_fail(EINVAL);
	pool *p = calloc(1, sizeof(pool) + bytes);
	if (!p)
		return goc__pat_fail(ENOMEM);
	p->out = goc_chan_make(out_elem_size, cap);
	if (!p->out) {
		int err = errno;
		free(p);
		return goc__pat_fail(err);
	}
	if (workers > 1 && !(p->stop = goc_chan_make(0, 0))) {
		goc_chan_release(p->out);
		free(p);
		return goc__pat_fail(ENOMEM);
	}
	goc_chan_retain(done);
	goc_chan_retain(in);
	p->done = done;
	p->in = in;
	p->fn = fn;
	p->arg = arg;
	p->in_esz = in_esz;
	p->out_esz = out_elem_size;
	atomic_init(&p->live, workers);
	goc_chan *out = p->out;
	goc_chan_retain(out); /* the caller's; p->out is the workers' */

	for (size_t i = 0; i < workers; i++) {
		pool_worker w = { p, p->bufs + i * per, p->bufs + i * per + in_esz };
		goc_go_attr attr = { 0 };
		attr.name = workers == 1 ? "goc_stage" : "goc_pool";
		if (goc__go_at(&attr, pool_run, &w, sizeof w, true, GOC__SITE()) == 0)
			continue;
		/* Out of memory: stop the ones running, account for the rest. */
		if (p->stop)
			goc__pat_close(p->stop);
		for (size_t j = i; j < workers; j++)
			pool_leave(p); /* the last one closes out and frees p */
		goc_chan_release(out);
		errno = ENOMEM;
		return NULL;
	}
	return out;
}

goc_chan *goc_stage(goc_chan *done, goc_chan *in, goc_stage_fn fn, void *arg, size_t out_elem_size,
                    size_t cap)
{
	return goc_pool(done, in, 1, fn, arg, out_elem_size, cap);
}

/* ---- merge -------------------------------------------------------------- */

typedef struct merge {
	goc_chan *done, *out, *abort;
	_Atomic size_t live;
} merge;

typedef struct merge_in {
	merge *m;
	goc_chan *in;
	unsigned char buf[];
} merge_in;

static void merge_leave(merge *m)
{
	if (atomic_fetch_sub_explicit(&m->live, 1, memory_order_acq_rel) != 1)
		return;
	goc__pat_close(m->out);
	goc_chan_release(m->done);
	goc_chan_release(m->out);
	goc_chan_release(m->abort);
	free(m);
}

static void merge_run(void *arg)
{
	merge_in *mi = arg;
	merge *m = mi->m;
	while (goc__pat_recv2(m->done, m->abort, mi->in, mi->buf) == 0 &&
	       goc__pat_send2(m->done, m->abort, m->out, mi->buf) == 0)
		;
	goc_chan_release(mi->in);
	free(mi);
	merge_leave(m);
}

goc_chan *goc_merge(goc_chan *done, goc_chan *const *ins, size_t n, size_t cap)
{
	if (!ins || n == 0 || !ins[0])
		return goc__pat_fail(EINVAL);
	size_t esz = goc__pat_elem_size(ins[0]);
	for (size_t i = 1; i < n; i++)
		if (!ins[i] || goc__pat_elem_size(ins[i]) != esz)
			return goc__pat_fail(EINVAL);
	if (esz > SIZE_MAX - sizeof(merge_in))
		return goc__pat_fail(EINVAL);

	merge *m = calloc(1, sizeof *m);
	merge_in **mis = calloc(n, sizeof *mis);
	int err = ENOMEM;
	if (m && !(m->out = goc_chan_make(esz, cap)))
		err = errno; /* EINVAL when esz * cap overflows */
	if (m && m->out)
		m->abort = goc_chan_make(0, 0);
	bool ok = m && mis && m->out && m->abort;
	for (size_t i = 0; ok && i < n; i++)
		ok = (mis[i] = malloc(sizeof(merge_in) + esz)) != NULL;
	if (!ok) {
		if (mis)
			for (size_t i = 0; i < n; i++)
				free(mis[i]);
		if (m) {
			goc_chan_release(m->out);
			goc_chan_release(m->abort);
		}
		free(m);
		free(mis);
		return goc__pat_fail(err);
	}
	goc_chan_retain(done);
	m->done = done;
	atomic_init(&m->live, n);
	goc_chan *out = m->out;
	goc_chan_retain(out); /* the caller's */

	for (size_t i = 0; i < n; i++) {
		mis[i]->m = m;
		mis[i]->in = ins[i];
		goc_chan_retain(ins[i]);
		if (goc__pat_spawn("goc_merge", merge_run, mis[i]) == 0)
			continue;
		goc__pat_close(m->abort);
		goc_chan_release(ins[i]);
		for (size_t j = i; j < n; j++) {
			free(mis[j]);
			merge_leave(m); /* the last one closes out and frees m */
		}
		free(mis);
		goc_chan_release(out);
		errno = ENOMEM;
		return NULL;
	}
	free(mis);
	return out;
}
