/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/* The DC blocker of dcblock.h. */
#include "dcblock.h"

#include <math.h>

void qt_dcblock_init(qt_dcblock *f, double rate)
{
  /** Bilinear transform of s / (s + w) with w prewarped so the -3 dB
      point is exactly QT_DCBLOCK_HZ: K = tan(pi fc / fs),
      H(z) = (1 - z^-1) / (1 + K) / (1 - a z^-1), a = (1 - K) / (1 + K).
      Unity at Nyquist, exactly 0 at DC. */
  double fc = QT_DCBLOCK_HZ;
  if (!(rate > 4.0 * fc))
    rate = 4.0 * fc;
  double K = tan(M_PI * fc / rate);
  f->a = (1.0 - K) / (1.0 + K);
  f->b = 1.0 / (1.0 + K);
  qt_dcblock_reset(f);
}

void qt_dcblock_reset(qt_dcblock *f)
{
  f->x1 = f->y1 = 0.0;
  f->primed = false;
}

void qt_dcblock_run(qt_dcblock *f, float *x, int n)
{
  for (int i = 0; i < n; ++i)
    x[i] = qt_dcblock_step(f, x[i]);
  if (!isfinite(f->y1) || !isfinite(f->x1))
    qt_dcblock_reset(f);
}
