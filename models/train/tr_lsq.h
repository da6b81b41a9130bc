/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Quantization-aware training with learned step sizes (LSQ: Esser et al.,
  "Learned Step Size Quantization", ICLR 2020), per output channel, on the
  engine's symmetric linear code range [-Qp, Qp], Qp = 2^(b-1) - 1:

      v = w / s,   w_hat = s * clamp(rint(v), -Qp, Qp)

  rint's derivative is taken as 1 (straight-through) and the clamp's as
  its own, so

      d w_hat / d w = 1 if -Qp < v < Qp, else 0          (clip-aware STE)
      d w_hat / d s = rint(v) - v if -Qp < v < Qp, else -Qp or Qp

  and each step's gradient is multiplied by LSQ's gradient scale
  1 / sqrt(N Qp), N = the weights one step serves (the row's columns), so
  steps and weights learn at comparable rates under plain SGD. (Under Adam,
  which the trainer uses, a constant gradient scale mostly cancels; it is
  kept so the estimator is the paper's.)

  Steps start at the engine's own per-channel scale (max|w| / Qp), so step
  0 of LSQ is the straight-through QAT's forward. Codes are encoded with
  qz_linear_code, the engine's encoder, so a weight matrix written as
  w_hat re-encodes to the same codes wherever its row reaches +-Qp (its
  max-abs scale is then s again).
*/
#ifndef QUANTONE_TR_LSQ_H
#define QUANTONE_TR_LSQ_H

#include <stdbool.h>
#include <stddef.h>

#include "quantize.h"
#include "tr_model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int qp;   /**< largest code */
  size_t n; /**< steps: the sum of the tensors' rows */
  float *s; /**< step of (tensor t, row r) at s[first[t] + r] */
  size_t *first;
  int n_tensors;
} tr_lsq;

/** Steps for every weight matrix of m from p under scheme (linear, symmetric,
    per channel; anything else is refused with a message). */
bool tr_lsq_init(tr_lsq *q, const tr_model *m, const qz_scheme *scheme, const float *p, char *err,
                 size_t errlen);
void tr_lsq_free(tr_lsq *q);

/** pe = p with every weight matrix replaced by its LSQ fake-quantized form. */
void tr_lsq_forward(const tr_lsq *q, const tr_model *m, const float *p, float *pe);

/**
   g holds dL/dpe (the gradient at tr_lsq_forward's output). On return g is
   dL/dp (zero where a weight is clipped) and gs[q->n] the steps' LSQ
   gradients, raw (gscale false) or times 1 / sqrt(N Qp) (gscale true).
*/
void tr_lsq_backward(const tr_lsq *q, const tr_model *m, const float *p, float *g, float *gs,
                     bool gscale);

/** Keep steps positive after an optimizer step (a step cannot go to or below 0). */
void tr_lsq_clamp(tr_lsq *q);

#ifdef __cplusplus
}
#endif

#endif
