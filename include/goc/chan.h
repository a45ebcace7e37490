/* goc/chan.h - channels and select, with Go's semantics.
 *
 * A channel carries fixed-size values (elem_size bytes, copied in and out:
 * value semantics) between goroutines and foreign threads. Unbuffered
 * (cap 0): a send completes only when a receiver takes the value. Buffered:
 * a send waits only while the buffer is full. Values leave in the order they
 * were sent, and blocked senders and receivers are served first come, first
 * served. elem_size 0 makes a signal channel (value pointers may be NULL).
 *
 * Ownership: goc_chan_make returns one reference, owned by the caller. Each
 * party that may use the channel after its creator is done with it holds its
 * own reference (goc_chan_retain before handing it over, goc_chan_release
 * when done); a call on a channel needs a reference held for its whole
 * duration, by the caller or by someone sure to outlive the call. The last
 * release frees the channel; releasing it while goroutines are still blocked
 * on it is a bug, which goc survives by keeping (leaking) the channel.
 *
 * Operations by channel state (the table of Go's spec, with C error codes):
 *
 *   operation      NULL channel   open channel             closed channel
 *   goc_send       GOC_EINVAL     0 once delivered/queued  GOC_ECLOSED
 *   goc_recv       GOC_EINVAL     0 with the value         buffered values, then
 *                                                          GOC_ECLOSED, *out zeroed
 *   goc_close      GOC_EINVAL     0, wakes every waiter    GOC_ECLOSED
 *   goc_len/cap    0              count / capacity         count / capacity
 *   select case    never ready    ready when it can run    recv: ready (ok false)
 *                                                          send: ready (ok false)
 *
 * Go blocks forever on a nil channel outside select; goc returns GOC_EINVAL
 * instead (a NULL there is almost always a bug, and an error is easier to
 * find than a hang). Inside select a NULL channel disables its case, which is
 * the nil-channel idiom. Every call works from goroutines and from threads
 * goc did not start (which block on a futex instead of parking).
 */
#ifndef GOC_CHAN_H
#define GOC_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct goc_chan goc_chan;

/* ---- channels ------------------------------------------------------------ */

/* A channel of elem_size-byte values with room for cap of them (0:
 * unbuffered). Returns it with one reference owned by the caller, or NULL
 * with errno ENOMEM, or EINVAL when elem_size * cap overflows. */
goc_chan *goc_chan_make(size_t elem_size, size_t cap);
/* Take another reference (NULL is ignored). */
void goc_chan_retain(goc_chan *c);
/* Drop a reference; the last one frees the channel (NULL is ignored). */
void goc_chan_release(goc_chan *c);

/* Send a copy of elem_size bytes at elem (NULL allowed when elem_size is 0).
 * Blocks until a receiver took it (unbuffered) or it is in the buffer.
 * 0, GOC_ECLOSED if the channel is or becomes closed before the value is
 * taken (the value is then not delivered), GOC_EINVAL for a NULL channel. */
int goc_send(goc_chan *c, const void *elem);
/* Receive the next value into out (NULL: discard it). Blocks until there is
 * one. 0, or GOC_ECLOSED once the channel is closed and its buffer drained
 * (*out is then zeroed), GOC_EINVAL for a NULL channel. */
int goc_recv(goc_chan *c, void *out);
/* Non-blocking forms: GOC_EAGAIN where the blocking form would wait. */
int goc_try_send(goc_chan *c, const void *elem);
int goc_try_recv(goc_chan *c, void *out);
/* Deadline forms: deadline is absolute, on the goc_now() monotonic clock
 * (nanoseconds); GOC_ETIMEDOUT when it passes first. A deadline already past
 * makes them non-blocking (GOC_ETIMEDOUT where try_ gives GOC_EAGAIN). */
int goc_send_until(goc_chan *c, const void *elem, int64_t deadline);
int goc_recv_until(goc_chan *c, void *out, int64_t deadline);
/* Close: no more values will be sent. Blocked receivers get GOC_ECLOSED
 * (after the buffer drains), blocked senders GOC_ECLOSED. 0, GOC_ECLOSED if
 * it was already closed, GOC_EINVAL for NULL. */
int goc_close(goc_chan *c);
/* Values in the buffer now (a snapshot), and the capacity. 0 for NULL. */
size_t goc_len(goc_chan *c);
size_t goc_cap(goc_chan *c);

/* ---- select -------------------------------------------------------------- */

/* One case of a select. Build it with goc_case_send / goc_case_recv; read the
 * outcome with goc_case_ok. The fields are private. */
typedef struct goc_case {
	goc_chan *chan;       /* NULL: the case is never ready */
	void *elem;           /* send: the value; recv: where it goes (may be NULL) */
	unsigned char dir;    /* GOC__CASE_SEND or GOC__CASE_RECV */
	bool ok;              /* written by the select that ran this case */
} goc_case;

enum { GOC__CASE_NONE, GOC__CASE_SEND, GOC__CASE_RECV };

