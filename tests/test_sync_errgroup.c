/* test_sync_errgroup.c - goc_errgroup: first error wins and cancels the
 * group's context, wait waits for all, the concurrency limit holds, and the
 * semaphore's context form. Any GOC_PROCS. */
#include "test_sync_util.h"

#include <stdatomic.h>

static _Atomic int ran, running, max_running, saw_cancel;

static int succeed(void *arg)
{
	(void)arg;
	atomic_fetch_add(&ran, 1);
	return 0;
}

static int fail_with(void *arg)
{
	atomic_fetch_add(&ran, 1);
	return (int)(intptr_t)arg;
}

static void test_wait_returns_zero_when_all_succeed(void)
{
	goc_errgroup g = GOC_ERRGROUP_INIT;
	atomic_store(&ran, 0);
	for (int i = 0; i < 100; i++)
		CHECK_EQ(goc_errgroup_go(&g, succeed, NULL), 0);
	CHECK_EQ(goc_errgroup_wait(&g), 0);
	CHECK_EQ(atomic_load(&ran), 100);
	CHECK(goc_errgroup_ctx(&g) == NULL);
}

static void test_wait_returns_the_first_error(void)
{
	goc_errgroup g;
	goc_errgroup_init(&g);
	atomic_store(&ran, 0);
	CHECK_EQ(goc_errgroup_go(&g, fail_with, (void *)(intptr_t)-7), 0);
	CHECK_EQ(goc_errgroup_wait(&g), -7);   /* wait runs it to completion */
	/* Later errors do not replace it. */
	goc_errgroup_init(&g);
	CHECK_EQ(goc_errgroup_go(&g, fail_with, (void *)(intptr_t)-1), 0);
	CHECK_EQ(goc_errgroup_wait(&g), -1);
	for (int i = 0; i < 10; i++)
		CHECK_EQ(goc_errgroup_go(&g, fail_with, (void *)(intptr_t)(-100 - i)), 0);
	int err = goc_errgroup_wait(&g);
	CHECK(err == -1);   /* the group keeps its first error */
	CHECK_EQ(atomic_load(&ran), 12);
}

/* Workers block until the group's context is cancelled; one fails. */
static int wait_for_cancel(void *arg)
{
	goc_ctx *ctx = arg;
	CHECK_EQ(goc_recv(goc_ctx_done(ctx), NULL), GOC_ECLOSED);
	CHECK_EQ(goc_ctx_err(ctx), GOC_ECANCELED);
	atomic_fetch_add(&saw_cancel, 1);
	return GOC_ECANCELED;
}

static void test_first_error_cancels_the_group_context(void)
{
	goc_errgroup g;
	atomic_store(&saw_cancel, 0);
	CHECK_EQ(goc_errgroup_init_ctx(&g, NULL), 0);
	goc_ctx *ctx = goc_errgroup_ctx(&g);
	CHECK(ctx != NULL);
	CHECK_EQ(goc_ctx_err(ctx), 0);
	for (int i = 0; i < 10; i++)
		CHECK_EQ(goc_errgroup_go(&g, wait_for_cancel, ctx), 0);
	CHECK_EQ(goc_errgroup_go(&g, fail_with, (void *)(intptr_t)-42), 0);
	CHECK_EQ(goc_errgroup_wait(&g), -42);
	CHECK_EQ(atomic_load(&saw_cancel), 10);
	CHECK(goc_errgroup_ctx(&g) == NULL);   /* released by wait */
}

/* A parent's cancellation reaches the group's context too. */
static void test_parent_cancellation_reaches_the_group(void)
{
	goc_ctx *parent = goc_ctx_with_cancel(goc_ctx_background());
	CHECK(parent != NULL);
	goc_errgroup g;
	atomic_store(&saw_cancel, 0);
	CHECK_EQ(goc_errgroup_init_ctx(&g, parent), 0);
	for (int i = 0; i < 5; i++)
		CHECK_EQ(goc_errgroup_go(&g, wait_for_cancel, goc_errgroup_ctx(&g)), 0);
	goc_yield();
	CHECK_EQ(goc_ctx_cancel(parent), 0);
	CHECK_EQ(goc_errgroup_wait(&g), GOC_ECANCELED);
	CHECK_EQ(atomic_load(&saw_cancel), 5);
	goc_ctx_release(parent);
}

/* ---- limits -------------------------------------------------------------- */

static int limited(void *arg)
{
	(void)arg;
	int now = atomic_fetch_add(&running, 1) + 1;
	int m = atomic_load(&max_running);
	while (now > m && !atomic_compare_exchange_weak(&max_running, &m, now))
		;
	for (int i = 0; i < 3; i++)
		goc_yield();
	atomic_fetch_sub(&running, 1);
	atomic_fetch_add(&ran, 1);
	return 0;
}

