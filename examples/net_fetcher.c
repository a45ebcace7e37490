/* net_fetcher.c - a concurrent fetcher with a deadline per request: one
 * goroutine per URL, each request bounded by its own context (Go's
 * http.Get with context.WithTimeout), the results gathered over a
 * channel. A request that overruns its deadline is abandoned, its
 * connection closed, and the other fetches are not held up by it.
 *
 * The example drives itself: it starts a tiny HTTP/1.0 server on
 * 127.0.0.1 whose pages answer after the delay their path names
 * ("/delay/4000" answers after 4 s), then fetches eight pages with a
 * 1 s deadline each: the quick ones must arrive whole, the slow ones
 * must time out, and the whole batch must take about one deadline, not
 * the sum of the delays. Exit status 0 when every outcome is the expected
 * one. */
#include <goc.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEADLINE GOC_SEC(1)

/* ---- the local server -------------------------------------------------- */

static goc_ctx *server_ctx;
static goc_waitgroup server_wg;

static void handle(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char req[512];
	size_t have = 0;
	ssize_t n;
	/* Read the request head (up to the blank line). */
	while (have < sizeof req - 1 &&
	       (n = goc_read_ctx(server_ctx, fd, req + have, sizeof req - 1 - have)) > 0) {
		have += (size_t)n;
		req[have] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	req[have] = '\0';
	int delay_ms = 0;
	char path[128] = "";
	if (sscanf(req, "GET %127s", path) == 1)
		sscanf(path, "/delay/%d", &delay_ms);
	goc_ctx *d = goc_ctx_with_timeout(server_ctx, GOC_MS(delay_ms));
	goc_recv(goc_ctx_done(d), NULL); /* the page's "work" (or shutdown) */
	goc_ctx_release(d);
	char body[160], resp[320];
	int blen = snprintf(body, sizeof body, "page %s, served after %d ms\n", path, delay_ms);
	int rlen = snprintf(resp, sizeof resp, "HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s", blen, body);
	/* The client may have given up and closed: -EPIPE, ignored. */
	goc_write_ctx(server_ctx, fd, resp, (size_t)rlen, NULL);
	goc_fd_close(fd);
	goc_waitgroup_done(&server_wg);
}

static void serve(void *arg)
{
	int l = (int)(intptr_t)arg;
	int fd;
	while ((fd = goc_accept_ctx(server_ctx, l, NULL, NULL)) >= 0) {
		goc_waitgroup_add(&server_wg, 1);
		goc_go(handle, (void *)(intptr_t)fd);
	}
	goc_waitgroup_done(&server_wg);
}

/* ---- the fetcher -------------------------------------------------------- */

typedef struct result {
	int index;
	int err;              /* 0, or why the fetch failed */
	int status;           /* HTTP status */
	char body[160];
} result;

typedef struct job {
	int index;
	const char *addr;
	const char *path;
	goc_chan *results;
} job;

/* GET path from addr within ctx: fills r. Every call here parks only this
 * goroutine and ends when ctx does. */
static void get(goc_ctx *ctx, const char *addr, const char *path, result *r)
{
	int fd = goc_dial_tcp_ctx(ctx, addr);
	if (fd < 0) {
		r->err = fd;
		return;
	}
	char req[256];
	int len = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, addr);
	ssize_t w = goc_write_ctx(ctx, fd, req, (size_t)len, NULL);
	if (w < 0) {
		r->err = (int)w;
		goc_fd_close(fd);
		return;
	}
	char resp[512];
	size_t have = 0;
	ssize_t n;
	while (have < sizeof resp - 1 && (n = goc_read_ctx(ctx, fd, resp + have, sizeof resp - 1 - have)) > 0)
		have += (size_t)n;
	goc_fd_close(fd);
	if (n < 0) { /* HTTP/1.0: the server closes after the body */
		r->err = (int)n;
		return;
	}
	resp[have] = '\0';
	char *body = strstr(resp, "\r\n\r\n");
	if (sscanf(resp, "HTTP/1.0 %d", &r->status) != 1 || !body) {
		r->err = GOC_EINVAL;
		return;
	}
	snprintf(r->body, sizeof r->body, "%s", body + 4);
}

static void fetch(void *arg)
{
	job j = *(job *)arg;
	result r = {.index = j.index};
	goc_ctx *ctx = goc_ctx_with_timeout(goc_ctx_background(), DEADLINE);
	get(ctx, j.addr, j.path, &r);
	goc_ctx_release(ctx);
	goc_send(j.results, &r);
	goc_chan_release(j.results);
}

static int example(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	server_ctx = goc_ctx_with_cancel(goc_ctx_background());
	int l = goc_listen_tcp("127.0.0.1:0");
	char addr[64];
	if (!server_ctx || l < 0 || goc_local_addr(l, addr, sizeof addr) != 0)
		return 1;
	goc_waitgroup_add(&server_wg, 1);
	goc_go(serve, (void *)(intptr_t)l);

	static const char *paths[] = {
		"/delay/0", "/delay/4000", "/delay/5", "/delay/6000",
		"/delay/10", "/delay/5000", "/delay/1", "/delay/20",
	};
	enum { N = sizeof paths / sizeof paths[0] };
	goc_chan *results = goc_chan_make(sizeof(result), N);
	int64_t t0 = goc_now();
	for (int i = 0; i < N; i++) {
		goc_chan_retain(results); /* each fetcher's reference */
		job j = {i, addr, paths[i], results};
		goc_go_copy(fetch, &j, sizeof j);
	}
	bool ok = true;
	for (int k = 0; k < N; k++) {
		result r;
		goc_recv(results, &r);
		int delay;
		sscanf(paths[r.index], "/delay/%d", &delay);
		bool slow = delay >= 4000; /* well past the deadline, either side of it */
		if (r.err == 0) {
			char want[160];
			snprintf(want, sizeof want, "page %s, served after %d ms\n", paths[r.index], delay);
			printf("%-12s %d %s", paths[r.index], r.status, r.body);
			ok &= !slow && r.status == 200 && strcmp(r.body, want) == 0;
		} else {
			printf("%-12s failed: %s\n", paths[r.index], goc_strerror(r.err));
			ok &= slow && r.err == GOC_ETIMEDOUT;
		}
	}
	int64_t took = goc_now() - t0;
	printf("%d fetches in %lld ms (deadline %lld ms each)\n", N, (long long)(took / 1000000),
	       (long long)(DEADLINE / 1000000));
	/* Concurrent: about one deadline in all, far less than the delays'
	 * sum (15036 ms); generous for slow sanitizer builds. */
	ok &= took < GOC_MS(3500);
	goc_chan_release(results);

	goc_ctx_cancel(server_ctx); /* the slow handlers stop waiting */
	goc_waitgroup_wait(&server_wg);
	goc_fd_close(l);
	goc_ctx_release(server_ctx);
	printf("%s\n", ok ? "every outcome as expected" : "UNEXPECTED OUTCOME");
	return ok && goc_leakcheck(GOC_SEC(2)) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	return goc_main(example, argc, argv);
}
