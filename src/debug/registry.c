/* registry.c - reading the goroutine registry: snapshots of live Gs, the
 * frame-pointer walk of a parked goroutine's stack, and the dump format.
 *
 * The registry is sched's: every G ever allocated sits in a slot of a G
 * chunk (proc.c, "G allocation"); chunks are never freed while the runtime
 * lives and are only ever prepended, under glock. A slot whose status is
 * G_IDLE or G_DEAD is free. So a reader takes glock just long enough to read
 * the list head, then walks the chunks without any lock, reading each
 * chunk's `published` count with acquire (pairs with the release in
 * g_arena_alloc) and each G's fields racily: the owner writes them without
 * telling us. Invariants the readers rely on instead of locks:
 *  - a snapshot is validated by re-reading the slot's id and status after
 *    copying it: a slot recycled meanwhile (new id) or freed is dropped;
 *  - a stack walk reads memory with process_vm_readv, which fails cleanly
 *    (EFAULT) where a direct read could fault, and is trusted only if the
 *    goroutine was parked at the same saved stack pointer before and after.
 * The racy readers are exempt from TSan (GOC__NO_TSAN): these races are the
 * design, and they read words, never pointers they then follow unchecked.
 * Lock order: glock only, briefly (callers may hold sched.lock). */
#define _GNU_SOURCE
#include "debug.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

int64_t goc__debug_coarse_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- snapshots ---------------------------------------------------------- */

/* Copy g's record into *s; false if the slot is free. Racy on purpose. */
GOC__NO_TSAN static bool snap_one(const goc__g *g, goc__gsnap *s)
{
	goc__g *w = (goc__g *)g;
	uint32_t st = atomic_load_explicit(&w->status, memory_order_acquire);
	if (st == G_IDLE || st == G_DEAD)
		return false;
	s->g = g;
	s->id = g->id;
	s->status = st;
	s->parent_id = g->parent_id;
	s->wait_reason = atomic_load_explicit(&w->wait_reason, memory_order_relaxed);
	s->wait_obj = g->wait_obj;
	s->wait_since = g->wait_since;
	s->created_at = g->created_at;
	s->file = g->site ? g->site->file : NULL;
	s->func = g->site ? g->site->func : NULL;
	s->name = g->name;
	s->line = g->site ? g->site->line : 0;
	s->fn = g->fn;
#if defined(GOC__ARCH_ASM)
	s->sp = g->ctx.sp;
#else
	s->sp = NULL;
#endif
	s->stack_lo = g->stack.lo;
	s->stack_size = g->stack.size;
	/* The slot may have been recycled while we copied: drop it then. */
	uint32_t st2 = atomic_load_explicit(&w->status, memory_order_acquire);
	return g->id == s->id && st2 != G_IDLE && st2 != G_DEAD;
}

/* Is the goroutine still parked where the snapshot saw it? */
GOC__NO_TSAN static bool still_parked_at(const goc__gsnap *s)
{
	goc__g *w = (goc__g *)s->g;
	uint32_t st = atomic_load_explicit(&w->status, memory_order_acquire);
#if defined(GOC__ARCH_ASM)
	void *sp = s->g->ctx.sp;
#else
	void *sp = NULL;
#endif
	return s->g->id == s->id && st == s->status && sp == s->sp;
}

static int by_id(const void *a, const void *b)
{
	uint64_t x = ((const goc__gsnap *)a)->id, y = ((const goc__gsnap *)b)->id;
	return x < y ? -1 : x > y;
}

goc__gsnap *goc__debug_snapshot(int64_t *n)
{
	*n = 0;
	if (!atomic_load_explicit(&goc__s.started, memory_order_acquire))
		return NULL;
	goc__lock_acquire(&goc__s.glock);
	goc__gchunk *head = goc__s.gchunks;
	goc__lock_release(&goc__s.glock);
	int64_t cap = 0;
	for (goc__gchunk *c = head; c; c = c->next)
		cap += atomic_load_explicit(&c->published, memory_order_acquire);
	if (cap == 0)
		return NULL;
	/* Slots published after the count are newer than this snapshot. */
	goc__gsnap *v = malloc((size_t)cap * sizeof *v);
	if (!v) {
		*n = -1;
		return NULL;
	}
	int64_t k = 0;
	for (goc__gchunk *c = head; c && k < cap; c = c->next) {
		int32_t used = atomic_load_explicit(&c->published, memory_order_acquire);
		for (int32_t i = 0; i < used && k < cap; i++)
			if (snap_one(&c->g[i], &v[k]))
				k++;
	}
	if (k == 0) {
		free(v);
		return NULL;
	}
	qsort(v, (size_t)k, sizeof *v, by_id);
	*n = k;
	return v;
}

