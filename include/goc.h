/* goc.h - Go's concurrency model for C11.
 *
 * The one public entry point: include this and link with -lgoc -pthread.
 * Each sub-header is readable on its own and documents its functions.
 */
#ifndef GOC_H
#define GOC_H

#include "goc/error.h"    /* GOC_E* codes, goc_strerror */
#include "goc/runtime.h"  /* goc_main, goc_go, goc_yield, goc_procs, ... */
#include "goc/chan.h"     /* channels and select */
#include "goc/time.h"     /* clock, sleep, timers, tickers */
#include "goc/sync.h"     /* waitgroup, mutex, rwmutex, once, cond, sema, errgroup */
#include "goc/ctx.h"      /* contexts: cancellation, deadlines, values */
#include "goc/io.h"       /* fds and sockets that park goroutines; goc_blocking */
#include "goc/patterns.h" /* or, or_done, tee, bridge, merge, pools, limiters, ... */
#include "goc/debug.h"    /* dump, leak check, stats, tracing */
#include "goc/testing.h"  /* seeded schedules, virtual time, explorer */

#endif
