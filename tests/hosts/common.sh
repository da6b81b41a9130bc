# SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers
# SPDX-License-Identifier: ISC
# Sourced by the host tests (tests/hosts/*.sh). Each is run by meson as
#   SCRIPT BUILD_ROOT WORK_DIR WAVSTAT DEMO_CLIP [EXTRA...]
# and exits 0 (pass), 1 (fail) or 77 (skipped: the host is not installed,
# with the reason printed).
set -u
URI=https://quantone.audio/plugins/quantone
BUILD=$(cd "$1" && pwd)
WORK=$2
WAVSTAT=$3
DEMO=$4
shift 4
rm -rf "$WORK"
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
LV2DIR="$BUILD/lv2"
BUNDLE="$LV2DIR/quantone.lv2"

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
# need TOOL...: skip when a host program is missing (CI installs them all:
# tools/debian-packages.txt)
need() {
  for t; do
    command -v "$t" >/dev/null 2>&1 ||
      skip "$t is not installed (Debian packages: tools/debian-packages.txt)"
  done
}
# field NAME LINE: a key=value field of a wavstat line
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# gt A B: A > B as real numbers
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }
# audible FILE WHAT: FILE exists and is not silence (RMS above -60 dBFS)
audible() {
  [ -s "$1" ] || fail "$2: no output file $1"
  S=$("$WAVSTAT" "$1") || fail "$2: cannot read $1"
  echo "  $2: $S"
  gt "$(field rms "$S")" 0.001 || fail "$2: output is silence ($S)"
}
# the demo clip (synthesized guitar) as input
"$DEMO" "$WORK/in.wav" --seconds "${CLIP_SECONDS:-2}" || fail "quantone-demo-clip failed"
