#!/bin/sh
# SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers
# SPDX-License-Identifier: ISC
# Ardour headless: ardour7-lua (package ardour) with the Dummy backend runs
# ardour_export.lua: session, generator-fed track, Quantone at 4 bits,
# exports. Passes when Quantone's weight_bytes changed after the 4-bit
# request and the export is audio, 40 dB quieter with Quantone's output
# level at -40 dB. Ardour's exit status is not judged (its teardown may
# crash after a good export); the files are. Ardour 7 also aborts now and
# then between the two exports, with or without Quantone (seen about once
# in ten runs): a run that ends without both files is retried, up to three
# runs, each from a new session, and every attempt is printed.
. "$(dirname "$0")/common.sh"
LUA=$1
need ardour7-lua
[ -n "${QT_HOSTS_SANITIZED:-}" ] &&
  skip "Ardour does not run with the AddressSanitizer runtime preloaded; the release build runs this test"
export QT_ARDOUR_DIR="$WORK"
# a private config dir: no user settings in, no test settings out
export XDG_CONFIG_HOME="$WORK/config"
export LV2_PATH="$LV2DIR"
A="$WORK/export/int4.wav"
B="$WORK/export/int4-minus40.wav"
for attempt in 1 2 3; do
  # a run that aborted leaves its session behind, and create_session
  # refuses an existing one: each attempt starts from none
  rm -rf "$WORK/session"
  rm -f "$A" "$B"
  timeout 300 ardour7-lua "$LUA" >"$WORK/ardour$attempt.log" 2>&1
  echo "  run $attempt: ardour7-lua exit status $? (not judged; log ardour$attempt.log)"
  cp "$WORK/ardour$attempt.log" "$WORK/ardour.log"
  [ -s "$A" ] && [ -s "$B" ] && break
  grep -q '^QT_NO_PLUGIN' "$WORK/ardour.log" && break
done
grep '^QT_' "$WORK/ardour.log" | sed 's/^/  /'
grep -q '^QT_NO_PLUGIN' "$WORK/ardour.log" && fail "Ardour did not find $URI in LV2_PATH=$LV2DIR"
WB=$(sed -n 's/^QT_WEIGHT_BYTES //p' "$WORK/ardour.log")
[ -n "$WB" ] || { tail -30 "$WORK/ardour.log"; fail "the session script did not get to set the precision"; }
set -- $WB
[ "$1" != "$2" ] || fail "weight_bytes stayed $1 after setting precision 4"
grep -q '^QT_PRECISION 4$' "$WORK/ardour.log" || fail "precision is not 4"
audible "$A" "export at 4 bits"
[ -s "$B" ] || fail "second export missing"
RA=$(field rms "$("$WAVSTAT" "$A")")
RB=$(field rms "$("$WAVSTAT" "$B")")
DB=$(awk -v a="$RA" -v b="$RB" 'BEGIN { printf "%.1f", 20 * log(a / (b > 0 ? b : 1e-12)) / log(10) }')
echo "  output level -40 dB: export $DB dB quieter"
gt "$DB" 30 && gt 50 "$DB" || fail "export level did not follow Quantone's output level ($DB dB)"
echo "PASS: Ardour session with Quantone at 4 bits exports audio"
