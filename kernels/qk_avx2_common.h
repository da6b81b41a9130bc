/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  What the AVX2 files share (qk_avx2.c and the fused WaveNet layer,
  qk_wavenet_avx2.c): the vector steps of qk_tanh_int8. Every function
  here is inline; the files that include this header are compiled with
  the AVX2 + FMA flags.
*/
#ifndef QUANTONE_KERNELS_QK_AVX2_COMMON_H
#define QUANTONE_KERNELS_QK_AVX2_COMMON_H

#include "qk_internal.h"

#include <immintrin.h>

/** Clamp like fminf(fmaxf(x, -c), c): vmaxps returns -c for a NaN x, as fmaxf does. */
static inline __m256 clamp_ps(__m256 x, float c)
{
  return _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-c)), _mm256_set1_ps(c));
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
