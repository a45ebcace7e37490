/* testing_race.c - a check-then-act race, found by exploring schedules.
 *
 * A registry of user names is guarded by a mutex, but register_buggy checks
 * and inserts in two critical sections with a round trip to a validator
 * goroutine in between. Two clients registering the same name can both pass
 * the check: the name ends up in the registry twice. Whether they do depends
 * on the interleaving, so a plain run may well pass; goc_explore runs the
 * program under seed after seed until one fails, and prints that seed.
 * register_fixed keeps the mutex across check, validation and insert
 * (goc_mutex parks the goroutine, so holding it across a channel round trip
 * is fine), and passes every seed.
 *
 * main (testing_main.h) explores both versions over RUNS (100) seeds and
 * exits 0 when a seed fails the first and every seed passes the fix.
 */
#include <goc.h>
#include <stdio.h>
#include <string.h>

#include "testing_main.h"

typedef struct registry {
	goc_mutex mu;
	const char *names[8];
	int n;
} registry;

typedef struct request {
	const char *name;
	goc_chan *reply; /* bool: the name is acceptable */
} request;

static registry reg = {GOC_MUTEX_INIT, {0}, 0};
static goc_chan *validations; /* request */
static bool fixed;

static bool registry_has(const char *name)
{
	for (int i = 0; i < reg.n; i++)
		if (strcmp(reg.names[i], name) == 0)
			return true;
	return false;
}

/* The validator goroutine: approves names that are not empty. */
static void validator(void *arg)
{
	request rq;
	while (goc_recv(validations, &rq) == 0) {
		bool ok = rq.name[0] != 0;
		goc_send(rq.reply, &ok);
	}
}

static bool validate(const char *name)
{
	request rq = {name, goc_chan_make(sizeof(bool), 0)};
	bool ok = false;
	goc_send(validations, &rq);
	goc_recv(rq.reply, &ok);
	goc_chan_release(rq.reply);
	return ok;
}

static int register_buggy(const char *name)
{
	goc_mutex_lock(&reg.mu);
	bool taken = registry_has(name);
	goc_mutex_unlock(&reg.mu);
	if (taken || !validate(name))
		return -1;
	goc_mutex_lock(&reg.mu); /* BUG: the check above may be stale by now */
	reg.names[reg.n++] = name;
	goc_mutex_unlock(&reg.mu);
	return 0;
}

static int register_fixed(const char *name)
{
	goc_mutex_lock(&reg.mu);
	int rc = -1;
	if (!registry_has(name) && validate(name)) {
		reg.names[reg.n++] = name;
		rc = 0;
	}
	goc_mutex_unlock(&reg.mu);
	return rc;
}

static void client(void *arg)
{
	goc_waitgroup *wg = arg;
	if (fixed)
		register_fixed("alice");
	else
		register_buggy("alice");
	goc_waitgroup_done(wg);
}

/* One run of the program under test: 0 if the registry is consistent. */
static int program(int argc, char **argv)
{
	validations = goc_chan_make(sizeof(request), 0);
	goc_go(validator, NULL);
	goc_waitgroup wg = GOC_WAITGROUP_INIT;
	goc_waitgroup_add(&wg, 2);
	goc_go(client, &wg);
	goc_go(client, &wg);
	goc_waitgroup_wait(&wg);
	if (reg.n != 1) {
		printf("\"alice\" registered %d times\n", reg.n);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	bug_story story = {.buggy = "buggy registry", .symptom = "fails", .fixed = "fixed registry"};
	return explore_bug_and_fix(&story, program, &fixed, argc, argv);
}
