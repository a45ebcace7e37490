/* test_net_many.c - the poller at scale and under sharing: thousands of
 * loopback connections open at once, each echoing a message that names
 * it; several goroutines reading one socket (each byte goes to exactly
 * one of them); a reader queued behind another one times out on its own
 * deadline. Runs under GOC_PROCS=1, then 2. ctest: TIMEOUT 120 */
#define _GNU_SOURCE
#include "test_net_util.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

static goc_waitgroup wg;

/* ---- thousands of connections ----------------------------------------- */

static int nconns;
static char addr[64];
static goc_chan *start;          /* closed once every client has dialled */
static goc_waitgroup dialled;
static _Atomic int echoed, failed;

static void serve(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[128];
	ssize_t r;
	while ((r = goc_read(fd, buf, sizeof buf)) > 0)
		if (goc_write(fd, buf, (size_t)r) != r)
			break;
	CHECK_EQ(r, 0); /* the client closed cleanly */
	CHECK_EQ(goc_fd_close(fd), 0);
	goc_waitgroup_done(&wg);
}

static void acceptor(void *arg)
{
	int l = (int)(intptr_t)arg;
	for (int i = 0; i < nconns; i++) {
		int fd = goc_accept(l, NULL, NULL);
		CHECK(fd >= 0);
		CHECK_EQ(goc_go(serve, (void *)(intptr_t)fd), 0);
	}
	goc_waitgroup_done(&wg);
}

static void client(void *arg)
{
	int id = (int)(intptr_t)arg;
	int fd = goc_dial_tcp(addr, goc_now() + GOC_SEC(30));
	if (fd < 0) {
		fprintf(stderr, "client %d: dial: %s\n", id, goc_strerror(fd));
		atomic_fetch_add(&failed, 1);
		goc_waitgroup_done(&dialled);
		goc_waitgroup_done(&wg);
		return;
	}
	goc_waitgroup_done(&dialled);
	CHECK_EQ(goc_recv(start, NULL), GOC_ECLOSED); /* every connection is open now */
	char msg[48], reply[48];
	int len = snprintf(msg, sizeof msg, "connection %d of %d", id, nconns);
	CHECK_EQ(goc_write(fd, msg, (size_t)len), len);
	int got = 0;
	while (got < len) {
		ssize_t r = goc_read_until(fd, reply + got, (size_t)(len - got), goc_now() + GOC_SEC(30));
		CHECK(r > 0);
		got += (int)r;
	}
	if (memcmp(msg, reply, (size_t)len) == 0)
		atomic_fetch_add(&echoed, 1);
	CHECK_EQ(goc_fd_close(fd), 0);
	goc_waitgroup_done(&wg);
}

static void test_thousands_of_connections(void)
{
	struct rlimit rl;
	CHECK_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	CHECK_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
	/* Two fds per connection here (both ends), plus slack. */
	long room = rl.rlim_cur == RLIM_INFINITY ? 1 << 20 : (long)rl.rlim_cur;
	nconns = SCALED(3000);
	if (nconns > (room - 64) / 2)
		nconns = (int)((room - 64) / 2);
	CHECK(nconns >= 100);
	atomic_store(&echoed, 0);
	atomic_store(&failed, 0);
	start = goc_chan_make(0, 0);
	CHECK(start != NULL);
	int l = goc_listen_tcp("127.0.0.1:0");
	CHECK(l >= 0);
	CHECK_EQ(goc_local_addr(l, addr, sizeof addr), 0);

	goc_waitgroup_add(&wg, 1 + 2 * nconns);
	goc_waitgroup_add(&dialled, nconns);
	CHECK_EQ(goc_go(acceptor, (void *)(intptr_t)l), 0);
	for (int i = 0; i < nconns; i++)
		CHECK_EQ(goc_go(client, (void *)(intptr_t)i), 0);
	goc_waitgroup_wait(&dialled);
	CHECK_EQ(atomic_load(&failed), 0);
	CHECK_EQ(goc_close(start), 0);
	goc_waitgroup_wait(&wg);
	CHECK_EQ(atomic_load(&echoed), nconns);
	CHECK_EQ(goc_fd_close(l), 0);
	CHECK_EQ(atomic_load(&goc__s.netpoll_waiters), 0);
	goc_chan_release(start);
}

/* ---- one socket, several readers --------------------------------------- */

