/* test_sync_mutex.c - goc_mutex: exclusion, misuse, deadlines, starvation
 * mode, foreign threads. Runs with any GOC_PROCS (the suite uses 1 and 2). */
#include "test_sync_util.h"

#include <pthread.h>
#include <stdatomic.h>

static goc_mutex mu = GOC_MUTEX_INIT;
static goc_waitgroup wg;
static long counter;            /* guarded by mu */
static _Atomic int stop;

/* ---- basics ------------------------------------------------------------ */

static void test_static_and_zero_initialised_mutexes_work(void)
{
	goc_mutex a = GOC_MUTEX_INIT, b;
	memset(&b, 0, sizeof b);
	CHECK_EQ(goc_mutex_lock(&a), 0);
	CHECK_EQ(goc_mutex_lock(&b), 0);
	CHECK_EQ(goc_mutex_unlock(&a), 0);
	CHECK_EQ(goc_mutex_unlock(&b), 0);
	CHECK_EQ(atomic_load(&a.state), 0);
	CHECK_EQ(atomic_load(&b.state), 0);
}

static void test_unlock_of_unlocked_mutex_is_eperm_and_harmless(void)
{
	goc_mutex m = GOC_MUTEX_INIT;
	CHECK_EQ(goc_mutex_unlock(&m), GOC_EPERM);
	CHECK_EQ(atomic_load(&m.state), 0);
	CHECK_EQ(goc_mutex_lock(&m), 0);
	CHECK_EQ(goc_mutex_unlock(&m), 0);
	CHECK_EQ(goc_mutex_unlock(&m), GOC_EPERM);
	CHECK_EQ(goc_mutex_trylock(&m), 0);  /* still a working mutex */
	CHECK_EQ(goc_mutex_unlock(&m), 0);
	CHECK_EQ(atomic_load(&m.state), 0);
}

static void test_null_mutex_is_einval(void)
{
	CHECK_EQ(goc_mutex_lock(NULL), GOC_EINVAL);
	CHECK_EQ(goc_mutex_lock_until(NULL, 0), GOC_EINVAL);
	CHECK_EQ(goc_mutex_trylock(NULL), GOC_EINVAL);
	CHECK_EQ(goc_mutex_unlock(NULL), GOC_EINVAL);
}

static void test_trylock_fails_while_locked(void)
{
	goc_mutex m = GOC_MUTEX_INIT;
	CHECK_EQ(goc_mutex_trylock(&m), 0);
	CHECK_EQ(goc_mutex_trylock(&m), GOC_EAGAIN);
	CHECK_EQ(goc_mutex_lock_until(&m, now_ns() - 1), GOC_ETIMEDOUT); /* past: a try */
	CHECK_EQ(goc_mutex_unlock(&m), 0);
	CHECK_EQ(goc_mutex_lock_until(&m, now_ns() - 1), 0);
	CHECK_EQ(goc_mutex_unlock(&m), 0);
}

/* ---- mutual exclusion under contention across workers ------------------ */

enum { EXCL_G = 8, EXCL_ITERS = 20000 };

static void increment_many(void *arg)
{
	(void)arg;
	for (int i = 0; i < EXCL_ITERS; i++) {
		goc_mutex_lock(&mu);
		long x = counter;
		if (i % 256 == 0)
			goc_yield();   /* park others while we hold it */
		counter = x + 1;
		goc_mutex_unlock(&mu);
	}
	goc_waitgroup_done(&wg);
}

static void test_mutual_exclusion_under_contention(void)
{
	counter = 0;
	goc_waitgroup_add(&wg, EXCL_G);
	for (int i = 0; i < EXCL_G; i++)
		CHECK_EQ(goc_go(increment_many, NULL), 0);
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	CHECK_EQ(counter, (long)EXCL_G * EXCL_ITERS);
	CHECK_EQ(atomic_load(&mu.state), 0);   /* no waiter or flag left behind */
}

/* ---- deadlines ---------------------------------------------------------- */

static _Atomic int timed_result;
static _Atomic int64_t timed_elapsed;

