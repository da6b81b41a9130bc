#!/bin/sh
# SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers
# SPDX-License-Identifier: ISC
# lv2apply (lilv-utils): no host features at all, run() one frame at a
# time, controls by -c. Outputs at FP32 / 8 / 4 / 2 bits must be audio and
# differ from each other, the more bits the closer to FP32.
. "$(dirname "$0")/common.sh"
need lv2apply
for p in 32 8 4 2; do
  LV2_PATH="$LV2DIR" lv2apply -i "$WORK/in.wav" -o "$WORK/out$p.wav" -c precision $p "$URI" \
    >"$WORK/lv2apply$p.log" 2>&1 || { cat "$WORK/lv2apply$p.log"; fail "lv2apply -c precision $p"; }
  audible "$WORK/out$p.wav" "precision $p"
done
for p in 8 4 2; do
  S=$("$WAVSTAT" "$WORK/out$p.wav" "$WORK/out32.wav")
  E=$(field esr_db "$S")
  echo "  precision $p vs 32: ESR $E dB"
  gt "$E" -100 || fail "precision $p renders the same as FP32: -c precision had no effect"
  eval "esr$p=$E"
done
gt "$esr2" "$esr8" || fail "2 bits ($esr2 dB) should be further from FP32 than 8 bits ($esr8 dB)"
echo "PASS: lv2apply renders, and -c precision changes the output"
