/* test_blocking.c - goroutines that hold their thread: goc_blocking hands
 * the P to another thread for the length of the call, and the monitor
 * catches goroutines that block or spin without saying so (a busy loop, a
 * raw blocking read) and keeps the others running: serving TCP, firing
 * timers, running the goroutine that will release the hog. Every hog here
 * ends only when another goroutine runs, so a missing hand-off hangs the
 * test (the watchdog turns that into a failure). Runs under GOC_PROCS=1,
 * then 2. ctest: TIMEOUT 60 */
#define _GNU_SOURCE
#include "test_net_util.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

static goc_waitgroup wg;

/* ---- an echo server to prove the others keep being served ------------ */

static void echo_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[256];
	ssize_t r;
	while ((r = goc_read(fd, buf, sizeof buf)) > 0)
		if (goc_write(fd, buf, (size_t)r) != r)
			break;
	goc_fd_close(fd);
}

static void echo_listener(void *arg)
{
	int l = (int)(intptr_t)arg;
	int fd;
	while ((fd = goc_accept(l, NULL, NULL)) >= 0)
		goc_go(echo_conn, (void *)(intptr_t)fd);
}

/* Start an echo server; returns its listener (close it to stop). */
static int echo_start(char *addr, size_t size)
{
	int l = goc_listen_tcp("127.0.0.1:0");
	CHECK(l >= 0);
	CHECK_EQ(goc_local_addr(l, addr, size), 0);
	CHECK_EQ(goc_go(echo_listener, (void *)(intptr_t)l), 0);
	return l;
}

/* rounds request/reply exchanges with the server at addr, each checked. */
static void echo_exchange(const char *addr, int rounds)
{
	int fd = goc_dial_tcp(addr, goc_now() + GOC_SEC(10));
	CHECK(fd >= 0);
	for (int i = 0; i < rounds; i++) {
		char msg[32], reply[32];
		int len = snprintf(msg, sizeof msg, "request %d", i);
		CHECK_EQ(goc_write(fd, msg, (size_t)len), len);
		int got = 0;
		while (got < len) {
			ssize_t r = goc_read_until(fd, reply + got, (size_t)(len - got), goc_now() + GOC_SEC(10));
			CHECK(r > 0);
			got += (int)r;
		}
		CHECK(memcmp(msg, reply, (size_t)len) == 0);
	}
	CHECK_EQ(goc_fd_close(fd), 0);
}

/* The P count the program asked for (recorded before any hog). */
static int base_procs;

/* The loan of Ps the monitor made for a hog is given back once it ends. */
static void wait_procs_back_to(int procs)
{
	int64_t give_up = now_ns() + MS(10000);
	while (atomic_load(&goc__s.nprocs) != procs) {
		if (now_ns() >= give_up) {
			fprintf(stderr, "procs %d, want %d; npidle %d\n", (int)atomic_load(&goc__s.nprocs), procs,
			        (int)atomic_load(&goc__s.npidle));
			for (int i = 0; i < atomic_load(&goc__s.maxprocs); i++) {
				goc__p *p = goc__s.allp[i];
				fprintf(stderr, "  P%d status %u sysword %llu\n", i, atomic_load(&p->status),
				        (unsigned long long)atomic_load(&p->sysword));
			}
		}
		CHECK(now_ns() < give_up);
		goc_sleep(GOC_MS(1));
	}
}

/* ---- goc_blocking ------------------------------------------------------ */

struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool open;
};

/* A plain C call that blocks its thread until the gate opens. */
static void *wait_gate(void *arg)
{
	struct gate *g = arg;
	pthread_mutex_lock(&g->mu);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
	return g;
}

struct blocker { struct gate *gate; void *result; _Atomic int entered; };

static void call_blocking(void *arg)
{
	struct blocker *b = arg;
	atomic_store(&b->entered, 1);
	b->result = goc_blocking(wait_gate, b->gate);
	goc_waitgroup_done(&wg);
}

static void test_blocking_call_lends_its_p(void)
{
	struct gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};
	struct blocker b = {&gate, NULL, 0};
	goc_waitgroup_add(&wg, 1);
	CHECK_EQ(goc_go(call_blocking, &b), 0);
	while (!atomic_load(&b.entered))
		goc_yield();
	/* The caller holds a thread, not a P: we and the server keep running. */
	char addr[64];
	int l = echo_start(addr, sizeof addr);
	echo_exchange(addr, 50);
	pthread_mutex_lock(&gate.mu);
	gate.open = true;
	pthread_cond_signal(&gate.cv);
	pthread_mutex_unlock(&gate.mu);
	goc_waitgroup_wait(&wg);
	CHECK(b.result == &gate);
	CHECK_EQ(goc_fd_close(l), 0);
}

