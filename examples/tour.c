/* tour.c - `make run`: a walk through the Go concurrency patterns as goc
 * provides them, in the order of docs/patterns/README.md, printing what
 * happens in each. Every pattern is also its own example program
 * (examples/pattern_*.c, each checking its own results); the tour compiles
 * them all into one program (GOC_TOUR turns off their main functions) and
 * runs their demos one after the other in one runtime. Exits non-zero if
 * any demo's checks fail. */
#define GOC_TOUR 1

#include "pattern_confinement.c"
#include "pattern_for_select.c"
#include "pattern_leaks.c"
#include "pattern_or_channel.c"
#include "pattern_errors.c"
#include "pattern_pipeline.c"
#include "pattern_fan_out_in.c"
#include "pattern_or_done_tee_bridge.c"
#include "pattern_queuing.c"
#include "pattern_rate_limit.c"
#include "pattern_heartbeat.c"
#include "pattern_replicated.c"
#include "pattern_healing.c"

static const struct tour_stop {
	const char *title, *page;
	int (*demo)(void);
} tour_stops[] = {
	{ "Confinement", "confinement.md", pattern_confinement },
	{ "The for-select loop", "for-select.md", pattern_for_select },
	{ "Preventing goroutine leaks", "leaks.md", pattern_leaks },
	{ "The or-channel", "or-channel.md", pattern_or_channel },
	{ "Error handling", "errors.md", pattern_errors },
	{ "Pipelines and generators", "pipelines.md", pattern_pipeline },
	{ "Fan-out, fan-in", "fan-out-fan-in.md", pattern_fan_out_in },
	{ "or-done, tee, bridge", "or-done-tee-bridge.md", pattern_or_done_tee_bridge },
	{ "Queuing", "queuing.md", pattern_queuing },
	{ "Rate limiting", "rate-limiting.md", pattern_rate_limit },
	{ "Heartbeats", "heartbeats.md", pattern_heartbeat },
	{ "Replicated requests", "replicated.md", pattern_replicated },
	{ "Healing unhealthy goroutines", "healing.md", pattern_healing },
};

static int tour(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	size_t n = sizeof tour_stops / sizeof tour_stops[0];
	int failed = 0;
	int64_t start = goc_now();
	printf("goc: a tour of Go's concurrency patterns in C (%d worker threads)\n", goc_procs(0));
	for (size_t i = 0; i < n; i++) {
		printf("\n%zu. %s  (docs/patterns/%s)\n", i + 1, tour_stops[i].title, tour_stops[i].page);
		int64_t t0 = goc_now();
		int rc = tour_stops[i].demo();
		printf("   -> %s in %.2f s\n", rc == 0 ? "ok" : "FAILED", (double)(goc_now() - t0) / 1e9);
		failed += rc != 0;
	}
	printf("\n%zu patterns, %d failed, %.1f s\n", n, failed, (double)(goc_now() - start) / 1e9);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	return goc_main(tour, argc, argv);
}
