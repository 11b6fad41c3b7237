#!/usr/bin/env bash
# Builds spikegrad with its tests and examples and runs the whole suite (CTest), then checks
# that an installed copy works with find_package(spikegrad). Installs missing packages first.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SPIKEGRAD_BUILD_DIR:-build/test}
jobs=${SPIKEGRAD_JOBS:-$(nproc)}

bash scripts/install-deps.sh test
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSPIKEGRAD_BUILD_TESTS=ON \
      -DSPIKEGRAD_BUILD_EXAMPLES=ON
cmake --build "$build" -j "$jobs"
# The suite includes the install check (scripts/check-install.sh, with the version check).
ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 600
# Second build: AddressSanitizer + UndefinedBehaviorSanitizer on the test folders that parse
# files (io, train: npy, parameters, checkpoints, trainer), then each libFuzzer target for 10 s
# when clang++ is present (docs/reliability.md gives the measured cost). SPIKEGRAD_SANITIZE=0
# skips both.
if [ "${SPIKEGRAD_SANITIZE:-1}" != 0 ]; then
  SPIKEGRAD_SANITIZE_BUILD_DIR="$build-sanitize" bash scripts/sanitize.sh io train
  SPIKEGRAD_FUZZ_BUILD_DIR="$build-fuzz" bash scripts/fuzz.sh 10
fi
echo "test.sh: all tests passed"
