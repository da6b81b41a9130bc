#!/bin/sh
# SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers
# SPDX-License-Identifier: ISC
# Plain jalv (console, JACK) on a dummy JACK server: it loads the plugin
# and obeys `set precision 4` typed on stdin. Evidence: jalv's `monitors`
# command prints the output ports, and weight_bytes (the active variant's
# weight memory) must change from the 8-bit default to the 4-bit value.
. "$(dirname "$0")/common.sh"
need jalv jackd jack_lsp
. "$(dirname "$0")/../common/jack.sh"
PIDS=""
cleanup() {
  exec 3>&- 2>/dev/null
  stop_in_order $PIDS
}
trap cleanup EXIT INT TERM

jack_start_dummy quantone-test-host-jalv "$WORK/jackd.log" ||
  { cat "$WORK/jackd.log"; fail "jackd (dummy backend) did not start"; }
PIDS="$JACKD_PID"

mkfifo "$WORK/stdin"
LV2_PATH="$LV2DIR" jalv "$URI" <"$WORK/stdin" >"$WORK/jalv.out" 2>"$WORK/jalv.err" &
JALV=$!
PIDS="$JALV $PIDS"
exec 3>"$WORK/stdin"

# last_wb: the last weight_bytes value jalv printed, whole: jalv's line
# may be read half written ("5" of 55204.000000, once a switch to FP32
# was quick enough), so only a value with its six decimals counts
last_wb() { sed -n 's/^.*weight_bytes = \([0-9]*\.[0-9]\{6\}\)$/\1/p' "$WORK/jalv.out" | tail -1; }
# ask TIMEOUT: send `monitors` until a weight_bytes value other than $1 shows
ask() {
  for i in $(seq 50); do
    kill -0 $JALV 2>/dev/null || { cat "$WORK/jalv.err"; fail "jalv exited"; }
    echo monitors >&3
    sleep 0.2
    W=$(last_wb)
    [ -n "$W" ] && [ "$W" != "$1" ] && { echo "$W"; return 0; }
  done
  echo "$W"
}
W8=$(ask "")
[ -n "$W8" ] || { tail "$WORK/jalv.out" "$WORK/jalv.err"; fail "jalv printed no weight_bytes (plugin not loaded?)"; }
echo "  jalv loaded $URI; weight_bytes at the default 8 bits: $W8"
echo "set precision 4" >&3
W4=$(ask "$W8")
echo "  after 'set precision 4' on stdin: weight_bytes $W4"
[ "$W4" != "$W8" ] || fail "weight_bytes stayed $W8 after 'set precision 4'"
grep -q 'precision = 4' "$WORK/jalv.out" || fail "jalv did not echo precision = 4"
echo "set precision 32" >&3
W32=$(ask "$W4")
echo "  after 'set precision 32': weight_bytes $W32"
gt "$W32" "$W8" && gt "$W8" "$W4" || fail "weight_bytes should order FP32 > 8 > 4 bits ($W32, $W8, $W4)"
exec 3>&-   # EOF on stdin: jalv quits
for i in $(seq 50); do kill -0 $JALV 2>/dev/null || break; sleep 0.1; done
echo "PASS: jalv loads Quantone and obeys set commands"
