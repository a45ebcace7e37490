/* sock.c - goc_listen_tcp, goc_dial_tcp and address strings (goc/io.h),
 * after Go's net.Listen / net.Dial.
 *
 * Address strings: "host:port", "[ipv6]:port", "unix:/path" and
 * "unix:@abstract". A numeric host and port are parsed here; anything else
 * goes to getaddrinfo, which may block on DNS, so it runs as goc_blocking
 * (the worker's P is lent to another thread meanwhile). A dial tries each
 * resolved address in turn and gives each a share of the time left (at
 * least 2 s, as Go's partialDeadline); a listen takes the first IPv4
 * address, else the first one (Go's preference), and an empty host listens
 * on IPv6's wildcard with IPV6_V6ONLY off (every IPv4 and IPv6 address),
 * falling back to IPv4's where the system has no IPv6.
 *
 * Sockets are created non-blocking and close-on-exec and registered at
 * once (goc__pd_new); TCP connections get TCP_NODELAY, Go's default, and
 * TCP_INQ (fdio.c: reads learn whether they drained the socket). A Unix
 * listener's socket file is removed by goc_fd_close, as Go's
 * UnixListener.Close does.
 */
#define _GNU_SOURCE
#include "netpoll.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_ADDRS 16

typedef struct addrlist {
	int n;
	struct sockaddr_storage a[MAX_ADDRS];
	socklen_t len[MAX_ADDRS];
} addrlist;

/* ---- parsing ------------------------------------------------------------- */

typedef struct parsed {
	bool is_unix;
	char host[256];   /* brackets removed; may be empty */
	char port[64];
	struct sockaddr_un un;
	socklen_t unlen;
} parsed;

static int parse_unix(const char *path, parsed *p)
{
	size_t len = strlen(path);
	if (len == 0 || len >= sizeof p->un.sun_path)
		return GOC_EINVAL;
	memset(&p->un, 0, sizeof p->un);
	p->un.sun_family = AF_UNIX;
	memcpy(p->un.sun_path, path, len);
	if (path[0] == '@') {
		/* Abstract namespace: a leading NUL, the name's exact length. */
		p->un.sun_path[0] = '\0';
		p->unlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	} else {
		p->unlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	}
	p->is_unix = true;
	return 0;
}

static int parse(const char *addr, parsed *p)
{
	memset(p, 0, sizeof *p);
	if (!addr)
		return GOC_EINVAL;
	if (strncmp(addr, "unix:", 5) == 0)
		return parse_unix(addr + 5, p);
	const char *colon;
	size_t hostlen;
	const char *host = addr;
	if (addr[0] == '[') {
		const char *end = strchr(addr, ']');
		if (!end || end[1] != ':')
			return GOC_EINVAL;
		host = addr + 1;
		hostlen = (size_t)(end - host);
		colon = end + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon)
			return GOC_EINVAL;
		hostlen = (size_t)(colon - addr);
		if (memchr(addr, ':', hostlen))
			return GOC_EINVAL; /* IPv6 needs brackets: "[::1]:80" */
	}
	const char *port = colon + 1;
	size_t portlen = strlen(port);
	if (hostlen >= sizeof p->host || portlen == 0 || portlen >= sizeof p->port)
		return GOC_EINVAL;
	memcpy(p->host, host, hostlen);
	memcpy(p->port, port, portlen);
	/* A numeric port is a number below 65536 (getaddrinfo would wrap). */
	if (strspn(port, "0123456789") == portlen && (portlen > 5 || atoi(port) > 65535))
		return GOC_EINVAL;
	return 0;
}

/* ---- resolution ---------------------------------------------------------- */

static void add_ip(addrlist *l, int family, const void *ip, int port)
{
	if (l->n == MAX_ADDRS)
		return;
	struct sockaddr_storage *ss = &l->a[l->n];
	memset(ss, 0, sizeof *ss);
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		memcpy(&s4->sin_addr, ip, sizeof s4->sin_addr);
		l->len[l->n++] = sizeof *s4;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		memcpy(&s6->sin6_addr, ip, sizeof s6->sin6_addr);
		l->len[l->n++] = sizeof *s6;
	}
}

typedef struct gai_call {
	const char *host, *port;
	int flags;
	struct addrinfo *res;
	int rc, err;
} gai_call;

static void *gai_run(void *arg)
{
	gai_call *c = arg;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = c->flags};
	c->rc = getaddrinfo(c->host, c->port, &hints, &c->res);
	c->err = errno;
	return NULL;
}

static int gai_to_goc_error(const gai_call *c)
{
	switch (c->rc) {
	case EAI_AGAIN: return GOC_EAGAIN;
	case EAI_MEMORY: return GOC_ENOMEM;
	case EAI_SERVICE: return GOC_EINVAL;
	case EAI_SYSTEM: return c->err ? -c->err : -ENOENT;
	default: return -ENOENT; /* no such host */
	}
}

