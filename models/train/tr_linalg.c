/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Weight-gradient outer products. The hot case is M, K = 16 or 8 channels
  over N = thousands of frames: one pass over N with a 4 x 16 block of dW
  held in eight AVX registers, so each frame costs two loads of X, four
  broadcasts of G and eight FMAs, and dW touches memory once per block.
*/
#include "tr_linalg.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TR_HAVE_AVX2_PATH 1

/** rows m0..m0+MB-1 (MB <= 4) x cols k0..k0+15 (two vectors; k0+16 <= K). */
__attribute__((target("avx2,fma"))) static void outer_4x16_avx2(float *dW, int ldw, int m0, int MB,
                                                                int k0, int KV, const float *G,
                                                                int ldg, const float *X, int ldx,
                                                                int N)
{
  __m256 acc[4][2];
  for (int r = 0; r < 4; ++r)
    acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int n = 0; n < N; ++n) {
    const float *x = X + (size_t)n * (size_t)ldx + k0;
    const float *g = G + (size_t)n * (size_t)ldg + m0;
    const __m256 x0 = _mm256_loadu_ps(x);
    const __m256 x1 = KV > 1 ? _mm256_loadu_ps(x + 8) : _mm256_setzero_ps();
    for (int r = 0; r < MB; ++r) {
      const __m256 gb = _mm256_broadcast_ss(g + r);
      acc[r][0] = _mm256_fmadd_ps(gb, x0, acc[r][0]);
      if (KV > 1)
        acc[r][1] = _mm256_fmadd_ps(gb, x1, acc[r][1]);
    }
  }
  for (int r = 0; r < MB; ++r) {
    float *d = dW + (size_t)(m0 + r) * (size_t)ldw + k0;
    _mm256_storeu_ps(d, _mm256_add_ps(_mm256_loadu_ps(d), acc[r][0]));
    if (KV > 1)
      _mm256_storeu_ps(d + 8, _mm256_add_ps(_mm256_loadu_ps(d + 8), acc[r][1]));
  }
}
#endif

/** Portable path and narrow tails (K < 8: nano's 4 / 2 channels, mixin K = 1): one pass
    over the frames with the whole block of dW in a local accumulator, instead of one
    strided pass per (m, k). */
static void outer_scalar(float *dW, int ldw, int m0, int m1, int k0, int k1, const float *G,
                         int ldg, const float *X, int ldx, int N)
{
  enum { MB = 16, KB = 8 };
  for (int mb = m0; mb < m1; mb += MB) {
    const int me = mb + MB < m1 ? mb + MB : m1;
    for (int kb = k0; kb < k1; kb += KB) {
      const int ke = kb + KB < k1 ? kb + KB : k1;
      float acc[MB][KB];
      memset(acc, 0, sizeof acc);
      for (int n = 0; n < N; ++n) {
        const float *g = G + (size_t)n * (size_t)ldg, *x = X + (size_t)n * (size_t)ldx;
        for (int m = mb; m < me; ++m) {
          const float gm = g[m];
          for (int k = kb; k < ke; ++k)
            acc[m - mb][k - kb] += gm * x[k];
        }
      }
      for (int m = mb; m < me; ++m)
        for (int k = kb; k < ke; ++k)
          dW[(size_t)m * (size_t)ldw + k] += acc[m - mb][k - kb];
    }
  }
}

void tr_outer_acc(float *dW, int ldw, int M, int K, const float *G, int ldg, const float *X,
                  int ldx, int N)
{
  if (N <= 0)
    return;
  int kdone = 0;
#ifdef TR_HAVE_AVX2_PATH
  /* cpuid results are cached by libgcc; no shared state written here (thread-safe) */
  if (K >= 8 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    int k0 = 0;
    for (; k0 + 8 <= K; k0 += 16) {
      const int KV = k0 + 16 <= K ? 2 : 1;
      for (int m0 = 0; m0 < M; m0 += 4)
        outer_4x16_avx2(dW, ldw, m0, M - m0 < 4 ? M - m0 : 4, k0, KV, G, ldg, X, ldx, N);
      kdone = k0 + 8 * KV;
    }
  }
#endif
  if (kdone < K)
    outer_scalar(dW, ldw, 0, M, kdone, K, G, ldg, X, ldx, N);
}

void tr_colsum_acc(float *b, int M, const float *G, int ldg, int N)
{
  for (int m = 0; m < M; ++m) {
    double acc = 0.0;
    for (int n = 0; n < N; ++n)
      acc += G[(size_t)n * (size_t)ldg + m];
    b[m] += (float)acc;
  }
}

void tr_pack(qk_packed **slot, const float *A, int rows, int cols, int ld, int transpose)
{
  const int R = transpose ? cols : rows, C = transpose ? rows : cols;
  float *tmp = malloc((size_t)R * (size_t)C * sizeof *tmp);
  if (!tmp)
    abort();
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const float v = A[(size_t)r * (size_t)ld + c];
      if (transpose)
        tmp[(size_t)c * (size_t)rows + r] = v;
      else
        tmp[(size_t)r * (size_t)cols + c] = v;
    }
  qk_weights w;
  memset(&w, 0, sizeof w);
  w.format = QK_F32;
  w.rows = R;
  w.cols = C;
  w.f32 = tmp;
  const char *err = NULL;
  qk_packed *p = qk_pack(&w, qk_active_isa(), &err);
  free(tmp);
  if (!p)
    abort();
  if (*slot)
    qk_packed_free(*slot);
  *slot = p;
}
