/* io_echo.c - the smallest goc network program (docs/io.md): listen on a
 * port the system picks, serve each connection in its own goroutine, and
 * talk to it from a client goroutine. Every read and write parks only its
 * goroutine. Checks that three lines come back as sent. */
#include <goc.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void serve(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[512];
	ssize_t n;
	while ((n = goc_read(fd, buf, sizeof buf)) > 0) /* 0: the peer closed */
		if (goc_write(fd, buf, (size_t)n) != n)
			break;
	goc_fd_close(fd);
}

static void accept_loop(void *arg)
{
	int l = (int)(intptr_t)arg;
	int fd;
	while ((fd = goc_accept(l, NULL, NULL)) >= 0)
		goc_go(serve, (void *)(intptr_t)fd);
	/* GOC_ECLOSED: main closed the listener */
}

static int example(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	int l = goc_listen_tcp("127.0.0.1:0");
	char addr[64];
	if (l < 0 || goc_local_addr(l, addr, sizeof addr) != 0)
		return 1;
	goc_go(accept_loop, (void *)(intptr_t)l);

	int fd = goc_dial_tcp(addr, goc_now() + GOC_SEC(5));
	if (fd < 0)
		return 1;
	const char *lines[] = {"one\n", "two\n", "three\n"};
	int ok = 1;
	for (int i = 0; i < 3; i++) {
		size_t len = strlen(lines[i]), got = 0;
		char back[16];
		goc_write(fd, lines[i], len);
		while (got < len) { /* a read may return part of what was sent */
			ssize_t n = goc_read_until(fd, back + got, len - got, goc_now() + GOC_SEC(5));
			if (n <= 0)
				return 1;
			got += (size_t)n;
		}
		ok &= memcmp(back, lines[i], len) == 0;
		printf("echoed: %.*s", (int)len, back);
	}
	goc_fd_close(fd);
	goc_fd_close(l); /* wakes accept_loop with GOC_ECLOSED */
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	return goc_main(example, argc, argv);
}