bool goc__debug_is_main(const goc__gsnap *s)
{
	/* goc_main spawns its main goroutine with this pseudo creation site. */
	return s->parent_id == 0 && s->file && s->line == 0 && strcmp(s->file, "goc_main") == 0;
}

/* ---- stack walks -------------------------------------------------------- */

/* Where goc__ctx_switch leaves the caller's frame pointer, with the return
 * address in the next word (src/arch/switch_*.S). */
#if defined(__x86_64__)
#define SAVED_FP_OFFSET 48
#define SAVED_BYTES 64
#elif defined(__aarch64__)
#define SAVED_FP_OFFSET 80
#define SAVED_BYTES 176
#endif

/* Direct copy, for kernels or sandboxes without process_vm_readv: the
 * stack may hold ASan redzones, which are not ours to trip over. */
__attribute__((no_sanitize_address)) GOC__NO_TSAN static void copy_words(uintptr_t addr, uintptr_t *out, int n)
{
	const volatile uintptr_t *p = (const volatile uintptr_t *)addr;
	for (int i = 0; i < n; i++)
		out[i] = p[i];
}

static _Atomic int read_mode; /* 0 untried, 1 process_vm_readv works, 2 direct reads */

static bool read_words(uintptr_t addr, uintptr_t *out, int n)
{
	int mode = atomic_load_explicit(&read_mode, memory_order_relaxed);
	if (mode != 2) {
		struct iovec local = {out, (size_t)n * sizeof *out};
		struct iovec remote = {(void *)addr, local.iov_len};
		ssize_t r = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
		if (r == (ssize_t)local.iov_len) {
			if (mode == 0)
				atomic_store_explicit(&read_mode, 1, memory_order_relaxed);
			return true;
		}
		if (mode == 1 || r >= 0 || (errno != ENOSYS && errno != EPERM))
			return false; /* the memory is gone: end the walk */
		atomic_store_explicit(&read_mode, 2, memory_order_relaxed);
	}
	copy_words(addr, out, n);
	return true;
}

int goc__debug_backtrace(const goc__gsnap *s, size_t lo_slack, uintptr_t *pcs, int max)
{
#if defined(SAVED_FP_OFFSET)
	if (max <= 0 || !s->stack_lo || !s->sp || (s->status != G_WAITING && s->status != G_RUNNABLE))
		return 0;
	uintptr_t lo = (uintptr_t)s->stack_lo - lo_slack;
	uintptr_t hi = (uintptr_t)s->stack_lo + s->stack_size;
	uintptr_t sp = (uintptr_t)s->sp;
	if (sp < lo || sp + SAVED_BYTES > hi || (sp & 7))
		return 0;
	uintptr_t fr[2];
	if (!read_words(sp + SAVED_FP_OFFSET, fr, 2))
		return 0;
	int n = 0;
	pcs[n++] = fr[1];
	uintptr_t fp = fr[0];
	/* Each frame record is {caller's fp, return address}; frames live at
	 * rising addresses, so a chain that does not rise is corrupt. */
	while (n < max && fp >= sp && fp + 16 <= hi && !(fp & 7)) {
		if (!read_words(fp, fr, 2) || fr[1] == 0)
			break;
		pcs[n++] = fr[1];
		if (fr[0] <= fp)
			break;
		fp = fr[0];
	}
	return n;
#else
	(void)s;
	(void)lo_slack;
	(void)pcs;
	(void)max;
	return 0;
#endif
}

/* ---- formatting ----------------------------------------------------------- */

void goc__debug_fmt_duration(char *buf, size_t size, int64_t ns)
{
	if (ns < 0)
		ns = 0;
	if (ns < 1000000)
		snprintf(buf, size, "<1 ms"); /* the coarse clock's resolution is ~4 ms */
	else if (ns < 1000000000)
		snprintf(buf, size, "%lld ms", (long long)(ns / 1000000));
	else if (ns < (int64_t)120 * 1000000000)
		snprintf(buf, size, "%.3f s", (double)ns / 1e9);
	else
		snprintf(buf, size, "%lld minutes", (long long)(ns / 60000000000));
}

