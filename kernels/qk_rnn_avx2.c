/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The fused recurrent step (qk.h) on AVX2 + FMA: gates padded to 8 lanes
  (one ymm per 8 units of a gate). Int8 products without VNNI: vpmaddubsw
  of |w| (unsigned, at most 128) and the code signed by w (|q| <= 127), so
  a pair sums to at most 2 * 128 * 127 = 32512 and never saturates int16;
  vpmaddwd by ones widens the pairs to the int32 sum of four. The body is
  qk_rnn_simd.h; this file gives it the ymm operations.
*/
#include "qk_rnn_internal.h"

#include <immintrin.h>
#include <string.h>

#define QK_RNN_AI static inline __attribute__((always_inline))
#define V __m256
#define VI __m256i
#define VL 8
#define RNN_RB_F32 2
#define RNN_RB_S8 4
#define RNN_NAME(x) x##_p8_avx2

QK_RNN_AI __m256i lanes_mask8(int n)
{
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

QK_RNN_AI __m256i dot4(__m256i acc, __m256i x, __m256i w)
{
  const __m256i p = _mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(x, w));
  return _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16(1)));
}

#define v_load(p) _mm256_load_ps(p)
#define v_store(p, v) _mm256_store_ps(p, v)
#define v_zero() _mm256_setzero_ps()
#define v_set1(x) _mm256_set1_ps(x)
#define v_fma(a, b, c) _mm256_fmadd_ps(a, b, c)
#define v_add(a, b) _mm256_add_ps(a, b)
#define v_sub(a, b) _mm256_sub_ps(a, b)
#define v_mul(a, b) _mm256_mul_ps(a, b)
#define v_abs(a) _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a)
#define v_max(a, b) _mm256_max_ps(a, b)
#define v_clamp(x, c) _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-(c))), _mm256_set1_ps(c))
#define v_div(a, b) _mm256_div_ps(a, b)
#define v_loadu_n(p, n) _mm256_maskload_ps(p, lanes_mask8(n))
#define v_storeu_n(p, v, n) _mm256_maskstore_ps(p, lanes_mask8(n), v)
#define v_keep_n(v, n) _mm256_and_ps(v, _mm256_castsi256_ps(lanes_mask8(n)))
#define v_lane(v, k) _mm256_permutevar8x32_ps(v, _mm256_set1_epi32(k))
#define v_cvt(a) _mm256_cvtepi32_ps(a)
#define vi_load(p) _mm256_load_si256((const __m256i *)(const void *)(p))
#define vi_set1_dword(p) _mm256_set1_epi32(load4(p))
#define vi_dot(acc, a, w) dot4(acc, a, w)
#define vi_zero() _mm256_setzero_si256()
#define vi_add(a, b) _mm256_add_epi32(a, b)
#define vi_from(p) ((void)(p), _mm256_setzero_si256())

#define vi_absbits_max(m, v) _mm256_max_epi32(m, _mm256_castps_si256(v_abs(v)))

/** The max of 8 lanes in every lane. */
QK_RNN_AI __m256i vi_allmax(__m256i m)
{
  m = _mm256_max_epi32(m, _mm256_permute2x128_si256(m, m, 1));
  m = _mm256_max_epi32(m, _mm256_shuffle_epi32(m, _MM_SHUFFLE(1, 0, 3, 2)));
  return _mm256_max_epi32(m, _mm256_shuffle_epi32(m, _MM_SHUFFLE(2, 3, 0, 1)));
}

#define vi_exponent(m) _mm256_and_si256(m, _mm256_set1_epi32((int)QK_RNN_EXP_MASK))
#define vi_same(a, b) (_mm256_movemask_epi8(_mm256_cmpeq_epi32(a, b)) == -1)

/** qk_rnn_s8_scale lane by lane (qk_rnn_internal.h); the bounds are below
    2^31, so signed compares order them. */
QK_RNN_AI void s8_scales(__m256i amax_bits, __m256 *s, __m256 *inv)
{
  const __m256i e = _mm256_and_si256(amax_bits, _mm256_set1_epi32((int)QK_RNN_EXP_MASK));
  const __m256i normal =
      _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32((int)QK_RNN_EXP_LO), e),
                          _mm256_cmpgt_epi32(_mm256_set1_epi32((int)QK_RNN_EXP_HI + 1), e));
  *s = _mm256_castsi256_ps(
      _mm256_and_si256(normal, _mm256_sub_epi32(e, _mm256_set1_epi32((int)QK_RNN_S_BIAS))));
  *inv = _mm256_castsi256_ps(
      _mm256_and_si256(normal, _mm256_sub_epi32(_mm256_set1_epi32((int)QK_RNN_INV_BASE), e)));
}

/** Codes of 8 lanes as signed bytes (qk_rnn_internal.h). */
QK_RNN_AI void v_codes(__m256 v, __m256 inv, int8_t *dst)
{
  __m256i b = _mm256_castps_si256(_mm256_fmadd_ps(v, inv, _mm256_set1_ps(QK_RNN_CODE_MAGIC)));
  b = _mm256_max_epi32(b, _mm256_set1_epi32(QK_RNN_CODE_MAGIC_BITS - QK_RNN_CODE_MAX));
  b = _mm256_min_epi32(b, _mm256_set1_epi32(QK_RNN_CODE_MAGIC_BITS + QK_RNN_CODE_MAX));
  const __m256i q = _mm256_sub_epi32(b, _mm256_set1_epi32(QK_RNN_CODE_MAGIC_BITS));
  const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
  _mm_storel_epi64((__m128i *)(void *)dst, _mm_packs_epi16(w, w));
}

#include "qk_rnn_simd.h"

void qk_rnn_run_f32_p8_avx2(const qk_rnn *r, const float *gx, int ldg, int N, float *h, float *c,
                            float *y, int ldy, const qk_rnn_io *io)
{
  run_f32_p8_avx2(r, gx, ldg, N, h, c, y, ldy, io);
}

void qk_rnn_run_s8_p8_avx2(const qk_rnn *r, const float *gx, int ldg, int N, float *h, float *c,
                           float *y, int ldy, const qk_rnn_io *io)
{
  (void)io; /* float forms only (qk_rnn_run_io) */
  if (r->P == VL)
    run_p8_avx2(r, gx, ldg, N, h, c, y, ldy, NULL, true, true, false);
  else
    run_p8_avx2(r, gx, ldg, N, h, c, y, ldy, NULL, true, false, false);
}