static void test_limit_bounds_concurrent_goroutines(void)
{
	goc_errgroup g = GOC_ERRGROUP_INIT;
	atomic_store(&ran, 0);
	atomic_store(&max_running, 0);
	CHECK_EQ(goc_errgroup_set_limit(&g, 3), 0);
	for (int i = 0; i < 60; i++)
		CHECK_EQ(goc_errgroup_go(&g, limited, NULL), 0);
	CHECK_EQ(goc_errgroup_wait(&g), 0);
	CHECK_EQ(atomic_load(&ran), 60);
	CHECK(atomic_load(&max_running) <= 3);
	CHECK(atomic_load(&max_running) >= 1);
	fprintf(stderr, "    (at most %d at once)\n", atomic_load(&max_running));
}

static goc_waitgroup gate;

static int blocked(void *arg)
{
	(void)arg;
	goc_waitgroup_wait(&gate);
	return 0;
}

static void test_try_go_and_set_limit_while_busy(void)
{
	goc_errgroup g = GOC_ERRGROUP_INIT;
	CHECK_EQ(goc_errgroup_set_limit(&g, 1), 0);
	goc_waitgroup_add(&gate, 1);
	CHECK_EQ(goc_errgroup_try_go(&g, blocked, NULL), 0);
	CHECK_EQ(goc_errgroup_try_go(&g, blocked, NULL), GOC_EAGAIN);
	CHECK_EQ(goc_errgroup_set_limit(&g, 5), GOC_EBUSY);
	goc_waitgroup_done(&gate);
	CHECK_EQ(goc_errgroup_wait(&g), 0);
	CHECK_EQ(goc_errgroup_set_limit(&g, 0), 0);   /* no limit again */
	CHECK_EQ(goc_errgroup_try_go(&g, succeed, NULL), 0);
	CHECK_EQ(goc_errgroup_try_go(&g, succeed, NULL), 0);
	CHECK_EQ(goc_errgroup_wait(&g), 0);
	CHECK_EQ(goc_errgroup_go(NULL, succeed, NULL), GOC_EINVAL);
	CHECK_EQ(goc_errgroup_go(&g, NULL, NULL), GOC_EINVAL);
	CHECK_EQ(goc_errgroup_wait(NULL), GOC_EINVAL);
}

/* ---- the semaphore's context form ------------------------------------------ */

static goc_sema cs = GOC_SEMA_INIT(4);
static _Atomic int ctx_result = 1;

static void acquire_with_ctx(void *arg)
{
	goc_ctx *ctx = arg;
	atomic_store(&ctx_result, goc_sema_acquire_ctx(&cs, ctx, 3));
}

/* The deadline forms: go_until waits for a slot until its deadline,
 * wait_until gives up while a task still runs and leaves the group (and
 * its context) usable, and a task failing with GOC_ETIMEDOUT is told apart
 * from the deadline. */
static goc_chan *release_task;

static int block_until_released(void *arg)
{
	(void)arg;
	CHECK_EQ(goc_recv(release_task, NULL), 0);
	return GOC_ETIMEDOUT; /* a subtask's own timeout */
}

static void test_deadline_forms(void)
{
	CHECK_EQ(goc_errgroup_wait_until(NULL, 0, NULL), GOC_EINVAL);
	CHECK_EQ(goc_errgroup_go_until(NULL, succeed, NULL, 0), GOC_EINVAL);

	release_task = goc_chan_make(0, 0);
	goc_errgroup g;
	CHECK_EQ(goc_errgroup_init_ctx(&g, NULL), 0);
	CHECK_EQ(goc_errgroup_set_limit(&g, 1), 0);
	CHECK_EQ(goc_errgroup_go_until(&g, block_until_released, NULL, GOC_NO_DEADLINE), 0);

	int64_t t0 = now_ns();
	CHECK_EQ(goc_errgroup_go_until(&g, succeed, NULL, t0 + MS(10)), GOC_ETIMEDOUT);
	CHECK(now_ns() - t0 >= MS(10));
	CHECK_EQ(goc_errgroup_go_until(&g, succeed, NULL, t0 - 1), GOC_ETIMEDOUT); /* past: a try */

	int err = 12345;
	t0 = now_ns();
	CHECK_EQ(goc_errgroup_wait_until(&g, t0 + MS(10), &err), GOC_ETIMEDOUT);
	CHECK(now_ns() - t0 >= MS(10));
	CHECK_EQ(err, 12345);                                   /* not written */
	CHECK(goc_errgroup_ctx(&g) != NULL);                    /* still the group's */
	CHECK_EQ(goc_ctx_err(goc_errgroup_ctx(&g)), 0);          /* and not cancelled */

	CHECK_EQ(goc_send(release_task, NULL), 0);               /* the slot frees ... */
	atomic_store(&ran, 0);
	CHECK_EQ(goc_errgroup_go_until(&g, succeed, NULL, now_ns() + GOC_SEC(10)), 0);
	CHECK_EQ(goc_errgroup_wait_until(&g, now_ns() + GOC_SEC(10), &err), 0);
	CHECK_EQ(err, GOC_ETIMEDOUT);                           /* the task's own */
	CHECK_EQ(atomic_load(&ran), 1);
	CHECK(goc_errgroup_ctx(&g) == NULL);                    /* released */
	CHECK_EQ(goc_errgroup_wait_until(&g, 0, NULL), 0);       /* again: nothing runs */
	goc_chan_release(release_task);
}

