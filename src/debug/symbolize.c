/* symbolize.c - naming code addresses for dumps and traces, from the ELF
 * symbol tables of the loaded modules.
 *
 * dladdr (and backtrace_symbols, built on it) only sees exported dynamic
 * symbols: the functions of a program not linked with -rdynamic, and every
 * static function, come out as bare offsets. So each module (found with
 * dl_iterate_phdr) is mapped read-only from its file and its .symtab is
 * searched (its .dynsym when stripped). No DWARF: file:line of a frame is
 * left to addr2line, fed the module offset the dump prints.
 *
 * A goc__symctx lives for one report; it maps modules on first lookup and
 * unmaps them at the end. Not async-signal-safe. No locks: one owner. */
#define _GNU_SOURCE
#include "debug.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_MODULES 128

typedef struct sym_module {
	uintptr_t bias;        /* dlpi_addr: load address - link address */
	uintptr_t lo, hi;      /* run-time range of its PT_LOAD segments */
	char *path;
	bool tried;            /* the file was opened (or failed to) */
	void *map;
	size_t maplen;
	const ElfW(Sym) *syms;
	size_t nsyms;
	const char *strs;
	size_t strsize;
} sym_module;

struct goc__symctx {
	int n;
	sym_module m[MAX_MODULES];
};

static int add_module(struct dl_phdr_info *info, size_t size, void *arg)
{
	goc__symctx *c = arg;
	(void)size;
	if (c->n == MAX_MODULES)
		return 1;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t a = info->dlpi_addr + ph->p_vaddr;
		if (a < lo)
			lo = a;
		if (a + ph->p_memsz > hi)
			hi = a + ph->p_memsz;
	}
	if (lo >= hi)
		return 0;
	/* The executable comes first with an empty name. */
	const char *name = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name
	                   : c->n == 0                          ? "/proc/self/exe"
	                                                        : NULL;
	if (!name)
		return 0;
	sym_module *m = &c->m[c->n];
	memset(m, 0, sizeof *m);
	m->bias = info->dlpi_addr;
	m->lo = lo;
	m->hi = hi;
	char exe[4096];
	ssize_t len;
	if (strcmp(name, "/proc/self/exe") == 0 && (len = readlink(name, exe, sizeof exe - 1)) > 0) {
		exe[len] = 0; /* name the program in reports, open it by its path */
		name = exe;
	}
	m->path = strdup(name);
	if (!m->path)
		return 1;
	c->n++;
	return 0;
}

goc__symctx *goc__sym_new(void)
{
	goc__symctx *c = calloc(1, sizeof *c);
	if (c)
		dl_iterate_phdr(add_module, c);
	return c;
}

void goc__sym_free(goc__symctx *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->n; i++) {
		if (c->m[i].map)
			munmap(c->m[i].map, c->m[i].maplen);
		free(c->m[i].path);
	}
	free(c);
}

/* Map the module's file and find its symbol table; on any inconsistency
 * the module simply has no symbols. */
static void load_symbols(sym_module *m)
{
	m->tried = true;
	int fd = open(m->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(ElfW(Ehdr))) {
		close(fd);
		return;
	}
	size_t len = (size_t)st.st_size;
	void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return;
	m->map = map;
	m->maplen = len;
	const unsigned char *base = map;
	const ElfW(Ehdr) *eh = map;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_shentsize != sizeof(ElfW(Shdr)) ||
	    eh->e_shoff == 0 || eh->e_shoff > len || eh->e_shnum > (len - eh->e_shoff) / sizeof(ElfW(Shdr)))
		return;
	const ElfW(Shdr) *sh = (const ElfW(Shdr) *)(base + eh->e_shoff);
	const ElfW(Shdr) *symtab = NULL;
	for (int pass = 0; pass < 2 && !symtab; pass++) {
		ElfW(Word) want = pass == 0 ? SHT_SYMTAB : SHT_DYNSYM;
		for (int i = 0; i < eh->e_shnum; i++)
			if (sh[i].sh_type == want) {
				symtab = &sh[i];
				break;
			}
	}
	if (!symtab || symtab->sh_link >= eh->e_shnum || symtab->sh_entsize != sizeof(ElfW(Sym)))
		return;
	const ElfW(Shdr) *strtab = &sh[symtab->sh_link];
	if (symtab->sh_offset > len || symtab->sh_size > len - symtab->sh_offset || strtab->sh_offset > len ||
	    strtab->sh_size > len - strtab->sh_offset)
		return;
	m->syms = (const ElfW(Sym) *)(base + symtab->sh_offset);
	m->nsyms = symtab->sh_size / sizeof(ElfW(Sym));
	m->strs = (const char *)(base + strtab->sh_offset);
	m->strsize = strtab->sh_size;
}

bool goc__sym_lookup(goc__symctx *c, uintptr_t addr, const char **name, uintptr_t *off,
                     const char **module)
{
	*name = NULL;
	*module = NULL;
	*off = 0;
	if (!c)
		return false;
	sym_module *m = NULL;
	for (int i = 0; i < c->n; i++)
		if (addr >= c->m[i].lo && addr < c->m[i].hi) {
			m = &c->m[i];
			break;
		}
	if (!m)
		return false;
	*module = m->path;
	if (!m->tried)
		load_symbols(m);
	if (!m->syms)
		return false;
	uintptr_t rel = addr - m->bias;
	const ElfW(Sym) *best = NULL;
	bool best_inside = false;
	for (size_t i = 0; i < m->nsyms; i++) {
		const ElfW(Sym) *s = &m->syms[i];
		int type = ELF64_ST_TYPE(s->st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s->st_shndx == SHN_UNDEF ||
		    s->st_value > rel || s->st_name >= m->strsize)
			continue;
		bool inside = rel < s->st_value + s->st_size;
		/* Prefer a symbol whose extent holds addr; else the nearest
		 * one below (assembly without .size). */
		if (inside && (!best_inside || s->st_value > best->st_value)) {
			best = s;
			best_inside = true;
		} else if (!best_inside && (!best || s->st_value > best->st_value)) {
			best = s;
		}
	}
	if (!best)
		return false;
	*name = m->strs + best->st_name;
	*off = rel - best->st_value;
	return true;
}
