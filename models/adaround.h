/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Learned rounding (AdaRound's question, answered by exact coordinate
  descent): choose each weight's level, up or down, so that the layer
  output error on the calibration inputs is least,

      objective(E) = sum_m e_m^T H e_m,   e_m = w_hat_m - w_m  (rounding.h)

  AdaRound relaxes the up/down choice to a rectified sigmoid and anneals a
  regularizer that pushes it back to 0 or 1, over thousands of gradient
  steps. Here the same quadratic objective is minimised directly, one
  weight at a time, which is exact for that weight and cheap:

    Changing e_k by d changes row m's objective by 2 d g_k + d^2 H_kk with
    g = H e_m. Over d, that is a parabola whose least point is the weight
    value w_hat_k - g_k / H_kk; among the levels, the best one is therefore
    the level nearest to that value (qz_encode), for every mapping
    (uniform, power-of-two, k-means codebook levels), symmetry and
    granularity. Take it when it lowers the objective, then g += d H[:,k]
    (O(K)).

  Sweeps over k = 0..K-1 repeat until a sweep changes nothing (a local
  minimum for single-weight moves: no flip of one weight lowers the
  objective) or QZ_ADAROUND_SWEEPS. Each step only lowers the objective, so
  starting from nearest or gptq codes the result is never worse than its
  start. Cost per row and sweep: K encodes plus O(K) per changed weight;
  O(rows K^2 sweeps) at worst, no matrix factor, K doubles of memory. Why
  not the relaxation: it needs a learning rate, an annealing schedule and
  ~10^4 passes over the calibration columns per layer, far beyond the 2 s
  budget of preparing a model in the worker, and it optimizes the same
  objective only approximately; the coordinate descent reaches a point
  no single flip improves, in a few sweeps.
*/
#ifndef QUANTONE_MODELS_ADAROUND_H
#define QUANTONE_MODELS_ADAROUND_H

#include <stdbool.h>

#include "quantize.h"

#ifdef __cplusplus
extern "C" {
#endif

/** At most this many sweeps over a row's weights (most rows settle in 2-4). */
#define QZ_ADAROUND_SWEEPS 16

/** Default damping: the objective minimised is sum_m e_m^T (H + lambda I)
    e_m, lambda = QZ_ADAROUND_DAMP * mean(diag H), as gptq damps H. */
#ifndef QZ_ADAROUND_DAMP
#define QZ_ADAROUND_DAMP 0.1
#endif

/**
   Improve t's current codes (from qz_quantize, qz_round_gptq, ...) by the
   coordinate descent above, for the float weights w (rows x cols) and the
   cols x cols Gram matrix H of the layer's inputs. Only lowers
   qz_layer_error(t, w, H). Returns the number of codes changed, or -1
   when out of memory (t unchanged).
*/
long qz_round_adaround(qz_tensor *t, const float *w, const double *H, double damp);

/** lambda = damp * mean(diag H) (damp < 0: QZ_ADAROUND_DAMP). */
double qz_adaround_lambda(const double *H, int K, double damp);

#ifdef __cplusplus
}
#endif

#endif
