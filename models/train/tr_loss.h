/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Training loss: error-to-signal ratio on pre-emphasized signals plus a DC
  term (Wright, Damskagg, Valimaki, "Real-time guitar amplifier emulation
  with deep learning", 2020), optionally plus plain ESR.

  For a batch of B segments of L samples, e = y - t and the first-order
  high-pass p(x)[j] = x[j] - a x[j-1] (j >= 1):

      L = sum_b sum_j p(e_b)[j]^2 / sum_b sum_j p(t_b)[j]^2          (ESR, pre-emph)
        + w_plain * sum_b sum_j e_b[j]^2 / sum_b sum_j t_b[j]^2     (plain ESR)
        + w_dc * (1/B) sum_b mean_j(e_b)^2 / ((1/(BL)) sum t^2)      (DC)

  The denominators depend on the targets only, so each segment's gradient
  is independent once tr_loss_prepare() has seen the batch's targets: the
  backward pass can run segment by segment (and thread by thread).
*/
#ifndef QUANTONE_TR_LOSS_H
#define QUANTONE_TR_LOSS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  double preemph; /**< a in 1 - a z^-1 (0.85) */
  double w_plain; /**< weight of plain ESR (0 = off) */
  double w_dc;    /**< weight of the DC term */
  /* set by tr_loss_prepare */
  double den_pre, den_plain, den_dc;
  int B;
} tr_loss;

void tr_loss_default(tr_loss *l);

/** Batch denominators from targets t[B][L] (segment b at t + b*L). */
void tr_loss_prepare(tr_loss *l, const float *t, int B, int L);

/** One segment's loss contribution; writes dL/dy into gy[L]. */
double tr_loss_segment(const tr_loss *l, const float *y, const float *t, int L, float *gy);

/** Plain ESR sum((y-t)^2) / sum(t^2) over n samples (the validation figure). */
double tr_esr(const float *y, const float *t, size_t n);

/** ESR on pre-emphasized signals (a = 0.85). */
double tr_esr_preemph(const float *y, const float *t, size_t n, double a);

#ifdef __cplusplus
}
#endif

#endif
