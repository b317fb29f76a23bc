# smlmkit developer entry points. `make demo` and `make test` install what is missing themselves.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60

DEBS := cmake ninja-build g++ ccache pkg-config libeigen3-dev libxsimd-dev doctest-dev \
        libbenchmark-dev libtiff-dev libpng-dev libcli11-dev libhdf5-dev \
        ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd libboost-dev
FUZZ_DEBS := clang-14 libclang-rt-14-dev
# The Cortex-M7 cross toolchain and QEMU: `make mcu` only (make test and CI do not need them).
MCU_DEBS := gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm

.PHONY: all deps demo test asan noexcept mcu bench fuzz models clean

all: test

deps:
	@scripts/install-deps.sh $(DEBS)

build/release/build.ninja: CMakeLists.txt CMakePresets.json | deps
	cmake --preset release

# The main job on built-in defaults; writes its report into demo-out/.
demo: deps build/release/build.ninja
	cmake --build --preset release -j $(JOBS) --target smlm
	build/release/examples/cli/smlm demo -o demo-out

# Builds and runs every test (release preset).
test: deps build/release/build.ninja
	cmake --build --preset release -j $(JOBS)
	ctest --preset release -j $(JOBS)

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
asan: deps
	cmake --preset asan
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(JOBS)

# The core built with -fno-exceptions -fno-rtti and without SIMD.
noexcept: deps
	cmake --preset noexcept
	cmake --build --preset noexcept -j $(JOBS)
	ctest --preset noexcept

# The Cortex-M7 firmware example (docs/embedded.md): exports the phone model, builds the firmware,
# runs it under QEMU (mps2-an500) and compares its localizations with the host's. Ends with
# `mcu: localizations=<n> host=<n> max_dev_nm=<x> flash=<bytes> ram=<bytes>`.
mcu: deps build/release/build.ninja
	@scripts/install-deps.sh $(MCU_DEBS)
	cmake --build --preset release -j $(JOBS) --target smlm smlm_mcu_host
	examples/mcu/run.sh build/release/examples/cli/smlm build/release/examples/mcu/smlm_mcu_host build/mcu

# Retrains the shipped models in models/ with their recorded recipes (30 minutes each).
models: deps build/release/build.ninja
	cmake --build --preset release -j $(JOBS) --target smlm
	scripts/train_models.sh

bench: deps build/release/build.ninja
	cmake --build --preset release -j $(JOBS) --target benchmarks
	@for b in build/release/benchmarks/bench_*; do echo "== $$b"; $$b; done

# libFuzzer targets fuzz/*_fuzz.cpp, each run for FUZZ_SECONDS from a corpus kept in fuzz-out/.
fuzz: deps
	@scripts/install-deps.sh $(FUZZ_DEBS)
	@mkdir -p fuzz-out
	@set -e; for src in fuzz/*_fuzz.cpp; do \
	  name=$$(basename $$src .cpp); \
	  echo "== $$name ($(FUZZ_SECONDS) s)"; \
	  clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -I/usr/include/eigen3 \
	    $$src -ltiff -lpng -o fuzz-out/$$name; \
	  mkdir -p fuzz-out/$$name.corpus; \
	  fuzz-out/$$name -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 fuzz-out/$$name.corpus \
	    $$( [ -d fuzz/seeds/$$name ] && echo fuzz/seeds/$$name ) 2>&1 | grep -E "stat::number_of_executed_units|ERROR|SUMMARY|Done" ; \
	done

clean:
	rm -rf build demo-out fuzz-out
