/* sync_barrier.c - goc_once and goc_cond (docs/sync.md): a lazily built
 * shared table (built exactly once, whoever asks first), and a reusable
 * barrier made of a mutex and a condition variable: 8 goroutines run 100
 * phases in lockstep, none starting phase p+1 before all finished phase p. */
#include <goc.h>

#include <stdatomic.h>
#include <stdio.h>

enum { PARTIES = 8, PHASES = 100 };

/* ---- once: lazy initialisation ---- */
static goc_once table_once = GOC_ONCE_INIT;
static int table[256];
static _Atomic int builds;

static void build_table(void *arg)
{
	(void)arg;
	atomic_fetch_add(&builds, 1);
	for (int i = 0; i < 256; i++)
		table[i] = __builtin_popcount((unsigned)i);
}

static int bits_in(unsigned char byte)
{
	goc_once_do(&table_once, build_table, NULL);   /* waits if another goroutine builds */
	return table[byte];
}

/* ---- cond: a barrier ---- */
typedef struct barrier {
	goc_mutex mu;
	goc_cond cv;
	int waiting;       /* guarded by mu */
	long generation;   /* guarded by mu */
} barrier;

static barrier bar = {GOC_MUTEX_INIT, GOC_COND_INIT, 0, 0};

static void barrier_wait(barrier *b)
{
	goc_mutex_lock(&b->mu);
	long gen = b->generation;
	if (++b->waiting == PARTIES) {       /* last to arrive opens the gate */
		b->waiting = 0;
		b->generation++;
		goc_cond_broadcast(&b->cv);
	} else {
		while (gen == b->generation)  /* loop: the condition, not the wake-up, decides */
			goc_cond_wait(&b->cv, &b->mu);
	}
	goc_mutex_unlock(&b->mu);
}

static _Atomic int phase_done[PHASES];
static _Atomic int out_of_step;
static goc_waitgroup wg = GOC_WAITGROUP_INIT;

static void party(void *arg)
{
	(void)arg;
	for (int p = 0; p < PHASES; p++) {
		if (p > 0 && atomic_load(&phase_done[p - 1]) != PARTIES)
			atomic_fetch_add(&out_of_step, 1);
		if (bits_in((unsigned char)p) != __builtin_popcount((unsigned)p))
			atomic_fetch_add(&out_of_step, 1);
		atomic_fetch_add(&phase_done[p], 1);
		barrier_wait(&bar);
	}
	goc_waitgroup_done(&wg);
}

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	goc_waitgroup_add(&wg, PARTIES);
	for (int i = 0; i < PARTIES; i++)
		goc_go(party, NULL);
	goc_waitgroup_wait(&wg);
	printf("%d phases x %d parties, table built %d time(s), %d out of step\n", PHASES, PARTIES,
	       atomic_load(&builds), atomic_load(&out_of_step));
	return atomic_load(&builds) == 1 && atomic_load(&out_of_step) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	return goc_main(run, argc, argv);
}
