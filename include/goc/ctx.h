/* goc/ctx.h - contexts: cancellation, deadlines and request-scoped values
 * (Go's context package).
 *
 * A context is handed down the call tree of one piece of work. Deriving a
 * context makes a child; cancelling a context (explicitly, by its deadline,
 * or by its last reference being released) cancels every context derived
 * from it, at once and all the way down, but never its parent. Work watches
 * its context with goc_ctx_done (a channel that is closed on cancellation:
 * put it in a select) or polls goc_ctx_err.
 *
 * Ownership: each with_* function returns a new context with one reference,
 * owned by the caller. goc_ctx_release drops a reference; when the last one
 * goes, the context is cancelled (GOC_ECANCELED, unless it was cancelled
 * already), detached from its parent, and freed once nothing derived from
 * it needs it. So a function that derives a context and releases it on
 * return gets Go's `defer cancel()`, and a long-lived parent does not
 * accumulate its finished children. A goroutine that must keep a context
 * beyond its creator's release takes its own reference (goc_ctx_retain).
 * A call on a context needs a reference held for its whole duration.
 *
 * Deadlines are absolute, on the goc_now() clock; a child's deadline is
 * never later than its parent's. All functions are thread-safe and work
 * from goroutines and from threads goc did not start.
 */
#ifndef GOC_CTX_H
#define GOC_CTX_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct goc_chan;
typedef struct goc_ctx goc_ctx;

/* The root of every context tree: never cancelled, no deadline, no values.
 * A static object: retain and release do nothing to it. */
goc_ctx *goc_ctx_background(void);

/* A child of parent that is cancelled by goc_ctx_cancel, by its release, or
 * when parent is. NULL with errno EINVAL (parent NULL) or ENOMEM. If parent
 * is already cancelled, the child is born cancelled with parent's error. */
goc_ctx *goc_ctx_with_cancel(goc_ctx *parent);
/* The same, also cancelled with GOC_ETIMEDOUT when goc_now() reaches
 * deadline (at once if it has passed). A parent with an earlier deadline
 * wins: the child's deadline is then the parent's. */
goc_ctx *goc_ctx_with_deadline(goc_ctx *parent, int64_t deadline);
/* with_deadline(parent, goc_now() + ns). */
goc_ctx *goc_ctx_with_timeout(goc_ctx *parent, int64_t ns);
/* A child carrying (key, value): goc_ctx_value(child or any descendant,
 * key) finds value. Keys are compared by address: use the address of a
 * static object of your own (static const char my_key;). Neither key nor
 * value is copied or freed. It is cancelled exactly when parent is, and
 * cannot be cancelled on its own. NULL with errno EINVAL or ENOMEM. */
goc_ctx *goc_ctx_with_value(goc_ctx *parent, const void *key, void *value);

/* The value of the nearest context on the chain from ctx up to the root
 * whose key is key, or NULL. */
void *goc_ctx_value(goc_ctx *ctx, const void *key);

/* Cancel ctx and all its descendants with GOC_ECANCELED: their done
 * channels close and goc_ctx_err returns the error from then on. A context
 * already cancelled keeps its first error. 0, or GOC_EINVAL for NULL and
 * for contexts that cannot be cancelled on their own (background, value). */
int goc_ctx_cancel(goc_ctx *ctx);

/* A channel that is closed when ctx is cancelled (receive on it, or put it
 * in a select, to wait for that). Owned by ctx: valid while you hold your
 * reference. NULL for a context that can never be cancelled (background
 * and values derived from it alone), which in a select is a case that never
 * runs, as Go's nil Done channel. Also NULL (errno ENOMEM) if the channel
 * could not be made; check goc_ctx_err then. */
struct goc_chan *goc_ctx_done(goc_ctx *ctx);

/* 0 while ctx is not cancelled; then GOC_ECANCELED (cancelled or released)
 * or GOC_ETIMEDOUT (its deadline, or an ancestor's, passed). GOC_EINVAL for
 * NULL. Once non-zero it never changes. */
int goc_ctx_err(goc_ctx *ctx);

/* If ctx has a deadline (its own or inherited), store it in *deadline (may
 * be NULL) and return true; else store GOC_NO_DEADLINE and return false. */
bool goc_ctx_deadline(goc_ctx *ctx, int64_t *deadline);

/* Take another reference (NULL and background are ignored). */
void goc_ctx_retain(goc_ctx *ctx);
/* Drop a reference; the last one cancels, detaches and frees the context
 * (see above). NULL and background are ignored. */
void goc_ctx_release(goc_ctx *ctx);

/* Sleep ns nanoseconds unless ctx is cancelled first: 0 after the full
 * sleep, else goc_ctx_err(ctx). GOC_EINVAL for NULL. */
int goc_ctx_sleep(goc_ctx *ctx, int64_t ns);

#ifdef __cplusplus
}
#endif
#endif