/* A case sending the value at elem (it must stay valid until select returns). */
static inline goc_case goc_case_send(goc_chan *c, const void *elem)
{
	goc_case k = { c, (void *)elem, GOC__CASE_SEND, false };
	return k;
}
/* A case receiving into out (NULL: discard the value). */
static inline goc_case goc_case_recv(goc_chan *c, void *out)
{
	goc_case k = { c, out, GOC__CASE_RECV, false };
	return k;
}

/* Wait until one of the n cases can run, run it and return its index. When
 * several can, one is chosen uniformly at random. A case on a closed channel
 * can always run: a receive then yields the zero value with ok false, a send
 * sends nothing with ok false. Cases whose channel is NULL never run; with
 * no case left (or n == 0) goc_select blocks forever, like Go's `select {}`.
 * The same channel may appear in several cases. GOC_EINVAL for bad cases. */
int goc_select(goc_case *cases, size_t n);
/* The same, with Go's `default`: GOC_EAGAIN when no case can run now. */
int goc_try_select(goc_case *cases, size_t n);
/* The same, waiting at most until deadline (absolute, goc_now() clock):
 * GOC_ETIMEDOUT when it passes first. */
int goc_select_until(goc_case *cases, size_t n, int64_t deadline);
/* After the select ran this case: true if the value was received (recv) or
 * delivered (send); false if the channel was closed. */
static inline bool goc_case_ok(const goc_case *c)
{
	return c && c->ok;
}

/* The element count of a case array (an array, not a pointer), for the
 * for-select idiom:
 *
 *	for (;;) {
 *		goc_case cs[] = { goc_case_recv(done, NULL), goc_case_recv(in, &v) };
 *		switch (GOC_SELECT(cs)) {
 *		case 0: return;                          // done was closed
 *		case 1: if (!goc_case_ok(&cs[1])) in = NULL; else use(v);
 *		        break;
 *		}
 *	}
 *
 * Building the array inside the loop makes `in = NULL` disable the case on
 * the next round, as setting a channel to nil does in Go. */
#define GOC_NCASES(cases) (sizeof(cases) / sizeof((cases)[0]))
#define GOC_SELECT(cases) goc_select((cases), GOC_NCASES(cases))
#define GOC_TRY_SELECT(cases) goc_try_select((cases), GOC_NCASES(cases))
#define GOC_SELECT_UNTIL(cases, deadline) goc_select_until((cases), GOC_NCASES(cases), (deadline))

/* ---- typed, directional channels ----------------------------------------
 * GOC_CHAN_DECLARE(ints, int) declares three handle types wrapping a
 * goc_chan*:  ints (both ends), ints_rx (receive end only), ints_tx (send
 * end only), and typed inline functions:
 *
 *   ints    ints_make(size_t cap)          .raw is NULL on error (errno set)
 *   ints_rx ints_rx_of(ints)               narrow to one end; there is no
 *   ints_tx ints_tx_of(ints)               conversion back
 *   int ints_send(ints_tx, int v)          ints_try_send, ints_send_until
 *   int ints_recv(ints_rx, int *out)       ints_try_recv, ints_recv_until
 *   int ints_close(ints_tx)                closing is the sender's job
 *   goc_case ints_case_send(ints_tx, const int *v), ints_case_recv(ints_rx, int *out)
 *   ints_retain/_release, ints_rx_retain/_release, ints_tx_retain/_release
 *   size_t ints_len(ints), ints_cap(ints)
 *
 * Sending on an ints_rx, receiving from or closing an ints_tx, turning a
 * one-way handle back into `ints`, or passing another struct type does not
 * compile (a wrong pointer type is diagnosed: an error with -Werror, or by
 * default from GCC 14). The value parameter of ints_send is an ordinary C
 * parameter, so arithmetic values convert as in any call; GOC_SEND /
 * GOC_RECV and friends (below) accept exactly the element type only.
 * T may be any complete object type except an array (wrap it in a struct).
 * A generator that makes its channel and returns only the _rx end confines
 * sending to itself: lexical confinement, checked by the compiler.
 *
 * Each handle is the size of a pointer; `.raw` is the goc_chan* for the
 * untyped API (the escape hatch; it does not carry the direction). */
