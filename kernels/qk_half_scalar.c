/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The 16-bit formats in portable C: the oracle every SIMD file of
  qk_half_*.c matches bit for bit (qk_half.h gives the arithmetic).
*/
#include "qk_half.h"

static void gemm_f16_r16k1(const qk_packed *W, const float *X, int ldx, int N, const float *bias,
                           float *Y, int ldy, unsigned flags)
{
  const uint16_t *d = W->data;
  const int K = W->cols;
  for (int n = 0; n < N; ++n) {
    const float *x = X + (size_t)n * (size_t)ldx;
    float *y = Y + (size_t)n * (size_t)ldy;
    for (int m = 0; m < W->rows; ++m) {
      const uint16_t *w =
          d + (size_t)(m / QK_HALF_ROWS) * QK_HALF_ROWS * (size_t)K + (size_t)(m % QK_HALF_ROWS);
      float acc = 0.0f;
      for (int k = 0; k < K; ++k)
        acc = fmaf(qk_f16_to_f32_scalar(w[(size_t)k * QK_HALF_ROWS]), x[k], acc);
      y[m] = qk_half_finish(acc, bias, m, y + m, flags);
    }
  }
}

static void gemm_bf16_r16k2(const qk_packed *W, const float *X, int ldx, int N, const float *bias,
                            float *Y, int ldy, unsigned flags)
{
  const uint16_t *d = W->data;
  const int K = W->cols, kpad = qk_half_kpad(W);
  for (int n = 0; n < N; ++n) {
    const float *x = X + (size_t)n * (size_t)ldx;
    float *y = Y + (size_t)n * (size_t)ldy;
    for (int m = 0; m < W->rows; ++m) {
      const uint16_t *w = d + (size_t)(m / QK_HALF_ROWS) * QK_HALF_ROWS * (size_t)kpad +
                          (size_t)(m % QK_HALF_ROWS) * 2;
      float acc = 0.0f;
      for (int p = 0; p < kpad / 2; ++p) {
        const uint16_t *pair = w + (size_t)p * 2 * QK_HALF_ROWS;
        const int k0 = 2 * p, k1 = 2 * p + 1;
        const float x0 = qk_bf16_to_f32_daz(qk_f32_to_bf16_scalar(x[k0]));
        const float x1 = k1 < K ? qk_bf16_to_f32_daz(qk_f32_to_bf16_scalar(x[k1])) : 0.0f;
        acc = qk_half_ftz(fmaf(qk_bf16_to_f32_daz(pair[1]), x1, acc));
        acc = qk_half_ftz(fmaf(qk_bf16_to_f32_daz(pair[0]), x0, acc));
      }
      y[m] = qk_half_finish(acc, bias, m, y + m, flags);
    }
  }
}

static void f32_to_f16(uint16_t *dst, const float *src, size_t n)
{
  for (size_t i = 0; i < n; ++i)
    dst[i] = qk_f32_to_f16_scalar(src[i]);
}

static void f16_to_f32(float *dst, const uint16_t *src, size_t n)
{
  for (size_t i = 0; i < n; ++i)
    dst[i] = qk_f16_to_f32_scalar(src[i]);
}

static void f32_to_bf16(uint16_t *dst, const float *src, size_t n)
{
  for (size_t i = 0; i < n; ++i)
    dst[i] = qk_f32_to_bf16_scalar(src[i]);
}

const qk_half_ops qk_half_ops_scalar = {
    .name = "scalar",
    .gemm_f16_r16k1 = gemm_f16_r16k1,
    .gemm_bf16_r16k2 = gemm_bf16_r16k2,
    .f32_to_f16 = f32_to_f16,
    .f16_to_f32 = f16_to_f32,
    .f32_to_bf16 = f32_to_bf16,
};
