/* pattern_errors.c - error handling (docs/patterns/errors.md): a goroutine
 * that meets an error cannot decide what to do about it; the goroutine
 * that started it has the context to. So results carry their errors back:
 * a result struct on the channel, {value, error}, and the consumer decides
 * (here: report each error, stop everything after 3). */
#include "pattern_example.h"

#include <string.h>

typedef struct err_result {
	const char *url;
	int status;                 /* the value (an HTTP-like status) */
	int err;                    /* 0 or a negative GOC_E* code */
} err_result;

typedef struct err_args {
	goc_chan *done, *results;
	const char *const *urls;
	size_t n;
} err_args;

/* "Fetch" each url; a bad one is an error, carried in the result. */
static void err_check_status(void *arg)
{
	err_args *a = arg;
	for (size_t i = 0; i < a->n; i++) {
		err_result r = { a->urls[i], 0, 0 };
		if (strncmp(a->urls[i], "https://", 8) == 0)
			r.status = 200;
		else
			r.err = GOC_EINVAL; /* unsupported scheme */
		if (goc_send_or_done(a->done, a->results, &r) != 0)
			break;
	}
	goc_close(a->results);
}

static int pattern_errors(void)
{
	static const char *const urls[] = { "https://a.example", "ftp://b", "https://c.example",
		                            "x", "y", "https://d.example", "z" };
	goc_chan *done = goc_chan_make(0, 0), *results = goc_chan_make(sizeof(err_result), 0);
	err_args a = { done, results, urls, sizeof urls / sizeof urls[0] };
	EXPECT(goc_go_copy(err_check_status, &a, sizeof a) == 0);

	int errors = 0, ok = 0;
	err_result r;
	while (goc_recv(results, &r) == 0) {
		if (r.err) {
			printf("  error: %s: %s\n", r.url, goc_strerror(r.err));
			if (++errors >= 3) {
				printf("  too many errors: stopping\n");
				goc_close(done); /* the producer stops and closes results */
				break;
			}
			continue;
		}
		printf("  response: %s -> %d\n", r.url, r.status);
		ok++;
	}
	while (goc_recv(results, &r) == 0)
		; /* at most the one value in flight */
	EXPECT(errors == 3 && ok == 2);
	goc_chan_release(done);
	goc_chan_release(results);
	return 0;
}

PATTERN_MAIN(pattern_errors)