static void *null_fn_result(void *arg) { return arg; }

static void test_blocking_returns_the_result(void)
{
	int x;
	CHECK(goc_blocking(null_fn_result, &x) == &x);
	CHECK(goc_blocking(NULL, &x) == NULL);
}

/* Inside goc_blocking the goroutine holds no P: goc I/O there blocks the
 * thread, and some worker still polls for it. */
struct in_blocking { int fd; ssize_t r; char buf[8]; };

static void *read_in_blocking(void *arg)
{
	struct in_blocking *ib = arg;
	ib->r = goc_read_until(ib->fd, ib->buf, sizeof ib->buf, goc_now() + GOC_SEC(10));
	return NULL;
}

static void run_read_in_blocking(void *arg)
{
	goc_blocking(read_in_blocking, arg);
	goc_waitgroup_done(&wg);
}

/* Every wait inside one blocking call parks afresh: the wake that ended
 * the first must not end the second (a stale wake returned from the
 * second park at once, its waiter record still queued on the channel). */
struct two_recvs { goc_chan *c; int got[2]; int rc[2]; };

static void *recv_twice(void *arg)
{
	struct two_recvs *t = arg;
	for (int i = 0; i < 2; i++)
		t->rc[i] = goc_recv(t->c, &t->got[i]);
	return NULL;
}

static void run_recv_twice(void *arg)
{
	goc_blocking(recv_twice, arg);
	goc_waitgroup_done(&wg);
}

static void test_waits_inside_one_blocking_call(void)
{
	for (int round = 0; round < 50; round++) {
		struct two_recvs t = {.c = goc_chan_make(sizeof(int), 0)};
		CHECK(t.c != NULL);
		goc_waitgroup_add(&wg, 1);
		CHECK_EQ(goc_go(run_recv_twice, &t), 0);
		for (int v = 1; v <= 2; v++)
			CHECK_EQ(goc_send(t.c, &v), 0);
		goc_waitgroup_wait(&wg);
		for (int i = 0; i < 2; i++) {
			CHECK_EQ(t.rc[i], 0);
			CHECK_EQ(t.got[i], i + 1);
		}
		goc_chan_release(t.c);
	}
}

/* Every kind of wait parks the thread inside a blocking call and is ended
 * by its own waker (or deadline), over and over in one call. Each helper
 * naps first so that the wait usually parks; the outcome is checked
 * either way. */
struct every_wait {
	goc_chan *c, *never;
	goc_mutex mu;
	goc_cond cv;
	bool flag;
	goc_waitgroup wg;
	goc_sema sem;
};

static void nap(void) { goc_sleep(GOC_MS(1)); }
static void send_later(void *arg) { struct every_wait *e = arg; int v = 7; nap(); CHECK_EQ(goc_send(e->c, &v), 0); }
static void unlock_later(void *arg) { struct every_wait *e = arg; nap(); CHECK_EQ(goc_mutex_unlock(&e->mu), 0); }
static void done_later(void *arg) { struct every_wait *e = arg; nap(); CHECK_EQ(goc_waitgroup_done(&e->wg), 0); }
static void release_later(void *arg) { struct every_wait *e = arg; nap(); CHECK_EQ(goc_sema_release(&e->sem, 1), 0); }

static void signal_later(void *arg)
{
	struct every_wait *e = arg;
	nap();
	CHECK_EQ(goc_mutex_lock(&e->mu), 0);
	e->flag = true;
	CHECK_EQ(goc_cond_signal(&e->cv), 0);
	CHECK_EQ(goc_mutex_unlock(&e->mu), 0);
}

