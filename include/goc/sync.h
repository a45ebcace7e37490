/* goc/sync.h - goroutine-aware synchronisation. Waits park goroutines (and
 * block foreign threads); every wait has a deadline form. */
#ifndef GOC_SYNC_H
#define GOC_SYNC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* goc_waitgroup: wait for a collection of goroutines to finish (Go's
 * sync.WaitGroup). Zero-initialised or GOC_WAITGROUP_INIT; no destroy. */
typedef struct goc_waitgroup {
	_Atomic uint64_t state;  /* counter << 32 | waiters */
	_Atomic uint32_t lock;   /* guards waiters */
	void *waiters;
} goc_waitgroup;
#define GOC_WAITGROUP_INIT {0, 0, 0}

/* Add delta (may be negative) to the counter; when it reaches zero every
 * waiter is released. GOC_ENEGATIVE (state unchanged) if it would go below
 * zero; GOC_EINVAL for NULL. */
int goc_waitgroup_add(goc_waitgroup *wg, int delta);
/* goc_waitgroup_add(wg, -1). */
int goc_waitgroup_done(goc_waitgroup *wg);
/* Block until the counter is zero. The group may be reused afterwards. */
int goc_waitgroup_wait(goc_waitgroup *wg);
/* As wait, giving up at deadline (goc_now clock): GOC_ETIMEDOUT. */
int goc_waitgroup_wait_until(goc_waitgroup *wg, int64_t deadline);

#ifdef __cplusplus
}
#endif
#endif
