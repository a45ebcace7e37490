/* pattern_queuing.c - queuing (docs/patterns/queuing.md): a buffer
 * between two stages lets each run at its own pace for a while. It does
 * not make the slowest stage faster; it helps when stages are slow at
 * different moments (a burst of slow items in one while the other is
 * fast), because their delays then overlap instead of adding up.
 * The demo: a producer and a consumer that each stall now and then, at
 * different items, connected by channels of capacity 0, 1 and 32; the
 * throughput of each is measured and printed (not checked: it depends on
 * the machine's load), the values are checked. */
#include "pattern_example.h"

#define Q_ITEMS 60
#define Q_STALL GOC_MS(2)

typedef struct q_args {
	goc_chan *out;
} q_args;

/* Stalls on items 0, 10, 20, ... (a slow disk, say). */
static void q_produce(void *arg)
{
	q_args *a = arg;
	for (long i = 0; i < Q_ITEMS; i++) {
		if (i % 10 == 0)
			goc_sleep(Q_STALL);
		goc_send(a->out, &i);
	}
	goc_close(a->out);
	goc_chan_release(a->out);
}

/* Consumer stalls on items 5, 15, 25, ...: never when the producer does. */
static int64_t q_run(size_t cap, long *sum)
{
	goc_chan *c = goc_chan_make(sizeof(long), cap);
	goc_chan_retain(c);
	q_args a = { c };
	int64_t t0 = goc_now();
	if (goc_go_copy(q_produce, &a, sizeof a) != 0)
		return -1;
	long v;
	*sum = 0;
	while (goc_recv(c, &v) == 0) {
		if (v % 10 == 5)
			goc_sleep(Q_STALL);
		*sum += v;
	}
	int64_t ns = goc_now() - t0;
	goc_chan_release(c);
	return ns;
}

static int pattern_queuing(void)
{
	size_t caps[] = { 0, 1, 32 };
	int64_t took[3];
	for (int i = 0; i < 3; i++) {
		long sum;
		took[i] = q_run(caps[i], &sum);
		EXPECT(took[i] > 0 && sum == (long)Q_ITEMS * (Q_ITEMS - 1) / 2);
		printf("  capacity %2zu: %d items in %5.1f ms = %6.0f items/s%s\n", caps[i], Q_ITEMS,
		       (double)took[i] / 1e6, Q_ITEMS / ((double)took[i] / 1e9),
		       i == 0 ? "  (stalls add up)" : i == 2 ? "  (stalls overlap)" : "");
	}
	printf("  buffered vs unbuffered: %.2fx the throughput (measured)\n", (double)took[0] / (double)took[2]);
	return 0;
}

PATTERN_MAIN(pattern_queuing)