static void lock_with_deadline(void *arg)
{
	int64_t wait = (int64_t)(intptr_t)arg;
	int64_t t0 = now_ns();
	int r = goc_mutex_lock_until(&mu, t0 + wait);
	atomic_store(&timed_elapsed, now_ns() - t0);
	atomic_store(&timed_result, r);
	if (r == 0)
		goc_mutex_unlock(&mu);
	goc_waitgroup_done(&wg);
}

static void test_lock_until_times_out_while_held(void)
{
	CHECK_EQ(goc_mutex_lock(&mu), 0);
	goc_waitgroup_add(&wg, 1);
	CHECK_EQ(goc_go(lock_with_deadline, (void *)(intptr_t)MS(20)), 0);
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	CHECK_EQ(atomic_load(&timed_result), GOC_ETIMEDOUT);
	/* Tolerance: never early; late by at most a loaded machine's 1 s. */
	CHECK(atomic_load(&timed_elapsed) >= MS(20));
	CHECK(atomic_load(&timed_elapsed) < MS(1000));
	CHECK_EQ(atomic_load(&mu.state), 1);   /* locked, and the waiter is gone */
	CHECK_EQ(goc_mutex_unlock(&mu), 0);
	CHECK_EQ(atomic_load(&mu.state), 0);
}

static void test_lock_until_succeeds_when_released_in_time(void)
{
	CHECK_EQ(goc_mutex_lock(&mu), 0);
	goc_waitgroup_add(&wg, 1);
	CHECK_EQ(goc_go(lock_with_deadline, (void *)(intptr_t)MS(10000)), 0);
	/* Let it queue (it parks: with one worker it must run first). */
	while (atomic_load(&mu.state) == 1)
		goc_yield();
	CHECK_EQ(goc_mutex_unlock(&mu), 0);
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	CHECK_EQ(atomic_load(&timed_result), 0);
	CHECK_EQ(atomic_load(&mu.state), 0);
}

/* Waiters with short deadlines come and go while others hold, hand off and
 * starve: whatever the interleaving, the count must come out exact and the
 * state clean (no waiter count, WOKEN or STARVING left behind). */
static _Atomic long timeouts, acquired;

static void hammer_with_yield(void *arg)
{
	int iters = (int)(intptr_t)arg;
	for (int i = 0; i < iters; i++) {
		goc_mutex_lock(&mu);
		long x = counter;
		goc_yield();
		counter = x + 1;
		goc_mutex_unlock(&mu);
	}
	goc_waitgroup_done(&wg);
}

static void lock_with_short_deadlines(void *arg)
{
	(void)arg;
	for (int i = 0; i < 300; i++) {
		int r = goc_mutex_lock_until(&mu, now_ns() + (i % 7) * 20000);
		if (r == 0) {
			counter++;
			atomic_fetch_add(&acquired, 1);
			goc_mutex_unlock(&mu);
		} else {
			CHECK_EQ(r, GOC_ETIMEDOUT);
			atomic_fetch_add(&timeouts, 1);
		}
	}
	goc_waitgroup_done(&wg);
}

static void test_timeouts_mixed_with_handoffs_leave_state_clean(void)
{
	counter = 0;
	atomic_store(&timeouts, 0);
	atomic_store(&acquired, 0);
	goc_waitgroup_add(&wg, 8);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(goc_go(hammer_with_yield, (void *)(intptr_t)3000), 0);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(goc_go(lock_with_short_deadlines, NULL), 0);
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	CHECK_EQ(counter, 4 * 3000 + atomic_load(&acquired));
	CHECK_EQ(atomic_load(&acquired) + atomic_load(&timeouts), 4 * 300);
	CHECK_EQ(atomic_load(&mu.state), 0);
	fprintf(stderr, "    (%ld timed out, %ld acquired)\n", atomic_load(&timeouts),
	        atomic_load(&acquired));
}

/* ---- starvation bound --------------------------------------------------- */

static _Atomic long hammer_rounds;

static void hammer_until_stopped(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		goc_mutex_lock(&mu);
		counter++;
		goc_yield();   /* hold it across a reschedule: others queue */
		goc_mutex_unlock(&mu);
		atomic_fetch_add(&hammer_rounds, 1);
	}
	goc_waitgroup_done(&wg);
}

/* A newcomer must get the lock within a bound while 6 goroutines hammer it:
 * after 1 ms of waiting, starvation mode hands the lock over in FIFO order.
 * Bound: 250 ms (the mode switches after 1 ms; the rest is slack for a
 * loaded 2-core machine). */
