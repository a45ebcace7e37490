/* test_sched.c - the scheduler's behaviour with however many workers
 * GOC_PROCS gives (the suite runs it with 1 and with 2). */
#include "check.h"

#include <goc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

/* ---- every goroutine runs exactly once, and goc_main waits for main --- */

static goc_waitgroup wg;
static _Atomic int64_t ran_sum;
static _Atomic int ran_count;

static void add_arg(void *arg)
{
	atomic_fetch_add(&ran_sum, (int64_t)(intptr_t)arg);
	atomic_fetch_add(&ran_count, 1);
	goc_waitgroup_done(&wg);
}

static void test_each_goroutine_runs_exactly_once(void)
{
	enum { N = 20000 };
	atomic_store(&ran_sum, 0);
	atomic_store(&ran_count, 0);
	CHECK_EQ(goc_waitgroup_add(&wg, N), 0);
	for (int i = 1; i <= N; i++)
		CHECK_EQ(goc_go(add_arg, (void *)(intptr_t)i), 0);
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	CHECK_EQ(atomic_load(&ran_count), N);
	CHECK_EQ(atomic_load(&ran_sum), (int64_t)N * (N + 1) / 2);
}

/* ---- goc_go_copy: each goroutine gets its own copy ------------------- */

struct small { int index; char tag[12]; };
struct big { int index; int fill[250]; };

static _Atomic int copies_ok;

static void check_small(void *arg)
{
	struct small *s = arg;
	char want[12];
	snprintf(want, sizeof want, "item-%d", s->index);
	if (strcmp(s->tag, want) == 0)
		atomic_fetch_add(&copies_ok, 1);
	goc_yield(); /* the copy must outlive the spawner's loop iteration */
	if (strcmp(s->tag, want) != 0)
		atomic_fetch_sub(&copies_ok, 1000);
	goc_waitgroup_done(&wg);
}

static void check_big(void *arg)
{
	struct big *b = arg;
	int ok = 1;
	for (int i = 0; i < 250; i++)
		ok &= b->fill[i] == b->index * 7 + i;
	goc_yield();
	for (int i = 0; i < 250; i++)
		ok &= b->fill[i] == b->index * 7 + i;
	if (ok)
		atomic_fetch_add(&copies_ok, 1);
	goc_waitgroup_done(&wg);
}

static void test_go_copy_gives_each_goroutine_its_own_copy(void)
{
	enum { N = 200 };
	atomic_store(&copies_ok, 0);
	goc_waitgroup_add(&wg, 2 * N);
	struct small s;
	struct big b;
	for (int i = 0; i < N; i++) {
		s.index = i;
		snprintf(s.tag, sizeof s.tag, "item-%d", i);
		CHECK_EQ(goc_go_copy(check_small, &s, sizeof s), 0);
		b.index = i;
		for (int k = 0; k < 250; k++)
			b.fill[k] = i * 7 + k;
		CHECK_EQ(goc_go_copy(check_big, &b, sizeof b), 0); /* > inline size: heap copy */
	}
	memset(&s, 0xff, sizeof s); /* the originals change; the copies must not */
	memset(&b, 0xff, sizeof b);
	goc_waitgroup_wait(&wg);
	CHECK_EQ(atomic_load(&copies_ok), 2 * N);
}

/* ---- bad input --------------------------------------------------------- */

static void nop(void *arg) { (void)arg; }

static void test_bad_input_returns_error_codes(void)
{
	CHECK_EQ(goc_go(NULL, NULL), GOC_EINVAL);
	CHECK_EQ(goc_go_copy(nop, NULL, 16), GOC_EINVAL);
	goc_go_attr attr = {.stack_size = 100};
	CHECK_EQ(goc_go_with(&attr, nop, NULL, 0), GOC_EINVAL);
	attr.stack_size = (size_t)4 << 30;
	CHECK_EQ(goc_go_with(&attr, nop, NULL, 0), GOC_EINVAL);
	CHECK_EQ(goc_main(NULL, 0, NULL), GOC_EINVAL);
	CHECK_EQ(goc_unlock_thread(), GOC_EPERM);
	CHECK_EQ(goc_waitgroup_add(NULL, 1), GOC_EINVAL);
	goc_waitgroup w = GOC_WAITGROUP_INIT;
	CHECK_EQ(goc_waitgroup_done(&w), GOC_ENEGATIVE);
	CHECK_EQ(goc_waitgroup_add(&w, 1), 0); /* state intact after the refusal */
	CHECK_EQ(goc_waitgroup_done(&w), 0);
	CHECK_EQ(goc_waitgroup_wait(&w), 0);
	CHECK(strcmp(goc_strerror(GOC_EINVAL), "invalid argument") == 0);
}

