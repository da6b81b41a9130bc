#!/bin/sh
# SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers
# SPDX-License-Identifier: ISC
# The LADSPA entry point of quantone.so (LADSPA_PATH = the bundle, where
# the default model is) in applyplugin (ladspa-sdk) and sox's ladspa
# effect: audio out, setting-dependent, and the same DSP as the LV2 plugin
# (compared with lv2apply's render of the same setting when available).
. "$(dirname "$0")/common.sh"
need applyplugin sox
export LADSPA_PATH="$BUNDLE"
# control order: precision mapping asymmetric granularity activations
#                monitor error_gain input_level output_level slim
#                input_dbu calibrate_input output_mode bit_budget half_form rounding
# (the defaults, int8 dynamic activations included, so lv2apply's render
# below is the same setting)
for p in 32 4; do
  applyplugin "$WORK/in.wav" "$WORK/ap$p.wav" quantone.so quantone $p 0 0 1 1 0 20 0 0 1 12 0 1 0 0 0 \
    >"$WORK/applyplugin$p.log" 2>&1 || { cat "$WORK/applyplugin$p.log"; fail "applyplugin precision $p"; }
  audible "$WORK/ap$p.wav" "applyplugin precision $p"
done
E=$(field esr_db "$("$WAVSTAT" "$WORK/ap4.wav" "$WORK/ap32.wav")")
echo "  applyplugin 4 bits vs FP32: ESR $E dB"
gt "$E" -60 || fail "applyplugin: precision 4 renders like FP32 ($E dB)"

# sox: trailing controls take their defaults; mapping 2 = k-means
for args in "32" "2 2"; do
  name=$(echo "$args" | tr ' ' _)
  sox "$WORK/in.wav" -b 24 "$WORK/sox$name.wav" ladspa quantone.so quantone $args \
    >"$WORK/sox$name.log" 2>&1 || { cat "$WORK/sox$name.log"; fail "sox ladspa quantone $args"; }
  audible "$WORK/sox$name.wav" "sox ladspa quantone $args"
done
E=$(field esr_db "$("$WAVSTAT" "$WORK/sox2_2.wav" "$WORK/sox32.wav")")
echo "  sox 2-bit k-means vs FP32: ESR $E dB"
gt "$E" -60 || fail "sox: precision 2 renders like FP32 ($E dB)"
E=$(field esr_db "$("$WAVSTAT" "$WORK/sox32.wav" "$WORK/ap32.wav")")
echo "  sox FP32 vs applyplugin FP32: ESR $E dB (16-bit output of applyplugin)"
gt -60 "$E" || fail "sox and applyplugin disagree at FP32 ($E dB)"

if command -v lv2apply >/dev/null 2>&1; then
  LV2_PATH="$LV2DIR" lv2apply -i "$WORK/in.wav" -o "$WORK/lv2_4.wav" -c precision 4 "$URI" \
    >"$WORK/lv2apply.log" 2>&1 || fail "lv2apply"
  E=$(field esr_db "$("$WAVSTAT" "$WORK/ap4.wav" "$WORK/lv2_4.wav")")
  echo "  LADSPA 4 bits vs LV2 4 bits: ESR $E dB"
  gt -60 "$E" || fail "the LADSPA and LV2 builds render 4 bits differently ($E dB)"
fi
echo "PASS: LADSPA in applyplugin and sox"
