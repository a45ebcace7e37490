/* debug_leak.c - finding a goroutine leak with goc_leakcheck
 * (docs/debugging.md). A "first answer wins" search queries three replicas
 * on an unbuffered channel and returns the first answer: the two slower
 * replicas then block forever on their send, a classic leak. The test-
 * suite pattern: record a baseline, run the code, check. The fixed version
 * (a buffered channel with room for every answer) leaks nothing.
 * Exits 0 when the leak check sees exactly the two leaked goroutines in the
 * buggy version and none in the fixed one. */
#include <goc.h>

#include <stdio.h>

typedef struct query {
	goc_chan *answers;
	int replica;
} query;

static void replica(void *arg)
{
	query *q = arg; /* our own copy (goc_go_copy) */
	goc_sleep(GOC_MS(1 + 2 * q->replica));
	int answer = 100 + q->replica;
	goc_send(q->answers, &answer); /* blocks forever if nobody receives */
	goc_chan_release(q->answers);
}

/* Ask every replica, return the first answer. With an unbuffered
 * answers channel, the bug. */
static int first_answer(goc_chan *answers)
{
	for (int r = 0; r < 3; r++) {
		goc_chan_retain(answers); /* each replica holds a reference */
		query q = {answers, r};
		goc_go_copy(replica, &q, sizeof q);
	}
	int answer = 0;
	goc_recv(answers, &answer);
	return answer;
}

static int run(int argc, char **argv)
{
	/* Buggy: two replicas are left blocked in goc_send. */
	goc_chan *answers = goc_chan_make(sizeof(int), 0);
	goc_leakcheck_baseline();
	printf("buggy: answer %d\n", first_answer(answers));
	int leaked = goc_leakcheck(GOC_MS(100)); /* prints each survivor on stderr */
	printf("buggy: %d goroutines leaked\n", leaked);
	for (int i = 0, v; i < leaked; i++)
		goc_recv(answers, &v); /* let this example end clean */
	goc_chan_release(answers);

	/* Fixed: room for every answer, so no replica ever blocks. */
	answers = goc_chan_make(sizeof(int), 3);
	goc_leakcheck_baseline();
	printf("fixed: answer %d\n", first_answer(answers));
	int fixed = goc_leakcheck(GOC_SEC(5));
	printf("fixed: %d goroutines leaked\n", fixed);
	goc_chan_release(answers);
	return leaked == 2 && fixed == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	return goc_main(run, argc, argv);
}