static void *every_wait_fn(void *arg)
{
	struct every_wait *e = arg;
	for (int round = 0; round < 10; round++) {
		int64_t t0 = goc_now();
		CHECK_EQ(goc_sleep(GOC_MS(1)), 0);
		CHECK(goc_now() - t0 >= GOC_MS(1));
		int v = 0;
		t0 = goc_now();
		CHECK_EQ(goc_recv_until(e->never, &v, t0 + GOC_MS(1)), GOC_ETIMEDOUT);
		CHECK(goc_now() - t0 >= GOC_MS(1));

		CHECK_EQ(goc_go(send_later, e), 0);
		CHECK_EQ(goc_recv(e->c, &v), 0);
		CHECK_EQ(v, 7);
		v = 0;
		CHECK_EQ(goc_go(send_later, e), 0);
		goc_case cases[2] = {goc_case_recv(e->never, NULL), goc_case_recv(e->c, &v)};
		CHECK_EQ(goc_select_until(cases, 2, goc_now() + GOC_SEC(10)), 1);
		CHECK(goc_case_ok(&cases[1]));
		CHECK_EQ(v, 7);

		CHECK_EQ(goc_mutex_lock(&e->mu), 0);
		CHECK_EQ(goc_go(unlock_later, e), 0);
		CHECK_EQ(goc_mutex_lock(&e->mu), 0); /* the helper's unlock lets us in */
		e->flag = false;
		CHECK_EQ(goc_go(signal_later, e), 0);
		while (!e->flag)
			CHECK_EQ(goc_cond_wait(&e->cv, &e->mu), 0);
		CHECK_EQ(goc_mutex_unlock(&e->mu), 0);

		CHECK_EQ(goc_waitgroup_add(&e->wg, 1), 0);
		CHECK_EQ(goc_go(done_later, e), 0);
		CHECK_EQ(goc_waitgroup_wait(&e->wg), 0);

		CHECK_EQ(goc_sema_acquire(&e->sem, 1), 0);
		CHECK_EQ(goc_go(release_later, e), 0);
		CHECK_EQ(goc_sema_acquire(&e->sem, 1), 0);
		CHECK_EQ(goc_sema_release(&e->sem, 1), 0);
	}
	return e;
}

static void run_every_wait(void *arg)
{
	CHECK(goc_blocking(every_wait_fn, arg) == arg);
	goc_waitgroup_done(&wg);
}

static void test_every_wait_inside_a_blocking_call(void)
{
	struct every_wait e = {.c = goc_chan_make(sizeof(int), 0), .never = goc_chan_make(sizeof(int), 0),
	                       .mu = GOC_MUTEX_INIT, .cv = GOC_COND_INIT, .wg = GOC_WAITGROUP_INIT};
	CHECK(e.c && e.never);
	CHECK_EQ(goc_sema_init(&e.sem, 1), 0);
	goc_waitgroup_add(&wg, 1);
	CHECK_EQ(goc_go(run_every_wait, &e), 0);
	goc_waitgroup_wait(&wg);
	goc_chan_release(e.c);
	goc_chan_release(e.never);
}

/* Inside a blocking call the goroutine holds no P: goc_yield yields the
 * thread (it used to requeue the goroutine on a P it did not have and
 * crash the worker), and a nested goc_blocking just calls its function
 * (it used to take the P back when it returned, so the rest of the outer
 * call blocked a P). */
static void *yield_inside(void *arg)
{
	for (int i = 0; i < 100; i++)
		goc_yield();
	return arg;
}

static void *inner_call(void *arg) { return arg; }

static void *nested_outer(void *arg)
{
	int *seen = arg;
	CHECK(goc_blocking(inner_call, seen) == seen);
	goc_stats_t st;
	CHECK_EQ(goc_stats(&st), 0);
	*seen = st.blocking; /* the outer call still lends its P */
	CHECK(goc_blocking(yield_inside, seen) == seen);
	return seen;
}

static void run_yield_and_nested(void *arg)
{
	CHECK(goc_blocking(yield_inside, arg) == arg);
	CHECK(goc_blocking(nested_outer, arg) == arg);
	goc_waitgroup_done(&wg);
}

static void test_yield_and_nested_calls_inside_a_blocking_call(void)
{
	int seen = -1;
	goc_waitgroup_add(&wg, 1);
	CHECK_EQ(goc_go(run_yield_and_nested, &seen), 0);
	goc_waitgroup_wait(&wg);
	CHECK_EQ(seen, 1);
	goc_stats_t st;
	CHECK_EQ(goc_stats(&st), 0);
	CHECK_EQ(st.blocking, 0);
}