const char *goc__debug_state_name(const goc__gsnap *s)
{
	switch (s->status) {
	case G_RUNNABLE: return "runnable";
	case G_RUNNING: return "running";
	case G_SYSCALL: return "blocking call";
	case G_WAITING:
		if (s->wait_reason > GOC__WAIT_NONE && s->wait_reason < GOC__WAIT_COUNT)
			return goc__wait_reason_name(s->wait_reason);
		return "waiting";
	}
	return "?";
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

static void print_frame(FILE *out, int i, uintptr_t pc, goc__symctx *sym)
{
	const char *name = NULL, *module = NULL;
	uintptr_t off = 0;
	/* A return address may be one past the call's function (a call
	 * ending it): look up pc - 1, print pc. */
	bool found = sym && goc__sym_lookup(sym, pc - 1, &name, &off, &module);
	fprintf(out, "      #%-2d 0x%016llx", i, (unsigned long long)pc);
	if (found)
		fprintf(out, " %s+0x%llx", name, (unsigned long long)(off + 1));
	if (module)
		fprintf(out, "  [%s]", base_name(module));
	fputc('\n', out);
}

/* The innermost frames are the runtime parking the goroutine (goc__park,
 * the switch); the outermost is the entry trampoline. Go hides its own
 * runtime frames the same way. Returns the first frame worth showing. */
static bool is_runtime_frame(goc__symctx *sym, uintptr_t pc)
{
	const char *name = NULL, *module = NULL;
	uintptr_t off;
	if (!sym || !goc__sym_lookup(sym, pc - 1, &name, &off, &module))
		return false;
	return strncmp(name, "goc__", 5) == 0 || strcmp(name, "g_entry") == 0 ||
	       strcmp(name, "park_commit") == 0;
}

#define BT_MAX 64

void goc__debug_print_g(FILE *out, const goc__gsnap *s, int64_t now, goc__symctx *sym, bool backtrace)
{
	char dur[32];
	fprintf(out, "goroutine %llu", (unsigned long long)s->id);
	if (s->name)
		fprintf(out, " \"%s\"", s->name);
	fprintf(out, " [%s", goc__debug_state_name(s));
	if (s->status == G_WAITING || s->status == G_SYSCALL) {
		goc__debug_fmt_duration(dur, sizeof dur, now - s->wait_since);
		fprintf(out, ", %s", dur);
	}
	fprintf(out, "]:\n");

	const char *fname = NULL, *module = NULL;
	uintptr_t off = 0;
	if (sym && s->fn && goc__sym_lookup(sym, (uintptr_t)s->fn, &fname, &off, &module) && off == 0)
		fprintf(out, "    function %s\n", fname);
	goc__debug_fmt_duration(dur, sizeof dur, now - s->created_at);
	if (goc__debug_is_main(s))
		fprintf(out, "    main goroutine, started by goc_main %s ago\n", dur);
	else if (s->file)
		fprintf(out, "    created by goroutine %llu at %s:%d in %s, %s ago\n",
		        (unsigned long long)s->parent_id, s->file, s->line, s->func ? s->func : "?", dur);
	else
		fprintf(out, "    created by goroutine %llu (no creation site: goc_go called through a pointer), %s ago\n",
		        (unsigned long long)s->parent_id, dur);
	if (s->status == G_WAITING && s->wait_obj)
		fprintf(out, "    waiting on %p\n", s->wait_obj);
	if (!backtrace)
		return;

	uintptr_t pcs[BT_MAX];
	int n = goc__debug_backtrace(s, 0, pcs, BT_MAX);
	if (n == 0)
		return;
	if (!still_parked_at(s)) {
		fprintf(out, "    (it ran while its stack was being read: no backtrace)\n");
		return;
	}
	int first = 0, last = n;
	while (first < n - 1 && is_runtime_frame(sym, pcs[first]))
		first++;
	while (last > first + 1 && is_runtime_frame(sym, pcs[last - 1]))
		last--;
	fprintf(out, "    backtrace:\n");
	for (int i = first; i < last; i++)
		print_frame(out, i - first, pcs[i], sym);
	if (n == BT_MAX)
		fprintf(out, "      ... (more frames)\n");
}

void goc__debug_dump_to(FILE *out, const char *header)
{
	int64_t n;
	goc__gsnap *v = goc__debug_snapshot(&n);
	int64_t now = goc__debug_coarse_now();
	if (header)
		fprintf(out, "%s\n", header);
	if (n < 0) {
		fprintf(out, "goc: dump: out of memory\n");
		fflush(out);
		return;
	}
	fprintf(out, "goroutine dump: %lld goroutine%s\n\n", (long long)n, n == 1 ? "" : "s");
	goc__symctx *sym = goc__sym_new();
	for (int64_t i = 0; i < n; i++) {
		goc__debug_print_g(out, &v[i], now, sym, true);
		fputc('\n', out);
	}
	goc__sym_free(sym);
	free(v);
	fflush(out);
}

void goc_dump(FILE *out)
{
	goc__debug_dump_to(out ? out : stderr, NULL);
}