static void test_waiter_gets_lock_within_bound_while_others_hammer(void)
{
	counter = 0;
	atomic_store(&stop, 0);
	atomic_store(&hammer_rounds, 0);
	goc_waitgroup_add(&wg, 6);
	for (int i = 0; i < 6; i++)
		CHECK_EQ(goc_go(hammer_until_stopped, NULL), 0);
	while (atomic_load(&hammer_rounds) < 2000)
		goc_yield();
	int64_t worst = 0;
	for (int k = 0; k < 20; k++) {
		int64_t t0 = now_ns();
		CHECK_EQ(goc_mutex_lock(&mu), 0);
		int64_t dt = now_ns() - t0;
		goc_mutex_unlock(&mu);
		if (dt > worst)
			worst = dt;
		goc_yield();
	}
	atomic_store(&stop, 1);
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	fprintf(stderr, "    (worst wait %.2f ms over 20 tries)\n", worst / 1e6);
	CHECK(worst < MS(250));
	CHECK_EQ(atomic_load(&mu.state), 0);
}

/* ---- foreign threads ---------------------------------------------------- */

enum { MIX_ITERS = 20000 };

static void *thread_increments(void *arg)
{
	(void)arg;
	register_foreign_thread();
	for (int i = 0; i < MIX_ITERS; i++) {
		CHECK_EQ(goc_mutex_lock(&mu), 0);
		counter++;
		if (i % 1000 == 0)
			sched_yield();
		CHECK_EQ(goc_mutex_unlock(&mu), 0);
	}
	return NULL;
}

static void goroutine_increments(void *arg)
{
	(void)arg;
	for (int i = 0; i < MIX_ITERS; i++) {
		goc_mutex_lock(&mu);
		counter++;
		if (i % 500 == 0)
			goc_yield();
		goc_mutex_unlock(&mu);
	}
	goc_waitgroup_done(&wg);
}

static void test_foreign_threads_and_goroutines_share_a_mutex(void)
{
	counter = 0;
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, thread_increments, NULL), 0);
	goc_waitgroup_add(&wg, 4);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(goc_go(goroutine_increments, NULL), 0);
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(counter, 6L * MIX_ITERS);
	CHECK_EQ(atomic_load(&mu.state), 0);
}

/* A foreign thread waits with a deadline on a mutex a goroutine holds. */
static _Atomic int thread_timed_out;

static void *thread_lock_until(void *arg)
{
	(void)arg;
	register_foreign_thread();
	int64_t t0 = now_ns();
	int r = goc_mutex_lock_until(&mu, t0 + MS(15));
	CHECK_EQ(r, GOC_ETIMEDOUT);
	CHECK(now_ns() - t0 >= MS(15));
	atomic_store(&thread_timed_out, 1);
	CHECK_EQ(goc_mutex_lock(&mu), 0);   /* then waits for real */
	counter++;
	CHECK_EQ(goc_mutex_unlock(&mu), 0);
	return NULL;
}

static void test_foreign_thread_deadline_and_wake(void)
{
	counter = 0;
	atomic_store(&thread_timed_out, 0);
	CHECK_EQ(goc_mutex_lock(&mu), 0);
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, thread_lock_until, NULL), 0);
	/* Hold until the thread has timed out and queued again. */
	while (!atomic_load(&thread_timed_out) || atomic_load(&mu.state) == 1)
		goc_yield();
	CHECK_EQ(goc_mutex_unlock(&mu), 0);
	pthread_join(th, NULL);
	CHECK_EQ(counter, 1);
	CHECK_EQ(atomic_load(&mu.state), 0);
}

/* ---- biased mode (src/sync/mutex.c) --------------------------------------
 * A mutex starts biased to the P of its first locker, which then locks it
 * without atomics; any other thread revokes the bias first. These tests
 * revoke at every point a biased user can be at. */

/* The P token that biased mode keys on: nonzero in goroutine code, zero on
 * foreign threads, inside goc_blocking, and after goc_main returns. */
static void *token_inside_blocking(void *arg)
{
	(void)arg;
	return (void *)(uintptr_t)goc__p_token();
}

static void *token_on_thread(void *arg)
{
	(void)arg;
	return (void *)(uintptr_t)goc__p_token();
}