static void test_goc_io_inside_blocking_call(void)
{
	int p[2];
	CHECK_EQ(pipe(p), 0);
	struct in_blocking ib = {.fd = p[0]};
	goc_waitgroup_add(&wg, 1);
	CHECK_EQ(goc_go(run_read_in_blocking, &ib), 0);
	wait_for_io_waiters(1);
	CHECK_EQ(goc_write(p[1], "ok", 2), 2);
	goc_waitgroup_wait(&wg);
	CHECK_EQ(ib.r, 2);
	CHECK(memcmp(ib.buf, "ok", 2) == 0);
	CHECK_EQ(goc_fd_close(p[0]), 0);
	CHECK_EQ(goc_fd_close(p[1]), 0);
}

/* ---- undeclared hogs -------------------------------------------------- */

static _Atomic int spin_release;
static _Atomic int spinning;

/* Spins without any goc call until released: only another goroutine can
 * release it, so with one P that goroutine must run on a lent one. */
static void spinner(void *arg)
{
	(void)arg;
	atomic_fetch_add(&spinning, 1);
	while (!atomic_load_explicit(&spin_release, memory_order_relaxed))
		;
	goc_waitgroup_done(&wg);
}

static void test_busy_loop_does_not_stall_others(void)
{
	int procs = base_procs;
	atomic_store(&spin_release, 0);
	atomic_store(&spinning, 0);
	char addr[64];
	int l = echo_start(addr, sizeof addr);
	/* One hog per P: nothing would run at all without the monitor. */
	goc_waitgroup_add(&wg, procs);
	for (int i = 0; i < procs; i++)
		CHECK_EQ(goc_go(spinner, NULL), 0);
	while (atomic_load(&spinning) < procs)
		goc_yield();
	echo_exchange(addr, 50);
	/* Every P of the program's is hogged, so this goroutine runs on a P
	 * the monitor lent; goc_procs reports the program's count, not the
	 * loan. */
	CHECK(atomic_load(&goc__s.nprocs) > procs);
	CHECK_EQ(goc_procs(0), procs);
	atomic_store(&spin_release, 1);
	goc_waitgroup_wait(&wg);
	CHECK_EQ(goc_fd_close(l), 0);
	wait_procs_back_to(procs);
}

/* A raw read(2) on a blocking pipe goc never saw: the thread sleeps in the
 * kernel with the P. */
struct raw_reader { int fd; ssize_t r; char c; _Atomic int started; };

static void raw_read(void *arg)
{
	struct raw_reader *rr = arg;
	atomic_store(&rr->started, 1);
	rr->r = read(rr->fd, &rr->c, 1);
	goc_waitgroup_done(&wg);
}

static void test_raw_blocking_read_does_not_stall_others(void)
{
	int procs = base_procs;
	int p[2];
	CHECK_EQ(pipe(p), 0);
	char addr[64];
	int l = echo_start(addr, sizeof addr);
	struct raw_reader rr = {.fd = p[0]};
	goc_waitgroup_add(&wg, 1);
	CHECK_EQ(goc_go(raw_read, &rr), 0);
	while (!atomic_load(&rr.started))
		goc_yield();
	echo_exchange(addr, 50);
	CHECK_EQ(write(p[1], "z", 1), 1); /* plain write: the pipe is not goc's */
	goc_waitgroup_wait(&wg);
	CHECK_EQ(rr.r, 1);
	CHECK_EQ(rr.c, 'z');
	close(p[0]);
	close(p[1]);
	CHECK_EQ(goc_fd_close(l), 0);
	wait_procs_back_to(procs);
}

/* A sleeping goroutine's timer fires while every P is hogged, and it runs:
 * it is the one that releases the hogs. */
static void timed_release(void *arg)
{
	(void)arg;
	goc_sleep(GOC_MS(5));
	atomic_store(&spin_release, 1);
	goc_waitgroup_done(&wg);
}

static void test_timer_fires_while_hogged(void)
{
	int procs = base_procs;
	atomic_store(&spin_release, 0);
	goc_waitgroup_add(&wg, procs + 1);
	CHECK_EQ(goc_go(timed_release, NULL), 0);
	for (int i = 0; i < procs; i++)
		CHECK_EQ(goc_go(spinner, NULL), 0);
	int64_t t0 = now_ns();
	goc_waitgroup_wait(&wg);
	CHECK(now_ns() - t0 >= MS(5));
	wait_procs_back_to(procs);
}

