/* testing_lost_wakeup.c - a condition variable waited on without a loop,
 * found by exploring schedules.
 *
 * Two consumers each take one item from a shared counter, one at once and
 * one a millisecond later; a producer adds an item every millisecond and
 * signals. consume_buggy waits with
 *     if (items == 0) goc_cond_wait(&cv, &mu);
 * A signal only says "the condition was true when I signalled": between the
 * signal and the moment the woken consumer holds the mutex again, the other
 * consumer can come in and take the item. The woken one then takes an item
 * that is not there (items goes negative) - its wake-up was lost to the
 * other. consume_fixed re-checks in a loop (`while`), as every condition
 * variable wait must.
 *
 * The producer's millisecond is virtual: under goc_explore the clock jumps
 * to the next timer whenever every goroutine is blocked, so each run takes
 * microseconds. main (testing_main.h) explores both versions over RUNS
 * (100) seeds and exits 0 when a seed fails the first and every seed
 * passes the fix.
 */
#include <goc.h>
#include <stdio.h>

#include "testing_main.h"

static goc_mutex mu = GOC_MUTEX_INIT;
static goc_cond cv = GOC_COND_INIT;
static int items;
static bool fixed;

static void consume_buggy(void)
{
	goc_mutex_lock(&mu);
	if (items == 0) /* BUG: the item may be gone again when we wake */
		goc_cond_wait(&cv, &mu);
	items--;
	goc_mutex_unlock(&mu);
}

static void consume_fixed(void)
{
	goc_mutex_lock(&mu);
	while (items == 0)
		goc_cond_wait(&cv, &mu);
	items--;
	goc_mutex_unlock(&mu);
}

typedef struct consumer_arg {
	goc_waitgroup *wg;
	int64_t arrive;  /* when it comes for its item */
} consumer_arg;

static void consumer(void *arg)
{
	consumer_arg *ca = arg;
	goc_sleep(ca->arrive);
	if (fixed)
		consume_fixed();
	else
		consume_buggy();
	goc_waitgroup_done(ca->wg);
}

static void producer(void *arg)
{
	for (int i = 0; i < 2; i++) {
		goc_sleep(GOC_MS(1));
		goc_mutex_lock(&mu);
		items++;
		goc_cond_signal(&cv);
		goc_mutex_unlock(&mu);
	}
}

static int program(int argc, char **argv)
{
	goc_waitgroup wg = GOC_WAITGROUP_INIT;
	goc_waitgroup_add(&wg, 2);
	consumer_arg early = {&wg, 0}, late = {&wg, GOC_MS(1)};
	goc_go(consumer, &early);
	goc_go(producer, NULL);
	goc_go(consumer, &late);
	goc_waitgroup_wait(&wg);
	if (items != 0) {
		printf("items = %d after both consumers took one\n", items);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	bug_story story = {.buggy = "if-wait", .symptom = "fails", .fixed = "while-wait"};
	return explore_bug_and_fix(&story, program, &fixed, argc, argv);
}
