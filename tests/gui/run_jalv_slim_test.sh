#!/bin/sh
# SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers
# SPDX-License-Identifier: ISC
# The Slim slider in jalv.gtk3 under Xvfb (the setup of run_jalv_test.sh):
#   1. a slimmable model (QUANTONE_GUI_TEST_LOAD, slim at SLIM): the GUI's
#      test hook reports the slider on screen (mapped) with the text of the
#      size that plays; screenshot ARTIFACTS/gui_slim.png;
#   2. the bundle's default (plain) model: the slider is never on screen
#      once its modelInfo has arrived; screenshot ARTIFACTS/gui_plain.png.
# usage: run_jalv_slim_test.sh BUILD_DIR ARTIFACT_DIR SLIMMABLE.nam [SLIM]  (exit 77 = skipped)
set -u
BUILD=$(cd "$1" && pwd)
ART=${2:-$BUILD/artifacts}
MODEL=${3:-}
SLIM=${4:-0.5}
mkdir -p "$ART"
ART=$(cd "$ART" && pwd)
URI=https://quantone.audio/plugins/quantone

if [ -n "${QT_HOSTS_SANITIZED:-}" ]; then
  echo "SKIP: jalv.gtk3 with the sanitizer runtime preloaded (see run_jalv_test.sh)"
  exit 77
fi
[ -r "$MODEL" ] || { echo "SKIP: no slimmable model '$MODEL' (../shared/reference)"; exit 77; }
for t in Xvfb jackd jalv.gtk3 xdotool import identify jack_lsp; do
  command -v $t >/dev/null 2>&1 || { echo "SKIP: $t not installed (see tools/debian-packages.txt)"; exit 77; }
done

DNUM=${QT_JALV_DISPLAY:-99}
while [ -e /tmp/.X$DNUM-lock ]; do DNUM=$((DNUM + 1)); done
export DISPLAY=:$DNUM
. "$(dirname "$0")/../common/jack.sh"
PIDS=""
cleanup() { stop_in_order $PIDS; }   # newest first: clients, jackd, Xvfb
trap cleanup EXIT
# a reader that goes away (| head) must not leave Xvfb, jackd and jalv behind
trap 'cleanup; exit 1' INT TERM HUP PIPE
fail() { echo "FAIL: $*"; echo "--- jalv stderr"; tail -30 "$ERR"; exit 1; }

Xvfb :$DNUM -screen 0 1600x1000x24 -nolisten tcp >"$ART/xvfb-slim.log" 2>&1 &
PIDS="$!"
jack_start_dummy quantone-test-gui-slim "$ART/jackd-slim.log" ||
  { cat "$ART/jackd-slim.log"; fail "jackd did not start"; }
PIDS="$JACKD_PID $PIDS"
for i in $(seq 100); do [ -e /tmp/.X11-unix/X$DNUM ] && break; sleep 0.1; done
[ -e /tmp/.X11-unix/X$DNUM ] || fail "Xvfb did not start on :$DNUM"

# start_jalv NAME UNTIL [TEST_LOAD]: jalv.gtk3 with the window's self-test
# log in ART/jalv-NAME.err; waits (20 s at most) for the window (WID) and a
# log line matching UNTIL, then a second for a few redraw ticks.
start_jalv() {
  ERR="$ART/jalv-$1.err"
  LV2_PATH="$BUILD/lv2" QUANTONE_GUI_SELFTEST=1 QUANTONE_GUI_TEST_LOAD="${3:-}" \
    jalv.gtk3 -c slim=$SLIM $URI >"$ART/jalv-$1.out" 2>"$ERR" &
  JALV=$!
  PIDS="$JALV $PIDS"
  WID=""
  for i in $(seq 200); do
    WID=$(xdotool search --name '^Quantone' 2>/dev/null | head -1)
    [ -n "$WID" ] && grep -q "$2" "$ERR" && break
    kill -0 $JALV 2>/dev/null || fail "jalv.gtk3 exited"
    sleep 0.1
  done
  [ -n "$WID" ] || fail "no Quantone window"
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

# 1. Slimmable.
start_jalv slim "slim slider shown" "$MODEL"
LINE=$(grep 'quantone-gui: slim slider' "$ERR" | tail -1)
echo "slimmable $(basename "$MODEL"): $LINE"
echo "$LINE" | grep -q 'slider shown ([2-9][0-9]* steps): .*weights, [0-9]*% of the MACs' ||
  fail "the Slim slider is not on screen for $(basename "$MODEL") ('$LINE')"
stop_jalv gui_slim.png

# 2. Plain (the bundle's default model).
start_jalv plain "model label: ."
LINE=$(grep 'quantone-gui: slim slider' "$ERR" | tail -1)
echo "plain model: $LINE"
echo "$LINE" | grep -q 'slider hidden' || fail "no report of the Slim slider for a plain model"
grep -q 'slider shown' "$ERR" && fail "the Slim slider appeared for a plain model"
stop_jalv gui_plain.png
echo "gui-jalv-slim test passed; screenshots in $ART"
exit 0
