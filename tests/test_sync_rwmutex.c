/* test_sync_rwmutex.c - goc_rwmutex: readers share, writers exclude,
 * neither side starves, misuse and deadlines. Any GOC_PROCS. */
#include "test_sync_util.h"

#include <pthread.h>
#include <stdatomic.h>

static goc_rwmutex rw = GOC_RWMUTEX_INIT;
static goc_waitgroup wg;
static _Atomic int readers_in, writers_in, violations;
static _Atomic int stop;
static long data_a, data_b;   /* written under the write lock; always equal */

static void check_inside_reader(void)
{
	if (atomic_load(&writers_in) != 0)
		atomic_fetch_add(&violations, 1);
	if (data_a != data_b)
		atomic_fetch_add(&violations, 1);
}

/* ---- basics and misuse --------------------------------------------------- */

static void test_readers_share_and_writers_exclude(void)
{
	goc_rwmutex r = GOC_RWMUTEX_INIT;
	CHECK_EQ(goc_rwmutex_rlock(&r), 0);
	CHECK_EQ(goc_rwmutex_rlock(&r), 0);
	CHECK_EQ(goc_rwmutex_tryrlock(&r), 0);
	CHECK_EQ(goc_rwmutex_trylock(&r), GOC_EAGAIN);
	CHECK_EQ(goc_rwmutex_lock_until(&r, now_ns() + MS(5)), GOC_ETIMEDOUT);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(goc_rwmutex_runlock(&r), 0);
	CHECK_EQ(atomic_load(&r.state), 0);
	CHECK_EQ(goc_rwmutex_trylock(&r), 0);
	CHECK_EQ(goc_rwmutex_tryrlock(&r), GOC_EAGAIN);
	CHECK_EQ(goc_rwmutex_rlock_until(&r, now_ns() + MS(5)), GOC_ETIMEDOUT);
	CHECK_EQ(goc_rwmutex_unlock(&r), 0);
	CHECK_EQ(atomic_load(&r.state), 0);
}

static void test_misuse_is_eperm_and_harmless(void)
{
	goc_rwmutex r;
	memset(&r, 0, sizeof r);
	CHECK_EQ(goc_rwmutex_runlock(&r), GOC_EPERM);
	CHECK_EQ(goc_rwmutex_unlock(&r), GOC_EPERM);
	CHECK_EQ(atomic_load(&r.state), 0);
	CHECK_EQ(goc_rwmutex_rlock(&r), 0);
	CHECK_EQ(goc_rwmutex_unlock(&r), GOC_EPERM);   /* read-locked, not write-locked */
	CHECK_EQ(goc_rwmutex_runlock(&r), 0);
	CHECK_EQ(goc_rwmutex_lock(&r), 0);
	CHECK_EQ(goc_rwmutex_runlock(&r), GOC_EPERM);  /* write-locked, no reader */
	CHECK_EQ(goc_rwmutex_unlock(&r), 0);
	CHECK_EQ(goc_rwmutex_unlock(&r), GOC_EPERM);
	CHECK_EQ(atomic_load(&r.state), 0);
	CHECK_EQ(goc_rwmutex_rlock(NULL), GOC_EINVAL);
	CHECK_EQ(goc_rwmutex_lock(NULL), GOC_EINVAL);
	CHECK_EQ(goc_rwmutex_runlock(NULL), GOC_EINVAL);
	CHECK_EQ(goc_rwmutex_unlock(NULL), GOC_EINVAL);
	CHECK_EQ(goc_rwmutex_tryrlock(NULL), GOC_EINVAL);
	CHECK_EQ(goc_rwmutex_trylock(NULL), GOC_EINVAL);
}

/* ---- exclusion under contention ----------------------------------------- */

static void reader_loop(void *arg)
{
	int iters = (int)(intptr_t)arg;
	for (int i = 0; i < iters; i++) {
		goc_rwmutex_rlock(&rw);
		atomic_fetch_add(&readers_in, 1);
		check_inside_reader();
		if (i % 64 == 0)
			goc_yield();
		check_inside_reader();
		atomic_fetch_sub(&readers_in, 1);
		goc_rwmutex_runlock(&rw);
	}
	goc_waitgroup_done(&wg);
}

