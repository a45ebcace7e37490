/* test_chan_stress.c - exactly-once delivery under chaos: producers and
 * consumers on several workers move M distinct values through channels of
 * mixed capacity with every kind of operation (send/recv, try, deadline,
 * select over all channels), while a closer shuts channels at random
 * moments. Afterwards every value must have been received exactly once if
 * and only if its send reported success, counts and checksums must agree,
 * and no value may arrive torn.
 *
 * Liveness (why nothing deadlocks): producer 0 only ever selects over every
 * channel it believes open, and consumer 0 likewise; a channel is believed
 * closed only after an operation reported it closed. So whenever consumer 0
 * is parked, no producer is parked on an open channel (it would have been
 * matched), and vice versa; the last channel is closed only once every
 * producer is done. The others mix blocking, try and deadline operations.
 *
 * The workload shrinks under sanitizers (GOC_TEST_ASAN / GOC_TEST_TSAN) to
 * stay within seconds. */
#include "check.h"

#include <goc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#if defined(GOC_TEST_TSAN)
#define PER_PRODUCER 8000
#elif defined(GOC_TEST_ASAN)
#define PER_PRODUCER 40000
#else
#define PER_PRODUCER 125000
#endif

enum { NCHAN = 6, NPROD = 8, NCONS = 6, M = NPROD * PER_PRODUCER };

static const size_t caps[NCHAN] = { 0, 0, 1, 4, 32, 0 };

struct item { uint64_t v, check; };

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint32_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 16);
}

static goc_chan *chans[NCHAN];
static _Atomic uint8_t sent[M], received[M];
static _Atomic int64_t delivered, sent_count, recv_count;
static _Atomic uint64_t sent_sum, recv_sum;
static _Atomic int producers_done;
static _Atomic int torn;

/* A random channel among those not known closed; -1 if none. */
static int pick_open(goc_chan **view, uint64_t *rs)
{
	int open[NCHAN], n = 0;
	for (int i = 0; i < NCHAN; i++)
		if (view[i])
			open[n++] = i;
	return n ? open[rnd(rs) % (uint32_t)n] : -1;
}

struct role { int id; goc_waitgroup *wg; };

/* ---- producers ---------------------------------------------------------- */

/* Try to deliver one value; true once it was sent, false if every channel
 * is known closed. */
static bool deliver(int id, goc_chan **view, uint64_t *rs, const struct item *it)
{
	for (;;) {
		int method = id == 0 ? 0 : (int)(rnd(rs) % 4);
		if (method == 0) {
			goc_case cs[NCHAN];
			int live = 0;
			for (int i = 0; i < NCHAN; i++) {
				cs[i] = goc_case_send(view[i], it);
				live += view[i] != NULL;
			}
			if (!live)
				return false;
			int i = goc_select(cs, NCHAN);
			CHECK(i >= 0 && i < NCHAN);
			if (goc_case_ok(&cs[i]))
				return true;
			view[i] = NULL;
			continue;
		}
		int k = pick_open(view, rs);
		if (k < 0)
			return false;
		int rc;
		if (method == 1)
			rc = goc_send(view[k], it);
		else if (method == 2)
			rc = goc_send_until(view[k], it, now_ns() + 20000);
		else
			rc = goc_try_send(view[k], it);
		if (rc == 0)
			return true;
		if (rc == GOC_ECLOSED)
			view[k] = NULL;
		else if (rc == GOC_EAGAIN || rc == GOC_ETIMEDOUT)
			goc_yield(); /* let a consumer run (one worker) */
		else
			CHECK(!"unexpected send result");
	}
}

static void producer(void *p)
{
	struct role *r = p;
	goc_chan *view[NCHAN];
	for (int i = 0; i < NCHAN; i++)
		view[i] = chans[i];
	uint64_t rs = 0x9e3779b97f4a7c15ull * (uint64_t)(r->id + 1);
	for (uint64_t k = 0; k < PER_PRODUCER; k++) {
		struct item it = { (uint64_t)r->id * PER_PRODUCER + k, 0 };
		it.check = mix(it.v);
		if (!deliver(r->id, view, &rs, &it))
			continue;
		atomic_store_explicit(&sent[it.v], 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&sent_count, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&sent_sum, it.v, memory_order_relaxed);
	}
	goc_waitgroup_done(r->wg);
}

/* ---- consumers ---------------------------------------------------------- */

static void record(const struct item *it)
{
	if (it->v >= M || it->check != mix(it->v)) {
		atomic_store(&torn, 1);
		return;
	}
	atomic_fetch_add_explicit(&received[it->v], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&recv_count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&recv_sum, it->v, memory_order_relaxed);
	atomic_fetch_add_explicit(&delivered, 1, memory_order_relaxed);
}

