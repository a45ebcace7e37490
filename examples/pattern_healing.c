/* pattern_healing.c - healing unhealthy goroutines
 * (docs/patterns/healing.md): a steward starts a ward goroutine and
 * watches its heartbeat; when the ward falls silent for longer than the
 * timeout, the steward closes the ward's done channel and starts a new
 * one. Here the ward sends the values of a list on a channel and "hangs"
 * (stops pulsing) on a value it cannot handle; each new incarnation
 * carries on after the bad value. */
#include "pattern_example.h"

#include <stdatomic.h>

typedef struct heal_env {
	const long *values;
	size_t n;
	_Atomic size_t next;        /* where the next incarnation carries on */
	goc_chan *out;              /* long */
} heal_env;

static void heal_ward(goc_chan *done, goc_heartbeat *hb, void *arg)
{
	heal_env *e = arg;
	size_t i;
	while ((i = atomic_load(&e->next)) < e->n) {
		long v = e->values[i];
		if (v < 0) {
			/* Cannot handle it: hang (no heartbeat) until replaced. */
			printf("  ward: stuck on %ld (no more heartbeats)\n", v);
			atomic_store(&e->next, i + 1);
			goc_recv(done, NULL);
			return;
		}
		goc_case cs[] = { goc_case_recv(done, NULL), goc_case_send(e->out, &v) };
		if (goc_heartbeat_select(hb, cs, 2) != 1)
			return; /* done */
		atomic_store(&e->next, i + 1);
	}
	goc_case cs[] = { goc_case_recv(done, NULL) };
	goc_heartbeat_select(hb, cs, 1); /* all sent: stay healthy until stopped */
}

static int pattern_healing(void)
{
	static const long values[] = { 1, 2, -1, 3, 4, -1, 5 };
	heal_env e = { values, sizeof values / sizeof values[0], 0, goc_chan_make(sizeof(long), 0) };
	goc_leakcheck_baseline();
	goc_steward *s = goc_steward_start(NULL, GOC_MS(100) * EXAMPLE_SLOWDOWN, heal_ward, &e);
	EXPECT(s != NULL);
	long v, sum = 0;
	for (int k = 0; k < 5; k++) {
		EXPECT(goc_recv_until(e.out, &v, goc_now() + GOC_SEC(5)) == 0);
		printf("  received %ld\n", v);
		sum += v;
	}
	uint64_t starts = goc_steward_starts(s);
	printf("  the steward started the ward %llu times (restarted it after each hang)\n",
	       (unsigned long long)starts);
	EXPECT(sum == 15 && starts >= 3); /* 3 unless a slow machine looked silent */
	EXPECT(goc_steward_stop(s, goc_now() + GOC_SEC(5)) == 0);
	goc_steward_release(s);
	EXPECT(goc_leakcheck(GOC_SEC(5)) == 0); /* every ward ended */
	goc_chan_release(e.out);
	return 0;
}

PATTERN_MAIN(pattern_healing)
