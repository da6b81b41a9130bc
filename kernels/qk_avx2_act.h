/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The AVX2 vector tanh / sigmoid, shared by the AVX2 files (qk_avx2.c's
  maps, qk_rnn_avx2.c's fused recurrent step). Inline; the files that
  include it are compiled with -mavx2 -mfma.
*/
#ifndef QUANTONE_KERNELS_QK_AVX2_ACT_H
#define QUANTONE_KERNELS_QK_AVX2_ACT_H

#include "qk_internal.h"

#include <immintrin.h>

/* ------------------------------------------------------------------------
   tanh / sigmoid: the exp of qk_internal.h step by step (same constants,
   same fused operations), so results match the scalar path.
   ------------------------------------------------------------------------ */

static inline __m256 exp_approx_avx2(__m256 y)
{
  __m256 n = _mm256_round_ps(_mm256_mul_ps(y, _mm256_set1_ps(QK_LOG2E)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-QK_LN2_HI), y);
  r = _mm256_fmadd_ps(n, _mm256_set1_ps(-QK_LN2_LO), r);
  __m256 p = _mm256_set1_ps(QK_EXP_C7);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(QK_EXP_C6));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(QK_EXP_C5));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(QK_EXP_C4));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(QK_EXP_C3));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(QK_EXP_C2));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  __m256i e =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

/** Clamp like fminf(fmaxf(x, -c), c): vmaxps returns -c for a NaN x, as fmaxf does. */
static inline __m256 clamp_ps(__m256 x, float c)
{
  return _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-c)), _mm256_set1_ps(c));
}

static inline __m256 tanh8(__m256 x)
{
  const __m256 one = _mm256_set1_ps(1.0f);
  __m256 v = clamp_ps(x, QK_TANH_CLAMP);
  __m256 e = exp_approx_avx2(_mm256_mul_ps(_mm256_set1_ps(2.0f), v));
  return _mm256_div_ps(_mm256_sub_ps(e, one), _mm256_add_ps(e, one));
}

static inline __m256 sigmoid8(__m256 x)
{
  const __m256 one = _mm256_set1_ps(1.0f);
  __m256 v = clamp_ps(x, QK_SIGMOID_CLAMP);
  __m256 e = exp_approx_avx2(_mm256_xor_ps(v, _mm256_set1_ps(-0.0f))); /* -v */
  return _mm256_div_ps(one, _mm256_add_ps(one, e));
}

/** qk_internal.h's QK_TANH8 rational, step for step. */
static inline __m256 tanh_int8_8(__m256 x)
{
  const __m256 v = clamp_ps(x, QK_TANH8_CLAMP), u = _mm256_mul_ps(v, v);
  const __m256 p =
      _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(QK_TANH8_P2), u, _mm256_set1_ps(QK_TANH8_P1)),
                      u, _mm256_set1_ps(QK_TANH8_P0));
  const __m256 q =
      _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(QK_TANH8_Q2), u, _mm256_set1_ps(QK_TANH8_Q1)),
                      u, _mm256_set1_ps(1.0f));
  return _mm256_div_ps(_mm256_mul_ps(v, p), q);
}

#endif
