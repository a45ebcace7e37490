/* pattern_or_done_tee_bridge.c - or-done, tee and bridge
 * (docs/patterns/or-done-tee-bridge.md):
 *   - goc_or_done: read a channel you do not control and still stop when
 *     done closes (for v := range orDone(done, c));
 *   - goc_tee: every value to two consumers (the slower paces both);
 *   - goc_bridge: a channel of channels read as one stream, in order. */
#include "pattern_example.h"

typedef struct otb_producer {
	goc_chan *out;              /* long */
	long from, to;
} otb_producer;

/* A producer that ignores done: it sends until the reader goes away. */
static void otb_produce(void *arg)
{
	otb_producer *p = arg;
	for (long v = p->from; v <= p->to; v++)
		if (goc_send(p->out, &v) != 0)
			break;
	goc_close(p->out);
	goc_chan_release(p->out);
}

/* A channel of channels: each inner channel carries three values; every
 * inner channel sent hands its reference to the bridge. */
static void otb_streams(void *arg)
{
	otb_producer *p = arg;
	for (long base = p->from; base <= p->to; base += 3) {
		goc_chan *inner = goc_chan_make(sizeof(long), 3);
		for (long v = base; v < base + 3; v++)
			goc_send(inner, &v);
		goc_close(inner);
		if (goc_send(p->out, &inner) != 0)
			goc_chan_release(inner); /* not sent: still ours */
	}
	goc_close(p->out);
	goc_chan_release(p->out);
}

static int pattern_or_done_tee_bridge(void)
{
	goc_leakcheck_baseline();

	/* or-done: a slow producer we do not control; we stop after 3. */
	goc_chan *done = goc_chan_make(0, 0), *values = goc_chan_make(sizeof(long), 0);
	goc_chan_retain(values);
	otb_producer p = { values, 1, 1000000 };
	EXPECT(goc_go_copy(otb_produce, &p, sizeof p) == 0);
	goc_chan *od = goc_or_done(done, values);
	long v, sum = 0;
	printf("  or-done:");
	for (int i = 0; i < 3 && goc_recv(od, &v) == 0; i++)
		printf(" %ld", v), sum += v;
	goc_close(done);
	EXPECT(goc_recv(od, &v) == GOC_ECLOSED); /* or-done stopped on done */
	printf(" ... closed done: the or-done channel closed\n");
	EXPECT(sum == 6);
	goc_close(values); /* our producer ignores done: we own stopping it */
	goc_chan_release(od);
	goc_chan_release(values);
	goc_chan_release(done);

	/* tee: two consumers each get every value. */
	done = goc_chan_make(0, 0);
	goc_chan *ones_twos = goc_repeat(done, (long[]){ 1, 2 }, 2, sizeof(long));
	goc_chan *nums = goc_take(done, ones_twos, 4);
	goc_chan *outs[2];
	EXPECT(goc_tee(done, nums, outs) == 0);
	long a, b, sa = 0, sb = 0;
	printf("  tee:");
	while (goc_recv(outs[0], &a) == 0 && goc_recv(outs[1], &b) == 0) {
		printf(" (%ld %ld)", a, b);
		EXPECT(a == b);
		sa += a, sb += b;
	}
	printf("\n");
	EXPECT(sa == 6 && sb == 6);
	goc_close(done);
	goc_chan_release(outs[0]);
	goc_chan_release(outs[1]);
	goc_chan_release(nums);
	goc_chan_release(ones_twos);
	goc_chan_release(done);

	/* bridge: 4 channels of 3 values each, read as one stream of 12. */
	done = goc_chan_make(0, 0);
	goc_chan *chans = goc_chan_make(sizeof(goc_chan *), 0);
	goc_chan_retain(chans);
	otb_producer q = { chans, 1, 12 };
	EXPECT(goc_go_copy(otb_streams, &q, sizeof q) == 0);
	goc_chan *flat = goc_bridge(done, chans, sizeof(long));
	long want = 1;
	printf("  bridge:");
	while (goc_recv(flat, &v) == 0) {
		printf(" %ld", v);
		EXPECT(v == want);
		want++;
	}
	printf("\n");
	EXPECT(want == 13);
	goc_chan_release(flat);
	goc_chan_release(chans);
	goc_chan_release(done);
	EXPECT(goc_leakcheck(GOC_SEC(5)) == 0);
	return 0;
}

PATTERN_MAIN(pattern_or_done_tee_bridge)
