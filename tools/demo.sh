#!/bin/sh
# SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers
# SPDX-License-Identifier: ISC
# The main job, on a fresh Debian 12:
#   1. install the missing Debian packages, build (build/);
#   2. install the quantone.lv2 bundle to ~/.lv2 (a copy of build/lv2/
#      quantone.lv2: plugin, GUI, Turtle, presets, default model);
#   3. synthesize an 8 s guitar-like demo clip (nothing is downloaded);
#   4. render it through the installed plugin at FP32, 8, 4 and 2 bits with
#      quantone-render, with int8 activations (the default, where the CPU is
#      saved) and weights only, print the table (ESR against FP32, DSP time ratio,
#      weight memory) and leave the renders and report.{json,csv,png} in
#      build/demo/;
#   5. run the kernel benchmark in --quick mode;
#   6. with a display ($DISPLAY set), start jalv.gtk3 on the plugin in the
#      background (it needs a running JACK or PipeWire-JACK server) and
#      return, so CI-like runs without a display never block.
# Environment: QUANTONE_MODEL=FILE renders that model instead of the
# bundle's default; QUANTONE_SETTINGS=LIST (quantone-render --settings)
# renders other settings, e.g. "all".
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh
[ -f build/build.ninja ] || meson setup build
ninja -C build

step() { printf '\n=== %s ===\n' "$*"; }

step "installing quantone.lv2 to ~/.lv2"
LV2_HOME="$HOME/.lv2"
mkdir -p "$LV2_HOME"
rm -rf "$LV2_HOME/quantone.lv2"
cp -r build/lv2/quantone.lv2 "$LV2_HOME/"
ls "$LV2_HOME/quantone.lv2"
if ! ls "$LV2_HOME"/quantone.lv2/*.nam >/dev/null 2>&1; then
  echo "note: the bundle has no default model (meson option default_model is empty):" \
       "the plugin passes audio through unless QUANTONE_MODEL=FILE names one" >&2
fi

DEMO=build/demo
mkdir -p "$DEMO"
step "demo clip: 8 s of synthesized guitar -> $DEMO/demo.wav"
build/tools/quantone-demo-clip "$DEMO/demo.wav" --seconds 8

step "rendering through the installed plugin (FP32, 8, 4, 2 bits; int8 and float activations)"
# The plugin's defaults first (int8 dynamic activations: the integer path),
# then weight-only (float activations) for comparison.
DEFAULT_SETTINGS="32"
for a in dynamic float; do
  for b in 8 4 2; do
    DEFAULT_SETTINGS="$DEFAULT_SETTINGS,$b:linear:sym:channel:$a"
  done
done
set -- --in "$DEMO/demo.wav" --out-dir "$DEMO" --settings "${QUANTONE_SETTINGS:-$DEFAULT_SETTINGS}"
[ -n "${QUANTONE_MODEL:-}" ] && set -- "$@" --model "$QUANTONE_MODEL"
# only ~/.lv2: the table is what the installed bundle does
LV2_PATH="$LV2_HOME" build/tools/quantone-render "$@"
echo "(ESR: error of each render against the FP32 render, lower is closer;"
echo " DSP x: the plugin's time for the quantized path over FP32's;"
echo " plot: $DEMO/report.png, listen: $DEMO/*.wav)"

step "kernel benchmark (--quick)"
build/tools/quantone-bench kernels --quick

if [ -n "${DISPLAY:-}" ] && command -v jalv.gtk3 >/dev/null 2>&1; then
  step "opening Quantone in jalv.gtk3 (log: $DEMO/jalv.log)"
  LV2_PATH="$LV2_HOME" nohup jalv.gtk3 https://quantone.audio/plugins/quantone \
    >"$DEMO/jalv.log" 2>&1 &
  echo "jalv.gtk3 started (pid $!); it needs a JACK (or PipeWire-JACK) server"
fi
