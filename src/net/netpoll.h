/* netpoll.h - what the net module's files share (never installed): the
 * poll descriptor of a registered fd and the calls that wait on it
 * (netpoll.c implements them; fdio.c and sock.c use them).
 *
 * An operation on an fd follows one pattern (fdio.c):
 *
 *     pd = goc__pd_get(fd, &err)                   registered on first use
 *     goc__pd_op_begin(pd, fd, dir, deadline, done)
 *             the fd cannot be closed under us, and we hold dir's op lock
 *     loop: try the system call; on EAGAIN goc__pd_wait(pd, dir, ...)
 *     goc__pd_op_end(pd, dir)
 */
#ifndef GOC_NET_NETPOLL_H
#define GOC_NET_NETPOLL_H

#include "../internal.h"
#include "../os/poll.h"

#include <sys/socket.h>

typedef struct goc__pd goc__pd;
typedef struct goc__pd_waiter goc__pd_waiter;

/* The poll descriptor of a registered fd. Everything but the op-lock
 * holders' fields is netpoll.c's; see the top of that file. */
struct goc__pd {
	goc__pollable pollable;        /* must be first: the poller hands us &pollable */
	goc__lock lock;
	_Atomic int fd;                /* the fd this pd stands for; -1 when free */
	_Atomic uint32_t ops;          /* op count, op locks, CLOSING (netpoll.c) */
	_Atomic uint32_t rev;          /* read-readiness events seen (pd_ready) */
	_Atomic bool hup;              /* a hang-up or error was seen: EOF or an error
	                                * may be pending with no event to come */
	_Atomic bool polled;           /* registered with the OS poller (else: always ready) */
	_Atomic int kind;              /* GOC__PD_KIND_* bits, 0 until known */
	bool rready, wready;           /* readiness tokens (lock) */
	bool evicted;                  /* its fd was closed behind our back (lock) */
	goc__pd_waiter *rq, *wq;       /* waiting for readiness (lock) */
	goc__pd_waiter *rlq, *wlq;     /* waiting for the read / write op lock (lock) */
	goc__g *closer;                /* goc_fd_close waiting for ops to drain (lock) */
	char *unlink_path;             /* Unix listener's socket file (closer's) */
	goc__pd *free_next;            /* pool lock */
	/* Owned by the holder of the read op lock (handed over with it): the
	 * last read found the fd empty, and no read event has come since
	 * `rev` was rdrained_seq. Never trusted once `hup` is set: a short read
	 * may leave an end of file behind, and its one event may be gone. */
	bool rdrained;
	uint32_t rdrained_seq;
};

/* The poll descriptor of fd, registering fd (non-blocking, poller) if goc
 * has not seen it. NULL with *err = -errno (-EBADF for a closed fd). */
goc__pd *goc__pd_get(int fd, int *err);
/* The poll descriptor of an fd the kernel has just created non-blocking
 * (socket, accept4): registers it, replacing whatever stale record the
 * slot held. kind: what the caller knows of it (GOC__PD_KIND_*). */
goc__pd *goc__pd_new(int fd, int kind, int *err);
/* The poll descriptor of fd if goc knows fd, else NULL (no registration). */
goc__pd *goc__pd_lookup(int fd);

/* Begin an operation on fd through pd. lock: GOC_FD_READ or GOC_FD_WRITE
 * to hold that direction's op lock for the whole operation (one reader and
 * one writer at a time, as Go's fdMutex: with edge-triggered readiness a
 * second waiter could otherwise sleep through data the first left behind),
 * or 0. Waiting for the lock ends by deadline or done like goc__pd_wait.
 * Returns 0, or GOC_ECLOSED when the fd is being closed (or pd now stands
 * for another fd), GOC_ETIMEDOUT, GOC__PD_DONE. Every 0 is paired with one
 * goc__pd_op_end(pd, lock). */
int  goc__pd_op_begin(goc__pd *pd, int fd, int lock, int64_t deadline, struct goc_chan *done);
void goc__pd_op_end(goc__pd *pd, int lock);

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

/* What the fd is, learnt on first need. STREAM: a short read means the fd
 * was empty then (stream sockets, pipes), so a later read may wait for a
 * read event without first trying the system call. */
enum { GOC__PD_KIND_KNOWN = 1, GOC__PD_KIND_SOCKET = 2, GOC__PD_KIND_STREAM = 4,
       /* TCP with TCP_INQ on (sockets goc made): every read reports the
        * bytes left behind, so even a full read can know it drained. */
       GOC__PD_KIND_INQ = 8 };
/* Turn TCP_INQ on for a TCP socket goc created: GOC__PD_KIND_INQ, or 0
 * where the system does not have it. */
int goc__tcp_inq_on(int fd);
int  goc__pd_kind(goc__pd *pd, int fd);
void goc__pd_add_kind(goc__pd *pd, int kind);
/* A Unix listener's socket file, removed by goc_fd_close (pd owns path). */
void goc__pd_set_unlink_path(goc__pd *pd, char *path);

/* goc_connect ending by deadline, and by ctx when not NULL (fdio.c). */
int goc__connect_within(int fd, const struct sockaddr *addr, socklen_t addrlen, int64_t deadline,
                        struct goc_ctx *ctx);

#endif
