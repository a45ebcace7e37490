/* orchan_rec.c - bench=orchan_rec: the orchan workload of
 * ../shared/bench/SPEC.md with the recursive or-channel written as Go code
 * usually writes it (../shared/bench/go/orchan/main.go): a goroutine per
 * level, each a select over three inputs and the or() of the rest plus its
 * own output (so a level also ends when its parent does). Compare its figure
 * with Go's orchan; bench/orchan.c does the same with goc_or.
 *
 * Go's append(channels[3:], orDone) copies the caller's slice once (it has
 * no spare capacity) and then appends in place at every level below; the
 * same here: or_rec copies the inputs into one array with room for the
 * appended channels, and the goroutine of each level writes its orDone over
 * the slot after its three inputs, so that the next level's inputs start
 * there. ns_per_op is one input: or() until the combined channel is closed
 * (default n = 10,000). GOC_PROCS defaults to 1. */
#define NAME "orchan_rec"

#include "bench.h"

/* One level: chans[0..n) are its inputs; the array belongs to the whole
 * recursion (see the header). */
typedef struct level {
	goc_chan **chans;
	size_t n;
	goc_chan *or_done;
} level;

static goc_chan *or_chans(goc_chan **chans, size_t n);

/* Levels still running, waited for after the clock stops (so the program
 * ends with every goroutine gone and every allocation freed). */
static goc_waitgroup levels = GOC_WAITGROUP_INIT;

static void level_run(void *arg)
{
	level *lv = arg;
	goc_chan *or_done = lv->or_done;
	if (lv->n == 2) {
		goc_case cs[] = { goc_case_recv(lv->chans[0], NULL), goc_case_recv(lv->chans[1], NULL) };
		GOC_SELECT(cs);
	} else {
		goc_chan *a = lv->chans[0], *b = lv->chans[1], *c = lv->chans[2];
		/* or(append(channels[3:], orDone)...): in place, one slot on. */
		lv->chans[2] = or_done;
		goc_chan *rest = or_chans(lv->chans + 2, lv->n - 2);
		goc_case cs[] = { goc_case_recv(a, NULL), goc_case_recv(b, NULL), goc_case_recv(c, NULL),
		                  goc_case_recv(rest, NULL) };
		GOC_SELECT(cs);
		goc_chan_release(rest);
	}
	goc_close(or_done); /* defer close(orDone) */
	goc_chan_release(or_done);
	free(lv);
	goc_waitgroup_done(&levels);
}

/* Go's or(): a channel (one reference for the caller) closed when any of
 * chans is; n == 1 is that channel itself. */
static goc_chan *or_chans(goc_chan **chans, size_t n)
{
	if (n == 1) {
		goc_chan_retain(chans[0]);
		return chans[0];
	}
	level *lv = malloc(sizeof *lv);
	goc_chan *or_done = goc_chan_make(0, 0);
	if (!lv || !or_done)
		bench_fail("out of memory", 0, 1);
	lv->chans = chans;
	lv->n = n;
	lv->or_done = or_done;
	goc_chan_retain(or_done); /* the level's own reference */
	goc_waitgroup_add(&levels, 1);
	if (goc_go(level_run, lv) != 0)
		bench_fail("spawn", 0, 1);
	return or_done;
}

static int bench(int argc, char **argv)
{
	long n = bench_setup(argc, argv, 10000);
	goc_chan **done = malloc((size_t)n * sizeof *done);
	goc_chan **work = malloc((size_t)n * sizeof *work);
	if (!done || !work)
		bench_fail("out of memory", 0, 1);
	for (long i = 0; i < n; i++)
		if (!(done[i] = goc_chan_make(0, 0)))
			bench_fail("channel", i, n);

	int64_t start = bench_now();
	for (long i = 0; i < n; i++) /* the copy the first append makes */
		work[i] = done[i];
	goc_chan *combined = or_chans(work, (size_t)n);
	goc_close(done[n - 1]);
	int rc = goc_recv(combined, NULL);
	int64_t elapsed = bench_now() - start;

	for (long i = 0; i < n - 1; i++)
		goc_close(done[i]);
	if (rc != GOC_ECLOSED)
		bench_fail("the combined channel delivered a value; want it closed", rc, GOC_ECLOSED);
	if (goc_waitgroup_wait_until(&levels, goc_now() + GOC_SEC(60)) != 0)
		bench_fail("levels still running a minute after the combined channel closed", 1, 0);
	goc_chan_release(combined);
	for (long i = 0; i < n; i++)
		goc_chan_release(done[i]);
	free(done);
	free(work);
	bench_report(n, elapsed, "");
	return 0;
}

BENCH_MAIN(bench)
