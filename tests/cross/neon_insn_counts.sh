#!/usr/bin/env bash
# SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers
# SPDX-License-Identifier: ISC
# Instructions the AArch64 int8 GEMM executes, counted under qemu-user with
# tests/cross/qemu_insn_count.c (an instruction count, not a timing: qemu's
# speed says nothing about an ARM core's). For each ISA, format and shape,
# gemm_workload runs with 1 and with 1 + CALLS GEMM calls; the difference
# of the two counts over CALLS is one call's instructions, printed with
# the count per 16 k x 4 rows x 1 frame (the unit the kernels step in).
#
# Needs what tests/neon.sh needs, plus a host gcc for the plugin.
# Env: BUILD (default build-aarch64, a cross build as tests/neon.sh makes
#      it), ISAS (default "neon neon-dotprod"), CALLS (default 10),
#      FORMATS (default "s8 s4 s2 cb4 cb2"),
#      SHAPES (default "16x16x64 16x48x64 16x48x1 64x256x64": M x K x N).
set -euo pipefail

cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build-aarch64}
ISAS=${ISAS:-neon neon-dotprod}
CALLS=${CALLS:-10}
FORMATS=${FORMATS:-s8 s4 s2 cb4 cb2}
SHAPES=${SHAPES:-16x16x64 16x48x64 16x48x1 64x256x64}
SYSROOT=/usr/aarch64-linux-gnu

exe="$BUILD/tests/kernels/gemm_workload"
[ -x "$exe" ] || { echo "neon_insn_counts.sh: no $exe (run tests/neon.sh or ninja -C $BUILD)" >&2; exit 1; }
plugin="$BUILD/qemu_insn_count.so"
gcc -shared -fPIC -O2 -o "$plugin" tests/cross/qemu_insn_count.c

# count ISA FORMAT M K N CALLS: the guest instructions of one whole run
count() {
  QUANTONE_ISA=$1 QEMU_CPU=max qemu-aarch64 -plugin "$plugin" -d plugin -L "$SYSROOT" \
    "$exe" "$2" "$3" "$4" "$5" "$6" 2>&1 >/dev/null | sed -n 's/^insns //p'
}

echo "| ISA | format | M x K x N | instructions per call | per 16 k x 4 rows x frame |"
echo "|---|---|---|---|---|"
for isa in $ISAS; do
  for shape in $SHAPES; do
    IFS=x read -r M K N <<<"$shape"
    for f in $FORMATS; do
      one=$(count "$isa" "$f" "$M" "$K" "$N" 1)
      more=$(count "$isa" "$f" "$M" "$K" "$N" $((CALLS + 1)))
      per_call=$(((more - one) / CALLS))
      units=$(( (M + 3) / 4 * ((K + 15) / 16) * N ))
      printf '| %s | %s | %s | %d | %s |\n' "$isa" "$f" "$M x $K x $N" "$per_call" \
        "$(awk -v a="$per_call" -v b="$units" 'BEGIN { printf "%.1f", a / b }')"
    done
  done
done
