/* pattern_pipeline.c - pipelines and generators (docs/patterns/pipelines.md):
 * stages connected by channels, each taking the done channel, so that
 * closing done stops the whole pipeline wherever its values are.
 *   - batch stages (a function over a whole array) versus stream stages
 *     (one value at a time, through channels);
 *   - generators: goc_repeat, goc_repeat_fn, goc_take;
 *   - a stage written with goc_stage (a filter and a map), and the same
 *     stage written by hand as a goroutine with a done channel. */
#include "pattern_example.h"

/* ---- batch: each stage takes and returns a whole array --------------------- */

static void pipe_multiply_batch(int *v, size_t n, int by)
{
	for (size_t i = 0; i < n; i++)
		v[i] *= by;
}

static void pipe_add_batch(int *v, size_t n, int x)
{
	for (size_t i = 0; i < n; i++)
		v[i] += x;
}

/* ---- stream stages with goc_stage ------------------------------------------ */

static int pipe_multiply(void *arg, const void *in, void *out)
{
	*(long *)out = *(const long *)in * *(int *)arg;
	return GOC_STAGE_SEND;
}

static int pipe_add(void *arg, const void *in, void *out)
{
	*(long *)out = *(const long *)in + *(int *)arg;
	return GOC_STAGE_SEND;
}

static int pipe_odd_only(void *arg, const void *in, void *out)
{
	(void)arg;
	*(long *)out = *(const long *)in;
	return *(const long *)in % 2 ? GOC_STAGE_SEND : GOC_STAGE_SKIP;
}

/* ---- a stage by hand: what goc_stage does --------------------------------- */

typedef struct pipe_square_args {
	goc_chan *done, *in, *out;
} pipe_square_args;

static void pipe_square_run(void *arg)
{
	pipe_square_args *a = arg;
	long v;
	while (goc_recv_or_done(a->done, a->in, &v) == 0) {
		v *= v;
		if (goc_send_or_done(a->done, a->out, &v) != 0)
			break;
	}
	goc_close(a->out);     /* the stage owns its output: it closes it */
	goc_chan_release(a->done);
	goc_chan_release(a->in);
	goc_chan_release(a->out);
}

static goc_chan *pipe_square(goc_chan *done, goc_chan *in)
{
	goc_chan *out = goc_chan_make(sizeof(long), 0);
	goc_chan_retain(out); /* ours and the goroutine's */
	goc_chan_retain(in);
	goc_chan_retain(done);
	pipe_square_args a = { done, in, out };
	if (goc_go_copy(pipe_square_run, &a, sizeof a) != 0) {
		goc_chan_release(done);
		goc_chan_release(in);
		goc_chan_release(out);
		goc_chan_release(out);
		return NULL;
	}
	return out;
}

static long pipe_counter;

static int pipe_next(void *arg, void *out)
{
	(void)arg;
	*(long *)out = ++pipe_counter; /* 1, 2, 3, ... */
	return 0;
}

static int pipe_random(void *arg, void *out)
{
	unsigned *x = arg;
	*x = *x * 1103515245 + 12345;
	*(long *)out = (long)(*x >> 16) % 100;
	return 0;
}

static int pattern_pipeline(void)
{
	goc_leakcheck_baseline();
	/* Batch: each stage sees every value before the next starts. */
	int batch[] = { 1, 2, 3, 4 };
	pipe_multiply_batch(batch, 4, 2);
	pipe_add_batch(batch, 4, 1);
	pipe_multiply_batch(batch, 4, 2);
	printf("  batch:  1 2 3 4 -> *2 +1 *2 -> %d %d %d %d\n", batch[0], batch[1], batch[2], batch[3]);
	EXPECT(batch[0] == 6 && batch[3] == 18);

	/* Stream: values flow one at a time through goroutines. */
	goc_chan *done = goc_chan_make(0, 0);
	goc_chan *gen = goc_repeat_fn(done, pipe_next, NULL, sizeof(long)); /* 1, 2, 3, ... */
	goc_chan *first4 = goc_take(done, gen, 4);
	int two = 2, one = 1;
	goc_chan *m1 = goc_stage(done, first4, pipe_multiply, &two, sizeof(long), 0);
	goc_chan *a1 = goc_stage(done, m1, pipe_add, &one, sizeof(long), 0);
	goc_chan *m2 = goc_stage(done, a1, pipe_multiply, &two, sizeof(long), 0);
	printf("  stream: take(4, 1 2 3 ...) -> *2 +1 *2 ->");
	long v, want[] = { 6, 10, 14, 18 };
	int got = 0;
	while (goc_recv(m2, &v) == 0) {
		printf(" %ld", v);
		EXPECT(got < 4 && v == want[got]);
		got++;
	}
	printf("\n");
	EXPECT(got == 4);

	/* Generators: repeat a fixed list, repeat a function; filter; a
	 * hand-written stage. Closing done stops every goroutine. */
	long list[] = { 1, 2, 3 };
	goc_chan *rep = goc_repeat(done, list, 3, sizeof(long));
	goc_chan *odd = goc_stage(done, rep, pipe_odd_only, NULL, sizeof(long), 0);
	goc_chan *sq = pipe_square(done, odd);
	printf("  repeat(1 2 3) -> odd only -> square:");
	for (int i = 0; i < 6; i++) {
		EXPECT(goc_recv(sq, &v) == 0);
		printf(" %ld", v);
		EXPECT(v == (i % 2 ? 9 : 1));
	}
	printf("\n");
	unsigned seed = 7;
	goc_chan *rgen = goc_repeat_fn(done, pipe_random, &seed, sizeof(long));
	goc_chan *rnd = goc_take(done, rgen, 5);
	printf("  take(5, repeat_fn(random)):");
	got = 0;
	while (goc_recv(rnd, &v) == 0)
		printf(" %ld", v), got++;
	printf("\n");
	EXPECT(got == 5);

	goc_close(done); /* everything still running stops here */
	EXPECT(goc_recv(sq, &v) == GOC_ECLOSED);
	printf("  closed done: the endless generators stopped and every stage closed its output\n");
	goc_chan *all[] = { gen, first4, m1, a1, m2, rep, odd, sq, rgen, rnd };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		goc_chan_release(all[i]);
	goc_chan_release(done);
	EXPECT(goc_leakcheck(GOC_SEC(5)) == 0);
	return 0;
}

PATTERN_MAIN(pattern_pipeline)