static void writer_loop(void *arg)
{
	int iters = (int)(intptr_t)arg;
	for (int i = 0; i < iters; i++) {
		goc_rwmutex_lock(&rw);
		if (atomic_fetch_add(&writers_in, 1) != 0 || atomic_load(&readers_in) != 0)
			atomic_fetch_add(&violations, 1);
		data_a++;
		if (i % 16 == 0)
			goc_yield();
		data_b++;
		atomic_fetch_sub(&writers_in, 1);
		goc_rwmutex_unlock(&rw);
	}
	goc_waitgroup_done(&wg);
}

static void test_exclusion_with_many_readers_and_writers(void)
{
	data_a = data_b = 0;
	atomic_store(&violations, 0);
	goc_waitgroup_add(&wg, 10);
	for (int i = 0; i < 7; i++)
		CHECK_EQ(goc_go(reader_loop, (void *)(intptr_t)20000), 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(goc_go(writer_loop, (void *)(intptr_t)5000), 0);
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	CHECK_EQ(atomic_load(&violations), 0);
	CHECK_EQ(data_a, 15000);
	CHECK_EQ(data_b, 15000);
	CHECK_EQ(atomic_load(&rw.state), 0);
}

/* ---- starvation bounds --------------------------------------------------
 * Bound: 250 ms for a single acquisition (it needs only the current holders
 * to finish one short section each; the rest is slack for a loaded 2-core
 * machine). */

static _Atomic long rounds;

static void overlapping_reader(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		goc_rwmutex_rlock(&rw);
		goc_yield();   /* readers overlap continuously */
		goc_rwmutex_runlock(&rw);
		atomic_fetch_add(&rounds, 1);
	}
	goc_waitgroup_done(&wg);
}

static void test_writer_is_not_starved_by_readers(void)
{
	atomic_store(&stop, 0);
	atomic_store(&rounds, 0);
	goc_waitgroup_add(&wg, 6);
	for (int i = 0; i < 6; i++)
		CHECK_EQ(goc_go(overlapping_reader, NULL), 0);
	while (atomic_load(&rounds) < 1000)
		goc_yield();
	int64_t worst = 0;
	for (int k = 0; k < 20; k++) {
		int64_t t0 = now_ns();
		CHECK_EQ(goc_rwmutex_lock(&rw), 0);
		int64_t dt = now_ns() - t0;
		CHECK_EQ(goc_rwmutex_unlock(&rw), 0);
		if (dt > worst)
			worst = dt;
		goc_yield();
	}
	atomic_store(&stop, 1);
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	fprintf(stderr, "    (writer's worst wait %.1f us)\n", worst / 1e3);
	CHECK(worst < MS(250));
	CHECK_EQ(atomic_load(&rw.state), 0);
}

static void hammering_writer(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		goc_rwmutex_lock(&rw);
		goc_yield();
		goc_rwmutex_unlock(&rw);
		atomic_fetch_add(&rounds, 1);
	}
	goc_waitgroup_done(&wg);
}

static void test_reader_is_not_starved_by_writers(void)
{
	atomic_store(&stop, 0);
	atomic_store(&rounds, 0);
	goc_waitgroup_add(&wg, 4);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(goc_go(hammering_writer, NULL), 0);
	while (atomic_load(&rounds) < 500)
		goc_yield();
	int64_t worst = 0;
	for (int k = 0; k < 20; k++) {
		int64_t t0 = now_ns();
		CHECK_EQ(goc_rwmutex_rlock(&rw), 0);
		int64_t dt = now_ns() - t0;
		CHECK_EQ(goc_rwmutex_runlock(&rw), 0);
		if (dt > worst)
			worst = dt;
		goc_yield();
	}
	atomic_store(&stop, 1);
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	fprintf(stderr, "    (reader's worst wait %.1f us)\n", worst / 1e3);
	CHECK(worst < MS(250));
	CHECK_EQ(atomic_load(&rw.state), 0);
}

/* ---- deadlines ---------------------------------------------------------- */

static _Atomic int results[8];

static void rlock_until_20ms(void *arg)
{
	int i = (int)(intptr_t)arg;
	int r = goc_rwmutex_rlock_until(&rw, now_ns() + MS(20));
	atomic_store(&results[i], r);
	if (r == 0)
		goc_rwmutex_runlock(&rw);
	goc_waitgroup_done(&wg);
}

