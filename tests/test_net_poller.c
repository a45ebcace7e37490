/* test_net_poller.c - an fd registered while another worker is already
 * blocked in the OS poller is served by that poller: the reader parked on
 * it wakes when data arrives. The poller blocks with a finite deadline (a
 * timer is pending), which on Linux is epoll_pwait2, a call TSan does not
 * see: under TSan this also checks that the poll descriptor the registering
 * worker wrote (fresh from calloc: this process has registered no fd before)
 * is published to the poller that dispatches its event (poll_epoll.c).
 * Runs with GOC_PROCS=2 (or as set: with 1 the poller is the reader's own
 * worker, and the test still passes).
 * ctest: TIMEOUT 60 */
#define _GNU_SOURCE
#include "test_net_util.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

static int pipe_fds[2];

/* A thread goc did not start: writes once the reader is parked. */
static void *write_when_parked(void *arg)
{
	(void)arg;
	int64_t give_up = now_ns() + (int64_t)20 * 1000000000;
	while (atomic_load(&goc__s.netpoll_waiters) < 1) {
		CHECK(now_ns() < give_up);
		sched_yield();
	}
	CHECK_EQ(write(pipe_fds[1], "x", 1), 1);
	return NULL;
}

static void test_fd_registered_while_the_poller_blocks_is_served(void)
{
	goc_timer *t = goc_timer_new(GOC_SEC(30)); /* the idle worker's poll gets a deadline */
	CHECK(t != NULL);
	if (goc_procs(0) > 1) {
		/* Wait until the other worker is blocked in the poller. */
		int64_t give_up = now_ns() + (int64_t)20 * 1000000000;
		while (!atomic_load(&goc__s.poller_active)) {
			CHECK(now_ns() < give_up);
			sched_yield();
		}
	}
	CHECK_EQ(pipe(pipe_fds), 0);
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, write_when_parked, NULL), 0);
	char c = 0;
	CHECK_EQ(goc_read(pipe_fds[0], &c, 1), 1); /* registers the fd, parks */
	CHECK_EQ(c, 'x');
	pthread_join(th, NULL);
	goc_timer_stop(t);
	goc_timer_release(t);
	CHECK_EQ(goc_fd_close(pipe_fds[0]), 0);
	CHECK_EQ(close(pipe_fds[1]), 0);
}

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	RUN(test_fd_registered_while_the_poller_blocks_is_served);
	return 0;
}

int main(int argc, char **argv)
{
	watchdog(50);
	if (!getenv("GOC_PROCS"))
		goc_procs(2);
	return goc_main(run, argc, argv);
}
