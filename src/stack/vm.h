/* vm.h - page-level memory operations the stack module needs beyond POSIX
 * mmap/mprotect/munmap (vm_linux.c): guard pages that cost no mapping, and
 * prefaulting. Each may be missing from the running kernel; callers fall
 * back (mprotect guards, plain page faults).
 */
#ifndef GOC_STACK_VM_H
#define GOC_STACK_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

enum goc__vm_op {
	GOC__VM_GUARD,          /* guard pages inside a mapping, no VMA split */
	GOC__VM_PREFAULT_WRITE, /* make pages resident and writable now */
	GOC__VM_PREFAULT_READ,  /* map pages readable now (zero page if untouched) */
};

/* Probe the kernel once; idempotent. */
void goc__vm_init(void);
bool goc__vm_supports(enum goc__vm_op op);
/* Apply op to n page-aligned ranges, in one system call when the kernel
 * allows. Returns 0, or -1 if op is unsupported or failed for some range
 * (prefaults are hints; a failed guard is not in place). */
int goc__vm_apply(enum goc__vm_op op, const struct iovec *ranges, size_t n);

#endif
