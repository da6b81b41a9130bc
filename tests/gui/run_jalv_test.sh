#!/bin/sh
# SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers
# SPDX-License-Identifier: ISC
# GUI end-to-end test in jalv.gtk3 (DESIGN.md "Testing recipes"):
#   Xvfb + jackd (dummy backend) + jalv.gtk3 running the plugin with its
#   ui:Gtk3UI, fed by jack_metro so the views have signal.
#   1. loading a broken model (QUANTONE_GUI_TEST_LOAD) shows the error in
#      the window (the GUI reports its error label text on stderr);
#   2. screenshot -> ARTIFACTS/gui.png, checked non-blank;
#   3. clicking "4" with xdotool changes the plugin's precision within a
#      second (its weight_bytes output port, printed by --print-controls);
#   4. CPU of the GUI thread while redrawing every view at 30 fps;
#   5. every control can be reached at the window's default size on this
#      screen (gui_session_check_layout), and the FP16 weights / BF16
#      compute row can be pressed at 16 bits only (clicking "16"), where
#      the weights panel's caption says FP16 (screenshot ARTIFACTS/gui_16.png);
#   6. the memory meter shows no figure before the plugin's modelInfo.
# usage: run_jalv_test.sh BUILD_DIR ARTIFACT_DIR     (exit 77 = skipped)
set -u
BUILD=$(cd "$1" && pwd)
ART=${2:-$BUILD/artifacts}
mkdir -p "$ART"
ART=$(cd "$ART" && pwd)
URI=https://quantone.audio/plugins/quantone
CPU_SECONDS=${QT_GUI_CPU_SECONDS:-10}

fail() { echo "FAIL: $*"; echo "--- jalv stderr"; tail -30 "$ART/jalv.err"; exit 1; }
. "$(dirname "$0")/../common/gui_session.sh"
gui_session_require Xvfb jackd jalv.gtk3 xdotool import identify jack_lsp jack_connect
HAVE_METRO=1
command -v jack_metro >/dev/null 2>&1 || HAVE_METRO=0
gui_session_start gui-jalv "$ART"

BROKEN="$ART/broken.nam"
printf '{ "version": "0.5.0", "architecture": "WaveNet", "config": { broken' > "$BROKEN"

# --print-controls prints every control output change; the GUI test
# hooks report the error label and button geometry on stderr; FORCE_REDRAW
# redraws all six views at 30 fps (the worst case measured below).
LV2_PATH="$BUILD/lv2" QUANTONE_GUI_SELFTEST=1 QUANTONE_GUI_TEST_LOAD="$BROKEN" \
  QUANTONE_GUI_FORCE_REDRAW=1 \
  jalv.gtk3 --print-controls -c precision=8 $URI >"$ART/jalv.out" 2>"$ART/jalv.err" &
JALV=$!
PIDS="$JALV $PIDS"

gui_session_wait_window $JALV "$ART/jalv.err" 'button precision=4' 100
grep -q 'ui-gtk3' "$ART/jalv.err" "$ART/jalv.out" || fail "jalv did not load the Gtk3 UI"
echo "window $WID"
# The memory meter as the window opens, before the plugin's modelInfo:
# no figure (the weight_bytes port alone made "15.1 kB of 15.1 kB (0% saved)").
OPEN=$(grep 'quantone-gui: memory meter: ' "$ART/jalv.err" | head -1)
echo "memory meter as the window opens: $OPEN"
echo "$OPEN" | grep -qF 'memory meter: — | waiting for the plugin' ||
  fail "the memory meter shows a figure before the plugin's modelInfo: '$OPEN'"

if [ $HAVE_METRO = 1 ]; then
  jack_metro -n qtmetro -b 240 -f 196 -A 0.5 -D 220 -a 1 -d 90 >/dev/null 2>&1 &
  PIDS="$! $PIDS"
  for i in $(seq 50); do jack_lsp | grep -q '^qtmetro:' && break; sleep 0.1; done
  IN=$(jack_lsp | grep -E '^Quantone[^:]*:in$' | head -1)
  jack_connect "$(jack_lsp | grep '^qtmetro:' | head -1)" "$IN" || echo "warning: could not connect metro"
