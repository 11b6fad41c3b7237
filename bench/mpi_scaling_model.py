#!/usr/bin/env python3
"""Scaling model of a data-parallel step of spikegrad::mpi (issue 18), to 64 ranks.

Per step: compute = B / (R * rate) seconds (each rank runs B / R samples at `rate` samples/s on
one thread), the optimiser step (replicated on every rank), and the ordered gradient sum of
n floats: a chain 0 -> 1 -> ... -> R-1 in S segments of s bytes (pipelined: R - 1 + S - 1
hops of alpha + s * beta), then a broadcast (a pipelined tree: log2(R) + S - 1 hops). A ring
allreduce (2 (R - 1) alpha + 2 (R - 1) / R n beta: faster, but its sum order differs from one
process's) is shown for comparison.

usage: mpi_scaling_model.py [rate_samples_per_s] [batch]
"""
import math
import sys

rate = float(sys.argv[1]) if len(sys.argv) > 1 else 1200.0   # measured, 1 thread (bench/mpi_scaling.sh)
batch = int(sys.argv[2]) if len(sys.argv) > 2 else 128       # the paper's SHD batch
n = 108820                    # parameters of 700-128-128-20 (bench_mpi_data_parallel prints it)
bytes_ = 4 * n
segment = 16384 * 4           # mpi::ordered_sum's segment
S = math.ceil(bytes_ / segment)
optimiser = 0.2e-3            # Nadam over 109k floats on one core, seconds (order of magnitude)
networks = {
    "InfiniBand HDR (alpha 2 us, 10 GB/s)": (2e-6, 1 / 10e9),
    "10 GbE TCP (alpha 30 us, 1.1 GB/s)": (30e-6, 1 / 1.1e9),
}

print("n = %d floats (%.0f KB), %d segments, batch %d, %.0f samples/s per rank" %
      (n, bytes_ / 1e3, S, batch, rate))
for name, (alpha, beta) in networks.items():
    print("\n" + name)
    print("| ranks | samples/rank | compute ms | ordered sum ms | ring allreduce ms | step ms | speed-up | efficiency |")
    print("|---|---|---|---|---|---|---|---|")
    t1 = batch / rate + optimiser
    for R in (1, 2, 4, 8, 16, 32, 64):
        compute = batch / (R * rate)
        hop = alpha + segment * beta
        ordered = 0.0 if R == 1 else (R - 1 + S - 1) * hop + (math.ceil(math.log2(R)) + S - 1) * hop
        ring = 0.0 if R == 1 else 2 * (R - 1) * alpha + 2 * (R - 1) / R * bytes_ * beta
        step = compute + optimiser + ordered
        print("| %d | %.0f | %.2f | %.2f | %.2f | %.2f | %.1f | %.0f%% |" %
              (R, batch / R, 1e3 * compute, 1e3 * ordered, 1e3 * ring, 1e3 * step, t1 / step,
               100 * t1 / step / R))
