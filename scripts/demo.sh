#!/usr/bin/env bash
# The main job: the paper's synthetic experiments (ISI task and coincidence task) in their
# default mode. Installs missing Debian packages, builds the two programs, runs them, prints
# their accuracy tables and says where the figures are. Extra arguments go to both programs
# (e.g. --paper for the paper's full settings, --seeds 5).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SPIKEGRAD_BUILD_DIR:-build/demo}
out=${SPIKEGRAD_RESULTS_DIR:-results}

bash scripts/install-deps.sh demo
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSPIKEGRAD_BUILD_TESTS=OFF \
      -DSPIKEGRAD_BUILD_EXAMPLES=ON > /dev/null
cmake --build "$build" --target isi_task coincidence_task -j "$(nproc)"

start=$(date +%s)
"$build/examples/isi_task" --out "$out/isi_task" "$@"
"$build/examples/coincidence_task" --out "$out/coincidence_task" "$@"
echo
echo "demo.sh: done in $(( $(date +%s) - start )) s. Figures:"
for f in "$out"/isi_task/*.svg "$out"/coincidence_task/*.svg; do echo "  $f"; done
echo "Tables: $out/isi_task/summary.csv, $out/coincidence_task/summary.csv (all runs: results.csv)"
