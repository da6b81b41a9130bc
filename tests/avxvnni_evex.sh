#!/usr/bin/env bash
# SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers
# SPDX-License-Identifier: ISC
# The AVX-VNNI kernels on a CPU without AVX-VNNI: build the kernels and
# their tests with -Davxvnni_on_evex=true (kernels/qk_vnni256.h: the same
# code with the EVEX form of vpdpbusd / vpdpwssd) and run the kernel tests
# with the "avxvnni" ISA required, bit for bit against the scalar oracle.
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

if [ -f "$BUILD/build.ninja" ]; then
  meson setup --reconfigure "$BUILD" -Dkernels_only=true -Davxvnni_on_evex=true
else
  meson setup "$BUILD" -Dkernels_only=true -Davxvnni_on_evex=true
fi
ninja -C "$BUILD"

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
echo "avxvnni_evex.sh: the AVX-VNNI kernels (EVEX-encoded) agree with the scalar oracle"
