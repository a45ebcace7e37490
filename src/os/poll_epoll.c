/* poll_epoll.c - goc__os_poll_* on Linux epoll (see poll.h).
 * An eventfd registered with a NULL pollable is the interrupt: writing it
 * wakes the blocked poller; the poller drains it. Linux only (the build
 * globs src/os/; poll_kqueue.c serves the BSDs and macOS).
 *
 * Publication: a pollable is written by the thread that registers it (a
 * pd fresh from calloc, see src/net/netpoll.c) and read by whichever thread
 * polls its events. The kernel orders the two (an fd is reported only
 * after epoll_ctl added it), but the C memory model does not see that
 * order, nor does TSan (epoll_pwait2 goes through syscall(2), which it does
 * not intercept). So registration makes a release increment of
 * `registrations` before epoll_ctl, and a poll that got events makes an
 * acquire load of it before it calls any callback: everything written
 * before a registration happens before the dispatch of its events. */
#if defined(__linux__)

#include "poll.h"
#include "../internal.h"

#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int epfd = -1;
static int evfd = -1;
static _Atomic uint32_t interrupt_pending;
static _Atomic uint64_t polls;   /* goc__os_poll_count */
static _Atomic uint64_t registrations;   /* publishes pollables (see the top) */

static int wait_ms(struct epoll_event *evs, int max, int64_t deadline);
static int dispatch(struct epoll_event *evs, int n);

int goc__os_poll_init(void)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return -errno;
	evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (evfd < 0) {
		int e = -errno;
		close(epfd);
		epfd = -1;
		return e;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, evfd, &ev) < 0)
		return -errno;
	return 0;
}

void goc__os_poll_close(void)
{
	if (evfd >= 0)
		close(evfd);
	if (epfd >= 0)
		close(epfd);
	epfd = evfd = -1;
	atomic_store(&interrupt_pending, 0);
}

int goc__os_poll_add(int fd, goc__pollable *p)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = p};
	/* release: pairs with dispatch's acquire (see the top). */
	atomic_fetch_add_explicit(&registrations, 1, memory_order_release);
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int goc__os_poll_del(int fd)
{
	struct epoll_event ev = {0};
	return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &ev) < 0 ? -errno : 0;
}

/* epoll_pwait2 (Linux 5.11) takes a nanosecond timeout, so timers fire
 * on time instead of on the next whole millisecond; older kernels get
 * epoll_wait with the timeout rounded up. */
static int wait_ns(struct epoll_event *evs, int max, int64_t deadline)
{
#if defined(SYS_epoll_pwait2)
	static _Atomic int unsupported;
	if (deadline != 0 && deadline != INT64_MAX && !atomic_load_explicit(&unsupported, memory_order_relaxed)) {
		int64_t d = deadline - goc__nanotime();
		if (d < 0)
			d = 0;
		struct timespec ts = {.tv_sec = d / 1000000000, .tv_nsec = d % 1000000000};
		long n = syscall(SYS_epoll_pwait2, epfd, evs, max, &ts, NULL, (size_t)8);
		if (n >= 0 || errno != ENOSYS)
			return (int)n;
		atomic_store_explicit(&unsupported, 1, memory_order_relaxed);
	}
#endif
	return -2;
}

uint64_t goc__os_poll_count(void)
{
	return atomic_load_explicit(&polls, memory_order_relaxed);
}

int goc__os_poll_wait(int64_t deadline)
{
	/* Not a locked add: concurrent bumps may merge, but the count moves,
	 * which is all the monitor looks at. */
	atomic_store_explicit(&polls, atomic_load_explicit(&polls, memory_order_relaxed) + 1,
	                      memory_order_relaxed);
	struct epoll_event evs[128];
	int n = wait_ns(evs, 128, deadline);
	if (n == -2)
		n = wait_ms(evs, 128, deadline);
	return dispatch(evs, n);
}

static int wait_ms(struct epoll_event *evs, int max, int64_t deadline)
{
	int timeout_ms;
	if (deadline == 0) {
		timeout_ms = 0;
	} else if (deadline == INT64_MAX) {
		timeout_ms = -1;
	} else {
		int64_t d = deadline - goc__nanotime();
		if (d <= 0)
			timeout_ms = 0;
		else if (d < 1000000)
			timeout_ms = 1; /* round up: never wake before the deadline */
		else if (d > (int64_t)1000 * 1000000 * 3600)
			timeout_ms = 3600 * 1000;
		else
			timeout_ms = (int)((d + 999999) / 1000000);
	}
	return epoll_wait(epfd, evs, max, timeout_ms);
}

static int dispatch(struct epoll_event *evs, int n)
{
	int fired = 0;
	if (n > 0) /* acquire: pairs with goc__os_poll_add's release */
		(void)atomic_load_explicit(&registrations, memory_order_acquire);
	for (int i = 0; i < n; i++) {
		goc__pollable *p = evs[i].data.ptr;
		if (!p) {
			uint64_t v;
			(void)!read(evfd, &v, sizeof v);
			atomic_store_explicit(&interrupt_pending, 0, memory_order_release);
			continue;
		}
		uint32_t e = 0, x = evs[i].events;
		if (x & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			e |= GOC__POLL_IN;
		if (x & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			e |= GOC__POLL_OUT;
		if (x & EPOLLERR)
			e |= GOC__POLL_ERR;
		if (x & (EPOLLHUP | EPOLLRDHUP))
			e |= GOC__POLL_HUP;
		p->ready(p, e);
		fired++;
	}
	return fired;
}

void goc__os_poll_interrupt(void)
{
	/* Coalesce: one pending write is enough to wake the poller. */
	if (atomic_exchange_explicit(&interrupt_pending, 1, memory_order_acq_rel) == 0) {
		uint64_t one = 1;
		(void)!write(evfd, &one, sizeof one);
	}
}

#endif
