/* goc/io.h - file descriptors and sockets that park goroutines, not threads
 * (Go's netpoller, net.Listen/Dial), and goc_blocking (goc/runtime.h) for
 * calls that cannot be made non-blocking. See docs/io.md.
 *
 * An fd handed to any function here is registered with goc's poller on
 * first use: it is made non-blocking (O_NONBLOCK is a flag of the open file
 * description, so dup'ed fds and other processes sharing it see it too)
 * and watched edge-triggered for both directions. When a call would block,
 * the goroutine parks and its worker runs other goroutines; the poller
 * readies it when the fd is ready. From a thread goc did not start (or
 * inside goc_blocking) the same calls block that thread instead, correctly.
 * Regular files are always "ready": their reads and writes simply run.
 *
 * Closing: an fd goc has registered must be closed with goc_fd_close (or
 * given back with goc_fd_release before closing it yourself). goc_fd_close
 * wakes every goroutine waiting on the fd with GOC_ECLOSED, waits for the
 * calls in progress on it to return, then closes it, so its number cannot be
 * reused under a call still running. Fds returned by goc_accept,
 * goc_listen_tcp and goc_dial_tcp are registered already.
 *
 * Errors: negative codes. -errno as the system call reported it (-ECONNRESET,
 * -EPIPE, -ECONNREFUSED, -EBADF, ...), GOC_ETIMEDOUT when the deadline
 * passed, a context's goc_ctx_err (GOC_ECANCELED or GOC_ETIMEDOUT) when it
 * was cancelled, GOC_ECLOSED when goc_fd_close closed the fd under the call,
 * GOC_EINVAL for bad arguments.
 *
 * Deadlines are absolute on the goc_now() clock (GOC_NO_DEADLINE: none). A
 * deadline already past still lets the call do what it can at once. Context
 * forms take their deadline from the context and also end when it is
 * cancelled; a context already done fails the call before it starts (Go's
 * rule). Every function is thread-safe.
 *
 * Several goroutines may use one fd at once, as in Go: reads are
 * serialised (one reader at a time, first come first served; each byte
 * goes to exactly one of them), and so are writes, so one goc_write is
 * never interleaved with another's. Waiting for one's turn ends by the
 * call's own deadline or context.
 *
 * Writes to a socket never raise SIGPIPE (send with MSG_NOSIGNAL): they fail
 * with -EPIPE. Writes to a pipe whose reader is gone still raise it, as with
 * write(2): ignore SIGPIPE in programs that write to pipes.
 */
#ifndef GOC_IO_H
#define GOC_IO_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct goc_ctx;

/* ---- fds and readiness --------------------------------------------------- */

enum { GOC_FD_READ = 1, GOC_FD_WRITE = 2 };

/* Register fd with the poller now (it is done on first use otherwise): make
 * it non-blocking and watch it. 0, or -errno (-EBADF: not an open fd). */
int goc_fd_register(int fd);

/* Wait until fd is ready for one of events (GOC_FD_READ | GOC_FD_WRITE).
 * Returns the events found ready (> 0), GOC_ETIMEDOUT, GOC_ECLOSED,
 * GOC_EINVAL or -errno. Readiness is a hint, as with poll(2): the operation
 * that follows may still find nothing to do (-EAGAIN) and should wait
 * again. For code that does its own non-blocking I/O on a registered fd. */
int goc_fd_wait(int fd, int events, int64_t deadline);
int goc_fd_wait_ctx(struct goc_ctx *ctx, int fd, int events);

/* Close fd: waiters get GOC_ECLOSED, calls in progress are waited for, then
 * the fd is closed. 0, or -errno from close(2); -EBADF if the fd is already
 * being closed. Also closes fds goc never saw (plain close then). A Unix
 * socket listener made by goc_listen_tcp removes its socket file. */
int goc_fd_close(int fd);

/* Forget fd without closing it: wakes waiters with GOC_ECLOSED, waits for
 * calls in progress, unregisters it. The fd stays open (and non-blocking).
 * 0, or -EBADF if goc does not know the fd. */
