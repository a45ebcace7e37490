/* io_deadline.c - every blocking fd call has a deadline form and a context
 * form (docs/io.md): a read that gives up at its deadline, a write that
 * reports how much went out before its deadline, and an accept ended by
 * cancelling its context from another goroutine. */
#include <goc.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void cancel_soon(void *arg)
{
	goc_sleep(GOC_MS(20));
	goc_ctx_cancel(arg);
	goc_ctx_release(arg); /* its own handle: main may release first */
}

static int example(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	int ok = 1;

	/* 1. A read with a deadline: nobody writes, so it times out. */
	int p[2];
	if (pipe(p) != 0)
		return 1;
	char c;
	int64_t t0 = goc_now();
	ssize_t r = goc_read_until(p[0], &c, 1, t0 + GOC_MS(30));
	printf("read: %s after %lld ms\n", goc_strerror((int)r), (long long)((goc_now() - t0) / 1000000));
	ok &= r == GOC_ETIMEDOUT && goc_now() - t0 >= GOC_MS(30);

	/* 2. A write with a deadline into a pipe nobody reads: it fills the
	 * pipe, then stops at the deadline and says how much it wrote. */
	size_t size = 16 << 20, written = 0;
	char *big = calloc(1, size);
	r = goc_write_until(p[1], big, size, goc_now() + GOC_MS(30), &written);
	printf("write: %s, %zu of %zu bytes written\n", goc_strerror((int)r), written, size);
	ok &= r == GOC_ETIMEDOUT && written > 0 && written < size;
	free(big);
	goc_fd_close(p[0]);
	goc_fd_close(p[1]);

	/* 3. An accept ended by its context, cancelled elsewhere. */
	int l = goc_listen_tcp("127.0.0.1:0");
	goc_ctx *ctx = goc_ctx_with_cancel(goc_ctx_background());
	goc_ctx_retain(ctx); /* for cancel_soon */
	goc_go(cancel_soon, ctx);
	int fd = goc_accept_ctx(ctx, l, NULL, NULL);
	printf("accept: %s\n", goc_strerror(fd));
	ok &= fd == GOC_ECANCELED;
	goc_ctx_release(ctx);
	goc_fd_close(l);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	return goc_main(example, argc, argv);
}
