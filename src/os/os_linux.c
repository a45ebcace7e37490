/* os_linux.c - the few OS services the runtime needs on Linux: the monotonic
 * clock, futexes, the CPU count and asymmetric fences. Other systems get
 * their own file behind the same declarations (src/internal.h, "os"). */
#define _GNU_SOURCE
#include "../internal.h"

#include <errno.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int64_t goc__nanotime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void goc__futex_wait(_Atomic uint32_t *addr, uint32_t val, int64_t deadline)
{
	if (deadline == GOC__NO_DEADLINE) {
		syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
		return;
	}
	/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time, so a
	 * spurious wake-up and retry never stretches the deadline. */
	if (deadline < 0)
		deadline = 0;
	struct timespec ts = {.tv_sec = deadline / 1000000000, .tv_nsec = deadline % 1000000000};
	syscall(SYS_futex, addr, FUTEX_WAIT_BITSET_PRIVATE, val, &ts, NULL, FUTEX_BITSET_MATCH_ANY);
}

void goc__futex_wake(_Atomic uint32_t *addr, int n)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

int goc__ncpu(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) == 0) {
		int n = CPU_COUNT(&set);
		if (n > 0)
			return n;
	}
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

/* MEMBARRIER_CMD_PRIVATE_EXPEDITED interrupts only the CPUs running this
 * process's threads (about 1 us here); registering later, with threads
 * running, costs the kernel an RCU grace period, so the runtime registers
 * when it starts. Sandboxes may refuse the call: then nothing relies on it. */
bool goc__membarrier_register(void)
{
	static _Atomic int state; /* 0 unknown, 1 registered, -1 unavailable */
	int s = atomic_load_explicit(&state, memory_order_acquire);
	if (s == 0) {
		long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
		s = cmds >= 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
		            syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0
		        ? 1
		        : -1;
		atomic_store_explicit(&state, s, memory_order_release);
	}
	return s == 1;
}

void goc__membarrier(void)
{
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
		goc__panic("membarrier failed after it was registered (errno %d)", errno);
}
