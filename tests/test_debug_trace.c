/* test_debug_trace.c - GOC_TRACE=file.json and goc_trace_start/stop write
 * a valid Chrome trace: the file parses as JSON (a strict checker below, RFC
 * 8259 grammar), every event has the fields the format requires, and the
 * counts of spawn, exit, run and block events match what the traced
 * program did. The traced program is the three-stage pipeline of
 * docs/examples/debug_trace.c (included below): under GOC_TRACE in a child
 * process (this binary re-executed with "pipeline"), and as the example
 * itself runs it, between goc_trace_start and goc_trace_stop. */
#include "test_debug_util.h"

#include <goc.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The example's pipeline (stage, generate, square, sum_of_squares) and its
 * goc_main function, run (N = 100 numbers); not its main. */
#define DEBUG_TRACE_NO_MAIN
#include "../docs/examples/debug_trace.c"

/* ---- a strict JSON checker that also reads trace events --------------------
 * Parses one value; for each object directly inside the "traceEvents"
 * array it records the string members ph, cat, name and whether ts, pid,
 * tid (numbers) are present. */

typedef struct ev_info {
	char ph[4], cat[16], name[96], reason[32];
	bool has_ts, has_pid, has_tid, has_dur;
	double dur;
} ev_info;

typedef struct jp {
	const char *s;
	size_t i, n;
	const char *err;
	int depth;
	/* trace events */
	ev_info *ev;
	size_t nev, cap;
	bool in_events;     /* parsing the traceEvents array */
	ev_info *cur;       /* event object being read (depth 3) */
} jp;

static bool value(jp *p);

static void ws(jp *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\n' || p->s[p->i] == '\r' || p->s[p->i] == '\t'))
		p->i++;
}

static bool fail(jp *p, const char *why)
{
	if (!p->err)
		p->err = why;
	return false;
}

/* A string; its (unescaped-enough) text is copied into out when given. */
static bool string(jp *p, char *out, size_t size)
{
	if (p->i >= p->n || p->s[p->i] != '"')
		return fail(p, "expected a string");
	p->i++;
	size_t k = 0;
	while (p->i < p->n && p->s[p->i] != '"') {
		unsigned char c = (unsigned char)p->s[p->i];
		if (c < 0x20)
			return fail(p, "control character in a string");
		if (c == '\\') {
			p->i++;
			if (p->i >= p->n)
				return fail(p, "truncated escape");
			c = (unsigned char)p->s[p->i];
			if (c == 'u') {
				for (int j = 1; j <= 4; j++)
					if (p->i + j >= p->n || !isxdigit((unsigned char)p->s[p->i + j]))
						return fail(p, "bad \\u escape");
				p->i += 4;
				c = '?';
			} else if (!strchr("\"\\/bfnrt", c)) {
				return fail(p, "bad escape");
			}
		}
		if (out && k + 1 < size)
			out[k++] = (char)c;
		p->i++;
	}
	if (p->i >= p->n)
		return fail(p, "unterminated string");
	p->i++;
	if (out)
		out[k] = 0;
	return true;
}

static bool number(jp *p, double *out)
{
	size_t start = p->i;
	if (p->i < p->n && p->s[p->i] == '-')
		p->i++;
	if (p->i >= p->n || !isdigit((unsigned char)p->s[p->i]))
		return fail(p, "bad number");
	if (p->s[p->i] == '0')
		p->i++;
	else
		while (p->i < p->n && isdigit((unsigned char)p->s[p->i]))
			p->i++;
	if (p->i < p->n && p->s[p->i] == '.') {
		p->i++;
		if (p->i >= p->n || !isdigit((unsigned char)p->s[p->i]))
			return fail(p, "bad fraction");
		while (p->i < p->n && isdigit((unsigned char)p->s[p->i]))
			p->i++;
	}
	if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		if (p->i >= p->n || !isdigit((unsigned char)p->s[p->i]))
			return fail(p, "bad exponent");
		while (p->i < p->n && isdigit((unsigned char)p->s[p->i]))
			p->i++;
	}
	if (out)
		*out = strtod(p->s + start, NULL);
	return true;
}

static bool literal(jp *p, const char *word)
{
	size_t len = strlen(word);
	if (p->n - p->i < len || memcmp(p->s + p->i, word, len) != 0)
		return fail(p, "bad literal");
	p->i += len;
	return true;
}

