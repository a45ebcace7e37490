#!/bin/sh
# tsan-exec.sh PROBE PROGRAM [ARGS...] - run a TSan-built test program.
#
# The TSan runtime of gcc 12 (Debian 12) maps its shadow memory at fixed
# addresses and aborts with "FATAL: ThreadSanitizer: unexpected memory
# mapping" when the kernel randomises mmap addresses over more bits than it
# expects (vm.mmap_rnd_bits = 32 on newer kernels). Running with address
# randomisation off (setarch -R, i.e. personality ADDR_NO_RANDOMIZE) avoids
# it. This wrapper runs PROBE (cmake/tsan-probe.c built with TSan) once per
# build directory: if it runs plainly, programs run plainly; if it only runs
# under setarch -R, every program does. The verdict is cached next to the
# probe (tsan-mode: "plain" or "setarch"). GOC_TSAN_SETARCH=1 forces
# setarch, =0 forbids it.
set -eu
probe=$1
shift
cache=$(dirname "$probe")/tsan-mode

norandom() { setarch "$(uname -m)" -R "$@"; }

decide() {
	if [ "${GOC_TSAN_SETARCH-}" = 1 ]; then echo setarch; return; fi
	if [ "${GOC_TSAN_SETARCH-}" = 0 ]; then echo plain; return; fi
	if "$probe" >/dev/null 2>&1; then echo plain; return; fi
	if norandom "$probe" >/dev/null 2>&1; then echo setarch; return; fi
	echo "tsan-exec.sh: the TSan probe fails even with address randomisation off:" >&2
	"$probe" >&2 || true
	echo broken
}

if [ -n "${GOC_TSAN_SETARCH-}" ]; then
	mode=$(decide)
elif [ -r "$cache" ] && [ "$cache" -nt "$probe" ]; then
	mode=$(cat "$cache")
else
	mode=$(decide)
	if [ "$mode" != broken ]; then
		tmp=$cache.$$
		echo "$mode" >"$tmp" && mv -f "$tmp" "$cache"
	fi
fi

case $mode in
plain) exec "$@" ;;
setarch) exec setarch "$(uname -m)" -R "$@" ;;
*) echo "tsan-exec.sh: cannot run TSan programs on this machine" >&2; exit 1 ;;
esac
