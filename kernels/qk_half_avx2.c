/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The 16-bit formats on AVX2 + FMA + F16C (qk_half.h): FP16 weights widened
  in registers by vcvtph2ps, and BF16 compute without vdpbf16ps, its
  arithmetic rebuilt from FMA under MXCSR's flush-to-zero (the flush
  vdpbf16ps does), so the result is the scalar oracle's bit for bit.
  Also the fallback of AVX-512 machines without AVX512_BF16.
*/
#include "qk_half.h"

#include <immintrin.h>

/** Frames run at once: four independent accumulation chains per row. */
#define FRAMES 4
/** bf16 pairs converted at a time per frame (stack scratch). */
#define PAIR_CHUNK 128

static inline void store_block(const __m256 acc[2], int m0, int rows, const float *bias, float *y,
                               unsigned flags)
{
  float tmp[QK_HALF_ROWS];
  _mm256_storeu_ps(tmp, acc[0]);
  _mm256_storeu_ps(tmp + 8, acc[1]);
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
    __m256 acc[FRAMES][2];
    for (int j = 0; j < nb; ++j)
      acc[j][0] = acc[j][1] = _mm256_setzero_ps();
    for (int k = 0; k < K; ++k) {
      const __m256 w0 = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(w + (size_t)k * 16)));
      const __m256 w1 = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(w + (size_t)k * 16 + 8)));
      for (int j = 0; j < nb; ++j) {
        const __m256 xk = _mm256_broadcast_ss(X + (size_t)j * (size_t)ldx + (size_t)k);
        acc[j][0] = _mm256_fmadd_ps(w0, xk, acc[j][0]);
        acc[j][1] = _mm256_fmadd_ps(w1, xk, acc[j][1]);
      }
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

/**
   Pairs p0.. of nb frames as bf16-rounded floats, odd and even k apart
   (xo[j][i], xe[j][i]); k beyond K reads as 0.
*/
static inline void bf16_chunk(const float *X, int ldx, int nb, int K, int p0, int np,
                              float xo[][PAIR_CHUNK], float xe[][PAIR_CHUNK])
{
  for (int j = 0; j < nb; ++j) {
    const float *x = X + (size_t)j * (size_t)ldx;
    for (int i = 0; i < np; ++i) {
      const int k0 = 2 * (p0 + i), k1 = k0 + 1;
      xe[j][i] = qk_bf16_to_f32_daz(qk_f32_to_bf16_scalar(x[k0]));
      xo[j][i] = k1 < K ? qk_bf16_to_f32_daz(qk_f32_to_bf16_scalar(x[k1])) : 0.0f;
    }
  }
}

