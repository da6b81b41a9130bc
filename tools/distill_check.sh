#!/usr/bin/env bash
# SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers
# SPDX-License-Identifier: ISC
# Issue 17's post-training distillation, reproduced and checked: each
# recipe distills a capture from ../shared/reference/nam into a quantized
# file (README.md, "Post-training distillation"), then renders it on three
# inputs no stage trained on (input.wav and 8 s of the built-in clip at
# seeds 99 and 7) and compares with the float capture. It fails when an
# ESR is above the issue's target for that width. Minutes of one core per
# recipe (the figures in brackets), so CI does not run it.
#
# Usage: tools/distill_check.sh [RECIPE]...   (default: all)
#   a1-3bit   A1, 3 bits asym, groups of 16, two stages   (-18 dB; ~7 min)
#   a2-4bit   A2 standard, 4 bits asym per channel        (-25 dB; ~2 min)
#   a1-2bit   A1, 2 bits asym, groups of 32, 60 epochs    (-10 dB; ~3 min)
#   a2-2bit   A2 standard, 2 bits asym, groups of 32      (-10 dB; ~3 min)
#   a1-4bit   A1, 4 bits asym per channel, three stages   (-25 dB; ~33 min)
# Env: BUILD (default build), WORK (default build/distill-check).
set -euo pipefail

