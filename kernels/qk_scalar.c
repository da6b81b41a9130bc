/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Portable C kernels: always built, the oracle every SIMD path is tested
  against. Written for clarity, one output at a time, in exactly the order
  of operations qk.h specifies.

  Packed layout: row-major, one signed value v per byte (codebooks already
  decoded), or row-major floats for QK_F32.
*/
#include "qk_internal.h"

#include <string.h>

int qk_scalar_pack(qk_packed *p, const qk_weights *w)
{
  size_t n = (size_t)w->rows * (size_t)w->cols;
  if (w->format == QK_F32) {
    p->data = qk_aligned_calloc(n * sizeof(float));
    if (!p->data)
      return -1;
    memcpy(p->data, w->f32, n * sizeof(float));
    p->data_bytes = n * sizeof(float);
    return 0;
  }
  int8_t *v = qk_aligned_calloc(n);
  if (!v)
    return -1;
  for (int m = 0; m < w->rows; ++m)
    for (int k = 0; k < w->cols; ++k)
      v[(size_t)m * (size_t)w->cols + (size_t)k] = (int8_t)qk_weight_value(w, m, k);
  p->data = v;
  p->data_bytes = n;
  return 0;
}

/** bias[m] + (accumulate ? Y[n][m] : 0): the value an output starts from. */
static inline float output_base(const float *bias, const float *y, int m, unsigned flags)
{
  float b = bias ? bias[m] : 0.0f;
  return b + ((flags & QK_ACCUMULATE) ? *y : 0.0f);
}

void qk_scalar_gemm_f32(const qk_packed *W, const float *X, int ldx, int N, const float *bias,
                        float *Y, int ldy, unsigned flags)
{
  const int M = W->rows, K = W->cols;
  for (int n = 0; n < N; ++n) {
    const float *x = X + (size_t)n * (size_t)ldx;
    for (int m = 0; m < M; ++m) {
      float *y = Y + (size_t)n * (size_t)ldy + m;
      float acc = 0.0f;
      if (W->format == QK_F32) {
        const float *w = (const float *)W->data + (size_t)m * (size_t)K;
        for (int k = 0; k < K; ++k)
          acc = fmaf(w[k], x[k], acc);
      } else {
        /** Weight-only: each weight decoded to the float the quantizer
            defines, w = scale * (v - z), then the F32 chain above. So a
            model exported with these weights (models/nam_export.h) plays
            through the F32 path to the same bits. */
        const int8_t *v = (const int8_t *)W->data + (size_t)m * (size_t)K;
        for (int g = 0; g < W->ngroups; ++g) {
          int k0 = g * W->group, k1 = k0 + W->group < K ? k0 + W->group : K;
          float z = W->zp ? (float)W->zp[(size_t)m * (size_t)W->ngroups + (size_t)g] : 0.0f;
          float scale = W->scales[(size_t)m * (size_t)W->ngroups + (size_t)g];
          for (int k = k0; k < k1; ++k)
            acc = fmaf(scale * ((float)v[k] - z), x[k], acc);
        }
      }
      *y = acc + output_base(bias, y, m, flags);
    }
  }
}

void qk_scalar_gemm_s8(const qk_packed *W, const qk_act_s8 *X, int N, const float *bias, float *Y,
                       int ldy, unsigned flags)
{
  const int M = W->rows, K = W->cols;
  for (int n = 0; n < N; ++n) {
    const int8_t *x = X->codes + (size_t)n * (size_t)X->ld;
    const int32_t *xsum = X->sums ? X->sums + (size_t)n * (size_t)W->ngroups : NULL;
    float xscale = X->per_column ? X->scales[n] : X->scales[0];
    for (int m = 0; m < M; ++m) {
      const int8_t *v = (const int8_t *)W->data + (size_t)m * (size_t)K;
      float acc = 0.0f;
      for (int g = 0; g < W->ngroups; ++g) {
        int k0 = g * W->group, k1 = k0 + W->group < K ? k0 + W->group : K;
        int32_t dot = 0;
        for (int k = k0; k < k1; ++k)
          dot += (int32_t)v[k] * (int32_t)x[k];
        if (W->zp)
          dot -= W->zp[(size_t)m * (size_t)W->ngroups + (size_t)g] * xsum[g];
        acc = fmaf((float)dot, W->scales[(size_t)m * (size_t)W->ngroups + (size_t)g], acc);
      }
      float *y = Y + (size_t)n * (size_t)ldy + m;
      *y = fmaf(acc, xscale, output_base(bias, y, m, flags));
    }
  }
}