static int port_number(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	return *end == '\0' && s[0] >= '0' && s[0] <= '9' && v >= 0 && v <= 65535 ? (int)v : -1;
}

/* Resolve p (not Unix) into l. passive: for listening. */
static int resolve(const parsed *p, bool passive, addrlist *l)
{
	l->n = 0;
	int port = port_number(p->port);
	unsigned char ip[sizeof(struct in6_addr)];
	if (port >= 0 && p->host[0] == '\0') {
		if (passive) {
			add_ip(l, AF_INET6, &in6addr_any, port);
			struct in_addr any = {htonl(INADDR_ANY)};
			add_ip(l, AF_INET, &any, port);
		} else {
			struct in_addr lo = {htonl(INADDR_LOOPBACK)};
			add_ip(l, AF_INET, &lo, port);
			add_ip(l, AF_INET6, &in6addr_loopback, port);
		}
		return 0;
	}
	if (port >= 0 && inet_pton(AF_INET, p->host, ip) == 1) {
		add_ip(l, AF_INET, ip, port);
		return 0;
	}
	if (port >= 0 && inet_pton(AF_INET6, p->host, ip) == 1) {
		add_ip(l, AF_INET6, ip, port);
		return 0;
	}
	gai_call c = {.host = p->host[0] ? p->host : NULL, .port = p->port,
	              .flags = passive && !p->host[0] ? AI_PASSIVE : 0};
	goc_blocking(gai_run, &c);
	if (c.rc != 0)
		return gai_to_goc_error(&c);
	for (struct addrinfo *ai = c.res; ai && l->n < MAX_ADDRS; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof l->a[0])
			continue;
		memcpy(&l->a[l->n], ai->ai_addr, ai->ai_addrlen);
		l->len[l->n++] = ai->ai_addrlen;
	}
	freeaddrinfo(c.res);
	return l->n > 0 ? 0 : -ENOENT;
}

/* ---- listen -------------------------------------------------------------- */

static int listen_backlog(void)
{
	static _Atomic int cached;
	int b = atomic_load_explicit(&cached, memory_order_relaxed);
	if (b > 0)
		return b;
	b = SOMAXCONN;
	FILE *f = fopen("/proc/sys/net/core/somaxconn", "re");
	if (f) {
		int v;
		if (fscanf(f, "%d", &v) == 1 && v > 0)
			b = v > 65535 ? 65535 : v; /* older kernels keep it in 16 bits */
		fclose(f);
	}
	atomic_store_explicit(&cached, b, memory_order_relaxed);
	return b;
}

/* Close a socket goc has registered (or not yet), keeping errno's story. */
static void sock_discard(int fd)
{
	(void)goc_fd_close(fd);
}

static int listen_on(const struct sockaddr *sa, socklen_t len, bool dual_stack)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1, zero = 0;
	if (sa->sa_family != AF_UNIX)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (dual_stack)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
	if (bind(fd, sa, len) < 0 || listen(fd, listen_backlog()) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	int err;
	if (!goc__pd_new(fd, GOC__PD_KIND_KNOWN | GOC__PD_KIND_SOCKET | GOC__PD_KIND_STREAM, &err)) {
		close(fd);
		return err;
	}
	return fd;
}

int goc_listen_tcp(const char *addr)
{
	parsed p;
	int rc = parse(addr, &p);
	if (rc)
		return rc;
	if (p.is_unix) {
		char *path = NULL;
		if (p.un.sun_path[0] != '\0' && !(path = strdup(p.un.sun_path)))
			return GOC_ENOMEM;
		int fd = listen_on((struct sockaddr *)&p.un, p.unlen, false);
		if (fd < 0) {
			free(path);
			return fd;
		}
		goc__pd *pd = goc__pd_lookup(fd);
		if (path && pd)
			goc__pd_set_unlink_path(pd, path);
		else
			free(path);
		return fd;
	}
	addrlist l;
	if ((rc = resolve(&p, true, &l)) != 0)
		return rc;
	if (p.host[0] == '\0') {
		/* Wildcard: dual-stack IPv6 first, IPv4 if the system has none. */
		rc = -EAFNOSUPPORT;
		for (int i = 0; i < l.n; i++) {
			rc = listen_on((struct sockaddr *)&l.a[i], l.len[i], l.a[i].ss_family == AF_INET6);
			if (rc >= 0 || (rc != -EAFNOSUPPORT && rc != -EADDRNOTAVAIL))
				return rc;
		}
		return rc;
	}
	int pick = 0;
	for (int i = 0; i < l.n; i++)
		if (l.a[i].ss_family == AF_INET) {
			pick = i;
			break;
		}
	return listen_on((struct sockaddr *)&l.a[pick], l.len[pick], false);
}

