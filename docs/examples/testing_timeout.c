/* testing_timeout.c - testing timeouts in virtual time (docs/testing.md).
 *
 * fetch() waits at most 30 seconds for a reply. Testing both outcomes for
 * real would take half a minute; under goc_sim_main the clock is virtual:
 * it stands still while any goroutine can run and jumps to the next timer
 * when all are blocked, so the test runs in microseconds and its times are
 * exact.
 */
#include <goc.h>
#include <stdio.h>

/* The code under test: a reply from `replies`, or GOC_ETIMEDOUT. */
static int fetch(goc_chan *replies, int *out)
{
	return goc_recv_until(replies, out, goc_now() + GOC_SEC(30));
}

typedef struct server {
	goc_chan *replies;
	int64_t delay;
} server;

static void slow_server(void *arg)
{
	server *s = arg;
	goc_sleep(s->delay);
	int answer = 42;
	goc_send(s->replies, &answer);
}

static int test_fetch(int argc, char **argv)
{
	goc_chan *replies = goc_chan_make(sizeof(int), 1);
	int v = 0;

	/* Nobody answers: fetch gives up after exactly 30 s. */
	int64_t t0 = goc_now();
	if (fetch(replies, &v) != GOC_ETIMEDOUT || goc_now() - t0 != GOC_SEC(30)) {
		printf("expected a timeout after 30 s\n");
		return 1;
	}

	/* A server answering after 10 s: fetch gets the reply at 10 s. */
	server s = {replies, GOC_SEC(10)};
	goc_go(slow_server, &s);
	t0 = goc_now();
	if (fetch(replies, &v) != 0 || v != 42 || goc_now() - t0 != GOC_SEC(10)) {
		printf("expected the reply after 10 s\n");
		return 1;
	}
	printf("both cases tested, %.0f virtual seconds\n", (double)(goc_now() - t0 + GOC_SEC(30)) / 1e9);
	goc_chan_release(replies);
	return 0;
}

int main(int argc, char **argv)
{
	goc_sim_config cfg = {.seed = 1}; /* virtual time is the default */
	return goc_sim_main(&cfg, test_fetch, argc, argv);
}
