#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang++ -fsanitize=fuzzer,address,undefined) and runs
# each for a fixed time, one after the other, starting from the committed seed corpus.
# Usage: scripts/fuzz.sh [seconds per target (default 15)] [target...]
#   targets: npy parameters_npy checkpoint transforms shd (default: all)
# Needs clang++ and libFuzzer (Debian: clang, libclang-rt-14-dev); says so and exits 0 when
# clang++ is missing, so scripts/test.sh can call it anywhere. A crash fails (exit 1) and
# leaves its input as build/fuzz/work/<target>/crash-*; the corpus grows in build/fuzz/work.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-15}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(npy parameters_npy checkpoint transforms shd)
build=${SPIKEGRAD_FUZZ_BUILD_DIR:-build/fuzz}
jobs=${SPIKEGRAD_JOBS:-$(nproc)}
if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz.sh: clang++ not found: the fuzz targets are not built (install clang)"
  exit 0
fi
cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O1 -DSPIKEGRAD_BUILD_FUZZ=ON \
      -DSPIKEGRAD_BUILD_TESTS=OFF -DSPIKEGRAD_BUILD_EXAMPLES=OFF -DSPIKEGRAD_USE_OPENMP=OFF >/dev/null
build_targets=()
for t in "${targets[@]}"; do build_targets+=("fuzz_$t"); done
cmake --build "$build" -j "$jobs" --target "${build_targets[@]}"
for t in "${targets[@]}"; do
  work="$build/work/$t"
  mkdir -p "$work/corpus"
  echo "fuzz.sh: $t for ${seconds}s"
  # -rss_limit_mb: a run that needs more is a bug (readers must check sizes first).
  if ! (cd "$work" && "../../fuzz/fuzz_$t" -max_total_time="$seconds" -rss_limit_mb=2048 \
          -timeout=10 -print_final_stats=1 corpus "$OLDPWD/fuzz/corpus/$t" > log.txt 2>&1); then
    tail -40 "$work/log.txt"
    echo "fuzz.sh: $t found a crash (input in $work)" >&2
    exit 1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/log.txt" | tr '\n' ' '
  echo
done
echo "fuzz.sh: no crash"
