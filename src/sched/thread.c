/* thread.c - foreign threads: threads goc did not start (a plain main, a
 * pthread of the application) get a G of their own on first use, so every
 * wait queue in goc holds Gs only. Such a G has no stack or context of its
 * own: parking it blocks its OS thread on the futex word thread_wake, and
 * readying it posts that word.
 *
 * nthreads_running counts foreign Gs not parked, for deadlock detection.
 * The readier increments it on the thread's behalf before posting the wake
 * (so there is no instant at which a woken thread is counted as asleep),
 * and the thread increments it itself only when its own deadline ended the
 * wait. The G is freed when its thread exits (pthread key destructor). */
#include <string.h>
#include "sched.h"
#include "sim.h"

#include <pthread.h>
#include <stdlib.h>

static pthread_key_t thread_key;
static pthread_once_t thread_key_once = PTHREAD_ONCE_INIT;
static __thread goc__g *tls_thread_g;

static void thread_g_destroy(void *arg)
{
	goc__g *g = arg;
	if (g) {
		if (atomic_load(&goc__s.started))
			atomic_fetch_sub(&goc__s.nthreads_running, 1);
		free(g);
	}
	tls_thread_g = NULL;
}

static void make_key(void)
{
	pthread_key_create(&thread_key, thread_g_destroy);
}

GOC__NOINLINE goc__g *goc__thread_g(void)
{
	goc__g *g = tls_thread_g;
	if (GOC__LIKELY(g != NULL))
		return g;
	if (goc__runtime_ensure() != 0)
		goc__panic("thread: cannot start the runtime for a foreign thread");
	pthread_once(&thread_key_once, make_key);
	g = aligned_alloc(_Alignof(goc__g), sizeof *g); /* the G is cache-line aligned */
	if (!g)
		goc__panic("thread: out of memory for a foreign thread's G");
	memset(g, 0, sizeof *g);
	g->is_thread = true;
	atomic_store(&g->status, G_RUNNING);
	tls_thread_g = g;
	pthread_setspecific(thread_key, g);
	atomic_fetch_add(&goc__s.nthreads_running, 1);
	return g;
}

/* The runtime stopped (goc_main returned on this thread): forget this
 * thread's G so a restarted runtime counts it afresh. */
void goc__thread_g_release(void)
{
	goc__g *g = tls_thread_g;
	if (g) {
		pthread_setspecific(thread_key, NULL);
		free(g);
		tls_thread_g = NULL;
	}
}

/* A deadline on goc_now's clock as a goc__nanotime deadline. With virtual
 * time on (simulation mode), a foreign thread is no part of the simulated
 * world and the virtual clock never moves for it (it has no timer): it
 * waits the time left until the deadline on the real clock. */
static int64_t real_deadline(int64_t deadline)
{
	if (deadline == GOC__NO_DEADLINE ||
	    !atomic_load_explicit(&goc__sim_vtime, memory_order_relaxed))
		return deadline;
	int64_t left = deadline - goc__clock_now(), d;
	if (left <= 0)
		return 0;
	if (__builtin_add_overflow(goc__nanotime(), left, &d) || d == GOC__NO_DEADLINE)
		return GOC__NO_DEADLINE - 1;
	return d;
}

void goc__thread_park(goc__g *g, goc__unlock_fn unlock, void *arg, int64_t deadline)
{
	deadline = real_deadline(deadline);
	atomic_store(&g->status, G_WAITING);
	atomic_fetch_sub(&goc__s.nthreads_running, 1);
	if (unlock)
		unlock(arg);
	for (;;) {
		if (atomic_load_explicit(&g->thread_wake, memory_order_acquire))
			break;
		if (deadline != GOC__NO_DEADLINE && goc__nanotime() >= deadline) {
			uint32_t none = GOC__WAKE_NONE;
			if (atomic_compare_exchange_strong_explicit(&g->wait.claim, &none, GOC__WAKE_TIMEOUT,
			                                            memory_order_acq_rel, memory_order_acquire)) {
				atomic_fetch_add(&goc__s.nthreads_running, 1);
				break;
			}
			/* A waker claimed us first: its ready is on the way. */
			deadline = GOC__NO_DEADLINE;
			continue;
		}
		goc__futex_wait(&g->thread_wake, 0, deadline);
	}
	atomic_store(&g->status, G_RUNNING);
}

void goc__thread_ready(goc__g *g)
{
	atomic_fetch_add(&goc__s.nthreads_running, 1);
	atomic_store_explicit(&g->thread_wake, 1, memory_order_release);
	goc__futex_wake(&g->thread_wake, 1);
}
