#!/bin/bash
# Builds bench_engine (spikegrad::native) and bench_engine_portable (no -march: the default
# build, kernels dispatched at run time), runs them, the peak-memory runs and
# bench/compare_pytorch.py (PyTorch with OpenBLAS; scripts/install-deps.sh bench installs it)
# back to back on this machine, and prints the tables of docs/performance.md. The machine is
# shared: compare only figures from one run, and read the medians.
#
#   bench/run_all.sh                      # everything (about 15 minutes on 2 cores)
#   REPETITIONS=3 FILTER='/T:100/' bench/run_all.sh
#   PYTORCH_THREADS="2 1" bench/run_all.sh   # PyTorch at both thread counts (default: 2)
#
# Environment: BUILD_DIR (default build/bench), OUT_DIR (default $BUILD_DIR/results),
# REPETITIONS (Google Benchmark repetitions, default 5; medians are reported), FILTER (a
# --benchmark_filter regex), PYTORCH_REPEATS (timed steps per PyTorch configuration, default
# 3), PYTORCH_ONLY (space-separated name prefixes: only those PyTorch configurations),
# PYTHON (default /usr/bin/python3: Debian's python3-torch).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build/bench}
out=${OUT_DIR:-$build/results}
repetitions=${REPETITIONS:-5}
filter=${FILTER:-}
python=${PYTHON:-/usr/bin/python3}
pytorch_threads=${PYTORCH_THREADS:-2}
pytorch_repeats=${PYTORCH_REPEATS:-3}
pytorch_only=()
for prefix in ${PYTORCH_ONLY:-}; do pytorch_only+=(--only "$prefix"); done

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSPIKEGRAD_BUILD_TESTS=OFF \
  -DSPIKEGRAD_BUILD_EXAMPLES=OFF -DSPIKEGRAD_BUILD_BENCH=ON > "$build.cmake.log"
cmake --build "$build" --target bench_engine bench_engine_portable -j2
mkdir -p "$out"

{
  lscpu | grep -E '^(Model name|CPU\(s\)|Thread\(s\) per core|Core\(s\) per socket|Flags)' |
    sed -E 's/^(Flags:).*(avx512f).*/\1 ... \2 .../'
  grep -o -w -E 'avx512f|avx2|fma|sse2' /proc/cpuinfo | sort -u | tr '\n' ' ' | sed 's/^/instruction sets: /'
  echo
  echo "compiler: $(c++ --version | head -1)"
  echo "load before: $(uptime)"
} | tee "$out/machine.txt"

echo "== bench_engine (repetitions $repetitions)"
"$build/bench/bench_engine" --benchmark_repetitions="$repetitions" \
  --benchmark_report_aggregates_only=false --benchmark_display_aggregates_only=true \
  --benchmark_out="$out/spikegrad.json" --benchmark_out_format=json \
  ${filter:+--benchmark_filter="$filter"} | tee "$out/spikegrad.txt"

echo "== bench_engine_portable: the default build (repetitions $repetitions)"
"$build/bench/bench_engine_portable" --benchmark_repetitions="$repetitions" \
  --benchmark_report_aggregates_only=false --benchmark_display_aggregates_only=true \
  --benchmark_out="$out/spikegrad-portable.json" --benchmark_out_format=json \
  --benchmark_filter="${filter:-/(plain|delay)/T:(100|1000)/density:[0-9.]*/batch:256/threads:2/}" |
  tee "$out/spikegrad-portable.txt"

echo "== peak resident memory of training steps (VmHWM)"
{
  for model in plain delay; do
    "$build/bench/bench_engine" --peak-memory 100 256 0.05 2 "$model"
  done
  for threads in 1 2; do
    for T in 1000 2000 4000 8000; do
      "$build/bench/bench_engine" --peak-memory "$T" 256 0.006 "$threads" plain
    done
  done
} | tee "$out/memory.txt"
# Engine memory = VmHWM - input events; its slope in T over the 276 neurons that run dynamics.
awk '/T 1000 batch/ || /T 8000 batch/ {
       for (i = 1; i <= NF; ++i) { if ($i == "VmHWM") hwm = $(i + 1); if ($i == "events") input = $(i + 1) }
       threads = $8; sub(":", "", threads); engine[$2 "/" threads] = hwm - input
     }
     END { for (t = 1; t <= 2; ++t) {
             slope = (engine["8000/" t] - engine["1000/" t]) * 1048576 / 7000
             printf "threads %d: %.0f bytes per step, %.1f bytes per neuron-step (276 neurons)\n", t, slope, slope / 276 } }' \
  "$out/memory.txt" | tee -a "$out/memory.txt"

echo "load after spikegrad: $(uptime)" | tee -a "$out/machine.txt"
for threads in $pytorch_threads; do
  echo "== plain PyTorch with OpenBLAS, $threads threads"
  "$python" "$root/bench/compare_pytorch.py" --threads "$threads" --repeats "$pytorch_repeats" \
    --spikegrad-json "$out/spikegrad.json" --json-out "$out/pytorch-$threads.json" \
    "${pytorch_only[@]}" |
    tee "$out/pytorch-$threads.txt"
done
echo "load after PyTorch: $(uptime)" | tee -a "$out/machine.txt"
