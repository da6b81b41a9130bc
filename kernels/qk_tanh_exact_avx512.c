/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  tanh to float precision on AVX-512, 8 lanes at a time in double
  (qk.h, qk_tanh_exact): the exact activations (fast_activations off)
  called libm's tanhf value by value, 4-5x slower than a vector tanh.

  For a = |x|, with t = 2a: e^t - 1 = 2^k (expm1(r) + 1) - 1, where
  t = k ln2 + r, |r| <= ln2 / 2, and expm1(r) is its Taylor series to r^13
  (truncation below 2e-16 relative); tanh(a) = (e^t - 1) / (e^t - 1 + 2).
  In double the result's relative error is a few 1e-16, so the float it
  rounds to is tanh(x) correctly rounded but for values within about 1e-8
  ulp of a tie: 0 or 1 ulp from the true value, within 2 ulp of tanhf
  (glibc's own bound is 2 ulp). Edges: a is clamped to 20 (tanh is 1 in
  float from about 9.01 on, infinities included), the sign is put back
  bitwise (tanh(-0) = -0), a NaN goes through as itself, and a subnormal
  x gives x (t and the series in double are far from underflow; the
  result rounds back to x).
*/
#include "qk_internal.h"

#include <immintrin.h>

static inline __m512d expm1_series(__m512d r)
{
  /* Horner on 1/13!, ..., 1/2!, 1 then times r */
  static const double c[] = {1.0 / 6227020800.0,
                             1.0 / 479001600.0,
                             1.0 / 39916800.0,
                             1.0 / 3628800.0,
                             1.0 / 362880.0,
                             1.0 / 40320.0,
                             1.0 / 5040.0,
                             1.0 / 720.0,
                             1.0 / 120.0,
                             1.0 / 24.0,
                             1.0 / 6.0,
                             1.0 / 2.0,
                             1.0};
  __m512d p = _mm512_set1_pd(c[0]);
  for (int i = 1; i < (int)(sizeof c / sizeof c[0]); ++i)
    p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(c[i]));
  return _mm512_mul_pd(p, r);
}

/** tanh of 8 floats. */
static inline __m256 tanh8(__m256 x)
{
  const __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
  const __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  /* min(NaN, 20) is 20: NaN lanes are put back below */
  const __m512d a = _mm512_cvtps_pd(_mm256_min_ps(ax, _mm256_set1_ps(20.0f)));
  const __m512d t = _mm512_add_pd(a, a);
  /* ln2 split so that k * LN2_HI is exact (k <= 58) */
  const double LN2_HI = 0x1.62e42fefa38p-1, LN2_LO = 0x1.ef35793c7673p-45;
  const __m512d k = _mm512_roundscale_pd(_mm512_mul_pd(t, _mm512_set1_pd(0x1.71547652b82fep0)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512d r = _mm512_fnmadd_pd(k, _mm512_set1_pd(LN2_HI), t);
  r = _mm512_fnmadd_pd(k, _mm512_set1_pd(LN2_LO), r);
  const __m512d p = expm1_series(r);
  /* 2^k expm1(r) + (2^k - 1) */
  const __m512d two_k = _mm512_scalef_pd(_mm512_set1_pd(1.0), k);
  const __m512d em1 =
      _mm512_add_pd(_mm512_mul_pd(two_k, p), _mm512_sub_pd(two_k, _mm512_set1_pd(1.0)));
  const __m512d th = _mm512_div_pd(em1, _mm512_add_pd(em1, _mm512_set1_pd(2.0)));
  const __m256 y = _mm256_or_ps(_mm512_cvtpd_ps(th), sign);
  return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

void qk_avx512vnni_tanh_exact(float *y, const float *x, size_t n)
{
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, tanh8(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const __mmask8 mk = (__mmask8)((1u << (n - i)) - 1u);
    _mm256_mask_storeu_ps(y + i, mk, tanh8(_mm256_maskz_loadu_ps(mk, x + i)));
  }
}
