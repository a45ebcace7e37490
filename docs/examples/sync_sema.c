/* sync_sema.c - a weighted semaphore as a memory budget (docs/sync.md):
 * 30 jobs of different sizes run concurrently, but the sizes of the jobs
 * running at any moment never add up to more than the 100 MB budget; the
 * largest job (100 MB) is not starved by the small ones (FIFO service). */
#include <goc.h>

#include <stdatomic.h>
#include <stdio.h>

enum { BUDGET_MB = 100, JOBS = 30 };

static goc_sema budget = GOC_SEMA_INIT(BUDGET_MB);
static _Atomic int in_use, peak, over_budget, finished;
static goc_waitgroup wg = GOC_WAITGROUP_INIT;

static void job(void *arg)
{
	int mb = *(int *)arg;
	goc_sema_acquire(&budget, mb);       /* waits for room, in arrival order */
	int now = atomic_fetch_add(&in_use, mb) + mb;
	if (now > BUDGET_MB)
		atomic_fetch_add(&over_budget, 1);
	int p = atomic_load(&peak);
	while (now > p && !atomic_compare_exchange_weak(&peak, &p, now))
		;
	for (int i = 0; i < 5; i++)
		goc_yield();                     /* the work */
	atomic_fetch_sub(&in_use, mb);
	goc_sema_release(&budget, mb);
	atomic_fetch_add(&finished, 1);
	goc_waitgroup_done(&wg);
}

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	goc_waitgroup_add(&wg, JOBS);
	for (int i = 0; i < JOBS; i++) {
		int mb = i == 7 ? BUDGET_MB : 10 + (i * 37) % 50;
		goc_go_copy(job, &mb, sizeof mb);
	}
	goc_waitgroup_wait(&wg);
	printf("%d jobs finished, peak %d MB of %d, %d over budget\n", atomic_load(&finished),
	       atomic_load(&peak), BUDGET_MB, atomic_load(&over_budget));
	return atomic_load(&finished) == JOBS && atomic_load(&over_budget) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	return goc_main(run, argc, argv);
}
