/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The fused recurrent step (qk.h) on AVX-512: gates padded to 16 lanes
  (one zmm per 16 units of a gate), float weights by vfmadd231ps, int8
  weights by vpdpbusd (codes offset to unsigned, the pack's fold undoes
  it). The body is qk_rnn_simd.h; this file gives it the zmm operations.
*/
#include "qk_avx512vnni_common.h"
#include "qk_rnn_internal.h"

#include <immintrin.h>
#include <string.h>

#define QK_RNN_AI ALWAYS_INLINE
#define V __m512
#define VI __m512i
#define VL 16
#define RNN_RB_F32 4
#define RNN_RB_S8 6
#define RNN_NAME(x) x##_p16_avx512

#define v_load(p) _mm512_load_ps(p)
#define v_store(p, v) _mm512_store_ps(p, v)
#define v_zero() _mm512_setzero_ps()
#define v_set1(x) _mm512_set1_ps(x)
#define v_fma(a, b, c) _mm512_fmadd_ps(a, b, c)
#define v_add(a, b) _mm512_add_ps(a, b)
#define v_sub(a, b) _mm512_sub_ps(a, b)
#define v_mul(a, b) _mm512_mul_ps(a, b)
#define v_abs(a) _mm512_abs_ps(a)
#define v_max(a, b) _mm512_max_ps(a, b)
/* sign(x) min(|x|, c), one vrangeps: fminf(fmaxf(x, -c), c) for every x but NaN */
#define v_clamp(x, c) _mm512_range_ps(x, _mm512_set1_ps(c), 0x02)
#define v_div(a, b) _mm512_div_ps(a, b)
#define v_loadu_n(p, n) loadu_mask_ps(lanes_mask(n), p)
#define v_storeu_n(p, v, n) storeu_mask_ps(p, lanes_mask(n), v)
#define v_keep_n(v, n) _mm512_maskz_mov_ps(lanes_mask(n), v)
#define v_lane(v, k) _mm512_permutexvar_ps(_mm512_set1_epi32(k), v)
#define v_cvt(a) _mm512_cvtepi32_ps(a)
#define vi_load(p) _mm512_load_si512((const void *)(p))
#define vi_set1_dword(p) _mm512_set1_epi32(load4(p))
#define vi_dot(acc, a, w) _mm512_dpbusd_epi32(acc, a, w)
#define vi_zero() _mm512_setzero_si512()
#define vi_add(a, b) _mm512_add_epi32(a, b)
#define vi_from(p) _mm512_load_si512((const void *)(p))

#define vi_absbits_max(m, v) _mm512_max_epi32(m, _mm512_castps_si512(_mm512_abs_ps(v)))

/** The max of 16 lanes in every lane: a butterfly of four permutes, each
    followed by a one-cycle integer max. */
ALWAYS_INLINE __m512i vi_allmax(__m512i m)
{
  m = _mm512_max_epi32(m, _mm512_shuffle_i32x4(m, m, _MM_SHUFFLE(1, 0, 3, 2)));
  m = _mm512_max_epi32(m, _mm512_shuffle_i32x4(m, m, _MM_SHUFFLE(2, 3, 0, 1)));
  m = _mm512_max_epi32(m, _mm512_shuffle_epi32(m, _MM_SHUFFLE(1, 0, 3, 2)));
  return _mm512_max_epi32(m, _mm512_shuffle_epi32(m, _MM_SHUFFLE(2, 3, 0, 1)));
}

#define vi_exponent(m) _mm512_and_si512(m, _mm512_set1_epi32((int)QK_RNN_EXP_MASK))
#define vi_same(a, b) (_mm512_cmpneq_epi32_mask(a, b) == 0)

