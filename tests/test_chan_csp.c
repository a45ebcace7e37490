/* test_chan_csp.c - classic CSP programs, checked by their output: the
 * concurrent prime sieve, the daisy chain ("whispers"), a fan-out/fan-in
 * pipeline, and a buffered channel used as a counting semaphore. Each runs
 * to completion and shuts down cleanly by closing channels downstream. */
#include "check.h"

#include <goc.h>
#include <stdatomic.h>

/* Sizes shrink under sanitizers: each goroutine costs a TSan fiber (ms). */
#if defined(GOC_TEST_TSAN)
#define SIEVE_LIMIT 300
#define CHAIN_LENGTH 300
#elif defined(GOC_TEST_ASAN)
#define SIEVE_LIMIT 2000
#define CHAIN_LENGTH 4000
#else
#define SIEVE_LIMIT 3000
#define CHAIN_LENGTH 3000
#endif

/* ---- prime sieve -------------------------------------------------------- */

GOC_CHAN_DECLARE(ints, int);

struct gen { ints_tx out; int limit; };

static void generate(void *p)
{
	struct gen *g = p;
	for (int i = 2; i <= g->limit; i++)
		ints_send(g->out, i);
	ints_close(g->out);
	ints_tx_release(g->out);
}

struct filter { ints_rx in; ints_tx out; int prime; };

/* Copy in to out, dropping multiples of prime; close out when in closes. */
static void filter(void *p)
{
	struct filter *f = p;
	int v;
	while (ints_recv(f->in, &v) == 0)
		if (v % f->prime != 0)
			ints_send(f->out, v);
	ints_close(f->out);
	ints_rx_release(f->in);
	ints_tx_release(f->out);
}

static int primes_upto(int limit, int *out)
{
	int n = 0;
	for (int c = 2; c <= limit; c++) {
		int prime = 1;
		for (int i = 0; i < n && out[i] * out[i] <= c; i++)
			if (c % out[i] == 0) {
				prime = 0;
				break;
			}
		if (prime)
			out[n++] = c;
	}
	return n;
}

static void test_prime_sieve_finds_the_primes(void)
{
	enum { LIMIT = SIEVE_LIMIT };
	static int want[LIMIT], got[LIMIT];
	int nwant = primes_upto(LIMIT, want);

	ints ch = ints_make(0);
	ints_retain(ch); /* the generator's reference */
	struct gen g = { ints_tx_of(ch), LIMIT };
	CHECK_EQ(goc_go_copy(generate, &g, sizeof g), 0);
	ints_rx in = ints_rx_of(ch);
	int ngot = 0, prime;
	while (ints_recv(in, &prime) == 0) {
		got[ngot++] = prime;
		ints next = ints_make(0);
		ints_retain(next); /* the filter's send end */
		/* The filter takes over our reference to `in`; we keep next's. */
		struct filter f = { in, ints_tx_of(next), prime };
		CHECK_EQ(goc_go_copy(filter, &f, sizeof f), 0);
		in = ints_rx_of(next);
	}
	ints_rx_release(in);
	CHECK_EQ(ngot, nwant);
	for (int i = 0; i < nwant; i++)
		CHECK_EQ(got[i], want[i]);
}

/* ---- daisy chain -------------------------------------------------------- */

struct link { ints_rx from; ints_tx to; };

static void whisper(void *p)
{
	struct link *l = p;
	int v;
	if (ints_recv(l->from, &v) == 0)
		ints_send(l->to, v + 1);
	ints_rx_release(l->from);
	ints_tx_release(l->to);
}

static void test_daisy_chain_passes_the_whisper(void)
{
	enum { N = CHAIN_LENGTH };
	ints leftmost = ints_make(0), left = leftmost;
	ints_retain(leftmost);
	for (int i = 0; i < N; i++) {
		ints right = ints_make(0);
		CHECK(right.raw);
		ints_retain(right);
		/* The link owns one reference to each side; `left` hands its
		 * own over, `right` keeps one for the next link (or for us). */
		struct link l = { ints_rx_of(left), ints_tx_of(right) };
		CHECK_EQ(goc_go_copy(whisper, &l, sizeof l), 0);
		left = right;
	}
	CHECK_EQ(ints_send(ints_tx_of(leftmost), 1), 0);
	int v = 0;
	CHECK_EQ(ints_recv(ints_rx_of(left), &v), 0);
	CHECK_EQ(v, N + 1);
	ints_release(leftmost);
	ints_release(left);
}

