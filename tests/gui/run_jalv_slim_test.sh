#!/bin/sh
# SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers
# SPDX-License-Identifier: ISC
# The Slim slider in jalv.gtk3 under Xvfb (the setup of run_jalv_test.sh):
#   1. a slimmable model (QUANTONE_GUI_TEST_LOAD, slim at SLIM): the GUI's
#      test hook reports the slider on screen (mapped) with the text of the
#      size that plays, the weights panel names that size under its
#      caption, and below the full size the memory meter says the full
#      size's float bytes apart from the size's own and the DSP time says
#      it is against the full-size FP32; screenshot
#      ARTIFACTS/gui_slim.png;
#   2. a plain model (models/overdrive_standard.nam, loaded the same way:
#      the bundle's default is itself slimmable): once its modelInfo has
#      arrived the slider is hidden and never on screen again, and neither
#      the weights panel, the memory meter nor the DSP time speaks of
#      sizes; screenshot
#      ARTIFACTS/gui_plain.png;
#   3. on either, every control can be reached on this screen
#      (QT_GUI_SCREEN, e.g. 1024x768): the window asks for no more than the
#      screen has, and with the slimmable model (the tallest column) the
#      mouse wheel over the column scrolls it until its last control is in
#      view, changing no control on the way (the column's sliders pass
#      under the pointer); screenshot ARTIFACTS/gui_slim_scrolled.png.
# usage: run_jalv_slim_test.sh BUILD_DIR ARTIFACT_DIR SLIMMABLE.nam [SLIM]  (exit 77 = skipped)
set -u
BUILD=$(cd "$1" && pwd)
ART=${2:-$BUILD/artifacts}
MODEL=${3:-}
SLIM=${4:-0.5}
mkdir -p "$ART"
ART=$(cd "$ART" && pwd)
URI=https://quantone.audio/plugins/quantone

fail() { echo "FAIL: $*"; echo "--- jalv stderr"; tail -30 "$ERR"; exit 1; }
. "$(dirname "$0")/../common/gui_session.sh"
[ -r "$MODEL" ] || { echo "SKIP: no slimmable model '$MODEL' (../shared/reference)"; exit 77; }
gui_session_require Xvfb jackd jalv.gtk3 xdotool import identify jack_lsp
gui_session_start gui-slim "$ART"

# start_jalv NAME UNTIL [TEST_LOAD]: jalv.gtk3 with the window's self-test
# log in ART/jalv-NAME.err; waits (60 s at most: a loaded CI machine) for the window (WID) and a
# log line matching UNTIL, then a second for a few redraw ticks.
start_jalv() {
  ERR="$ART/jalv-$1.err"
  LV2_PATH="$BUILD/lv2" QUANTONE_GUI_SELFTEST=1 QUANTONE_GUI_TEST_LOAD="${3:-}" \
    jalv.gtk3 -c slim=$SLIM $URI >"$ART/jalv-$1.out" 2>"$ERR" &
  JALV=$!
  PIDS="$JALV $PIDS"
  gui_session_wait_window $JALV "$ERR" "$2" 600
  # signal, so the meters and views show what the size costs in error
  if command -v jack_metro >/dev/null 2>&1 && [ -z "${METRO:-}" ]; then
    jack_metro -n qtmetro -b 240 -f 196 -A 0.5 -D 220 -a 1 -d 90 >/dev/null 2>&1 &
    METRO=$!
    PIDS="$METRO $PIDS"
    for i in $(seq 50); do jack_lsp | grep -q '^qtmetro:' && break; sleep 0.1; done
  fi
  if [ -n "${METRO:-}" ]; then
    IN=""
    for i in $(seq 50); do
      IN=$(jack_lsp | grep -E '^Quantone[^:]*:in$' | head -1)
      [ -n "$IN" ] && break
      sleep 0.1
    done
    jack_connect "$(jack_lsp | grep '^qtmetro:' | head -1)" "$IN" 2>/dev/null ||
      echo "note: could not connect the metronome to '$IN'"
  fi
  sleep 3
}

stop_jalv() {
  xdotool mousemove --window "$WID" 5 5
  import -window "$WID" "$ART/$1" || fail "import failed"
  echo "screenshot $1: $(identify -format '%wx%h' "$ART/$1")"
  stop_in_order $JALV
  PIDS=$(echo " $PIDS " | sed "s/ $JALV / /")
}

# last_after_load FILE WHAT: in LINE, the last GUI report WHAT after the
# plugin says it loaded FILE (the default model reports first), waiting up
# to 30 s.
last_after_load() {
  for i in $(seq 300); do
    LINE=$(sed -n "/Quantone: loaded .*$(basename "$1")\$/,\$p" "$ERR" | grep "quantone-gui: $2" |
      tail -1)
    [ -n "$LINE" ] && return 0
    sleep 0.1
  done
  fail "no $2 report after $(basename "$1") loaded"
}
slider_after_load() { last_after_load "$1" 'slim slider'; }

