/* pattern_rate_limit.c - rate limiting (docs/patterns/rate-limiting.md):
 * goc_limiter is a token bucket (rate per second, burst) whose waits take a
 * context; goc_limiter_all combines buckets into a multi-tier limiter (a
 * short-term and a long-term limit, as "per second and per minute") and
 * into per-resource limiters that share a tier.
 * Scaled down so that it runs in a third of a second: the API allows 100
 * calls per second with bursts of 3, and 20 per second with bursts of 6.
 * Each admission time is checked against both tiers (never early). */
#include "pattern_example.h"

typedef struct rl_api {
	goc_limiter *api;           /* both tiers */
	goc_limiter *disk, *net;    /* api plus a per-resource bucket */
} rl_api;

static int pattern_rate_limit(void)
{
	int64_t t0 = goc_now(); /* before the buckets start filling */
	goc_limiter *fast = goc_limiter_new(100, 3);      /* the "per second" tier */
	goc_limiter *slow = goc_limiter_new(20, 6);       /* the "per minute" tier */
	EXPECT(fast && slow);
	goc_limiter *tiers[] = { fast, slow };
	rl_api a = { goc_limiter_all(tiers, 2), NULL, NULL };
	EXPECT(a.api != NULL);

	/* Twelve calls as fast as the limiter lets them through. */
	printf("  12 calls through 100/s (burst 3) and 20/s (burst 6), ms:");
	for (int k = 0; k < 12; k++) {
		EXPECT(goc_limiter_wait(a.api, NULL) == 0);
		double ms = (double)(goc_now() - t0) / 1e6;
		printf(" %.0f", ms);
		/* Call k needs k + 1 tokens from each tier since it started full. */
		double fast_ms = (k + 1 - 3) * 1000.0 / 100, slow_ms = (k + 1 - 6) * 1000.0 / 20;
		EXPECT(ms >= fast_ms - 1 && ms >= slow_ms - 1);
	}
	printf("\n  the first 3 at once (burst), then 100/s until the 6 of the slow tier are used, then 20/s\n");

	/* Per resource: disk and network calls each have their own bucket and
	 * also count against the API's tiers. */
	goc_limiter *disk = goc_limiter_new(1, 1), *net = goc_limiter_new(1, 1); /* 1/s each */
	goc_limiter *d[] = { a.api, disk }, *n[] = { a.api, net };
	a.disk = goc_limiter_all(d, 2);
	a.net = goc_limiter_all(n, 2);
	EXPECT(a.disk && a.net);
	EXPECT(goc_limiter_wait(a.disk, NULL) == 0);
	EXPECT(!goc_limiter_allow(disk)); /* the disk bucket's one token is used */
	EXPECT(goc_limiter_tokens(net) == 1); /* the network's is untouched */
	printf("  per resource: a disk read took a token from the disk bucket and from both API tiers\n");

	/* A wait takes a context: cancelled or past its deadline, it gives up. */
	goc_ctx *ctx = goc_ctx_with_timeout(goc_ctx_background(), GOC_MS(10));
	int rc = 0;
	for (int k = 0; k < 10 && rc == 0; k++)
		rc = goc_limiter_wait(a.api, ctx);
	printf("  with a 10 ms timeout: %s (the wait would end after the deadline)\n", goc_strerror(rc));
	EXPECT(rc == GOC_ETIMEDOUT);
	goc_ctx_release(ctx);

	goc_limiter *all[] = { fast, slow, a.api, disk, net, a.disk, a.net };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		goc_limiter_release(all[i]);
	return 0;
}

PATTERN_MAIN(pattern_rate_limit)
