/* test_sched_million.c - a million goroutines alive at once, all parked,
 * then all released and joined, on a stock vm.max_map_count (65530): stacks
 * come from slabs, not one mapping each (src/stack/stack.c).
 * Under the sanitizers the count is smaller: ASan doubles each goroutine's
 * memory with shadow and fake stacks, and TSan keeps at most 8128 live
 * fibers (threads); the count used is printed either way. */
// ctest: TIMEOUT 240
// ctest: RUN_SERIAL ON
#include "check.h"

#include <goc.h>
#include <stdatomic.h>

#if defined(GOC_TEST_TSAN)
#define COUNT 6000
#elif defined(GOC_TEST_ASAN)
#define COUNT 200000
#else
#define COUNT 1000000
#endif

static goc_waitgroup started = GOC_WAITGROUP_INIT, finished = GOC_WAITGROUP_INIT;
static goc_chan *release;
static _Atomic long alive;

static void parked(void *arg)
{
	(void)arg;
	atomic_fetch_add(&alive, 1);
	goc_waitgroup_done(&started);
	CHECK_EQ(goc_recv(release, NULL), GOC_ECLOSED);
	atomic_fetch_sub(&alive, 1);
	goc_waitgroup_done(&finished);
}

static void test_million_goroutines_alive_at_once(void)
{
	release = goc_chan_make(0, 0);
	CHECK(release != NULL);
	goc_waitgroup_add(&started, COUNT);
	goc_waitgroup_add(&finished, COUNT);
	for (long i = 0; i < COUNT; i++)
		CHECK_EQ(goc_go(parked, NULL), 0);
	CHECK_EQ(goc_waitgroup_wait(&started), 0);
	/* Every goroutine has started and none can finish before release. */
	CHECK_EQ(atomic_load(&alive), COUNT);
	CHECK_EQ(goc_close(release), 0);
	CHECK_EQ(goc_waitgroup_wait(&finished), 0);
	CHECK_EQ(atomic_load(&alive), 0);
	goc_chan_release(release);
	printf("%d goroutines were alive at once\n", COUNT);
}

static int real_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	RUN(test_million_goroutines_alive_at_once);
	return 0;
}

int main(int argc, char **argv)
{
	return goc_main(real_main, argc, argv);
}