enum { READERS = 8, BYTES = 20000 };
static _Atomic long bytes_read;
static _Atomic long byte_sum;

static void share_reader(void *arg)
{
	int fd = (int)(intptr_t)arg;
	unsigned char buf[97];
	ssize_t r;
	while ((r = goc_read(fd, buf, sizeof buf)) > 0) {
		long s = 0;
		for (ssize_t i = 0; i < r; i++)
			s += buf[i];
		atomic_fetch_add(&bytes_read, r);
		atomic_fetch_add(&byte_sum, s);
	}
	CHECK_EQ(r, 0);
	goc_waitgroup_done(&wg);
}

static void tcp_pair(int *a, int *b)
{
	int l = goc_listen_tcp("127.0.0.1:0");
	CHECK(l >= 0);
	char ad[64];
	CHECK_EQ(goc_local_addr(l, ad, sizeof ad), 0);
	*a = goc_dial_tcp(ad, goc_now() + GOC_SEC(10));
	CHECK(*a >= 0);
	*b = goc_accept(l, NULL, NULL);
	CHECK(*b >= 0);
	CHECK_EQ(goc_fd_close(l), 0);
}

static void test_readers_sharing_a_socket_split_the_bytes(void)
{
	int a, b;
	tcp_pair(&a, &b);
	atomic_store(&bytes_read, 0);
	atomic_store(&byte_sum, 0);
	goc_waitgroup_add(&wg, READERS);
	for (int i = 0; i < READERS; i++)
		CHECK_EQ(goc_go(share_reader, (void *)(intptr_t)b), 0);
	wait_for_io_waiters(READERS);
	static unsigned char data[BYTES];
	long want = 0;
	for (int i = 0; i < BYTES; i++) {
		data[i] = (unsigned char)(i * 7 + 3);
		want += data[i];
	}
	/* In uneven pieces, so reads see every kind of boundary. */
	for (int off = 0, k = 1; off < BYTES; k = k * 3 % 1013 + 1) {
		int len = k < BYTES - off ? k : BYTES - off;
		CHECK_EQ(goc_write(a, data + off, (size_t)len), len);
		off += len;
	}
	CHECK_EQ(shutdown(a, SHUT_WR), 0);
	goc_waitgroup_wait(&wg);
	CHECK_EQ(atomic_load(&bytes_read), BYTES);
	CHECK_EQ(atomic_load(&byte_sum), want);
	CHECK_EQ(goc_fd_close(a), 0);
	CHECK_EQ(goc_fd_close(b), 0);
}

/* A reader queued behind another (one reader at a time holds the fd's
 * read side) still ends at its own deadline; the first keeps waiting and
 * gets the data. */
struct first_reader { int fd; ssize_t r; char c; };

static void first(void *arg)
{
	struct first_reader *f = arg;
	f->r = goc_read(f->fd, &f->c, 1);
	goc_waitgroup_done(&wg);
}

static void test_queued_reader_times_out_alone(void)
{
	int p[2];
	CHECK_EQ(pipe(p), 0);
	struct first_reader f = {.fd = p[0]};
	goc_waitgroup_add(&wg, 1);
	CHECK_EQ(goc_go(first, &f), 0);
	wait_for_io_waiters(1);
	char c;
	int64_t t0 = goc_now();
	CHECK_EQ(goc_read_until(p[0], &c, 1, t0 + MS(20)), GOC_ETIMEDOUT);
	CHECK(goc_now() - t0 >= MS(20));
	goc_ctx *ctx = goc_ctx_with_cancel(goc_ctx_background());
	CHECK(ctx != NULL);
	goc_ctx_cancel(ctx);
	CHECK_EQ(goc_read_ctx(ctx, p[0], &c, 1), GOC_ECANCELED);
	goc_ctx_release(ctx);
	CHECK_EQ(goc_write(p[1], "q", 1), 1);
	goc_waitgroup_wait(&wg);
	CHECK_EQ(f.r, 1);
	CHECK_EQ(f.c, 'q');
	CHECK_EQ(goc_fd_close(p[0]), 0);
	CHECK_EQ(goc_fd_close(p[1]), 0);
}

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	RUN(test_thousands_of_connections);
	RUN(test_readers_sharing_a_socket_split_the_bytes);
	RUN(test_queued_reader_times_out_alone);
	return 0;
}

int main(int argc, char **argv)
{
	watchdog(110);
	return run_with_procs_1_and_2(run, argc, argv);
}
