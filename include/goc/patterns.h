/* goc/patterns.h - the Go concurrency patterns as library functions: the
 * or-channel, or-done, tee, bridge, generators, pipeline stages, fan-out
 * and fan-in, rate limiters, heartbeats, replicated requests and stewards
 * (the patterns of "Concurrency in Go", chapter 4, and Go's x/time/rate).
 * docs/patterns/ explains each one; examples/pattern_*.c run them.
 *
 * Rules every function here keeps:
 *   - It takes a done channel or a context. When done is closed (or the
 *     context cancelled) every goroutine it started returns promptly, closes
 *     the channels it was sending on and releases what it holds: nothing
 *     leaks, nothing stays blocked. A NULL done means "never cancelled" (as
 *     goc_ctx_done of a context that cannot be cancelled, and Go's nil
 *     channel); the goroutines then end only when their input ends.
 *   - Channel ownership: a function returning a channel gives the caller one
 *     reference (release it when done reading). The goroutines started take
 *     their own references to the input channels and to done, so the caller
 *     may release its references to them at once.
 *   - Stream helpers carry values of any size: the output channel has the
 *     elem_size of the input. Values are copied (value semantics); a stage
 *     that must not lose values is fed by a sender that checks the result
 *     of its sends.
 *   - Bad input (NULL where a channel or function is required, n == 0,
 *     element sizes that do not match, a rate <= 0) is reported: NULL with
 *     errno EINVAL for constructors, GOC_EINVAL otherwise. Out of memory:
 *     errno ENOMEM / GOC_ENOMEM. Nothing aborts.
 *   - Channels named "done" are signal channels that get closed, never sent
 *     on; a value received from one counts as done too.
 */
#ifndef GOC_PATTERNS_H
#define GOC_PATTERNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chan.h"

