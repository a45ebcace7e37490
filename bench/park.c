/* park.c - bench=park (../shared/bench/SPEC.md): n goroutines each call
 * Done on a waitgroup, then block receiving from one shared release
 * channel. ns_per_op: creating them until all have called Done;
 * rss_bytes_per_g: what the parked goroutines add to VmRSS;
 * teardown_ns_per_g: closing release until all have exited (default
 * n = 1,000,000). The check: every goroutine was released and exited.
 * GOC_PROCS defaults to 1. */
#include <goc.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NAME "park"

static goc_waitgroup parked = GOC_WAITGROUP_INIT, exited = GOC_WAITGROUP_INIT;
static goc_chan *release;

static void fail(const char *msg)
{
	fprintf(stderr, NAME ": %s\n", msg);
	exit(1);
}

static long setup(int argc, char **argv, long def)
{
	if (argc > 2)
		fail("usage: " NAME " [n]");
	if (argc < 2)
		return def;
	char *end;
	long n = strtol(argv[1], &end, 10);
	if (*end || n < 1)
		fail("n must be a positive integer");
	return n;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* VmRSS in bytes, from /proc/self/status. */
static long long vm_rss(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		fail("cannot open /proc/self/status");
	char line[256];
	long long kb = -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = atoll(line + 6);
	fclose(f);
	if (kb < 0)
		fail("no VmRSS line in /proc/self/status");
	return kb * 1024;
}

static void sleeper(void *arg)
{
	(void)arg;
	goc_waitgroup_done(&parked);
	if (goc_recv(release, NULL) != GOC_ECLOSED)
		fail("release delivered a value");
	goc_waitgroup_done(&exited);
}

static int bench(int argc, char **argv)
{
	long n = setup(argc, argv, 1000000);
	release = goc_chan_make(0, 0);
	if (!release)
		fail("goc_chan_make failed");
	long long before = vm_rss();

	int64_t start = now_ns();
	goc_waitgroup_add(&parked, (int)n);
	goc_waitgroup_add(&exited, (int)n);
	for (long i = 0; i < n; i++)
		if (goc_go(sleeper, NULL) != 0)
			fail("goc_go failed");
	goc_waitgroup_wait(&parked);
	int64_t elapsed = now_ns() - start;
	long long after = vm_rss();

	start = now_ns();
	goc_close(release);
	goc_waitgroup_wait(&exited);
	int64_t teardown = now_ns() - start;
	goc_chan_release(release);

	printf("bench=" NAME " impl=goc procs=%d n=%ld ns_per_op=%.1f rss_bytes_per_g=%.0f teardown_ns_per_g=%.1f\n",
	       goc_procs(0), n, (double)elapsed / (double)n, (double)(after - before) / (double)n,
	       (double)teardown / (double)n);
	return 0;
}

int main(int argc, char **argv)
{
	if (!getenv("GOC_PROCS"))
		goc_procs(1);
	return goc_main(bench, argc, argv);
}
