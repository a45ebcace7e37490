/* heartbeat.c - goc_heartbeat: pulses at the start of each unit of work and
 * at an interval while the owner waits in goc_heartbeat_select.
 *
 * The pulse channel is a signal channel of capacity 1 and beats are
 * try-sends: a pulse nobody has taken yet absorbs the next, so the owner
 * never blocks on its heartbeat and a watcher reading late sees one pulse,
 * not a burst. Interval pulses come from a ticker whose channel
 * goc_heartbeat_select adds as one more case: while the owner waits there,
 * each tick is turned into a beat; a tick that arrives while the owner is
 * busy elsewhere waits in the ticker's channel (capacity 1) and becomes a
 * beat when the owner next waits (it is alive then).
 *
 * Thread-safety: pulse and ticker are immutable after creation; beats may
 * come from any goroutine. The refcount is atomic; the last release stops
 * the ticker and releases the channel.
 */
#include "pat.h"

#include <stdatomic.h>

#define CASES_ON_STACK 16

struct goc_heartbeat {
	_Atomic uint32_t refs;
	goc_chan *pulse;
	goc_ticker *ticker;         /* NULL: explicit beats only */
};

goc_heartbeat *goc_heartbeat_new(int64_t interval)
{
	if (interval < 0)
		return goc__pat_fail(EINVAL);
	goc_heartbeat *hb = calloc(1, sizeof *hb);
	if (!hb)
		return goc__pat_fail(ENOMEM);
	atomic_init(&hb->refs, 1);
	hb->pulse = goc_chan_make(0, 1);
	if (hb->pulse && interval > 0)
		hb->ticker = goc_ticker_new(interval);
	if (!hb->pulse || (interval > 0 && !hb->ticker)) {
		goc_chan_release(hb->pulse);
		free(hb);
		return goc__pat_fail(ENOMEM);
	}
	return hb;
}

goc_chan *goc_heartbeat_chan(goc_heartbeat *hb)
{
	return hb ? hb->pulse : NULL;
}

void goc_heartbeat_beat(goc_heartbeat *hb)
{
	if (hb)
		(void)goc_try_send(hb->pulse, NULL); /* GOC_EAGAIN: one is pending */
}

int goc_heartbeat_select(goc_heartbeat *hb, goc_case *cases, size_t n)
{
	if (!hb || !hb->ticker)
		return goc_select(cases, n);
	if (!cases && n > 0)
		return GOC_EINVAL;
	if (n >= INT32_MAX)
		return GOC_EINVAL;
	goc_case stack_cases[CASES_ON_STACK + 1], *cs = stack_cases;
	if (n > CASES_ON_STACK && !(cs = malloc((n + 1) * sizeof *cs)))
		return GOC_ENOMEM;
	for (size_t i = 0; i < n; i++)
		cs[i] = cases[i];
	int64_t tick;
	cs[n] = goc_case_recv(goc_ticker_chan(hb->ticker), &tick);
	int r;
	while ((r = goc_select(cs, n + 1)) == (int)n)
		goc_heartbeat_beat(hb);
	if (r >= 0)
		cases[r].ok = cs[r].ok;
	if (cs != stack_cases)
		free(cs);
	return r;
}

void goc_heartbeat_retain(goc_heartbeat *hb)
{
	if (hb)
		atomic_fetch_add_explicit(&hb->refs, 1, memory_order_relaxed);
}

void goc_heartbeat_release(goc_heartbeat *hb)
{
	if (!hb || atomic_fetch_sub_explicit(&hb->refs, 1, memory_order_acq_rel) != 1)
		return;
	goc_ticker_release(hb->ticker);
	goc_chan_release(hb->pulse);
	free(hb);
}
