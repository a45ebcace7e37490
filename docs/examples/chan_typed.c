/* chan_typed.c - typed, directional channels as lexical confinement
 * (docs/channels.md): a generator makes its channel, keeps the send end and
 * returns only the receive end; a pipeline stage takes an _rx and returns
 * an _rx. Nobody else can send on or close those channels: the compiler
 * rejects it. Exits 0 when the pipeline's output is right. */
#include <goc.h>

#include <stdio.h>

GOC_CHAN_DECLARE(ints, int);

struct gen { ints_tx out; int n; };

static void gen_body(void *arg)
{
	struct gen *g = arg;
	for (int i = 1; i <= g->n; i++)
		ints_send(g->out, i);
	ints_close(g->out);             /* the owner of the send end closes */
	ints_tx_release(g->out);
}

/* Only the receive end leaves: ints_send(count_to(3), 1) does not compile. */
static ints_rx count_to(int n)
{
	ints c = ints_make(0);
	ints_retain(c);                 /* one reference each: generator, caller */
	struct gen g = { ints_tx_of(c), n };
	goc_go_copy(gen_body, &g, sizeof g);
	return ints_rx_of(c);
}

struct stage { ints_rx in; ints_tx out; };

static void square_body(void *arg)
{
	struct stage *s = arg;
	int v;
	while (GOC_RECV(s->in, &v) == 0)   /* type-exact: &v must be an int * */
		GOC_SEND(s->out, v * v);
	ints_close(s->out);
	ints_rx_release(s->in);
	ints_tx_release(s->out);
}

/* A stage: consumes (and takes ownership of) in, returns its output end. */
static ints_rx square(ints_rx in)
{
	ints c = ints_make(0);
	ints_retain(c);
	struct stage s = { in, ints_tx_of(c) };
	goc_go_copy(square_body, &s, sizeof s);
	return ints_rx_of(c);
}

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	ints_rx squares = square(count_to(10));
	int v, sum = 0;
	while (ints_recv(squares, &v) == 0)
		sum += v;
	ints_rx_release(squares);
	if (sum != 385) {
		fprintf(stderr, "chan_typed: sum of squares %d, want 385\n", sum);
		return 1;
	}
	printf("chan_typed: ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	return goc_main(run, argc, argv);
}
