/* echo.c - bench=echo (../shared/bench/SPEC.md): TCP echo over 127.0.0.1 in
 * one process. A listener goroutine starts one server goroutine per
 * connection (4 KiB buffer, writes back what it read); 100 client
 * goroutines each dial and do n/100 round trips of 64 bytes, checking every
 * reply. ns_per_op is one round trip, aggregate: wall time from before the
 * first dial to the last reply, divided by n (default n = 500,000; a
 * multiple of 100). TCP_NODELAY is on (goc sets it, as Go does). GOC_PROCS
 * defaults to 1. */
#define NAME "echo"
#include "bench.h"

#include <stdatomic.h>
#include <string.h>

#define CLIENTS 100
#define MSG 64

static long rounds;
static char addr[64];
static goc_waitgroup wg;
static _Atomic int failures;

/* serve echoes everything it reads until the client closes. */
static void serve(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[4096];
	ssize_t r;
	while ((r = goc_read(fd, buf, sizeof buf)) > 0)
		if (goc_write(fd, buf, (size_t)r) != r)
			break;
	goc_fd_close(fd);
}

static void listener(void *arg)
{
	int l = (int)(intptr_t)arg;
	int fd;
	while ((fd = goc_accept(l, NULL, NULL)) >= 0)
		goc_go(serve, (void *)(intptr_t)fd);
	/* GOC_ECLOSED: main closed the listener. */
}

static void client(void *arg)
{
	long id = (long)(intptr_t)arg;
	int fd = goc_dial_tcp(addr, GOC_NO_DEADLINE);
	if (fd < 0) {
		fprintf(stderr, NAME ": dial: %s\n", goc_strerror(fd));
		atomic_fetch_add(&failures, 1);
		goc_waitgroup_done(&wg);
		return;
	}
	char msg[MSG] = {0}, reply[MSG];
	for (long r = 0; r < rounds; r++) {
		uint64_t v = (uint64_t)(id * rounds + r);
		memcpy(msg, &v, sizeof v);
		if (goc_write(fd, msg, MSG) != MSG)
			goto broken;
		size_t got = 0;
		while (got < MSG) {
			ssize_t k = goc_read(fd, reply + got, MSG - got);
			if (k <= 0)
				goto broken;
			got += (size_t)k;
		}
		if (memcmp(msg, reply, MSG) != 0)
			goto broken;
	}
	goc_fd_close(fd);
	goc_waitgroup_done(&wg);
	return;
broken:
	fprintf(stderr, NAME ": client %ld: the echo failed or differs\n", id);
	atomic_fetch_add(&failures, 1);
	goc_fd_close(fd);
	goc_waitgroup_done(&wg);
}

static int bench(int argc, char **argv)
{
	long n = bench_setup(argc, argv, 500000);
	if (n % CLIENTS)
		bench_fail("n must be a multiple of 100", n, n / CLIENTS * CLIENTS);
	rounds = n / CLIENTS;
	int l = goc_listen_tcp("127.0.0.1:0");
	if (l < 0 || goc_local_addr(l, addr, sizeof addr) != 0)
		bench_fail("listen failed", l, 0);
	goc_go(listener, (void *)(intptr_t)l);

	int64_t start = bench_now();
	goc_waitgroup_add(&wg, CLIENTS);
	for (long c = 0; c < CLIENTS; c++)
		goc_go(client, (void *)(intptr_t)c);
	goc_waitgroup_wait(&wg);
	int64_t elapsed = bench_now() - start;

	goc_fd_close(l);
	if (atomic_load(&failures))
		bench_fail("clients failed", atomic_load(&failures), 0);
	bench_report(n, elapsed, "");
	return 0;
}

BENCH_MAIN(bench)
