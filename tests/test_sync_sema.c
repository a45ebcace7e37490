/* test_sync_sema.c - goc_sema: weights, FIFO service, try, misuse,
 * deadlines, a bound on concurrency under load. Any GOC_PROCS. */
#include "test_sync_util.h"

#include <pthread.h>
#include <stdatomic.h>

static goc_waitgroup wg;

static void test_weights_add_up(void)
{
	goc_sema s = GOC_SEMA_INIT(10);
	CHECK_EQ(goc_sema_acquire(&s, 7), 0);
	CHECK_EQ(goc_sema_try_acquire(&s, 4), GOC_EAGAIN);
	CHECK_EQ(goc_sema_try_acquire(&s, 3), 0);
	CHECK_EQ(goc_sema_try_acquire(&s, 1), GOC_EAGAIN);
	CHECK_EQ(goc_sema_try_acquire(&s, 0), 0);
	CHECK_EQ(goc_sema_acquire_until(&s, 1, now_ns() + MS(10)), GOC_ETIMEDOUT);
	CHECK_EQ(goc_sema_release(&s, 10), 0);
	CHECK_EQ(atomic_load(&s.cur), 0);
	CHECK_EQ(atomic_load(&s.nwait), 0);
}

static void test_misuse_is_refused_and_state_kept(void)
{
	goc_sema s;
	CHECK_EQ(goc_sema_init(&s, 3), 0);
	CHECK_EQ(goc_sema_release(&s, 1), GOC_EPERM);
	CHECK_EQ(goc_sema_acquire(&s, 2), 0);
	CHECK_EQ(goc_sema_release(&s, 3), GOC_EPERM);
	CHECK_EQ(atomic_load(&s.cur), 2);
	CHECK_EQ(goc_sema_acquire(&s, 4), GOC_EINVAL);   /* could never be met */
	CHECK_EQ(goc_sema_acquire(&s, -1), GOC_EINVAL);
	CHECK_EQ(goc_sema_release(&s, -1), GOC_EINVAL);
	CHECK_EQ(goc_sema_release(&s, 2), 0);
	CHECK_EQ(goc_sema_init(&s, -1), GOC_EINVAL);
	CHECK_EQ(goc_sema_init(NULL, 1), GOC_EINVAL);
	CHECK_EQ(goc_sema_acquire(NULL, 1), GOC_EINVAL);
	CHECK_EQ(goc_sema_try_acquire(NULL, 1), GOC_EINVAL);
	CHECK_EQ(goc_sema_release(NULL, 1), GOC_EINVAL);
	goc_sema z;
	memset(&z, 0, sizeof z);   /* zero: a semaphore of size 0 */
	CHECK_EQ(goc_sema_acquire(&z, 0), 0);
	CHECK_EQ(goc_sema_acquire(&z, 1), GOC_EINVAL);
}

/* ---- FIFO: a big request at the head is served before small ones ------ */

static goc_sema fs = GOC_SEMA_INIT(10);
static _Atomic int granted[8], order[8], order_len;

struct req { int id; int64_t n; };

/* Acquire and keep the tokens (main releases them). */
static void acquire_and_hold(void *arg)
{
	struct req *r = arg;
	CHECK_EQ(goc_sema_acquire(&fs, r->n), 0);
	atomic_store(&granted[r->id], 1);
	goc_waitgroup_done(&wg);
}

static void test_waiters_are_served_in_fifo_order(void)
{
	for (int i = 0; i < 3; i++)
		atomic_store(&granted[i], 0);
	CHECK_EQ(goc_sema_acquire(&fs, 9), 0);   /* 1 free */
	struct req reqs[3] = {{0, 8}, {1, 1}, {2, 1}};
	goc_waitgroup_add(&wg, 3);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(goc_go(acquire_and_hold, &reqs[i]), 0);
		while (atomic_load(&fs.nwait) < (uint32_t)i + 1)   /* queued in this order */
			goc_yield();
	}
	/* 1 token is free but the head wants 8: the small ones must not pass,
	 * and nobody else may jump the queue either. */
	for (int k = 0; k < 100; k++)
		goc_yield();
	CHECK(!atomic_load(&granted[1]) && !atomic_load(&granted[2]));
	CHECK_EQ(goc_sema_try_acquire(&fs, 1), GOC_EAGAIN);
	/* 8 free: exactly the head fits; the others still wait. */
	CHECK_EQ(goc_sema_release(&fs, 7), 0);
	while (!atomic_load(&granted[0]))
		goc_yield();
	for (int k = 0; k < 100; k++)
		goc_yield();
	CHECK(!atomic_load(&granted[1]) && !atomic_load(&granted[2]));
	CHECK_EQ(atomic_load(&fs.nwait), 2);
	CHECK_EQ(atomic_load(&fs.cur), 10);
	CHECK_EQ(goc_sema_release(&fs, 2), 0);   /* both small ones now */
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	CHECK_EQ(goc_sema_release(&fs, 10), 0);
	CHECK_EQ(atomic_load(&fs.cur), 0);
	CHECK_EQ(atomic_load(&fs.nwait), 0);
}

static void acquire_and_record(void *arg)
{
	struct req *r = arg;
	CHECK_EQ(goc_sema_acquire(&fs, r->n), 0);
	order[atomic_fetch_add(&order_len, 1)] = r->id;
	CHECK_EQ(goc_sema_release(&fs, r->n), 0);
	goc_waitgroup_done(&wg);
}

/* The head times out: those behind it that fit are served at once. */
static _Atomic int head_result = 1;

