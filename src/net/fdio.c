/* fdio.c - reading, writing, accepting, connecting and waiting on fds
 * (goc/io.h), each in three forms: plain, _until(deadline), _ctx(ctx).
 *
 * Every call is one loop (netpoll.h): try the system call on the
 * non-blocking fd; when it says EAGAIN, wait on the fd's poll descriptor
 * and try again. The call holds an operation count on the descriptor from
 * its first system call to its return, so goc_fd_close cannot close the fd
 * number under it. Fast path: the system call succeeds at once, which costs
 * two uncontended atomic operations on top of the call itself.
 *
 * A context form takes the context's deadline and waits on its done
 * channel as well; if the context is already done it fails before any
 * system call (Go's rule for DialContext and friends).
 */
#define _GNU_SOURCE
#include "netpoll.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A call's deadline and done channel, from a deadline or a context. */
typedef struct wait_spec {
	int64_t deadline;
	goc_chan *done;
	goc_ctx *ctx;
} wait_spec;

static wait_spec spec_deadline(int64_t deadline)
{
	return (wait_spec){deadline, NULL, NULL};
}

/* 0, or the context's error (or GOC_EINVAL for a NULL context). */
static int spec_ctx(goc_ctx *ctx, wait_spec *w)
{
	if (!ctx)
		return GOC_EINVAL;
	int err = goc_ctx_err(ctx);
	if (err)
		return err;
	w->ctx = ctx;
	w->done = goc_ctx_done(ctx);
	goc_ctx_deadline(ctx, &w->deadline);
	return 0;
}

/* goc__pd_wait with the spec; GOC__PD_DONE becomes the context's error. */
static int spec_result(int r, const wait_spec *w);

static int spec_wait(goc__pd *pd, int events, const wait_spec *w)
{
	return spec_result(goc__pd_wait(pd, events, w->deadline, w->done), w);
}

static int spec_result(int r, const wait_spec *w)
{
	if (r == GOC__PD_DONE) {
		r = goc_ctx_err(w->ctx);
		return r ? r : GOC_ECANCELED;
	}
	return r;
}

/* Look up (registering) fd and begin an operation on it holding the op
 * lock of direction lock (0: none). */
static goc__pd *op_begin(int fd, int lock, const wait_spec *w, int *err)
{
	goc__pd *pd = goc__pd_get(fd, err);
	if (pd && (*err = goc__pd_op_begin(pd, fd, lock, w->deadline, w->done)) != 0) {
		*err = spec_result(*err, w);
		pd = NULL;
	}
	return pd;
}

/* ---- goc_fd_wait --------------------------------------------------------- */

static int fd_wait(int fd, int events, const wait_spec *w)
{
	if (events <= 0 || (events & ~(GOC_FD_READ | GOC_FD_WRITE)))
		return GOC_EINVAL;
	int err;
	goc__pd *pd = op_begin(fd, 0, w, &err);
	if (!pd)
		return err;
	int r = spec_result(goc__pd_wait_fresh(pd, fd, events, w->deadline, w->done), w);
	goc__pd_op_end(pd, 0);
	return r;
}

int goc_fd_wait(int fd, int events, int64_t deadline)
{
	wait_spec w = spec_deadline(deadline);
	return fd_wait(fd, events, &w);
}

int goc_fd_wait_ctx(goc_ctx *ctx, int fd, int events)
{
	wait_spec w;
	int err = spec_ctx(ctx, &w);
	return err ? err : fd_wait(fd, events, &w);
}

/* ---- read ---------------------------------------------------------------- */

int goc__tcp_inq_on(int fd)
{
#if defined(TCP_INQ)
	int one = 1;
	if (setsockopt(fd, IPPROTO_TCP, TCP_INQ, &one, sizeof one) == 0)
		return GOC__PD_KIND_INQ;
#else
	(void)fd;
#endif
	return 0;
}

/* read(2), or on a TCP_INQ socket recvmsg(2) with the bytes it left in
 * the socket in *left (-1 when not known). */
static ssize_t read_once(int fd, void *buf, size_t n, int kind, int *left)
{
	*left = -1;
#if defined(TCP_INQ)
	if (kind & GOC__PD_KIND_INQ) {
		struct iovec iov = {buf, n};
		union {
			char b[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} ctl;
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
		                     .msg_controllen = sizeof ctl.b};
		ssize_t r = recvmsg(fd, &msg, 0);
		if (r >= 0)
			for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
				if (c->cmsg_level == SOL_TCP && c->cmsg_type == TCP_CM_INQ)
					memcpy(left, CMSG_DATA(c), sizeof *left);
		return r;
	}
#else
	(void)kind;
#endif
	return read(fd, buf, n);
}