static bool object(jp *p)
{
	p->i++; /* { */
	p->depth++;
	bool is_event = p->in_events && p->depth == 3; /* top object, traceEvents array, event */
	if (is_event) {
		if (p->nev == p->cap) {
			p->cap = p->cap ? 2 * p->cap : 1024;
			p->ev = realloc(p->ev, p->cap * sizeof *p->ev);
			CHECK(p->ev != NULL);
		}
		p->cur = &p->ev[p->nev++];
		memset(p->cur, 0, sizeof *p->cur);
	}
	ws(p);
	if (p->i < p->n && p->s[p->i] == '}') {
		p->i++;
		p->depth--;
		return true;
	}
	for (;;) {
		ws(p);
		char key[32];
		if (!string(p, key, sizeof key))
			return false;
		ws(p);
		if (p->i >= p->n || p->s[p->i] != ':')
			return fail(p, "expected ':'");
		p->i++;
		ws(p);
		ev_info *e = p->cur;
		bool top_events = p->depth == 1 && strcmp(key, "traceEvents") == 0;
		if (is_event && p->i < p->n && p->s[p->i] == '"' &&
		    (!strcmp(key, "ph") || !strcmp(key, "cat") || !strcmp(key, "name"))) {
			char *dst = !strcmp(key, "ph") ? e->ph : !strcmp(key, "cat") ? e->cat : e->name;
			size_t size = !strcmp(key, "ph") ? sizeof e->ph : !strcmp(key, "cat") ? sizeof e->cat : sizeof e->name;
			if (!string(p, dst, size))
				return false;
		} else if (is_event && p->i < p->n && (p->s[p->i] == '-' || isdigit((unsigned char)p->s[p->i])) &&
		           (!strcmp(key, "ts") || !strcmp(key, "pid") || !strcmp(key, "tid") || !strcmp(key, "dur"))) {
			double v;
			if (!number(p, &v))
				return false;
			if (!strcmp(key, "ts"))
				e->has_ts = true;
			else if (!strcmp(key, "pid"))
				e->has_pid = true;
			else if (!strcmp(key, "tid"))
				e->has_tid = true;
			else {
				e->has_dur = true;
				e->dur = v;
			}
		} else if (p->depth == 4 && p->cur && !strcmp(key, "reason") && p->i < p->n && p->s[p->i] == '"') {
			if (!string(p, p->cur->reason, sizeof p->cur->reason))
				return false;
		} else {
			if (top_events)
				p->in_events = true;
			if (!value(p))
				return false;
			if (top_events)
				p->in_events = false;
		}
		ws(p);
		if (p->i < p->n && p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->i < p->n && p->s[p->i] == '}') {
			p->i++;
			p->depth--;
			if (is_event)
				p->cur = NULL;
			return true;
		}
		return fail(p, "expected ',' or '}'");
	}
}

static bool array(jp *p)
{
	p->i++; /* [ */
	p->depth++;
	ws(p);
	if (p->i < p->n && p->s[p->i] == ']') {
		p->i++;
		p->depth--;
		return true;
	}
	for (;;) {
		ws(p);
		if (!value(p))
			return false;
		ws(p);
		if (p->i < p->n && p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->i < p->n && p->s[p->i] == ']') {
			p->i++;
			p->depth--;
			return true;
		}
		return fail(p, "expected ',' or ']'");
	}
}

static bool value(jp *p)
{
	ws(p);
	if (p->i >= p->n)
		return fail(p, "unexpected end");
	switch (p->s[p->i]) {
	case '{': return object(p);
	case '[': return array(p);
	case '"': return string(p, NULL, 0);
	case 't': return literal(p, "true");
	case 'f': return literal(p, "false");
	case 'n': return literal(p, "null");
	default: return number(p, NULL);
	}
}

/* Parse a whole document; exits with a message if it is not valid JSON. */
static jp parse_trace(const char *text)
{
	jp p = {.s = text, .n = strlen(text)};
	bool ok = value(&p);
	ws(&p);
	if (!ok || p.i != p.n) {
		fprintf(stderr, "invalid JSON at byte %zu: %s\n%.200s\n", p.i, p.err ? p.err : "trailing data",
		        text + (p.i > 100 ? p.i - 100 : 0));
		exit(1);
	}
	return p;
}

