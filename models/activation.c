/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Activations. See activation.h for the choice between libm and qk_*.
*/
#include "activation.h"

#include "qk.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

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
  qk_tanh_exact(y, x, n);
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

qm_activation qm_activation_default(qm_nonlinearity type)
{
  return (qm_activation){.type = type,
                         .negative_slope = 0.01f,
                         .min_val = -1.0f,
                         .max_val = 1.0f,
                         .min_slope = 0.01f,
                         .max_slope = 0.01f};
}

/**
   NAM's x > 0 ? x : slope * x, as a select of bits: GCC does not
   vectorize the conditional form (a float multiply on one branch only may
   trap, so it will not if-convert it), and A2's activation spent 15% of
   its run time in the scalar loop. The same value in every case: x when
   x > 0, else slope * x (-0 and NaN included).
*/
static inline float leaky_relu(float x, float slope)
{
  const float sloped = slope * x;
  int32_t bx, bs;
  memcpy(&bx, &x, sizeof bx);
  memcpy(&bs, &sloped, sizeof bs);
  const int32_t keep = -(int32_t)(x > 0.0f);
  const int32_t r = (bx & keep) | (bs & ~keep);
  float out;
  memcpy(&out, &r, sizeof out);
  return out;
}

static inline float leaky_hardtanh(const qm_activation *a, float x)
{
  if (x < a->min_val)
    return (x - a->min_val) * a->min_slope + a->min_val;
  if (x > a->max_val)
    return (x - a->max_val) * a->max_slope + a->max_val;
  return x;
}

void qm_activation_apply(const qm_activation *a, bool fast, float *x, size_t frames, int width)
{
  const size_t n = frames * (size_t)width;
  switch (a->type) {
  case QM_NONLIN_LEAKY_RELU: {
    /* a local copy: a store to x could alias a's slope */
    const float slope = a->negative_slope;
    for (size_t i = 0; i < n; ++i)
      x[i] = leaky_relu(x[i], slope);
    return;
  }
  case QM_NONLIN_PRELU:
    if (a->n_slopes <= 1) {
      const float slope = a->n_slopes == 1 ? a->slopes[0] : a->negative_slope;
      for (size_t i = 0; i < n; ++i)
        x[i] = leaky_relu(x[i], slope);
      return;
    }
    for (size_t f = 0; f < frames; ++f) {
      float *xf = x + f * (size_t)width;
      for (int c = 0; c < width; ++c)
        xf[c] = leaky_relu(xf[c], a->slopes[c % a->n_slopes]);
    }
    return;
  case QM_NONLIN_SILU:
    if (fast) {
      for (size_t i = 0; i < n;) {
        /* qk_sigmoid into a small buffer, then the product */
        float s[256];
        const size_t m = n - i < 256 ? n - i : 256;
        qk_sigmoid(s, x + i, m);
        for (size_t j = 0; j < m; ++j)
          x[i + j] *= s[j];
        i += m;
      }
      return;
    }
    for (size_t i = 0; i < n; ++i)
      x[i] = x[i] * (1.0f / (1.0f + expf(-x[i])));
    return;
  case QM_NONLIN_HARDSWISH:
    for (size_t i = 0; i < n; ++i) {
      const float t = x[i] + 3.0f;
      const float clamped = t < 0.0f ? 0.0f : (t > 6.0f ? 6.0f : t);
      x[i] = x[i] * clamped * (1.0f / 6.0f);
    }
    return;
  case QM_NONLIN_LEAKY_HARDTANH:
    for (size_t i = 0; i < n; ++i)
      x[i] = leaky_hardtanh(a, x[i]);
    return;
  case QM_NONLIN_SOFTSIGN:
    for (size_t i = 0; i < n; ++i)
      x[i] = x[i] / (1.0f + fabsf(x[i]));
    return;
  default: qm_activate(a->type, fast, x, n); return;
  }
}

void qm_activate(qm_nonlinearity a, bool fast, float *x, size_t n)
{
  switch (a) {
  case QM_NONLIN_NONE:
  case QM_NONLIN_COUNT: return;
  default: {
    /* the parameterized ones, at NeuralAmpModelerCore's defaults */
    const qm_activation defaults = qm_activation_default(a);
    qm_activation_apply(&defaults, fast, x, n, 1);
    return;
  }
  case QM_NONLIN_TANH: qm_tanh_v(fast, x, x, n); return;
  case QM_NONLIN_SIGMOID: qm_sigmoid_v(fast, x, x, n); return;
  case QM_NONLIN_RELU:
    for (size_t i = 0; i < n; ++i)
      x[i] = x[i] > 0.0f ? x[i] : 0.0f;
    return;
  case QM_NONLIN_HARDTANH:
    for (size_t i = 0; i < n; ++i) {
      const float t = x[i] < -1.0f ? -1.0f : x[i];
      x[i] = t > 1.0f ? 1.0f : t;
    }
    return;
  case QM_NONLIN_FASTTANH:
    for (size_t i = 0; i < n; ++i)
      x[i] = qm_fasttanh(x[i]);
    return;
  }
}
