#!/usr/bin/env bash
# Data-parallel speed on 1 and 2 ranks (1 thread each), side by side, three rounds:
#   bench/mpi_scaling.sh [build-dir] [out.csv]
# (needs a build with -DSPIKEGRAD_BUILD_BENCH=ON and MPI; as root set
# OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1).
set -euo pipefail
build=${1:-build}
out=${2:-$build/bench/mpi_scaling.csv}
program=$build/bench/bench_mpi_data_parallel
flags=(--oversubscribe --bind-to none)
echo "round,ranks,threads,batch,steps,parameters,samples_per_s,compute_ms,communication_ms,reduce_mean_ms,reduce_min_ms,layer1_rate,layer2_rate" > "$out"
for round in 1 2 3; do
  for ranks in 1 2; do
    line=$(mpirun "${flags[@]}" -n "$ranks" "$program" --batch 64 --steps 10 --threads 1)
    echo "$round,$line" | tee -a "$out"
  done
done
echo "mpi_scaling: $out ($(lscpu | grep 'Model name' | sed 's/ \+/ /g'))"
