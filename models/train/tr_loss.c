/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
#include "tr_loss.h"

#include <math.h>

void tr_loss_default(tr_loss *l)
{
  l->preemph = 0.85;
  l->w_plain = 0.0;
  l->w_dc = 1.0;
  l->den_pre = l->den_plain = l->den_dc = 1.0;
  l->B = 1;
}

void tr_loss_prepare(tr_loss *l, const float *t, int B, int L)
{
  double sp = 0.0, s2 = 0.0;
  for (int b = 0; b < B; ++b) {
    const float *tb = t + (size_t)b * (size_t)L;
    for (int j = 0; j < L; ++j) {
      s2 += (double)tb[j] * tb[j];
      if (j > 0) {
        const double p = tb[j] - l->preemph * tb[j - 1];
        sp += p * p;
      }
    }
  }
  /** A floor keeps an all-silent batch from dividing by zero (-80 dBFS RMS). */
  const double floor_ms = 1e-8;
  const double n = (double)B * L;
  l->den_pre = sp > floor_ms * n ? sp : floor_ms * n;
  l->den_plain = s2 > floor_ms * n ? s2 : floor_ms * n;
  l->den_dc = (s2 / n) > floor_ms ? s2 / n : floor_ms;
  l->B = B;
}

double tr_loss_segment(const tr_loss *l, const float *y, const float *t, int L, float *gy)
{
  const double a = l->preemph;
  double loss = 0.0, esum = 0.0;
  for (int j = 0; j < L; ++j) {
    gy[j] = 0.0f;
    esum += (double)y[j] - t[j];
  }
  /* pre-emphasized ESR: d/de[j] of sum_k p[k]^2 = 2 p[j] - 2 a p[j+1] */
  for (int j = L - 1; j >= 1; --j) {
    const double e = (double)y[j] - t[j], e1 = (double)y[j - 1] - t[j - 1];
    const double p = e - a * e1;
    loss += p * p / l->den_pre;
    gy[j] += (float)(2.0 * p / l->den_pre);
    gy[j - 1] += (float)(-2.0 * a * p / l->den_pre);
  }
  if (l->w_plain > 0.0) {
    for (int j = 0; j < L; ++j) {
      const double e = (double)y[j] - t[j];
      loss += l->w_plain * e * e / l->den_plain;
      gy[j] += (float)(l->w_plain * 2.0 * e / l->den_plain);
    }
  }
  if (l->w_dc > 0.0) {
    const double m = esum / L;
    loss += l->w_dc * m * m / (l->B * l->den_dc);
    const float gdc = (float)(l->w_dc * 2.0 * m / (L * (double)l->B * l->den_dc));
    for (int j = 0; j < L; ++j)
      gy[j] += gdc;
  }
  return loss;
}

double tr_esr(const float *y, const float *t, size_t n)
{
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double e = (double)y[i] - t[i];
    num += e * e;
    den += (double)t[i] * t[i];
  }
  return den > 0.0 ? num / den : (num > 0.0 ? INFINITY : 0.0);
}

double tr_esr_preemph(const float *y, const float *t, size_t n, double a)
{
  double num = 0.0, den = 0.0;
  for (size_t i = 1; i < n; ++i) {
    const double e = ((double)y[i] - t[i]) - a * ((double)y[i - 1] - t[i - 1]);
    const double p = t[i] - a * (double)t[i - 1];
    num += e * e;
    den += p * p;
  }
  return den > 0.0 ? num / den : (num > 0.0 ? INFINITY : 0.0);
}
