/* debug.h - what the files of src/debug/ share (never installed).
 *
 *   registry.c   consistent-enough snapshots of the G registry (sched's
 *                gchunks), the frame-pointer walk of a parked goroutine's
 *                stack, and the dump format (goc_dump, leak reports)
 *   symbolize.c  address -> function name from the ELF symbol tables
 *   leak.c       goc_leakcheck, goc_leakcheck_baseline, GOC_DEBUG=leaks
 *   stats.c      goc_stats
 *   trace.c      per-thread event buffers, Chrome trace JSON
 *   signal.c     the SIGQUIT dump thread
 *   report.c     the fatal reports (deadlock, stack overflow) and the
 *                goc_main start/stop hooks
 *
 * The debug module only reads the scheduler's data: G records, per-P
 * counters, under the rules sched.h states (registry: glock for the chunk
 * list, `published` with acquire for the slots; every other field racily).
 * Lock order, as sched's: sched.lock -> glock; debug's own locks (the
 * baseline, the trace session) are never held while taking either. */
#ifndef GOC_DEBUG_INTERNAL_H
#define GOC_DEBUG_INTERNAL_H

#include "../sched/sched.h"

#include <stdio.h>

/* One goroutine's record, copied out of its G (registry.c). */
typedef struct goc__gsnap {
	const goc__g *g;        /* the slot it was read from */
	uint64_t id, parent_id;
	uint32_t status;        /* G_RUNNABLE .. G_SYSCALL */
	int wait_reason;
	const void *wait_obj;
	int64_t wait_since;     /* CLOCK_MONOTONIC_COARSE ns */
	int64_t created_at;     /* idem */
	const char *file, *func, *name;
	int line;
	void (*fn)(void *);     /* entry function */
	void *sp;               /* saved stack pointer (meaningful when parked) */
	char *stack_lo;
	size_t stack_size;
} goc__gsnap;

/* Copy every live goroutine (status not IDLE/DEAD) into a malloc'd array
 * sorted by id; *n gets the count. Returns NULL with *n = 0 when there are
 * none or memory is short (then *n = -1). Safe from any thread, and from
 * the deadlock path (sched.lock held). */
goc__gsnap *goc__debug_snapshot(int64_t *n);

/* True if g is the main goroutine goc_main started. */
bool goc__debug_is_main(const goc__gsnap *s);

/* Print one goroutine's paragraph (see goc/debug.h for the format); now is
 * a CLOCK_MONOTONIC_COARSE time. With backtrace, parked and runnable
 * goroutines get their stack walked. */
typedef struct goc__symctx goc__symctx;
void goc__debug_print_g(FILE *out, const goc__gsnap *s, int64_t now, goc__symctx *sym, bool backtrace);
/* The whole dump: header, then every goroutine. */
void goc__debug_dump_to(FILE *out, const char *header);

int64_t goc__debug_coarse_now(void);
/* "2.150 s", "35 ms", "3 minutes": a duration for humans. */
void goc__debug_fmt_duration(char *buf, size_t size, int64_t ns);
const char *goc__debug_state_name(const goc__gsnap *s);

/* Walk the saved frame-pointer chain of a goroutine that is not running:
 * fills pcs[0..max) with return addresses, innermost first, and returns
 * their count (0 when there is no saved context). lo_slack extends the
 * walkable range below the stack's low end (the overflow report walks an
 * overflowed stack into its gap). Reads go through process_vm_readv, so a
 * stack freed under the walk ends it instead of faulting. */
int goc__debug_backtrace(const goc__gsnap *s, size_t lo_slack, uintptr_t *pcs, int max);

/* ---- symbolize.c ---------------------------------------------------------
 * Symbol lookups for one report: modules (the executable, libgoc.so, libc,
 * ...) are opened on first use and released by goc__sym_free. Not
 * async-signal-safe (mallocs, opens files). */
goc__symctx *goc__sym_new(void);
void goc__sym_free(goc__symctx *c);
/* Name the function containing addr: *name (owned by c) and *off, and the
 * module path. false when unknown (then *module may still be set). */
bool goc__sym_lookup(goc__symctx *c, uintptr_t addr, const char **name, uintptr_t *off,
                     const char **module);

/* ---- leak.c, signal.c, trace.c: goc_main hooks --------------------------- */
void goc__leak_report_at_exit(void);    /* GOC_DEBUG=leaks */
void goc__sigquit_start(void);
void goc__sigquit_stop(void);
/* Threads of the debug module alive (the SIGQUIT dump thread); the
 * deadlock check in src/sched/runtime.c counts them as known. */
int goc__debug_threads(void);
void goc__trace_start_from_env(void);   /* GOC_TRACE */
void goc__trace_stop_at_exit(void);

#endif
