/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The int8 GEMM's register block on the AVX2 layout (qk_avx2_layout.h),
  shared by qk_avx2.c and qk_avxvnni.c: RT 8-row tiles x NF frames, the
  weight groups, the chunk loop (each decoded chunk serves the NF frames,
  each broadcast activation dword the RT tiles), the per-group integer
  corrections, scales and stores. Only the dot-product step differs,
  chosen at compile time by `dot`:

    QK_DOT_SIGN      AVX2: vpsignb + vpmaddubsw on |w| and sign(x, w),
                     widened to int32 by vpmaddwd after every sub-tile
                     (exact: qk_avx2.c's gemm_s8 comment);
    QK_DOT_SIGN_I16  the same, with the vpmaddubsw results summed in int16
                     for cpf chunks before widening (qk_avx2.c's
                     chunks_per_flush gives the bound);
    QK_DOT_VNNI      AVX-VNNI: one vpdpbusd on u = w + 128 (qk_avxvnni.c);
                     the +128 comes back out through the frame's code sum.

  Integer sums are exact, so SPLIT 2 (two accumulator chains per output,
  for latency in short frame blocks) and any order give the same integer;
  the float steps after it are qk.h's, in its order.
*/
#ifndef QUANTONE_KERNELS_QK_AVX2_GEMM_S8_TILES_H
#define QUANTONE_KERNELS_QK_AVX2_GEMM_S8_TILES_H

#include "qk_avx2_layout.h"
#include "qk_vnni256.h"

#include <immintrin.h>

enum { QK_DOT_SIGN, QK_DOT_SIGN_I16, QK_DOT_VNNI };

/** Largest frame and row-tile counts of a register block (array bounds). */
#define QK_TILES_NF 6
#define QK_TILES_RT 4

/** The activation's group sums a kernel reads: n * stride + g. */
typedef struct {
  const int32_t *sums; /**< NULL: sum the codes in the kernel */
  int stride;          /**< groups per column */
} xsum_view;

/** The caller's sums when they were taken over W's groups, else NULL (summed here). */
static inline xsum_view xsum_view_of(const qk_packed *W, const qk_act_s8 *X)
{
  const bool fit = X->sums && qk_group_size(W->cols, X->group) == W->group;
  return (xsum_view){fit ? X->sums : NULL, W->ngroups};
}

/** Sum of the codes c[k0..k1) (only when the caller's sums were taken over other groups). */
__attribute__((noinline, cold, unused)) static int32_t code_sum_range(const int8_t *c, int k0,
                                                                      int k1)
{
  int32_t s = 0;
  for (int k = k0; k < k1; ++k)
    s += c[k];
  return s;
}

/** One decoded chunk for `dot`: signed values, or u = v + 128 for QK_DOT_VNNI. */
QK_AI void decode_chunk_for(const int dot, const int bits, const uint8_t *src, __m256i tbl,
                            __m256i *w)
{
  decode_chunk(bits, src, tbl, w);
  if (dot == QK_DOT_VNNI && bits == 8) /* the table is pre-biased; s8 flips its sign bit */
    w[0] = _mm256_xor_si256(w[0], _mm256_set1_epi8((char)0x80));
}

/** acc (+)= the sub-tile w (8 rows x 4 k) against the broadcast codes xb, by `dot`. */
QK_AI void dot_step(const int dot, __m256i *acc, __m256i *acc16, __m256i w, __m256i xb)
{
  if (dot == QK_DOT_VNNI) {
#ifdef QK_VNNI256
    *acc = qk_dpbusd256(*acc, w, xb);
#endif
    return;
  }
  const __m256i p16 = _mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(xb, w));
  if (dot == QK_DOT_SIGN_I16)
    *acc16 = _mm256_add_epi16(*acc16, p16);
  else
    *acc = _mm256_add_epi32(*acc, _mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
}

/**
   Tiles t .. t+RT-1 x frames n0 .. n0+NF-1 of Y = W X (+ bias). cpf:
   chunks per int16 flush (QK_DOT_SIGN_I16 only).
*/
QK_AI void gemm_s8_tiles(const qk_packed *W, const int bits, const int dot, const int cpf, int t,
                         const int RT, const qk_act_s8 *X, xsum_view xs, int n0, const int NF,
                         const int SPLIT, const float *bias, float *Y, int ldy, unsigned flags)
{
  const int K = W->cols, ng = W->ngroups, G = W->group, KSTEP = kstep_of(bits);
  const int NS = KSTEP / 4; /* sub-tiles per chunk */
  const size_t tb = tile_code_bytes(K, bits), pstride = (size_t)ng * 8;
  const uint8_t *wp = (const uint8_t *)W->data + (size_t)t * tb;
  const float *sc =
      (const float *)((const uint8_t *)W->data + scales_offset(W, bits)) + (size_t)t * pstride;
  const int32_t *zp = W->fold ? W->fold + (size_t)t * pstride : NULL;
  const __m256i tbl = dot == QK_DOT_VNNI
                          ? _mm256_xor_si256(load_table(W), _mm256_set1_epi8((char)0x80))
                          : load_table(W);
  const int8_t *x[QK_TILES_NF];
  __m256 facc[QK_TILES_RT][QK_TILES_NF];
  for (int f = 0; f < NF; ++f)
    x[f] = X->codes + (size_t)(n0 + f) * (size_t)X->ld;
  for (int r = 0; r < RT; ++r)
    for (int f = 0; f < NF; ++f)
      facc[r][f] = _mm256_setzero_ps();
  for (int g = 0; g < ng; ++g) {
    const int k0 = g * G, k1 = k0 + G < K ? k0 + G : K;
    const int c0 = k0 / KSTEP, c1 = (k1 + KSTEP - 1) / KSTEP;
    const int flush = dot == QK_DOT_SIGN_I16 ? cpf : 1 << 30;
    __m256i acc[2][QK_TILES_RT][QK_TILES_NF], acc16[QK_TILES_RT][QK_TILES_NF];
    for (int r = 0; r < RT; ++r)
      for (int f = 0; f < NF; ++f) {
        acc16[r][f] = _mm256_setzero_si256();
        for (int s = 0; s < SPLIT; ++s)
          acc[s][r][f] = _mm256_setzero_si256();
      }
    for (int cb = c0; cb < c1; cb += flush) {
      const int ce = cb + flush < c1 ? cb + flush : c1;
      for (int c = cb; c < ce; ++c) {
        __m256i w[QK_TILES_RT][4];
        for (int r = 0; r < RT; ++r)
          decode_chunk_for(dot, bits, wp + (size_t)r * tb + (size_t)c * 32, tbl, w[r]);
        for (int s = 0; s < NS; ++s) {
          /* SPLIT 2: s8 chunks alternate chains, sub-byte chunks their sub-tiles */
          const int k = c * KSTEP + 4 * s, chain = SPLIT == 2 ? (bits == 8 ? c & 1 : s & 1) : 0;
          for (int f = 0; f < NF; ++f) {
            const __m256i xb = bcast4(x[f] + k);
            for (int r = 0; r < RT; ++r)
              dot_step(dot, &acc[chain][r][f], &acc16[r][f], w[r][s], xb);
          }
        }
      }
      if (dot == QK_DOT_SIGN_I16) /* widen the int16 sums before they can overflow */
        for (int r = 0; r < RT; ++r)
          for (int f = 0; f < NF; ++f) {
            acc[0][r][f] = _mm256_add_epi32(acc[0][r][f],
                                            _mm256_madd_epi16(acc16[r][f], _mm256_set1_epi16(1)));
            acc16[r][f] = _mm256_setzero_si256();
          }
    }
    for (int r = 0; r < RT; ++r) {
      const __m256 scale = _mm256_load_ps(sc + (size_t)r * pstride + (size_t)g * 8);
      /* i = acc - (zp + 128 (QK_DOT_VNNI's bias) or zp) * the frame's code sum */
      const bool correct = zp || dot == QK_DOT_VNNI;
      __m256i zc = _mm256_set1_epi32(dot == QK_DOT_VNNI ? 128 : 0);
      if (zp)
        zc = _mm256_add_epi32(
            zc, _mm256_load_si256((const __m256i *)(zp + (size_t)r * pstride + (size_t)g * 8)));
      for (int f = 0; f < NF; ++f) {
        __m256i i = SPLIT == 2 ? _mm256_add_epi32(acc[0][r][f], acc[1][r][f]) : acc[0][r][f];
        if (correct) {
          const int32_t s = xs.sums ? xs.sums[(size_t)(n0 + f) * (size_t)xs.stride + (size_t)g]
                                    : code_sum_range(x[f], k0, k1);
          i = _mm256_sub_epi32(i, _mm256_mullo_epi32(zc, _mm256_set1_epi32(s)));
        }
        facc[r][f] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i), scale, facc[r][f]);
      }
    }
  }
  for (int r = 0; r < RT; ++r) {
    const int rows = W->rows - 8 * (t + r);
    const __m256 bv = load_bias(bias, 8 * (t + r), rows);
    for (int f = 0; f < NF; ++f) {
      const float xscale = X->per_column ? X->scales[n0 + f] : X->scales[0];
      store_tile(Y + (size_t)(n0 + f) * (size_t)ldy + (size_t)(8 * (t + r)), rows, bv, flags,
                 facc[r][f], _mm256_set1_ps(xscale), 1);
    }
  }
}

/** Frames n0 .. n0+NF-1 over every row tile: RT tiles at a time, then 2, then 1. */
QK_AI void gemm_s8_frames(const qk_packed *W, const int bits, const int dot, const int cpf,
                          const qk_act_s8 *X, xsum_view xs, int n0, const int NF, const int RT,
                          const int SPLIT, const float *bias, float *Y, int ldy, unsigned flags)
{
  const int MT = row_tiles(W);
  int t = 0;
  for (; t + RT <= MT; t += RT)
    gemm_s8_tiles(W, bits, dot, cpf, t, RT, X, xs, n0, NF, SPLIT, bias, Y, ldy, flags);
  if (RT > 2 && t + 2 <= MT) {
    gemm_s8_tiles(W, bits, dot, cpf, t, 2, X, xs, n0, NF, SPLIT, bias, Y, ldy, flags);
    t += 2;
  }
  for (; t < MT; ++t)
    gemm_s8_tiles(W, bits, dot, cpf, t, 1, X, xs, n0, NF, SPLIT, bias, Y, ldy, flags);
}

#endif
