/* loop.c - the for-select building blocks: goc_send_or_done,
 * goc_recv_or_done, goc_is_done (include/goc/patterns.h).
 *
 * Each is one select over the operation and done (the pattern goroutines
 * also watch a second, internal stop channel: goc__pat_send2/recv2, pat.h).
 * done is polled first
 * (one lock-free check while it is open), so that once done is closed no
 * further value moves: Go's select would pick at random between a ready
 * operation and a closed done, and a cancelled stage could keep going for
 * a few rounds. No locks of our own; the channels' locks only.
 */
#include "pat.h"

bool goc_is_done(goc_chan *done)
{
	return done && goc_try_recv(done, NULL) != GOC_EAGAIN;
}

/* One operation against up to two done channels (either may be NULL). */
static int op_or_done2(goc_chan *done, goc_chan *stop, goc_case op)
{
	if (!op.chan)
		return GOC_EINVAL;
	if (!done && !stop)
		return op.dir == GOC__CASE_SEND ? goc_send(op.chan, op.elem) : goc_recv(op.chan, op.elem);
	if (goc_is_done(done) || goc_is_done(stop))
		return GOC_ECANCELED;
	goc_case cs[] = { op, goc_case_recv(done, NULL), goc_case_recv(stop, NULL) };
	int r = GOC_SELECT(cs);
	if (r == 0)
		return goc_case_ok(&cs[0]) ? 0 : GOC_ECLOSED;
	return r > 0 ? GOC_ECANCELED : r;
}

int goc__pat_send2(goc_chan *done, goc_chan *stop, goc_chan *c, const void *elem)
{
	return op_or_done2(done, stop, goc_case_send(c, elem));
}

int goc__pat_recv2(goc_chan *done, goc_chan *stop, goc_chan *c, void *out)
{
	return op_or_done2(done, stop, goc_case_recv(c, out));
}

int goc_send_or_done(goc_chan *done, goc_chan *c, const void *elem)
{
	return op_or_done2(done, NULL, goc_case_send(c, elem));
}

int goc_recv_or_done(goc_chan *done, goc_chan *c, void *out)
{
	return op_or_done2(done, NULL, goc_case_recv(c, out));
}