# 1. Slimmable.
start_jalv slim "Quantone: loaded .*$(basename "$MODEL")\$" "$MODEL"
slider_after_load "$MODEL"
echo "slimmable $(basename "$MODEL"): $LINE"
echo "$LINE" | grep -q 'slider shown ([2-9][0-9]* steps): .*weights, [0-9]*% of the MACs' ||
  fail "the Slim slider is not on screen for $(basename "$MODEL") ('$LINE')"
# The size the slider names ("LABEL, 0.1k weights, 15% of the MACs"): the
# weights panel shows its weights and says so; below the full size the
# memory meter compares with that size's float model and names the full one.
SIZE=$(echo "$LINE" | sed 's/.*steps): //; s/, [0-9.]*[kM]* weights, .*//')
last_after_load "$MODEL" 'weights panel'
echo "weights panel: $LINE"
echo "$LINE" | grep -qF "| size: $SIZE |" ||
  fail "the weights panel does not name the size that plays ('$SIZE'): '$LINE'"
last_after_load "$MODEL" 'memory meter'
echo "memory meter: $LINE"
if [ "$SLIM" != 1 ] && [ "$SLIM" != 1.0 ]; then
  echo "$LINE" | grep -qE '\([0-9]+% saved\) \| vs FP32 of this size  ·  full size [0-9.]+ k?B FP32$' ||
    fail "below the full size the memory meter does not say the full size apart: '$LINE'"
fi
# The DSP time is against the full-size FP32 reference at any size: below
# the full size its line says so.
last_after_load "$MODEL" 'dsp time'
echo "dsp time: $LINE"
if [ "$SLIM" != 1 ] && [ "$SLIM" != 1.0 ]; then
  echo "$LINE" | grep -qE 'dsp time: [0-9.]+x full-size FP32( |$)' ||
    fail "below the full size the DSP time does not say it is against the full-size FP32: '$LINE'"
fi
gui_session_check_layout "$ERR"
xdotool mousemove --window "$WID" 5 5
import -window "$WID" "$ART/gui_slim.png" || fail "import failed"
echo "screenshot gui_slim.png: $(identify -format '%wx%h' "$ART/gui_slim.png")"

# 3. Scroll the column to its end with the wheel, pointer over its middle.
WRITES=$(grep -c 'wrote port' "$ERR")
xdotool mousemove --window "$WID" $(((LAY_X0 + LAY_X1) / 2)) $(((LAY_TOP + LAY_BOT) / 2))
xdotool click --repeat 60 --delay 15 5
sleep 1
gui_session_layout "$ERR"
echo "scrolled the column with the wheel: its last control at $LAY_Y0..$LAY_Y1, view $LAY_TOP..$LAY_BOT"
[ "$LAY_Y0" -ge "$LAY_TOP" ] && [ "$LAY_Y1" -le "$LAY_BOT" ] ||
  fail "scrolled to the end, the column's last control ($LAY_Y0..$LAY_Y1) is not in its view ($LAY_TOP..$LAY_BOT)"
[ "$(grep -c 'wrote port' "$ERR")" = "$WRITES" ] ||
  fail "the wheel changed a control while scrolling the column: $(grep 'wrote port' "$ERR" | tail -1)"
stop_jalv gui_slim_scrolled.png

# 2. Plain.
PLAIN=$(cd "$(dirname "$0")/../../models" && pwd)/overdrive_standard.nam
start_jalv plain "Quantone: loaded .*$(basename "$PLAIN")\$" "$PLAIN"
slider_after_load "$PLAIN"
echo "plain model: $LINE"
echo "$LINE" | grep -q 'slider hidden' || fail "no report of the Slim slider for a plain model"
sed -n "/Quantone: loaded .*$(basename "$PLAIN")\$/,\$p" "$ERR" | grep -q 'slider shown' &&
  fail "the Slim slider appeared for a plain model"
last_after_load "$PLAIN" 'weights panel'
echo "plain weights panel: $LINE"
echo "$LINE" | grep -qE '\|  \| [0-9]+ weights$' ||
  fail "the weights panel names a size for a plain model: '$LINE'"
last_after_load "$PLAIN" 'memory meter'
echo "plain memory meter: $LINE"
echo "$LINE" | grep -qE 'saved\) \| vs the FP32 model$' ||
  fail "the memory meter names a full size for a plain model: '$LINE'"
last_after_load "$PLAIN" 'dsp time'
echo "plain dsp time: $LINE"
echo "$LINE" | grep -qE 'dsp time: [0-9.]+x FP32( |$)' ||
  fail "the DSP time of a plain model is not simply against FP32: '$LINE'"
gui_session_check_layout "$ERR"
stop_jalv gui_plain.png
echo "gui-jalv-slim test passed; screenshots in $ART"
exit 0