/* ---- fan-out / fan-in pipeline ------------------------------------------ */

GOC_CHAN_DECLARE(u64s, uint64_t);

struct stage { u64s_rx in; u64s_tx out; goc_waitgroup *wg; };

static void square(void *p)
{
	struct stage *s = p;
	uint64_t v;
	while (u64s_recv(s->in, &v) == 0)
		u64s_send(s->out, v * v);
	goc_waitgroup_done(s->wg);
}

struct closer { u64s_tx out; goc_waitgroup *wg; };

static void close_when_done(void *p)
{
	struct closer *c = p;
	goc_waitgroup_wait(c->wg);
	u64s_close(c->out);
}

struct source { u64s_tx out; uint64_t n; };

static void count_from_one(void *p)
{
	struct source *s = p;
	for (uint64_t i = 1; i <= s->n; i++)
		u64s_send(s->out, i);
	u64s_close(s->out);
}

static void test_fan_out_fan_in_pipeline(void)
{
	enum { WORKERS = 6 };
	const uint64_t n = 20000;
	u64s nums = u64s_make(16), squares = u64s_make(0);
	goc_waitgroup wg = GOC_WAITGROUP_INIT;
	struct source src = { u64s_tx_of(nums), n };
	struct stage st = { u64s_rx_of(nums), u64s_tx_of(squares), &wg };
	struct closer cl = { u64s_tx_of(squares), &wg };
	goc_waitgroup_add(&wg, WORKERS);
	CHECK_EQ(goc_go(count_from_one, &src), 0);
	for (int i = 0; i < WORKERS; i++)
		CHECK_EQ(goc_go(square, &st), 0);
	CHECK_EQ(goc_go(close_when_done, &cl), 0);
	uint64_t sum = 0, v, count = 0;
	while (u64s_recv(u64s_rx_of(squares), &v) == 0) {
		sum += v;
		count++;
	}
	CHECK_EQ(count, n);
	CHECK(sum == n * (n + 1) * (2 * n + 1) / 6);
	/* Everything is closed and drained before we release. */
	u64s_release(nums);
	u64s_release(squares);
}

/* ---- a buffered channel as a counting semaphore ------------------------- */

static _Atomic int inside, most_inside;

struct job { goc_chan *sem; goc_waitgroup *wg; };

static void limited_job(void *p)
{
	struct job *j = p;
	goc_send(j->sem, NULL); /* acquire a token */
	int now = atomic_fetch_add(&inside, 1) + 1;
	int prev = atomic_load(&most_inside);
	while (now > prev && !atomic_compare_exchange_weak(&most_inside, &prev, now))
		;
	for (int i = 0; i < 3; i++)
		goc_yield();
	atomic_fetch_sub(&inside, 1);
	goc_recv(j->sem, NULL); /* release it */
	goc_waitgroup_done(j->wg);
}

static void test_buffered_channel_bounds_concurrency(void)
{
	enum { JOBS = 500, LIMIT = 3 };
	goc_chan *sem = goc_chan_make(0, LIMIT);
	goc_waitgroup wg = GOC_WAITGROUP_INIT;
	struct job j = { sem, &wg };
	atomic_store(&inside, 0);
	atomic_store(&most_inside, 0);
	goc_waitgroup_add(&wg, JOBS);
	for (int i = 0; i < JOBS; i++)
		CHECK_EQ(goc_go(limited_job, &j), 0);
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	CHECK(atomic_load(&most_inside) >= 1);
	CHECK(atomic_load(&most_inside) <= LIMIT);
	CHECK_EQ(goc_len(sem), 0);
	goc_chan_release(sem);
}

static void run_all(void)
{
	RUN(test_prime_sieve_finds_the_primes);
	RUN(test_daisy_chain_passes_the_whisper);
	RUN(test_fan_out_fan_in_pipeline);
	RUN(test_buffered_channel_bounds_concurrency);
}

static int main_test(int argc, char **argv)
{
	/* With GOC_PROCS set, that worker count; else once with 1, once with 2. */
	if (getenv("GOC_PROCS")) {
		run_all();
		return 0;
	}
	for (int p = 1; p <= 2; p++) {
		fprintf(stderr, " GOC_PROCS=%d\n", p);
		goc_procs(p);
		run_all();
	}
	return 0;
}

int main(int argc, char **argv)
{
	return goc_main(main_test, argc, argv);
}