static void head_waiter(void *arg)
{
	(void)arg;
	atomic_store(&head_result, goc_sema_acquire_until(&fs, 8, now_ns() + MS(20)));
	goc_waitgroup_done(&wg);
}

static void test_timed_out_head_lets_the_rest_through(void)
{
	atomic_store(&order_len, 0);
	atomic_store(&head_result, 1);
	CHECK_EQ(goc_sema_acquire(&fs, 9), 0);
	goc_waitgroup_add(&wg, 2);
	CHECK_EQ(goc_go(head_waiter, NULL), 0);
	while (atomic_load(&fs.nwait) < 1)
		goc_yield();
	struct req small = {5, 1};
	CHECK_EQ(goc_go(acquire_and_record, &small), 0);
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);   /* small got in after the head left */
	CHECK_EQ(atomic_load(&head_result), GOC_ETIMEDOUT);
	CHECK_EQ(order[0], 5);
	CHECK_EQ(goc_sema_release(&fs, 9), 0);
	CHECK_EQ(atomic_load(&fs.cur), 0);
	CHECK_EQ(atomic_load(&fs.nwait), 0);
}

/* ---- a bound on concurrency under load -------------------------------- */

static goc_sema limit = GOC_SEMA_INIT(3);
static _Atomic int inside, max_inside, bad;

static void limited_work(void *arg)
{
	int64_t n = (int64_t)(intptr_t)arg;
	for (int i = 0; i < 300; i++) {
		int r = (i % 5 == 4) ? goc_sema_acquire_until(&limit, n, now_ns() + 20000)
		                     : goc_sema_acquire(&limit, n);
		if (r == GOC_ETIMEDOUT)
			continue;
		CHECK_EQ(r, 0);
		int now_in = atomic_fetch_add(&inside, (int)n) + (int)n;
		if (now_in > 3)
			atomic_fetch_add(&bad, 1);
		int m = atomic_load(&max_inside);
		while (now_in > m && !atomic_compare_exchange_weak(&max_inside, &m, now_in))
			;
		goc_yield();
		atomic_fetch_sub(&inside, (int)n);
		CHECK_EQ(goc_sema_release(&limit, n), 0);
	}
	goc_waitgroup_done(&wg);
}

static void *thread_limited_work(void *arg)
{
	register_foreign_thread();
	for (int i = 0; i < 300; i++) {
		CHECK_EQ(goc_sema_acquire(&limit, 1), 0);
		if (atomic_fetch_add(&inside, 1) + 1 > 3)
			atomic_fetch_add(&bad, 1);
		atomic_fetch_sub(&inside, 1);
		CHECK_EQ(goc_sema_release(&limit, 1), 0);
	}
	(void)arg;
	return NULL;
}

static void test_tokens_bound_concurrency_under_load(void)
{
	atomic_store(&max_inside, 0);
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, thread_limited_work, NULL), 0);
	goc_waitgroup_add(&wg, 12);
	for (int i = 0; i < 12; i++)
		CHECK_EQ(goc_go(limited_work, (void *)(intptr_t)(1 + i % 3)), 0);
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	pthread_join(th, NULL);
	CHECK_EQ(atomic_load(&bad), 0);
	CHECK(atomic_load(&max_inside) <= 3);
	CHECK_EQ(atomic_load(&limit.cur), 0);
	CHECK_EQ(atomic_load(&limit.nwait), 0);
}

/* ---- simulation mode (goc/testing.h) -------------------------------------- */

static goc_sema sim_sema = GOC_SEMA_INIT(1);
static bool sim_marked;

static void sim_mark(void *arg)
{
	(void)arg;
	sim_marked = true;
}

/* Exit status 0 when the deadlines were measured on goc_now's clock. */
static int sim_deadline_program(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	CHECK_EQ(goc_sema_acquire(&sim_sema, 1), 0);
	/* A deadline already reached on the virtual clock times out at once:
	 * no park, so the goroutine just spawned has not run. */
	CHECK_EQ(goc_go(sim_mark, NULL), 0);
	CHECK_EQ(goc_sema_acquire_until(&sim_sema, 1, goc_now()), GOC_ETIMEDOUT);
	CHECK(!sim_marked);
	/* A future one times out exactly at the virtual deadline. */
	int64_t t0 = goc_now();
	CHECK_EQ(goc_sema_acquire_until(&sim_sema, 1, t0 + MS(3)), GOC_ETIMEDOUT);
	CHECK_EQ(goc_now() - t0, MS(3));
	CHECK(sim_marked);
	CHECK_EQ(atomic_load(&sim_sema.nwait), 0);
	CHECK_EQ(goc_sema_release(&sim_sema, 1), 0);
	return 0;
}

/* Deadlines are measured on goc_now's clock, virtual in simulation mode.
 * Before any runtime starts in this process (goc_sim_fork). */
static void test_deadlines_on_the_virtual_clock_in_simulation(void)
{
	check_sim_seeds(sim_deadline_program, "test_sync_sema");
}

static int real_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	RUN(test_weights_add_up);
	RUN(test_misuse_is_refused_and_state_kept);
	RUN(test_waiters_are_served_in_fifo_order);
	RUN(test_timed_out_head_lets_the_rest_through);
	RUN(test_tokens_bound_concurrency_under_load);
	return 0;
}

int main(int argc, char **argv)
{
	watchdog(60);
	RUN(test_deadlines_on_the_virtual_clock_in_simulation);
	CHECK_EQ(run_with_procs_1_and_2(real_main, argc, argv), 0);
	return 0;
}