else
  echo "note: jack_metro missing, views show silence"
fi

# 1. Error label.
ERR=""
for i in $(seq 100); do
  ERR=$(grep 'quantone-gui: error label: .' "$ART/jalv.err" | tail -1 | sed 's/^quantone-gui: error label: //')
  [ -n "$ERR" ] && break
  sleep 0.1
done
[ -n "$ERR" ] || fail "broken model: no error shown in the window"
echo "ok: error shown in the window: $ERR"

# 2. Screenshot with the error bar, then dismiss it for the clean shot.
sleep 3
import -window "$WID" "$ART/gui_error.png" || fail "import failed"
STATS=$(identify -format '%k %[fx:standard_deviation]' "$ART/gui_error.png")
echo "screenshot gui_error.png: $(identify -format '%wx%h' "$ART/gui_error.png"), colours/stddev: $STATS"

# 3. Click "4".
LINE=$(grep 'button precision=4 at' "$ART/jalv.err" | tail -1)
set -- $(echo "$LINE" | sed 's/.* at \([0-9-]*\) \([0-9-]*\) size \([0-9]*\) \([0-9]*\).*/\1 \2 \3 \4/')
CX=$(($1 + $3 / 2)); CY=$(($2 + $4 / 2))
BEFORE=$(grep '^weight_bytes = ' "$ART/jalv.out" | tail -1)
NERR=$(wc -l < "$ART/jalv.err")
xdotool mousemove --window "$WID" $CX $CY click 1
# The GUI stamps its port write and the plugin's answer (the active
# variant's weight_bytes output port) with one monotonic clock.
T_WRITE="" T_SEEN="" NEWBYTES=""
for i in $(seq 100); do
  NEWLINES=$(tail -n +$((NERR + 1)) "$ART/jalv.err")
  T_WRITE=$(echo "$NEWLINES" | grep 'wrote port 4 = 4 at' | tail -1 | awk '{print $NF}')
  L=$(echo "$NEWLINES" | grep 'quantone-gui: port 17 = .* at' | tail -1)
  if [ -n "$T_WRITE" ] && [ -n "$L" ]; then
    T_SEEN=$(echo "$L" | awk '{print $NF}'); NEWBYTES=$(echo "$L" | awk '{print $5}'); break
  fi
  sleep 0.05
done
[ -n "$T_WRITE" ] || fail "clicking 4 did not write the precision port"
[ -n "$T_SEEN" ] || fail "clicking 4 did not change the plugin (weight_bytes still '$BEFORE' after 5 s)"
LAT=$(awk "BEGIN{printf \"%.3f\", $T_SEEN - $T_WRITE}")
AFTER=$(grep '^weight_bytes = ' "$ART/jalv.out" | tail -1)
echo "clicked '4' at $CX,$CY: precision port written; plugin's weight memory $BEFORE -> $NEWBYTES" \
     "after ${LAT}s (jalv --print-controls now: $AFTER)"
LIMIT=${QT_GUI_SWITCH_LIMIT:-1.0}
awk "BEGIN{exit !($LAT <= $LIMIT)}" || SWITCH_FAIL="plugin took ${LAT}s to switch to 4 bits (limit ${LIMIT}s)"
xdotool mousemove --window "$WID" 5 5   # away from the buttons: no tooltip in the shot
sleep 2
import -window "$WID" "$ART/gui.png" || fail "import failed"
set -- $(identify -format '%k %[fx:standard_deviation]' "$ART/gui.png")
echo "screenshot gui.png: $(identify -format '%wx%h' "$ART/gui.png"), $1 colours, stddev $2"
[ "$1" -ge 64 ] || fail "screenshot has only $1 colours"
awk "BEGIN{exit !($2 > 0.05)}" || fail "screenshot is flat (stddev $2)"
gui_session_check_layout "$ART/jalv.err"
HALF=$(grep 'quantone-gui: half form row' "$ART/jalv.err" | tail -1)
echo "at 4 bits: $HALF"
echo "$HALF" | grep -q 'row insensitive' ||
  fail "the FP16 / BF16 row can be pressed at 4 bits ('$HALF')"

