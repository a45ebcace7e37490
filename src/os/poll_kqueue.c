/* poll_kqueue.c - goc__os_poll_* on kqueue (macOS and the BSDs; see
 * poll.h). Compiled everywhere (the build globs src/os/), it is empty
 * where kqueue does not exist; poll_epoll.c is its Linux twin.
 *
 * Each fd gets two filters, EVFILT_READ and EVFILT_WRITE, both EV_CLEAR
 * (edge-triggered, as epoll's EPOLLET): an event is reported once per
 * change of state. The registered pollable travels in udata. Regular
 * files are refused with -EPERM, as epoll refuses them, so the net module
 * treats them as always ready (kqueue would report them readable forever).
 * The interrupt is a non-blocking pipe whose read end is registered with
 * NULL udata: writing one byte wakes the poller; the poller drains it.
 * Same invariants as poll_epoll.c: one poller blocks at a time (sched's
 * poller_active), others poll with deadline 0; and the same publication of
 * pollables: a release increment of `registrations` before kevent adds an
 * fd, an acquire load of it after a poll that got events, so what the
 * registering thread wrote into the pollable happens before its callback
 * (the kernel's order is invisible to the memory model and to TSan). */
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__) || \
        defined(__DragonFly__)

#include "poll.h"
#include "../internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/event.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#if defined(__NetBSD__) && __NetBSD_Version__ < 1000000000
typedef intptr_t kq_udata;   /* older NetBSD declares udata as intptr_t */
#else
typedef void *kq_udata;
#endif

static int kq = -1;
static int wake_rd = -1, wake_wr = -1;
static _Atomic uint32_t interrupt_pending;
static _Atomic uint64_t polls;
static _Atomic uint64_t registrations;   /* publishes pollables (see the top) */

static int set_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	int fdfl = fcntl(fd, F_GETFD);
	if (fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

int goc__os_poll_init(void)
{
	kq = kqueue();
	if (kq < 0)
		return -errno;
	int p[2];
	int rc = 0;
	if (pipe(p) < 0) {
		rc = -errno;
		goto fail;
	}
	wake_rd = p[0];
	wake_wr = p[1];
	if ((rc = set_flags(wake_rd)) || (rc = set_flags(wake_wr)) ||
	    (fcntl(kq, F_SETFD, FD_CLOEXEC) < 0 && (rc = -errno)))
		goto fail;
	struct kevent ev;
	EV_SET(&ev, wake_rd, EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0, (kq_udata)0);
	if (kevent(kq, &ev, 1, NULL, 0, NULL) < 0) {
		rc = -errno;
		goto fail;
	}
	return 0;
fail:
	goc__os_poll_close();
	return rc;
}

void goc__os_poll_close(void)
{
	if (wake_rd >= 0)
		close(wake_rd);
	if (wake_wr >= 0)
		close(wake_wr);
	if (kq >= 0)
		close(kq);
	kq = wake_rd = wake_wr = -1;
	atomic_store(&interrupt_pending, 0);
}

int goc__os_poll_add(int fd, goc__pollable *p)
{
	struct stat st;
	if (fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
		return -EPERM;
	struct kevent ev[2];
	EV_SET(&ev[0], fd, EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0, (kq_udata)p);
	EV_SET(&ev[1], fd, EVFILT_WRITE, EV_ADD | EV_CLEAR, 0, 0, (kq_udata)p);
	/* release: pairs with goc__os_poll_wait's acquire. */
	atomic_fetch_add_explicit(&registrations, 1, memory_order_release);
	return kevent(kq, ev, 2, NULL, 0, NULL) < 0 ? -errno : 0;
}

int goc__os_poll_del(int fd)
{
	struct kevent ev[2];
	EV_SET(&ev[0], fd, EVFILT_READ, EV_DELETE, 0, 0, (kq_udata)0);
	EV_SET(&ev[1], fd, EVFILT_WRITE, EV_DELETE, 0, 0, (kq_udata)0);
	/* One filter may be gone already (a pipe end has only one side). */
	if (kevent(kq, ev, 2, NULL, 0, NULL) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

uint64_t goc__os_poll_count(void)
{
	return atomic_load_explicit(&polls, memory_order_relaxed);
}

int goc__os_poll_wait(int64_t deadline)
{
	/* Not a locked add: the monitor only looks for movement. */
	atomic_store_explicit(&polls, atomic_load_explicit(&polls, memory_order_relaxed) + 1,
	                      memory_order_relaxed);
	struct timespec ts, *tsp = &ts;
	if (deadline == INT64_MAX) {
		tsp = NULL;
	} else {
		int64_t d = deadline == 0 ? 0 : deadline - goc__nanotime();
		if (d < 0)
			d = 0;
		ts.tv_sec = (time_t)(d / 1000000000);
		ts.tv_nsec = (long)(d % 1000000000);
	}
	struct kevent evs[128];
	int n = kevent(kq, NULL, 0, evs, 128, tsp);
	int fired = 0;
	if (n > 0) /* acquire: pairs with goc__os_poll_add's release */
		(void)atomic_load_explicit(&registrations, memory_order_acquire);
	for (int i = 0; i < n; i++) {
		goc__pollable *p = (goc__pollable *)evs[i].udata;
		if (!p) {
			char buf[64];
			while (read(wake_rd, buf, sizeof buf) > 0)
				;
			atomic_store_explicit(&interrupt_pending, 0, memory_order_release);
			continue;
		}
		uint32_t e = 0;
		if (evs[i].filter == EVFILT_READ)
			e |= GOC__POLL_IN;
		else if (evs[i].filter == EVFILT_WRITE)
			e |= GOC__POLL_OUT;
		if (evs[i].flags & EV_EOF)
			e |= GOC__POLL_HUP | (evs[i].fflags ? GOC__POLL_ERR : 0);
		if (evs[i].flags & EV_ERROR)
			e |= GOC__POLL_ERR | GOC__POLL_IN | GOC__POLL_OUT;
		p->ready(p, e);
		fired++;
	}
	return fired;
}

void goc__os_poll_interrupt(void)
{
	/* Coalesce: one pending byte is enough to wake the poller. */
	if (atomic_exchange_explicit(&interrupt_pending, 1, memory_order_acq_rel) == 0) {
		char one = 1;
		(void)!write(wake_wr, &one, 1);
	}
}

#endif
