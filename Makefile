# Makefile - the short way to drive the CMake build (see README.md).
#
#   make            release build (RelWithDebInfo: -O2 -g) in build/
#   make run        build everything, then run the tour (build/examples/tour)
#   make test       the whole suite three ways: release (GOC_PROCS=1 and 2),
#                   ASan+UBSan, TSan (GOC_PROCS=2), after a -O3 -Werror
#                   build of the library; summary at the end
#   make bench      the benchmarks (bench/run.sh; PROCS=, N=, BENCH="names")
#   make install    install into PREFIX (default /usr/local; DESTDIR honoured)
#   make clean      remove build/, build-asan/, build-tsan/, build-o3/, build-bench/
#
# Variables: PREFIX, JOBS (default: number of CPUs), GOC_WERROR (default ON),
# CMAKE_FLAGS (extra cmake -D... for build/), SUITES and CTEST_ARGS and
# CTEST_JOBS for `make test` (see cmake/test-suites.sh), BUILD_DIR, ASAN_DIR,
# TSAN_DIR, O3_DIR, BENCH_DIR to build elsewhere.

PREFIX      ?= /usr/local
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)
GOC_WERROR  ?= ON
CMAKE       ?= cmake
CMAKE_FLAGS ?=
BUILD_DIR   ?= build
ASAN_DIR    ?= build-asan
TSAN_DIR    ?= build-tsan
O3_DIR      ?= build-o3
BENCH_DIR   ?= build-bench
SUITES      ?= o3 release asan tsan
CTEST_JOBS  ?= 1
CTEST_ARGS  ?=
BENCH       ?=

.PHONY: all build configure run test bench install clean

all: build

configure:
	$(CMAKE) -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DGOC_WERROR=$(GOC_WERROR) -DGOC_SANITIZE= $(CMAKE_FLAGS)

build: configure
	$(CMAKE) --build $(BUILD_DIR) -j $(JOBS)

run: build
	./$(BUILD_DIR)/examples/tour

test:
	BUILD_DIR=$(BUILD_DIR) ASAN_DIR=$(ASAN_DIR) TSAN_DIR=$(TSAN_DIR) O3_DIR=$(O3_DIR) JOBS=$(JOBS) \
	GOC_WERROR=$(GOC_WERROR) SUITES="$(SUITES)" CTEST_JOBS=$(CTEST_JOBS) \
	CTEST_ARGS="$(CTEST_ARGS)" CMAKE=$(CMAKE) ./cmake/test-suites.sh

bench:
	@BENCH_DIR=$(BENCH_DIR) JOBS=$(JOBS) ./bench/run.sh $(BENCH)

install: build
	DESTDIR=$(DESTDIR) $(CMAKE) --install $(BUILD_DIR) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(TSAN_DIR) $(O3_DIR) $(BENCH_DIR)
