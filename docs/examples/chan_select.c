/* chan_select.c - the for-select loop in C (docs/channels.md): a worker
 * merges two inputs until both are closed, disabling each closed input with
 * the nil-channel idiom, stops early when `done` is closed, and gives up on
 * a quiet input after a deadline. Also: select with a default case.
 * Exits 0 when every step behaves. */
#include <goc.h>

#include <stdio.h>

static int failures;
#define EXPECT(cond)                                                          \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "chan_select: %s failed\n", #cond);   \
			failures++;                                           \
		}                                                             \
	} while (0)

struct range { goc_chan *out; int from, to; };

static void produce(void *arg)
{
	struct range *r = arg;
	for (int i = r->from; i <= r->to; i++)
		goc_send(r->out, &i);
	goc_close(r->out);
}

/* Sum what arrives on a and b until both are closed, done is closed, or
 * nothing arrives for `quiet` ns. Returns the sum; *why says which. */
static long merge(goc_chan *a, goc_chan *b, goc_chan *done, int64_t quiet, const char **why)
{
	long sum = 0;
	int v;
	while (a || b) {
		/* Rebuilt every round, so `a = NULL` disables that case next
		 * time round, exactly like setting a Go channel to nil. */
		goc_case cs[] = {
			goc_case_recv(done, NULL),
			goc_case_recv(a, &v),
			goc_case_recv(b, &v),
		};
		switch (GOC_SELECT_UNTIL(cs, goc_now() + quiet)) {
		case 0:
			*why = "done";
			return sum;
		case 1:
			if (!goc_case_ok(&cs[1]))
				a = NULL;       /* closed: stop listening */
			else
				sum += v;
			break;
		case 2:
			if (!goc_case_ok(&cs[2]))
				b = NULL;
			else
				sum += v;
			break;
		case GOC_ETIMEDOUT:
			*why = "quiet";
			return sum;
		}
	}
	*why = "closed";
	return sum;
}

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const char *why = "";

	/* Both inputs run dry and close. */
	goc_chan *a = goc_chan_make(sizeof(int), 0), *b = goc_chan_make(sizeof(int), 4);
	goc_chan *done = goc_chan_make(0, 0);
	struct range ra = { a, 1, 50 }, rb = { b, 51, 100 };
	goc_go(produce, &ra);
	goc_go(produce, &rb);
	EXPECT(merge(a, b, done, GOC_SEC(5), &why) == 5050);
	EXPECT(why[0] == 'c');

	/* An input that never speaks: the deadline ends the wait. */
	goc_chan *silent = goc_chan_make(sizeof(int), 0);
	EXPECT(merge(silent, NULL, done, GOC_MS(10), &why) == 0);
	EXPECT(why[0] == 'q');

	/* done closed: every select returns at once on case 0. */
	goc_close(done);
	EXPECT(merge(silent, NULL, done, GOC_SEC(5), &why) == 0);
	EXPECT(why[0] == 'd');

	/* Go's `select { case c <- v: ... default: ... }`: try, never wait. */
	goc_chan *box = goc_chan_make(sizeof(int), 1);
	int x = 7;
	goc_case put[] = { goc_case_send(box, &x) };
	EXPECT(GOC_TRY_SELECT(put) == 0);          /* room: sent */
	EXPECT(GOC_TRY_SELECT(put) == GOC_EAGAIN); /* full: the default */

	goc_chan_release(a);
	goc_chan_release(b);
	goc_chan_release(done);
	goc_chan_release(silent);
	goc_chan_release(box);
	if (!failures)
		printf("chan_select: ok\n");
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	return goc_main(run, argc, argv);
}
