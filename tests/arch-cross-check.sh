#!/bin/sh
# arch-cross-check.sh - check the context switches CTest cannot reach here.
#
#  1. AArch64: builds tests/test_arch.c with src/arch/switch_aarch64.S and
#     ctx_aarch64.c using aarch64-linux-gnu-gcc and runs it under
#     qemu-aarch64 (user mode, -L /usr/aarch64-linux-gnu); also runs
#     bench/switch.c's arch part the same way with a small n.
#  2. The portable ucontext fallback (src/arch/ctx_ucontext.c), on the host:
#     a scratch copy of arch.h with the assembly selection turned off, so
#     the fallback builds and runs on x86-64 too. Nothing in the tree changes.
#
# Not part of CTest: CI machines may lack qemu and the cross compiler.
# Needs (Debian): apt-get install gcc-aarch64-linux-gnu qemu-user
# Usage: tests/arch-cross-check.sh   (from anywhere; exits non-zero on failure)
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cflags="-std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter -Werror -fno-omit-frame-pointer"

echo "== aarch64 (qemu)"
if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
	echo "missing aarch64-linux-gnu-gcc or qemu-aarch64" >&2
	exit 1
fi
aarch64-linux-gnu-gcc $cflags -I"$root/include" "$root/tests/test_arch.c" \
	"$root/src/arch/ctx_aarch64.c" "$root/src/arch/switch_aarch64.S" -o "$tmp/test_arch_a64"
qemu-aarch64 -L /usr/aarch64-linux-gnu "$tmp/test_arch_a64"
aarch64-linux-gnu-gcc $cflags "$root/bench/switch.c" \
	"$root/src/arch/ctx_aarch64.c" "$root/src/arch/switch_aarch64.S" -o "$tmp/switch_a64"
qemu-aarch64 -L /usr/aarch64-linux-gnu "$tmp/switch_a64" 100000

echo "== ucontext fallback (host)"
mkdir -p "$tmp/src/arch" "$tmp/tests"
sed 's/^#if defined(__x86_64__) || defined(__aarch64__)$/#if 0 \/* forced: ucontext *\//' \
	"$root/src/arch/arch.h" >"$tmp/src/arch/arch.h"
grep -q 'forced: ucontext' "$tmp/src/arch/arch.h" || { echo "arch.h selection line not found" >&2; exit 1; }
cp "$root/src/arch/ctx_ucontext.c" "$tmp/src/arch/"
cp "$root/tests/test_arch.c" "$root/tests/check.h" "$tmp/tests/"
cc $cflags -I"$root/include" "$tmp/tests/test_arch.c" "$tmp/src/arch/ctx_ucontext.c" -o "$tmp/test_arch_uc"
"$tmp/test_arch_uc"
echo "arch cross-check: ok"
