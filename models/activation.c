/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Activations. See activation.h for the choice between libm and qk_*.
*/
#include "activation.h"

#include "qk.h"

#include <math.h>

float qm_fasttanh(float x)
{
  /* Rational fit used by NAM's "Fasttanh" activation; coefficients are
     part of the model definition (a model trained with it expects them). */
  const float ax = fabsf(x), x2 = x * x;
  return (x * (2.45550750702956f + 2.45550750702956f * ax +
               (0.893229853513558f + 0.821226666969744f * ax) * x2)) /
         (2.44506634652299f + (2.44506634652299f + x2) * fabsf(x + 0.814642734961073f * x * ax));
}

void qm_tanh_v(bool fast, float *y, const float *x, size_t n)
{
  if (fast) {
    qk_tanh(y, x, n);
    return;
  }
  for (size_t i = 0; i < n; ++i)
    y[i] = tanhf(x[i]);
}

void qm_sigmoid_v(bool fast, float *y, const float *x, size_t n)
{
  if (fast) {
    qk_sigmoid(y, x, n);
    return;
  }
  for (size_t i = 0; i < n; ++i)
    y[i] = 1.0f / (1.0f + expf(-x[i]));
}

void qm_activate(qm_nonlinearity a, bool fast, float *x, size_t n)
{
  switch (a) {
  case QM_NONLIN_NONE:
  case QM_NONLIN_COUNT: return;
  case QM_NONLIN_TANH: qm_tanh_v(fast, x, x, n); return;
  case QM_NONLIN_SIGMOID: qm_sigmoid_v(fast, x, x, n); return;
  case QM_NONLIN_RELU:
    for (size_t i = 0; i < n; ++i)
      x[i] = x[i] > 0.0f ? x[i] : 0.0f;
    return;
  case QM_NONLIN_HARDTANH:
    for (size_t i = 0; i < n; ++i)
      x[i] = x[i] < -1.0f ? -1.0f : (x[i] > 1.0f ? 1.0f : x[i]);
    return;
  case QM_NONLIN_FASTTANH:
    for (size_t i = 0; i < n; ++i)
      x[i] = qm_fasttanh(x[i]);
    return;
  }
}
