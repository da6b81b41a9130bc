/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  DC blocker: a first-order high-pass at QT_DCBLOCK_HZ (bilinear, with the
  cut-off prewarped), as NAM's and AIDA-X's plugins put on their output.
  Quantized models idle away from zero (the default model's output mean on
  silence is +0.095 at 2 bits; a QAT model sits at -0.033 even at FP32),
  and switching bits while playing moves the offset: a constant the player
  cannot hear but every later stage (a compressor, a limiter, the error
  monitor at +60 dB) takes for signal.

  No LV2 or engine header: the tests run the same filter over the engine's
  output to compare it with the plugin's sample for sample.
*/
#ifndef QUANTONE_PLUGIN_DCBLOCK_H
#define QUANTONE_PLUGIN_DCBLOCK_H

#include <stdbool.h>

#define QT_DCBLOCK_HZ 5.0 /**< -3 dB; -0.016 dB at 82 Hz (low E), +3.5 deg */

typedef struct {
  double a, b;   /**< y[n] = b * (x[n] - x[n-1]) + a * y[n-1] */
  double x1, y1; /**< state in double: a is within 7e-4 of 1 at 48 kHz */
  bool primed;   /**< x1 holds a real sample */
} qt_dcblock;

void qt_dcblock_init(qt_dcblock *f, double rate);
/** Forget the past; the next sample becomes the level that is removed
    (output 0 there), so a model that idles at an offset starts without a
    decaying step: the output of a fresh or reset instance is DC-free from
    its first sample. */
void qt_dcblock_reset(qt_dcblock *f);

/** One sample; in-line for the meters, which filter per sample. */
static inline float qt_dcblock_step(qt_dcblock *f, float x)
{
  if (!f->primed) {
    f->x1 = x;
    f->y1 = 0.0;
    f->primed = true;
  }
  double y = f->b * ((double)x - f->x1) + f->a * f->y1;
  f->x1 = x;
  f->y1 = y;
  return (float)y;
}

/** x[n] in place. A non-finite sample would stay in the state for good, so
    the state restarts (as from a reset) when the block leaves it so. */
void qt_dcblock_run(qt_dcblock *f, float *x, int n);

#endif
