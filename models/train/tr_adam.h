/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Adam (Kingma and Ba, 2015) with bias correction, optional global
  gradient-norm clipping (a single bad batch, e.g. a burst of near-silence
  with a tiny denominator, cannot throw the weights away).
*/
#ifndef QUANTONE_TR_ADAM_H
#define QUANTONE_TR_ADAM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  size_t n;
  float *m, *v;
  double beta1, beta2, eps;
  double clip; /**< max global L2 norm of the gradient, 0 = off */
  long t;      /**< steps taken */
} tr_adam;

int tr_adam_init(tr_adam *a, size_t n);
void tr_adam_free(tr_adam *a);
/** p -= lr * mhat / (sqrt(vhat) + eps). Returns the gradient norm before clipping. */
double tr_adam_step(tr_adam *a, float *p, const float *g, double lr);

#ifdef __cplusplus
}
#endif

#endif
