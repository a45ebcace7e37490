/* signal.c - SIGQUIT (Ctrl-\) dumps every goroutine to stderr, as in Go.
 *
 * A signal handler may not lock or allocate, and a dump does both
 * (snapshots, symbol tables), so the handler only writes one byte into a
 * pipe; a dedicated thread reads it and dumps. That thread also works when
 * every worker is stuck in a goroutine that never yields. sigwait would
 * need SIGQUIT blocked in every thread, which the workers (who unblock all
 * signals) do not do.
 *
 * GOC_SIGQUIT=0: no handler; GOC_SIGQUIT=continue: dump and keep running;
 * otherwise dump and _exit(2) like Go (after writing a GOC_TRACE file). An
 * application that installed its own SIGQUIT handler keeps it. Installed by goc_main's start, removed (the old
 * disposition restored, the thread joined) at its end.
 * State below is touched only by goc_main's thread (start/stop) and, for
 * the pipe's fds, the handler and the dump thread between the two. */
#define _GNU_SOURCE
#include "debug.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int quit_pipe[2] = {-1, -1};
static pthread_t quit_thread;
static bool installed;
static bool keep_running;
static struct sigaction old_quit;
static sigset_t old_mask;       /* goc_main's thread, before start */
/* Threads of ours alive or about to be (the deadlock check counts every
 * thread of the process, runtime.c): raised before pthread_create, lowered
 * after pthread_join, so it never undercounts. */
static _Atomic int nthreads;

int goc__debug_threads(void)
{
	return atomic_load(&nthreads);
}

static void on_sigquit(int sig)
{
	int saved = errno;
	char c = 'q';
	(void)!write(quit_pipe[1], &c, 1);
	errno = saved;
	(void)sig;
}

static void *quit_main(void *arg)
{
	(void)arg;
	for (;;) {
		char c;
		ssize_t r = read(quit_pipe[0], &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == 'x')
			return NULL;
		goc__debug_dump_to(stderr, "SIGQUIT: quit");
		if (!keep_running) {
			/* As the deadlock report: write a GOC_TRACE file, then end
			 * without running exit handlers while goroutines run. */
			goc__trace_stop_at_exit();
			_exit(2);
		}
	}
}

void goc__sigquit_start(void)
{
	const char *e = getenv("GOC_SIGQUIT");
	if (e && strcmp(e, "0") == 0)
		return;
	keep_running = e && strcmp(e, "continue") == 0;
	struct sigaction cur;
	sigaction(SIGQUIT, NULL, &cur);
	if ((cur.sa_flags & SA_SIGINFO) || (cur.sa_handler != SIG_DFL))
		return; /* the application's own (or SIG_IGN) */
	if (pipe2(quit_pipe, O_CLOEXEC) != 0)
		return;
	fcntl(quit_pipe[1], F_SETFL, O_NONBLOCK); /* a signal storm must not block the handler */
	/* The dump thread must never take the signal itself. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	atomic_fetch_add(&nthreads, 1);
	int rc = pthread_create(&quit_thread, NULL, quit_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		atomic_fetch_sub(&nthreads, 1);
		close(quit_pipe[0]);
		close(quit_pipe[1]);
		quit_pipe[0] = quit_pipe[1] = -1;
		return;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigquit;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGQUIT, &sa, &old_quit);
	/* goc_main's thread sits in a futex wait until main returns: keep the
	 * signal off it, for a thread that can take it. (Under TSan a signal
	 * is only handled when its thread next enters an intercepted call,
	 * which a raw futex wait is not.) */
	sigset_t quit;
	sigemptyset(&quit);
	sigaddset(&quit, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &quit, &old_mask);
	installed = true;
}

void goc__sigquit_stop(void)
{
	if (!installed)
		return;
	installed = false;
	sigaction(SIGQUIT, &old_quit, NULL);
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	char c = 'x';
	while (write(quit_pipe[1], &c, 1) < 0 && errno == EINTR)
		;
	pthread_join(quit_thread, NULL);
	atomic_fetch_sub(&nthreads, 1);
	close(quit_pipe[0]);
	close(quit_pipe[1]);
	quit_pipe[0] = quit_pipe[1] = -1;
}