/* Blocking calls whose P is retaken (goroutines wait) and entered again
 * by the next owner's own blocking call, while the program resizes its
 * processors: every call returns, every goroutine ends, and nothing stays
 * counted as blocking. Under TSan this also checks that a call's exit
 * reads nothing the P's next owner writes (the exit read the P's
 * generation counter, which the next owner's entry increments). */
static _Atomic int retaken_calls;

static void *nap_in_call(void *arg)
{
	struct timespec ts = {0, 5 * 1000 * 1000};
	nanosleep(&ts, NULL);
	atomic_fetch_add(&retaken_calls, 1);
	return arg;
}

static void blocking_caller(void *arg)
{
	for (int i = 0; i < 4; i++)
		CHECK(goc_blocking(nap_in_call, arg) == arg);
	goc_waitgroup_done(&wg);
}

static void brief_yielder(void *arg)
{
	(void)arg;
	for (int i = 0; i < 500; i++)
		goc_yield();
	goc_waitgroup_done(&wg);
}

static void test_blocking_calls_on_retaken_and_resized_ps(void)
{
	int procs = base_procs;
	atomic_store(&retaken_calls, 0);
	goc_waitgroup_add(&wg, 16);
	for (int i = 0; i < 8; i++) {
		CHECK_EQ(goc_go(blocking_caller, &wg), 0);
		CHECK_EQ(goc_go(brief_yielder, NULL), 0);
	}
	for (int k = 0; k < 10; k++) {
		CHECK(goc_procs(1 + k % 3) > 0);
		goc_sleep(GOC_MS(2));
	}
	CHECK(goc_procs(procs) > 0);
	goc_waitgroup_wait(&wg);
	CHECK_EQ(atomic_load(&retaken_calls), 8 * 4);
	goc_stats_t st;
	CHECK_EQ(goc_stats(&st), 0);
	CHECK_EQ(st.blocking, 0);
	wait_procs_back_to(procs);
}

/* Goroutines that yield in a loop keep every run queue non-empty, so no
 * worker ever runs out of work to poll: the monitor polls for them, and
 * the goroutine whose pipe became readable still gets to run. */
struct pipe_reader { int fd; _Atomic int got; };

static void read_one(void *arg)
{
	struct pipe_reader *pr = arg;
	char c;
	CHECK_EQ(goc_read(pr->fd, &c, 1), 1);
	atomic_store(&pr->got, 1);
	goc_waitgroup_done(&wg);
}

static void yield_until(void *arg)
{
	_Atomic int *flag = arg;
	while (!atomic_load(flag))
		goc_yield();
	goc_waitgroup_done(&wg);
}

static void test_io_ready_while_everyone_yields(void)
{
	int procs = base_procs;
	int p[2];
	CHECK_EQ(pipe(p), 0);
	struct pipe_reader pr = {.fd = p[0]};
	goc_waitgroup_add(&wg, 1 + procs);
	CHECK_EQ(goc_go(read_one, &pr), 0);
	wait_for_io_waiters(1);
	CHECK_EQ(goc_write(p[1], "!", 1), 1);
	for (int i = 0; i < procs; i++)
		CHECK_EQ(goc_go(yield_until, &pr.got), 0);
	int64_t give_up = now_ns() + MS(10000);
	while (!atomic_load(&pr.got)) {
		CHECK(now_ns() < give_up);
		goc_yield();
	}
	goc_waitgroup_wait(&wg);
	CHECK_EQ(goc_fd_close(p[0]), 0);
	CHECK_EQ(goc_fd_close(p[1]), 0);
}

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	base_procs = goc_procs(0);
	RUN(test_blocking_returns_the_result);
	RUN(test_blocking_call_lends_its_p);
	RUN(test_goc_io_inside_blocking_call);
	RUN(test_waits_inside_one_blocking_call);
	RUN(test_every_wait_inside_a_blocking_call);
	RUN(test_yield_and_nested_calls_inside_a_blocking_call);
	RUN(test_busy_loop_does_not_stall_others);
	RUN(test_raw_blocking_read_does_not_stall_others);
	RUN(test_timer_fires_while_hogged);
	RUN(test_io_ready_while_everyone_yields);
	RUN(test_blocking_calls_on_retaken_and_resized_ps);
	return 0;
}

int main(int argc, char **argv)
{
	watchdog(50);
	return run_with_procs_1_and_2(run, argc, argv);
}
