# SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers
# SPDX-License-Identifier: ISC
# Sourced by the GUI tests that run jalv.gtk3 (tests/gui/run_jalv_test.sh,
# run_jalv_slim_test.sh): an Xvfb display and a dummy-backend jackd for
# one test, stopped in order (clients, jackd, Xvfb) however the test ends.
# The caller defines fail() before gui_session_start.

# gui_session_require TOOL...: exit 77 (skipped) under a sanitizer build
# or when a tool is missing.
#
# Under a sanitizer build jalv.gtk3 runs our ASan-built UI and plugin with
# the runtime preloaded into an uninstrumented GTK process, which does not
# open its window in reasonable time here; the release build runs these
# tests, and gui-views / gui-shim cover the GUI code under the sanitizers.
gui_session_require() {
  if [ -n "${QT_HOSTS_SANITIZED:-}" ]; then
    echo "SKIP: jalv.gtk3 with the sanitizer runtime preloaded; the release build runs this test"
    exit 77
  fi
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 ||
      { echo "SKIP: $t not installed (see tools/debian-packages.txt)"; exit 77; }
  done
}

# gui_session_start NAME LOGDIR: Xvfb on the first free display from
# QT_JALV_DISPLAY (99), exported as DISPLAY, with a screen of
# QT_GUI_SCREEN pixels (WIDTHxHEIGHT, 1600x1000 unless set; SCREEN_W and
# SCREEN_H say which), and jackd named
# quantone-test-NAME; their logs in LOGDIR. PIDS lists what to stop,
# newest first; a test adds its own clients in front.
gui_session_start() {
  DNUM=${QT_JALV_DISPLAY:-99}
  while [ -e /tmp/.X$DNUM-lock ]; do DNUM=$((DNUM + 1)); done
  export DISPLAY=:$DNUM
  . "$(dirname "$0")/../common/jack.sh"
  PIDS=""
  trap 'stop_in_order $PIDS' EXIT
  # a reader that goes away (| head) must not leave Xvfb, jackd and jalv behind
  trap 'stop_in_order $PIDS; exit 1' INT TERM HUP PIPE

  SCREEN_SIZE=${QT_GUI_SCREEN:-1600x1000}
  SCREEN_W=${SCREEN_SIZE%x*}
  SCREEN_H=${SCREEN_SIZE#*x}
  Xvfb :$DNUM -screen 0 ${SCREEN_W}x${SCREEN_H}x24 -nolisten tcp >"$2/xvfb-$1.log" 2>&1 &
  PIDS="$!"
  jack_start_dummy "quantone-test-$1" "$2/jackd-$1.log" ||
    { cat "$2/jackd-$1.log"; fail "jackd did not start"; }
  PIDS="$JACKD_PID $PIDS"
  for i in $(seq 100); do [ -e /tmp/.X11-unix/X$DNUM ] && break; sleep 0.1; done
  [ -e /tmp/.X11-unix/X$DNUM ] || fail "Xvfb did not start on :$DNUM"
}

# gui_session_wait_window PID LOG PATTERN TENTHS: wait (TENTHS x 0.1 s at
# most) until a window titled Quantone is mapped and LOG has a line
# matching PATTERN (the GUI's self-test hooks print there); its id in WID.
gui_session_wait_window() {
  WID=""
  for i in $(seq "$4"); do
    WID=$(xdotool search --name '^Quantone' 2>/dev/null | head -1)
    [ -n "$WID" ] && grep -q "$3" "$2" && break
    kill -0 "$1" 2>/dev/null || fail "jalv.gtk3 exited"
    sleep 0.1
  done
  [ -n "$WID" ] || fail "no Quantone window"
}

# gui_session_layout LOG: the GUI's last layout report (gui/gui_hooks.c) in
# LAY_* variables: window size now (LAY_W LAY_H) and asked for (LAY_NW
# LAY_NH), the controls column's natural height (LAY_COL), the part of the
# window it shows in (LAY_TOP LAY_BOT), whether it scrolls (LAY_SCROLL),
# its last control now (LAY_Y0 LAY_Y1) and once scrolled to the end
# (LAY_END), the pinned Bypass (LAY_BY0 LAY_BY1), the column's x (LAY_X0 LAY_X1).
gui_session_layout() {
  LINE=$(grep 'quantone-gui: layout: ' "$1" | tail -1)
  [ -n "$LINE" ] || fail "the GUI reported no layout"
  # its numbers in the order of the line
  set -- $(echo "$LINE" | sed 's/.*layout: //' | tr ' ' '\n' | grep -E '^-?[0-9]+$')
  [ $# -eq 15 ] || fail "unreadable layout report '$LINE'"
  LAY_W=$1 LAY_H=$2 LAY_NW=$3 LAY_NH=$4 LAY_COL=$5 LAY_TOP=$6 LAY_BOT=$7 LAY_SCROLL=$8
  shift 8
  LAY_Y0=$1 LAY_Y1=$2 LAY_END=$3 LAY_BY0=$4 LAY_BY1=$5 LAY_X0=$6 LAY_X1=$7
}

# gui_session_check_layout LOG: fail unless every control of the window
# can be reached on this screen at the window's default size: the size the
# window asks for fits the screen, leaving GUI_TITLE_PANEL_PX (64) of its
# height for a window manager's title bar and a desktop panel; the column
# shows all of its controls, or scrolls and brings its last control into
# view when scrolled to the end; Bypass is inside the window; no
# segmented control lost buttons.
gui_session_check_layout() {
  gui_session_layout "$1"
  echo "layout on ${SCREEN_W}x$SCREEN_H: window ${LAY_W}x$LAY_H (asks ${LAY_NW}x$LAY_NH)," \
       "controls column natural $LAY_COL px in $((LAY_BOT - LAY_TOP)) px" \
       "($([ "$LAY_SCROLL" = 1 ] && echo scrolls || echo no scroller)), last control's bottom" \
       "at $LAY_END when scrolled to the end, view $LAY_TOP..$LAY_BOT, Bypass $LAY_BY0..$LAY_BY1"
  ROOM=$((SCREEN_H - ${GUI_TITLE_PANEL_PX:-64}))
  [ "$LAY_NW" -le "$SCREEN_W" ] || fail "the window asks for $LAY_NW px of width, the screen has $SCREEN_W"
  [ "$LAY_NH" -le "$ROOM" ] ||
    fail "the window asks for $LAY_NH px of height, more than the $ROOM px a ${SCREEN_H}-px screen leaves"
  [ "$LAY_H" -le "$SCREEN_H" ] || fail "the window is $LAY_H px tall on a $SCREEN_H-px screen"
  if [ "$LAY_SCROLL" = 0 ] && [ "$LAY_COL" -gt $((LAY_BOT - LAY_TOP)) ]; then
    fail "the controls column needs $LAY_COL px and shows in $((LAY_BOT - LAY_TOP)) px, without a scroller"
  fi
  [ "$LAY_BOT" -le "$LAY_H" ] || fail "the controls column ends at $LAY_BOT, below the window ($LAY_H)"
  [ "$LAY_END" -le "$LAY_BOT" ] ||
    fail "the column's last control ends at $LAY_END scrolled to the end, below its view ($LAY_BOT)"
  [ "$LAY_BY1" -le "$LAY_H" ] || fail "Bypass ends at $LAY_BY1, below the window ($LAY_H)"
  ! grep 'QG_MAX_SEG' "$1" || fail "the window dropped buttons"
}
