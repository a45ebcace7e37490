/* steward.c - goc_steward: run a ward goroutine, watch its heartbeat,
 * restart it when the heartbeat stops ("healing unhealthy goroutines").
 *
 * The steward goroutine loops: make the ward's done channel and heartbeat
 * (interval timeout / 2), start the ward with its own references to both,
 * then select over the steward's done, its stop channel, the ward's pulses
 * and a timer reset at each pulse. Silence for `timeout` closes the ward's
 * done channel and starts a new ward with fresh ones; done or stop closes
 * the current ward's done channel and ends the steward, which closes
 * `exited` as its last act.
 *
 * Ownership: the steward block is shared by the caller and the steward
 * goroutine (refs, atomic); each ward holds references to its own done
 * channel and heartbeat, so an abandoned ward that wakes up later touches
 * only what it holds. Immutable fields after start: everything but refs and
 * starts (atomic).
 */
#include "pat.h"

#include <stdatomic.h>

struct goc_steward {
	_Atomic uint32_t refs;
	_Atomic uint64_t starts;
	goc_chan *done;             /* the caller's; may be NULL */
	goc_chan *stop;             /* closed by goc_steward_stop */
	goc_chan *exited;           /* closed by the steward goroutine at its end */
	goc_timer *timer;           /* the steward goroutine's */
	int64_t timeout;
	goc_ward_fn fn;
	void *arg;
};

typedef struct ward_run {
	goc_ward_fn fn;
	void *arg;
	goc_chan *done;
	goc_heartbeat *hb;
} ward_run;

static void ward_main(void *arg)
{
	ward_run w = *(ward_run *)arg; /* goc_go_copy'd */
	w.fn(w.done, w.hb, w.arg);
	goc_chan_release(w.done);
	goc_heartbeat_release(w.hb);
}

static void steward_unref(goc_steward *s)
{
	if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
		return;
	goc_chan_release(s->done);
	goc_chan_release(s->stop);
	goc_chan_release(s->exited);
	free(s);
}

/* Start one ward; false if out of memory (the steward retries after the
 * timeout, as if the ward had been silent). */
static bool ward_start(goc_steward *s, goc_chan *done, goc_heartbeat *hb)
{
	if (!done || !hb)
		return false;
	ward_run w = { s->fn, s->arg, done, hb };
	goc_chan_retain(done);
	goc_heartbeat_retain(hb);
	goc_go_attr attr = { 0 };
	attr.name = "goc_steward ward";
	if (goc__go_at(&attr, ward_main, &w, sizeof w, true, GOC__SITE()) == 0)
		return true;
	goc_chan_release(done);
	goc_heartbeat_release(hb);
	return false;
}

static void steward_run(void *arg)
{
	goc_steward *s = arg;
	int64_t interval = s->timeout / 2 > 0 ? s->timeout / 2 : 1;
	bool stopping = false;
	while (!stopping) {
		goc_chan *ward_done = goc_chan_make(0, 0);
		goc_heartbeat *hb = goc_heartbeat_new(interval);
		/* Counted before the ward can run, so that whoever sees a ward's
		 * work also sees it counted; taken back if it did not start. */
		atomic_fetch_add_explicit(&s->starts, 1, memory_order_relaxed);
		if (!ward_start(s, ward_done, hb))
			atomic_fetch_sub_explicit(&s->starts, 1, memory_order_relaxed);
		goc_timer_reset(s->timer, s->timeout);
		for (;;) {
			goc_case cs[] = {
				goc_case_recv(s->done, NULL),
				goc_case_recv(s->stop, NULL),
				goc_case_recv(goc_heartbeat_chan(hb), NULL),
				goc_case_recv(goc_timer_chan(s->timer), NULL),
			};
			int r = GOC_SELECT(cs);
			if (r == 2) {
				goc_timer_reset(s->timer, s->timeout); /* alive: restart the clock */
				continue;
			}
			stopping = r != 3; /* 3: silent for timeout: restart the ward */
			break;
		}
		if (ward_done)
			goc__pat_close(ward_done);
		goc_chan_release(ward_done);
		goc_heartbeat_release(hb);
	}
	goc_timer_release(s->timer);
	goc__pat_close(s->exited);
	steward_unref(s);
}

goc_steward *goc_steward_start(goc_chan *done, int64_t timeout, goc_ward_fn fn, void *arg)
{
	if (timeout <= 0 || !fn)
		return goc__pat_fail(EINVAL);
	goc_steward *s = calloc(1, sizeof *s);
	if (!s)
		return goc__pat_fail(ENOMEM);
	atomic_init(&s->refs, 2); /* the caller's and the steward goroutine's */
	s->timeout = timeout;
	s->fn = fn;
	s->arg = arg;
	s->stop = goc_chan_make(0, 0);
	s->exited = goc_chan_make(0, 0);
	s->timer = goc_timer_new(timeout);
	if (s->stop && s->exited && s->timer) {
		goc_chan_retain(done);
		s->done = done;
		if (goc__pat_spawn("goc_steward", steward_run, s) == 0)
			return s;
	}
	goc_timer_release(s->timer);
	goc_chan_release(s->done);
	goc_chan_release(s->stop);
	goc_chan_release(s->exited);
	free(s);
	return goc__pat_fail(ENOMEM);
}

uint64_t goc_steward_starts(goc_steward *s)
{
	return s ? atomic_load_explicit(&s->starts, memory_order_relaxed) : 0;
}

int goc_steward_stop(goc_steward *s, int64_t deadline)
{
	if (!s)
		return GOC_EINVAL;
	goc__pat_close(s->stop);
	int r = goc_recv_until(s->exited, NULL, deadline);
	return r == GOC_ETIMEDOUT ? GOC_ETIMEDOUT : 0;
}

void goc_steward_release(goc_steward *s)
{
	if (!s)
		return;
	goc_steward_stop(s, GOC_NO_DEADLINE);
	steward_unref(s);
}
