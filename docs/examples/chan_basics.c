/* chan_basics.c - channels in five moves (docs/channels.md): an unbuffered
 * hand-off, a buffered queue drained after close, the error codes that
 * replace Go's panics, a signal channel, and a plain pthread talking to a
 * goroutine over the same channel. Exits 0 when every step behaves. */
#include <goc.h>

#include <pthread.h>
#include <stdio.h>

static int failures;
#define EXPECT(cond)                                                          \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "chan_basics: %s failed\n", #cond);   \
			failures++;                                           \
		}                                                             \
	} while (0)

/* 1. Unbuffered: the send completes only when the receiver takes it. */
static void square_server(void *arg)
{
	goc_chan *c = arg;
	long x;
	while (goc_recv(c, &x) == 0) {  /* "for x := range c" */
		x *= x;
		goc_send(c, &x);        /* reply on the same channel */
	}
	goc_chan_release(c);            /* our reference (retained by main) */
}

/* 5. A thread goc did not start: it blocks its OS thread, not a worker. */
static void *thread_producer(void *arg)
{
	goc_chan *c = arg;
	for (long i = 1; i <= 100; i++)
		goc_send(c, &i);
	goc_close(c);
	return NULL;
}

/* Start the producer thread and wait for it: inside goc_blocking, so this
 * worker's P keeps running goroutines meanwhile (and the deadlock detector
 * knows we are not stuck while the thread has not called goc yet). */
static void *run_producer_thread(void *arg)
{
	pthread_t th;
	if (pthread_create(&th, NULL, thread_producer, arg) != 0)
		return (void *)1;
	pthread_join(th, NULL);
	return NULL;
}

struct summer { goc_chan *in, *result; };

static void sum_all(void *arg)
{
	struct summer *s = arg;
	long total = 0, x;
	while (goc_recv(s->in, &x) == 0)
		total += x;
	goc_send(s->result, &total);    /* buffered: returns at once */
}

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;

	goc_chan *c = goc_chan_make(sizeof(long), 0);
	goc_chan_retain(c);             /* one reference for the server */
	goc_go(square_server, c);
	for (long i = 1; i <= 5; i++) {
		long y = i;
		goc_send(c, &y);
		goc_recv(c, &y);
		EXPECT(y == i * i);
	}
	goc_close(c);                   /* ends the server's loop */
	goc_chan_release(c);

	/* 2. Buffered: sends do not wait while there is room; after close the
	 * receiver still gets every value, then GOC_ECLOSED and a zero. */
	goc_chan *q = goc_chan_make(sizeof(int), 3);
	for (int i = 1; i <= 3; i++)
		EXPECT(goc_try_send(q, &i) == 0);
	int v = 4;
	EXPECT(goc_try_send(q, &v) == GOC_EAGAIN); /* full */
	EXPECT(goc_len(q) == 3 && goc_cap(q) == 3);
	goc_close(q);
	int sum = 0;
	while (goc_recv(q, &v) == 0)
		sum += v;
	EXPECT(sum == 6 && v == 0);

	/* 3. Misuse is an error code, never a crash. */
	EXPECT(goc_send(q, &v) == GOC_ECLOSED);  /* Go: panic */
	EXPECT(goc_close(q) == GOC_ECLOSED);     /* Go: panic */
	EXPECT(goc_send(NULL, &v) == GOC_EINVAL); /* Go: blocks forever */
	goc_chan_release(q);

	/* 4. elem_size 0: a channel that carries only the event. */
	goc_chan *done = goc_chan_make(0, 1);
	goc_send(done, NULL);
	EXPECT(goc_recv(done, NULL) == 0);
	goc_chan_release(done);

	/* 5. A pthread sends, a goroutine receives. */
	struct summer s = { goc_chan_make(sizeof(long), 8), goc_chan_make(sizeof(long), 1) };
	goc_go(sum_all, &s);
	EXPECT(goc_blocking(run_producer_thread, s.in) == NULL);
	long total = 0;
	goc_recv(s.result, &total);
	EXPECT(total == 5050);
	goc_chan_release(s.in);
	goc_chan_release(s.result);

	if (!failures)
		printf("chan_basics: ok\n");
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	return goc_main(run, argc, argv);
}
