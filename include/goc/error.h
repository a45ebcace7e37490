/* goc/error.h - error codes shared by every goc API.
 *
 * Functions that can fail return int: 0 on success, a negative GOC_E* code
 * otherwise. Where a POSIX errno exists for the condition the code is its
 * negation (as libuv does), so an I/O call can hand back -errno unchanged;
 * conditions with no errno (a closed channel) have codes below -4000.
 * Constructors that return pointers return NULL and set errno instead.
 */
#ifndef GOC_ERROR_H
#define GOC_ERROR_H

#include <errno.h>

#define GOC_EINVAL    (-EINVAL)    /* bad argument: NULL where an object is required, ... */
#define GOC_ENOMEM    (-ENOMEM)    /* out of memory (or address space, or mappings) */
#define GOC_EAGAIN    (-EAGAIN)    /* a try_ operation would block; select's default */
#define GOC_ETIMEDOUT (-ETIMEDOUT) /* a deadline passed before the operation completed */
#define GOC_ECANCELED (-ECANCELED) /* a context was cancelled */
#define GOC_EPERM     (-EPERM)     /* misuse: unlocking an unlocked mutex, ... */
#define GOC_EBUSY     (-EBUSY)     /* the object is in use (e.g. runtime already started) */
#define GOC_ECLOSED   (-4001)      /* the channel is closed (and, for receives, drained) */
#define GOC_ENEGATIVE (-4002)      /* a counter would go negative (waitgroup) */

/* A static, human-readable description of a GOC_E* code (or -errno). */
const char *goc_strerror(int err);

#endif
