/* sysmon.c - the monitor thread (Go's sysmon): runs without a P and
 *  - retakes Ps whose goroutine sits in a blocking call while work waits
 *    (blocking.c), so other goroutines keep running;
 *  - fires overdue timers of Ps whose worker has not been back to the
 *    scheduler for a while (a goroutine computing without yielding), so
 *    deadlines and tickers elsewhere keep their time;
 *  - polls the network when goroutines wait on fds and no worker has
 *    polled for 10 ms (every P busy: find_runnable polls only when it runs
 *    out of work), putting the readied goroutines on the global queue;
 *  - catches hogs: a goroutine that holds its P without a switch for 20 ms
 *    (a busy loop, or a blocking call made without goc_blocking). C code
 *    cannot be preempted, so, as Go's retake does for a P stuck in a
 *    system call, the monitor moves the hogged P's queued goroutines to
 *    the global queue and, when no P is idle to run them, lends the
 *    scheduler one more P (goc__procs_resize) for as long as the hog lasts.
 *    The loan is given back (the extra Ps retire at their next scheduling
 *    point, proc.c) once the hogs have switched. When the monitor itself
 *    wakes late (an overloaded machine, where a worker may simply not be
 *    scheduled), only a P stuck for 100 ms counts as hogged.
 *  - gives the stack pool's excess free stacks back to the OS, paced
 *    (goc__stack_scavenge), and all of them after a second idle.
 * It polls every 20 us while something happens, and as Go's sysmon does,
 * backs off (doubling up to 10 ms) only after 50 polls in a row found
 * nothing to do: a stream of blocking calls keeps it retaking Ps every few
 * tens of microseconds (doubling at the first idle poll left each call
 * waiting up to two 10 ms sleeps for its P to be lent: 300 goroutines
 * making 20 ms calls at GOC_PROCS=1 took 2.5x Go's time). It sleeps until
 * woken when every P is idle and no blocking call runs.
 *
 * Monitor-private state (p->sysmon_*, the hog loan) is touched only by
 * this thread. p->schedtick is the owner's plain counter, read racily
 * here: a torn or stale value only delays or repeats a verdict. */
#include "sched.h"
#include "../os/poll.h"

#include <pthread.h>

static pthread_t sysmon_thread;
static _Atomic uint32_t sysmon_word;   /* futex: bumped to wake the monitor */
static _Atomic int32_t sysmon_sleeping;
static _Atomic int32_t sysmon_quit;
static bool sysmon_running;

/* No switch for this long: the P is hogged. Go preempts after 10 ms; a
 * little more here, since a loan costs a thread and a worker descheduled
 * by a loaded OS must not look like a hog. */
#define HOG_NS   20000000
#define SYSMON_IDLE_POLLS 50 /* idle polls at 20 us before backing off (Go's) */
#define NPOLL_NS 10000000   /* no poll for this long: the monitor polls */
/* The monitor woke this much later than it asked: the machine is
 * overloaded and a worker that made no progress may just not have been
 * scheduled by the OS. Then only a P stuck for HOG_OVERLOADED_NS counts. */
#define LATE_NS           2000000
#define HOG_OVERLOADED_NS 100000000
/* The stack scavenger's pace (stack.c, "The pool"): while anything runs,
 * at most SCAVENGE_BUDGET_NS of giving free stacks back per
 * SCAVENGE_PERIOD_NS, about 5 % of one CPU. */
#define SCAVENGE_PERIOD_NS 10000000
#define SCAVENGE_BUDGET_NS 500000

/* The hog loan: Ps added by the monitor on top of what the program asked
 * for (goc__procs_lend). 0 when none is out. */
static int32_t loan;
static int64_t scavenged_when;
static uint64_t seen_polls;
static int64_t seen_polls_when;

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

/* The P's progress: goroutines run (the owner's plain counter, read
 * racily on purpose, see the top) plus goroutines created. A goroutine
 * that spawns in a loop is busy in the runtime, not stuck: no hog. */
GOC__NO_TSAN static uint64_t progress_of(goc__p *p)
{
	return *(volatile uint64_t *)&p->schedtick +
	       (uint64_t)atomic_load_explicit(&p->ncreated, memory_order_relaxed);
}

/* Is anything waiting that a free P could run? */
static bool work_waiting(void)
{
	return atomic_load(&goc__s.runq_size) > 0 || atomic_load(&goc__s.netpoll_waiters) > 0 ||
	       goc__timers_armed() > 0;
}

