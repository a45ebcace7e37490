/* stack.c - goroutine stacks: one mmap per stack with a guard page.
 * (Placeholder allocator; slabs and canary-only stacks come next.) */
#include "stack.h"
#include "../internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CANARY 0x9e3779b97f4a7c15ull

static size_t page_size(void)
{
	static size_t ps;
	if (!ps)
		ps = (size_t)sysconf(_SC_PAGESIZE);
	return ps;
}

size_t goc__stack_default_size(void)
{
	static size_t def;
	if (!def) {
		size_t sz = 256 * 1024;
		const char *e = getenv("GOC_STACK_SIZE");
		if (e && *e) {
			long long v = atoll(e);
			if (v >= 16 * 1024 && v <= (1ll << 30))
				sz = (size_t)v;
		}
		def = (sz + page_size() - 1) & ~(page_size() - 1);
	}
	return def;
}

int goc__stack_alloc(goc__stack *s, size_t size)
{
	if (size == 0)
		size = goc__stack_default_size();
	if (size < 16 * 1024 || size > (1ull << 30))
		return GOC_EINVAL;
	size_t ps = page_size();
	size = (size + ps - 1) & ~(ps - 1);
	char *p = mmap(NULL, size + ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return GOC_ENOMEM;
	mprotect(p, ps, PROT_NONE);
	s->lo = p + ps;
	s->size = size;
	s->priv = p;
	goc__stack_canary_set(s);
	return 0;
}

void goc__stack_free(goc__stack *s)
{
	munmap(s->priv, s->size + page_size());
	s->lo = NULL;
}

bool goc__stack_canary_ok(const goc__stack *s)
{
	uint64_t v;
	memcpy(&v, s->lo, sizeof v);
	return v == CANARY;
}

void goc__stack_canary_set(goc__stack *s)
{
	uint64_t v = CANARY;
	memcpy(s->lo, &v, sizeof v);
}

bool goc__stack_guard_hit(const goc__stack *s, const void *addr)
{
	const char *a = addr;
	return a < s->lo && a >= s->lo - page_size();
}

void goc__stack_shutdown(void) {}
