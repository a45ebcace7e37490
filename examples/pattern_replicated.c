/* pattern_replicated.c - replicated requests (docs/patterns/replicated.md):
 * when the fastest answer matters, send the same request to n replicas
 * (servers, goroutines) and take the first answer; the others are
 * cancelled through their context. goc_replicate does it: each replica
 * gets a child context that is cancelled once one of them has won. */
#include "pattern_example.h"

#include <stdatomic.h>

#define REP_N 8

typedef struct rep_env {
	int64_t latency[REP_N];     /* simulated: how long replica i takes */
	_Atomic int cancelled;
} rep_env;

typedef struct rep_answer {
	int replica;
	long value;
} rep_answer;

static int rep_do_work(goc_ctx *ctx, void *arg, int replica, void *result)
{
	rep_env *e = arg;
	int rc = goc_ctx_sleep(ctx, e->latency[replica]); /* the "request" */
	if (rc != 0) {
		atomic_fetch_add(&e->cancelled, 1);
		return rc; /* another replica won: stop */
	}
	rep_answer *a = result;
	a->replica = replica;
	a->value = 42;
	return 0;
}

static int pattern_replicated(void)
{
	static rep_env e; /* outlives the call: losers may still be ending */
	/* Latencies 20, 40, ... 160 ms in a random order: one fastest replica. */
	uint64_t x = (uint64_t)goc_now() | 1;
	for (int i = 0; i < REP_N; i++)
		e.latency[i] = GOC_MS(20) * (i + 1);
	for (int i = REP_N - 1; i > 0; i--) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		int j = (int)(x % (uint64_t)(i + 1));
		int64_t t = e.latency[i];
		e.latency[i] = e.latency[j];
		e.latency[j] = t;
	}
	int fastest = 0;
	for (int i = 1; i < REP_N; i++)
		if (e.latency[i] < e.latency[fastest])
			fastest = i;
	atomic_store(&e.cancelled, 0);
	goc_leakcheck_baseline();
	int64_t t0 = goc_now();
	rep_answer ans = { -1, 0 };
	int winner = goc_replicate(NULL, REP_N, rep_do_work, &e, 0, &ans, sizeof ans);
	int64_t took = goc_now() - t0;
	printf("  %d replicas, latencies (ms):", REP_N);
	for (int i = 0; i < REP_N; i++)
		printf(" %d", (int)(e.latency[i] / GOC_MS(1)));
	printf("\n  replica %d answered %ld after %.0f ms\n", winner, ans.value, (double)took / 1e6);
	EXPECT(winner >= 0 && ans.replica == winner && ans.value == 42);
	EXPECT(took >= e.latency[winner]); /* an answer, not a shortcut */
	printf("  %s\n", winner == fastest ? "the fastest replica won" : "a busy machine let another win");
	EXPECT(goc_leakcheck(GOC_SEC(5)) == 0); /* the losers ended... */
	int cancelled = atomic_load(&e.cancelled);
	printf("  %d of the %d others were cancelled before answering\n", cancelled, REP_N - 1);
	EXPECT(cancelled >= 1 && cancelled <= REP_N - 1); /* the next fastest may beat the cancel */
	return 0;
}

PATTERN_MAIN(pattern_replicated)