static ssize_t do_read(int fd, void *buf, size_t n, const wait_spec *w)
{
	if (!buf && n > 0)
		return GOC_EINVAL;
	if (n > SSIZE_MAX)
		n = SSIZE_MAX;
	int err;
	goc__pd *pd = op_begin(fd, GOC_FD_READ, w, &err);
	if (!pd)
		return err;
	int kind = goc__pd_kind(pd, fd);
	ssize_t r;
	for (;;) {
		/* We hold the read op lock, so rdrained is ours (netpoll.h).
		 * acquire: pairs with pd_ready's increment. */
		uint32_t seq = atomic_load_explicit(&pd->rev, memory_order_acquire);
		int left = -1;
		if (pd->rdrained && pd->rdrained_seq == seq && n > 0 &&
		    !atomic_load_explicit(&pd->hup, memory_order_relaxed) &&
		    (w->deadline == GOC__NO_DEADLINE || w->deadline > goc__nanotime())) {
			/* Empty when last read and no read event since: any
			 * data that came since will bring one, so park (unless
			 * the deadline has passed: then just try the call). */
			r = -EAGAIN;
		} else {
			r = read_once(fd, buf, n, kind, &left);
			if (r < 0)
				r = -errno;
		}
		if (r >= 0) {
			/* Drained: TCP_INQ says nothing is left (it counts a
			 * pending end of stream as 1), or a short read of a
			 * stream found it empty. */
			pd->rdrained = r > 0 && (left >= 0 ? left == 0
			                                    : (size_t)r < n && (kind & GOC__PD_KIND_STREAM));
			pd->rdrained_seq = seq;
			break;
		}
		if (r == -EINTR)
			continue;
		if (r != -EAGAIN) {
			pd->rdrained = false;
			break;
		}
		pd->rdrained = true;
		pd->rdrained_seq = seq;
		int wr = spec_wait(pd, GOC_FD_READ, w);
		if (wr < 0) {
			r = wr;
			break;
		}
	}
	goc__pd_op_end(pd, GOC_FD_READ);
	return r;
}

ssize_t goc_read(int fd, void *buf, size_t n)
{
	wait_spec w = spec_deadline(GOC__NO_DEADLINE);
	return do_read(fd, buf, n, &w);
}

ssize_t goc_read_until(int fd, void *buf, size_t n, int64_t deadline)
{
	wait_spec w = spec_deadline(deadline);
	return do_read(fd, buf, n, &w);
}

ssize_t goc_read_ctx(goc_ctx *ctx, int fd, void *buf, size_t n)
{
	wait_spec w;
	int err = spec_ctx(ctx, &w);
	return err ? err : do_read(fd, buf, n, &w);
}

/* ---- write --------------------------------------------------------------- */

/* One write system call: send(MSG_NOSIGNAL) on sockets, so a reset peer is
 * -EPIPE rather than a SIGPIPE; write(2) on anything else. */
static ssize_t write_once(goc__pd *pd, int fd, const char *p, size_t n)
{
	if (goc__pd_kind(pd, fd) & GOC__PD_KIND_SOCKET)
		return send(fd, p, n, MSG_NOSIGNAL);
	return write(fd, p, n);
}

static ssize_t do_write(int fd, const void *buf, size_t n, const wait_spec *w, size_t *written)
{
	size_t off = 0;
	ssize_t err = 0;
	if (!buf && n > 0) {
		err = GOC_EINVAL;
		goto out;
	}
	if (n > SSIZE_MAX) {
		err = GOC_EINVAL;
		goto out;
	}
	int e;
	goc__pd *pd = op_begin(fd, GOC_FD_WRITE, w, &e);
	if (!pd) {
		err = e;
		goto out;
	}
	const char *p = buf;
	do {
		ssize_t r = write_once(pd, fd, p + off, n - off);
		if (r >= 0) {
			off += (size_t)r;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			err = -errno;
			break;
		}
		int wr = spec_wait(pd, GOC_FD_WRITE, w);
		if (wr < 0) {
			err = wr;
			break;
		}
	} while (off < n);
	goc__pd_op_end(pd, GOC_FD_WRITE);
out:
	if (written)
		*written = off;
	return err ? err : (ssize_t)n;
}

ssize_t goc_write(int fd, const void *buf, size_t n)
{
	wait_spec w = spec_deadline(GOC__NO_DEADLINE);
	return do_write(fd, buf, n, &w, NULL);
}

ssize_t goc_write_until(int fd, const void *buf, size_t n, int64_t deadline, size_t *written)
{
	wait_spec w = spec_deadline(deadline);
	return do_write(fd, buf, n, &w, written);
}

ssize_t goc_write_ctx(goc_ctx *ctx, int fd, const void *buf, size_t n, size_t *written)
{
	wait_spec w;
	int err = spec_ctx(ctx, &w);
	if (err) {
		if (written)
			*written = 0;
		return err;
	}
	return do_write(fd, buf, n, &w, written);
}

