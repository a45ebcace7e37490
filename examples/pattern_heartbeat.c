/* pattern_heartbeat.c - heartbeats (docs/patterns/heartbeats.md): a
 * goroutine signals that it is alive, so that a supervisor (or a test) can
 * tell a healthy goroutine from a stuck one without guessing from its
 * results.
 *   - An interval heartbeat: the worker waits in goc_heartbeat_select,
 *     which pulses every interval while it waits; a supervisor that hears
 *     nothing for ten intervals declares it unhealthy.
 *   - A heartbeat at the start of each unit of work: a test waits for the
 *     pulse before it looks at results, instead of sleeping. */
#include "pattern_example.h"

#define HB_INTERVAL GOC_MS(10)
#define HB_PATIENCE (10 * HB_INTERVAL * EXAMPLE_SLOWDOWN) /* silence that means "stuck" */

typedef struct hb_worker {
	goc_chan *done, *work, *results;  /* long values */
	goc_heartbeat *hb;
	int stuck_after;            /* the worker hangs after this many results */
} hb_worker;

static void hb_work(void *arg)
{
	hb_worker *w = arg;
	long v;
	for (int n = 0;; n++) {
		if (n == w->stuck_after) {
			/* Stuck: no heartbeat any more, until told to stop. */
			goc_recv(w->done, NULL);
			break;
		}
		goc_case cs[] = { goc_case_recv(w->done, NULL), goc_case_recv(w->work, &v) };
		int r = goc_heartbeat_select(w->hb, cs, 2); /* pulses while waiting */
		if (r != 1 || !goc_case_ok(&cs[1]))
			break;
		goc_heartbeat_beat(w->hb); /* a unit of work starts */
		v *= v;
		goc_case out[] = { goc_case_recv(w->done, NULL), goc_case_send(w->results, &v) };
		if (goc_heartbeat_select(w->hb, out, 2) != 1)
			break;
	}
	goc_close(w->results);
	goc_chan_release(w->results);
	goc_heartbeat_release(w->hb);
}

static int pattern_heartbeat(void)
{
	/* Supervision: pulses keep coming while the worker waits for work. */
	goc_chan *done = goc_chan_make(0, 0), *work = goc_chan_make(sizeof(long), 0);
	goc_chan *results = goc_chan_make(sizeof(long), 0);
	goc_heartbeat *hb = goc_heartbeat_new(HB_INTERVAL);
	EXPECT(done && work && results && hb);
	goc_chan_retain(results);
	goc_heartbeat_retain(hb);
	hb_worker w = { done, work, results, hb, 3 };
	EXPECT(goc_go_copy(hb_work, &w, sizeof w) == 0);

	int pulses = 0, got = 0;
	long next = 1, v;
	bool healthy = true;
	while (healthy) {
		goc_case cs[] = {
			goc_case_recv(goc_heartbeat_chan(hb), NULL),
			goc_case_recv(results, &v),
			goc_case_send(got < 5 ? work : NULL, &next),
		};
		switch (GOC_SELECT_UNTIL(cs, goc_now() + HB_PATIENCE)) {
		case 0:
			pulses++;
			break;
		case 1:
			printf("  result %ld\n", v);
			got++;
			break;
		case 2:
			next++;
			break;
		default: /* nothing for HB_PATIENCE */
			healthy = false;
		}
	}
	printf("  %d pulses, %d results, then silence for %d ms: the worker is unhealthy\n", pulses, got,
	       (int)(HB_PATIENCE / GOC_MS(1)));
	EXPECT(got == 3 && pulses >= 1); /* pulses coalesce: a pending one absorbs the next */
	goc_close(done); /* the stuck worker was waiting for this */
	EXPECT(goc_recv(results, &v) == GOC_ECLOSED);
	goc_chan_release(done);
	goc_chan_release(work);
	goc_chan_release(results);
	goc_heartbeat_release(hb);

	/* Testing with a heartbeat: wait for the pulse that says the worker
	 * has started on a value, then expect its result: no sleeps. */
	done = goc_chan_make(0, 0);
	work = goc_chan_make(sizeof(long), 0);
	results = goc_chan_make(sizeof(long), 0);
	hb = goc_heartbeat_new(0); /* beats at each unit of work only */
	goc_chan_retain(results);
	goc_heartbeat_retain(hb);
	hb_worker t = { done, work, results, hb, -1 };
	EXPECT(goc_go_copy(hb_work, &t, sizeof t) == 0);
	long x = 7;
	EXPECT(goc_send(work, &x) == 0);
	EXPECT(goc_recv_until(goc_heartbeat_chan(hb), NULL, goc_now() + GOC_SEC(5)) == 0);
	EXPECT(goc_recv_until(results, &v, goc_now() + GOC_SEC(5)) == 0 && v == 49);
	printf("  test: pulse received (work started), then result %ld\n", v);
	goc_close(done);
	EXPECT(goc_recv(results, &v) == GOC_ECLOSED);
	goc_chan_release(done);
	goc_chan_release(work);
	goc_chan_release(results);
	goc_heartbeat_release(hb);
	return 0;
}

PATTERN_MAIN(pattern_heartbeat)
