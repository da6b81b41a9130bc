/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Learned rounding by exact coordinate descent on the layer objective; see
  adaround.h for the method, why not the sigmoid relaxation, and its cost.
*/
#include "adaround.h"

#include <math.h>
#include <stdlib.h>

/** A move must lower the row objective by more than this fraction of
    |d g_k| + d^2 H_kk, so float noise cannot make the descent cycle. */
#define QZ_ADAROUND_EPS 1e-12

double qz_adaround_lambda(const double *H, int K, double damp)
{
  if (damp < 0.0)
    damp = QZ_ADAROUND_DAMP;
  double mean_diag = 0.0;
  for (int k = 0; k < K; ++k)
    mean_diag += H[(size_t)k * K + k];
  return K > 0 ? damp * mean_diag / K : 0.0;
}

long qz_round_adaround(qz_tensor *t, const float *w, const double *H, double damp)
{
  const int R = t->w.rows, K = t->w.cols;
  const double lambda = qz_adaround_lambda(H, K, damp);
  double *e = malloc((size_t)K * sizeof *e);
  double *g = malloc((size_t)K * sizeof *g);
  if (!e || !g) {
    free(e), free(g);
    return -1;
  }
  long changed = 0;
  size_t sat = 0;
  for (int m = 0; m < R; ++m) {
    int8_t *codes = t->codes + (size_t)m * K;
    const float *wm = w + (size_t)m * K;
    /** e = w_hat - w, g = H e */
    for (int k = 0; k < K; ++k)
      e[k] = (double)qz_decode(t, m, k, codes[k]) - (double)wm[k];
    for (int i = 0; i < K; ++i) {
      const double *h = H + (size_t)i * K;
      double s = 0.0;
      for (int j = 0; j < K; ++j)
        s += h[j] * e[j];
      g[i] = s + lambda * e[i];
    }
    for (int sweep = 0; sweep < QZ_ADAROUND_SWEEPS; ++sweep) {
      int moves = 0;
      for (int k = 0; k < K; ++k) {
        const double hkk = H[(size_t)k * K + k] + lambda;
        if (!(hkk > 0.0))
          continue; /* an input that never moved: its weight cannot matter */
        const double cur = (double)wm[k] + e[k];
        /** the parabola's least point in w_hat_k, then its nearest level */
        const int c = qz_encode(t, m, k, (float)(cur - g[k] / hkk), NULL);
        if (c == codes[k])
          continue;
        const double d = (double)qz_decode(t, m, k, c) - cur;
        /** change of e_m^T H e_m when e_k moves by d */
        const double delta = 2.0 * d * g[k] + d * d * hkk;
        if (!(delta < -QZ_ADAROUND_EPS * (fabs(d * g[k]) + d * d * hkk)))
          continue;
        codes[k] = (int8_t)c;
        e[k] += d;
        const double *hk = H + (size_t)k * K; /* H symmetric: column k = row k */
        for (int i = 0; i < K; ++i)
          g[i] += d * hk[i];
        g[k] += d * lambda;
        ++moves;
      }
      changed += moves;
      if (!moves)
        break;
    }
    /* saturated: float weights past the range (as qz_quantize counts them) */
    for (int k = 0; k < K; ++k) {
      bool hit = false;
      qz_encode(t, m, k, wm[k], &hit);
      sat += hit;
    }
  }
  t->saturated = sat;
  free(e), free(g);
  return changed;
}
