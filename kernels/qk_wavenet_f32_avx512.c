/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  One frame of a float WaveNet layer on AVX-512 (qk.h,
  qk_wavenet_layer_f32_frame_form): conv, mixin, nonlinearity, head sum and 1x1
  with z and a in registers.

  At block 1 a layer is a chain of dependent steps (the 1x1 needs a, which
  needs z, which needs this frame's conv): the run time is their latency
  plus whatever the engine does between them. Composed from calls (the
  taps gathered, a GEMM through two dispatch levels and a block table, the
  mixin, the activation through three more calls, the head sum, a copy of
  x and the 1x1 GEMM) that in-between work was most of the time, and it
  kept the out-of-order core from starting the next layer's old-tap
  products early. Here a layer is a few hundred straight instructions.

  Bits: the steps of the float path exactly, on this ISA's tile form
  (qk_avx512vnni.c, gemm_f32_16x1_core with one tile and one frame): chain
  j takes k = j (mod 4) in k order with fma(w, x, chain), the chains are
  combined as (c0 + c1) + (c2 + c3), then + (bias + old) with old = 0 for
  the conv. The taps are read from the history in the order the gather
  lays them out (tap 0, the oldest, first). The rest is the engine's
  element by element: z + fl(mixin * cond); the activation as
  qk_tanh / activation.c compute it; head + a; the 1x1 as a GEMM
  accumulating over a copy of x: sum + (bias + x).
*/
#include "qk_avx512vnni_common.h"

/** The tile form's four chains: k = j (mod 4) into chain j. */
ALWAYS_INLINE void chains_zero(__m512 ch[4])
{
  for (int j = 0; j < 4; ++j)
    ch[j] = _mm512_setzero_ps();
}

ALWAYS_INLINE void chain_fma(__m512 ch[4], int j, __m512 w, __m512 x)
{
  switch (j) {
  case 0: ch[0] = _mm512_fmadd_ps(w, x, ch[0]); break;
  case 1: ch[1] = _mm512_fmadd_ps(w, x, ch[1]); break;
  case 2: ch[2] = _mm512_fmadd_ps(w, x, ch[2]); break;
  default: ch[3] = _mm512_fmadd_ps(w, x, ch[3]); break;
  }
}

/** The next conv input broadcast: channel *c of the tap at *xt, then on
    to the next channel or the next tap (step floats on). */
ALWAYS_INLINE __m512 next_tap(const float **xt, int *c, int C, ptrdiff_t step)
{
  const __m512 xb = _mm512_set1_ps((*xt)[*c]);
  if (++*c == C) {
    *c = 0;
    *xt += step;
  }
  return xb;
}

/** (c0 + c1) + (c2 + c3), as the GEMMs combine them. */
ALWAYS_INLINE __m512 chains_sum(const __m512 ch[4])
{
  return _mm512_add_ps(_mm512_add_ps(ch[0], ch[1]), _mm512_add_ps(ch[2], ch[3]));
}

/** Lanes 0 .. n-1 stored to p, as store_few for n <= 4 (forwards to the next layer's loads). */
ALWAYS_INLINE void few_store(float *p, __m512 v, int n)
{
  if (n <= 4)
    store_few(p, v, n);
  else
    storeu_mask_ps(p, lanes_mask(n), v);
}

/** p[0 .. n-1] in lanes 0 .. n-1, the others zero (few_store's pieces). */
ALWAYS_INLINE __m512 few_load(const float *p, int n)
{
  return n <= 4 ? load_few(p, n) : loadu_mask_ps(lanes_mask(n), p);
}

/** A float matrix of rows x cols on one tile of this ISA. */
static bool one_f32_tile(const qk_packed *W, int rows, int cols)
{
  return W && W->format == QK_F32 && W->isa == QK_ISA_AVX512VNNI && W->rows == rows &&
         W->cols == cols && rows <= TILE_ROWS;
}

bool qk_avx512vnni_wavenet_layer_f32_frame_fits(const qk_wavenet_layer *L)
{
  const int C = L->C, B = qk_wavenet_bottleneck(L);
  if (C < 1 || C > TILE_ROWS || B != C || L->taps < 1 || L->dilation < 0 || !L->mixin ||
      !one_f32_tile(L->conv, B, L->taps * C) || !one_f32_tile(L->w1x1, C, B))
    return false;
  switch (L->act.kind) {
  case QK_WN_TANH:
  case QK_WN_RELU:
  case QK_WN_LEAKY_RELU: return true;
  default: return false;
  }
}

void qk_avx512vnni_wavenet_layer_f32_frame(const qk_wavenet_layer *L, const float *x, float cond,
                                           float *head, float *next)
{
  const int C = L->C, B = qk_wavenet_bottleneck(L), taps = L->taps, K = taps * C;
  const __mmask16 mb = lanes_mask(B), mc = lanes_mask(C);

  /* the conv over the taps where the history holds them, oldest first */
  const ptrdiff_t step = (ptrdiff_t)L->dilation * C;
  const float *xt = x - step * (taps - 1);
  int c = 0;
  const float *wc = (const float *)L->conv->data;
  __m512 ch[4];
  chains_zero(ch);
  /* in fours, so that the chain of each k is known when compiling (a
     chain picked at run time put the chains in memory: 1.5x slower) */
  int k = 0;
  for (; k + 4 <= K; k += 4)
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j)
      chain_fma(ch, j, _mm512_load_ps(wc + (size_t)(k + j) * TILE_ROWS),
                next_tap(&xt, &c, C, step));
  for (int j = 0; k < K; ++k, ++j)
    chain_fma(ch, j, _mm512_load_ps(wc + (size_t)k * TILE_ROWS), next_tap(&xt, &c, C, step));
  const __m512 b = L->conv_bias ? loadu_mask_ps(mb, L->conv_bias) : _mm512_setzero_ps();
  __m512 z = _mm512_add_ps(chains_sum(ch), _mm512_add_ps(b, _mm512_setzero_ps()));

  z = _mm512_add_ps(z, _mm512_mul_ps(loadu_mask_ps(mb, L->mixin), _mm512_set1_ps(cond)));

  __m512 a;
  switch (L->act.kind) {
  case QK_WN_TANH: a = act16(z, QK_ACT_TANH); break;
  case QK_WN_RELU:
    /* x > 0 ? x : 0 (NaN and -0 give +0): max returns its second operand then */
    a = _mm512_max_ps(z, _mm512_setzero_ps());
    break;
  case QK_WN_LEAKY_RELU:
    a = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_GT_OQ),
                             _mm512_mul_ps(_mm512_set1_ps(L->act.slope), z), z);
    break;
  default: a = z; break; /* not taken: fits() admits the three above */
  }
  few_store(head, _mm512_add_ps(few_load(head, B), a), B);

  /* the 1x1: a broadcast lane by lane from the register */
  const float *w1 = (const float *)L->w1x1->data;
  chains_zero(ch);
  for (k = 0; k + 4 <= B; k += 4)
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j)
      chain_fma(ch, j, _mm512_load_ps(w1 + (size_t)(k + j) * TILE_ROWS),
                _mm512_permutexvar_ps(_mm512_set1_epi32(k + j), a));
  for (int j = 0; k < B; ++k, ++j)
    chain_fma(ch, j, _mm512_load_ps(w1 + (size_t)k * TILE_ROWS),
              _mm512_permutexvar_ps(_mm512_set1_epi32(k), a));
  const __m512 sum = chains_sum(ch);
  const __m512 b1 = L->bias1x1 ? loadu_mask_ps(mc, L->bias1x1) : _mm512_setzero_ps();
  const __m512 xv = few_load(x, C);
  few_store(next, _mm512_add_ps(sum, _mm512_add_ps(b1, xv)), C);
}