/** qk_rnn_s8_scale lane by lane (qk_rnn_internal.h). */
ALWAYS_INLINE void s8_scales(__m512i amax_bits, __m512 *s, __m512 *inv)
{
  const __m512i e = _mm512_and_si512(amax_bits, _mm512_set1_epi32((int)QK_RNN_EXP_MASK));
  const __mmask16 normal =
      _mm512_cmple_epu32_mask(_mm512_sub_epi32(e, _mm512_set1_epi32((int)QK_RNN_EXP_LO)),
                              _mm512_set1_epi32((int)(QK_RNN_EXP_HI - QK_RNN_EXP_LO)));
  *s =
      _mm512_castsi512_ps(_mm512_maskz_sub_epi32(normal, e, _mm512_set1_epi32((int)QK_RNN_S_BIAS)));
  *inv = _mm512_castsi512_ps(
      _mm512_maskz_sub_epi32(normal, _mm512_set1_epi32((int)QK_RNN_INV_BASE), e));
}

/** Codes of 16 lanes + 128 (1 .. 255), the unsigned bytes vpdpbusd takes:
    the low bytes of the clamped bits (qk_rnn_internal.h). */
ALWAYS_INLINE void v_codes(__m512 v, __m512 inv, int8_t *dst)
{
  __m512i b = _mm512_castps_si512(_mm512_fmadd_ps(v, inv, _mm512_set1_ps(QK_RNN_CODE_MAGIC)));
  b = _mm512_max_epi32(b, _mm512_set1_epi32(QK_RNN_CODE_MAGIC_BITS - QK_RNN_CODE_MAX));
  b = _mm512_min_epi32(b, _mm512_set1_epi32(QK_RNN_CODE_MAGIC_BITS + QK_RNN_CODE_MAX));
  _mm_store_si128((__m128i *)(void *)dst, _mm512_cvtepi32_epi8(b));
}

#include "qk_rnn_simd.h"

/** The packed-gates form's vectors: three zmm, lanes q * H + j (zeros past 4H). */
#define PK_VECS (QK_RNN_PK_LANES / VL)

