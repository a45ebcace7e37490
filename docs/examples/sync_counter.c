/* sync_counter.c - one job done two ways (docs/sync.md): 64 goroutines
 * each compute a partial sum; the total is gathered
 *   (a) in shared memory guarded by a goc_mutex, and
 *   (b) by communicating: each goroutine sends its result on a channel and
 *       only main ever touches the total.
 * Both must give the same, known answer. */
#include <goc.h>

#include <stdio.h>

enum { WORKERS = 64, PER_WORKER = 10000 };

/* The work: the sum of the integers in [lo, hi). */
static long partial_sum(long lo, long hi)
{
	long s = 0;
	for (long i = lo; i < hi; i++)
		s += i;
	return s;
}

/* (a) Share memory, guard it with a mutex. */
static goc_mutex total_mu = GOC_MUTEX_INIT;
static long total;                 /* guarded by total_mu */
static goc_waitgroup wg = GOC_WAITGROUP_INIT;

static void add_to_total(void *arg)
{
	long w = *(long *)arg;         /* our own copy (goc_go_copy) */
	long s = partial_sum(w * PER_WORKER, (w + 1) * PER_WORKER);
	goc_mutex_lock(&total_mu);
	total += s;                    /* the only shared write */
	goc_mutex_unlock(&total_mu);
	goc_waitgroup_done(&wg);
}

/* (b) Communicate: the result travels, the total stays with main. */
static goc_chan *results;

static void send_result(void *arg)
{
	long w = *(long *)arg;
	long s = partial_sum(w * PER_WORKER, (w + 1) * PER_WORKER);
	goc_send(results, &s);
}

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const long n = (long)WORKERS * PER_WORKER;
	const long want = n * (n - 1) / 2;

	goc_waitgroup_add(&wg, WORKERS);
	for (long w = 0; w < WORKERS; w++)
		goc_go_copy(add_to_total, &w, sizeof w);
	goc_waitgroup_wait(&wg);       /* happens-after every add */

	results = goc_chan_make(sizeof(long), 0);
	for (long w = 0; w < WORKERS; w++)
		goc_go_copy(send_result, &w, sizeof w);
	long sum = 0;
	for (int i = 0; i < WORKERS; i++) {
		long s;
		goc_recv(results, &s);
		sum += s;
	}
	goc_chan_release(results);

	printf("mutex total %ld, channel total %ld, expected %ld\n", total, sum, want);
	return total == want && sum == want ? 0 : 1;
}

int main(int argc, char **argv)
{
	return goc_main(run, argc, argv);
}