static void consumer(void *p)
{
	struct role *r = p;
	goc_chan *view[NCHAN];
	for (int i = 0; i < NCHAN; i++)
		view[i] = chans[i];
	uint64_t rs = 0x2545f4914f6cdd1dull * (uint64_t)(r->id + 7);
	struct item it;
	for (;;) {
		int method = r->id == 0 ? 0 : (int)(rnd(&rs) % 4);
		if (method == 0) {
			goc_case cs[NCHAN];
			int live = 0;
			for (int i = 0; i < NCHAN; i++) {
				cs[i] = goc_case_recv(view[i], &it);
				live += view[i] != NULL;
			}
			if (!live)
				break;
			int i = goc_select(cs, NCHAN);
			CHECK(i >= 0 && i < NCHAN);
			if (goc_case_ok(&cs[i]))
				record(&it);
			else
				view[i] = NULL;
			continue;
		}
		int k = pick_open(view, &rs);
		if (k < 0)
			break;
		int rc;
		if (method == 1)
			rc = goc_recv(view[k], &it);
		else if (method == 2)
			rc = goc_recv_until(view[k], &it, now_ns() + 20000);
		else
			rc = goc_try_recv(view[k], &it);
		if (rc == 0)
			record(&it);
		else if (rc == GOC_ECLOSED)
			view[k] = NULL;
		else if (rc == GOC_EAGAIN || rc == GOC_ETIMEDOUT)
			goc_yield();
		else
			CHECK(!"unexpected receive result");
	}
	goc_waitgroup_done(r->wg);
}

/* ---- the closer --------------------------------------------------------- */

/* Close channels 0..NCHAN-2 in a random order, one each time another
 * 1/NCHAN of the values has been delivered; the last channel stays open
 * until the producers are done (main closes it). */
static void closer(void *p)
{
	struct role *r = p;
	uint64_t rs = 0xdeadbeefcafef00dull;
	int order[NCHAN - 1];
	for (int i = 0; i < NCHAN - 1; i++) {
		int j = (int)(rnd(&rs) % (uint32_t)(i + 1));
		order[i] = order[j];
		order[j] = i;
	}
	for (int k = 0; k < NCHAN - 1; k++) {
		int64_t threshold = (int64_t)M * (k + 1) / NCHAN;
		while (atomic_load(&delivered) < threshold && !atomic_load(&producers_done))
			goc_yield();
		if (atomic_load(&producers_done))
			break;
		CHECK_EQ(goc_close(chans[order[k]]), 0);
	}
	goc_waitgroup_done(r->wg);
}

static void test_exactly_once_delivery_with_random_closes(void)
{
	for (int i = 0; i < NCHAN; i++) {
		chans[i] = goc_chan_make(sizeof(struct item), caps[i]);
		CHECK(chans[i]);
	}
	for (int v = 0; v < M; v++) {
		atomic_store_explicit(&sent[v], 0, memory_order_relaxed);
		atomic_store_explicit(&received[v], 0, memory_order_relaxed);
	}
	atomic_store(&delivered, 0);
	atomic_store(&sent_count, 0);
	atomic_store(&recv_count, 0);
	atomic_store(&sent_sum, 0);
	atomic_store(&recv_sum, 0);
	atomic_store(&producers_done, 0);

	goc_waitgroup pwg = GOC_WAITGROUP_INIT, cwg = GOC_WAITGROUP_INIT, kwg = GOC_WAITGROUP_INIT;
	struct role prod[NPROD], cons[NCONS], clos = { 0, &kwg };
	goc_waitgroup_add(&pwg, NPROD);
	goc_waitgroup_add(&cwg, NCONS);
	goc_waitgroup_add(&kwg, 1);
	for (int i = 0; i < NCONS; i++) {
		cons[i] = (struct role){ i, &cwg };
		CHECK_EQ(goc_go(consumer, &cons[i]), 0);
	}
	for (int i = 0; i < NPROD; i++) {
		prod[i] = (struct role){ i, &pwg };
		CHECK_EQ(goc_go(producer, &prod[i]), 0);
	}
	CHECK_EQ(goc_go(closer, &clos), 0);

	CHECK_EQ(goc_waitgroup_wait(&pwg), 0);
	atomic_store(&producers_done, 1);
	CHECK_EQ(goc_waitgroup_wait(&kwg), 0);
	for (int i = 0; i < NCHAN; i++) {
		int rc = goc_close(chans[i]);
		CHECK(rc == 0 || rc == GOC_ECLOSED);
	}
	CHECK_EQ(goc_waitgroup_wait(&cwg), 0);

	CHECK_EQ(atomic_load(&torn), 0);
	for (int v = 0; v < M; v++) {
		int s = atomic_load_explicit(&sent[v], memory_order_relaxed);
		int r = atomic_load_explicit(&received[v], memory_order_relaxed);
		if (s != r) {
			fprintf(stderr, "value %d: send reported %s, received %d times\n", v,
			        s ? "success" : "failure", r);
			exit(1);
		}
	}
	CHECK_EQ(atomic_load(&recv_count), atomic_load(&sent_count));
	CHECK(atomic_load(&recv_sum) == atomic_load(&sent_sum));
	/* The last channel stays open until the producers finish: every value
	 * gets through, some of them past a close racing its send. */
	CHECK_EQ(atomic_load(&sent_count), M);
	for (int i = 0; i < NCHAN; i++) {
		CHECK_EQ(goc_len(chans[i]), 0);
		goc_chan_release(chans[i]);
	}
}

static int main_test(int argc, char **argv)
{
	/* With GOC_PROCS set, that worker count; else once with 1, once with 2. */
	if (getenv("GOC_PROCS")) {
		RUN(test_exactly_once_delivery_with_random_closes);
		return 0;
	}
	for (int p = 1; p <= 2; p++) {
		fprintf(stderr, " GOC_PROCS=%d\n", p);
		goc_procs(p);
		RUN(test_exactly_once_delivery_with_random_closes);
	}
	return 0;
}

int main(int argc, char **argv)
{
	return goc_main(main_test, argc, argv);
}
