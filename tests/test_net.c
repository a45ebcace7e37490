/* test_net.c - the fd API (goc/io.h): parking reads and writes, deadlines
 * and context cancellation of every blocking call, closing an fd under its
 * waiters, peer reset and half-close, foreign threads, IPv4, IPv6 and Unix
 * sockets, name resolution, bad input. Runs under GOC_PROCS=1, then 2.
 * ctest: TIMEOUT 60 */
#define _GNU_SOURCE
#include "test_net_util.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

static goc_waitgroup wg;

/* A connected TCP pair over 127.0.0.1: *a dialled, *b accepted. */
static void tcp_pair(int *a, int *b)
{
	int l = goc_listen_tcp("127.0.0.1:0");
	CHECK(l >= 0);
	char addr[64];
	CHECK_EQ(goc_local_addr(l, addr, sizeof addr), 0);
	*a = goc_dial_tcp(addr, goc_now() + GOC_SEC(10));
	CHECK(*a >= 0);
	*b = goc_accept(l, NULL, NULL);
	CHECK(*b >= 0);
	CHECK_EQ(goc_fd_close(l), 0);
}

static void read_exactly(int fd, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = goc_read(fd, (char *)buf + got, n - got);
		CHECK(r > 0);
		got += (size_t)r;
	}
}

/* ---- reads park until data arrives ------------------------------------- */

struct rd { int fd; ssize_t r; char buf[16]; };

static void reader(void *arg)
{
	struct rd *r = arg;
	r->r = goc_read(r->fd, r->buf, sizeof r->buf);
	goc_waitgroup_done(&wg);
}

static void test_read_parks_until_written(void)
{
	int p[2];
	CHECK_EQ(pipe(p), 0);
	struct rd r = {.fd = p[0]};
	goc_waitgroup_add(&wg, 1);
	goc_go(reader, &r);
	wait_for_io_waiters(1);
	CHECK_EQ(goc_write(p[1], "hello", 5), 5);
	goc_waitgroup_wait(&wg);
	CHECK_EQ(r.r, 5);
	CHECK(memcmp(r.buf, "hello", 5) == 0);
	CHECK_EQ(goc_fd_close(p[1]), 0);
	CHECK_EQ(goc_read(p[0], r.buf, sizeof r.buf), 0); /* EOF */
	CHECK_EQ(goc_fd_close(p[0]), 0);
	CHECK_EQ(atomic_load(&goc__s.netpoll_waiters), 0);
}