/* Has p's goroutine run without a switch for HOG_NS? Updates the record. */
static bool p_is_hogged(goc__p *p, int64_t now, bool overloaded)
{
	uint64_t tick = progress_of(p);
	bool running = atomic_load_explicit(&p->status, memory_order_relaxed) == P_RUNNING &&
	               /* not in a blocking call (1); 2, retaken, is stale */
	               (atomic_load_explicit(&p->sysword, memory_order_relaxed) & 3) != 1;
	if (!running || tick != p->sysmon_tick || p->sysmon_when == 0) {
		p->sysmon_tick = tick;
		p->sysmon_when = now;
		return false;
	}
	return now - p->sysmon_when >= (overloaded ? HOG_OVERLOADED_NS : HOG_NS);
}

/* Move what waits on hogged p's queue to the global queue: any M may take
 * it from there. */
static bool drain_hogged(goc__p *p)
{
	goc__g *g;
	bool moved = false;
	while ((g = goc__runq_get(p)) != NULL) {
		goc__globrunq_put(g);
		moved = true;
	}
	return moved;
}

/* Lend or take back Ps so that the loan covers the hogs that hold up
 * work (goc__procs_lend: nprocs = the program's goc_procs count + loan). */
static bool adjust_loan(int32_t nhog)
{
	int32_t want = loan;
	if (nhog > loan && atomic_load(&goc__s.npidle) == 0 && work_waiting())
		want = nhog;
	else if (nhog < loan)
		want = nhog;
	if (want == loan)
		return false;
	loan = want;
	goc__procs_lend(loan);
	return true;
}

/* Collect ready fds when goroutines wait on them and nobody has polled
 * for NPOLL_NS. Readied goroutines go to the global queue (this thread has
 * no P) and goc__ready wakes an idle P for them if there is one. */
static bool poll_if_starved(int64_t now)
{
	uint64_t c = goc__os_poll_count();
	if (c != seen_polls || atomic_load(&goc__s.netpoll_waiters) == 0 ||
	    atomic_load(&goc__s.poller_active)) {
		seen_polls = c;
		seen_polls_when = now;
		return false;
	}
	if (now - seen_polls_when < NPOLL_NS)
		return false;
	int32_t zero = 0;
	if (!atomic_compare_exchange_strong(&goc__s.poller_active, &zero, 1))
		return false;
	int n = goc__os_poll_wait(0);
	atomic_store(&goc__s.poller_active, 0);
	seen_polls = goc__os_poll_count();
	seen_polls_when = now;
	return n > 0;
}

static bool sysmon_tick(int64_t now, bool overloaded)
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
	if (poll_if_starved(now))
		acted = true;
	/* Hogs, over every allocated P: one being retired still counts. */
	int32_t nhog = 0;
	for (int32_t i = 0; i < max; i++) {
		goc__p *p = goc__s.allp[i];
		if (!p_is_hogged(p, now, overloaded))
			continue;
		nhog++;
		if (drain_hogged(p))
			acted = true;
	}
	if (adjust_loan(nhog))
		acted = true;
	if (acted && atomic_load(&goc__s.runq_size) > 0)
		goc__wakep();
	return acted;
}

static void *sysmon_main(void *arg)
{
	(void)arg;
	int64_t delay = 20000;
	int idle = 0; /* polls in a row that found nothing to do */
	bool trimmed = false;
	while (!atomic_load(&sysmon_quit)) {
		bool all_idle = atomic_load(&goc__s.npidle) == atomic_load(&goc__s.nprocs) &&
		                atomic_load(&goc__s.nmblocking) == 0;
		if (all_idle && loan > 0) {
			/* Nothing runs, so no hog does: give the loan back now,
			 * this sleep may last. */
			adjust_loan(0);
			continue;
		}
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
			goc__coarse_clock_tick();
			delay = 20000;
			idle = 0;
			continue;
		}
		uint32_t w = atomic_load(&sysmon_word);
		atomic_store(&sysmon_sleeping, 1);
		int64_t wake_at = goc__nanotime() + delay;
		goc__futex_wait(&sysmon_word, w, wake_at);
		atomic_store(&sysmon_sleeping, 0);
		trimmed = false;
		goc__coarse_clock_tick();
		int64_t now = goc__nanotime();
		if (sysmon_tick(now, now - wake_at > LATE_NS))
			idle = 0;
		else
			idle++;
		if (idle <= SYSMON_IDLE_POLLS)
			delay = 20000;
		else if (delay < 10000000)
			delay *= 2;
		if (now - scavenged_when >= SCAVENGE_PERIOD_NS) {
			scavenged_when = now;
			goc__stack_scavenge(SCAVENGE_BUDGET_NS);
		}
	}
	return NULL;
}

int goc__sysmon_start(void)
{
	atomic_store(&sysmon_quit, 0);
	loan = 0;
	seen_polls = 0;
	seen_polls_when = 0;
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
