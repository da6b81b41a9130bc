#!/bin/sh
# SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers
# SPDX-License-Identifier: ISC
# The whole test suite: installs missing Debian packages, then
#  1. release build + every meson test (kernels on every ISA this CPU runs,
#     models against the reference renders, ...);
#  2. the same tests built with AddressSanitizer + UndefinedBehaviorSanitizer;
#  3. the NEON kernels cross-built for aarch64 and run under qemu, with and
#     without the dotprod extension;
#  4. each model-loader fuzzer for a bounded time.
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh

step() { printf '\n=== %s ===\n' "$*"; }

step "release build and tests"
[ -f build/build.ninja ] || meson setup build
ninja -C build
meson test -C build --print-errorlogs

step "ASan + UBSan build and tests"
[ -f build-asan/build.ninja ] || meson setup build-asan -Dbuildtype=debugoptimized \
  -Db_sanitize=address,undefined -Db_lundef=false
ninja -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --print-errorlogs --timeout-multiplier 4

for extra in tests/avxvnni_evex.sh tests/neon.sh tests/fuzz.sh; do
  if [ -x "$extra" ]; then
    step "$extra"
    "$extra"
  fi
done
printf '\nAll tests passed.\n'
