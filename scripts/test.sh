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
echo "test.sh: all tests passed"
