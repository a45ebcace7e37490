/* pat.h - helpers shared by the pattern implementations (src/patterns/;
 * never installed).
 *
 * Every pattern goroutine owns a heap block ("state") holding the references
 * it took (inputs, done, its output) and any value buffer; it releases them
 * and frees the block as its last act, so a goroutine that ends leaves
 * nothing behind. The caller of a pattern function keeps only the
 * references it was handed.
 *
 * The element size of a channel is read from the channel itself (chan's
 * hchan.h; the field is immutable after goc_chan_make), since the public
 * API has no accessor for it.
 */
#ifndef GOC_PATTERNS_PAT_H
#define GOC_PATTERNS_PAT_H

#include "../chan/hchan.h"

#include <errno.h>
#include <stdlib.h>

/* The elem_size of a channel (c not NULL). */
static inline size_t goc__pat_elem_size(const goc_chan *c)
{
	return c->elem_size;
}

/* Spawn fn(arg) as a pattern goroutine labelled label (shown in dumps and
 * leak reports), created at the caller's site. 0 or GOC_ENOMEM. The
 * default stack size: only that one is cached per P. */
#define goc__pat_spawn(label, fn, arg) \
	goc__go_at(&(goc_go_attr){.name = (label)}, (fn), (arg), 0, false, GOC__SITE())

/* NULL with errno set to err (a positive errno value). */
static inline void *goc__pat_fail(int err)
{
	errno = err;
	return NULL;
}

/* goc_send_or_done / goc_recv_or_done watching two done channels (either
 * may be NULL): GOC_ECANCELED when either fires. */
int goc__pat_send2(goc_chan *done, goc_chan *stop, goc_chan *c, const void *elem);
int goc__pat_recv2(goc_chan *done, goc_chan *stop, goc_chan *c, void *out);

/* Close c if it is not closed yet (patterns close their internal stop
 * channels from several goroutines). */
static inline void goc__pat_close(goc_chan *c)
{
	(void)goc_close(c);
}

#endif