static void lock_until_20ms(void *arg)
{
	int i = (int)(intptr_t)arg;
	int r = goc_rwmutex_lock_until(&rw, now_ns() + MS(20));
	atomic_store(&results[i], r);
	if (r == 0)
		goc_rwmutex_unlock(&rw);
	goc_waitgroup_done(&wg);
}

static void test_deadlines_expire_and_leave_state_clean(void)
{
	/* Readers and writers time out behind a held write lock. */
	CHECK_EQ(goc_rwmutex_lock(&rw), 0);
	goc_waitgroup_add(&wg, 4);
	CHECK_EQ(goc_go(rlock_until_20ms, (void *)0), 0);
	CHECK_EQ(goc_go(rlock_until_20ms, (void *)1), 0);
	CHECK_EQ(goc_go(lock_until_20ms, (void *)2), 0);
	CHECK_EQ(goc_go(lock_until_20ms, (void *)3), 0);
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(atomic_load(&results[i]), GOC_ETIMEDOUT);
	CHECK_EQ(atomic_load(&rw.state), 1);   /* just the writer */
	CHECK_EQ(goc_rwmutex_unlock(&rw), 0);
	CHECK_EQ(atomic_load(&rw.state), 0);
}

/* A queued writer times out while a reader holds: the readers that queued
 * behind that writer must be let in when it leaves. */
static void test_writer_timeout_admits_readers_queued_behind_it(void)
{
	CHECK_EQ(goc_rwmutex_rlock(&rw), 0);
	goc_waitgroup_add(&wg, 1);
	CHECK_EQ(goc_go(lock_until_20ms, (void *)0), 0);
	while (!(atomic_load(&rw.state) & 2))   /* writer queued */
		goc_yield();
	/* New readers now queue behind the writer (writer preference). */
	CHECK_EQ(goc_rwmutex_tryrlock(&rw), GOC_EAGAIN);
	int64_t t0 = now_ns();
	CHECK_EQ(goc_rwmutex_rlock_until(&rw, t0 + MS(5000)), 0);   /* after the writer gives up */
	CHECK(now_ns() - t0 < MS(4000));
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	CHECK_EQ(atomic_load(&results[0]), GOC_ETIMEDOUT);
	CHECK_EQ(goc_rwmutex_runlock(&rw), 0);
	CHECK_EQ(goc_rwmutex_runlock(&rw), 0);
	CHECK_EQ(atomic_load(&rw.state), 0);
}

/* ---- foreign threads ---------------------------------------------------- */

static void *thread_writer(void *arg)
{
	(void)arg;
	register_foreign_thread();
	for (int i = 0; i < 5000; i++) {
		CHECK_EQ(goc_rwmutex_lock(&rw), 0);
		if (atomic_fetch_add(&writers_in, 1) != 0 || atomic_load(&readers_in) != 0)
			atomic_fetch_add(&violations, 1);
		data_a++;
		data_b++;
		atomic_fetch_sub(&writers_in, 1);
		CHECK_EQ(goc_rwmutex_unlock(&rw), 0);
	}
	return NULL;
}

static void test_foreign_thread_writers_with_goroutine_readers(void)
{
	data_a = data_b = 0;
	atomic_store(&violations, 0);
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, thread_writer, NULL), 0);
	goc_waitgroup_add(&wg, 4);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(goc_go(reader_loop, (void *)(intptr_t)10000), 0);
	CHECK_EQ(goc_waitgroup_wait(&wg), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(atomic_load(&violations), 0);
	CHECK_EQ(data_a, 10000);
	CHECK_EQ(atomic_load(&rw.state), 0);
}

static int real_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	RUN(test_readers_share_and_writers_exclude);
	RUN(test_misuse_is_eperm_and_harmless);
	RUN(test_exclusion_with_many_readers_and_writers);
	RUN(test_writer_is_not_starved_by_readers);
	RUN(test_reader_is_not_starved_by_writers);
	RUN(test_deadlines_expire_and_leave_state_clean);
	RUN(test_writer_timeout_admits_readers_queued_behind_it);
	RUN(test_foreign_thread_writers_with_goroutine_readers);
	return 0;
}

int main(int argc, char **argv)
{
	watchdog(60);
	CHECK_EQ(run_with_procs_1_and_2(real_main, argc, argv), 0);
	return 0;
}
