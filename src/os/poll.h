/* poll.h - the OS readiness poller behind one small interface
 * (poll_epoll.c on Linux, poll_kqueue.c on the BSDs and macOS; the build
 * compiles the one that fits).
 *
 * The scheduler owns one poller. An idle worker blocks in goc__os_poll_wait
 * until an fd is ready, the deadline passes, or goc__os_poll_interrupt is
 * called; busy workers call it with deadline 0 to collect ready fds without
 * blocking. Registration is edge-triggered, once per fd, for both
 * directions; the registered pointer's ready callback gets the events. */
#ifndef GOC_OS_POLL_H
#define GOC_OS_POLL_H

#include <stdint.h>

enum { GOC__POLL_IN = 1, GOC__POLL_OUT = 2, GOC__POLL_ERR = 4, GOC__POLL_HUP = 8 };

typedef struct goc__pollable goc__pollable;
struct goc__pollable {
	/* Called from the thread that polled, with no scheduler locks held. */
	void (*ready)(goc__pollable *p, uint32_t events);
};

int  goc__os_poll_init(void);
void goc__os_poll_close(void);
int  goc__os_poll_add(int fd, goc__pollable *p);   /* 0 or -errno */
int  goc__os_poll_del(int fd);
/* Wait until deadline (absolute ns; 0: don't block; INT64_MAX: forever).
 * Returns the number of ready callbacks run; interrupts return 0. */
int  goc__os_poll_wait(int64_t deadline);
void goc__os_poll_interrupt(void);
/* Bumped by every goc__os_poll_wait: the monitor polls itself when the
 * count has not moved for a while (busy workers never run out of work). */
uint64_t goc__os_poll_count(void);

#endif
