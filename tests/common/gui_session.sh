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
# QT_JALV_DISPLAY (99), exported as DISPLAY, and jackd named
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

  Xvfb :$DNUM -screen 0 1600x1000x24 -nolisten tcp >"$2/xvfb-$1.log" 2>&1 &
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