static size_t count(const jp *p, const char *ph, const char *cat)
{
	size_t n = 0;
	for (size_t i = 0; i < p->nev; i++)
		if (!strcmp(p->ev[i].ph, ph) && (!cat || !strcmp(p->ev[i].cat, cat)))
			n++;
	return n;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)len + 1);
	CHECK(buf != NULL);
	CHECK_EQ(fread(buf, 1, (size_t)len, f), len);
	buf[len] = 0;
	fclose(f);
	return buf;
}

/* Every event has ph, pid and tid; non-metadata events have ts; complete
 * events have a non-negative dur. */
static void check_event_fields(const jp *p)
{
	for (size_t i = 0; i < p->nev; i++) {
		const ev_info *e = &p->ev[i];
		bool ok = e->ph[0] && e->has_pid && e->has_tid && (e->has_ts || !strcmp(e->ph, "M")) &&
		          (strcmp(e->ph, "X") != 0 || (e->has_dur && e->dur >= 0)) && e->name[0];
		if (!ok) {
			fprintf(stderr, "event %zu lacks a field: ph=%s name=%s\n", i, e->ph, e->name);
			exit(1);
		}
	}
}

/* ---- the traced program: the example's pipeline ------------------------ */

#define ITEMS 200

static void *slow(void *arg)
{
	usleep(1000);
	return arg;
}

static int pipeline(int argc, char **argv)
{
	long sum = sum_of_squares(ITEMS);
	goc_blocking(slow, NULL);
	goc_sleep(GOC_MS(2)); /* the stages' exit events are in before the trace ends */
	printf("%ld\n", sum);
	return 0;
}

/* Run slices carry the goroutine's entry function in their names. */
static bool saw_stage_runs(const jp *p)
{
	bool saw_square = false, saw_generate = false;
	for (size_t i = 0; i < p->nev; i++) {
		if (strcmp(p->ev[i].cat, "run") != 0)
			continue;
		saw_square |= strstr(p->ev[i].name, " square") != NULL;
		saw_generate |= strstr(p->ev[i].name, " generate") != NULL;
	}
	return saw_square && saw_generate;
}

/* ---- tests ----------------------------------------------------------------- */

static void test_goc_trace_env_writes_a_valid_chrome_trace_of_a_pipeline(void)
{
	char path[64];
	snprintf(path, sizeof path, "/tmp/goc_trace_%d.json", (int)getpid());
	char env[96];
	snprintf(env, sizeof env, "GOC_TRACE=%s", path);
	const char *envs[] = {env, NULL};
	child_result r = run_child("pipeline", envs, 60);
	long want = 0;
	for (long i = 1; i <= ITEMS; i++)
		want += i * i;
	char want_out[32];
	snprintf(want_out, sizeof want_out, "%ld\n", want);
	if (!child_exited_with(&r, 0) || strcmp(r.out, want_out) != 0) {
		child_print("pipeline", &r);
		exit(1);
	}
	child_free(&r);
	char *text = read_file(path);
	unlink(path);
	jp p = parse_trace(text);
	check_event_fields(&p);
	/* Goroutines: main, generate, square. Each was spawned once (after
	 * the trace started) and ran at least once; generate and square
	 * exited before the trace ended; main's exit races with the writing
	 * (goc_main's thread writes once main's function has returned). */
	CHECK_EQ(count(&p, "i", "spawn"), 3);
	size_t exits = count(&p, "i", "exit");
	CHECK(exits == 2 || exits == 3);
	CHECK(count(&p, "X", "run") >= 3);
	CHECK_EQ(count(&p, "X", "blocking"), 1);
	/* An unbuffered pipeline of ITEMS values: the stages block on their
	 * channels many times, and every block names its reason. */
	size_t blocks = count(&p, "i", "block"), chan_blocks = 0;
	for (size_t i = 0; i < p.nev; i++)
		if (!strcmp(p.ev[i].cat, "block") &&
		    (!strcmp(p.ev[i].reason, "chan send") || !strcmp(p.ev[i].reason, "chan receive")))
			chan_blocks++;
	CHECK(blocks >= ITEMS / 2);
	CHECK(chan_blocks >= ITEMS / 2);
	CHECK(count(&p, "i", "unblock") >= ITEMS / 2);
	CHECK(saw_stage_runs(&p));
	/* One named track per thread that reported events. */
	size_t tracks = 0;
	for (size_t i = 0; i < p.nev; i++)
		if (!strcmp(p.ev[i].ph, "M") && !strcmp(p.ev[i].name, "thread_name"))
			tracks++;
	CHECK(tracks >= 1);
	free(p.ev);
	free(text);
}

