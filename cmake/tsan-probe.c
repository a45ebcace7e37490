/* tsan-probe.c - the smallest TSan program with a second thread: if it cannot
 * run, no TSan-built test can, and cmake/tsan-exec.sh decides how to run
 * them (see there). It must exit 0 and print nothing. */
#include <pthread.h>

static int shared;

static void *bump(void *arg)
{
	shared++;
	return arg;
}

int main(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, bump, NULL) != 0)
		return 2;
	pthread_join(t, NULL);
	return shared == 1 ? 0 : 3;
}
