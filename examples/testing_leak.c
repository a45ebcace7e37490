/* testing_leak.c - a goroutine leak on early return, found by exploring
 * schedules and goc_leakcheck.
 *
 * fetch asks two replicas at once and returns on the first error. Each
 * replica goroutine sends its answer on an unbuffered channel; when the
 * failing replica answers first, fetch returns early and nobody ever
 * receives the other answer: that goroutine blocks in its send forever. In
 * the other order fetch reads both answers and nothing leaks, so the leak
 * depends on the schedule. goc_leakcheck (goc/debug.h) waits a while for
 * goroutines started since the baseline to end, and lists the survivors;
 * under simulation its wait is virtual time, so it costs nothing. The fix:
 * a channel with room for every answer, so no replica ever blocks.
 *
 * main (testing_main.h) explores both versions over RUNS (100) seeds and
 * exits 0 when a seed leaks in the first and every seed passes the fix.
 */
#include <goc.h>
#include <stdio.h>

#include "testing_main.h"

static bool fixed;

typedef struct replica {
	goc_chan *answers; /* int: < 0 an error; the replica owns a reference */
	int answer;
} replica;

static void ask_replica(void *arg)
{
	replica *r = arg;
	goc_send(r->answers, &r->answer);
	goc_chan_release(r->answers);
}

/* The sum of both replicas' answers, or the first error. */
static int fetch(void)
{
	goc_chan *answers = goc_chan_make(sizeof(int), fixed ? 2 : 0); /* BUG: 0 */
	replica a = {answers, -5}, b = {answers, 42};
	goc_chan_retain(answers); /* one reference per replica */
	goc_chan_retain(answers);
	goc_go_copy(ask_replica, &a, sizeof a);
	goc_go_copy(ask_replica, &b, sizeof b);
	int sum = 0;
	for (int i = 0; i < 2; i++) {
		int v;
		goc_recv(answers, &v);
		if (v < 0) {
			goc_chan_release(answers);
			return v; /* early return: the other replica may still be sending */
		}
		sum += v;
	}
	goc_chan_release(answers);
	return sum;
}

static int program(int argc, char **argv)
{
	goc_leakcheck_baseline();
	int r = fetch();
	printf("fetch: %d\n", r);
	int leaked = goc_leakcheck(GOC_SEC(1));
	return leaked == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	bug_story story = {.buggy = "unbuffered answers", .symptom = "leaks", .fixed = "buffered answers"};
	return explore_bug_and_fix(&story, program, &fixed, argc, argv);
}
