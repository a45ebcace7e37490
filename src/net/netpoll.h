/* netpoll.h - what the net module's files share (never installed): the
 * poll descriptor of a registered fd and the calls that wait on it
 * (netpoll.c implements them; fdio.c and sock.c use them).
 *
 * An operation on an fd follows one pattern (fdio.c):
 *
 *     pd = goc__pd_get(fd, &err)           registered on first use
 *     goc__pd_op_begin(pd, fd)             the fd cannot be closed under us
 *     loop: try the system call; on EAGAIN goc__pd_wait(pd, dir, ...)
 *     goc__pd_op_end(pd)
 */
#ifndef GOC_NET_NETPOLL_H
#define GOC_NET_NETPOLL_H

#include "../internal.h"
#include "../os/poll.h"

#include <sys/socket.h>

typedef struct goc__pd goc__pd;

/* The poll descriptor of fd, registering fd (non-blocking, poller) if goc
 * has not seen it. NULL with *err = -errno (-EBADF for a closed fd). */
goc__pd *goc__pd_get(int fd, int *err);
/* The poll descriptor of an fd the kernel has just created (socket, accept):
 * registers it, replacing whatever stale record the slot held. */
goc__pd *goc__pd_new(int fd, int *err);
/* The poll descriptor of fd if goc knows fd, else NULL (no registration). */
goc__pd *goc__pd_lookup(int fd);

/* Start an operation on fd through pd: 0, or GOC_ECLOSED when the fd is
 * being closed (or pd now stands for another fd). Every 0 is paired with
 * one goc__pd_op_end. */
int  goc__pd_op_begin(goc__pd *pd, int fd);
void goc__pd_op_end(goc__pd *pd);

/* goc__pd_wait's result when the done channel was closed (not a GOC_E*
 * code: the caller turns it into its context's error). */
#define GOC__PD_DONE (-4999)

/* Wait until pd's fd may be ready for events (GOC_FD_READ|GOC_FD_WRITE).
 * Returns the ready events (> 0), GOC_ETIMEDOUT, GOC_ECLOSED, or
 * GOC__PD_DONE when done (a context's done channel; may be NULL) closed.
 * Call it between goc__pd_op_begin and _end, after the operation found
 * nothing to do (EAGAIN): readiness noticed since then is never lost. */
int goc__pd_wait(goc__pd *pd, int events, int64_t deadline, struct goc_chan *done);
/* The same for goc_fd_wait, which has no failed operation behind it:
 * forgets readiness seen before, asks the kernel (poll(2), no timeout),
 * then waits as above. */
int goc__pd_wait_fresh(goc__pd *pd, int fd, int events, int64_t deadline, struct goc_chan *done);

/* goc_connect ending by deadline, and by ctx when not NULL (fdio.c). */
int goc__connect_within(int fd, const struct sockaddr *addr, socklen_t addrlen, int64_t deadline,
                        struct goc_ctx *ctx);

/* Cached facts about the fd, learnt on first need (0 = not known yet). */
enum { GOC__PD_SOCK_UNKNOWN = 0, GOC__PD_SOCK_NOT = 1, GOC__PD_SOCK_STREAM_INET = 2,
       GOC__PD_SOCK_OTHER = 3 };
int  goc__pd_sockkind(goc__pd *pd, int fd);
void goc__pd_set_sockkind(goc__pd *pd, int kind);
/* A Unix listener's socket file, removed by goc_fd_close (pd owns path). */
void goc__pd_set_unlink_path(goc__pd *pd, char *path);

#endif
