/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/* The plugin's calibration clip (see calib_clip.h). */
#include "calib_clip.h"

#include <math.h>
#include <stdlib.h>

float *qm_calib_clip(double rate, double seconds, int *n_out)
{
  int n = (int)(rate * seconds);
  float *x = calloc((size_t)(n > 0 ? n : 1), sizeof(float));
  if (!x)
    return NULL;
  static const double notes[] = {82.41, 110.0, 146.83, 196.0, 246.94, 329.63, 164.81, 98.0};
  int step = n / 8;
  for (int k = 0; k < 8; ++k) {
    double f0 = notes[k];
    for (int i = k * step; i < n; ++i) {
      double t = (i - k * step) / rate, v = 0;
      /* harmonic h at f0 h sqrt(1 + 1e-4 h^2) (a stiff string), decaying
         faster the higher it is, below rate / 2.2 (no aliasing) */
      for (int h = 1; h <= 10 && f0 * h < rate / 2.2; ++h) {
        double fh = f0 * h * sqrt(1.0 + 1e-4 * h * h);
        v += sin(2 * M_PI * fh * t) * exp(-t * (3.0 + 1.5 * h)) / h;
      }
      x[i] += (float)(0.22 * v);
    }
  }
  *n_out = n;
  return x;
}
