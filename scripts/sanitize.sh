#!/usr/bin/env bash
# Builds tests with AddressSanitizer + UndefinedBehaviorSanitizer (SPIKEGRAD_SANITIZE=ON,
# -O1, any UB report fatal) and runs them under CTest.
# Usage: scripts/sanitize.sh [--all | folder...]
#   no argument: the CI subset: the test folders that parse files (io: npy and atomic
#                writes; train: checkpoints and the trainer); docs/reliability.md gives its
#                cost and the other folders' results
#   --all:       every test program (the whole suite; slow: about as long as scripts/test.sh
#                again, several times over)
#   folder...:   those tests/<folder> programs (e.g. data shd)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SPIKEGRAD_SANITIZE_BUILD_DIR:-build/sanitize}
jobs=${SPIKEGRAD_JOBS:-$(nproc)}
folders=(io train)
all=0
if [ $# -gt 0 ]; then
  if [ "$1" = "--all" ]; then all=1; else folders=("$@"); fi
fi

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O1 \
      -DSPIKEGRAD_SANITIZE=ON -DSPIKEGRAD_BUILD_TESTS=ON -DSPIKEGRAD_BUILD_EXAMPLES=OFF >/dev/null
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if [ $all -eq 1 ]; then
  cmake --build "$build" -j "$jobs"
  ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 1200
else
  targets=()
  pattern=""
  for folder in "${folders[@]}"; do
    targets+=("test_${folder//\//_}")
    pattern+="${pattern:+|}^${folder}:"
  done
  cmake --build "$build" -j "$jobs" --target "${targets[@]}"
  ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 1200 -R "$pattern"
fi
echo "sanitize.sh: no sanitizer report"