static void add_one(void *arg)
{
	goc_chan *c = arg;
	int v = 1;
	goc_send(c, &v);
}

static int api_main(int argc, char **argv)
{
	char path[64];
	snprintf(path, sizeof path, "/tmp/goc_trace_api_%d.json", (int)getpid());
	CHECK_EQ(goc_trace_stop(), GOC_EPERM);
	CHECK_EQ(goc_trace_start(NULL), GOC_EINVAL);
	CHECK_EQ(goc_trace_start("/nonexistent-dir/x.json"), -ENOENT);
	CHECK_EQ(goc_trace_start(path), 0);
	CHECK_EQ(goc_trace_start(path), GOC_EBUSY);
	goc_chan *c = goc_chan_make(sizeof(int), 0);
	enum { SENDERS = 10 };
	for (int i = 0; i < SENDERS; i++)
		CHECK_EQ(goc_go(add_one, c), 0);
	for (int i = 0; i < SENDERS; i++) {
		int v;
		CHECK_EQ(goc_recv(c, &v), 0);
	}
	CHECK_EQ(goc_leakcheck(GOC_SEC(10)), 0); /* every exit event is in */
	CHECK_EQ(goc_trace_stop(), 0);
	CHECK_EQ(goc_trace_stop(), GOC_EPERM);
	goc_chan_release(c);
	char *text = read_file(path);
	unlink(path);
	jp p = parse_trace(text);
	check_event_fields(&p);
	CHECK_EQ(count(&p, "i", "spawn"), SENDERS);
	CHECK_EQ(count(&p, "i", "exit"), SENDERS);
	CHECK(count(&p, "X", "run") >= SENDERS);
	free(p.ev);
	free(text);
	return 0;
}

static void test_trace_start_and_stop_record_between_them(void)
{
	CHECK_EQ(run_main_procs_1_and_2(api_main, 0, NULL), 0);
}

/* The documented example, run as it runs (its goc_main function with a
 * file name), writes a valid trace of its two stages. */
static void test_the_documented_example_writes_a_valid_trace(void)
{
	char path[64];
	snprintf(path, sizeof path, "/tmp/goc_trace_doc_%d.json", (int)getpid());
	char *argv[] = {"debug_trace", path, NULL};
	CHECK_EQ(run_main_procs_1_and_2(run, 2, argv), 0); /* the file of the last run stays */
	char *text = read_file(path);
	unlink(path);
	jp p = parse_trace(text);
	check_event_fields(&p);
	CHECK_EQ(count(&p, "i", "spawn"), 2); /* generate and square */
	CHECK(count(&p, "X", "run") >= 2);
	CHECK(count(&p, "i", "block") >= 1);
	CHECK(saw_stage_runs(&p));
	free(p.ev);
	free(text);
}

static void test_the_checker_rejects_invalid_json(void)
{
	/* The checker must be strict for the tests above to mean anything:
	 * run it on broken documents in child processes. */
	const char *bad[] = {"{\"a\":1,}", "[1 2]", "{\"a\":tru}", "{\"a\":\"x\n\"}", "{\"a\":01}", "[", NULL};
	for (const char **b = bad; *b; b++) {
		fflush(stderr);
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			freopen("/dev/null", "w", stderr);
			jp p = parse_trace(*b);
			(void)p;
			_exit(0);
		}
		int status;
		CHECK_EQ(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 1) {
			fprintf(stderr, "checker accepted %s\n", *b);
			exit(1);
		}
	}
	jp p = parse_trace("{\"traceEvents\":[{\"ph\":\"i\",\"name\":\"x\",\"pid\":1,\"tid\":2,\"ts\":1.5e3}],\"n\":null}");
	CHECK_EQ(p.nev, 1);
	CHECK(p.ev[0].has_ts && p.ev[0].has_tid && !strcmp(p.ev[0].ph, "i"));
	free(p.ev);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "pipeline") == 0)
		return goc_main(pipeline, argc, argv);
	check_watchdog(120);
	RUN(test_the_checker_rejects_invalid_json);
	RUN(test_goc_trace_env_writes_a_valid_chrome_trace_of_a_pipeline);
	RUN(test_trace_start_and_stop_record_between_them);
	RUN(test_the_documented_example_writes_a_valid_trace);
	return 0;
}
