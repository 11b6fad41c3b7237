#!/bin/sh
# Peak memory and time of loading a ~400 MB SHD-layout file, and of the whole -> part -> norm
# builder plus binning on it (issue 3). Builds only bench_shd_load; results go in
# docs/performance.md under "SHD loading and the whole -> part -> norm builder".
#   bench/shd_memory.sh [build folder] [file]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/bench-shd}
file=${2:-${TMPDIR:-/tmp}/spikegrad_shd_bench.h5}

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSPIKEGRAD_BUILD_BENCH=ON \
      -DSPIKEGRAD_BUILD_TESTS=OFF -DSPIKEGRAD_BUILD_EXAMPLES=OFF > /dev/null
cmake --build "$build" --target bench_shd_load -j2 > /dev/null
program="$build/bench/bench_shd_load"

[ -f "$file" ] || "$program" generate "$file" 8000 8000 1
ls -l "$file"

for mode in load build; do
    echo "== $mode"
    /usr/bin/time -v "$program" "$mode" "$file" 2> "$file.$mode.time" || { cat "$file.$mode.time"; exit 1; }
    grep -E "Maximum resident set size|Elapsed \(wall clock\)" "$file.$mode.time"
    rm -f "$file.$mode.time"
done