/* ---- accept -------------------------------------------------------------- */

static void set_nodelay(int fd, int family)
{
	if (family == AF_INET || family == AF_INET6) {
		int one = 1;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
}

static int do_accept(int fd, struct sockaddr *addr, socklen_t *addrlen, const wait_spec *w)
{
	if (addr && !addrlen)
		return GOC_EINVAL;
	int err;
	goc__pd *pd = op_begin(fd, GOC_FD_READ, w, &err);
	if (!pd)
		return err;
	int r;
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		r = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (r >= 0) {
			set_nodelay(r, ss.ss_family);
			if (addr) {
				memcpy(addr, &ss, sl < *addrlen ? sl : *addrlen);
				*addrlen = sl;
			}
			/* Of the listener's type (stream or seqpacket). */
			int kind = (goc__pd_kind(pd, fd) & ~GOC__PD_KIND_INQ) | GOC__PD_KIND_KNOWN |
			           GOC__PD_KIND_SOCKET;
			if ((ss.ss_family == AF_INET || ss.ss_family == AF_INET6) && (kind & GOC__PD_KIND_STREAM))
				kind |= goc__tcp_inq_on(r);
			if (!goc__pd_new(r, kind, &err)) {
				close(r);
				r = err;
			}
			break;
		}
		/* ECONNABORTED: a connection reset while queued; take the next. */
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno != EAGAIN) {
			r = -errno;
			break;
		}
		int wr = spec_wait(pd, GOC_FD_READ, w);
		if (wr < 0) {
			r = wr;
			break;
		}
	}
	goc__pd_op_end(pd, GOC_FD_READ);
	return r;
}

int goc_accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	wait_spec w = spec_deadline(GOC__NO_DEADLINE);
	return do_accept(fd, addr, addrlen, &w);
}

int goc_accept_until(int fd, struct sockaddr *addr, socklen_t *addrlen, int64_t deadline)
{
	wait_spec w = spec_deadline(deadline);
	return do_accept(fd, addr, addrlen, &w);
}

int goc_accept_ctx(goc_ctx *ctx, int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	wait_spec w;
	int err = spec_ctx(ctx, &w);
	return err ? err : do_accept(fd, addr, addrlen, &w);
}

/* ---- connect ------------------------------------------------------------- */

static int do_connect(int fd, const struct sockaddr *addr, socklen_t len, const wait_spec *w)
{
	if (!addr)
		return GOC_EINVAL;
	int err;
	goc__pd *pd = op_begin(fd, GOC_FD_WRITE, w, &err);
	if (!pd)
		return err;
	int r = connect(fd, addr, len);
	if (r < 0) {
		switch (errno) {
		case EINPROGRESS:
		case EALREADY:
		case EINTR: /* non-blocking: the connection goes on in the background */
			r = 1;
			break;
		case EISCONN:
			r = 0;
			break;
		default:
			r = -errno;
		}
	}
	/* In progress: wait until writable, then ask how it went. */
	while (r == 1) {
		int wr = spec_wait(pd, GOC_FD_WRITE, w);
		if (wr < 0) {
			r = wr;
			break;
		}
		int soerr = 0;
		socklen_t sl = sizeof soerr;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) {
			r = -errno;
			break;
		}
		switch (soerr) {
		case EINPROGRESS:
		case EALREADY:
		case EINTR:
			break;
		case EISCONN:
			r = 0;
			break;
		case 0: {
			/* A wake-up can be spurious: connected only if there
			 * is a peer (as Go checks). */
			struct sockaddr_storage ss;
			socklen_t pl = sizeof ss;
			if (getpeername(fd, (struct sockaddr *)&ss, &pl) == 0)
				r = 0;
			break;
		}
		default:
			r = -soerr;
		}
	}
	goc__pd_op_end(pd, GOC_FD_WRITE);
	return r;
}

int goc_connect(int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	wait_spec w = spec_deadline(GOC__NO_DEADLINE);
	return do_connect(fd, addr, addrlen, &w);
}

int goc_connect_until(int fd, const struct sockaddr *addr, socklen_t addrlen, int64_t deadline)
{
	wait_spec w = spec_deadline(deadline);
	return do_connect(fd, addr, addrlen, &w);
}

int goc_connect_ctx(goc_ctx *ctx, int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	wait_spec w;
	int err = spec_ctx(ctx, &w);
	return err ? err : do_connect(fd, addr, addrlen, &w);
}

int goc__connect_within(int fd, const struct sockaddr *addr, socklen_t addrlen, int64_t deadline, goc_ctx *ctx)
{
	wait_spec w = spec_deadline(deadline);
	if (ctx) {
		int err = spec_ctx(ctx, &w);
		if (err)
			return err;
		if (deadline < w.deadline)
			w.deadline = deadline;
	}
	return do_connect(fd, addr, addrlen, &w);
}
