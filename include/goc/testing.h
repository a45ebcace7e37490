/* goc/testing.h - deterministic testing: seeded schedules, virtual time and
 * a schedule explorer (see docs/testing.md).
 *
 * Simulation mode runs the program on one worker and draws every choice the
 * scheduler makes from a PRNG seeded by one number: which runnable goroutine
 * runs next, which ready case a select takes, whether a yield point
 * switches. The same program and seed replay the same interleaving, so the
 * same output, byte for byte. By default the clock is virtual too: goc_now,
 * sleeps, timers, tickers and every deadline read a clock that stands still
 * while any goroutine can run and jumps to the next timer when all are
 * blocked, so a one-hour timeout takes microseconds. All goroutines blocked
 * and no timer pending is still reported as a deadlock (exit status 2).
 *
 * Turn it on for a whole program with the environment (read when the
 * runtime starts):
 *   GOC_SCHED_SEED=<n>     seed (decimal or 0x hex): simulation mode
 *   GOC_VIRTUAL_TIME=0|1   0: keep the real clock; 1 without a seed: seed 1
 *   GOC_SCHED_PCT=<d>      PCT priorities of depth d (0: uniform choice)
 *   GOC_SCHED_YIELD=<p>    chance in 1/1000 that a yield point switches
 * or for one run with goc_sim_main, and over many seeds with goc_explore.
 *
 * Determinism covers what runs on goroutines: channels, select, timers,
 * sync, ctx, patterns. Threads goc did not start, goc_blocking calls and
 * network I/O are real-world events that no seed controls.
 */
#ifndef GOC_TESTING_H
#define GOC_TESTING_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One simulated run. Zero-initialise, then set what you need. */
typedef struct goc_sim_config {
	uint64_t seed;          /* the schedule; any value (0 included) */
	bool real_time;         /* keep the monotonic clock (timers then fire by
	                           real time, which no seed controls) */
	int yield_permille;     /* chance (per 1000) that a yield point switches
	                           goroutines; 0: the default (250); < 0: never */
	int pct_depth;          /* 0: uniform random choice; d >= 1: PCT (random
	                           priorities, d - 1 priority drops) */
	int64_t pct_steps;      /* PCT: expected scheduling steps per run, the
	                           range of the drop points; 0: 1000 */
} goc_sim_config;

/* goc_main(fn, argc, argv) in simulation mode with cfg (cfg NULL: seed 0,
 * defaults). Returns fn's result, or GOC_EBUSY if a runtime is running.
 * The configuration overrides the GOC_SCHED_* environment for this run. */
int goc_sim_main(const goc_sim_config *cfg, int (*fn)(int argc, char **argv), int argc, char **argv);

/* Whether the running runtime is in simulation mode, and its seed. */
bool goc_sim_enabled(void);
uint64_t goc_sim_seed(void);

/* A yield point for code under test: in simulation mode, may switch to
 * another goroutine (as the seed decides), so a race between a check and
 * the act that depends on it can be explored; elsewhere it does nothing.
 * Only where the caller could block (it holds no spin lock of its own).
 * A blocking select, send or receive (not the try forms) and every park
 * are yield points already. */
void goc_sim_point(void);

/* Run goc_sim_main(cfg, fn, argc, argv) in a child process (fork: a fresh
 * runtime and address space per run) and wait for it at most timeout ns
 * (<= 0: 10 s) of real time. The child's stdout and stderr go to out_fd
 * when it is >= 0. Returns the child's exit status (0..255; 2 is goc's
 * deadlock report), 128 + n if signal n killed it, GOC_ETIMEDOUT if it was
 * killed for running too long, GOC_EBUSY if the calling process has a goc
 * runtime running (fork would copy its threads' state, not its threads),
 * GOC_EINVAL, or a negative errno. */
int goc_sim_fork(const goc_sim_config *cfg, int (*fn)(int argc, char **argv), int argc, char **argv,
                 int out_fd, int64_t timeout);

/* ---- exploring schedules ------------------------------------------------- */

typedef struct goc_explore_opts {
	goc_sim_config config;  /* for every run; its seed is replaced */
	uint64_t first_seed;    /* seeds first_seed, first_seed + 1, ... */
	int runs;               /* how many seeds; 0: 100 */
	int64_t timeout;        /* per run, real ns; 0: 10 s (a hang fails) */
	bool keep_going;        /* run every seed even after a failure */
	bool verbose;           /* let every run's output through; default:
	                           captured, and shown only for the first
	                           failing run */
} goc_explore_opts;

typedef struct goc_explore_result {
	int runs;               /* runs done */
	int failures;           /* runs that failed */
	uint64_t failing_seed;  /* the first failing seed (if failures > 0) */
	int status;             /* its status, as goc_sim_fork returns it */
} goc_explore_result;

/* Run fn as a program (goc_sim_fork) once per seed until one fails (exit
 * status not 0, a signal, a deadlock, a timeout). On failure print the seed
 * and how to replay it to stderr ("GOC_SCHED_SEED=<n> <program>"): with
 * GOC_SCHED_SEED set, goc_explore runs only that seed, verbosely. Returns
 * 0 if every run passed, 1 if one failed (details in *res, which may be
 * NULL), or a negative GOC_E* code (GOC_EBUSY: call it from a plain main,
 * before any goc runtime started in this process). */
int goc_explore(const goc_explore_opts *opts, int (*fn)(int argc, char **argv), int argc, char **argv,
                goc_explore_result *res);

#ifdef __cplusplus
}
#endif
#endif