static inline __attribute__((always_inline)) void bf16_frames(const qk_packed *W, const float *X,
                                                              int ldx, int nb, const float *bias,
                                                              float *Y, int ldy, unsigned flags)
{
  const int K = W->cols, kpad = qk_half_kpad(W), pairs = kpad / 2, blocks = qk_half_blocks(W);
  const __m256i high = _mm256_set1_epi32((int)0xffff0000u);
  float xo[FRAMES][PAIR_CHUNK], xe[FRAMES][PAIR_CHUNK];
  for (int b = 0; b < blocks; ++b) {
    const uint16_t *w = (const uint16_t *)W->data + (size_t)b * QK_HALF_ROWS * (size_t)kpad;
    __m256 acc[FRAMES][2];
    for (int j = 0; j < nb; ++j)
      acc[j][0] = acc[j][1] = _mm256_setzero_ps();
    /* FTZ (MXCSR bit 15) for the dot products only, the flush vdpbf16ps
       does after each step; the epilogue is plain float arithmetic */
    const unsigned csr = _mm_getcsr();
    _mm_setcsr(csr | 0x8000u);
    for (int p0 = 0; p0 < pairs; p0 += PAIR_CHUNK) {
      const int np = pairs - p0 < PAIR_CHUNK ? pairs - p0 : PAIR_CHUNK;
      bf16_chunk(X, ldx, nb, K, p0, np, xo, xe);
      for (int i = 0; i < np; ++i) {
        const __m256i *wp = (const __m256i *)(w + (size_t)(p0 + i) * 2 * QK_HALF_ROWS);
        const __m256i v0 = _mm256_load_si256(wp), v1 = _mm256_load_si256(wp + 1);
        const __m256 odd0 = _mm256_castsi256_ps(_mm256_and_si256(v0, high));
        const __m256 odd1 = _mm256_castsi256_ps(_mm256_and_si256(v1, high));
        const __m256 even0 = _mm256_castsi256_ps(_mm256_slli_epi32(v0, 16));
        const __m256 even1 = _mm256_castsi256_ps(_mm256_slli_epi32(v1, 16));
        for (int j = 0; j < nb; ++j) {
          const __m256 xodd = _mm256_broadcast_ss(&xo[j][i]),
                       xeven = _mm256_broadcast_ss(&xe[j][i]);
          acc[j][0] = _mm256_fmadd_ps(odd0, xodd, acc[j][0]);
          acc[j][1] = _mm256_fmadd_ps(odd1, xodd, acc[j][1]);
          acc[j][0] = _mm256_fmadd_ps(even0, xeven, acc[j][0]);
          acc[j][1] = _mm256_fmadd_ps(even1, xeven, acc[j][1]);
        }
      }
    }
    _mm_setcsr(csr);
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
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128((__m128i *)(dst + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i)
    dst[i] = qk_f32_to_f16_scalar(src[i]);
}

static void f16_to_f32(float *dst, const uint16_t *src, size_t n)
{
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
  for (; i < n; ++i)
    dst[i] = qk_f16_to_f32_scalar(src[i]);
}

/** qk_f32_to_bf16_scalar in integer lanes, 8 at a time. */
static void f32_to_bf16(uint16_t *dst, const float *src, size_t n)
{
  const __m256i absmask = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
  const __m256i one = _mm256_set1_epi32(1), bias = _mm256_set1_epi32(0x7fff);
  const __m256i quiet = _mm256_set1_epi32(0x40), sign = _mm256_set1_epi32((int)0x80000000u);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i u = _mm256_loadu_si256((const __m256i *)(src + i));
    const __m256i abs = _mm256_and_si256(u, absmask);
    const __m256i rounded =
        _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, bias),
                                           _mm256_and_si256(_mm256_srli_epi32(u, 16), one)),
                          16);
    const __m256i nan = _mm256_cmpgt_epi32(abs, inf);
    const __m256i denormal = _mm256_cmpeq_epi32(_mm256_and_si256(u, inf), _mm256_setzero_si256());
    const __m256i qnan = _mm256_or_si256(_mm256_srli_epi32(u, 16), quiet);
    const __m256i zero = _mm256_srli_epi32(_mm256_and_si256(u, sign), 16);
    __m256i r = _mm256_blendv_epi8(rounded, zero, denormal);
    r = _mm256_blendv_epi8(r, qnan, nan);
    /* 8 x 32-bit -> 8 x 16-bit (values fit 16 bits: no saturation) */
    r = _mm256_and_si256(r, _mm256_set1_epi32(0xffff));
    const __m128i packed =
        _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    _mm_storeu_si128((__m128i *)(dst + i), packed);
  }
  for (; i < n; ++i)
    dst[i] = qk_f32_to_bf16_scalar(src[i]);
}

const qk_half_ops qk_half_ops_avx2 = {
    .name = "avx2-f16c",
    .gemm_f16_r16k1 = gemm_f16_r16k1,
    .gemm_bf16_r16k2 = gemm_bf16_r16k2,
    .f32_to_f16 = f32_to_f16,
    .f16_to_f32 = f16_to_f32,
    .f32_to_bf16 = f32_to_bf16,
};