# 4. CPU of the GUI: jalv's main thread runs GTK and our UI (the audio runs
#    in JACK's thread, the worker in its own), so /proc/PID/task/PID is the GUI.
TCK=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "$1"; }
# Two windows of CPU_SECONDS / 2, the lower one counts: on a shared
# machine (CI runs two tests at once) a window can catch a one-off burst
# (a late preparation's data arriving), the GUI's steady cost is the floor.
HALF_S=$(awk "BEGIN{print $CPU_SECONDS / 2}")
GUI_PCT=""
for w in 1 2; do
  G0=$(cpu /proc/$JALV/task/$JALV/stat); P0=$(cpu /proc/$JALV/stat)
  sleep "$HALF_S"
  G1=$(cpu /proc/$JALV/task/$JALV/stat); P1=$(cpu /proc/$JALV/stat)
  G=$(awk "BEGIN{printf \"%.1f\", 100 * ($G1 - $G0) / $TCK / $HALF_S}")
  A=$(awk "BEGIN{printf \"%.1f\", 100 * ($P1 - $P0) / $TCK / $HALF_S}")
  echo "CPU over ${HALF_S}s (window $w), all views redrawn at 30 fps: GUI thread ${G}% of one core" \
       "(whole jalv process incl. DSP ${A}%)"
  if [ -z "$GUI_PCT" ] || awk "BEGIN{exit !($G < $GUI_PCT)}"; then GUI_PCT=$G; fi
done

# 5. Click "16": the 16-bit form row can be pressed.
set -- $(grep 'button precision=16 at' "$ART/jalv.err" | tail -1 |
  sed 's/.* at \([0-9-]*\) \([0-9-]*\) size \([0-9]*\) \([0-9]*\).*/\1 \2 \3 \4/')
xdotool mousemove --window "$WID" $(($1 + $3 / 2)) $(($2 + $4 / 2)) click 1
HALF=""
for i in $(seq 50); do
  HALF=$(grep 'quantone-gui: half form row' "$ART/jalv.err" | tail -1)
  echo "$HALF" | grep -q 'row sensitive at precision 16' && break
  sleep 0.1
done
echo "clicked '16': $HALF"
echo "$HALF" | grep -q 'row sensitive at precision 16' ||
  fail "the FP16 / BF16 row cannot be pressed at 16 bits ('$HALF')"
# The weights panel at 16 (half_form's default, FP16 weights): no levels,
# and its caption names FP16, not FP32.
HIST=""
for i in $(seq 100); do
  HIST=$(tail -n +$((NERR + 1)) "$ART/jalv.err" | grep 'quantone-gui: weights panel: ' | tail -1)
  echo "$HIST" | grep -qF '  ·  FP16 |' && break
  sleep 0.1
done
echo "weights panel at 16: $HIST"
echo "$HIST" | grep -qF '  ·  FP16 |' || fail "at 16 the weights panel does not say FP16: '$HIST'"
xdotool mousemove --window "$WID" 5 5
sleep 1
import -window "$WID" "$ART/gui_16.png" || fail "import failed"
echo "screenshot gui_16.png: $(identify -format '%wx%h' "$ART/gui_16.png")"

kill -TERM $JALV 2>/dev/null
wait $JALV 2>/dev/null
grep 'view redraws' "$ART/jalv.err" | tail -1
[ -z "${SWITCH_FAIL:-}" ] || { echo "FAIL: $SWITCH_FAIL"; exit 1; }
if awk "BEGIN{exit !($GUI_PCT >= 10)}"; then
  echo "FAIL: GUI CPU ${GUI_PCT}% is above the 10% target"
  exit 1
fi
echo "gui-jalv test passed; screenshots in $ART"
exit 0