static void test_p_token_names_goroutine_code_only(void)
{
	uint32_t t = goc__p_token();
	CHECK(t != 0);
	CHECK_EQ((uintptr_t)goc_blocking(token_inside_blocking, NULL), 0);
	CHECK(goc__p_token() != 0);
	goc_yield();
	CHECK(goc__p_token() != 0);
	pthread_t th;
	void *r;
	CHECK_EQ(pthread_create(&th, NULL, token_on_thread, NULL), 0);
	pthread_join(th, &r);
	CHECK_EQ((uintptr_t)r, 0);
}

/* Misuse and trylock while biased, then from a thread that holds no P. */
static void *unlock_on_thread(void *arg)
{
	register_foreign_thread();
	return (void *)(intptr_t)goc_mutex_unlock(arg);
}

static int unlock_from_thread(goc_mutex *m)
{
	pthread_t th;
	void *r;
	CHECK_EQ(pthread_create(&th, NULL, unlock_on_thread, m), 0);
	pthread_join(th, &r);
	return (int)(intptr_t)r;
}

static void *unlock_in_blocking(void *arg)
{
	return (void *)(intptr_t)goc_mutex_unlock(arg);
}

static void test_biased_misuse_trylock_and_unlock_elsewhere(void)
{
	goc_mutex m = GOC_MUTEX_INIT;
	CHECK_EQ(goc_mutex_unlock(&m), GOC_EPERM); /* fresh */
	CHECK_EQ(goc_mutex_lock(&m), 0);           /* biased to this P now */
	bool biased = goc__membarrier_register();
	if (!biased)
		fprintf(stderr, "  no membarrier here: mutexes start in atomic mode\n");
	CHECK(!biased || atomic_load(&m.bias) >= 4);
	CHECK_EQ(goc_mutex_trylock(&m), GOC_EAGAIN);
	CHECK_EQ(goc_mutex_unlock(&m), 0);
	CHECK_EQ(goc_mutex_unlock(&m), GOC_EPERM);
	CHECK_EQ(goc_mutex_trylock(&m), 0);
	CHECK_EQ(goc_mutex_unlock(&m), 0);
	CHECK(!biased || atomic_load(&m.bias) >= 4); /* none of that revoked it */

	/* A foreign thread's unlock of the unlocked mutex: EPERM, and the
	 * mutex (now atomic) still works. */
	CHECK_EQ(unlock_from_thread(&m), GOC_EPERM);
	CHECK_EQ(atomic_load(&m.bias), 1);
	CHECK_EQ(goc_mutex_lock(&m), 0);
	CHECK_EQ(goc_mutex_unlock(&m), 0);
	CHECK_EQ(goc_mutex_unlock(&m), GOC_EPERM);
	CHECK_EQ(atomic_load(&m.state), 0);

	/* Locked while biased, unlocked by a foreign thread (Go lets any
	 * goroutine unlock): the revocation hands the lock over, and only
	 * one of two unlocks succeeds. */
	goc_mutex f = GOC_MUTEX_INIT;
	CHECK_EQ(goc_mutex_lock(&f), 0);
	CHECK_EQ(unlock_from_thread(&f), 0);
	CHECK_EQ(goc_mutex_unlock(&f), GOC_EPERM);
	CHECK_EQ(goc_mutex_trylock(&f), 0);
	CHECK_EQ(unlock_from_thread(&f), 0);
	CHECK_EQ(atomic_load(&f.state), 0);

	/* Locked while biased, unlocked inside a blocking call (no P). */
	goc_mutex b = GOC_MUTEX_INIT;
	CHECK_EQ(goc_mutex_lock(&b), 0);
	CHECK_EQ((intptr_t)goc_blocking(unlock_in_blocking, &b), 0);
	CHECK_EQ(goc_mutex_trylock(&b), 0);
	CHECK_EQ((intptr_t)goc_blocking(unlock_in_blocking, &b), 0);
	CHECK_EQ((intptr_t)goc_blocking(unlock_in_blocking, &b), GOC_EPERM);
}

/* Goroutines of one P hold the lock while parked: the next one to lock is
 * contention on the biased P; it revokes without help and queues. */
static goc_chan *parked_holder_go;

