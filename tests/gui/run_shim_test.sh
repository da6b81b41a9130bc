#!/bin/sh
# SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers
# SPDX-License-Identifier: ISC
# External-UI shim test: readelf check (no GTK in the shim), then the C
# host test_gui_shim under a private Xvfb (the helper opens a window).
# usage: run_shim_test.sh TEST_BIN SHIM.so HELPER ARTIFACT_DIR
set -u
TEST_BIN=$1 SHIM=$2 HELPER=$3 ART=${4:-.}
mkdir -p "$ART"

echo "== readelf -d $(basename "$SHIM")"
readelf -d "$SHIM" | grep NEEDED
if readelf -d "$SHIM" | grep NEEDED | grep -Ei 'gtk|gdk|glib|gobject|gio|cairo|pango|X11'; then
  echo "FAIL: the shim links a GUI toolkit library"
  exit 1
fi
echo "ok: shim links no GTK/GDK/GLib/cairo"

command -v Xvfb >/dev/null 2>&1 || { echo "SKIP: Xvfb not installed (apt install xvfb)"; exit 77; }
DNUM=${QT_SHIM_DISPLAY:-97}
Xvfb :$DNUM -screen 0 1280x900x24 -nolisten tcp >/dev/null 2>&1 &
XPID=$!
trap 'kill $XPID 2>/dev/null; wait $XPID 2>/dev/null' EXIT INT TERM
for i in $(seq 50); do [ -e /tmp/.X11-unix/X$DNUM ] && break; sleep 0.1; done

LOG="$ART/shim_helper.log"
: > "$LOG"
DISPLAY=:$DNUM QUANTONE_GUI_HELPER="$HELPER" "$TEST_BIN" "$SHIM" "$LOG" 2>>"$LOG"
RC=$?
echo "== helper log"
cat "$LOG"
exit $RC
