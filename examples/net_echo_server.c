/* net_echo_server.c - a TCP echo server, one goroutine per connection, as
 * a Go programmer writes it: accept in a loop, `go serve(conn)`. The
 * server stops by context: cancelling it ends the accept loop and every
 * connection's pending read, and the server waits for its goroutines.
 *
 * The example drives itself: it listens on 127.0.0.1 (a port the system
 * picks), runs 50 clients at once that each send 20 numbered lines and
 * check every echo, then shuts the server down and checks that nothing
 * is left running. Exit status 0 when every echo matched. */
#include <goc.h>

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { CLIENTS = 50, LINES = 20 };

typedef struct server {
	int listener;
	goc_ctx *ctx;          /* cancel to stop */
	goc_waitgroup conns;   /* connection goroutines still running */
	goc_waitgroup done;    /* the accept loop */
} server;

typedef struct conn { server *srv; int fd; } conn;

/* Echo what arrives until the peer closes or the server stops. */
static void serve(void *arg)
{
	conn c = *(conn *)arg; /* goc_go_copy gave us our own copy */
	char buf[4096];
	ssize_t n;
	while ((n = goc_read_ctx(c.srv->ctx, c.fd, buf, sizeof buf)) > 0)
		if (goc_write_ctx(c.srv->ctx, c.fd, buf, (size_t)n, NULL) != n)
			break;
	goc_fd_close(c.fd);
	goc_waitgroup_done(&c.srv->conns);
}

static void accept_loop(void *arg)
{
	server *s = arg;
	for (;;) {
		int fd = goc_accept_ctx(s->ctx, s->listener, NULL, NULL);
		if (fd < 0)
			break; /* GOC_ECANCELED: shutting down */
		goc_waitgroup_add(&s->conns, 1);
		conn c = {s, fd};
		if (goc_go_copy(serve, &c, sizeof c) != 0) {
			goc_fd_close(fd);
			goc_waitgroup_done(&s->conns);
		}
	}
	goc_waitgroup_done(&s->done);
}

/* ---- the clients that exercise it ---------------------------------------- */

static char addr[64];
static _Atomic int good_clients;

static void client(void *arg)
{
	int id = (int)(intptr_t)arg;
	int fd = goc_dial_tcp(addr, goc_now() + GOC_SEC(5));
	if (fd < 0) {
		fprintf(stderr, "client %d: dial %s: %s\n", id, addr, goc_strerror(fd));
		return;
	}
	int ok = 1;
	for (int i = 0; i < LINES && ok; i++) {
		char line[64], echo[64];
		int len = snprintf(line, sizeof line, "client %d line %d\n", id, i);
		if (goc_write(fd, line, (size_t)len) != len)
			ok = 0;
		int got = 0;
		while (ok && got < len) {
			ssize_t n = goc_read_until(fd, echo + got, (size_t)(len - got), goc_now() + GOC_SEC(5));
			if (n <= 0)
				ok = 0;
			else
				got += (int)n;
		}
		if (ok && memcmp(line, echo, (size_t)len) != 0)
			ok = 0;
	}
	goc_fd_close(fd);
	if (ok)
		atomic_fetch_add(&good_clients, 1);
}

static goc_waitgroup clients_wg;

static void run_client(void *arg)
{
	client(arg);
	goc_waitgroup_done(&clients_wg);
}

static int example(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	server s = {.ctx = goc_ctx_with_cancel(goc_ctx_background())};
	s.listener = goc_listen_tcp("127.0.0.1:0");
	if (s.listener < 0 || goc_local_addr(s.listener, addr, sizeof addr) != 0) {
		fprintf(stderr, "listen: %s\n", goc_strerror(s.listener));
		return 1;
	}
	goc_waitgroup_add(&s.done, 1);
	goc_go(accept_loop, &s);
	printf("echo server on %s\n", addr);

	goc_waitgroup_add(&clients_wg, CLIENTS);
	for (int i = 0; i < CLIENTS; i++)
		goc_go(run_client, (void *)(intptr_t)i);
	goc_waitgroup_wait(&clients_wg);

	/* Shut down: stop accepting, end every connection, wait for them. */
	goc_ctx_cancel(s.ctx);
	goc_waitgroup_wait(&s.done);
	goc_waitgroup_wait(&s.conns);
	goc_fd_close(s.listener);
	goc_ctx_release(s.ctx);

	int good = atomic_load(&good_clients);
	printf("%d of %d clients got every line back; server stopped\n", good, CLIENTS);
	if (good != CLIENTS)
		return 1;
	if (goc_leakcheck(GOC_SEC(2)) != 0)
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	return goc_main(example, argc, argv);
}