static int nested_main(int argc, char **argv) { (void)argc; (void)argv; return 0; }

static void test_goc_main_inside_goc_main_is_busy(void)
{
	CHECK_EQ(goc_main(nested_main, 0, NULL), GOC_EBUSY);
}

/* ---- custom stack sizes: deep recursion fits a big stack ---------------- */

static int deep(int n)
{
	volatile char pad[1024];
	pad[0] = (char)n;
	return n == 0 ? pad[0] : deep(n - 1) + 1 + (pad[0] & 0);
}

static _Atomic int deep_result;

static void run_deep(void *arg)
{
	atomic_store(&deep_result, deep((int)(intptr_t)arg));
	goc_waitgroup_done(&wg);
}

static void test_stack_size_option_allows_deep_recursion(void)
{
	goc_go_attr attr = {.stack_size = 8 << 20, .name = "deep"};
	goc_waitgroup_add(&wg, 1);
	CHECK_EQ(goc_go_with(&attr, run_deep, (void *)(intptr_t)4000, 0), 0); /* ~4 MiB deep */
	goc_waitgroup_wait(&wg);
	CHECK_EQ(atomic_load(&deep_result), 4000);
}

/* ---- goroutine ids ----------------------------------------------------- */

static _Atomic uint64_t seen_id;

static void record_id(void *arg)
{
	(void)arg;
	atomic_store(&seen_id, goc_id());
	goc_waitgroup_done(&wg);
}

static void test_goroutine_ids_are_unique_and_nonzero(void)
{
	uint64_t mine = goc_id();
	CHECK(mine != 0);
	goc_waitgroup_add(&wg, 1);
	goc_go(record_id, NULL);
	goc_waitgroup_wait(&wg);
	CHECK(atomic_load(&seen_id) != 0 && atomic_load(&seen_id) != mine);
}

/* ---- goc_lock_thread: the goroutine stays on its thread ---------------- */

static _Atomic int locked_ok;

static void locked_worker(void *arg)
{
	(void)arg;
	CHECK_EQ(goc_lock_thread(), 0);
	pthread_t self = pthread_self();
	int ok = 1;
	for (int i = 0; i < 200; i++) {
		goc_yield();
		ok &= pthread_equal(self, pthread_self()) != 0;
	}
	CHECK_EQ(goc_unlock_thread(), 0);
	CHECK_EQ(goc_unlock_thread(), GOC_EPERM);
	atomic_store(&locked_ok, ok);
	goc_waitgroup_done(&wg);
}

static _Atomic int others_ran;

static void yielder(void *arg)
{
	(void)arg;
	for (int i = 0; i < 50; i++)
		goc_yield();
	atomic_fetch_add(&others_ran, 1);
	goc_waitgroup_done(&wg);
}

static void test_locked_goroutine_stays_on_its_thread(void)
{
	atomic_store(&others_ran, 0);
	atomic_store(&locked_ok, 0);
	goc_waitgroup_add(&wg, 11);
	goc_go(locked_worker, NULL);
	for (int i = 0; i < 10; i++)
		goc_go(yielder, NULL);
	goc_waitgroup_wait(&wg);
	CHECK_EQ(atomic_load(&locked_ok), 1);
	CHECK_EQ(atomic_load(&others_ran), 10);
}

/* ---- foreign threads: spawn and wait from a pthread ------------------- */

static void done_local(void *arg)
{
	goc_waitgroup_done(arg);
}

static void *foreign_thread(void *arg)
{
	(void)arg;
	CHECK_EQ(goc_id(), 0);
	goc_waitgroup local = GOC_WAITGROUP_INIT;
	atomic_store(&ran_count, 0);
	goc_waitgroup_add(&local, 100);
	for (int i = 0; i < 100; i++)
		goc_go(done_local, &local);
	CHECK_EQ(goc_waitgroup_wait(&local), 0); /* blocks this thread on a futex */
	return (void *)1;
}

static void *join_thread(void *arg)
{
	void *r = NULL;
	CHECK_EQ(pthread_join(*(pthread_t *)arg, &r), 0);
	return r;
}

static void test_foreign_thread_spawns_and_waits(void)
{
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, foreign_thread, NULL), 0);
	/* pthread_join blocks this worker's thread: inside goc_blocking the P
	 * goes to another thread, so the goroutines the foreign thread spawns
	 * still run even with one worker. */
	CHECK(goc_blocking(join_thread, &t) == (void *)1);
}

/* ---- goc_blocking: other goroutines run while one blocks its thread ---- */

static int release_pipe[2];
static _Atomic int progress;