static void lock_then_park(void *arg)
{
	goc_mutex *m = arg;
	CHECK_EQ(goc_mutex_lock(m), 0);
	CHECK_EQ(goc_send(parked_holder_go, &(int){1}), 0); /* holding it */
	CHECK_EQ(goc_recv(parked_holder_go, NULL), 0);      /* parked, holding it */
	counter++;
	CHECK_EQ(goc_mutex_unlock(m), 0);
	goc_waitgroup_done(&wg);
}

static void test_contention_among_one_ps_goroutines(void)
{
	goc_mutex m = GOC_MUTEX_INIT;
	counter = 0;
	parked_holder_go = goc_chan_make(sizeof(int), 0);
	goc_waitgroup_add(&wg, 1);
	CHECK_EQ(goc_go(lock_then_park, &m), 0);
	CHECK_EQ(goc_recv(parked_holder_go, NULL), 0);
	CHECK_EQ(goc_mutex_trylock(&m), GOC_EAGAIN);
	CHECK_EQ(goc_mutex_lock_until(&m, now_ns() + MS(1)), GOC_ETIMEDOUT);
	CHECK_EQ(atomic_load(&m.bias), 1); /* that lock revoked it */
	CHECK_EQ(goc_send(parked_holder_go, &(int){2}), 0);
	CHECK_EQ(goc_mutex_lock(&m), 0);
	CHECK_EQ(counter, 1);
	CHECK_EQ(goc_mutex_unlock(&m), 0);
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	CHECK_EQ(atomic_load(&m.state), 0);
	goc_chan_release(parked_holder_go);
}

/* Revocation in the middle of biased use: goroutines hammer a fresh mutex
 * (yielding now and then) while a foreign thread starts to hammer it too,
 * so the thread's revocation lands wherever the goroutines happen to be,
 * including between a fast path's store and its re-check. The critical
 * section checks that nobody else is inside (a plain flag: TSan would
 * also see overlapping critical sections as a race). */
#define REVOKE_ROUNDS 100
#define REVOKE_GOROUTINES 3
#define REVOKE_MIN_ITERS 2000
#define REVOKE_THREAD_ITERS 200

typedef struct revoke_round {
	goc_mutex m;
	int inside;            /* guarded by m */
	long count;            /* guarded by m */
	_Atomic long goroutine_iters;
	_Atomic int thread_done;
} revoke_round;

static void revoke_cs(revoke_round *r)
{
	CHECK_EQ(r->inside, 0);
	r->inside = 1;
	r->count++;
	r->inside = 0;
}

static void revoke_hammer(void *arg)
{
	revoke_round *r = arg;
	long i = 0;
	for (; i < REVOKE_MIN_ITERS || !atomic_load_explicit(&r->thread_done, memory_order_relaxed); i++) {
		CHECK_EQ(goc_mutex_lock(&r->m), 0);
		revoke_cs(r);
		CHECK_EQ(goc_mutex_unlock(&r->m), 0);
		if (i % 64 == 63)
			goc_yield();
		if (i % 256 == 255 && goc_mutex_trylock(&r->m) == 0) {
			revoke_cs(r);
			CHECK_EQ(goc_mutex_unlock(&r->m), 0);
			atomic_fetch_add(&r->goroutine_iters, 1);
		}
	}
	atomic_fetch_add(&r->goroutine_iters, i);
	goc_waitgroup_done(&wg);
}

static void *revoke_thread(void *arg)
{
	revoke_round *r = arg;
	register_foreign_thread();
	for (int i = 0; i < REVOKE_THREAD_ITERS; i++) {
		CHECK_EQ(goc_mutex_lock(&r->m), 0);
		revoke_cs(r);
		CHECK_EQ(goc_mutex_unlock(&r->m), 0);
	}
	atomic_store(&r->thread_done, 1);
	return NULL;
}

