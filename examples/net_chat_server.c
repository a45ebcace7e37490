/* net_chat_server.c - a chat server in the shape of Go's classic one (The
 * Go Programming Language, §8.10): a broadcaster goroutine owns the set of
 * clients (confinement: no lock), and talks to the rest only over
 * channels: `entering`, `leaving`, `messages`. Each connection has a
 * reader goroutine (lines from the socket to `messages`) and a writer
 * goroutine (its own outgoing channel to the socket). Cancelling the
 * server's context shuts everything down cleanly: the accept loop and
 * every reader stop, the broadcaster closes each client's channel, the
 * writers drain and exit, and the server waits for all of them.
 *
 * The example drives itself: three clients join on 127.0.0.1, each sees
 * the others arrive, each says hello, each must receive both other
 * greetings, then the server is shut down and no goroutine may be left.
 * Exit status 0 when every client heard everything it should. */
#include <goc.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LINE = 128, CLIENTS = 3 };

typedef struct { char text[LINE]; } line;
GOC_CHAN_DECLARE(lines, line);

typedef struct client {
	lines out;              /* what the broadcaster sends this client */
	goc_waitgroup writer;   /* its writer goroutine, until it ends */
	char name[16];
	struct client *next;    /* the broadcaster's set (its goroutine only) */
} client;

typedef struct client *client_ptr;
GOC_CHAN_DECLARE(clients, client_ptr);

static struct {
	goc_ctx *ctx;
	int listener;
	clients entering, leaving;
	lines messages;
	goc_waitgroup running;  /* accept loop, broadcaster, connection readers */
} srv;

/* ---- the server ------------------------------------------------------------ */

static void broadcaster(void *arg)
{
	(void)arg;
	client *set = NULL;
	for (;;) {
		line msg;
		client *c;
		goc_case cs[] = {
			goc_case_recv(goc_ctx_done(srv.ctx), NULL),
			lines_case_recv(lines_rx_of(srv.messages), &msg),
			clients_case_recv(clients_rx_of(srv.entering), &c),
			clients_case_recv(clients_rx_of(srv.leaving), &c),
		};
		int i = GOC_SELECT(cs);
		if (i == 0)
			break;
		if (i == 1) {
			for (client *k = set; k; k = k->next)
				lines_try_send(lines_tx_of(k->out), msg); /* a slow client misses lines */
		} else if (i == 2) {
			c->next = set;
			set = c;
		} else {
			for (client **k = &set; *k; k = &(*k)->next)
				if (*k == c) {
					*k = c->next;
					break;
				}
			lines_close(lines_tx_of(c->out));
		}
	}
	/* Shutdown: every writer finds its channel closed and ends. Read
	 * next first: once closed, the client's reader may free it. */
	for (client *k = set, *next; k; k = next) {
		next = k->next;
		lines_close(lines_tx_of(k->out));
	}
	goc_waitgroup_done(&srv.running);
}

typedef struct conn { int fd; client *c; } conn;

/* Owns the socket's writing side: lines from the client's channel until
 * the broadcaster closes it. */
static void conn_writer(void *arg)
{
	conn cn = *(conn *)arg;
	line l;
	while (lines_recv(lines_rx_of(cn.c->out), &l) == 0)
		if (goc_write_ctx(srv.ctx, cn.fd, l.text, strlen(l.text), NULL) < 0)
			break;
	goc_waitgroup_done(&cn.c->writer);
}

/* Send to the broadcaster unless the server is shutting down. */
static bool tell(goc_chan *ch, const void *v)
{
	goc_case cs[] = {goc_case_send(ch, v), goc_case_recv(goc_ctx_done(srv.ctx), NULL)};
	return GOC_SELECT(cs) == 0;
}

static void say(const char *fmt, const char *name, const char *text)
{
	line l;
	snprintf(l.text, sizeof l.text, fmt, name, text);
	tell(srv.messages.raw, &l);
}

/* Reads lines from the socket and broadcasts them; owns the connection. */
static void conn_reader(void *arg)
{
	conn cn = *(conn *)arg;
	client *c = cn.c;
	goc_waitgroup_add(&c->writer, 1);
	goc_go_copy(conn_writer, &cn, sizeof cn);
	line welcome;
	snprintf(welcome.text, sizeof welcome.text, "you are %s\n", c->name);
	lines_send(lines_tx_of(c->out), welcome);
	/* Enter first, then announce: whoever hears the arrival is already
	 * in the set with the newcomer. */
	bool entered = tell(srv.entering.raw, &c);
	if (entered)
		say("%s has arrived%s\n", c->name, "");
	else
		lines_close(lines_tx_of(c->out)); /* never in the set: ours to close */

	char buf[LINE];
	size_t have = 0;
	ssize_t n;
	while (entered && (n = goc_read_ctx(srv.ctx, cn.fd, buf + have, sizeof buf - 1 - have)) > 0) {
		have += (size_t)n;
		char *nl;
		while ((nl = memchr(buf, '\n', have)) != NULL) {
			*nl = '\0';
			say("%s: %.96s\n", c->name, buf);
			have -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, have);
		}
		if (have == sizeof buf - 1)
			have = 0; /* an over-long line: drop it */
	}
	/* The client left: the broadcaster drops it and closes its channel.
	 * If we are shutting down instead, the broadcaster closes it on exit. */
	if (entered && tell(srv.leaving.raw, &c))
		say("%s has left%s\n", c->name, "");
	goc_waitgroup_wait(&c->writer);
	goc_fd_close(cn.fd);
	lines_release(c->out);
	free(c);
	goc_waitgroup_done(&srv.running);
}

