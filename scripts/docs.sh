#!/usr/bin/env bash
# Builds the docs site (Doxygen + doxygen-awesome-css) from the headers and docs/*.md into
# OUT (default build/docs): OUT/html/index.html. Offline; warnings are errors (the log is
# OUT/warnings.log). Usage: scripts/docs.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
source_dir=$(pwd)
out=$(realpath -m "${1:-build/docs}")
awesome=${DOXYGEN_AWESOME_DIR:-/usr/share/doxygen-awesome-css}
command -v doxygen >/dev/null || { echo "docs.sh: doxygen is not installed" >&2; exit 1; }
[[ -f $awesome/doxygen-awesome.css ]] ||
  { echo "docs.sh: no doxygen-awesome.css in $awesome (apt install doxygen-awesome-css)" >&2; exit 1; }
version=$(sed -n 's/^#define SPIKEGRAD_VERSION_\(MAJOR\|MINOR\|PATCH\) \+\([0-9]\+\).*/\2/p' \
          include/spikegrad/config.hpp | paste -sd.)
have_dot=NO
command -v dot >/dev/null && have_dot=YES
# The guides: every docs/*.md except the per-issue working notes.
pages=$(ls docs/*.md | sed "s|^|$source_dir/|" | tr '\n' ' ')
rm -rf "$out"
mkdir -p "$out"
sed -e "s|@SOURCE@|$source_dir|g" -e "s|@OUTPUT@|$out|g" -e "s|@AWESOME@|$awesome|g" \
    -e "s|@SPIKEGRAD_VERSION@|$version|g" -e "s|@HAVE_DOT@|$have_dot|g" \
    -e "s|@DOC_PAGES@|$pages|g" docs/site/Doxyfile.in > "$out/Doxyfile"
if ! doxygen "$out/Doxyfile"; then
  echo "docs.sh: doxygen failed; warnings:" >&2
  cat "$out/warnings.log" >&2
  exit 1
fi
if [[ -s $out/warnings.log ]]; then
  echo "docs.sh: doxygen warnings (treated as errors):" >&2
  cat "$out/warnings.log" >&2
  exit 1
fi
python3 scripts/check-docs.py include/spikegrad
echo "docs.sh: $out/html/index.html"
