/* goc/time.h - the monotonic clock, sleeping, and timers (Go's time package).
 *
 * Time is an int64_t count of nanoseconds. goc_now() reads the monotonic
 * clock: it never jumps with the wall clock and is the same clock on every
 * thread. Durations are relative (GOC_MS(5)); every `_until` function in goc
 * (goc_recv_until, goc_select_until, goc_mutex_lock_until, ...) takes an
 * absolute deadline on this clock, such as goc_now() + GOC_MS(5). A deadline
 * already past makes the call non-blocking: it does what it can do at once and
 * otherwise returns GOC_ETIMEDOUT. GOC_NO_DEADLINE means "wait forever".
 *
 * Waits never end early: a sleep or timer fires at or after its time, as
 * soon after as a worker gets to it (typically tens of microseconds on an
 * idle machine). Timers live in per-worker heaps, so an idle worker sleeps
 * exactly until the next one is due.
 *
 * Called from a goroutine, blocking calls park it and its worker runs other
 * goroutines; called from a thread goc did not start, they block that thread.
 * Every function is thread-safe.
 */
#ifndef GOC_TIME_H
#define GOC_TIME_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct goc_chan;

/* ---- clock and durations ------------------------------------------------- */

#define GOC_NS(x)  ((int64_t)(x))
#define GOC_US(x)  ((int64_t)(x) * 1000)
#define GOC_MS(x)  ((int64_t)(x) * 1000000)
#define GOC_SEC(x) ((int64_t)(x) * 1000000000)
#define GOC_MIN(x) ((int64_t)(x) * 60000000000)
/* The deadline that never comes: a wait that only ends by its event. */
#define GOC_NO_DEADLINE INT64_MAX

/* Nanoseconds on the monotonic clock (CLOCK_MONOTONIC; arbitrary origin). */
int64_t goc_now(void);
/* now + ns, saturating at GOC_NO_DEADLINE instead of overflowing: the safe
 * way to turn a duration into a deadline. */
int64_t goc_deadline_in(int64_t ns);

/* ---- sleeping ------------------------------------------------------------ */

/* Pause the calling goroutine (or thread) for at least ns nanoseconds.
 * ns <= 0 returns at once, like Go. Returns 0, or a negative GOC_E* code
 * when the runtime could not start (foreign thread, out of memory). */
int goc_sleep(int64_t ns);
/* Pause until goc_now() >= deadline; a past deadline returns at once. */
int goc_sleep_until(int64_t deadline);

/* ---- one-shot channels --------------------------------------------------- */

/* A channel (capacity 1, elements int64_t) that receives the time it fired
 * (goc_now(), never before now + ns) once, after ns nanoseconds (ns <= 0:
 * at once). The caller owns the returned reference and releases it with
 * goc_chan_release when done, received or not: the pending timer keeps its
 * own reference until it fires, so nothing leaks and nothing is freed under
 * it. NULL with errno ENOMEM on failure. Like Go's time.After: to give up
 * early and free the timer at once, use a goc_timer instead. */
struct goc_chan *goc_after(int64_t ns);

/* ---- timers -------------------------------------------------------------- */

/* A timer fires once, after a duration: a channel timer sends the fire time
 * (int64_t) on its channel (capacity 1: a send that finds it full is
 * dropped); a function timer (goc_after_func) runs fn(arg) in a new
 * goroutine. stop and reset follow Go 1.23's rules: once they return, no
 * stale value is left in the channel, and their result tells whether the
 * timer was still active (had not fired, or fired into the channel without
 * anyone receiving the value). Stop, reset and release may be called from
 * any goroutine or thread, concurrently with each other and with firing. */
typedef struct goc_timer goc_timer;

/* A channel timer that fires after ns (ns <= 0: at once). NULL with errno
 * ENOMEM on failure. Release it with goc_timer_release. */
goc_timer *goc_timer_new(int64_t ns);
/* A function timer: fn(arg) runs in a new goroutine after ns (Go's
 * time.AfterFunc). NULL with errno EINVAL (fn NULL) or ENOMEM. */
goc_timer *goc_after_func(int64_t ns, void (*fn)(void *arg), void *arg);
/* The channel of a channel timer (NULL for a function timer or NULL t). It
 * belongs to the timer and is valid until goc_timer_release; retain it to
 * keep it longer. Receive from it (or select on it) to wait for the timer. */
struct goc_chan *goc_timer_chan(goc_timer *t);
/* Stop the timer: 1 if it was active (so it will not fire, or its unreceived
 * value was discarded; a function timer's fn will not run), 0 if it had
 * already fired (value received, or fn started) or was stopped; GOC_EINVAL
 * for NULL. After it returns, nothing more arrives until a reset. */
int goc_timer_stop(goc_timer *t);
/* Re-arm to fire ns from now (ns <= 0: at once), discarding any unreceived
 * value; returns what goc_timer_stop would have (1 active, 0 not), or
 * GOC_EINVAL. */
int goc_timer_reset(goc_timer *t, int64_t ns);
/* Free the timer (NULL is ignored). A channel timer is stopped and its
 * channel released (retain the channel first if a goroutine still waits on
 * it). A function timer that has not fired still runs fn when due, like an
 * unreferenced time.AfterFunc: stop it first to cancel it. */
void goc_timer_release(goc_timer *t);

/* ---- tickers ------------------------------------------------------------- */

/* A ticker sends the time (int64_t) on its channel every period. The
 * channel holds one tick: a reader slower than the period gets the ticks
 * it has time for and the others are dropped (as in Go), so a slow reader
 * never sees a burst. */
typedef struct goc_ticker goc_ticker;

/* A ticker with the given period (> 0, else NULL with errno EINVAL);
 * NULL with errno ENOMEM on failure. Release it with goc_ticker_release. */
goc_ticker *goc_ticker_new(int64_t period);
/* Its channel: owned by the ticker, valid until goc_ticker_release. */
struct goc_chan *goc_ticker_chan(goc_ticker *t);
/* Stop ticking; an unreceived tick is discarded. 0 or GOC_EINVAL. */
int goc_ticker_stop(goc_ticker *t);
/* Tick every period from now on (restarting a stopped ticker); an
 * unreceived tick is discarded. 0, or GOC_EINVAL (NULL, period <= 0). */
int goc_ticker_reset(goc_ticker *t, int64_t period);
/* Stop the ticker and free it with its channel (NULL is ignored). */
void goc_ticker_release(goc_ticker *t);

/* The channel of a ticker that ticks every period for the rest of the
 * program (Go's time.Tick), for a loop that never ends: the caller owns a
 * reference, but releasing it does not stop the ticker. Use goc_ticker_new
 * for anything that must stop. NULL with errno EINVAL (period <= 0) or
 * ENOMEM. */
struct goc_chan *goc_tick(int64_t period);

#ifdef __cplusplus
}
#endif
#endif
