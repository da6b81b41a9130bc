#!/bin/sh
# The main job: install what is missing, build, and show what each weight
# format costs and gains on this machine (kernel benchmark).
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh
[ -f build/build.ninja ] || meson setup build
ninja -C build
build/tools/quantone-bench kernels "$@"