/** Round half to even and saturate to [-127, 127]; *clipped counts saturations. */
static inline int8_t quantize_value(float x, float inv, size_t *clipped)
{
  float q = rintf(x * inv);
  if (q > 127.0f) {
    ++*clipped;
    return 127;
  }
  if (q < -127.0f) {
    ++*clipped;
    return -127;
  }
  if (q != q) /* NaN: the plugin resets on non-finite input; stay defined */
    return 0;
  return (int8_t)q;
}

float qk_scalar_column_amax(const float *x, int K)
{
  float amax = 0.0f;
  for (int k = 0; k < K; ++k)
    amax = fmaxf(amax, fabsf(x[k]));
  return amax;
}

size_t qk_scalar_quantize_column(const float *x, int K, float inv, int8_t *codes, int ld,
                                 int32_t *sums, int group)
{
  size_t clipped = 0;
  for (int k = 0; k < K; ++k)
    codes[k] = quantize_value(x[k], inv, &clipped);
  memset(codes + K, 0, (size_t)(ld - K));
  if (sums)
    qk_act_group_sums(codes, K, group, sums);
  return clipped;
}

/** exp(y) for |y| <= 88 by the steps in qk_internal.h. */
static inline float exp_approx(float y)
{
  float n = rintf(y * QK_LOG2E);
  float r = fmaf(n, -QK_LN2_HI, y);
  r = fmaf(n, -QK_LN2_LO, r);
  float p = QK_EXP_C7;
  p = fmaf(p, r, QK_EXP_C6);
  p = fmaf(p, r, QK_EXP_C5);
  p = fmaf(p, r, QK_EXP_C4);
  p = fmaf(p, r, QK_EXP_C3);
  p = fmaf(p, r, QK_EXP_C2);
  p = fmaf(p, r, 1.0f);
  p = fmaf(p, r, 1.0f);
  union {
    uint32_t u;
    float f;
  } two_n = {.u = (uint32_t)((int32_t)n + 127) << 23};
  return p * two_n.f;
}

void qk_scalar_tanh(float *y, const float *x, size_t count)
{
  for (size_t i = 0; i < count; ++i) {
    float v = fminf(fmaxf(x[i], -QK_TANH_CLAMP), QK_TANH_CLAMP);
    float e = exp_approx(2.0f * v);
    y[i] = (e - 1.0f) / (e + 1.0f);
  }
}

void qk_scalar_sigmoid(float *y, const float *x, size_t count)
{
  for (size_t i = 0; i < count; ++i) {
    float v = fminf(fmaxf(x[i], -QK_SIGMOID_CLAMP), QK_SIGMOID_CLAMP);
    y[i] = 1.0f / (1.0f + exp_approx(-v));
  }
}

void qk_scalar_tanh_int8(float *y, const float *x, size_t count)
{
  for (size_t i = 0; i < count; ++i) {
    const float v = fminf(fmaxf(x[i], -QK_TANH8_CLAMP), QK_TANH8_CLAMP), u = v * v;
    const float p = fmaf(fmaf(QK_TANH8_P2, u, QK_TANH8_P1), u, QK_TANH8_P0);
    const float q = fmaf(fmaf(QK_TANH8_Q2, u, QK_TANH8_Q1), u, 1.0f);
    y[i] = (v * p) / q;
  }
}

const qk_isa_ops qk_ops_scalar = {
    .isa = QK_ISA_SCALAR,
    .pack = qk_scalar_pack,
    .gemm_f32 = qk_scalar_gemm_f32,
    .gemm_s8 = qk_scalar_gemm_s8,
    .column_amax = qk_scalar_column_amax,
    .quantize_column = qk_scalar_quantize_column,
    .tanh = qk_scalar_tanh,
    .sigmoid = qk_scalar_sigmoid,
    .tanh_int8 = qk_scalar_tanh_int8,
};
