/* errgroup.c - goc_errgroup: goroutines working on subtasks of one task
 * (Go's golang.org/x/sync/errgroup).
 *
 * A group is a waitgroup (the goroutines started), the first error (0 until
 * a CAS from 0 installs one; later errors are dropped), an optional weighted
 * semaphore bounding how many run at once (size 0: no limit), and an
 * optional context derived for the group, cancelled by the first error and
 * when wait returns, then released by wait.
 *
 * Each goroutine runs a small trampoline with a copy of {group, fn, arg}
 * (goc_go_copy: nothing allocated by us). Its exit order matters: record
 * the error (and cancel), release its semaphore slot, then waitgroup done:
 * once done is called, wait may return and the caller may discard the
 * group, so done is the trampoline's last touch of it.
 */
#include "semtab.h"

#include "goc/ctx.h"

typedef struct task {
	goc_errgroup *g;
	int (*fn)(void *arg);
	void *arg;
} task;

static void record_error(goc_errgroup *g, int err)
{
	int none = 0;
	if (atomic_compare_exchange_strong_explicit(&g->err, &none, err, memory_order_acq_rel,
	                                            memory_order_acquire) &&
	    g->ctx)
		goc_ctx_cancel(g->ctx);
}

static void run_task(void *arg)
{
	task *t = arg;
	goc_errgroup *g = t->g;
	int err = t->fn(t->arg);
	if (err != 0)
		record_error(g, err);
	if (g->limit.size > 0)
		goc_sema_release(&g->limit, 1);
	goc_waitgroup_done(&g->wg);
}

void goc_errgroup_init(goc_errgroup *g)
{
	if (!g)
		return;
	*g = (goc_errgroup)GOC_ERRGROUP_INIT;
}

int goc_errgroup_init_ctx(goc_errgroup *g, goc_ctx *parent)
{
	if (!g)
		return GOC_EINVAL;
	goc_errgroup_init(g);
	g->ctx = goc_ctx_with_cancel(parent ? parent : goc_ctx_background());
	if (!g->ctx)
		return errno == ENOMEM ? GOC_ENOMEM : GOC_EINVAL;
	return 0;
}

goc_ctx *goc_errgroup_ctx(goc_errgroup *g)
{
	return g ? g->ctx : NULL;
}

int goc_errgroup_set_limit(goc_errgroup *g, int n)
{
	if (!g)
		return GOC_EINVAL;
	/* As Go's SetLimit: not while goroutines of the group hold slots. */
	if ((atomic_load_explicit(&g->wg.state, memory_order_acquire) >> 32) != 0)
		return GOC_EBUSY;
	return goc_sema_init(&g->limit, n > 0 ? n : 0);
}

static int spawn(goc_errgroup *g, int (*fn)(void *), void *arg)
{
	task t = {g, fn, arg};
	goc_waitgroup_add(&g->wg, 1);
	int err = goc_go_copy(run_task, &t, sizeof t);
	if (err != 0) {
		if (g->limit.size > 0)
			goc_sema_release(&g->limit, 1);
		goc_waitgroup_done(&g->wg);
	}
	return err;
}

int goc_errgroup_go(goc_errgroup *g, int (*fn)(void *arg), void *arg)
{
	return goc_errgroup_go_until(g, fn, arg, GOC__NO_DEADLINE);
}

int goc_errgroup_go_until(goc_errgroup *g, int (*fn)(void *arg), void *arg, int64_t deadline)
{
	if (!g || !fn)
		return GOC_EINVAL;
	if (g->limit.size > 0) {
		int err = goc_sema_acquire_until(&g->limit, 1, deadline);
		if (err)
			return err;
	}
	return spawn(g, fn, arg);
}

int goc_errgroup_try_go(goc_errgroup *g, int (*fn)(void *arg), void *arg)
{
	if (!g || !fn)
		return GOC_EINVAL;
	if (g->limit.size > 0 && goc_sema_try_acquire(&g->limit, 1) != 0)
		return GOC_EAGAIN;
	return spawn(g, fn, arg);
}

int goc_errgroup_wait_until(goc_errgroup *g, int64_t deadline, int *first_err)
{
	if (!g)
		return GOC_EINVAL;
	int err = goc_waitgroup_wait_until(&g->wg, deadline);
	if (err)
		return err; /* GOC_ETIMEDOUT: the group and its context untouched */
	/* Every goroutine has finished: cancel and release the group's
	 * context (once: a later wait finds it gone). */
	if (g->ctx) {
		goc_ctx_cancel(g->ctx);
		goc_ctx_release(g->ctx);
		g->ctx = NULL;
	}
	if (first_err)
		*first_err = atomic_load_explicit(&g->err, memory_order_acquire);
	return 0;
}

int goc_errgroup_wait(goc_errgroup *g)
{
	int first = 0;
	int err = goc_errgroup_wait_until(g, GOC__NO_DEADLINE, &first);
	return err ? err : first;
}
