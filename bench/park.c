/* park.c - bench=park (../shared/bench/SPEC.md): n goroutines each call
 * Done on a waitgroup, then block receiving from one shared release
 * channel. ns_per_op: creating them until all have called Done;
 * rss_bytes_per_g: what the parked goroutines add to VmRSS;
 * teardown_ns_per_g: closing release until all have exited (default
 * n = 1,000,000). The check: every goroutine was released and exited.
 * GOC_PROCS defaults to 1. */
#define NAME "park"
#include "bench.h"

#include <string.h>

static goc_waitgroup parked = GOC_WAITGROUP_INIT, exited = GOC_WAITGROUP_INIT;
static goc_chan *release;

/* VmRSS in bytes, from /proc/self/status. */
static long long vm_rss(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		bench_fail("cannot open /proc/self/status", 0, 0);
	char line[256];
	long long kb = -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = atoll(line + 6);
	fclose(f);
	if (kb < 0)
		bench_fail("no VmRSS line in /proc/self/status", 0, 0);
	return kb * 1024;
}

static void sleeper(void *arg)
{
	(void)arg;
	goc_waitgroup_done(&parked);
	if (goc_recv(release, NULL) != GOC_ECLOSED)
		bench_fail("release delivered a value", 0, 0);
	goc_waitgroup_done(&exited);
}

static int bench(int argc, char **argv)
{
	long n = bench_setup(argc, argv, 1000000);
	release = goc_chan_make(0, 0);
	if (!release)
		bench_fail("goc_chan_make failed", 0, 0);
	long long before = vm_rss();

	int64_t start = bench_now();
	goc_waitgroup_add(&parked, (int)n);
	goc_waitgroup_add(&exited, (int)n);
	for (long i = 0; i < n; i++)
		if (goc_go(sleeper, NULL) != 0)
			bench_fail("goc_go failed", 0, 0);
	goc_waitgroup_wait(&parked);
	int64_t elapsed = bench_now() - start;
	long long after = vm_rss();

	start = bench_now();
	goc_close(release);
	goc_waitgroup_wait(&exited);
	int64_t teardown = bench_now() - start;
	goc_chan_release(release);

	char extra[96];
	snprintf(extra, sizeof extra, " rss_bytes_per_g=%.0f teardown_ns_per_g=%.1f",
	         (double)(after - before) / (double)n, (double)teardown / (double)n);
	bench_report(n, elapsed, extra);
	return 0;
}

BENCH_MAIN(bench)
