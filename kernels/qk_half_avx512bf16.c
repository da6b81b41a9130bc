/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The 16-bit formats on AVX-512 with AVX512_BF16 (qk_half.h): a block of
  16 rows is one zmm. FP16 weights are widened by vcvtph2ps zmm; BF16
  compute converts the frame's activations with vcvtneps2bf16 and runs
  vdpbf16ps on the "bf16-r16k2" pairs (each lane: odd product, then even,
  flushed: the oracle's order). Runs only where the CPU has AVX512_BF16
  (qk_half_ops_for).
*/
#include "qk_half.h"

#include <immintrin.h>

/** Frames run at once: four independent accumulation chains per row. */
#define FRAMES 4
/** bf16 pairs converted at a time per frame (stack scratch). */
#define PAIR_CHUNK 128

static inline void store_block(__m512 acc, int m0, int rows, const float *bias, float *y,
                               unsigned flags)
{
  float tmp[QK_HALF_ROWS];
  _mm512_storeu_ps(tmp, acc);
  const int live = rows - m0 < QK_HALF_ROWS ? rows - m0 : QK_HALF_ROWS;
  for (int r = 0; r < live; ++r)
    y[m0 + r] = qk_half_finish(tmp[r], bias, m0 + r, y + m0 + r, flags);
}

static inline __attribute__((always_inline)) void f16_frames(const qk_packed *W, const float *X,
                                                             int ldx, int nb, const float *bias,
                                                             float *Y, int ldy, unsigned flags)
{
  const int K = W->cols, blocks = qk_half_blocks(W);
  for (int b = 0; b < blocks; ++b) {
    const uint16_t *w = (const uint16_t *)W->data + (size_t)b * QK_HALF_ROWS * (size_t)K;
    __m512 acc[FRAMES];
    for (int j = 0; j < nb; ++j)
      acc[j] = _mm512_setzero_ps();
    for (int k = 0; k < K; ++k) {
      const __m512 wk = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(w + (size_t)k * 16)));
      for (int j = 0; j < nb; ++j)
        acc[j] =
            _mm512_fmadd_ps(wk, _mm512_set1_ps(X[(size_t)j * (size_t)ldx + (size_t)k]), acc[j]);
    }
    for (int j = 0; j < nb; ++j)
      store_block(acc[j], b * QK_HALF_ROWS, W->rows, bias, Y + (size_t)j * (size_t)ldy, flags);
  }
}

static void gemm_f16_r16k1(const qk_packed *W, const float *X, int ldx, int N, const float *bias,
                           float *Y, int ldy, unsigned flags)
{
  int n = 0;
  for (; n + FRAMES <= N; n += FRAMES)
    f16_frames(W, X + (size_t)n * (size_t)ldx, ldx, FRAMES, bias, Y + (size_t)n * (size_t)ldy, ldy,
               flags);
  for (; n < N; ++n)
    f16_frames(W, X + (size_t)n * (size_t)ldx, ldx, 1, bias, Y + (size_t)n * (size_t)ldy, ldy,
               flags);
}

/** Frame activations k = 2*p0 .. as bf16 pairs (one uint32 each), 0 past K. */
static inline void bf16_chunk(const float *x, int K, int p0, int np, uint32_t *pairs)
{
  const int k0 = 2 * p0, kn = 2 * np;
  for (int i = 0; i < kn; i += 16) {
    const int left = K - (k0 + i);
    const __mmask16 live = left >= 16 ? (__mmask16)0xffff
                           : left > 0 ? (__mmask16)((1u << left) - 1u)
                                      : (__mmask16)0;
    const __m512 v = _mm512_maskz_loadu_ps(live, x + k0 + i);
    _mm256_storeu_si256((__m256i *)(pairs + i / 2), (__m256i)_mm512_cvtneps_pbh(v));
  }
}

static inline __attribute__((always_inline)) void bf16_frames(const qk_packed *W, const float *X,
                                                              int ldx, int nb, const float *bias,
                                                              float *Y, int ldy, unsigned flags)
{
  const int K = W->cols, kpad = qk_half_kpad(W), pairs = kpad / 2, blocks = qk_half_blocks(W);
  /* + 8: bf16_chunk writes whole 16-float steps */
  uint32_t xp[FRAMES][PAIR_CHUNK + 8];
  for (int b = 0; b < blocks; ++b) {
    const uint16_t *w = (const uint16_t *)W->data + (size_t)b * QK_HALF_ROWS * (size_t)kpad;
    __m512 acc[FRAMES];
    for (int j = 0; j < nb; ++j)
      acc[j] = _mm512_setzero_ps();
    for (int p0 = 0; p0 < pairs; p0 += PAIR_CHUNK) {
      const int np = pairs - p0 < PAIR_CHUNK ? pairs - p0 : PAIR_CHUNK;
      for (int j = 0; j < nb; ++j)
        bf16_chunk(X + (size_t)j * (size_t)ldx, K, p0, np, xp[j]);
      for (int i = 0; i < np; ++i) {
        const __m512bh wp =
            (__m512bh)_mm512_load_si512((const void *)(w + (size_t)(p0 + i) * 2 * QK_HALF_ROWS));
        for (int j = 0; j < nb; ++j)
          acc[j] = _mm512_dpbf16_ps(acc[j], wp, (__m512bh)_mm512_set1_epi32((int)xp[j][i]));
      }
    }
    for (int j = 0; j < nb; ++j)
      store_block(acc[j], b * QK_HALF_ROWS, W->rows, bias, Y + (size_t)j * (size_t)ldy, flags);
  }
}

static void gemm_bf16_r16k2(const qk_packed *W, const float *X, int ldx, int N, const float *bias,
                            float *Y, int ldy, unsigned flags)
{
  int n = 0;
  for (; n + FRAMES <= N; n += FRAMES)
    bf16_frames(W, X + (size_t)n * (size_t)ldx, ldx, FRAMES, bias, Y + (size_t)n * (size_t)ldy, ldy,
                flags);
  for (; n < N; ++n)
    bf16_frames(W, X + (size_t)n * (size_t)ldx, ldx, 1, bias, Y + (size_t)n * (size_t)ldy, ldy,
                flags);
}

static void f32_to_f16(uint16_t *dst, const float *src, size_t n)
{
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256((__m256i *)(dst + i),
                        _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i)
    dst[i] = qk_f32_to_f16_scalar(src[i]);
}

static void f16_to_f32(float *dst, const uint16_t *src, size_t n)
{
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + i))));
  for (; i < n; ++i)
    dst[i] = qk_f16_to_f32_scalar(src[i]);
}

static void f32_to_bf16(uint16_t *dst, const float *src, size_t n)
{
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256((__m256i *)(dst + i),
                        (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + i)));
  for (; i < n; ++i)
    dst[i] = qk_f32_to_bf16_scalar(src[i]);
}

const qk_half_ops qk_half_ops_avx512bf16 = {
    .name = "avx512bf16",
    .gemm_f16_r16k1 = gemm_f16_r16k1,
    .gemm_bf16_r16k2 = gemm_bf16_r16k2,
    .f32_to_f16 = f32_to_f16,
    .f16_to_f32 = f16_to_f32,
    .f32_to_bf16 = f32_to_bf16,
};
