#!/usr/bin/env bash
# SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers
# SPDX-License-Identifier: ISC
# The AVX-VNNI kernels on a CPU without AVX-VNNI: build the kernels, the
# engine and their tests with -Davxvnni_on_evex=true (kernels/qk_vnni256.h:
# the same code with the EVEX form of vpdpbusd / vpdpwssd), run the kernel
# tests with the "avxvnni" ISA required, bit for bit against the scalar
# oracle, and the engine's block-exactness tests with avxvnni active
# (QUANTONE_ISA): the whole A1 and A2 models at blocks 1 to 4096 on the
# AVX-VNNI code, the engine's chaining and frame forms included.
#
# Where it runs: an x86-64 CPU with AVX-512 VNNI (+VL) but without the
# AVX-VNNI cpuid bit, such as this project's CI VMs. With AVX-VNNI the
# release pass already requires the real ISA (test_kernels and
# test_wavenet_layer do when cpuid reports it), and without AVX-512 VNNI
# the EVEX form cannot run: both print why and exit 0.
#
# Env: BUILD (default build-avxvnni-evex).
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-avxvnni-evex}

if [ "$(uname -m)" != x86_64 ]; then
  echo "avxvnni_evex.sh: not an x86-64 machine; nothing to do"
  exit 0
fi
flags=$(grep -m1 '^flags' /proc/cpuinfo)
has() { [[ " $flags " == *" $1 "* ]]; }
if has avx_vnni; then
  echo "avxvnni_evex.sh: this CPU has AVX-VNNI; the release tests already required it"
  exit 0
fi
if ! has avx512_vnni || ! has avx512vl; then
  echo "avxvnni_evex.sh: no AVX-512 VNNI here, so the EVEX form cannot run; skipped"
  exit 0
fi

opts=(--buildtype=release -Davxvnni_on_evex=true)
if [ -f "$BUILD/build.ninja" ]; then
  meson setup --reconfigure "$BUILD" "${opts[@]}"
else
  meson setup "$BUILD" "${opts[@]}"
fi
# only the tests this script runs (not the plugin, GUI or tools)
ninja -C "$BUILD" tests/kernels/test_kernels tests/kernels/test_wavenet_layer \
  tests/variant/test_block_exact tests/models/test_models_a2_int8

# Runs one kernel test with avxvnni required (the test fails when that ISA
# cannot run, so a skipped avxvnni cannot pass).
run_test() {
  local name=$1 log="$BUILD/$1.log"
  shift
  local exe
  exe=$(find "$BUILD" -type f -name "$name" -perm -u+x | head -n 1)
  [ -n "$exe" ] || { echo "avxvnni_evex.sh: no $name in $BUILD" >&2; exit 1; }
  if ! env -u QUANTONE_ISA "$exe" --require avxvnni "$@" >"$log" 2>&1; then
    tail -n 30 "$log"
    echo "avxvnni_evex.sh: $name FAILED with avxvnni required (log: $log)" >&2
    exit 1
  fi
  grep -E "checks|failures|avxvnni" "$log" | tail -n 4
}

run_test test_kernels
run_test test_wavenet_layer

# Runs one engine test with QUANTONE_ISA=avxvnni; its log must show avxvnni
# (the engine ignores an ISA the CPU cannot run, and would test another).
run_engine_test() {
  local exe=$BUILD/tests/$1 log="$BUILD/$(basename "$1").log"
  shift
  if ! QUANTONE_ISA=avxvnni "$exe" "$@" >"$log" 2>&1; then
    tail -n 30 "$log"
    echo "avxvnni_evex.sh: $exe FAILED with avxvnni active (log: $log)" >&2
    exit 1
  fi
  if ! grep -q avxvnni "$log"; then
    echo "avxvnni_evex.sh: $exe did not run avxvnni (log: $log)" >&2
    exit 1
  fi
  grep -E "avxvnni" "$log" | tail -n 2
  tail -n 1 "$log"
}

REF=../shared/reference/nam
run_engine_test variant/test_block_exact "$REF"
run_engine_test models/test_models_a2_int8 "$REF/current" "$REF/input.wav"
echo "avxvnni_evex.sh: the AVX-VNNI code (EVEX-encoded) agrees with the scalar oracle and keeps blocks exact"
