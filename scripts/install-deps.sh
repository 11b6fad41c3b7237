#!/usr/bin/env bash
# Installs the Debian 12 packages spikegrad needs, only those missing (idempotent).
# Usage: scripts/install-deps.sh [core|test|demo|bench|all]   (default: test)
set -euo pipefail

profile=${1:-test}
core=(g++ cmake make pkg-config xtensor-dev libxsimd-dev xtl-dev)
testing=(doctest-dev libhdf5-dev libcli11-dev nlohmann-json3-dev python3 python3-numpy
         python3-h5py python3-torch)
# The fuzz smoke runs of scripts/test.sh (scripts/fuzz.sh): clang++ and libFuzzer.
testing+=(clang libclang-rt-14-dev)
# The firmware tests: Cortex-M4F cross compiler, newlib (semihosting) and QEMU's mps2 boards.
testing+=(gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)
demo=(libhdf5-dev libcli11-dev nlohmann-json3-dev librsvg2-bin)
# bench: Google Benchmark, and the PyTorch baseline with a real BLAS (OpenBLAS, and
# threadpoolctl to report which kernel ran); never part of the test profile.
bench=(libbenchmark-dev python3-torch python3-numpy libopenblas0-pthread python3-threadpoolctl)
# The docs site (scripts/docs.sh, CTest "docs: ..."): doxygen, its CSS theme, dot for graphs.
testing+=(doxygen doxygen-awesome-css graphviz)
# MPI (spikegrad::mpi, its tests and the sweeps over ranks): Open MPI.
testing+=(libopenmpi-dev openmpi-bin)

case "$profile" in
  core) wanted=("${core[@]}") ;;
  test) wanted=("${core[@]}" "${testing[@]}") ;;
  demo) wanted=("${core[@]}" "${demo[@]}") ;;
  bench) wanted=("${core[@]}" "${bench[@]}") ;;
  all) wanted=("${core[@]}" "${testing[@]}" "${demo[@]}" "${bench[@]}") ;;
  *) echo "install-deps: unknown profile '$profile' (core|test|demo|bench|all)" >&2; exit 2 ;;
esac

missing=()
for pkg in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#wanted[@]} packages of profile '$profile' are present"
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo_cmd=(sudo); else
    echo "install-deps: missing packages (${missing[*]}) and not root; install them as root" >&2
    exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
