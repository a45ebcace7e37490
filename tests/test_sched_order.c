/* test_sched_order.c - which runnable goroutine goes first when the run
 * queues overflow (runq.c): goroutines that have run before (they hold a
 * stack) go ahead of ones that never ran, and new ones still always start.
 *   - a goroutine woken while thousands of new ones wait in the global
 *     queue runs in the first half, not after all of them (before the
 *     change it ran 2239th of 2301: each new one that ran first took a
 *     fresh stack while the woken one kept its own); the order is checked
 *     with one worker, where it is deterministic;
 *   - 600 goroutines that yield forever (they have run, so they always go
 *     ahead) cannot keep a new goroutine from starting: it is the one that
 *     stops them, so without the fairness rule this test hangs and the
 *     watchdog fails it;
 *   - a loop of goc_go steps behind its backlog (proc.c, SPAWN_BACKLOG):
 *     goroutines alive at once stay bounded;
 *   - but not when what it spawned parks instead of finishing (a daisy
 *     chain): then stepping behind only binds a stack to each early, and
 *     the loop goes on after the first such step (checked with one worker:
 *     with two, the other runs them meanwhile anyway);
 *   - the global queue's batches (runq.c) start every goroutine once.
 * Runs with GOC_PROCS=1, then 2. ctest: TIMEOUT 60 */
#include "goc.h"
#include "check.h"

#include <stdatomic.h>
#include <stdio.h>

#define BEFORE 2000 /* new goroutines queued before the wake-up */
#define AFTER 300   /* ... and after it: these push it off runnext */

static _Atomic long order;   /* next position in the order of first runs */
static _Atomic long woken_at = -1; /* the woken goroutine's position */
static goc_waitgroup all = GOC_WAITGROUP_INIT;

static void note_first_run(void *arg)
{
	(void)arg;
	atomic_fetch_add(&order, 1);
	goc_waitgroup_done(&all);
}

struct sleeper {
	goc_chan *wake;
	goc_waitgroup parked;
};

static void sleeper(void *arg)
{
	struct sleeper *s = arg;
	goc_waitgroup_done(&s->parked);
	long v;
	CHECK_EQ(goc_recv(s->wake, &v), 0);
	atomic_store(&woken_at, atomic_fetch_add(&order, 1));
	goc_waitgroup_done(&all);
}

static void spawn_new(int n)
{
	for (int i = 0; i < n; i++)
		CHECK_EQ(goc_go(note_first_run, NULL), 0);
}

static void test_woken_goroutine_goes_before_a_backlog_of_new_ones(void)
{
	atomic_store(&order, 0);
	atomic_store(&woken_at, -1);
	struct sleeper s = {goc_chan_make(sizeof(long), 1), GOC_WAITGROUP_INIT};
	CHECK(s.wake);
	goc_waitgroup_add(&all, 1 + BEFORE + AFTER);
	goc_waitgroup_add(&s.parked, 1);
	CHECK_EQ(goc_go(sleeper, &s), 0);
	CHECK_EQ(goc_waitgroup_wait(&s.parked), 0);
	/* The sleeper has run: it holds a stack and waits on wake (or is
	 * about to: the send below then does not block either). */
	spawn_new(BEFORE);
	CHECK_EQ(goc_send(s.wake, &(long){1}), 0);
	spawn_new(AFTER);
	CHECK_EQ(goc_waitgroup_wait(&all), 0);
	goc_chan_release(s.wake);
	long total = 1 + BEFORE + AFTER, at = atomic_load(&woken_at);
	CHECK_EQ(atomic_load(&order), total);
	CHECK(at >= 0);
	/* The order is the scheduler's alone with one worker; with more, the
	 * others run new goroutines while this one is still spawning them. */
	if (goc_procs(0) > 1) {
		fprintf(stderr, "    (order checked with GOC_PROCS=1 only: ran %ldth of %ld)\n", at + 1, total);
		return;
	}
	if (at >= total / 2)
		fprintf(stderr, "the woken goroutine ran %ldth of %ld\n", at + 1, total);
	CHECK(at < total / 2);
}

#define YIELDERS 600

static _Atomic int stop;
static goc_waitgroup yielders = GOC_WAITGROUP_INIT;
static goc_waitgroup yielding = GOC_WAITGROUP_INIT;

static void yielder(void *arg)
{
	(void)arg;
	goc_waitgroup_done(&yielding);
	while (!atomic_load(&stop))
		goc_yield();
	goc_waitgroup_done(&yielders);
}

static void stopper(void *arg)
{
	(void)arg;
	atomic_store(&stop, 1);
}

static void test_yielders_cannot_keep_a_new_goroutine_from_starting(void)
{
	atomic_store(&stop, 0);
	goc_waitgroup_add(&yielders, YIELDERS);
	goc_waitgroup_add(&yielding, YIELDERS);
	for (int i = 0; i < YIELDERS; i++)
		CHECK_EQ(goc_go(yielder, NULL), 0);
	/* All have run (so all hold stacks and go ahead of new ones)... */
	CHECK_EQ(goc_waitgroup_wait(&yielding), 0);
	/* ... and only a new goroutine can stop them. */
	CHECK_EQ(goc_go(stopper, NULL), 0);
	CHECK_EQ(goc_waitgroup_wait(&yielders), 0);
}

#define FLOOD (CHECK_SANITIZED ? 30000 : 100000)
#define BACKLOG_BOUND (4096 + 2 * 256 + 64) /* SPAWN_BACKLOG + two rings + slack */

