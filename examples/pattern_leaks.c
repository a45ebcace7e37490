/* pattern_leaks.c - preventing goroutine leaks (docs/patterns/leaks.md):
 * the goroutine that starts another owns stopping it. A reader waiting on a
 * channel nobody will ever close, and a writer sending on a channel nobody
 * reads any more, leak; each is fixed by a done channel that the parent
 * closes. goc_leakcheck proves it: it lists the goroutines still alive
 * since goc_leakcheck_baseline and returns how many. */
#include "pattern_example.h"

typedef struct leak_args {
	goc_chan *done;             /* NULL: the leaking version */
	goc_chan *strings;          /* reader: input (never closed) */
	goc_chan *ints;             /* writer: output */
} leak_args;

/* The reader: prints what arrives until its input closes... or done. */
static void leak_reader(void *arg)
{
	leak_args *a = arg;
	const char *s;
	while (goc_recv_or_done(a->done, a->strings, &s) == 0)
		printf("  reader got %s\n", s);
	goc_chan_release(a->done);
	goc_chan_release(a->strings);
}

/* The writer: an endless stream of random numbers... until done. */
static void leak_writer(void *arg)
{
	leak_args *a = arg;
	unsigned x = 12345;
	for (;;) {
		x = x * 1103515245 + 12345;
		int v = (int)(x >> 16);
		if (goc_send_or_done(a->done, a->ints, &v) != 0)
			break;
	}
	goc_chan_release(a->done);
	goc_chan_release(a->ints);
}

static int leak_start(void (*fn)(void *), goc_chan *done, goc_chan *strings, goc_chan *ints)
{
	goc_chan_retain(done);
	goc_chan_retain(strings);
	goc_chan_retain(ints);
	leak_args a = { done, strings, ints };
	return goc_go_copy(fn, &a, sizeof a);
}

static int pattern_leaks(void)
{
	goc_leakcheck_baseline();

	/* Leaking reader: its input is never closed and nobody sends on it. */
	goc_chan *never = goc_chan_make(sizeof(const char *), 0);
	EXPECT(leak_start(leak_reader, NULL, never, NULL) == 0);
	/* Leaking writer: we take three numbers and walk away. */
	goc_chan *nums = goc_chan_make(sizeof(int), 0);
	EXPECT(leak_start(leak_writer, NULL, NULL, nums) == 0);
	for (int i = 0; i < 3; i++) {
		int v;
		goc_recv(nums, &v);
		printf("  random: %d\n", v);
	}
	printf("  without a done channel, goc_leakcheck reports:\n");
	fflush(stdout);
	int leaked = goc_leakcheck(GOC_MS(50));
	printf("  -> %d goroutines leaked (the reader and the writer)\n", leaked);
	EXPECT(leaked == 2);
	/* Unstick them so that this demo itself ends clean: the channels are
	 * all they wait on. */
	goc_close(never);
	goc_close(nums);
	EXPECT(goc_leakcheck(GOC_SEC(5)) == 0);
	goc_chan_release(never);
	goc_chan_release(nums);

	/* Fixed: the parent passes done and closes it when it is finished. */
	goc_leakcheck_baseline();
	goc_chan *done = goc_chan_make(0, 0);
	never = goc_chan_make(sizeof(const char *), 0);
	nums = goc_chan_make(sizeof(int), 0);
	EXPECT(leak_start(leak_reader, done, never, NULL) == 0);
	EXPECT(leak_start(leak_writer, done, NULL, nums) == 0);
	for (int i = 0; i < 3; i++) {
		int v;
		goc_recv(nums, &v);
		printf("  random: %d\n", v);
	}
	goc_close(done); /* the parent stops what it started */
	leaked = goc_leakcheck(GOC_SEC(5));
	printf("  with done closed by the parent: %d goroutines leaked\n", leaked);
	EXPECT(leaked == 0);
	goc_chan_release(done);
	goc_chan_release(never);
	goc_chan_release(nums);
	return 0;
}

PATTERN_MAIN(pattern_leaks)
