/* leak.c - goroutine leak checks for test suites, and GOC_DEBUG=leaks.
 *
 * The baseline is the set of goroutine ids alive when goc_leakcheck_baseline
 * ran (ids are never reused, so "not in the set" means "started since").
 * Ids are handed out in per-P batches, so an id threshold would not do: a
 * goroutine started later on another P may have a smaller id.
 * goc_leakcheck polls the registry, sleeping between looks (goc_sleep arms
 * a timer, so the deadlock detector does not mistake the wait for one),
 * until no goroutine outside the baseline but the caller is left or the
 * timeout passes, then reports the survivors.
 * Lock order: baseline_mu alone; never held across a sleep or a dump. */
#include "debug.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t baseline_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t *baseline;      /* sorted ids (baseline_mu) */
static int64_t nbaseline;       /* entries in baseline (baseline_mu) */
static bool have_baseline;      /* goc_leakcheck_baseline ran (baseline_mu) */

int goc_leakcheck_baseline(void)
{
	int64_t n;
	goc__gsnap *v = goc__debug_snapshot(&n);
	if (n < 0)
		return GOC_ENOMEM;
	uint64_t *ids = NULL;
	if (n > 0) {
		ids = malloc((size_t)n * sizeof *ids);
		if (!ids) {
			free(v);
			return GOC_ENOMEM;
		}
		for (int64_t i = 0; i < n; i++)
			ids[i] = v[i].id; /* the snapshot is sorted by id */
	}
	free(v);
	pthread_mutex_lock(&baseline_mu);
	free(baseline);
	baseline = ids;
	nbaseline = n;
	have_baseline = true;
	pthread_mutex_unlock(&baseline_mu);
	return 0;
}

static bool in_baseline(uint64_t id)
{
	int64_t lo = 0, hi = nbaseline;
	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2;
		if (baseline[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < nbaseline && baseline[lo] == id;
}

/* Keep in v only the goroutines that count as leaks; returns how many. */
static int64_t filter_leaks(goc__gsnap *v, int64_t n, uint64_t self)
{
	int64_t k = 0;
	pthread_mutex_lock(&baseline_mu);
	for (int64_t i = 0; i < n; i++) {
		if (v[i].id == self || (have_baseline && in_baseline(v[i].id)))
			continue;
		v[k++] = v[i];
	}
	pthread_mutex_unlock(&baseline_mu);
	return k;
}

int goc_leakcheck(int64_t timeout_ns)
{
	uint64_t self = goc_id();
	int64_t start = goc_now();
	int64_t deadline = goc_deadline_in(timeout_ns < 0 ? 0 : timeout_ns);
	int64_t pause = 100000; /* 0.1 ms, doubling to 10 ms */
	for (;;) {
		int64_t n;
		goc__gsnap *v = goc__debug_snapshot(&n);
		if (n < 0)
			return GOC_ENOMEM;
		int64_t k = filter_leaks(v, n, self);
		int64_t now = goc_now();
		if (k == 0 || now >= deadline) {
			if (k > 0) {
				char waited[32];
				goc__debug_fmt_duration(waited, sizeof waited, now - start);
				fprintf(stderr, "goc: leakcheck: %lld goroutine%s still running after %s:\n\n",
				        (long long)k, k == 1 ? "" : "s", waited);
				goc__symctx *sym = goc__sym_new();
				int64_t cnow = goc__debug_coarse_now();
				for (int64_t i = 0; i < k; i++) {
					goc__debug_print_g(stderr, &v[i], cnow, sym, true);
					fputc('\n', stderr);
				}
				goc__sym_free(sym);
				fflush(stderr);
			}
			free(v);
			return k > INT32_MAX ? INT32_MAX : (int)k;
		}
		free(v);
		int64_t left = deadline - now;
		goc_sleep(pause < left ? pause : left);
		if (pause < 10000000)
			pause *= 2;
	}
}

/* goc_main is returning: with GOC_DEBUG=leaks, list what it abandons. The
 * main goroutine itself is finishing (it just returned) and is left out. */
void goc__leak_report_at_exit(void)
{
	const char *e = getenv("GOC_DEBUG");
	if (!e || !strstr(e, "leaks"))
		return;
	int64_t n;
	goc__gsnap *v = goc__debug_snapshot(&n);
	int64_t k = 0;
	for (int64_t i = 0; i < n; i++)
		if (!goc__debug_is_main(&v[i]))
			v[k++] = v[i];
	if (k > 0) {
		fprintf(stderr, "goc: %lld goroutine%s still running when goc_main returned:\n\n", (long long)k,
		        k == 1 ? "" : "s");
		goc__symctx *sym = goc__sym_new();
		int64_t now = goc__debug_coarse_now();
		for (int64_t i = 0; i < k; i++) {
			goc__debug_print_g(stderr, &v[i], now, sym, true);
			fputc('\n', stderr);
		}
		goc__sym_free(sym);
		fflush(stderr);
	}
	free(v);
}
