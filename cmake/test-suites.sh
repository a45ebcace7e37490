#!/usr/bin/env bash
# test-suites.sh - `make test`: build and run the whole CTest suite three ways
# and print a summary. Any failure (configure, build or test) fails the run,
# but every suite still runs, so one report shows everything.
#
#   o3       the library alone built Release (-O3) with warnings as errors in
#            $O3_DIR: gcc's -O3 warnings (-Warray-bounds, -Wuse-after-free)
#            see through inlining that the other builds do not (no tests run)
#   release  RelWithDebInfo (-O2 -g) in $BUILD_DIR, run with GOC_PROCS=1, then 2
#   asan     ASan + UBSan (fatal) in $ASAN_DIR, run with GOC_PROCS=2
#   tsan     TSan in $TSAN_DIR, run with GOC_PROCS=2 (under setarch -R when the
#            kernel needs it: see cmake/tsan-exec.sh)
#
# Environment (the Makefile passes its variables): BUILD_DIR, ASAN_DIR,
# TSAN_DIR, O3_DIR, JOBS (build parallelism), CTEST_JOBS (tests run at once,
# default 1: the suite is concurrency tests on a small machine),
# GOC_WERROR (default ON), SUITES (default "o3 release asan tsan"),
# CTEST_ARGS (extra ctest arguments, e.g. "-R chan"), CMAKE (default cmake).
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
: "${BUILD_DIR:=build}" "${ASAN_DIR:=build-asan}" "${TSAN_DIR:=build-tsan}" "${O3_DIR:=build-o3}"
: "${JOBS:=$(nproc 2>/dev/null || echo 2)}" "${CTEST_JOBS:=1}"
: "${GOC_WERROR:=ON}" "${SUITES:=o3 release asan tsan}" "${CTEST_ARGS:=}" "${CMAKE:=cmake}"
ctest=${CTEST:-$(dirname "$(command -v "$CMAKE")")/ctest}
[[ -x $ctest ]] || ctest=ctest

summary=()
failed=0
start_all=$SECONDS

note() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
record() { summary+=("$(printf '%-8s %-12s %-6s %s' "$1" "$2" "$3" "$4")"); [[ $3 == PASS ]] || failed=1; }

# build LABEL DIR SANITIZE: configure and build; returns non-zero on failure.
build() {
	local label=$1 dir=$2 san=$3 t0=$SECONDS
	note "$label: configure and build in $dir/"
	if ! "$CMAKE" -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DGOC_WERROR="$GOC_WERROR" -DGOC_SANITIZE="$san"; then
		record "$label" "configure" FAIL "cmake configure failed (see above)"
		return 1
	fi
	if ! "$CMAKE" --build "$dir" -j "$JOBS"; then
		record "$label" "build" FAIL "build failed (see above)"
		return 1
	fi
	echo "$label: built in $((SECONDS - t0)) s"
}

# build_o3: the library targets only, Release, warnings always errors.
build_o3() {
	local t0=$SECONDS
	note "o3: configure and build the library (Release, -O3, -Werror) in $O3_DIR/"
	if ! "$CMAKE" -S "$root" -B "$O3_DIR" -DCMAKE_BUILD_TYPE=Release -DGOC_WERROR=ON \
		-DGOC_SANITIZE=; then
		record o3 "configure" FAIL "cmake configure failed (see above)"
		return
	fi
	if ! "$CMAKE" --build "$O3_DIR" -j "$JOBS" --target goc goc_static; then
		record o3 "build" FAIL "build failed (see above)"
		return
	fi
	record o3 "-O3 -Werror" PASS "library built without warnings ($((SECONDS - t0)) s)"
}

# run LABEL DIR PROCS: run the suite once with GOC_PROCS=PROCS.
run() {
	local label=$1 dir=$2 procs=$3 t0=$SECONDS log rc line failures
	log=$dir/test-procs$procs.log
	note "$label: ctest with GOC_PROCS=$procs"
	# shellcheck disable=SC2086 # CTEST_ARGS is a word list on purpose
	(cd "$dir" && GOC_PROCS=$procs "$ctest" --output-on-failure --no-tests=error \
		-j "$CTEST_JOBS" $CTEST_ARGS) 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E 'tests passed, [0-9]+ tests? failed out of' "$log" | tail -1)
	line=${line:-no tests ran}
	if ((rc == 0)); then
		record "$label" "GOC_PROCS=$procs" PASS "$line ($((SECONDS - t0)) s)"
	else
		failures=$(sed -n 's/^[0-9]*://p' "$dir/Testing/Temporary/LastTestsFailed.log" 2>/dev/null |
			tr '\n' ' ')
		record "$label" "GOC_PROCS=$procs" FAIL "$line ($((SECONDS - t0)) s) ${failures:+failed: $failures}"
	fi
}

for suite in $SUITES; do
	case $suite in
	o3) build_o3 ;;
	release) build release "$BUILD_DIR" "" && { run release "$BUILD_DIR" 1; run release "$BUILD_DIR" 2; } ;;
	asan) build asan "$ASAN_DIR" address && run asan "$ASAN_DIR" 2 ;;
	tsan) build tsan "$TSAN_DIR" thread && run tsan "$TSAN_DIR" 2 ;;
	*) record "$suite" "-" FAIL "unknown suite (choose from: o3 release asan tsan)" ;;
	esac
done

note "summary ($((SECONDS - start_all)) s)"
printf '  %s\n' "${summary[@]}"
if ((failed)); then
	echo "make test: FAILED"
	exit 1
fi
echo "make test: all suites passed"
