/* stream.c - stream helpers with one forwarding goroutine each: goc_or_done,
 * goc_tee, goc_bridge, goc_take, and the generators goc_repeat and
 * goc_repeat_fn.
 *
 * Each call makes its output channel(s) (unbuffered), takes references to
 * its input and to done, and spawns one goroutine owning a `fwd` block:
 * those references, one reference to each output, and a value buffer of
 * the element size. The goroutine loops on goc_recv_or_done /
 * goc_send_or_done (loop.c: done is checked first, so nothing moves after
 * done is closed) and, when its input ends or done fires, closes its
 * outputs, releases every reference and frees the block (fwd_end). If the
 * spawn fails, the call undoes everything and returns NULL (ENOMEM).
 *
 * No locks: each block belongs to its goroutine alone once spawned.
 */
#include "pat.h"

#include <string.h>

typedef struct fwd fwd;
struct fwd {
	goc_chan *done;             /* may be NULL */
	goc_chan *in;               /* may be NULL (generators) */
	goc_chan *out[2];           /* out[1]: tee only */
	size_t esz;                 /* element size of in and out */
	size_t count;               /* take: values left; repeat: values */
	int (*fn)(void *arg, void *out);  /* repeat_fn */
	void *arg;
	unsigned char *values;      /* repeat: count * esz bytes (in buf) */
	unsigned char buf[];        /* one value (+ repeat's values) */
};

static void fwd_free(fwd *f)
{
	goc_chan_release(f->done);
	goc_chan_release(f->in);
	for (int i = 0; i < 2; i++)
		goc_chan_release(f->out[i]);
	free(f);
}

/* The goroutine's last act: close what it sent on, release, free. */
static void fwd_end(fwd *f)
{
	for (int i = 0; i < 2; i++)
		if (f->out[i])
			goc__pat_close(f->out[i]);
	fwd_free(f);
}

/* A block with `extra` bytes of buffer and nouts new output channels of
 * esz-byte values (their first reference is the goroutine's; the caller's
 * is taken in fwd_start). NULL with errno set. */
static fwd *fwd_new(goc_chan *done, goc_chan *in, size_t esz, size_t extra, int nouts)
{
	if (extra > SIZE_MAX - sizeof(fwd))
		return goc__pat_fail(EINVAL);
	fwd *f = calloc(1, sizeof(fwd) + extra);
	if (!f)
		return goc__pat_fail(ENOMEM);
	f->esz = esz;
	for (int i = 0; i < nouts; i++) {
		if (!(f->out[i] = goc_chan_make(esz, 0))) {
			fwd_free(f);
			return goc__pat_fail(ENOMEM);
		}
	}
	goc_chan_retain(done);
	goc_chan_retain(in);
	f->done = done;
	f->in = in;
	return f;
}

/* Hand the block to a new goroutine running fn; the caller gets its own
 * reference to each output. false (errno ENOMEM, block freed) on failure. */
static bool fwd_start(fwd *f, const char *name, void (*fn)(void *))
{
	for (int i = 0; i < 2; i++)
		goc_chan_retain(f->out[i]);
	if (goc__pat_spawn(name, fn, f) == 0)
		return true;
	for (int i = 0; i < 2; i++)
		goc_chan_release(f->out[i]);
	fwd_free(f);
	errno = ENOMEM;
	return false;
}

/* ---- or-done ------------------------------------------------------------ */

static void or_done_run(void *arg)
{
	fwd *f = arg;
	while (goc_recv_or_done(f->done, f->in, f->buf) == 0 &&
	       goc_send_or_done(f->done, f->out[0], f->buf) == 0)
		;
	fwd_end(f);
}

goc_chan *goc_or_done(goc_chan *done, goc_chan *in)
{
	if (!in)
		return goc__pat_fail(EINVAL);
	size_t esz = goc__pat_elem_size(in);
	fwd *f = fwd_new(done, in, esz, esz, 1);
	if (!f)
		return NULL;
	goc_chan *out = f->out[0];
	return fwd_start(f, "goc_or_done", or_done_run) ? out : NULL;
}

/* ---- take --------------------------------------------------------------- */

static void take_run(void *arg)
{
	fwd *f = arg;
	for (; f->count > 0; f->count--)
		if (goc_recv_or_done(f->done, f->in, f->buf) != 0 ||
		    goc_send_or_done(f->done, f->out[0], f->buf) != 0)
			break;
	fwd_end(f);
}

goc_chan *goc_take(goc_chan *done, goc_chan *in, size_t n)
{
	if (!in)
		return goc__pat_fail(EINVAL);
	size_t esz = goc__pat_elem_size(in);
	if (n == 0) {
		/* Nothing to forward: an output that is closed already. */
		goc_chan *out = goc_chan_make(esz, 0);
		if (!out)
			return goc__pat_fail(ENOMEM);
		goc_close(out);
		return out;
	}
	fwd *f = fwd_new(done, in, esz, esz, 1);
	if (!f)
		return NULL;
	f->count = n;
	goc_chan *out = f->out[0];
	return fwd_start(f, "goc_take", take_run) ? out : NULL;
}