static void accept_loop(void *arg)
{
	(void)arg;
	int next_id = 0;
	int fd;
	while ((fd = goc_accept_ctx(srv.ctx, srv.listener, NULL, NULL)) >= 0) {
		client *c = calloc(1, sizeof *c);
		if (!c || !(c->out = lines_make(16)).raw) {
			free(c);
			goc_fd_close(fd);
			continue;
		}
		snprintf(c->name, sizeof c->name, "c%d", ++next_id);
		conn cn = {fd, c};
		goc_waitgroup_add(&srv.running, 1);
		goc_go_copy(conn_reader, &cn, sizeof cn);
	}
	goc_waitgroup_done(&srv.running);
}

/* ---- the clients that exercise it ------------------------------------------ */

typedef struct reader { int fd; char buf[1024]; size_t have; } reader;

/* The next line from the server (without its newline), or NULL. */
static const char *next_line(reader *r, char *out, size_t size)
{
	for (;;) {
		char *nl = memchr(r->buf, '\n', r->have);
		if (nl) {
			size_t len = (size_t)(nl - r->buf);
			snprintf(out, size, "%.*s", (int)len, r->buf);
			r->have -= len + 1;
			memmove(r->buf, nl + 1, r->have);
			return out;
		}
		ssize_t n = goc_read_until(r->fd, r->buf + r->have, sizeof r->buf - r->have, goc_now() + GOC_SEC(5));
		if (n <= 0)
			return NULL;
		r->have += (size_t)n;
	}
}

/* Read lines until `want` shows up; false if the connection ends first. */
static bool expect(reader *r, const char *want)
{
	char l[LINE];
	while (next_line(r, l, sizeof l))
		if (strcmp(l, want) == 0)
			return true;
	fprintf(stderr, "never got \"%s\"\n", want);
	return false;
}

/* Read lines until each of the n wanted ones has shown up, in any order. */
static bool expect_all(reader *r, char want[][LINE], int n)
{
	bool seen[CLIENTS] = {false};
	int left = n;
	char l[LINE];
	while (left > 0 && next_line(r, l, sizeof l))
		for (int i = 0; i < n; i++)
			if (!seen[i] && strcmp(l, want[i]) == 0) {
				seen[i] = true;
				left--;
			}
	if (left)
		fprintf(stderr, "missed %d greeting(s)\n", left);
	return left == 0;
}

static int example(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	srv.ctx = goc_ctx_with_cancel(goc_ctx_background());
	srv.entering = clients_make(0);
	srv.leaving = clients_make(0);
	srv.messages = lines_make(0);
	if (!srv.ctx || !srv.entering.raw || !srv.leaving.raw || !srv.messages.raw)
		return 1;
	srv.listener = goc_listen_tcp("127.0.0.1:0");
	char addr[64];
	if (srv.listener < 0 || goc_local_addr(srv.listener, addr, sizeof addr) != 0)
		return 1;
	goc_waitgroup_add(&srv.running, 2);
	goc_go(broadcaster, NULL);
	goc_go(accept_loop, NULL);
	printf("chat server on %s\n", addr);

	/* Clients join one by one; each sees the later ones arrive. */
	reader r[CLIENTS];
	char name[16], want[LINE];
	bool ok = true;
	for (int i = 0; i < CLIENTS; i++) {
		r[i].fd = goc_dial_tcp(addr, goc_now() + GOC_SEC(5));
		r[i].have = 0;
		if (r[i].fd < 0)
			return 1;
		snprintf(name, sizeof name, "c%d", i + 1);
		snprintf(want, sizeof want, "you are %s", name);
		ok &= expect(&r[i], want);
		snprintf(want, sizeof want, "%s has arrived", name);
		for (int j = 0; j < i; j++)
			ok &= expect(&r[j], want);
	}
	for (int i = 0; i < CLIENTS; i++) {
		char hello[64];
		int len = snprintf(hello, sizeof hello, "hello from client %d\n", i + 1);
		ok &= goc_write(r[i].fd, hello, (size_t)len) == len;
	}
	/* Each hears the others' greetings, in whatever order they came. */
	for (int i = 0; i < CLIENTS; i++) {
		char wants[CLIENTS][LINE];
		int n = 0;
		for (int j = 0; j < CLIENTS; j++)
			if (j != i)
				snprintf(wants[n++], LINE, "c%d: hello from client %d", j + 1, j + 1);
		ok &= expect_all(&r[i], wants, n);
	}
	/* The last client leaves; the others hear it. */
	goc_fd_close(r[CLIENTS - 1].fd);
	snprintf(want, sizeof want, "c%d has left", CLIENTS);
	for (int i = 0; i < CLIENTS - 1; i++)
		ok &= expect(&r[i], want);
	printf("every client heard every greeting: %s\n", ok ? "yes" : "NO");

	/* Clean shutdown by context: every server goroutine ends. */
	goc_ctx_cancel(srv.ctx);
	goc_waitgroup_wait(&srv.running);
	for (int i = 0; i < CLIENTS - 1; i++) {
		char l[LINE];
		ok &= next_line(&r[i], l, sizeof l) == NULL; /* the server hung up */
		goc_fd_close(r[i].fd);
	}
	goc_fd_close(srv.listener);
	printf("server stopped cleanly: %s\n", ok ? "yes" : "NO");
	goc_ctx_release(srv.ctx);
	clients_release(srv.entering);
	clients_release(srv.leaving);
	lines_release(srv.messages);
	return ok && goc_leakcheck(GOC_SEC(2)) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	return goc_main(example, argc, argv);
}
