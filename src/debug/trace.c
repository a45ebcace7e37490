/* trace.c - scheduling traces in the Chrome trace event format
 * (GOC_TRACE=file.json, goc_trace_start/stop), loadable in Perfetto or
 * chrome://tracing.
 *
 * Recording: the scheduler reports events through goc__trace_emit (sched.h's
 * GOC__TRACE hooks, active while goc__tracing is set). Each thread appends
 * to its own buffer (a list of fixed-size blocks), so recording takes no
 * lock and shares no cache line; a thread registers its buffer with the
 * session, under the session lock, on its first event. A buffer outlives
 * its thread: the session owns it until the file is written.
 *
 * Stopping (the only subtle part): an emitter may be between its check of
 * `active` and its append when the session stops. Each buffer has a busy
 * word its owner sets around an append (Dekker style: the owner stores
 * busy = 1 then loads active; stop stores active = 0 then loads each busy;
 * both seq_cst, so at least one sees the other's store). Stop waits for
 * every busy word to drop before reading the buffers; a late emitter that
 * sees active == 0 appends nothing.
 *
 * Output, written when the trace stops: one track (tid) per thread, named
 * "worker M<n>" or "thread <n>"; each goroutine run is a complete ("X")
 * slice named "G<id> <entry function>" ending at the goroutine's block,
 * yield or exit (or at the thread's next run: a goroutine leaving a
 * blocking call without a P has no event of its own); spawn, block (with
 * its wait reason), unblock, yield and exit are instant ("i") events;
 * goc_blocking calls are slices of their own. Timestamps are microseconds
 * of the monotonic clock since the trace started.
 *
 * Memory: at most MAX_BLOCKS blocks per session; later events are counted
 * as dropped and the count is written into the file's metadata.
 * Lock order: session_mu is a leaf. Emitters take it only to register,
 * perhaps holding a scheduler or channel lock; its holder (start, stop)
 * takes no other lock, and stop waits only for busy words, which are set
 * around code that takes no lock (the deadlock report stops a trace with
 * sched.lock held: that is why). */
#define _GNU_SOURCE
#include "debug.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define BLOCK_EVENTS 21844 /* a block is 1 MiB */
#define MAX_BLOCKS 800 /* 800 MiB, 17 M events */

typedef struct trace_event {
	int64_t ts;                 /* goc__nanotime */
	uint64_t gid;
	int64_t arg;                /* SPAWN: parent id; BLOCK: wait reason */
	void (*fn)(void *);         /* RUN, SPAWN: entry function */
	const char *file;           /* RUN, SPAWN: creation site (static strings) */
	int32_t line;
	int32_t ev;
} trace_event;

typedef struct trace_block {
	struct trace_block *next;
	int32_t n;
	trace_event e[BLOCK_EVENTS];
} trace_block;

typedef struct trace_buf {
	struct trace_buf *next;     /* session list (session_mu) */
	_Atomic int busy;           /* owner appending (see the header) */
	int32_t tid;                /* track number, from 1 */
	int64_t mid;                /* the thread's M id, -1 for other threads */
	trace_block *head, *tail;   /* owner-written; read after stop */
} trace_buf;

typedef struct trace_session {
	FILE *out;
	int64_t t0;
	_Atomic int active;
	_Atomic int64_t nblocks, ndropped;
	uint64_t gen;
	struct trace_session *retired_next;
} trace_session;

static pthread_mutex_t session_mu = PTHREAD_MUTEX_INITIALIZER;
static trace_session *session;  /* session_mu; non-NULL while recording */
static trace_buf *bufs;         /* session_mu */
static int32_t nbufs;           /* session_mu */
static uint64_t session_gen;    /* session_mu */
static bool atexit_done;        /* session_mu */
/* Stopped sessions and their buffer records (events freed), kept because
 * an emitter may still hold a pointer to them (see goc_trace_stop). */
static trace_session *retired_sessions; /* session_mu */
static trace_buf *retired_bufs;         /* session_mu */

/* The current thread's buffer for session generation tls_gen. */
static __thread trace_buf *tls_buf;
static __thread uint64_t tls_gen;

/* The session pointer read by emitters: set before goc__tracing is raised,
 * cleared only after every emitter left (stop). */
static trace_session *_Atomic cur;

