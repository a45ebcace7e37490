/* time_timeout.c - three ways to give up waiting (docs/time-and-context.md):
 * a deadline on the receive itself, goc_after as a select case, and a
 * goc_timer reused across the rounds of a loop. A slow producer answers
 * after 30 ms; a 5 ms timeout must lose the race and a 500 ms one win it. */
#include <goc.h>

#include <stdio.h>

static void slow_answer(void *arg)
{
	goc_chan *reply = arg;
	goc_sleep(GOC_MS(30));
	int answer = 42;
	goc_send(reply, &answer); /* buffered (cap 1): never blocks, never leaks */
	goc_chan_release(reply);
}

/* Ask for an answer; wait at most `patience`. 0 and *out, or GOC_ETIMEDOUT. */
static int ask_until(int64_t patience, int *out)
{
	goc_chan *reply = goc_chan_make(sizeof(int), 1);
	goc_chan_retain(reply); /* the producer's reference */
	goc_go(slow_answer, reply);
	int rc = goc_recv_until(reply, out, goc_now() + patience);
	goc_chan_release(reply);
	return rc;
}

/* The same with select and goc_after, Go's `case <-time.After(d)`. */
static int ask_select(int64_t patience, int *out)
{
	goc_chan *reply = goc_chan_make(sizeof(int), 1);
	goc_chan_retain(reply);
	goc_go(slow_answer, reply);
	goc_chan *timeout = goc_after(patience);
	goc_case cs[] = {goc_case_recv(reply, out), goc_case_recv(timeout, NULL)};
	int rc = GOC_SELECT(cs) == 0 ? 0 : GOC_ETIMEDOUT;
	goc_chan_release(timeout); /* fired or not: its timer frees itself */
	goc_chan_release(reply);
	return rc;
}

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	int failures = 0, v = 0;

	int64_t start = goc_now();
	if (ask_until(GOC_MS(5), &v) != GOC_ETIMEDOUT || goc_now() - start < GOC_MS(5))
		failures++, fprintf(stderr, "recv_until: the 5 ms timeout did not fire\n");
	if (ask_until(GOC_MS(500), &v) != 0 || v != 42)
		failures++, fprintf(stderr, "recv_until: no answer within 500 ms\n");
	if (ask_select(GOC_MS(5), &v) != GOC_ETIMEDOUT)
		failures++, fprintf(stderr, "select+after: the 5 ms timeout did not fire\n");
	if (ask_select(GOC_MS(500), &v) != 0 || v != 42)
		failures++, fprintf(stderr, "select+after: no answer within 500 ms\n");

	/* A loop that waits for each value with the same idle timeout: one
	 * goc_timer, reset every round (no allocation per round). */
	goc_chan *values = goc_chan_make(sizeof(int), 16);
	for (int i = 1; i <= 3; i++)
		goc_send(values, &i);
	goc_timer *idle = goc_timer_new(GOC_MS(20));
	int got = 0, sum = 0;
	for (;;) {
		goc_timer_reset(idle, GOC_MS(20));
		goc_case cs[] = {goc_case_recv(values, &v), goc_case_recv(goc_timer_chan(idle), NULL)};
		if (GOC_SELECT(cs) == 1)
			break; /* 20 ms without a value: done */
		got++;
		sum += v;
	}
	goc_timer_release(idle);
	goc_chan_release(values);
	if (got != 3 || sum != 6)
		failures++, fprintf(stderr, "idle-timeout loop: got %d values summing to %d\n", got, sum);

	printf("time_timeout: %s\n", failures ? "FAIL" : "ok");
	return failures != 0;
}

int main(int argc, char **argv)
{
	return goc_main(run, argc, argv);
}
