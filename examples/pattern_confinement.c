/* pattern_confinement.c - confinement: data that only one goroutine can
 * touch needs no lock (docs/patterns/confinement.md).
 *   1. Immutable data shared by copying: goc_go_copy hands a goroutine its
 *      own copy; a channel copies each value in and out.
 *   2. Ad hoc confinement: by convention only one goroutine touches a
 *      buffer. Nothing checks it.
 *   3. Lexical confinement: a producer makes its channel in its own scope
 *      and hands out only the receive end (a typed, directional channel), so
 *      the compiler rejects anyone else sending on or closing it; a consumer
 *      gets a const view of the part of the data it may read.
 * What the compiler rejects is proved by tests/compile_fail/
 * pattern_confinement_*.c (built by `make test`). */
#include "pattern_example.h"

#include <string.h>

typedef struct conf_order {
	int id;
	char item[16];
} conf_order;

GOC_CHAN_DECLARE(conf_orders, conf_order);
GOC_CHAN_DECLARE(conf_ints, int);

/* ---- 1. sharing by copying ------------------------------------------------ */

typedef struct conf_job {
	int values[4];
	goc_chan *result;           /* int */
} conf_job;

static void conf_sum_copy(void *arg)
{
	conf_job *job = arg;        /* our own copy: free to scribble on */
	int sum = 0;
	for (int i = 0; i < 4; i++) {
		sum += job->values[i];
		job->values[i] = -1;
	}
	goc_send(job->result, &sum);
}

/* ---- 3. lexical confinement --------------------------------------------- */

typedef struct conf_producer_args {
	conf_orders_tx out;
	int n;
} conf_producer_args;

static void conf_produce(void *arg)
{
	conf_producer_args *a = arg;
	for (int i = 1; i <= a->n; i++) {
		conf_order o = { .id = i };
		snprintf(o.item, sizeof o.item, "item-%d", i);
		GOC_SEND(a->out, o);
	}
	conf_orders_close(a->out); /* only the producer can close */
	conf_orders_tx_release(a->out);
}

/* The channel is made here and only its receive end leaves: nobody else
 * can send on it or close it. */
static conf_orders_rx conf_orders_of(int n)
{
	conf_orders c = conf_orders_make(0);
	conf_orders_retain(c); /* one reference for the producer, one for the caller */
	conf_producer_args a = { conf_orders_tx_of(c), n };
	if (goc_go_copy(conf_produce, &a, sizeof a) != 0) {
		conf_orders_close(conf_orders_tx_of(c));
		conf_orders_release(c);
	}
	return conf_orders_rx_of(c);
}

typedef struct conf_slice {
	const int *data;            /* read-only view: the compiler rejects writes */
	size_t len;
	conf_ints_tx out;
} conf_slice;

static void conf_sum_slice(void *arg)
{
	conf_slice *s = arg;
	int sum = 0;
	for (size_t i = 0; i < s->len; i++)
		sum += s->data[i];
	GOC_SEND(s->out, sum);
}

static int pattern_confinement(void)
{
	/* 1. Copies: the goroutine changes its copy, ours is untouched. */
	conf_job job = { { 1, 2, 3, 4 }, goc_chan_make(sizeof(int), 0) };
	EXPECT(goc_go_copy(conf_sum_copy, &job, sizeof job) == 0);
	job.values[0] = 100; /* after the copy was made: the goroutine never sees it */
	int sum = 0;
	EXPECT(goc_recv(job.result, &sum) == 0);
	printf("  copy: goroutine summed its own copy = %d; ours still starts with %d\n", sum,
	       job.values[0]);
	EXPECT(sum == 10 && job.values[0] == 100 && job.values[1] == 2);
	goc_chan_release(job.result);

	/* A channel copies values: changing ours after the send changes nothing. */
	goc_chan *box = goc_chan_make(sizeof(conf_order), 1);
	conf_order o = { 7, "apple" };
	goc_send(box, &o);
	strcpy(o.item, "pear");
	conf_order got;
	goc_recv(box, &got);
	printf("  channel: sent \"apple\", then changed ours to \"%s\"; received \"%s\"\n", o.item,
	       got.item);
	EXPECT(strcmp(got.item, "apple") == 0);
	goc_chan_release(box);

	/* 2. Ad hoc: only this goroutine writes `log`, by agreement alone. */
	char log[64] = "";
	for (int i = 0; i < 3; i++)
		snprintf(log + strlen(log), sizeof log - strlen(log), "%s%d", i ? "," : "", i);
	printf("  ad hoc: log \"%s\" is ours by convention only (nothing stops a goroutine writing it)\n",
	       log);

	/* 3. Lexical: the orders' producer alone can send or close. */
	conf_orders_rx orders = conf_orders_of(3);
	int count = 0;
	for (conf_order x; GOC_RECV(orders, &x) == 0; count++)
		EXPECT(x.id == count + 1);
	conf_orders_rx_release(orders);
	printf("  lexical: received %d orders from a producer whose channel we can only read\n", count);
	printf("    rejected by the compiler: conf_orders_send(orders, o) and conf_orders_close(orders)\n"
	       "    on the receive end (tests/compile_fail/pattern_confinement_*.c)\n");
	EXPECT(count == 3);

	/* Each worker gets a const view of its own half of the data. */
	int data[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	conf_ints results = conf_ints_make(2);
	for (int half = 0; half < 2; half++) {
		conf_slice s = { data + 4 * half, 4, conf_ints_tx_of(results) };
		EXPECT(goc_go_copy(conf_sum_slice, &s, sizeof s) == 0);
	}
	int a = 0, b = 0;
	GOC_RECV(conf_ints_rx_of(results), &a);
	GOC_RECV(conf_ints_rx_of(results), &b);
	printf("  lexical: two workers summed their own const halves: %d + %d = %d\n", a, b, a + b);
	printf("    rejected by the compiler: s->data[0] = 0 (data is const int *)\n");
	EXPECT(a + b == 36);
	conf_ints_release(results);
	return 0;
}

PATTERN_MAIN(pattern_confinement)
