#!/bin/sh
# SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers
# SPDX-License-Identifier: ISC
# Build the model-loader fuzz targets with clang (libFuzzer + ASan + UBSan)
# in build-fuzz, write the seed corpora, run each target for a bounded time
# and print how many inputs it executed without a crash.
#   tests/fuzz.sh [SECONDS_PER_TARGET]   (default 30)
set -eu
cd "$(dirname "$0")/.."
secs=${1:-30}
build=build-fuzz

# -O0 (buildtype debug): clang with ASan+UBSan+fuzzer instrumentation spent
# over 15 minutes on each of the fused WaveNet kernel files at -O2 (their
# always-inline templates); at -O0 one takes 12 s. The loaders are what the
# fuzzers search, and they run fast enough unoptimized.
if [ ! -d "$build" ]; then
  CC=clang meson setup "$build" -Dfuzz=true -Dbuildtype=debug \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args=-fsanitize=fuzzer-no-link >/dev/null
fi
if ! out=$(ninja -C "$build" tests/fuzz/fuzz_nam tests/fuzz/fuzz_keras tests/fuzz/fuzz_split \
    tests/models/qm_make_seeds 2>&1); then
  echo "$out" | tail -n 40
  echo "fuzz.sh: building the fuzz targets with clang failed"
  exit 1
fi

corpus="$build/fuzz-corpus"
"$build/tests/models/qm_make_seeds" "$corpus" ../shared/reference >/dev/null
status=0
# fuzz_split starts from both corpora: it reads any JSON.
for t in nam keras split; do
  mkdir -p "$corpus/$t.work"
  log="$build/fuzz_$t.log"
  seeds="$corpus/$t"
  [ "$t" = split ] && seeds="$corpus/nam $corpus/keras"
  # shellcheck disable=SC2086
  if "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 "$corpus/$t.work" $seeds >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    echo "fuzz_$t: ${execs:-?} executions in ${secs}s, no crash"
  else
    echo "fuzz_$t: CRASH (see $log)"
    tail -n 30 "$log"
    status=1
  fi
done
exit $status
