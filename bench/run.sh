#!/usr/bin/env bash
# run.sh: build and run goc's benchmarks (../shared/bench/SPEC.md, impl=goc).
#
# Usage: bench/run.sh [--build-only] [name...]   (default: every benchmark present)
#   PROCS=2 bench/run.sh pingpong   GOC_PROCS for the runs (default 1)
#   N=1000 bench/run.sh             pass n to every benchmark (a quick smoke test;
#                                   mutex and echo need a multiple of 100)
# Prints one result line per benchmark on stdout, nothing else. Each benchmark
# is one file, bench/<name>.c; the names below are run in this order when
# present. The programs are built (Release, -O2, static libgoc) in
# build-bench/ (BENCH_DIR overrides) as build-bench/bench/<name>, rebuilt when
# their sources or the library's change; run one there directly to give it
# its own n.
set -euo pipefail

all=(pingpong buffered spawn park select2 chain sieve fanout mutex timers orchan orchan_rec echo ctxcancel switch)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${BENCH_DIR:-build-bench}
[[ $dir == /* ]] || dir=$root/$dir
procs=${PROCS:-1}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

die() { echo "run.sh: $*" >&2; exit 1; }

build_only=false
if [[ ${1-} == --build-only ]]; then
	build_only=true
	shift
fi
names=("$@")
if [[ ${#names[@]} -eq 0 ]]; then
	for name in "${all[@]}"; do
		[[ -f $root/bench/$name.c ]] && names+=("$name")
	done
	[[ ${#names[@]} -gt 0 ]] || die "no benchmarks in $root/bench yet"
fi
for name in "${names[@]}"; do
	[[ " ${all[*]} " == *" $name "* ]] || die "unknown benchmark '$name'; choose from: ${all[*]}"
	[[ -f $root/bench/$name.c ]] || die "benchmark '$name' is not written yet (no bench/$name.c)"
done
[[ $procs =~ ^[1-9][0-9]*$ ]] || die "PROCS must be a positive integer, not '$procs'"
[[ -z ${N-} || $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, not '$N'"
command -v cmake >/dev/null || die "cmake is not installed; install it with: apt-get install cmake"

# Configure (Release at -O2, only the library and the benchmarks) when the
# build directory is new or lacks a target, then let the build tool decide
# what is out of date. Output only on failure.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
configured=true
[[ -f $dir/CMakeCache.txt ]] || configured=false
for name in "${names[@]}"; do
	[[ -d $dir/CMakeFiles/bench_$name.dir ]] || configured=false # a new bench/<name>.c
done
if ! $configured; then
	cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
		-DGOC_SANITIZE= -DGOC_WERROR=OFF -DGOC_BUILD_TESTS=OFF -DGOC_BUILD_EXAMPLES=OFF \
		-DGOC_BUILD_BENCH=ON >"$log" 2>&1 || { cat "$log" >&2; die "configuring $dir failed"; }
fi
targets=()
for name in "${names[@]}"; do targets+=("bench_$name"); done
cmake --build "$dir" -j "$jobs" --target "${targets[@]}" >"$log" 2>&1 ||
	{ cat "$log" >&2; die "building ${names[*]} failed"; }
if $build_only; then
	echo "run.sh: built into $dir/bench" >&2
	exit 0
fi

status=0
for name in "${names[@]}"; do
	GOC_PROCS=$procs "$dir/bench/$name" ${N-} || { echo "run.sh: $name failed (exit $?)" >&2; status=1; }
done
exit $status