static void *block_until_released(void *arg)
{
	(void)arg;
	/* A blocking read that only another goroutine can satisfy. */
	char c = 0;
	CHECK_EQ(read(release_pipe[0], &c, 1), 1);
	return c == 'x' ? (void *)42 : NULL;
}

static void blocker(void *arg)
{
	(void)arg;
	void *r = goc_blocking(block_until_released, NULL);
	CHECK(r == (void *)42);
	goc_waitgroup_done(&wg);
}

static void releaser(void *arg)
{
	(void)arg;
	atomic_fetch_add(&progress, 1);
	CHECK_EQ(write(release_pipe[1], "x", 1), 1);
	goc_waitgroup_done(&wg);
}

static void test_blocking_call_does_not_stall_other_goroutines(void)
{
	/* With one worker, the releaser can only run if the blocker's P is
	 * handed to another thread while it blocks. */
	atomic_store(&progress, 0);
	CHECK_EQ(pipe(release_pipe), 0);
	goc_waitgroup_add(&wg, 2);
	goc_go(blocker, NULL);
	goc_yield();
	goc_go(releaser, NULL);
	goc_waitgroup_wait(&wg);
	CHECK_EQ(atomic_load(&progress), 1);
	close(release_pipe[0]);
	close(release_pipe[1]);
}

/* ---- goc_procs: query and resize at run time --------------------------- */

static void test_procs_query_and_resize(void)
{
	int n = goc_procs(0);
	CHECK(n >= 1);
	CHECK_EQ(goc_procs(n + 1), n);
	CHECK_EQ(goc_procs(0), n + 1);
	test_each_goroutine_runs_exactly_once();
	CHECK_EQ(goc_procs(1), n + 1);
	test_each_goroutine_runs_exactly_once();
	CHECK_EQ(goc_procs(n), 1);
	test_each_goroutine_runs_exactly_once();
}

/* ---- a readied goroutine left in a busy worker's runnext slot --------
 * A channel hand-off puts the receiver in the sender's runnext slot; if the
 * sender then computes without ever parking, only another worker stealing
 * that slot can run the receiver (goc__runq_steal in runq.c, after its
 * grace period). With two workers the sender below spins until the
 * receiver has run: without the steal it would spin until its 20 s bound
 * and fail. */
static goc_chan *slot_ch;
static _Atomic int slot_ran, slot_waiting;

static void slot_receiver(void *arg)
{
	(void)arg;
	atomic_store(&slot_waiting, 1);
	CHECK_EQ(goc_recv(slot_ch, NULL), 0);
	atomic_store(&slot_ran, 1);
	goc_waitgroup_done(&wg);
}

static void test_runnext_of_a_busy_worker_is_stolen(void)
{
	int prev = goc_procs(2);
	for (int round = 0; round < 20; round++) {
		slot_ch = goc_chan_make(0, 0);
		atomic_store(&slot_ran, 0);
		atomic_store(&slot_waiting, 0);
		goc_waitgroup_add(&wg, 1);
		CHECK_EQ(goc_go(slot_receiver, NULL), 0);
		while (!atomic_load(&slot_waiting))
			goc_yield();
		CHECK_EQ(goc_send(slot_ch, NULL), 0); /* readies it here, usually */
		int64_t give_up = goc_now() + GOC_SEC(20);
		while (!atomic_load(&slot_ran) && goc_now() < give_up)
			; /* compute: never park, never yield */
		CHECK(atomic_load(&slot_ran));
		CHECK_EQ(goc_waitgroup_wait(&wg), 0);
		goc_chan_release(slot_ch);
	}
	goc_procs(prev);
}

static int real_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	RUN(test_each_goroutine_runs_exactly_once);
	RUN(test_go_copy_gives_each_goroutine_its_own_copy);
	RUN(test_bad_input_returns_error_codes);
	RUN(test_goc_main_inside_goc_main_is_busy);
	RUN(test_stack_size_option_allows_deep_recursion);
	RUN(test_goroutine_ids_are_unique_and_nonzero);
	RUN(test_locked_goroutine_stays_on_its_thread);
	RUN(test_foreign_thread_spawns_and_waits);
	RUN(test_blocking_call_does_not_stall_other_goroutines);
	RUN(test_procs_query_and_resize);
	RUN(test_runnext_of_a_busy_worker_is_stolen);
	return 7;
}

int main(int argc, char **argv)
{
	CHECK_EQ(goc_main(real_main, argc, argv), 7);
	/* The runtime can start again after goc_main returned. */
	CHECK_EQ(goc_main(real_main, argc, argv), 7);
	printf("ok\n");
	return 0;
}
