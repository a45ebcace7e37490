/* sync_errgroup.c - an errgroup with a context and a limit (docs/sync.md):
 * check 40 "files" in parallel, at most 4 at a time; file 13 is corrupt.
 * Its checker's error cancels the group's context, the checkers still
 * running stop early, and goc_errgroup_wait returns that first error. */
#include <goc.h>

#include <stdatomic.h>
#include <stdio.h>

enum { FILES = 40, LIMIT = 4, BAD = 13, CORRUPT = -1000 };

static goc_errgroup group;
static _Atomic int running, max_running, checked, stopped_early;

struct job { int file; };

static int check_file(void *arg)
{
	int file = ((struct job *)arg)->file;
	int now = atomic_fetch_add(&running, 1) + 1;
	int m = atomic_load(&max_running);
	while (now > m && !atomic_compare_exchange_weak(&max_running, &m, now))
		;
	int result = 0;
	goc_ctx *ctx = goc_errgroup_ctx(&group);
	for (int block = 0; block < 20; block++) {
		if (goc_ctx_err(ctx)) {            /* someone failed: stop */
			atomic_fetch_add(&stopped_early, 1);
			result = goc_ctx_err(ctx);
			break;
		}
		if (file == BAD && block == 3) {
			result = CORRUPT;
			break;
		}
		goc_yield();                       /* pretend to read a block */
	}
	if (result == 0)
		atomic_fetch_add(&checked, 1);
	atomic_fetch_sub(&running, 1);
	return result;
}

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	static struct job jobs[FILES];
	if (goc_errgroup_init_ctx(&group, NULL) != 0 || goc_errgroup_set_limit(&group, LIMIT) != 0)
		return 1;
	for (int i = 0; i < FILES; i++) {
		jobs[i].file = i;
		/* Blocks while LIMIT checkers run. */
		if (goc_errgroup_go(&group, check_file, &jobs[i]) != 0)
			return 1;
	}
	int err = goc_errgroup_wait(&group);
	printf("first error %d; %d files checked, %d checkers stopped early, at most %d at once\n",
	       err, atomic_load(&checked), atomic_load(&stopped_early), atomic_load(&max_running));
	return err == CORRUPT && atomic_load(&max_running) <= LIMIT &&
	               atomic_load(&checked) < FILES ? 0 : 1;
}

int main(int argc, char **argv)
{
	return goc_main(run, argc, argv);
}