/* The fd is made non-blocking on first use, whatever it was. */
static void test_first_use_makes_fd_nonblocking(void)
{
	int p[2];
	CHECK_EQ(pipe(p), 0);
	CHECK_EQ(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
	CHECK_EQ(goc_fd_register(p[0]), 0);
	CHECK(fcntl(p[0], F_GETFL) & O_NONBLOCK);
	CHECK_EQ(goc_read_until(p[0], (char[4]){0}, 4, goc_now()), GOC_ETIMEDOUT);
	CHECK_EQ(goc_fd_close(p[0]), 0);
	CHECK_EQ(goc_fd_close(p[1]), 0);
}

/* ---- deadlines ----------------------------------------------------------- */

static void test_read_deadline(void)
{
	int p[2];
	CHECK_EQ(pipe(p), 0);
	char buf[8];
	int64_t t0 = goc_now();
	CHECK_EQ(goc_read_until(p[0], buf, sizeof buf, t0 + MS(20)), GOC_ETIMEDOUT);
	CHECK(goc_now() - t0 >= MS(20));
	/* A past deadline still does what can be done at once. */
	CHECK_EQ(goc_write(p[1], "x", 1), 1);
	CHECK_EQ(goc_read_until(p[0], buf, sizeof buf, 0), 1);
	CHECK_EQ(goc_read_until(p[0], buf, sizeof buf, 0), GOC_ETIMEDOUT);
	CHECK_EQ(goc_fd_close(p[0]), 0);
	CHECK_EQ(goc_fd_close(p[1]), 0);
}

static void test_write_deadline_reports_written(void)
{
	int a, b;
	tcp_pair(&a, &b);
	int small = 4096;
	setsockopt(a, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	setsockopt(b, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	size_t n = 4 << 20;
	char *big = calloc(1, n);
	size_t written = 12345;
	int64_t t0 = goc_now();
	CHECK_EQ(goc_write_until(a, big, n, t0 + MS(30), &written), GOC_ETIMEDOUT);
	CHECK(goc_now() - t0 >= MS(30));
	CHECK(written > 0 && written < n);
	/* Exactly `written` bytes went out. */
	CHECK_EQ(shutdown(a, SHUT_WR), 0);
	size_t got = 0;
	ssize_t r;
	while ((r = goc_read(b, big, n)) > 0)
		got += (size_t)r;
	CHECK_EQ(r, 0);
	CHECK_EQ(got, written);
	free(big);
	CHECK_EQ(goc_fd_close(a), 0);
	CHECK_EQ(goc_fd_close(b), 0);
}

static void test_accept_deadline(void)
{
	int l = goc_listen_tcp("127.0.0.1:0");
	CHECK(l >= 0);
	int64_t t0 = goc_now();
	CHECK_EQ(goc_accept_until(l, NULL, NULL, t0 + MS(20)), GOC_ETIMEDOUT);
	CHECK(goc_now() - t0 >= MS(20));
	CHECK_EQ(goc_fd_close(l), 0);
}

/* A listener with backlog 0 that nobody accepts from: the first connection
 * fills its queue, later SYNs are dropped and their connects hang. */
static int full_listener(struct sockaddr_in *sa, int *first)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(l >= 0);
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_EQ(bind(l, (struct sockaddr *)sa, sizeof *sa), 0);
	socklen_t len = sizeof *sa;
	CHECK_EQ(getsockname(l, (struct sockaddr *)sa, &len), 0);
	CHECK_EQ(listen(l, 0), 0);
	*first = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(goc_connect_until(*first, (struct sockaddr *)sa, sizeof *sa, goc_now() + GOC_SEC(10)), 0);
	return l;
}

static void test_connect_deadline(void)
{
	struct sockaddr_in sa;
	int first;
	int l = full_listener(&sa, &first);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int64_t t0 = goc_now();
	CHECK_EQ(goc_connect_until(s, (struct sockaddr *)&sa, sizeof sa, t0 + MS(50)), GOC_ETIMEDOUT);
	CHECK(goc_now() - t0 >= MS(50));
	char addr[64];
	CHECK_EQ(goc_local_addr(l, addr, sizeof addr), 0);
	t0 = goc_now();
	CHECK_EQ(goc_dial_tcp(addr, t0 + MS(30)), GOC_ETIMEDOUT);
	CHECK(goc_now() - t0 >= MS(30));
	CHECK_EQ(goc_fd_close(s), 0);
	CHECK_EQ(goc_fd_close(first), 0);
	CHECK_EQ(goc_fd_close(l), 0);
}

static void test_dial_refused(void)
{
	int l = goc_listen_tcp("127.0.0.1:0");
	char addr[64];
	CHECK_EQ(goc_local_addr(l, addr, sizeof addr), 0);
	CHECK_EQ(goc_fd_close(l), 0);
	CHECK_EQ(goc_dial_tcp(addr, goc_now() + GOC_SEC(10)), -ECONNREFUSED);
}

/* ---- contexts ------------------------------------------------------------ */

struct ctxop { goc_ctx *ctx; int fd; int which; ssize_t r; size_t written; };

static void ctx_op(void *arg)
{
	struct ctxop *o = arg;
	char buf[64];
	static char big[1 << 20];
	switch (o->which) {
	case 0: o->r = goc_read_ctx(o->ctx, o->fd, buf, sizeof buf); break;
	case 1: o->r = goc_write_ctx(o->ctx, o->fd, big, sizeof big, &o->written); break;
	case 2: o->r = goc_accept_ctx(o->ctx, o->fd, NULL, NULL); break;
	case 3: o->r = goc_fd_wait_ctx(o->ctx, o->fd, GOC_FD_READ); break;
	}
	goc_waitgroup_done(&wg);
}

/* Start op `which` on fd under a cancellable context, wait until it has
 * parked, cancel, and check it ended with GOC_ECANCELED. */
static void cancel_while_parked(int fd, int which)
{
	goc_ctx *ctx = goc_ctx_with_cancel(goc_ctx_background());
	struct ctxop o = {.ctx = ctx, .fd = fd, .which = which};
	goc_waitgroup_add(&wg, 1);
	goc_go(ctx_op, &o);
	wait_for_io_waiters(1);
	goc_ctx_cancel(ctx);
	goc_waitgroup_wait(&wg);
	CHECK_EQ(o.r, GOC_ECANCELED);
	goc_ctx_release(ctx);
	CHECK_EQ(atomic_load(&goc__s.netpoll_waiters), 0);
}

static void test_context_cancels_each_blocking_call(void)
{
	int a, b;
	tcp_pair(&a, &b);
	cancel_while_parked(a, 0);            /* read */
	cancel_while_parked(a, 3);            /* fd_wait */
	int small = 4096;
	setsockopt(a, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	cancel_while_parked(a, 1);            /* write */
	int l = goc_listen_tcp("127.0.0.1:0");
	cancel_while_parked(l, 2);            /* accept */

	/* connect, through dial */
	struct sockaddr_in sa;
	int first;
	int fl = full_listener(&sa, &first);
	char addr[64];
	CHECK_EQ(goc_local_addr(fl, addr, sizeof addr), 0);
	int64_t t0 = goc_now(); /* before the context: its deadline is t0 + 30 ms or later */
	goc_ctx *ctx = goc_ctx_with_timeout(goc_ctx_background(), MS(30));
	CHECK_EQ(goc_dial_tcp_ctx(ctx, addr), GOC_ETIMEDOUT);
	CHECK(goc_now() - t0 >= MS(30));
	goc_ctx_release(ctx);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	ctx = goc_ctx_with_cancel(goc_ctx_background());
	goc_ctx_cancel(ctx);
	/* A context already done fails the call before it starts. */
	CHECK_EQ(goc_connect_ctx(ctx, s, (struct sockaddr *)&sa, sizeof sa), GOC_ECANCELED);
	CHECK_EQ(goc_write(b, "data", 4), 4);
	CHECK_EQ(goc_read_ctx(ctx, a, (char[8]){0}, 8), GOC_ECANCELED);
	goc_ctx_release(ctx);
	/* Background never cancels: the call just works. */
	char four[4];
	CHECK_EQ(goc_read_ctx(goc_ctx_background(), a, four, 4), 4);
	CHECK_EQ(goc_read_ctx(NULL, a, four, 4), GOC_EINVAL);

	goc_fd_close(s);
	goc_fd_close(first);
	goc_fd_close(fl);
	goc_fd_close(l);
	goc_fd_close(a);
	goc_fd_close(b);
}

static void test_context_deadline_times_out_read(void)
{
	int p[2];
	CHECK_EQ(pipe(p), 0);
	int64_t t0 = goc_now(); /* before the context: its deadline is t0 + 20 ms or later */
	goc_ctx *ctx = goc_ctx_with_timeout(goc_ctx_background(), MS(20));
	CHECK_EQ(goc_read_ctx(ctx, p[0], (char[4]){0}, 4), GOC_ETIMEDOUT);
	CHECK(goc_now() - t0 >= MS(20));
	goc_ctx_release(ctx);
	goc_fd_close(p[0]);
	goc_fd_close(p[1]);
}

/* ---- closing an fd under its waiters ------------------------------------- */

struct closer_case { int fd; int which; ssize_t r; };

static void blocked_op(void *arg)
{
	struct closer_case *c = arg;
	char buf[16];
	static char big[1 << 20];
	switch (c->which) {
	case 0: c->r = goc_read(c->fd, buf, sizeof buf); break;
	case 1: c->r = goc_accept(c->fd, NULL, NULL); break;
	case 2: c->r = goc_write(c->fd, big, sizeof big); break;
	case 3: c->r = goc_fd_wait(c->fd, GOC_FD_READ, GOC_NO_DEADLINE); break;
	}
	goc_waitgroup_done(&wg);
}

static void test_close_wakes_every_waiter(void)
{
	int p[2];
	CHECK_EQ(pipe(p), 0);
	int l = goc_listen_tcp("127.0.0.1:0");
	int a, b;
	tcp_pair(&a, &b);
	int small = 4096;
	setsockopt(a, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	struct closer_case c[] = {
		{p[0], 0, 1}, {p[0], 0, 1}, {p[0], 3, 1},  /* three readers of one pipe */
		{l, 1, 1}, {l, 1, 1},                      /* two acceptors */
		{a, 2, 1},                                 /* a writer */
	};
	int n = (int)(sizeof c / sizeof c[0]);
	goc_waitgroup_add(&wg, n);
	for (int i = 0; i < n; i++)
		goc_go(blocked_op, &c[i]);
	wait_for_io_waiters(n);
	CHECK_EQ(goc_fd_close(p[0]), 0);
	CHECK_EQ(goc_fd_close(l), 0);
	CHECK_EQ(goc_fd_close(a), 0);
	goc_waitgroup_wait(&wg);
	for (int i = 0; i < n; i++)
		CHECK_EQ(c[i].r, GOC_ECLOSED);
	/* The fds really are closed, and closing again says so. */
	CHECK_EQ(fcntl(l, F_GETFD), -1);
	CHECK_EQ(goc_fd_close(p[1]), 0);
	CHECK_EQ(goc_fd_close(b), 0);
	CHECK_EQ(goc_read(p[0], (char[4]){0}, 4), -EBADF);
	CHECK_EQ(goc_fd_close(p[0]), -EBADF);
}

static void test_release_keeps_fd_open(void)
{
	int p[2];
	CHECK_EQ(pipe(p), 0);
	struct closer_case c = {p[0], 0, 1};
	goc_waitgroup_add(&wg, 1);
	goc_go(blocked_op, &c);
	wait_for_io_waiters(1);
	CHECK_EQ(goc_fd_release(p[0]), 0);
	goc_waitgroup_wait(&wg);
	CHECK_EQ(c.r, GOC_ECLOSED);
	CHECK_EQ(goc_fd_release(p[0]), -EBADF);
	CHECK(fcntl(p[0], F_GETFD) >= 0);
	/* And goc takes it back on next use. */
	CHECK_EQ(goc_write(p[1], "ok", 2), 2);
	char buf[2];
	CHECK_EQ(goc_read(p[0], buf, 2), 2);
	CHECK_EQ(goc_fd_close(p[0]), 0);
	CHECK_EQ(goc_fd_close(p[1]), 0);
}

/* ---- peer reset and half-close ------------------------------------------ */

static void test_peer_reset(void)
{
	int a, b;
	tcp_pair(&a, &b);
	struct closer_case c = {a, 0, 1};
	goc_waitgroup_add(&wg, 1);
	goc_go(blocked_op, &c);
	wait_for_io_waiters(1);
	struct linger lg = {1, 0};   /* close with RST */
	CHECK_EQ(setsockopt(b, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
	CHECK_EQ(goc_fd_close(b), 0);
	goc_waitgroup_wait(&wg);
	CHECK_EQ(c.r, -ECONNRESET);
	/* Writing after the reset fails (EPIPE), without a SIGPIPE. */
	ssize_t w = goc_write(a, "x", 1);
	CHECK(w == -EPIPE || w == -ECONNRESET);
	CHECK_EQ(goc_fd_close(a), 0);
}

static void half_closer(void *arg)
{
	int fd = *(int *)arg;
	char buf[256];
	size_t total = 0;
	ssize_t r;
	while ((r = goc_read(fd, buf, sizeof buf)) > 0)
		total += (size_t)r;
	CHECK_EQ(r, 0);                  /* the client's FIN */
	char reply[32];
	int len = snprintf(reply, sizeof reply, "got %zu", total);
	CHECK_EQ(goc_write(fd, reply, (size_t)len), len); /* our side still writes */
	CHECK_EQ(goc_fd_close(fd), 0);
	goc_waitgroup_done(&wg);
}

static void test_half_close(void)
{
	int a, b;
	tcp_pair(&a, &b);
	goc_waitgroup_add(&wg, 1);
	goc_go(half_closer, &b);
	char msg[1000];
	memset(msg, 'm', sizeof msg);
	CHECK_EQ(goc_write(a, msg, sizeof msg), (ssize_t)sizeof msg);
	CHECK_EQ(shutdown(a, SHUT_WR), 0);
	char reply[32] = {0};
	size_t got = 0;
	ssize_t r;
	while ((r = goc_read(a, reply + got, sizeof reply - 1 - got)) > 0)
		got += (size_t)r;
	CHECK_EQ(r, 0);
	CHECK(strcmp(reply, "got 1000") == 0);
	goc_waitgroup_wait(&wg);
	CHECK_EQ(goc_fd_close(a), 0);
}

/* ---- foreign threads ----------------------------------------------------- */

struct thr { int fd; ssize_t r; char buf[8]; int64_t deadline; };

static void *thread_reader(void *arg)
{
	struct thr *t = arg;
	t->r = goc_read_until(t->fd, t->buf, sizeof t->buf, t->deadline);
	return NULL;
}

static void *join_thread(void *arg)
{
	pthread_join(*(pthread_t *)arg, NULL);
	return NULL;
}

/* A thread goc did not start blocks in the wait (and the fd was never seen
 * before it): the poller still wakes it. */
static void test_foreign_thread_waits(void)
{
	int p[2];
	CHECK_EQ(pipe(p), 0);
	struct thr t = {.fd = p[0], .deadline = GOC_NO_DEADLINE};
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, thread_reader, &t), 0);
	wait_for_io_waiters(1);
	CHECK_EQ(write(p[1], "thread", 6), 6);
	/* Joined as a blocking call: our worker must keep polling for it. */
	goc_blocking(join_thread, &th);
	CHECK_EQ(t.r, 6);
	CHECK(memcmp(t.buf, "thread", 6) == 0);
	/* With a deadline. */
	t.deadline = goc_now() + MS(20);
	CHECK_EQ(pthread_create(&th, NULL, thread_reader, &t), 0);
	pthread_join(th, NULL);
	CHECK_EQ(t.r, GOC_ETIMEDOUT);
	goc_fd_close(p[0]);
	goc_fd_close(p[1]);
}

/* ---- goc_fd_wait ---------------------------------------------------------- */

static void test_fd_wait(void)
{
	int p[2];
	CHECK_EQ(pipe(p), 0);
	CHECK_EQ(goc_fd_wait(p[1], GOC_FD_WRITE, GOC_NO_DEADLINE), GOC_FD_WRITE);
	CHECK_EQ(goc_fd_wait(p[0], GOC_FD_READ, goc_now() + MS(10)), GOC_ETIMEDOUT);
	CHECK_EQ(goc_write(p[1], "abcd", 4), 4);
	CHECK_EQ(goc_fd_wait(p[0], GOC_FD_READ, GOC_NO_DEADLINE), GOC_FD_READ);
	char c;
	CHECK_EQ(goc_read(p[0], &c, 1), 1);
	/* The edge was consumed, data remains: still reported ready. */
	CHECK_EQ(goc_fd_wait(p[0], GOC_FD_READ, GOC_NO_DEADLINE), GOC_FD_READ);
	CHECK_EQ(goc_fd_wait(p[0], GOC_FD_READ | GOC_FD_WRITE, 0), GOC_FD_READ);
	CHECK_EQ(goc_fd_wait(p[0], 0, 0), GOC_EINVAL);
	CHECK_EQ(goc_fd_wait(p[0], 4, 0), GOC_EINVAL);
	goc_fd_close(p[0]);
	goc_fd_close(p[1]);
}

/* ---- regular files and misuse ------------------------------------------- */

static void test_regular_file(void)
{
	char path[] = "/tmp/goc_test_net_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	unlink(path);
	CHECK_EQ(goc_write(fd, "file data", 9), 9);
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	char buf[16];
	CHECK_EQ(goc_read(fd, buf, sizeof buf), 9);
	CHECK_EQ(goc_read(fd, buf, sizeof buf), 0);
	CHECK_EQ(goc_fd_wait(fd, GOC_FD_READ, 0), GOC_FD_READ);
	CHECK_EQ(goc_fd_close(fd), 0);
}

static void test_bad_input(void)
{
	char buf[4];
	CHECK_EQ(goc_read(-1, buf, 4), -EBADF);
	CHECK_EQ(goc_write(-1, buf, 4), -EBADF);
	CHECK_EQ(goc_read(1 << 30, buf, 4), -EBADF);
	CHECK_EQ(goc_accept(-5, NULL, NULL), -EBADF);
	CHECK_EQ(goc_fd_wait(-1, GOC_FD_READ, 0), -EBADF);
	CHECK_EQ(goc_fd_close(-1), -EBADF);
	CHECK_EQ(goc_read(987, buf, 4), -EBADF);   /* not open */
	int p[2];
	CHECK_EQ(pipe(p), 0);
	CHECK_EQ(goc_read(p[0], NULL, 4), GOC_EINVAL);
	CHECK_EQ(goc_write(p[1], NULL, 4), GOC_EINVAL);
	CHECK_EQ(goc_write(p[1], buf, 0), 0);
	CHECK_EQ(goc_accept(p[0], NULL, NULL), -ENOTSOCK);
	CHECK_EQ(goc_connect(p[0], NULL, 0), GOC_EINVAL);
	CHECK_EQ(goc_local_addr(p[0], (char[64]){0}, 64), -ENOTSOCK);
	goc_fd_close(p[0]);
	goc_fd_close(p[1]);
	const char *bad[] = {NULL, "", "nonsense", "1.2.3.4", "1.2.3.4:", "::1:80", "[::1]80", "[::1",
	                     "127.0.0.1:99999", "unix:", "127.0.0.1:-1"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int r = goc_listen_tcp(bad[i]);
		if (r != GOC_EINVAL)
			fprintf(stderr, "listen '%s': %d\n", bad[i] ? bad[i] : "(null)", r);
		CHECK_EQ(r, GOC_EINVAL);
		CHECK_EQ(goc_dial_tcp(bad[i], 0), GOC_EINVAL);
	}
	int l = goc_listen_tcp("127.0.0.1:0");
	char addr[64];
	CHECK_EQ(goc_local_addr(l, addr, sizeof addr), 0);
	CHECK_EQ(goc_local_addr(l, (char[5]){0}, 5), -ENOSPC);
	CHECK_EQ(goc_local_addr(l, NULL, 5), GOC_EINVAL);
	CHECK_EQ(goc_listen_tcp(addr), -EADDRINUSE);
	CHECK_EQ(goc_peer_addr(l, addr, sizeof addr), -ENOTCONN);
	goc_fd_close(l);
}

/* An accepted fd closed with plain close(): its number comes back from the
 * kernel and works; the stale record is retired. */
static void test_plain_close_then_reuse(void)
{
	int l = goc_listen_tcp("127.0.0.1:0");
	char addr[64];
	CHECK_EQ(goc_local_addr(l, addr, sizeof addr), 0);
	int prev = -1;
	for (int i = 0; i < 20; i++) {
		int c = goc_dial_tcp(addr, goc_now() + GOC_SEC(10));
		CHECK(c >= 0);
		int s = goc_accept(l, NULL, NULL);
		CHECK(s >= 0);
		if (prev >= 0)
			CHECK_EQ(s, prev); /* the number was reused */
		CHECK_EQ(goc_write(c, "ping", 4), 4);
		char buf[4];
		read_exactly(s, buf, 4);
		CHECK(memcmp(buf, "ping", 4) == 0);
		CHECK_EQ(close(s), 0);   /* not goc_fd_close: misuse, survived */
		CHECK_EQ(goc_fd_close(c), 0);
		prev = s;
	}
	goc_fd_close(l);
}

/* ---- address families ---------------------------------------------------- */

struct echo_arg { int l; int conns; };

static void echo_conn(void *arg)
{
	int fd = *(int *)arg;
	char buf[4096];
	ssize_t r;
	while ((r = goc_read(fd, buf, sizeof buf)) > 0)
		CHECK_EQ(goc_write(fd, buf, (size_t)r), r);
	CHECK(r == 0);
	goc_fd_close(fd);
}

static void echo_listener(void *arg)
{
	struct echo_arg *e = arg;
	for (int i = 0; i < e->conns; i++) {
		int fd = goc_accept(e->l, NULL, NULL);
		CHECK(fd >= 0);
		goc_go_copy(echo_conn, &fd, sizeof fd);
	}
	goc_waitgroup_done(&wg);
}

/* Listen on laddr, dial the address the listener reports (or daddr), and
 * check a round trip; returns the local address string. */
static void round_trip_on(const char *laddr, const char *daddr, const char *want_prefix)
{
	int l = goc_listen_tcp(laddr);
	if (l < 0)
		fprintf(stderr, "listen %s: %s\n", laddr, goc_strerror(l));
	CHECK(l >= 0);
	char addr[128];
	CHECK_EQ(goc_local_addr(l, addr, sizeof addr), 0);
	if (strncmp(addr, want_prefix, strlen(want_prefix)) != 0)
		fprintf(stderr, "local address %s, want prefix %s\n", addr, want_prefix);
	CHECK(strncmp(addr, want_prefix, strlen(want_prefix)) == 0);
	if (daddr && strchr(daddr, '%')) {
		/* "%" in daddr: substitute the port. */
		const char *port = strrchr(addr, ':') + 1;
		char buf[128];
		snprintf(buf, sizeof buf, daddr, port);
		strcpy(addr, buf);
	} else if (daddr) {
		strcpy(addr, daddr);
	}
	struct echo_arg e = {l, 1};
	goc_waitgroup_add(&wg, 1);
	goc_go(echo_listener, &e);
	int c = goc_dial_tcp(addr, goc_now() + GOC_SEC(10));
	if (c < 0)
		fprintf(stderr, "dial %s: %s\n", addr, goc_strerror(c));
	CHECK(c >= 0);
	char peer[128];
	CHECK_EQ(goc_peer_addr(c, peer, sizeof peer), 0);
	CHECK_EQ(goc_write(c, "round trip", 10), 10);
	char buf[10];
	read_exactly(c, buf, 10);
	CHECK(memcmp(buf, "round trip", 10) == 0);
	goc_waitgroup_wait(&wg);
	CHECK_EQ(goc_fd_close(c), 0);
	CHECK_EQ(goc_fd_close(l), 0);
}

static void test_ipv4(void)
{
	round_trip_on("127.0.0.1:0", NULL, "127.0.0.1:");
	/* An empty host listens everywhere; dialling ":port" means this host. */
	round_trip_on(":0", ":%s", "[::]:");
}

/* IPv6 must work here: a machine without ::1 fails this test loudly rather
 * than skipping it (see /proc/net/if_inet6). */
static void test_ipv6(void)
{
	int l = goc_listen_tcp("[::1]:0");
	if (l < 0) {
		fprintf(stderr, "\n*** IPv6 loopback [::1] is unavailable on this machine (%s):\n"
		                "*** the IPv6 part of goc's network code cannot be tested here.\n\n",
		        goc_strerror(l));
		exit(1);
	}
	goc_fd_close(l);
	round_trip_on("[::1]:0", NULL, "[::1]:");
}

static void test_name_resolution(void)
{
	/* "localhost" goes through getaddrinfo (as goc_blocking); the listen
	 * prefers its IPv4 address, and the dial tries each in turn. */
	round_trip_on("localhost:0", "localhost:%s", "127.0.0.1:");
}

static void test_unix_sockets(void)
{
	char dir[] = "/tmp/goc_test_net_XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char path[128], addr[160];
	snprintf(path, sizeof path, "%s/sock", dir);
	snprintf(addr, sizeof addr, "unix:%s", path);
	round_trip_on(addr, NULL, addr);
	struct stat st;
	CHECK_EQ(stat(path, &st), -1); /* the listener's close removed it */
	CHECK_EQ(rmdir(dir), 0);

	char abstract[64];
	snprintf(abstract, sizeof abstract, "unix:@goc_test_net_%d", (int)getpid());
	round_trip_on(abstract, NULL, abstract);
	CHECK_EQ(goc_dial_tcp("unix:/nonexistent/goc/sock", 0), -ENOENT);
}

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	RUN(test_read_parks_until_written);
	RUN(test_first_use_makes_fd_nonblocking);
	RUN(test_read_deadline);
	RUN(test_write_deadline_reports_written);
	RUN(test_accept_deadline);
	RUN(test_connect_deadline);
	RUN(test_dial_refused);
	RUN(test_context_cancels_each_blocking_call);
	RUN(test_context_deadline_times_out_read);
	RUN(test_close_wakes_every_waiter);
	RUN(test_release_keeps_fd_open);
	RUN(test_peer_reset);
	RUN(test_half_close);
	RUN(test_foreign_thread_waits);
	RUN(test_fd_wait);
	RUN(test_regular_file);
	RUN(test_bad_input);
	RUN(test_plain_close_then_reuse);
	RUN(test_ipv4);
	RUN(test_ipv6);
	RUN(test_name_resolution);
	RUN(test_unix_sockets);
	return 0;
}

int main(int argc, char **argv)
{
	watchdog(50);
	return run_with_procs_1_and_2(run, argc, argv);
}
