/* sync_cache.c - a read-mostly memo cache guarded by a goc_rwmutex
 * (docs/sync.md): lookups share the read lock; a miss computes the value
 * outside any lock, then takes the write lock to insert it (re-checking,
 * since another goroutine may have inserted it meanwhile). Checks every
 * answer and that each key was computed at most a few times. */
#include <goc.h>

#include <stdatomic.h>
#include <stdio.h>

enum { KEYS = 64, READERS = 16, LOOKUPS = 5000 };

static goc_rwmutex cache_mu = GOC_RWMUTEX_INIT;
static struct { bool present; long value; } cache[KEYS];   /* guarded by cache_mu */
static _Atomic int computed;
static _Atomic int wrong;
static goc_waitgroup wg = GOC_WAITGROUP_INIT;

static long slow_square(long k)
{
	atomic_fetch_add(&computed, 1);
	goc_yield();                   /* pretend it takes a while */
	return k * k;
}

static long lookup(long k)
{
	goc_rwmutex_rlock(&cache_mu);
	bool hit = cache[k].present;
	long v = cache[k].value;
	goc_rwmutex_runlock(&cache_mu);
	if (hit)
		return v;

	v = slow_square(k);            /* no lock held while computing */
	goc_rwmutex_lock(&cache_mu);
	if (!cache[k].present) {       /* someone may have beaten us to it */
		cache[k].present = true;
		cache[k].value = v;
	}
	v = cache[k].value;
	goc_rwmutex_unlock(&cache_mu);
	return v;
}

static void reader(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	for (int i = 0; i < LOOKUPS; i++) {
		seed = seed * 1103515245u + 12345u;
		long k = (seed >> 8) % KEYS;
		if (lookup(k) != k * k)
			atomic_fetch_add(&wrong, 1);
	}
	goc_waitgroup_done(&wg);
}

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	goc_waitgroup_add(&wg, READERS);
	for (long r = 0; r < READERS; r++)
		goc_go(reader, (void *)(uintptr_t)(r + 1));
	goc_waitgroup_wait(&wg);

	int c = atomic_load(&computed);
	printf("%d lookups, %d computations for %d keys, %d wrong\n", READERS * LOOKUPS, c, KEYS,
	       atomic_load(&wrong));
	/* Each key is computed by at most every reader that missed it at once. */
	return atomic_load(&wrong) == 0 && c >= KEYS && c <= KEYS * READERS ? 0 : 1;
}

int main(int argc, char **argv)
{
	return goc_main(run, argc, argv);
}