cd "$(dirname "$0")/.."
ALL=(a1-3bit a2-4bit a1-2bit a2-2bit a1-4bit)
recipes=("$@")
[ ${#recipes[@]} -gt 0 ] || recipes=("${ALL[@]}")
for r in "${recipes[@]}"; do
  [[ " ${ALL[*]} " == *" $r "* ]] ||
    { echo "distill_check.sh: unknown recipe $r (${ALL[*]})" >&2; exit 2; }
done
BUILD=${BUILD:-build}
WORK=${WORK:-$BUILD/distill-check}
REF=../shared/reference/nam
TRAIN=$BUILD/tools/quantone-train
RUN=$BUILD/tools/quantone-run
for f in "$TRAIN" "$RUN" "$BUILD/tools/quantone-demo-clip" "$REF/input.wav"; do
  [ -e "$f" ] || { echo "distill_check.sh: $f not found (build first)" >&2; exit 2; }
done
mkdir -p "$WORK"

# The options every stage shares: one thread, the trainer's fixed seed.
COMMON=(--steps 10 --segment 8192 --preemph 0 --plain 0 --threads 1 --seed 3)

# stage NAME TEACHER QAT INIT OUT [options]: one distillation stage; OUT
# gets the best epoch's (latent) weights.
stage() {
  local name=$1 teacher=$2 qat=$3 init=$4 out=$5
  shift 5
  echo "  $name: stage $(basename "$out" .nam)"
  "$TRAIN" distill --teacher "$teacher" --init "$init" --qat "$qat" "${COMMON[@]}" "$@" \
    --out "$out" >"${out%.nam}.log" 2>&1 || {
    tail -n 5 "${out%.nam}.log"
    echo "distill_check.sh: $name: a stage failed" >&2
    exit 1
  }
}

# check NAME TEACHER FILE TARGET_DB [play options]: ESR of FILE against the
# float TEACHER on the three held-out inputs, each at or below TARGET_DB.
check() {
  local name=$1 teacher=$2 file=$3 target=$4
  shift 4
  local ok=0 line="" in ref db
  for in in input s99 s7; do
    ref="$WORK/float-$(basename "$teacher" .nam)-$in.wav"
    [ -f "$ref" ] || "$RUN" --model "$teacher" --in "$WORK/$in.wav" --out "$ref" \
      >"${ref%.wav}.log" 2>&1 || { cat "${ref%.wav}.log" >&2; exit 1; }
    "$RUN" --model "$file" --in "$WORK/$in.wav" --ref "$ref" --ref-skip 0 \
      --json "$WORK/$name-$in.json" "$@" >"$WORK/$name-$in.log" 2>&1 ||
      { cat "$WORK/$name-$in.log" >&2; exit 1; }
    # quantone-run's line "against REF from 0 s (N frames): ESR e (D dB)"
    db=$(sed -n 's/^ *against .*: ESR [^ ]* (\(.*\) dB)$/\1/p' "$WORK/$name-$in.log")
    [ -n "$db" ] || { echo "distill_check.sh: no ESR in $WORK/$name-$in.log" >&2; exit 1; }
    line="$line $in $db dB"
    awk -v d="$db" -v t="$target" 'BEGIN { exit !(d <= t) }' || ok=1
  done
  if [ $ok -eq 0 ]; then
    echo "  $name:$line: at or below $target dB"
  else
    echo "  $name:$line: ABOVE the $target dB target" >&2
  fi
  return $ok
}

cp "$REF/input.wav" "$WORK/input.wav"
"$BUILD/tools/quantone-demo-clip" "$WORK/s99.wav" --seconds 8 --seed 99 >/dev/null
"$BUILD/tools/quantone-demo-clip" "$WORK/s7.wav" --seconds 8 --seed 7 >/dev/null

A1=$REF/wavenet_a1_standard.nam
A2=$REF/current/A2.nam
SHORT=(--train-seconds 120 --val-seconds 8 --batch 8)

a1_3bit() {
  local q=3:linear:asym:group16 w=$WORK/a1-3bit
  stage a1-3bit "$A1" $q "$A1" "$w-1.nam" "${SHORT[@]}" --epochs 60 --lr 4e-4 --lr-decay 0.98 --tones 45
  stage a1-3bit "$A1" $q "$w-1.nam" "$w-2.nam" "${SHORT[@]}" --epochs 60 --lr 1.5e-4 \
    --lr-decay 0.99 --tones 45 --ema 0.98
  check a1-3bit "$A1" "$w-2.nam" -18 --precision 3 --asymmetric --granularity group --group 16
}

a2_4bit() {
  local q=4:linear:asym:channel w=$WORK/a2-4bit
  stage a2-4bit "$A2" $q "$A2" "$w-1.nam" "${SHORT[@]}" --epochs 15 --lr 3e-4 --lr-decay 0.98
  check a2-4bit "$A2" "$w-1.nam" -25 --precision 4 --asymmetric --granularity channel
}

# A1 at 4 bits per channel (README, "A1 at 4 bits per channel: the third
# stage from the quantized file"): two stages with held tones, the second
# averaged; then a long, slow third stage on more audio that starts from
# the second's exported file, whose weights sit on the grid (from the
# latent --out weights the held-out error jumps and peaks early).
a1_4bit() {
  local q=4:linear:asym:channel w=$WORK/a1-4bit
  stage a1-4bit "$A1" $q "$A1" "$w-1.nam" "${SHORT[@]}" --epochs 60 --lr 3e-4 --lr-decay 0.98 \
    --tones 60
  stage a1-4bit "$A1" $q "$w-1.nam" "$w-2.nam" "${SHORT[@]}" --epochs 60 --lr 1.5e-4 \
    --lr-decay 0.99 --tones 60 --ema 0.98 --export "$w-2q.nam"
  stage a1-4bit "$A1" $q "$w-2q.nam" "$w-3.nam" --train-seconds 240 --val-seconds 24 --batch 16 \
    --epochs 250 --lr 5e-5 --lr-decay 0.995 --tones 60 --ema 0.99
  check a1-4bit "$A1" "$w-3.nam" -25 --precision 4 --asymmetric --granularity channel
}

# 2 bits, asymmetric per group of 32 (README, "Asymmetric and per group"):
# one stage at --lr 5e-4
two_bit() {
  local name=$1 teacher=$2 epochs=$3 w=$WORK/$1
  stage "$name" "$teacher" 2:linear:asym:group32 "$teacher" "$w-1.nam" "${SHORT[@]}" \
    --epochs "$epochs" --lr 5e-4 --lr-decay 0.98
  check "$name" "$teacher" "$w-1.nam" -10 --precision 2 --asymmetric --granularity group --group 32
}

failed=0
for r in "${recipes[@]}"; do
  case $r in
  a1-3bit) a1_3bit || failed=1 ;;
  a2-4bit) a2_4bit || failed=1 ;;
  a1-2bit) two_bit a1-2bit "$A1" 60 || failed=1 ;;
  a2-2bit) two_bit a2-2bit "$A2" 45 || failed=1 ;;
  a1-4bit) a1_4bit || failed=1 ;;
  esac
done
[ $failed -eq 0 ] && echo "distill_check.sh: every target met" || exit 1
