/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The 16-bit formats on AArch64 Advanced SIMD (qk_half.h): FP16 weights
  widened by vcvt_f32_f16, accumulated with vfmaq_f32 (fused, as the
  oracle's fmaf). BF16 compute without BFDOT (whose rounding differs from
  vdpbf16ps): pairs split by shifts, vfmaq_f32, and an explicit flush of
  denormal results (FPCR.FZ flushes by another tininess rule), so the bits
  are the oracle's.
*/
#include "qk_half.h"

#include <arm_neon.h>

#define PAIR_CHUNK 128

static inline void store_block(const float32x4_t acc[4], int m0, int rows, const float *bias,
                               float *y, unsigned flags)
{
  float tmp[QK_HALF_ROWS];
  for (int q = 0; q < 4; ++q)
    vst1q_f32(tmp + 4 * q, acc[q]);
  const int live = rows - m0 < QK_HALF_ROWS ? rows - m0 : QK_HALF_ROWS;
  for (int r = 0; r < live; ++r)
    y[m0 + r] = qk_half_finish(tmp[r], bias, m0 + r, y + m0 + r, flags);
}

static void gemm_f16_r16k1(const qk_packed *W, const float *X, int ldx, int N, const float *bias,
                           float *Y, int ldy, unsigned flags)
{
  const int K = W->cols, blocks = qk_half_blocks(W);
  for (int n = 0; n < N; ++n) {
    const float *x = X + (size_t)n * (size_t)ldx;
    for (int b = 0; b < blocks; ++b) {
      const uint16_t *w = (const uint16_t *)W->data + (size_t)b * QK_HALF_ROWS * (size_t)K;
      float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f),
                            vdupq_n_f32(0.0f)};
      for (int k = 0; k < K; ++k) {
        const float32x4_t xk = vdupq_n_f32(x[k]);
        for (int q = 0; q < 4; ++q) {
          const float16x4_t h = vreinterpret_f16_u16(vld1_u16(w + (size_t)k * 16 + 4 * q));
          acc[q] = vfmaq_f32(acc[q], vcvt_f32_f16(h), xk);
        }
      }
      store_block(acc, b * QK_HALF_ROWS, W->rows, bias, Y + (size_t)n * (size_t)ldy, flags);
    }
  }
}

/** A denormal lane as a zero of its sign. */
static inline float32x4_t ftz(float32x4_t v)
{
  const uint32x4_t u = vreinterpretq_u32_f32(v);
  const uint32x4_t normal = vtstq_u32(u, vdupq_n_u32(0x7f800000u));
  return vreinterpretq_f32_u32(vbslq_u32(normal, u, vandq_u32(u, vdupq_n_u32(0x80000000u))));
}

static void gemm_bf16_r16k2(const qk_packed *W, const float *X, int ldx, int N, const float *bias,
                            float *Y, int ldy, unsigned flags)
{
  const int K = W->cols, kpad = qk_half_kpad(W), pairs = kpad / 2, blocks = qk_half_blocks(W);
  float xo[PAIR_CHUNK], xe[PAIR_CHUNK];
  for (int n = 0; n < N; ++n) {
    const float *x = X + (size_t)n * (size_t)ldx;
    for (int b = 0; b < blocks; ++b) {
      const uint16_t *w = (const uint16_t *)W->data + (size_t)b * QK_HALF_ROWS * (size_t)kpad;
      float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f),
                            vdupq_n_f32(0.0f)};
      for (int p0 = 0; p0 < pairs; p0 += PAIR_CHUNK) {
        const int np = pairs - p0 < PAIR_CHUNK ? pairs - p0 : PAIR_CHUNK;
        for (int i = 0; i < np; ++i) {
          const int k0 = 2 * (p0 + i), k1 = k0 + 1;
          xe[i] = qk_bf16_to_f32_daz(qk_f32_to_bf16_scalar(x[k0]));
          xo[i] = k1 < K ? qk_bf16_to_f32_daz(qk_f32_to_bf16_scalar(x[k1])) : 0.0f;
        }
        for (int i = 0; i < np; ++i) {
          const uint32_t *wp = (const uint32_t *)(w + (size_t)(p0 + i) * 2 * QK_HALF_ROWS);
          const float32x4_t xodd = vdupq_n_f32(xo[i]), xeven = vdupq_n_f32(xe[i]);
          for (int q = 0; q < 4; ++q) {
            const uint32x4_t v = vld1q_u32(wp + 4 * q);
            const float32x4_t odd = vreinterpretq_f32_u32(vandq_u32(v, vdupq_n_u32(0xffff0000u)));
            const float32x4_t even = vreinterpretq_f32_u32(vshlq_n_u32(v, 16));
            acc[q] = ftz(vfmaq_f32(acc[q], odd, xodd));
            acc[q] = ftz(vfmaq_f32(acc[q], even, xeven));
          }
        }
      }
      store_block(acc, b * QK_HALF_ROWS, W->rows, bias, Y + (size_t)n * (size_t)ldy, flags);
    }
  }
}

static void f32_to_f16(uint16_t *dst, const float *src, size_t n)
{
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    vst1_u16(dst + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(src + i))));
  for (; i < n; ++i)
    dst[i] = qk_f32_to_f16_scalar(src[i]);
}

static void f16_to_f32(float *dst, const uint16_t *src, size_t n)
{
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    vst1q_f32(dst + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(src + i))));
  for (; i < n; ++i)
    dst[i] = qk_f16_to_f32_scalar(src[i]);
}

static void f32_to_bf16(uint16_t *dst, const float *src, size_t n)
{
  for (size_t i = 0; i < n; ++i)
    dst[i] = qk_f32_to_bf16_scalar(src[i]);
}

const qk_half_ops qk_half_ops_neon = {
    .name = "neon",
    .gemm_f16_r16k1 = gemm_f16_r16k1,
    .gemm_bf16_r16k2 = gemm_bf16_r16k2,
    .f32_to_f16 = f32_to_f16,
    .f16_to_f32 = f16_to_f32,
    .f32_to_bf16 = f32_to_bf16,
};