static trace_buf *register_buf(trace_session *s)
{
	trace_buf *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	goc__m *m = goc__getm();
	b->mid = m ? m->id : -1;
	pthread_mutex_lock(&session_mu);
	if (session != s) { /* stopped meanwhile */
		pthread_mutex_unlock(&session_mu);
		free(b);
		return NULL;
	}
	b->tid = ++nbufs;
	b->next = bufs;
	bufs = b;
	pthread_mutex_unlock(&session_mu);
	tls_buf = b;
	tls_gen = s->gen;
	return b;
}

/* Event blocks are mapped with their pages populated at once: taking a
 * page fault per 4 KiB while recording costs more than the recording
 * itself (tens of microseconds each on virtual machines). */
static trace_block *block_new(void)
{
	void *p = mmap(NULL, sizeof(trace_block), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
	               -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* The session-wide limit is counted in blocks, so that an event touches
 * no shared cache line. */
static trace_event *append(trace_session *s, trace_buf *b)
{
	trace_block *t = b->tail;
	if (!t || t->n == BLOCK_EVENTS) {
		trace_block *nb = NULL;
		if (atomic_fetch_add_explicit(&s->nblocks, 1, memory_order_relaxed) < MAX_BLOCKS)
			nb = block_new();
		if (!nb) {
			atomic_fetch_add_explicit(&s->ndropped, 1, memory_order_relaxed);
			return NULL;
		}
		nb->next = NULL;
		nb->n = 0;
		if (t)
			t->next = nb;
		else
			b->head = nb;
		b->tail = t = nb;
	}
	return &t->e[t->n++];
}

void goc__trace_emit(int ev, goc__g *g, int64_t arg)
{
	trace_session *s = atomic_load_explicit(&cur, memory_order_acquire);
	if (!s)
		return;
	int64_t now = goc__nanotime();
	trace_buf *b = tls_buf;
	if (!b || tls_gen != s->gen) {
		b = register_buf(s);
		if (!b)
			return;
	}
	atomic_store_explicit(&b->busy, 1, memory_order_seq_cst);
	if (atomic_load_explicit(&s->active, memory_order_seq_cst)) {
		trace_event *e = append(s, b);
		if (e) {
			e->ts = now;
			e->gid = g ? g->id : 0;
			e->arg = arg;
			e->ev = ev;
			if (g && (ev == GOC__EV_RUN || ev == GOC__EV_SPAWN)) {
				e->fn = g->fn;
				e->file = g->site ? g->site->file : NULL;
				e->line = g->site ? g->site->line : 0;
			} else {
				e->fn = NULL;
				e->file = NULL;
				e->line = 0;
			}
		}
	}
	atomic_store_explicit(&b->busy, 0, memory_order_release);
}

/* ---- writing -------------------------------------------------------------- */

static void put_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static double us(const trace_session *s, int64_t ts)
{
	return (double)(ts - s->t0) / 1000.0;
}

static const char *fn_name(goc__symctx *sym, void (*fn)(void *), char *buf, size_t size)
{
	const char *name = NULL, *module = NULL;
	uintptr_t off = 0;
	if (fn && goc__sym_lookup(sym, (uintptr_t)fn, &name, &off, &module) && off == 0)
		return name;
	snprintf(buf, size, "%p", (void *)fn);
	return buf;
}

/* State of one track while its events are written: the open run slice and
 * blocking call. */
typedef struct track {
	const trace_event *run;
	const trace_event *blocking;
	bool first;
} track;

static void sep(FILE *f, track *t)
{
	(void)t;
	fputs(",\n", f);
}

static void close_run(FILE *f, const trace_session *s, track *t, int32_t tid, int64_t end,
                      const char *why, goc__symctx *sym)
{
	const trace_event *r = t->run;
	if (!r)
		return;
	char buf[32];
	char name[256];
	snprintf(name, sizeof name, "G%llu %s", (unsigned long long)r->gid, fn_name(sym, r->fn, buf, sizeof buf));
	sep(f, t);
	fprintf(f, "{\"ph\":\"X\",\"cat\":\"run\",\"pid\":1,\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f,\"name\":", tid,
	        us(s, r->ts), (double)(end - r->ts) / 1000.0);
	put_json_string(f, name);
	fprintf(f, ",\"args\":{\"goroutine\":%llu,\"created_at\":", (unsigned long long)r->gid);
	char site[300];
	snprintf(site, sizeof site, "%s:%d", r->file ? r->file : "?", r->line);
	put_json_string(f, site);
	fputs(",\"ended_by\":", f);
	put_json_string(f, why);
	fputs("}}", f);
	t->run = NULL;
}

static void instant(FILE *f, const trace_session *s, track *t, int32_t tid, const trace_event *e,
                    const char *cat, const char *name)
{
	sep(f, t);
	fprintf(f, "{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"%s\",\"pid\":1,\"tid\":%d,\"ts\":%.3f,\"name\":", cat, tid,
	        us(s, e->ts));
	put_json_string(f, name);
	fprintf(f, ",\"args\":{\"goroutine\":%llu", (unsigned long long)e->gid);
}

static const char *reason_name(int64_t r)
{
	if (r > GOC__WAIT_NONE && r < GOC__WAIT_COUNT)
		return goc__wait_reason_name((int)r);
	return "waiting";
}

static void write_track(FILE *f, const trace_session *s, const trace_buf *b, int64_t end, goc__symctx *sym)
{
	track t = {0};
	char name[64];
	if (b->mid >= 0)
		snprintf(name, sizeof name, "worker M%lld", (long long)b->mid);
	else
		snprintf(name, sizeof name, "thread %d", b->tid);
	sep(f, &t);
	fprintf(f, "{\"ph\":\"M\",\"pid\":1,\"tid\":%d,\"name\":\"thread_name\",\"args\":{\"name\":", b->tid);
	put_json_string(f, name);
	fputs("}}", f);
	for (const trace_block *k = b->head; k; k = k->next)
		for (int32_t i = 0; i < k->n; i++) {
			const trace_event *e = &k->e[i];
			char label[128];
			switch (e->ev) {
			case GOC__EV_RUN:
				close_run(f, s, &t, b->tid, e->ts, "next run", sym);
				t.run = e;
				break;
			case GOC__EV_SPAWN: {
				char buf[32];
				snprintf(label, sizeof label, "spawn G%llu %s", (unsigned long long)e->gid,
				         fn_name(sym, e->fn, buf, sizeof buf));
				instant(f, s, &t, b->tid, e, "spawn", label);
				fprintf(f, ",\"parent\":%lld,\"created_at\":", (long long)e->arg);
				char site[300];
				snprintf(site, sizeof site, "%s:%d", e->file ? e->file : "?", e->line);
				put_json_string(f, site);
				fputs("}}", f);
				break;
			}
			case GOC__EV_BLOCK:
				close_run(f, s, &t, b->tid, e->ts, reason_name(e->arg), sym);
				snprintf(label, sizeof label, "block G%llu: %s", (unsigned long long)e->gid,
				         reason_name(e->arg));
				instant(f, s, &t, b->tid, e, "block", label);
				fputs(",\"reason\":", f);
				put_json_string(f, reason_name(e->arg));
				fputs("}}", f);
				break;
			case GOC__EV_UNBLOCK:
				snprintf(label, sizeof label, "unblock G%llu", (unsigned long long)e->gid);
				instant(f, s, &t, b->tid, e, "unblock", label);
				fputs("}}", f);
				break;
			case GOC__EV_YIELD:
				close_run(f, s, &t, b->tid, e->ts, "yield", sym);
				snprintf(label, sizeof label, "yield G%llu", (unsigned long long)e->gid);
				instant(f, s, &t, b->tid, e, "yield", label);
				fputs("}}", f);
				break;
			case GOC__EV_EXIT:
				close_run(f, s, &t, b->tid, e->ts, "exit", sym);
				snprintf(label, sizeof label, "exit G%llu", (unsigned long long)e->gid);
				instant(f, s, &t, b->tid, e, "exit", label);
				fputs("}}", f);
				break;
			case GOC__EV_BLOCKING_ENTER:
				t.blocking = e;
				break;
			case GOC__EV_BLOCKING_EXIT:
				if (t.blocking) {
					sep(f, &t);
					fprintf(f,
					        "{\"ph\":\"X\",\"cat\":\"blocking\",\"pid\":1,\"tid\":%d,\"ts\":%.3f,"
					        "\"dur\":%.3f,\"name\":\"blocking call G%llu\",\"args\":{\"goroutine\":%llu}}",
					        b->tid, us(s, t.blocking->ts), (double)(e->ts - t.blocking->ts) / 1000.0,
					        (unsigned long long)e->gid, (unsigned long long)e->gid);
					t.blocking = NULL;
				}
				break;
			}
		}
	close_run(f, s, &t, b->tid, end, "trace end", sym);
}

static int write_trace(trace_session *s, trace_buf *list, int64_t end)
{
	int64_t nevents = 0;
	for (trace_buf *b = list; b; b = b->next)
		for (const trace_block *k = b->head; k; k = k->next)
			nevents += k->n;
	FILE *f = s->out;
	goc__symctx *sym = goc__sym_new();
	fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n", f);
	fputs("{\"ph\":\"M\",\"pid\":1,\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":\"goc\"}}", f);
	/* Tracks in registration order (the list is newest first). */
	int32_t n = 0;
	for (trace_buf *b = list; b; b = b->next)
		n++;
	for (int32_t k = 1; k <= n; k++)
		for (trace_buf *b = list; b; b = b->next)
			if (b->tid == k)
				write_track(f, s, b, end, sym);
	goc__sym_free(sym);
	fprintf(f, "\n],\n\"otherData\":{\"events\":%lld,\"dropped\":%lld}}\n",
	        (long long)nevents, (long long)atomic_load(&s->ndropped));
	int rc = 0;
	if (ferror(f))
		rc = -EIO;
	if (fclose(f) != 0 && rc == 0)
		rc = errno ? -errno : -EIO;
	return rc;
}

static void stop_at_exit(void)
{
	goc_trace_stop();
}

int goc_trace_start(const char *path)
{
	if (!path || !*path)
		return GOC_EINVAL;
	pthread_mutex_lock(&session_mu);
	if (session) {
		pthread_mutex_unlock(&session_mu);
		return GOC_EBUSY;
	}
	trace_session *s = calloc(1, sizeof *s);
	if (!s) {
		pthread_mutex_unlock(&session_mu);
		return GOC_ENOMEM;
	}
	s->out = fopen(path, "we");
	if (!s->out) {
		int err = errno;
		pthread_mutex_unlock(&session_mu);
		free(s);
		return -err;
	}
	s->gen = ++session_gen;
	s->t0 = goc__nanotime();
	atomic_store(&s->active, 1);
	session = s;
	if (!atexit_done) {
		atexit_done = true;
		atexit(stop_at_exit); /* exit() before goc_main returned still writes the file */
	}
	atomic_store_explicit(&cur, s, memory_order_release);
	atomic_store(&goc__tracing, 1);
	pthread_mutex_unlock(&session_mu);
	return 0;
}

int goc_trace_stop(void)
{
	pthread_mutex_lock(&session_mu);
	trace_session *s = session;
	if (!s) {
		pthread_mutex_unlock(&session_mu);
		return GOC_EPERM;
	}
	atomic_store(&goc__tracing, 0);
	atomic_store_explicit(&s->active, 0, memory_order_seq_cst);
	int64_t end = goc__nanotime();
	/* Wait out emitters that saw active == 1 (see the header). A buffer
	 * is registered under session_mu, which we hold: the list is final. */
	for (trace_buf *b = bufs; b; b = b->next)
		while (atomic_load_explicit(&b->busy, memory_order_seq_cst))
			sched_yield();
	atomic_store_explicit(&cur, NULL, memory_order_release);
	trace_buf *list = bufs;
	bufs = NULL;
	nbufs = 0;
	session = NULL;
	/* An emitter that loaded s before the stop may still store into its
	 * buffer's busy word and read s->active (0, so it appends nothing):
	 * the session and buffer records stay allocated for good (small, one
	 * per session and thread); only the event blocks are freed. */
	int rc = write_trace(s, list, end);
	trace_buf *last = NULL;
	for (trace_buf *b = list; b; b = b->next) {
		for (trace_block *k = b->head, *kn; k; k = kn) {
			kn = k->next;
			munmap(k, sizeof *k);
		}
		b->head = b->tail = NULL;
		last = b;
	}
	if (last) {
		last->next = retired_bufs;
		retired_bufs = list;
	}
	s->retired_next = retired_sessions;
	retired_sessions = s;
	pthread_mutex_unlock(&session_mu);
	return rc;
}

void goc__trace_start_from_env(void)
{
	const char *path = getenv("GOC_TRACE");
	if (!path || !*path)
		return;
	int rc = goc_trace_start(path);
	if (rc && rc != GOC_EBUSY)
		fprintf(stderr, "goc: GOC_TRACE=%s: %s\n", path, goc_strerror(rc));
}

void goc__trace_stop_at_exit(void)
{
	if (!getenv("GOC_TRACE"))
		return; /* a trace started by goc_trace_start is the caller's to stop */
	int rc = goc_trace_stop();
	if (rc && rc != GOC_EPERM)
		fprintf(stderr, "goc: GOC_TRACE: writing the trace failed: %s\n", goc_strerror(rc));
}