static void test_sema_acquire_ctx_cancel_and_grant(void)
{
	goc_ctx *ctx = goc_ctx_with_cancel(goc_ctx_background());
	CHECK(ctx != NULL);
	CHECK_EQ(goc_sema_acquire_ctx(&cs, ctx, 2), 0);   /* free: no wait */
	atomic_store(&ctx_result, 1);
	CHECK_EQ(goc_go(acquire_with_ctx, ctx), 0);
	while (atomic_load(&cs.nwait) == 0)
		goc_yield();
	CHECK_EQ(goc_ctx_cancel(ctx), 0);
	while (atomic_load(&ctx_result) == 1)
		goc_yield();
	CHECK_EQ(atomic_load(&ctx_result), GOC_ECANCELED);
	CHECK_EQ(atomic_load(&cs.nwait), 0);
	CHECK_EQ(atomic_load(&cs.cur), 2);
	CHECK_EQ(goc_sema_acquire_ctx(&cs, ctx, 1), GOC_ECANCELED);   /* done: fails at once */
	goc_ctx_release(ctx);

	/* Granted while waiting. */
	ctx = goc_ctx_with_cancel(goc_ctx_background());
	atomic_store(&ctx_result, 1);
	CHECK_EQ(goc_go(acquire_with_ctx, ctx), 0);
	while (atomic_load(&cs.nwait) == 0)
		goc_yield();
	CHECK_EQ(goc_sema_release(&cs, 2), 0);
	while (atomic_load(&ctx_result) == 1)
		goc_yield();
	CHECK_EQ(atomic_load(&ctx_result), 0);
	CHECK_EQ(atomic_load(&cs.cur), 3);
	CHECK_EQ(goc_sema_release(&cs, 3), 0);
	goc_ctx_release(ctx);

	/* A deadline context times out. */
	CHECK_EQ(goc_sema_acquire(&cs, 4), 0);
	int64_t t0 = now_ns();   /* before the context: its deadline counts from its creation */
	ctx = goc_ctx_with_timeout(goc_ctx_background(), GOC_MS(20));
	CHECK_EQ(goc_sema_acquire_ctx(&cs, ctx, 1), GOC_ETIMEDOUT);
	CHECK(now_ns() - t0 >= MS(20));
	CHECK_EQ(goc_sema_release(&cs, 4), 0);
	CHECK_EQ(atomic_load(&cs.nwait), 0);
	goc_ctx_release(ctx);
	CHECK_EQ(goc_sema_acquire_ctx(&cs, NULL, 1), GOC_EINVAL);
	CHECK_EQ(goc_sema_acquire_ctx(&cs, goc_ctx_background(), 4), 0);   /* never cancelled */
	CHECK_EQ(goc_sema_release(&cs, 4), 0);
}

/* Cancellations racing with grants: tokens are never lost or duplicated. */
static goc_waitgroup wg;

static void racing_ctx_acquirer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 200; i++) {
		goc_ctx *ctx = goc_ctx_with_timeout(goc_ctx_background(), (i % 5) * 20000);
		int r = goc_sema_acquire_ctx(&cs, ctx, 1 + i % 2);
		if (r == 0) {
			goc_yield();
			CHECK_EQ(goc_sema_release(&cs, 1 + i % 2), 0);
		} else {
			CHECK(r == GOC_ETIMEDOUT || r == GOC_ECANCELED);
		}
		goc_ctx_release(ctx);
	}
	goc_waitgroup_done(&wg);
}

static void test_sema_ctx_cancellations_racing_with_grants(void)
{
	goc_waitgroup_add(&wg, 8);
	for (int i = 0; i < 8; i++)
		CHECK_EQ(goc_go(racing_ctx_acquirer, NULL), 0);
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	CHECK_EQ(atomic_load(&cs.cur), 0);
	CHECK_EQ(atomic_load(&cs.nwait), 0);
}

static int real_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	RUN(test_wait_returns_zero_when_all_succeed);
	RUN(test_wait_returns_the_first_error);
	RUN(test_first_error_cancels_the_group_context);
	RUN(test_parent_cancellation_reaches_the_group);
	RUN(test_limit_bounds_concurrent_goroutines);
	RUN(test_try_go_and_set_limit_while_busy);
	RUN(test_deadline_forms);
	RUN(test_sema_acquire_ctx_cancel_and_grant);
	RUN(test_sema_ctx_cancellations_racing_with_grants);
	return 0;
}

int main(int argc, char **argv)
{
	watchdog(60);
	CHECK_EQ(run_with_procs_1_and_2(real_main, argc, argv), 0);
	return 0;
}
