/* pattern_for_select.c - the for-select loop (docs/patterns/for-select.md):
 *   1. sending iteration values out on a channel until done closes;
 *   2. looping forever until stopped, checking done first, then working;
 *   3. the same with the work in select's default case.
 * goc_send_or_done / goc_recv_or_done / goc_is_done make each loop one
 * line of C. */
#include "pattern_example.h"

#include <stdatomic.h>

typedef struct fs_args {
	goc_chan *done, *out;
	goc_chan *working;          /* signalled after the first round */
	_Atomic long *rounds;
} fs_args;

/* 1. for _, s := range values { select { case <-done: return; case out <- s: } } */
static void fs_send_values(void *arg)
{
	fs_args *a = arg;
	static const char *const words[] = { "a", "b", "c", "d" };
	for (size_t i = 0; i < 4; i++)
		if (goc_send_or_done(a->done, a->out, &words[i]) != 0)
			break; /* done: stop sending */
	goc_close(a->out);
}

/* 2. for { select { case <-done: return; default: }; work() } */
static void fs_check_then_work(void *arg)
{
	fs_args *a = arg;
	while (!goc_is_done(a->done)) {
		atomic_fetch_add(a->rounds, 1); /* the work */
		(void)goc_try_send(a->working, NULL);
		goc_yield();
	}
	goc_close(a->out); /* "I have stopped" */
}

/* 3. for { select { case <-done: return; default: work() } } */
static void fs_work_in_default(void *arg)
{
	fs_args *a = arg;
	for (;;) {
		goc_case cs[] = { goc_case_recv(a->done, NULL) };
		if (GOC_TRY_SELECT(cs) == 0)
			break; /* done */
		atomic_fetch_add(a->rounds, 1); /* default: the work */
		(void)goc_try_send(a->working, NULL);
		goc_yield();
	}
	goc_close(a->out);
}

static int pattern_for_select(void)
{
	/* 1. Iteration values, the reader stopping after two. */
	goc_chan *done = goc_chan_make(0, 0), *out = goc_chan_make(sizeof(const char *), 0);
	fs_args a = { done, out, NULL, NULL };
	EXPECT(goc_go_copy(fs_send_values, &a, sizeof a) == 0);
	const char *w;
	int got = 0;
	while (got < 2 && goc_recv(out, &w) == 0)
		printf("  received %s\n", w), got++;
	goc_close(done);
	EXPECT(goc_recv(out, &w) == GOC_ECLOSED); /* the sender saw done and closed */
	printf("  closed done after 2 values: the sender stopped and closed its channel\n");
	goc_chan_release(done);
	goc_chan_release(out);

	/* 2 and 3: loops that run until stopped. */
	void (*loops[])(void *) = { fs_check_then_work, fs_work_in_default };
	const char *names[] = { "check done, then work", "work in the default case" };
	for (int k = 0; k < 2; k++) {
		_Atomic long rounds = 0;
		done = goc_chan_make(0, 0);
		out = goc_chan_make(0, 0);
		goc_chan *working = goc_chan_make(0, 1);
		fs_args b = { done, out, working, &rounds };
		EXPECT(goc_go_copy(loops[k], &b, sizeof b) == 0);
		EXPECT(goc_recv(working, NULL) == 0); /* it has started working */
		goc_sleep(GOC_MS(10)); /* and may work a while longer */
		goc_close(done);
		EXPECT(goc_recv_until(out, NULL, goc_now() + GOC_SEC(5)) == GOC_ECLOSED);
		long n = atomic_load(&rounds);
		printf("  %s: %ld rounds of work, then stopped when done closed\n", names[k], n);
		EXPECT(n > 0);
		goc_chan_release(done);
		goc_chan_release(out);
		goc_chan_release(working);
	}
	return 0;
}

PATTERN_MAIN(pattern_for_select)
