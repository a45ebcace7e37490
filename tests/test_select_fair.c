/* test_select_fair.c - select chooses uniformly at random among the cases
 * that can run (Go's spec: "a single one is chosen via a uniform
 * pseudo-random selection"), whichever position they hold, whatever their
 * kind, and even when one channel appears in several cases.
 *
 * The bound. Each configuration runs N independent selects over k ready
 * cases; the count X_i of case i is Binomial(N, 1/k). Hoeffding's
 * inequality gives P(|X_i/N - 1/k| >= t) <= 2 exp(-2 N t^2) for each case,
 * and a union bound over the k cases multiplies by k. With the N and t
 * below, every configuration fails by chance with probability below 2e-8
 * (each one states its figure), so the whole test (every configuration,
 * run with one and with two workers) below 1e-7;
 * and a bias of more than t (e.g. always preferring the first ready case,
 * or a generator stuck in a short cycle) fails it with certainty. The
 * bound assumes only that the generator's draws behave as independent
 * uniforms, which is what is being tested. */
#include "check.h"

#include <goc.h>
#include <math.h>

/* Check every count is within t*N of N/k; the caller states the bound. */
static void check_uniform(const long *count, int k, long n, double t, const char *what)
{
	long total = 0;
	for (int i = 0; i < k; i++) {
		double dev = fabs((double)count[i] / (double)n - 1.0 / k);
		if (dev >= t) {
			fprintf(stderr, "%s: case %d chosen %ld of %ld times (expected %.0f +- %.0f)\n", what, i,
			        count[i], n, (double)n / k, t * (double)n);
			exit(1);
		}
		total += count[i];
	}
	CHECK_EQ(total, n);
}

/* Four closed channels: every case is always ready (receive, ok false).
 * N = 100000, t = 0.01: 4 * 2 exp(-20) = 1.6e-8. */
static void test_select_is_uniform_among_closed_channels(void)
{
	enum { K = 4 };
	const long n = 100000;
	goc_chan *c[K];
	for (int i = 0; i < K; i++) {
		c[i] = goc_chan_make(sizeof(int), 0);
		goc_close(c[i]);
	}
	long count[K] = { 0 };
	int v;
	goc_case cs[K];
	for (int i = 0; i < K; i++)
		cs[i] = goc_case_recv(c[i], &v);
	for (long r = 0; r < n; r++) {
		int i = goc_select(cs, K);
		CHECK(i >= 0 && i < K);
		count[i]++;
	}
	check_uniform(count, K, n, 0.01, "closed channels");
	for (int i = 0; i < K; i++)
		goc_chan_release(c[i]);
}

/* Six cases, three ready: a buffered value, room to send, a closed
 * channel; two NULL channels and an empty open channel are never ready.
 * Only the three may run, each a third of the time.
 * N = 60000, t = 0.015: 3 * 2 exp(-27) = 1.1e-11. */
static void test_select_is_uniform_among_the_ready_cases_of_a_mix(void)
{
	const long n = 60000;
	goc_chan *full = goc_chan_make(sizeof(int), 1), *room = goc_chan_make(sizeof(int), 1);
	goc_chan *closed = goc_chan_make(sizeof(int), 0), *empty = goc_chan_make(sizeof(int), 0);
	goc_close(closed);
	int x = 1, v;
	long count[3] = { 0 };
	for (long r = 0; r < n; r++) {
		/* Restore readiness: one value in full, none in room. */
		if (goc_len(full) == 0)
			CHECK_EQ(goc_send(full, &x), 0);
		if (goc_len(room) == 1)
			CHECK_EQ(goc_recv(room, &v), 0);
		goc_case cs[] = {
			goc_case_recv(NULL, &v),   goc_case_recv(full, &v), goc_case_recv(empty, &v),
			goc_case_send(room, &x),   goc_case_send(NULL, &x), goc_case_recv(closed, &v),
		};
		switch (GOC_SELECT(cs)) {
		case 1: count[0]++; break;
		case 3: count[1]++; break;
		case 5: count[2]++; break;
		default: CHECK(!"a case that cannot run was chosen");
		}
	}
	check_uniform(count, 3, n, 0.015, "mixed cases");
	goc_chan_release(full);
	goc_chan_release(room);
	goc_chan_release(closed);
	goc_chan_release(empty);
}

/* The same closed channel in two cases and another in one: uniform over
 * the three cases (not over the two channels).
 * N = 60000, t = 0.015: 1.1e-11 as above. */
static void test_select_is_uniform_over_cases_not_channels(void)
{
	const long n = 60000;
	goc_chan *a = goc_chan_make(0, 0), *b = goc_chan_make(0, 0);
	goc_close(a);
	goc_close(b);
	long count[3] = { 0 };
	goc_case cs[] = { goc_case_recv(a, NULL), goc_case_recv(b, NULL), goc_case_recv(a, NULL) };
	for (long r = 0; r < n; r++)
		count[GOC_SELECT(cs)]++;
	check_uniform(count, 3, n, 0.015, "duplicate channel");
	goc_chan_release(a);
	goc_chan_release(b);
}

/* Two ready cases in a 40-case select (beyond the insertion-sort size).
 * N = 40000, t = 0.02: 2 * 2 exp(-32) = 5.1e-14. */
static void test_select_is_uniform_in_a_large_select(void)
{
	enum { K = 40 };
	const long n = 40000;
	goc_chan *c[K];
	for (int i = 0; i < K; i++)
		c[i] = goc_chan_make(sizeof(int), 0);
	goc_close(c[7]);
	goc_close(c[31]);
	int v;
	goc_case cs[K];
	for (int i = 0; i < K; i++)
		cs[i] = goc_case_recv(c[i], &v);
	long count[2] = { 0 };
	for (long r = 0; r < n; r++) {
		int i = goc_select(cs, K);
		CHECK(i == 7 || i == 31);
		count[i == 31]++;
	}
	check_uniform(count, 2, n, 0.02, "large select");
	for (int i = 0; i < K; i++)
		goc_chan_release(c[i]);
}

static void run_all(void)
{
	RUN(test_select_is_uniform_among_closed_channels);
	RUN(test_select_is_uniform_among_the_ready_cases_of_a_mix);
	RUN(test_select_is_uniform_over_cases_not_channels);
	RUN(test_select_is_uniform_in_a_large_select);
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
