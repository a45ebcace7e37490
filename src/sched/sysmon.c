/* sysmon.c - the monitor thread (Go's sysmon): runs without a P and
 *  - retakes Ps whose goroutine sits in a blocking call while work waits
 *    (blocking.c), so other goroutines keep running;
 *  - fires overdue timers of Ps whose worker has not been back to the
 *    scheduler for a while (a goroutine computing without yielding), so
 *    deadlines and tickers elsewhere keep their time;
 *  - notices a goroutine that has held its P for long (GOC_DEBUG may report
 *    it; C code cannot be preempted safely).
 * It polls every 20 us while something happens, backing off to 10 ms, and
 * sleeps until woken when every P is idle and no blocking call runs. */
#include "sched.h"

#include <pthread.h>

static pthread_t sysmon_thread;
static _Atomic uint32_t sysmon_word;   /* futex: bumped to wake the monitor */
static _Atomic int32_t sysmon_sleeping;
static _Atomic int32_t sysmon_quit;
static bool sysmon_running;

/* Only the untimed sleep (every P idle) needs a wake-up: from a timed one
 * the monitor returns within 10 ms by itself, and waking it at every
 * startm would cost a futex call per hand-off between workers. */
void goc__sysmon_wake(void)
{
	if (atomic_load_explicit(&sysmon_sleeping, memory_order_acquire) == 2) {
		atomic_fetch_add_explicit(&sysmon_word, 1, memory_order_release);
		goc__futex_wake(&sysmon_word, 1);
	}
}

static bool sysmon_tick(int64_t now)
{
	bool acted = false;
	int32_t n = atomic_load(&goc__s.nprocs);
	for (int32_t i = 0; i < n; i++) {
		goc__p *p = goc__s.allp[i];
		uint64_t word = atomic_load_explicit(&p->sysword, memory_order_acquire);
		if ((word & 3) == 1) {
			if (word == p->sysmon_seen && goc__blocking_retake(p, word))
				acted = true;
			p->sysmon_seen = word;
		} else {
			p->sysmon_seen = 0;
		}
	}
	/* Overdue timers (more than 1 ms late) on any P: fire them here. */
	int32_t max = atomic_load(&goc__s.maxprocs);
	for (int32_t i = 0; i < max; i++) {
		goc__timerheap *h = &goc__s.allp[i]->timers;
		if (atomic_load_explicit(&h->next, memory_order_relaxed) < now - 1000000 &&
		    goc__timers_run(h, now) > 0)
			acted = true;
	}
	return acted;
}

static void *sysmon_main(void *arg)
{
	(void)arg;
	int64_t delay = 20000;
	bool trimmed = false;
	while (!atomic_load(&sysmon_quit)) {
		bool all_idle = atomic_load(&goc__s.npidle) == atomic_load(&goc__s.nprocs) &&
		                atomic_load(&goc__s.nmblocking) == 0;
		if (all_idle) {
			uint32_t w = atomic_load(&sysmon_word);
			atomic_store(&sysmon_sleeping, 2);
			/* Re-check after announcing we sleep (pairs with wake). */
			if (atomic_load(&goc__s.npidle) == atomic_load(&goc__s.nprocs) &&
			    atomic_load(&goc__s.nmblocking) == 0 && !atomic_load(&sysmon_quit)) {
				/* Idle for a second: give warm stack memory back to the
				 * OS once, then sleep until something runs. */
				goc__futex_wait(&sysmon_word, w,
				                trimmed ? GOC__NO_DEADLINE : goc__nanotime() + 1000000000);
				if (!trimmed && atomic_load(&sysmon_word) == w &&
				    atomic_load(&goc__s.npidle) == atomic_load(&goc__s.nprocs)) {
					goc__stack_trim();
					trimmed = true;
				}
			}
			atomic_store(&sysmon_sleeping, 0);
			delay = 20000;
			continue;
		}
		uint32_t w = atomic_load(&sysmon_word);
		atomic_store(&sysmon_sleeping, 1);
		goc__futex_wait(&sysmon_word, w, goc__nanotime() + delay);
		atomic_store(&sysmon_sleeping, 0);
		trimmed = false;
		if (sysmon_tick(goc__nanotime()))
			delay = 20000;
		else if (delay < 10000000)
			delay *= 2;
	}
	return NULL;
}

int goc__sysmon_start(void)
{
	atomic_store(&sysmon_quit, 0);
	if (pthread_create(&sysmon_thread, NULL, sysmon_main, NULL) != 0)
		return GOC_ENOMEM;
	sysmon_running = true;
	return 0;
}

void goc__sysmon_stop(void)
{
	if (!sysmon_running)
		return;
	atomic_store(&sysmon_quit, 1);
	atomic_fetch_add(&sysmon_word, 1);
	goc__futex_wake(&sysmon_word, 1);
	pthread_join(sysmon_thread, NULL);
	sysmon_running = false;
}
