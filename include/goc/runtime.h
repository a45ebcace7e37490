/* goc/runtime.h - starting the runtime and spawning goroutines.
 *
 * A goroutine is a function running on its own small stack, multiplexed with
 * others onto a few worker threads (GOC_PROCS, default: the number of CPUs).
 * Goroutines are cheap (a few hundred ns, a few KiB) and park instead of
 * blocking their thread when they wait on a channel, timer, lock or fd.
 *
 * Every function here (and in the rest of goc) may also be called from a
 * thread goc did not start, and from a plain main() that never called
 * goc_main: the runtime starts on first use, and a wait there blocks that
 * OS thread (on a futex) instead of parking a goroutine.
 */
#ifndef GOC_RUNTIME_H
#define GOC_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Start the runtime, run fn(argc, argv) as the main goroutine and return its
 * result once it returns. Workers are then stopped and the runtime's memory
 * freed; goroutines still alive are abandoned (like Go, where returning from
 * main ends them); with GOC_DEBUG=leaks they are listed on stderr first.
 * Returns GOC_EBUSY if the runtime is already running goc_main. */
int goc_main(int (*fn)(int argc, char **argv), int argc, char **argv);

/* Spawn fn(arg) as a new goroutine. Returns 0, GOC_EINVAL for a NULL fn, or
 * GOC_ENOMEM; never aborts. The caller keeps ownership of *arg: it must stay
 * valid for as long as the goroutine uses it (see goc_go_copy). The macro
 * form records the creation site for dumps and leak reports. A goroutine
 * that spawns much faster than the workers can start what it spawns (4096
 * waiting in the global queue) is put behind them before goc_go returns, as
 * Go's preemption would: a spawning loop of short goroutines never piles up
 * millions of unstarted ones. If most of those it stepped behind park
 * instead of finishing, it runs on without stepping behind again until it
 * parks itself (their running early would only tie up a stack each). */
int goc_go(void (*fn)(void *arg), void *arg);

/* Spawn fn(copy) where copy is a private copy of size bytes at arg, owned and
 * freed by the runtime when the goroutine ends: confinement by copying, so a
 * loop variable or a dying stack frame can be passed safely. size may be 0
 * (fn then gets NULL). Errors as goc_go. */
int goc_go_copy(void (*fn)(void *arg), const void *arg, size_t size);

/* Options for goc_go_with. Zero-initialise, then set what you need. */
typedef struct goc_go_attr {
	size_t stack_size;  /* usable stack bytes; 0: the default (GOC_STACK_SIZE
	                       env, else 256 KiB). Rounded up to pages; between
	                       16 KiB and 1 GiB or GOC_EINVAL. */
	const char *name;   /* optional label shown in dumps (not copied) */
} goc_go_attr;

/* Spawn with options; copies size bytes of arg as goc_go_copy does when
 * size > 0, else passes arg itself. attr may be NULL. */
int goc_go_with(const goc_go_attr *attr, void (*fn)(void *arg), const void *arg, size_t size);

/* Let other goroutines run; the caller stays runnable. On a foreign thread it
 * yields the OS thread (sched_yield). */
void goc_yield(void);

/* Set the number of worker threads running goroutines when n > 0 (before or
 * after start); returns the previous number. n <= 0 only queries. */
int goc_procs(int n);

/* Wire the calling goroutine to the OS thread it is running on until
 * goc_unlock_thread: no other goroutine runs on that thread meanwhile, and
 * this one only runs there (for libraries with thread-local state). Calls
 * nest. GOC_EPERM outside a goroutine / when not locked. */
int goc_lock_thread(void);
int goc_unlock_thread(void);

/* Run fn(arg), a call that may block its OS thread (file I/O, DNS, a
 * database client, a long computation), without stalling other goroutines:
 * while it runs, the worker's processor is handed to another thread if work
 * is waiting. Returns fn's result. Inside fn, goc waits block the thread (as
 * on a foreign thread) and goc_yield yields the thread; a nested
 * goc_blocking simply calls its fn. From a foreign thread it simply calls
 * fn. */
void *goc_blocking(void *(*fn)(void *arg), void *arg);

/* The calling goroutine's id (1 is the first goroutine), 0 on a foreign
 * thread. Ids are never reused. */
uint64_t goc_id(void);

/* Source-site recording: the function forms stay callable as (goc_go)(...).
 * Each call site gets one static goc__site (GOC__SITE, a GNU C statement
 * expression, as gcc and clang accept also in C++): a goroutine records a
 * pointer to it, one store at spawn instead of three. */
typedef struct goc__site {
	const char *file;
	const char *func;
	int line;
} goc__site;
#define GOC__SITE() \
	(__extension__({ static const goc__site goc__site_ = {__FILE__, __func__, __LINE__}; &goc__site_; }))
int goc__go_at(const goc_go_attr *attr, void (*fn)(void *), const void *arg, size_t size,
               bool copy, const goc__site *site);
#define goc_go(fn, arg) goc__go_at(NULL, (fn), (arg), 0, false, GOC__SITE())
#define goc_go_copy(fn, arg, size) goc__go_at(NULL, (fn), (arg), (size), true, GOC__SITE())
#define goc_go_with(attr, fn, arg, size) goc__go_at((attr), (fn), (arg), (size), (size) > 0, GOC__SITE())

#ifdef __cplusplus
}
#endif
#endif