#ifdef __cplusplus
extern "C" {
#endif

struct goc_ctx;

/* ---- for-select building blocks -------------------------------------------
 * The two waits every pattern loop is made of, so that a loop reads as Go's
 *
 *	for (long i = 0; goc_send_or_done(done, out, &i) == 0; i++)
 *		;
 *	while (goc_recv_or_done(done, in, &v) == 0)
 *		use(v);
 */

/* Send the value at elem on c unless done closes first. 0 when sent,
 * GOC_ECANCELED when done closed first (or both were ready and done was
 * picked), GOC_ECLOSED if c is closed, GOC_EINVAL for a NULL c. */
int goc_send_or_done(goc_chan *done, goc_chan *c, const void *elem);
/* Receive from c into out (NULL: discard) unless done closes first. 0 with
 * a value, GOC_ECLOSED once c is closed and drained, GOC_ECANCELED when
 * done closed first, GOC_EINVAL for a NULL c. */
int goc_recv_or_done(goc_chan *done, goc_chan *c, void *out);
/* Is done closed? Never blocks (the check-then-work form of the for-select
 * loop: `while (!goc_is_done(done)) work();`). false for NULL. */
bool goc_is_done(goc_chan *done);

/* ---- the or-channel -------------------------------------------------------- */

/* A signal channel (elem_size 0) that is closed as soon as any of the n
 * channels in chans is closed (or delivers a value, which is consumed, as
 * with Go's or()). Any n >= 1, in O(n) memory, with one waiting goroutine
 * whatever n is (not one per level). NULL entries never fire (nil
 * channels). chans is copied: the caller may reuse or free the array. To
 * stop waiting early, close the returned channel: the waiter then ends and
 * releases everything. Caller owns the result (release it). NULL with errno
 * EINVAL (chans NULL, n == 0) or ENOMEM. */
goc_chan *goc_or(goc_chan *const *chans, size_t n);

/* ---- stream helpers -------------------------------------------------------
 * Each returns a new unbuffered channel carrying the values described and
 * closed when its input ends or done closes, and starts one goroutine that
 * forwards into it. */

/* The values of in, until in is closed or done closes (Go's orDone): lets a
 * reader range over a channel it does not control and still stop on done. */
goc_chan *goc_or_done(goc_chan *done, goc_chan *in);
/* Each value of in goes to both outs[0] and outs[1] (in either order) before
 * the next is read, so the slower reader paces both. On success outs holds
 * two new channels owned by the caller. 0, GOC_EINVAL, GOC_ENOMEM. */
int goc_tee(goc_chan *done, goc_chan *in, goc_chan *outs[2]);
/* Flatten a channel of channels: chans carries goc_chan * values (its
 * elem_size must be sizeof(goc_chan *)); the values of each received channel
 * are forwarded in turn, in order, until it is closed, then the next one.
 * Each channel received is owned by the bridge from then on (the sender
 * hands over its reference; a send that did not happen hands over nothing)
 * and released once drained or on done. Inner channels of another elem_size
 * than elem_size, and NULL ones, are released and skipped. */
goc_chan *goc_bridge(goc_chan *done, goc_chan *chans, size_t elem_size);

/* ---- generators ----------------------------------------------------------- */

/* values[0], values[1], ..., values[count-1], values[0], ... forever (until
 * done). values (count * elem_size bytes) is copied. count >= 1; values may
 * be NULL only when elem_size is 0. */
goc_chan *goc_repeat(goc_chan *done, const void *values, size_t count, size_t elem_size);
/* Whatever fn produces: each round calls fn(arg, out) with out pointing to
 * elem_size bytes; fn returns 0 to send them, anything else to end the
 * stream (the channel is then closed). fn runs in the generator goroutine;
 * the channel closes after fn's last call, so arg may be freed once a
 * receive reports GOC_ECLOSED. */
goc_chan *goc_repeat_fn(goc_chan *done, int (*fn)(void *arg, void *out), void *arg, size_t elem_size);
/* The first n values of in (fewer if in closes first), then closed. n == 0
 * gives a channel that is already closed. in is not drained or closed. */
goc_chan *goc_take(goc_chan *done, goc_chan *in, size_t n);

/* ---- pipeline stages, fan-out and fan-in ---------------------------------- */

/* A stage function: read the input value at in, write the output value at
 * out (out_elem_size bytes, zeroed before each call), and return what to do
 * with it. Errors belong in the output value (a struct with an error field),
 * so they reach the goroutine that can decide what to do about them. */
typedef int (*goc_stage_fn)(void *arg, const void *in, void *out);
enum {
	GOC_STAGE_SEND = 0,  /* send out and go on */
	GOC_STAGE_SKIP = 1,  /* send nothing for this input (a filter) */
	GOC_STAGE_STOP = 2   /* send nothing and stop: the output closes (any
	                        other value does the same) */
};

/* A pipeline stage: for each value of in, fn, and the output (if any) on
 * the returned channel of out_elem_size-byte values with capacity cap (0:
 * unbuffered). Order is kept. Closed when in closes, fn stops, or done. */
goc_chan *goc_stage(goc_chan *done, goc_chan *in, goc_stage_fn fn, void *arg,
                    size_t out_elem_size, size_t cap);
/* Fan-out and fan-in in one: workers goroutines (1..65536) each run the
 * stage loop on the same in, sending on one output; at most `workers` calls
 * of fn run at once (bounded parallelism). Output order is the order of
 * completion. fn must be safe to call concurrently with the same arg. One
 * GOC_STAGE_STOP stops every worker. Closed once every worker has ended. */
goc_chan *goc_pool(goc_chan *done, goc_chan *in, size_t workers, goc_stage_fn fn, void *arg,
                   size_t out_elem_size, size_t cap);
/* Fan-in: the values of the n channels in ins (all of one elem_size, none
 * NULL) on one channel of capacity cap, closed once every input is closed
 * (or done). Values of one input keep their order; inputs interleave. One
 * goroutine per input. */
goc_chan *goc_merge(goc_chan *done, goc_chan *const *ins, size_t n, size_t cap);

/* ---- rate limiting: token buckets ------------------------------------------
 * A limiter holds up to `burst` tokens and gains `rate` tokens per second;
 * each event takes one (or n). It starts full. Waits are reservations (as in
 * Go's x/time/rate): a waiter takes its tokens at once, possibly into debt,
 * and sleeps until the debt is paid, so waiters are served first come,
 * first served and a wait that is cancelled gives back what no later
 * reservation depends on. A multi-tier limiter (goc_limiter_all) admits an
 * event only when every one of its limiters does, reserving on all of them
 * together. Limiters are thread-safe and reference counted. */
typedef struct goc_limiter goc_limiter;

/* A token bucket: rate tokens per second (> 0, finite), burst tokens at
 * most (>= 1). NULL with errno EINVAL or ENOMEM. */
goc_limiter *goc_limiter_new(double rate, int64_t burst);
/* Tokens per second for "one event every interval ns" (interval > 0). */
static inline double goc_limit_every(int64_t interval)
{
	return interval > 0 ? 1e9 / (double)interval : 0.0;
}
/* A limiter that admits an event only when each of the n limiters does:
 * tiers (per second and per minute) or resources (disk and network). It
 * takes a reference to each (they may be shared by other combinations) and
 * may itself be combined. NULL with errno EINVAL (ls NULL, n == 0, a NULL
 * entry) or ENOMEM. */
goc_limiter *goc_limiter_all(goc_limiter *const *ls, size_t n);
/* Take one token now if there is one (every tier for a combined limiter):
 * true if the event may happen now. false for NULL. */
bool goc_limiter_allow(goc_limiter *l);
/* Wait (park) until one token is available and take it. ctx may be NULL
 * (no cancellation). 0; the context's error when it is cancelled first (the
 * tokens are given back) or GOC_ETIMEDOUT at once when the wait would end
 * after the context's deadline; GOC_EINVAL for NULL l. */
int goc_limiter_wait(goc_limiter *l, struct goc_ctx *ctx);
/* The same for n tokens at once; GOC_EINVAL if n < 1 or n exceeds a burst
 * (it could never be granted). */
int goc_limiter_wait_n(goc_limiter *l, struct goc_ctx *ctx, int64_t n);
/* The tokens available now (for a combined limiter, the fewest of any
 * tier); may be negative while waiters are in debt. 0 for NULL. */
double goc_limiter_tokens(goc_limiter *l);
void goc_limiter_retain(goc_limiter *l);
/* Drop a reference (NULL is ignored). Waiters must hold their own. */
void goc_limiter_release(goc_limiter *l);

/* ---- heartbeats ------------------------------------------------------------
 * A heartbeat lets a goroutine show it is alive: it pulses on a signal
 * channel (capacity 1; a pulse nobody has taken yet absorbs the next, so a
 * worker never blocks on its heartbeat) at the start of each unit of work
 * (goc_heartbeat_beat) and, while it waits in goc_heartbeat_select, every
 * interval. A supervisor, or a test, reads the channel: pulses mean the
 * goroutine is healthy; silence for longer than the interval means it is
 * stuck. */
typedef struct goc_heartbeat goc_heartbeat;

/* A heartbeat that pulses every interval ns while its owner waits in
 * goc_heartbeat_select (interval 0: only explicit beats). NULL with errno
 * EINVAL (interval < 0) or ENOMEM. */
goc_heartbeat *goc_heartbeat_new(int64_t interval);
/* The channel to watch: a signal channel that receives the pulses. Owned by
 * the heartbeat (retain it to keep it longer). NULL for NULL. */
goc_chan *goc_heartbeat_chan(goc_heartbeat *hb);
/* Pulse now, without blocking (a unit of work starts). NULL is ignored. */
void goc_heartbeat_beat(goc_heartbeat *hb);
/* goc_select(cases, n), pulsing every interval while it waits: the
 * for-select loop of a goroutine with an interval heartbeat. Returns what
 * goc_select returns (the index of the case that ran, or an error); with a
 * NULL hb it is goc_select. */
int goc_heartbeat_select(goc_heartbeat *hb, goc_case *cases, size_t n);
void goc_heartbeat_retain(goc_heartbeat *hb);
void goc_heartbeat_release(goc_heartbeat *hb);  /* NULL is ignored */

/* ---- replicated requests ---------------------------------------------------
 * Run the same request on n replicas at once, take the first answer, cancel
 * the rest: latency becomes the fastest replica's. */

/* A replica: do the work for replica number `replica` (0..n-1), honouring
 * ctx (cancelled once another replica has won), write the answer at result
 * (result_size bytes) and return 0, or return a negative GOC_E* code. */
typedef int (*goc_replica_fn)(struct goc_ctx *ctx, void *arg, int replica, void *result);

/* Start n replicas (1..65536), each in its own goroutine with a child of
 * ctx (NULL: background), wait for the first that returns 0, copy its
 * answer into result and cancel the others. Returns the winner's index
 * (>= 0); when every replica fails, the first error; the context's error if
 * it is cancelled first (every replica is then cancelled); GOC_EINVAL (n,
 * fn, result NULL with result_size > 0) or GOC_ENOMEM. It does not wait for
 * the cancelled replicas: they end on their own. If arg_size > 0, the
 * replicas get a private copy of arg_size bytes at arg (freed when the last
 * one ends), so arg may live on the caller's stack; otherwise arg itself,
 * which must then stay valid until every replica has returned. */
int goc_replicate(struct goc_ctx *ctx, size_t n, goc_replica_fn fn, const void *arg, size_t arg_size,
                  void *result, size_t result_size);

/* ---- stewards: restarting unhealthy goroutines ------------------------------
 * A steward runs a ward goroutine and watches its heartbeat; when no pulse
 * arrives within the timeout, it closes the ward's done channel and starts a
 * new ward. A ward that is truly stuck cannot be stopped from outside (in C,
 * as in Go): it is abandoned, with its own references to its done channel
 * and heartbeat, which it releases if it ever returns. */

/* A ward: work until done is closed, pulsing hb (goc_heartbeat_beat, or by
 * waiting in goc_heartbeat_select, whose interval is timeout / 2). */
typedef void (*goc_ward_fn)(goc_chan *done, goc_heartbeat *hb, void *arg);
typedef struct goc_steward goc_steward;

/* Start a steward of fn(done, hb, arg) that restarts it whenever its
 * heartbeat is silent for timeout ns (> 0; a ward that returned is silent
 * too). fn and arg are shared by every incarnation. The steward ends (closing the current ward's done) when done is
 * closed or goc_steward_stop is called. NULL with errno EINVAL or ENOMEM. */
goc_steward *goc_steward_start(goc_chan *done, int64_t timeout, goc_ward_fn fn, void *arg);
/* Wards started so far (1 + restarts). 0 for NULL. */
uint64_t goc_steward_starts(goc_steward *s);
/* Stop the steward and wait (at most until deadline, absolute) for it to
 * have closed the current ward's done channel and ended. 0, GOC_ETIMEDOUT,
 * GOC_EINVAL. Calling it again is harmless. */
int goc_steward_stop(goc_steward *s, int64_t deadline);
/* Free the steward (stopping it first, waiting as long as it takes). */
void goc_steward_release(goc_steward *s);

#ifdef __cplusplus
}
#endif
#endif