int goc_fd_release(int fd);

/* ---- reading and writing ------------------------------------------------- */

/* Read up to n bytes into buf, parking until some are available. Returns
 * the count read (> 0), 0 at end of file (the peer closed or shut down its
 * writing side), or a negative error. Like read(2), it may return fewer
 * bytes than asked: loop when you need exactly n. */
ssize_t goc_read(int fd, void *buf, size_t n);
ssize_t goc_read_until(int fd, void *buf, size_t n, int64_t deadline);
ssize_t goc_read_ctx(struct goc_ctx *ctx, int fd, void *buf, size_t n);

/* Write all n bytes of buf, parking while the fd is full. Returns n, or a
 * negative error if one stopped it first (a prefix may have been written
 * then). The _until and _ctx forms also store in *written (if not NULL) how
 * many bytes were written, whatever the result: with GOC_ETIMEDOUT, for
 * instance, the caller learns where to resume. */
ssize_t goc_write(int fd, const void *buf, size_t n);
ssize_t goc_write_until(int fd, const void *buf, size_t n, int64_t deadline, size_t *written);
ssize_t goc_write_ctx(struct goc_ctx *ctx, int fd, const void *buf, size_t n, size_t *written);

/* ---- sockets -------------------------------------------------------------- */

/* Accept a connection on listening socket fd, parking until one arrives.
 * Returns the new fd (non-blocking, close-on-exec, registered, TCP_NODELAY
 * for TCP) or a negative error; addr/addrlen as accept(2) (may be NULL). */
int goc_accept(int fd, struct sockaddr *addr, socklen_t *addrlen);
int goc_accept_until(int fd, struct sockaddr *addr, socklen_t *addrlen, int64_t deadline);
int goc_accept_ctx(struct goc_ctx *ctx, int fd, struct sockaddr *addr, socklen_t *addrlen);

/* Connect socket fd to addr, parking until the connection is made. 0 or a
 * negative error (-ECONNREFUSED, GOC_ETIMEDOUT, ...). After a failure or
 * timeout the socket is unusable: close it. */
int goc_connect(int fd, const struct sockaddr *addr, socklen_t addrlen);
int goc_connect_until(int fd, const struct sockaddr *addr, socklen_t addrlen, int64_t deadline);
int goc_connect_ctx(struct goc_ctx *ctx, int fd, const struct sockaddr *addr, socklen_t addrlen);

/* Addresses are strings, as in Go: "host:port" ("127.0.0.1:8080",
 * "localhost:http", ":8080"), "[ipv6]:port" ("[::1]:0"), or "unix:/path"
 * for a Unix socket ("unix:@name": Linux abstract namespace). Host names
 * are resolved with getaddrinfo run as goc_blocking; numeric hosts are
 * parsed without it. */

/* Listen on addr (port 0: the system picks one; see goc_local_addr). An
 * empty host listens on every local address (IPv6 and IPv4 where the
 * system allows). Returns the listening fd (SO_REUSEADDR set, backlog the
 * system's maximum) or a negative error (-EADDRINUSE, GOC_EINVAL for an
 * address that does not parse, -ENOENT when a name does not resolve). */
int goc_listen_tcp(const char *addr);

/* Connect to addr, trying its addresses in turn until one answers, parking
 * meanwhile; all attempts end by deadline. Returns the connected fd
 * (registered, TCP_NODELAY for TCP) or a negative error. An empty host
 * dials the local system. The _ctx form stops when ctx is done (name
 * resolution itself runs to its end, then the dial gives up). */
int goc_dial_tcp(const char *addr, int64_t deadline);
int goc_dial_tcp_ctx(struct goc_ctx *ctx, const char *addr);

/* Write fd's local (or peer's) address into buf as a string that
 * goc_dial_tcp accepts: "127.0.0.1:41234", "[::1]:41234", "unix:/path".
 * 0, or -errno, or -ENOSPC when it does not fit in size bytes. */
int goc_local_addr(int fd, char *buf, size_t size);
int goc_peer_addr(int fd, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