static void test_revocation_in_the_middle_of_biased_use(void)
{
	int revoked_while_used = 0;
	for (int round = 0; round < SCALED(REVOKE_ROUNDS); round++) {
		revoke_round *r = calloc(1, sizeof *r);
		CHECK(r != NULL);
		goc_waitgroup_add(&wg, REVOKE_GOROUTINES);
		for (int i = 0; i < REVOKE_GOROUTINES; i++)
			CHECK_EQ(goc_go(revoke_hammer, r), 0);
		goc_yield(); /* let them bias it, usually */
		uint32_t bias_before = atomic_load(&r->m.bias);
		pthread_t th;
		CHECK_EQ(pthread_create(&th, NULL, revoke_thread, r), 0);
		CHECK_EQ(goc_waitgroup_wait(&wg), 0);
		pthread_join(th, NULL);
		revoked_while_used += bias_before >= 4;
		CHECK_EQ(r->count, atomic_load(&r->goroutine_iters) + REVOKE_THREAD_ITERS);
		CHECK_EQ(atomic_load(&r->m.bias), 1);
		CHECK_EQ(atomic_load(&r->m.state), 0);
		free(r);
	}
	/* At GOC_PROCS=1 every round revokes a bias in use (when the kernel
	 * has membarrier); with more, the Ps' own contention often has first. */
	if (goc_procs(0) == 1 && goc__membarrier_register())
		CHECK_EQ(revoked_while_used, SCALED(REVOKE_ROUNDS));
	else
		fprintf(stderr, "  %d of %d rounds revoked a bias in use\n", revoked_while_used,
		        SCALED(REVOKE_ROUNDS));
}

/* ---- simulation mode (goc/testing.h) -------------------------------------- */

static goc_mutex sim_mu = GOC_MUTEX_INIT;

static void lock_and_unlock_sim_mu(void *arg)
{
	(void)arg;
	goc_mutex_lock(&sim_mu);
	goc_mutex_unlock(&sim_mu);
}

/* Exit status 0 when the waiter starved and was handed the lock. */
static int starvation_program(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	CHECK_EQ(goc_mutex_lock(&sim_mu), 0);
	CHECK_EQ(goc_go(lock_and_unlock_sim_mu, NULL), 0);
	goc_sleep(MS(5));                      /* the waiter queues, waits 5 virtual ms */
	CHECK_EQ(goc_mutex_unlock(&sim_mu), 0); /* wakes it: normal mode */
	CHECK_EQ(goc_mutex_trylock(&sim_mu), 0); /* it has not run yet: we barge in */
	goc_sleep(MS(1));                      /* it runs, loses, has starved: STARVING */
	CHECK_EQ(goc_mutex_unlock(&sim_mu), 0); /* starvation mode: handed to it */
	return goc_mutex_trylock(&sim_mu) == GOC_EAGAIN ? 0 : 1;
}

/* Starvation is measured on goc_now's clock, virtual in simulation mode:
 * a waiter that waited 5 virtual ms (microseconds of real time) starves,
 * so the next unlock hands it the lock and a trylock right after fails.
 * Measured on the real clock it would not starve, and the trylock would
 * barge in. Before any runtime starts in this process (goc_sim_fork). */
static void test_starvation_is_measured_in_virtual_time_in_simulation(void)
{
	check_sim_seeds(starvation_program, "test_sync_mutex");
}

static int real_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	RUN(test_static_and_zero_initialised_mutexes_work);
	RUN(test_unlock_of_unlocked_mutex_is_eperm_and_harmless);
	RUN(test_null_mutex_is_einval);
	RUN(test_trylock_fails_while_locked);
	RUN(test_mutual_exclusion_under_contention);
	RUN(test_lock_until_times_out_while_held);
	RUN(test_lock_until_succeeds_when_released_in_time);
	RUN(test_timeouts_mixed_with_handoffs_leave_state_clean);
	RUN(test_waiter_gets_lock_within_bound_while_others_hammer);
	RUN(test_foreign_threads_and_goroutines_share_a_mutex);
	RUN(test_foreign_thread_deadline_and_wake);
	RUN(test_p_token_names_goroutine_code_only);
	RUN(test_biased_misuse_trylock_and_unlock_elsewhere);
	RUN(test_contention_among_one_ps_goroutines);
	RUN(test_revocation_in_the_middle_of_biased_use);
	return 0;
}

int main(int argc, char **argv)
{
	watchdog(60);
	RUN(test_starvation_is_measured_in_virtual_time_in_simulation);
	CHECK_EQ(run_with_procs_1_and_2(real_main, argc, argv), 0);
	CHECK_EQ(goc__p_token(), 0); /* the thread that ran goc_main is no P's now */
	return 0;
}
