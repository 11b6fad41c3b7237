#!/usr/bin/env bash
# Installs spikegrad from a configured build tree into a scratch prefix and builds a tiny
# consumer project against it with find_package(spikegrad CONFIG REQUIRED).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/test}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
cmake -S tests/consumer -B "$scratch/build" -DCMAKE_PREFIX_PATH="$scratch/prefix" >/dev/null
cmake --build "$scratch/build" >/dev/null
"$scratch/build/consumer"
echo "check-install: find_package(spikegrad) works from an install tree"