static _Atomic long flood_ran;
static goc_waitgroup flood = GOC_WAITGROUP_INIT;

static void flood_one(void *arg)
{
	(void)arg;
	atomic_fetch_add(&flood_ran, 1);
	goc_waitgroup_done(&flood);
}

/* A loop of goc_go faster than anything can start: the spawner steps
 * behind what it queued (proc.c, SPAWN_BACKLOG), so the goroutines alive
 * at once stay bounded and some run before the loop ends (before, none
 * did with one worker, and all 100,000 were alive at the end of it). */
static void test_a_spawning_loop_steps_behind_its_backlog(void)
{
	atomic_store(&flood_ran, 0);
	goc_stats_t st;
	CHECK_EQ(goc_stats(&st), 0);
	int64_t base = st.goroutines, most = 0;
	goc_waitgroup_add(&flood, FLOOD);
	for (int i = 0; i < FLOOD; i++) {
		CHECK_EQ(goc_go(flood_one, NULL), 0);
		if (i % 512 == 0) {
			CHECK_EQ(goc_stats(&st), 0);
			if (st.goroutines - base > most)
				most = st.goroutines - base;
		}
	}
	long ran = atomic_load(&flood_ran);
	CHECK_EQ(goc_waitgroup_wait(&flood), 0);
	CHECK_EQ(atomic_load(&flood_ran), FLOOD);
	if (ran == 0 || most > BACKLOG_BOUND)
		fprintf(stderr, "ran %ld during the loop, at most %lld alive\n", ran, (long long)most);
	CHECK(ran > 0);
	CHECK(most <= BACKLOG_BOUND);
}

/* Under the sanitizers fewer (a TSan fiber per parked goroutine costs
 * milliseconds, more the more are alive): still well above the bound
 * that the old rule broke. */
#define PARKERS (CHECK_SANITIZED ? 8000 : 30000)

static _Atomic long parkers_ran;

static void parker(void *arg)
{
	atomic_fetch_add(&parkers_ran, 1);
	goc_recv(arg, NULL);
	goc_waitgroup_done(&flood);
}

/* Spawned goroutines that park: after one step behind the first backlog
 * (its goroutines all parked), the loop runs on; before, it stepped behind
 * every 4096 and nearly all 30,000 ran, and bound a stack, during the
 * loop. Then a loop of goroutines that finish steps behind its backlog
 * again (main parked in between). */
static void test_a_loop_spawning_parkers_stops_stepping_behind(void)
{
	goc_chan *release = goc_chan_make(0, 0);
	CHECK(release != NULL);
	atomic_store(&parkers_ran, 0);
	goc_waitgroup_add(&flood, PARKERS);
	for (int i = 0; i < PARKERS; i++)
		CHECK_EQ(goc_go(parker, release), 0);
	long ran = atomic_load(&parkers_ran);
	CHECK_EQ(goc_close(release), 0);
	CHECK_EQ(goc_waitgroup_wait(&flood), 0);
	CHECK_EQ(atomic_load(&parkers_ran), PARKERS);
	goc_chan_release(release);
	if (goc_procs(0) == 1) {
		if (ran > BACKLOG_BOUND)
			fprintf(stderr, "%ld of %d ran during the loop\n", ran, PARKERS);
		CHECK(ran > 0);
		CHECK(ran <= BACKLOG_BOUND);
	}
	test_a_spawning_loop_steps_behind_its_backlog();
}

#define BATCHED (CHECK_SANITIZED ? 6000 : 20000) /* either way: many ring overflows */
#define BATCHED_YIELDS 3

static _Atomic unsigned char batched_runs[BATCHED];

static void batched_one(void *arg)
{
	atomic_fetch_add(&batched_runs[(intptr_t)arg], 1);
	for (int i = 0; i < BATCHED_YIELDS; i++)
		goc_yield();
	goc_waitgroup_done(&flood);
}

/* The global queue holds batches (runq.c): full rings move half of
 * themselves there as one batch, refills take whole batches or cut one,
 * the fairness take pulls a new G out from behind the resumed ones, and
 * yielders go back in between. Every goroutine must start exactly once and
 * the queue must end empty: a wrong count or tail in a batch loses Gs (the
 * wait hangs, the watchdog fails the test) or runs one twice. */
static void test_global_queue_batches_start_everyone_once(void)
{
	for (int i = 0; i < BATCHED; i++)
		atomic_store(&batched_runs[i], 0);
	goc_waitgroup_add(&flood, BATCHED);
	for (intptr_t i = 0; i < BATCHED; i++)
		CHECK_EQ(goc_go(batched_one, (void *)i), 0);
	CHECK_EQ(goc_waitgroup_wait(&flood), 0);
	for (int i = 0; i < BATCHED; i++)
		if (atomic_load(&batched_runs[i]) != 1) {
			fprintf(stderr, "goroutine %d started %d times\n", i, atomic_load(&batched_runs[i]));
			CHECK(0);
		}
	goc_stats_t st;
	CHECK_EQ(goc_stats(&st), 0);
	CHECK_EQ(st.global_runq, 0);
}

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	RUN(test_woken_goroutine_goes_before_a_backlog_of_new_ones);
	RUN(test_yielders_cannot_keep_a_new_goroutine_from_starting);
	RUN(test_a_spawning_loop_steps_behind_its_backlog);
	RUN(test_a_loop_spawning_parkers_stops_stepping_behind);
	RUN(test_global_queue_batches_start_everyone_once);
	return 0;
}

int main(int argc, char **argv)
{
	check_watchdog(30);
	return check_run_procs_1_and_2(run, argc, argv);
}
