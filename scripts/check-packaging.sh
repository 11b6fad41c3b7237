#!/usr/bin/env bash
# Packaging checks beside check-install.sh's find_package one. Usage:
#   check-packaging.sh pkg-config BUILD   install BUILD into a scratch prefix; pkg-config
#       --cflags spikegrad works there and a Makefile-style g++ build against it runs; the
#       docs and examples' sources are in share/doc/spikegrad.
#   check-packaging.sh fetchcontent       a project that FetchContent's an archive of this
#       checkout (file:// URL, no network) builds and runs (tests/consumer_fetch).
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
case "${1:-}" in
  pkg-config)
    build=${2:-build}
    prefix=$scratch/prefix
    cmake --install "$build" --prefix "$prefix" >/dev/null
    export PKG_CONFIG_PATH=$prefix/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
    cflags=$(pkg-config --cflags spikegrad)
    include_dir=$(pkg-config --variable=includedir spikegrad)
    [[ $(realpath "$include_dir") == $(realpath "$prefix/include") && $cflags == *"-I$include_dir"* ]] ||
      { echo "check-packaging: pkg-config --cflags spikegrad gave '$cflags', not -I$prefix/include" >&2; exit 1; }
    version=$(pkg-config --modversion spikegrad)
    # A Makefile user's build line, against the installed copy only.
    c++ tests/consumer/main.cpp -o "$scratch/consumer" \
        -DSPIKEGRAD_PACKAGE_VERSION="\"$version\"" $cflags $(pkg-config --libs spikegrad)
    "$scratch/consumer"
    if [[ -f $prefix/share/pkgconfig/spikegrad-hdf5.pc ]]; then
      pkg-config --cflags --libs spikegrad-hdf5 | grep -q -- -lhdf5 ||
        { echo "check-packaging: spikegrad-hdf5.pc does not give the HDF5 library" >&2; exit 1; }
    fi
    doc=$prefix/share/doc/spikegrad
    for file in README.md CHANGELOG.md design.md examples/quickstart.cpp examples/CMakeLists.txt; do
      [[ -f $doc/$file ]] || { echo "check-packaging: $doc/$file was not installed" >&2; exit 1; }
    done
    echo "check-packaging: pkg-config --cflags spikegrad ($version) builds a program; docs and examples in share/doc/spikegrad"
    ;;
  fetchcontent)
    # The working tree as a release archive would hold it: tracked and new files, not builds.
    git ls-files -co --exclude-standard -z | tar --null --ignore-failed-read -T - -czf "$scratch/spikegrad.tar.gz" \
        --transform 's,^,spikegrad/,'
    cmake -S tests/consumer_fetch -B "$scratch/build" -DCMAKE_BUILD_TYPE=Release \
          -DSPIKEGRAD_ARCHIVE="$scratch/spikegrad.tar.gz" >/dev/null
    cmake --build "$scratch/build" >/dev/null
    (cd "$scratch/build" && ./consumer_fetch)
    echo "check-packaging: FetchContent of a file:// archive of the checkout builds and runs"
    ;;
  *) echo "usage: check-packaging.sh pkg-config BUILD | fetchcontent" >&2; exit 2 ;;
esac
