#!/bin/sh
# SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers
# SPDX-License-Identifier: ISC
# UI lifetime under valgrind (issue 11, defect 1): test_ui_lifetime loads
# the bundle's ui:Gtk3UI, packs it into a window, destroys the window and
# then calls cleanup() (and the other order); valgrind must report no
# error (invalid reads of finalized widgets were the bug) and GLib no
# warning. Then the external UI's close path: test_ui_close shows the
# shim, closes the helper's window as a window manager would, and the
# helper (run under valgrind through a wrapper) must exit with no error.
# In a sanitizer build the same runs go without valgrind (see below).
# Both windows must open at the same (natural) size.
# usage: run_lifetime_test.sh TEST_LIFETIME UI_GTK3.so BUNDLE_DIR TEST_CLOSE SHIM.so HELPER ART
set -u
T_LIFE=$1 UI=$2 BUNDLE=$3 T_CLOSE=$4 SHIM=$5 HELPER=$6 ART=${7:-.}
mkdir -p "$ART"
ART=$(cd "$ART" && pwd)

# A sanitizer build (QT_LIFETIME_SANITIZED=1) cannot run under valgrind:
# the same hosts run directly. ASan sees our own code's reads only (GTK
# and GLib are not instrumented), so there the GLib warnings the hosts
# count are what catches a finalized widget being touched (67 of them
# with the bug put back).
SANITIZED=${QT_LIFETIME_SANITIZED:-}
if [ -z "$SANITIZED" ]; then
  command -v valgrind >/dev/null 2>&1 || { echo "SKIP: valgrind not installed (apt install valgrind)"; exit 77; }
fi
command -v Xvfb >/dev/null 2>&1 || { echo "SKIP: Xvfb not installed (apt install xvfb)"; exit 77; }

DNUM=${QT_LIFETIME_DISPLAY:-91}
while [ -e /tmp/.X$DNUM-lock ]; do DNUM=$((DNUM + 1)); done
Xvfb :$DNUM -screen 0 1600x1000x24 -nolisten tcp >"$ART/lifetime_xvfb.log" 2>&1 &
XPID=$!
trap 'kill $XPID 2>/dev/null; wait $XPID 2>/dev/null' EXIT INT TERM
for i in $(seq 100); do [ -e /tmp/.X11-unix/X$DNUM ] && break; sleep 0.1; done
export DISPLAY=:$DNUM
# GLib's slice allocator hides use-after-free from valgrind; plain malloc
# shows it. No accessibility bus: nothing to talk to under Xvfb.
export G_SLICE=always-malloc NO_AT_BRIDGE=1 GTK_A11Y=none

# Only errors count (leaks of GTK's process-lifetime caches are not ours
# and are not what this test is about).
SUPP="$(cd "$(dirname "$0")" && pwd)/valgrind.supp"
VG="valgrind --error-exitcode=99 --leak-check=no --num-callers=30 --suppressions=$SUPP"
RC=0
# errors LOG: valgrind's error count in LOG; under a sanitizer 1 if LOG
# holds a sanitizer report, else 0 (its exit status is checked as well).
errors() {
  if [ -n "$SANITIZED" ]; then
    if grep -q 'ERROR: AddressSanitizer\|runtime error' "$1" 2>/dev/null; then echo 1; else echo 0; fi
    return
  fi
  sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$1" 2>/dev/null | tail -1
}
for variant in destroy-first cleanup-first; do
  LOG="$ART/lifetime_$variant.valgrind"
  echo "== $variant"
  if [ -n "$SANITIZED" ]; then
    "$T_LIFE" "$UI" "$BUNDLE" $variant >"$ART/lifetime_$variant.out" 2>"$LOG"
  else
    $VG --log-file="$LOG" "$T_LIFE" "$UI" "$BUNDLE" $variant >"$ART/lifetime_$variant.out"
  fi
  rc=$?
  cat "$ART/lifetime_$variant.out"
  errs=$(errors "$LOG")
  echo "memory errors: ${errs:-?} (exit $rc); log $LOG"
  if [ "$rc" != 0 ] || [ "${errs:-1}" != 0 ]; then
    grep -A12 'Invalid\|uninitialised\|AddressSanitizer\|runtime error' "$LOG" | head -60
    RC=1
  fi
done

echo "== external UI: helper window closed by the user"
WRAP="$ART/helper_wrapper.sh"
HLOG="$ART/lifetime_helper.valgrind"
if [ -n "$SANITIZED" ]; then
  HLOG="$ART/lifetime_helper.err" # its stderr: sanitizer reports and GLib warnings
  cat > "$WRAP" <<EOF
#!/bin/sh
exec "$HELPER" "\$@"
EOF
else
  cat > "$WRAP" <<EOF
#!/bin/sh
exec $VG --log-file="$HLOG" "$HELPER" "\$@"
EOF
fi
chmod +x "$WRAP"
rm -f "$HLOG"
QUANTONE_GUI_HELPER="$WRAP" "$T_CLOSE" "$SHIM" 2>"$ART/lifetime_helper.err" >"$ART/lifetime_close.out"
rc=$?
cat "$ART/lifetime_close.out"
errs=$(errors "$HLOG")
echo "helper: ${errs:-?} errors; log $HLOG; test exit $rc"
if grep -E 'WARNING|CRITICAL' "$ART/lifetime_helper.err"; then
  echo "FAIL: GLib warnings in the helper"
  RC=1
fi
if [ "$rc" != 0 ] || [ "${errs:-1}" != 0 ]; then
  grep -A12 'Invalid\|uninitialised\|AddressSanitizer\|runtime error' "$HLOG" 2>/dev/null | head -60
  RC=1
fi
# One natural size (issue 11, defect 8): the helper's window opens at the
# size an in-process host gives the same widget.
IN=$(sed -n 's/^window \([0-9]*x[0-9]*\)$/\1/p' "$ART/lifetime_destroy-first.out")
EXT=$(sed -n 's/^helper window \([0-9]*x[0-9]*\)$/\1/p' "$ART/lifetime_close.out")
echo "window size: in-process ${IN:-?}, external UI's helper ${EXT:-?}"
if [ -z "$IN" ] || [ "$IN" != "$EXT" ]; then
  echo "FAIL: the two UIs open at different sizes"
  RC=1
fi
[ $RC = 0 ] && echo "lifetime tests passed"
exit $RC