/**
   The packed-gates LSTM (qk_rnn_pk_applies: 9 to 12 units, float): the
   four gates' 4H lanes end to end in three zmm (lane q * H + j) instead of
   four padded ones, so the recurrent product takes 3H fmas instead of 4H
   and the rational's parts run on three vectors instead of four; then
   vpermt2ps moves gates f, g, o of n and q to lanes 0 .. H - 1 (gate i is
   there already) for the cell (lstm_cell). Per lane the operations of
   run() in the same order, so the same bits. Lanes past H of the moved
   gates take unit 0's values (finite; their h is never read).
*/
static void run_pk(const qk_rnn *r, const float *gx, int ldg, int N, float *h, float *c, float *y,
                   int ldy, const qk_rnn_io *io, const bool IO)
{
  const int H = r->H;
  _Alignas(64) float hp[VL], cp[VL];
  memset(hp, 0, sizeof hp);
  memset(cp, 0, sizeof cp);
  memcpy(hp, h, (size_t)H * sizeof(float));
  memcpy(cp, c, (size_t)H * sizeof(float));
  /* gate q's lane l < H is lane q * H + l of the pair (V0, V1) for f,
     (V1, V2) for g and o: 9 <= H <= 12 keeps them inside the pair */
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i l0 = _mm512_maskz_mov_epi32(lanes_mask(H), lane);
  const __m512i idx_f = _mm512_add_epi32(l0, _mm512_set1_epi32(H));
  const __m512i idx_g = _mm512_add_epi32(l0, _mm512_set1_epi32(2 * H - VL));
  const __m512i idx_o = _mm512_add_epi32(l0, _mm512_set1_epi32(3 * H - VL));
  const __mmask16 hm = lanes_mask(H);
  __m512 wx[PK_VECS], bx[PK_VECS], hg[PK_VECS], bg[PK_VECS];
  __mmask16 gm[PK_VECS];
  for (int v = 0; v < PK_VECS; ++v) {
    const int n = 4 * H - v * VL;
    gm[v] = lanes_mask(n < 0 ? 0 : n > VL ? VL : n);
    hg[v] = _mm512_load_ps(r->hg + v * VL);
    bg[v] = _mm512_load_ps(r->bg + v * VL);
    wx[v] = IO ? loadu_mask_ps(gm[v], io->wx + v * VL) : v_zero();
    /* qk_rnn.c, io_input: bx + 0 */
    bx[v] = v_add(IO && io->bx ? loadu_mask_ps(gm[v], io->bx + v * VL) : v_zero(), v_zero());
  }
  __m512 hv = v_load(hp);
  for (int f = 0; f < N; ++f) {
    __m512 a[4][PK_VECS];
    const __m512 xin = IO ? v_set1(io->x[(size_t)f * (size_t)io->ldx]) : v_zero();
    for (int v = 0; v < PK_VECS; ++v) {
      __m512 g;
      if (IO) {
        const __m512 zero = v_zero();
        g = v_add(v_add(v_add(v_fma(wx[v], xin, zero), zero), v_add(zero, zero)), bx[v]);
        g = _mm512_maskz_mov_ps(gm[v], g);
      } else {
        g = loadu_mask_ps(gm[v], gx + (size_t)f * (size_t)ldg + v * VL);
      }
      a[0][v] = bg[v];
      a[1][v] = v_mul(g, hg[v]);
      a[2][v] = v_zero();
      a[3][v] = v_zero();
    }
    /* qk_rnn_simd.h, f32_block: chain k mod 4, k in increasing order */
#pragma GCC unroll 12
    for (int k = 0; k < 12; ++k)
      if (k < H) {
        const __m512 hk = v_lane(hv, k);
        const float *w = r->wg + (size_t)k * QK_RNN_PK_LANES;
#pragma GCC unroll 3
        for (int v = 0; v < PK_VECS; ++v)
          a[k % 4][v] = v_fma(v_load(w + v * VL), hk, a[k % 4][v]);
      }
    __m512 nz[PK_VECS], qz[PK_VECS];
    for (int v = 0; v < PK_VECS; ++v)
      nz[v] =
          tanh_parts_p16_avx512(v_add(v_add(a[0][v], a[1][v]), v_add(a[2][v], a[3][v])), &qz[v]);
    const __m512 n[4] = {nz[0], _mm512_permutex2var_ps(nz[0], idx_f, nz[1]),
                         _mm512_permutex2var_ps(nz[1], idx_g, nz[2]),
                         _mm512_permutex2var_ps(nz[1], idx_o, nz[2])};
    const __m512 q[4] = {qz[0], _mm512_permutex2var_ps(qz[0], idx_f, qz[1]),
                         _mm512_permutex2var_ps(qz[1], idx_g, qz[2]),
                         _mm512_permutex2var_ps(qz[1], idx_o, qz[2])};
    hv = lstm_cell_p16_avx512(n, q, cp);
    v_store(hp, hv);
    storeu_mask_ps(y + (size_t)f * (size_t)ldy, hm, hv);
    if (IO && io->wd)
      io->yd[f] = io_dense_p16_avx512(io, hp, H);
  }
  memcpy(h, hp, (size_t)H * sizeof(float));
  memcpy(c, cp, (size_t)H * sizeof(float));
}

void qk_rnn_run_f32_p16_avx512(const qk_rnn *r, const float *gx, int ldg, int N, float *h, float *c,
                               float *y, int ldy, const qk_rnn_io *io)
{
  if (r->wg && io)
    run_pk(r, gx, ldg, N, h, c, y, ldy, io, true);
  else if (r->wg)
    run_pk(r, gx, ldg, N, h, c, y, ldy, NULL, false);
  else
    run_f32_p16_avx512(r, gx, ldg, N, h, c, y, ldy, io);
}

void qk_rnn_run_s8_p16_avx512vnni(const qk_rnn *r, const float *gx, int ldg, int N, float *h,
                                  float *c, float *y, int ldy, const qk_rnn_io *io)
{
  (void)io; /* float forms only (qk_rnn_run_io) */
  if (r->P == VL)
    run_p16_avx512(r, gx, ldg, N, h, c, y, ldy, NULL, true, true, false);
  else
    run_p16_avx512(r, gx, ldg, N, h, c, y, ldy, NULL, true, false, false);
}