#define GOC_CHAN_DECLARE(name, T)                                                          \
	typedef __typeof__(T) name##_elem;                                                 \
	typedef struct name { union { goc_chan *raw; goc_chan *goc__tx; goc_chan *goc__rx;  \
	                              name##_elem *goc__elem; }; } name;                   \
	typedef struct name##_rx { union { goc_chan *raw; goc_chan *goc__rx;                 \
	                                   name##_elem *goc__elem; }; } name##_rx;          \
	typedef struct name##_tx { union { goc_chan *raw; goc_chan *goc__tx;                 \
	                                   name##_elem *goc__elem; }; } name##_tx;          \
	static inline __attribute__((unused)) name name##_make(size_t cap)                 \
	{ name h; h.raw = goc_chan_make(sizeof(name##_elem), cap); return h; }             \
	static inline __attribute__((unused)) name##_rx name##_rx_of(name h)               \
	{ name##_rx r; r.raw = h.raw; return r; }                                          \
	static inline __attribute__((unused)) name##_tx name##_tx_of(name h)               \
	{ name##_tx t; t.raw = h.raw; return t; }                                          \
	static inline __attribute__((unused)) int name##_send(name##_tx h, name##_elem v)  \
	{ return goc_send(h.raw, &v); }                                                    \
	static inline __attribute__((unused)) int name##_try_send(name##_tx h, name##_elem v) \
	{ return goc_try_send(h.raw, &v); }                                                \
	static inline __attribute__((unused)) int name##_send_until(name##_tx h, name##_elem v, \
	                                                            int64_t deadline)      \
	{ return goc_send_until(h.raw, &v, deadline); }                                    \
	static inline __attribute__((unused)) int name##_recv(name##_rx h, name##_elem *out) \
	{ return goc_recv(h.raw, out); }                                                   \
	static inline __attribute__((unused)) int name##_try_recv(name##_rx h, name##_elem *out) \
	{ return goc_try_recv(h.raw, out); }                                               \
	static inline __attribute__((unused)) int name##_recv_until(name##_rx h, name##_elem *out, \
	                                                            int64_t deadline)      \
	{ return goc_recv_until(h.raw, out, deadline); }                                   \
	static inline __attribute__((unused)) int name##_close(name##_tx h)                \
	{ return goc_close(h.raw); }                                                       \
	static inline __attribute__((unused)) goc_case name##_case_send(name##_tx h,       \
	                                                                const name##_elem *v) \
	{ return goc_case_send(h.raw, v); }                                                \
	static inline __attribute__((unused)) goc_case name##_case_recv(name##_rx h,       \
	                                                                name##_elem *out)  \
	{ return goc_case_recv(h.raw, out); }                                              \
	static inline __attribute__((unused)) void name##_retain(name h) { goc_chan_retain(h.raw); } \
	static inline __attribute__((unused)) void name##_release(name h) { goc_chan_release(h.raw); } \
	static inline __attribute__((unused)) void name##_rx_retain(name##_rx h) { goc_chan_retain(h.raw); } \
	static inline __attribute__((unused)) void name##_rx_release(name##_rx h) { goc_chan_release(h.raw); } \
	static inline __attribute__((unused)) void name##_tx_retain(name##_tx h) { goc_chan_retain(h.raw); } \
	static inline __attribute__((unused)) void name##_tx_release(name##_tx h) { goc_chan_release(h.raw); } \
	static inline __attribute__((unused)) size_t name##_len(name h) { return goc_len(h.raw); } \
	static inline __attribute__((unused)) size_t name##_cap(name h) { return goc_cap(h.raw); } \
	typedef int goc__chan_declared_##name

/* Type-exact operations on any declared handle (GNU C: __typeof__ and
 * statement expressions). h must have the right end: GOC_SEND on an _rx
 * handle has no member goc__tx and does not compile. The value (or pointer)
 * must have exactly the element type: GOC_SEND(doubles_tx, 1) is rejected
 * (1 is an int), GOC_SEND(doubles_tx, 1.0) is fine. */
#define GOC__CHECK_ELEM(h, v)                                                              \
	_Static_assert(_Generic((v), __typeof__(*(h).goc__elem): 1, default: 0),           \
	               "goc: value type is not the element type of the channel")
#define GOC__CHECK_ELEM_PTR(h, p)                                                          \
	_Static_assert(_Generic((p), __typeof__((h).goc__elem): 1, default: 0),            \
	               "goc: pointer type is not a pointer to the element type of the channel")
#define GOC__CHECK_ELEM_CPTR(h, p)                                                         \
	_Static_assert(_Generic((p), __typeof__((h).goc__elem): 1,                          \
	                        const __typeof__(*(h).goc__elem) *: 1, default: 0),        \
	               "goc: pointer type is not a pointer to the element type of the channel")
#define GOC_SEND(h, v)                                                                     \
	__extension__({ GOC__CHECK_ELEM(h, v); __typeof__(*(h).goc__elem) goc__v = (v);    \
	                goc_send((h).goc__tx, &goc__v); })
#define GOC_TRY_SEND(h, v)                                                                 \
	__extension__({ GOC__CHECK_ELEM(h, v); __typeof__(*(h).goc__elem) goc__v = (v);    \
	                goc_try_send((h).goc__tx, &goc__v); })
#define GOC_RECV(h, p)                                                                     \
	__extension__({ GOC__CHECK_ELEM_PTR(h, p); goc_recv((h).goc__rx, (p)); })
#define GOC_TRY_RECV(h, p)                                                                 \
	__extension__({ GOC__CHECK_ELEM_PTR(h, p); goc_try_recv((h).goc__rx, (p)); })
#define GOC_CASE_SEND(h, p)                                                                \
	__extension__({ GOC__CHECK_ELEM_CPTR(h, p); goc_case_send((h).goc__tx, (p)); })
#define GOC_CASE_RECV(h, p)                                                                \
	__extension__({ GOC__CHECK_ELEM_PTR(h, p); goc_case_recv((h).goc__rx, (p)); })

#ifdef __cplusplus
}
#endif
#endif
