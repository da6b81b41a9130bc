#!/usr/bin/env bash
# SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers
# SPDX-License-Identifier: ISC
# Cross-build the kernels and their test for AArch64 and run the test under
# qemu-user twice: on a CPU with sdot (both neon and neon-dotprod must be
# checked against scalar) and on one without (neon checked, neon-dotprod
# must be skipped, proving the HWCAP_ASIMDDP check in qk_dispatch.c).
#
# Needs: gcc-aarch64-linux-gnu, qemu-user, meson, ninja.
# Env:   BUILD (default build-aarch64), CPU_DOTPROD (default max),
#        CPU_NODOTPROD (default cortex-a57), TEST_ARGS (extra test options,
#        e.g. "--cases 1000 --seed 7").
#
# Also runs tests/kernels/test_wavenet_layer on the sdot CPU.
#
# Relies on tests/kernels/test_kernels.c: exits non-zero on any mismatch,
# accepts --require ISA (fails if that ISA cannot run), and reports each ISA
# as "  <name>  agrees with scalar" or "  <name>  not available here" and the
# dispatcher's pick as "default ISA <name>".
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-aarch64}
CROSS=tests/cross/aarch64-linux-gnu.ini
SYSROOT=/usr/aarch64-linux-gnu
CPU_DOTPROD=${CPU_DOTPROD:-max}
CPU_NODOTPROD=${CPU_NODOTPROD:-cortex-a57}

for tool in aarch64-linux-gnu-gcc qemu-aarch64 meson ninja; do
  command -v "$tool" >/dev/null || { echo "neon.sh: $tool not found" >&2; exit 2; }
done

if [ -f "$BUILD/build.ninja" ]; then
  meson setup --reconfigure "$BUILD" --cross-file "$CROSS" -Dkernels_only=true
else
  meson setup "$BUILD" --cross-file "$CROSS" -Dkernels_only=true
fi
ninja -C "$BUILD"

exe=$(find "$BUILD" -type f -name test_kernels -perm -u+x | head -n 1)
[ -n "$exe" ] || { echo "neon.sh: no test_kernels executable in $BUILD" >&2; exit 1; }

# Runs the test on one CPU model (extra args: test options), fails if it fails.
run_on() {
  local cpu=$1 log="$BUILD/neon-$1.log"
  shift
  echo "=== test_kernels under qemu -cpu $cpu"
  # QUANTONE_ISA unset: the dispatcher must pick by HWCAP alone.
  if ! env -u QUANTONE_ISA QEMU_CPU="$cpu" qemu-aarch64 -L "$SYSROOT" "$exe" "$@" ${TEST_ARGS:-} \
      2>&1 | tee "$log"; then
    echo "neon.sh: test_kernels failed on $cpu" >&2
    exit 1
  fi
}

fail=0
# expect CPU REGEX WHAT: the log of CPU must match the extended regex.
expect() {
  grep -Eq "$2" "$BUILD/neon-$1.log" || { echo "FAIL on $1: $3" >&2; fail=1; }
}

run_on "$CPU_DOTPROD" --require neon --require neon-dotprod
expect "$CPU_DOTPROD" '^ +neon +agrees with scalar$' "neon not checked against scalar"
expect "$CPU_DOTPROD" '^ +neon-dotprod +agrees with scalar$' "neon-dotprod not checked against scalar"
expect "$CPU_DOTPROD" 'default ISA neon-dotprod$' "dispatcher did not pick neon-dotprod"

run_on "$CPU_NODOTPROD" --require neon
expect "$CPU_NODOTPROD" '^ +neon +agrees with scalar$' "neon not checked against scalar"
expect "$CPU_NODOTPROD" '^ +neon-dotprod +not available here$' \
  "neon-dotprod not reported unavailable on a CPU without sdot"
expect "$CPU_NODOTPROD" 'default ISA neon$' "dispatcher did not fall back to neon"
# The baseline int8 GEMM's int16 runs, at their bound (qk_neon_int16_run_blocks).
expect "$CPU_NODOTPROD" '^ +neon +int16 runs exact at their bound$' \
  "neon's int16 runs not checked at their bound"

# A test executable of $BUILD, named $1, under qemu on the sdot CPU with
# both NEON ISAs required; the last $2 lines of its output shown.
run_on_dotprod() {
  local exe
  exe=$(find "$BUILD" -type f -name "$1" -perm -u+x | head -n 1)
  [ -n "$exe" ] || { echo "neon.sh: no $1 executable in $BUILD" >&2; exit 1; }
  echo "=== $1 under qemu -cpu $CPU_DOTPROD"
  if ! env -u QUANTONE_ISA QEMU_CPU="$CPU_DOTPROD" qemu-aarch64 -L "$SYSROOT" "$exe" \
      --require neon --require neon-dotprod 2>&1 | tail -n "$2"; then
    echo "neon.sh: $1 failed on $CPU_DOTPROD" >&2
    fail=1
  fi
}

# The int8 WaveNet layer (step by step on NEON, no fused form yet) must
# give the scalar ISA's bits on both NEON ISAs.
run_on_dotprod test_wavenet_layer 12
# The recurrent models' steps (LSTM/GRU; NEON runs the scalar form) and
# the fused input projection and Dense (qk_rnn_run_io) against the GEMMs.
run_on_dotprod test_rnn 6

if [ "$fail" = 0 ]; then
  echo "neon.sh: OK (neon + neon-dotprod on $CPU_DOTPROD, neon only on $CPU_NODOTPROD)"
fi
exit "$fail"