/* ---- dial ---------------------------------------------------------------- */

/* Go's partialDeadline: the time left shared among the addresses left,
 * each getting at least 2 s (or all that is left). */
static int64_t partial_deadline(int64_t now, int64_t deadline, int left)
{
	if (deadline == GOC__NO_DEADLINE)
		return deadline;
	int64_t remaining = deadline - now;
	int64_t share = remaining / left;
	const int64_t sane = (int64_t)2 * 1000000000;
	if (share < sane)
		share = remaining < sane ? remaining : sane;
	return now + share;
}

static int dial_one(const struct sockaddr *sa, socklen_t len, int64_t deadline, goc_ctx *ctx)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int inq = sa->sa_family == AF_INET || sa->sa_family == AF_INET6 ? goc__tcp_inq_on(fd) : 0;
	int err;
	if (!goc__pd_new(fd, GOC__PD_KIND_KNOWN | GOC__PD_KIND_SOCKET | GOC__PD_KIND_STREAM | inq, &err)) {
		close(fd);
		return err;
	}
	int rc = goc__connect_within(fd, sa, len, deadline, ctx);
	if (rc < 0) {
		sock_discard(fd);
		return rc;
	}
	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) {
		int one = 1;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	return fd;
}

static int dial(const char *addr, int64_t deadline, goc_ctx *ctx)
{
	parsed p;
	int rc = parse(addr, &p);
	if (rc)
		return rc;
	if (ctx && (rc = goc_ctx_err(ctx)) != 0)
		return rc;
	if (p.is_unix)
		return dial_one((struct sockaddr *)&p.un, p.unlen, deadline, ctx);
	addrlist l;
	if ((rc = resolve(&p, false, &l)) != 0)
		return rc;
	rc = -ECONNREFUSED;
	for (int i = 0; i < l.n; i++) {
		if (ctx && goc_ctx_err(ctx))
			return goc_ctx_err(ctx);
		int64_t now = goc__nanotime();
		if (deadline != GOC__NO_DEADLINE && now >= deadline)
			return i == 0 ? GOC_ETIMEDOUT : rc;
		rc = dial_one((struct sockaddr *)&l.a[i], l.len[i], partial_deadline(now, deadline, l.n - i), ctx);
		if (rc >= 0)
			return rc;
		if (ctx && goc_ctx_err(ctx))
			return goc_ctx_err(ctx);
	}
	return rc;
}

int goc_dial_tcp(const char *addr, int64_t deadline)
{
	return dial(addr, deadline, NULL);
}

int goc_dial_tcp_ctx(goc_ctx *ctx, const char *addr)
{
	if (!ctx)
		return GOC_EINVAL;
	int64_t deadline;
	goc_ctx_deadline(ctx, &deadline);
	return dial(addr, deadline, ctx);
}

/* ---- address strings ----------------------------------------------------- */

static int format_addr(const struct sockaddr_storage *ss, socklen_t len, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];
	int n;
	switch (ss->ss_family) {
	case AF_INET: {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
		n = snprintf(buf, size, "%s:%u", ip, ntohs(s4->sin_port));
		break;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
		n = snprintf(buf, size, "[%s]:%u", ip, ntohs(s6->sin6_port));
		break;
	}
	case AF_UNIX: {
		const struct sockaddr_un *un = (const struct sockaddr_un *)ss;
		size_t off = offsetof(struct sockaddr_un, sun_path);
		size_t plen = len > off ? len - off : 0;
		if (plen > 0 && un->sun_path[0] == '\0')
			n = snprintf(buf, size, "unix:@%.*s", (int)(plen - 1), un->sun_path + 1);
		else
			n = snprintf(buf, size, "unix:%.*s", (int)strnlen(un->sun_path, plen), un->sun_path);
		break;
	}
	default:
		return -EAFNOSUPPORT;
	}
	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}

static int sock_addr(int fd, bool peer, char *buf, size_t size)
{
	if (!buf || size == 0)
		return GOC_EINVAL;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	memset(&ss, 0, sizeof ss);
	int r = peer ? getpeername(fd, (struct sockaddr *)&ss, &len) : getsockname(fd, (struct sockaddr *)&ss, &len);
	if (r < 0)
		return -errno;
	return format_addr(&ss, len, buf, size);
}

int goc_local_addr(int fd, char *buf, size_t size)
{
	return sock_addr(fd, false, buf, size);
}

int goc_peer_addr(int fd, char *buf, size_t size)
{
	return sock_addr(fd, true, buf, size);
}
