/* pattern_or_channel.c - the or-channel (docs/patterns/or-channel.md): one
 * channel that closes as soon as any of n channels closes.
 *   - The classic demo: the or of timers firing after 2 h, 5 min, 1 s, 1 h
 *     and 1 min closes after about 1 s.
 *   - goc_or waits for any n in one goroutine and O(n) memory; the
 *     recursive version Go programs usually write (a goroutine per level,
 *     each selecting over three inputs and the or of the rest) is written
 *     out below to compare: the time per input of each is measured and
 *     printed (bench/orchan.c and bench/orchan_rec.c do it properly). */
#include "pattern_example.h"

/* ---- the recursive or-channel, as in Go ------------------------------------
 *	func or(chans ...<-chan struct{}) <-chan struct{} {
 *		switch len(chans) { case 0: return nil; case 1: return chans[0] }
 *		orDone := make(chan struct{})
 *		go func() {
 *			defer close(orDone)
 *			switch len(chans) {
 *			case 2: select { case <-chans[0]: case <-chans[1]: }
 *			default: select { case <-chans[0]: case <-chans[1]: case <-chans[2]:
 *			                  case <-or(append(chans[3:], orDone)...): }
 *			}
 *		}()
 *		return orDone
 *	}
 * Like Go's append, the levels share one array: each writes its orDone in
 * the slot after its three inputs, where the next level's inputs start. */

typedef struct orr_level {
	goc_chan **chans;
	size_t n;
	goc_chan *or_done;
	goc_waitgroup *wg;
} orr_level;

static goc_chan *orr_or(goc_chan **chans, size_t n, goc_waitgroup *wg);

static void orr_level_run(void *arg)
{
	orr_level *lv = arg;
	if (lv->n == 2) {
		goc_case cs[] = { goc_case_recv(lv->chans[0], NULL), goc_case_recv(lv->chans[1], NULL) };
		GOC_SELECT(cs);
	} else {
		goc_chan *a = lv->chans[0], *b = lv->chans[1], *c = lv->chans[2];
		lv->chans[2] = lv->or_done; /* append(chans[3:], orDone) */
		goc_chan *rest = orr_or(lv->chans + 2, lv->n - 2, lv->wg);
		goc_case cs[] = { goc_case_recv(a, NULL), goc_case_recv(b, NULL), goc_case_recv(c, NULL),
		                  goc_case_recv(rest, NULL) };
		GOC_SELECT(cs);
		goc_chan_release(rest);
	}
	goc_close(lv->or_done);
	goc_chan_release(lv->or_done);
	goc_waitgroup_done(lv->wg);
	free(lv);
}

/* chans must have room for the levels' appends (it is overwritten). */
static goc_chan *orr_or(goc_chan **chans, size_t n, goc_waitgroup *wg)
{
	if (n == 1) {
		goc_chan_retain(chans[0]);
		return chans[0];
	}
	orr_level *lv = malloc(sizeof *lv);
	goc_chan *or_done = goc_chan_make(0, 0);
	if (!lv || !or_done) {
		free(lv);
		goc_chan_release(or_done);
		return NULL;
	}
	*lv = (orr_level){ chans, n, or_done, wg };
	goc_chan_retain(or_done); /* the level's */
	goc_waitgroup_add(wg, 1);
	if (goc_go(orr_level_run, lv) != 0) {
		goc_waitgroup_done(wg);
		goc_chan_release(or_done);
		goc_chan_release(or_done);
		free(lv);
		return NULL;
	}
	return or_done;
}

/* ns per input to combine n channels and see the last one's close. */
static double or_measure(size_t n, bool recursive, bool *ok)
{
	goc_chan **in = malloc(n * sizeof *in), **work = malloc(n * sizeof *work);
	for (size_t i = 0; i < n; i++)
		work[i] = in[i] = goc_chan_make(0, 0);
	goc_waitgroup wg = GOC_WAITGROUP_INIT;
	int64_t t0 = goc_now();
	goc_chan *any = recursive ? orr_or(work, n, &wg) : goc_or(in, n);
	goc_close(in[n - 1]);
	*ok = any && goc_recv(any, NULL) == GOC_ECLOSED;
	double ns = (double)(goc_now() - t0) / (double)n;
	for (size_t i = 0; i < n - 1; i++)
		goc_close(in[i]);
	goc_waitgroup_wait(&wg);
	goc_chan_release(any);
	for (size_t i = 0; i < n; i++)
		goc_chan_release(in[i]);
	free(in);
	free(work);
	return ns;
}

static int pattern_or_channel(void)
{
	struct { int64_t after; const char *name; } timers[] = {
		{ GOC_MIN(120), "2 h" }, { GOC_MIN(5), "5 min" }, { GOC_SEC(1), "1 s" },
		{ GOC_MIN(60), "1 h" }, { GOC_MIN(1), "1 min" },
	};
	goc_chan *sig[5];
	int64_t start = goc_now(); /* before the timers start */
	printf("  or of timers after");
	for (int i = 0; i < 5; i++) {
		sig[i] = goc_after(timers[i].after);
		printf(" %s", timers[i].name);
	}
	printf("\n");
	goc_chan *any = goc_or(sig, 5);
	EXPECT(any != NULL);
	for (int i = 0; i < 5; i++)
		goc_chan_release(sig[i]); /* goc_or holds its own references */
	EXPECT(goc_recv(any, NULL) == GOC_ECLOSED);
	int64_t took = goc_now() - start;
	printf("  done after %.3f s\n", (double)took / 1e9);
	EXPECT(took >= GOC_SEC(1) && took < GOC_SEC(10));
	goc_chan_release(any); /* the 2 h timers are stopped when their channels are freed */

	size_t n = 10000 / EXAMPLE_SLOWDOWN; /* sanitizers: 5000 goroutines are slow */
	bool ok1, ok2;
	double flat = or_measure(n, false, &ok1), rec = or_measure(n, true, &ok2);
	printf("  %zu inputs: goc_or %.0f ns per input (1 goroutine), recursive or %.0f ns per input "
	       "(%zu goroutines)\n", n, flat, rec, n / 2);
	EXPECT(ok1 && ok2);
	return 0;
}

PATTERN_MAIN(pattern_or_channel)