/* ---- tee ---------------------------------------------------------------- */

static void tee_run(void *arg)
{
	fwd *f = arg;
	while (goc_recv_or_done(f->done, f->in, f->buf) == 0) {
		/* Both outputs get the value, whichever is ready first; a case
		 * that has run is disabled (the nil-channel idiom). */
		goc_chan *o0 = f->out[0], *o1 = f->out[1];
		while (o0 || o1) {
			if (goc_is_done(f->done))
				goto end;
			goc_case cs[] = { goc_case_send(o0, f->buf), goc_case_send(o1, f->buf),
			                  goc_case_recv(f->done, NULL) };
			int r = GOC_SELECT(cs);
			if (r == 0)
				o0 = NULL;
			else if (r == 1)
				o1 = NULL;
			else
				goto end; /* done (or a select error) */
		}
	}
end:
	fwd_end(f);
}

int goc_tee(goc_chan *done, goc_chan *in, goc_chan *outs[2])
{
	if (!in || !outs)
		return GOC_EINVAL;
	size_t esz = goc__pat_elem_size(in);
	fwd *f = fwd_new(done, in, esz, esz, 2);
	if (!f)
		return -errno;
	goc_chan *o0 = f->out[0], *o1 = f->out[1];
	if (!fwd_start(f, "goc_tee", tee_run))
		return GOC_ENOMEM;
	outs[0] = o0;
	outs[1] = o1;
	return 0;
}

/* ---- bridge ------------------------------------------------------------- */

static void bridge_run(void *arg)
{
	fwd *f = arg;
	goc_chan *stream;
	while (goc_recv_or_done(f->done, f->in, &stream) == 0) {
		if (!stream)
			continue;
		if (goc__pat_elem_size(stream) != f->esz) {
			goc_chan_release(stream); /* not ours to forward: skip it */
			continue;
		}
		int r;
		while ((r = goc_recv_or_done(f->done, stream, f->buf)) == 0 &&
		       (r = goc_send_or_done(f->done, f->out[0], f->buf)) == 0)
			;
		goc_chan_release(stream); /* handed over to us by its sender */
		if (r != GOC_ECLOSED)
			break; /* done fired, or our output was closed under us */
	}
	/* References handed over but never forwarded: the ones sitting in a
	 * buffered channel of channels (and at most one from a blocked sender)
	 * would be lost with it. */
	for (size_t left = goc_cap(f->in) + 1; left > 0; left--) {
		if (goc_try_recv(f->in, &stream) != 0)
			break;
		goc_chan_release(stream);
	}
	fwd_end(f);
}

goc_chan *goc_bridge(goc_chan *done, goc_chan *chans, size_t elem_size)
{
	if (!chans || goc__pat_elem_size(chans) != sizeof(goc_chan *))
		return goc__pat_fail(EINVAL);
	fwd *f = fwd_new(done, chans, elem_size, elem_size, 1);
	if (!f)
		return NULL;
	goc_chan *out = f->out[0];
	return fwd_start(f, "goc_bridge", bridge_run) ? out : NULL;
}

/* ---- generators --------------------------------------------------------- */

static void repeat_run(void *arg)
{
	fwd *f = arg;
	for (size_t i = 0;; i = i + 1 == f->count ? 0 : i + 1)
		if (goc_send_or_done(f->done, f->out[0], f->values + i * f->esz) != 0)
			break;
	fwd_end(f);
}

goc_chan *goc_repeat(goc_chan *done, const void *values, size_t count, size_t elem_size)
{
	size_t bytes;
	if (count == 0 || (!values && elem_size) || __builtin_mul_overflow(count, elem_size, &bytes))
		return goc__pat_fail(EINVAL);
	fwd *f = fwd_new(done, NULL, elem_size, bytes, 1);
	if (!f)
		return NULL;
	f->count = count;
	f->values = f->buf;
	if (bytes)
		memcpy(f->values, values, bytes);
	goc_chan *out = f->out[0];
	return fwd_start(f, "goc_repeat", repeat_run) ? out : NULL;
}

static void repeat_fn_run(void *arg)
{
	fwd *f = arg;
	while (!goc_is_done(f->done)) {
		memset(f->buf, 0, f->esz);
		if (f->fn(f->arg, f->buf) != 0 || goc_send_or_done(f->done, f->out[0], f->buf) != 0)
			break;
	}
	fwd_end(f);
}

goc_chan *goc_repeat_fn(goc_chan *done, int (*fn)(void *arg, void *out), void *arg, size_t elem_size)
{
	if (!fn)
		return goc__pat_fail(EINVAL);
	fwd *f = fwd_new(done, NULL, elem_size, elem_size, 1);
	if (!f)
		return NULL;
	f->fn = fn;
	f->arg = arg;
	goc_chan *out = f->out[0];
	return fwd_start(f, "goc_repeat_fn", repeat_fn_run) ? out : NULL;
}
