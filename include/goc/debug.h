/* goc/debug.h - seeing what goroutines do: dumps, leak checks, statistics
 * and scheduling traces. See docs/debugging.md.
 *
 * The runtime keeps a record of every goroutine (always on, cheap): its id,
 * state, what it waits for (a channel, a timer, a mutex, ...), on which
 * object and since when, where it was created (file, line, function), by
 * which goroutine, and its optional name (goc_go_attr.name).
 *
 * Environment (read when goc_main starts):
 *   GOC_SIGQUIT=0         do not install the SIGQUIT handler. By default
 *                         SIGQUIT (Ctrl-\) dumps every goroutine to stderr
 *                         and exits with status 2, as Go does;
 *                         GOC_SIGQUIT=continue dumps and keeps running.
 *   GOC_DEADLOCK=0        no deadlock detection (see docs/debugging.md).
 *   GOC_TRACE=file.json   record scheduling events from start to exit into
 *                         file.json (Chrome trace format: Perfetto,
 *                         chrome://tracing).
 *   GOC_DEBUG=leaks       list goroutines still alive when goc_main returns.
 *
 * Every function here is thread-safe and may be called from a goroutine or
 * any thread. A dump reads other goroutines' records without stopping them:
 * a goroutine that changes state during the dump may show either state.
 */
#ifndef GOC_DEBUG_H
#define GOC_DEBUG_H

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- dumps ---------------------------------------------------------------
 * One paragraph per live goroutine, like Go's SIGQUIT output:
 *
 *   goroutine 7 "reader" [chan receive, 2.150 s]:
 *       function reader
 *       created by goroutine 1 at server.c:42 in start_readers, 3.020 s ago
 *       waiting on 0x5581e6a1c2a0
 *       backtrace:
 *         #0  0x00005581e4a1b2c3 recv_park+0x8c  [server]
 *         #1  0x00005581e4a0f0a1 reader+0x31  [server]
 *
 * The backtrace (goroutines not running) is a frame-pointer walk of the
 * goroutine's stack, symbolised from the ELF symbol tables. out NULL:
 * stderr. Does not block; see docs/debugging.md for each line. */
void goc_dump(FILE *out);

/* ---- leak checks -----------------------------------------------------------
 * For test suites: call goc_leakcheck_baseline() before the code under
 * test and goc_leakcheck(timeout) after it. goc_leakcheck waits up to
 * timeout_ns for every goroutine that was not alive at the baseline (other
 * than the caller) to finish, then prints each survivor to stderr with its
 * creation site, wait reason and backtrace, and returns how many there are
 * (0: no leak). Without a baseline every goroutine but the caller counts.
 * The baseline is process-wide; a new call replaces it. Returns
 * GOC_ENOMEM if the baseline could not be recorded. */
int goc_leakcheck_baseline(void);
int goc_leakcheck(int64_t timeout_ns);

/* ---- statistics ----------------------------------------------------------
 * A snapshot of the scheduler's counters (read without stopping it, so
 * figures of different fields may be a few events apart). */
#define GOC_STATS_MAX_PROCS 16

typedef struct goc_stats {
	int64_t goroutines;       /* alive now (not finished) */
	int64_t created;          /* spawned since the runtime started */
	uint64_t switches;        /* goroutine runs: switches from a worker's scheduler into a goroutine */
	uint64_t steals;          /* successful work steals between workers */
	uint64_t parks;           /* goroutine waits (channel, timer, lock, io, ...) */
	int64_t timers;           /* timers armed (sleeps, deadlines, goc_timer, ...) */
	int32_t procs;            /* processors in use (GOC_PROCS, goc_procs) */
	int32_t idle_procs;       /* of which idle */
	int32_t threads;          /* worker threads (Ms) created, idle or not */
	int32_t blocking;         /* goroutines inside goc_blocking calls */
	int64_t global_runq;      /* runnable goroutines in the global queue */
	int32_t nrunq;            /* entries used in runq[]: min(procs, GOC_STATS_MAX_PROCS) */
	int32_t runq[GOC_STATS_MAX_PROCS]; /* runnable goroutines queued on processor i */
} goc_stats_t;

/* Fill *out. 0, or GOC_EINVAL for NULL. All zero before the runtime has
 * started. */
int goc_stats(goc_stats_t *out);

/* ---- tracing -------------------------------------------------------------
 * Record scheduling events (spawn, run, block with its reason, unblock,
 * yield, exit, blocking calls) of every thread into path, written in the
 * Chrome trace event format when tracing stops: goc_trace_stop(), goc_main
 * returning, or exit(). One track per thread; each goroutine run is a slice
 * named by its id and creation site. GOC_TRACE=path does this for the whole
 * of goc_main. Returns 0, GOC_EBUSY if a trace is already being recorded,
 * or -errno if path cannot be created. */
int goc_trace_start(const char *path);
/* Stop recording and write the file. 0, GOC_EPERM if no trace is being
 * recorded, or -errno if writing failed. */
int goc_trace_stop(void);

#ifdef __cplusplus
}
#endif
#endif
