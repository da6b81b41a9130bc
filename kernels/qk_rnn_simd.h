/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The body of the fused recurrent step (qk.h) for one vector ISA, written
  once: qk_rnn_avx2.c and qk_rnn_avx512.c define the vector type and its
  operations below, then include this file. Everything here performs the
  float operations of the scalar form (qk_rnn.c) in the same order, lane
  by lane, so the results are the same bits.

  A step: h (padded to P lanes, zeros past H) stays in a small aligned
  buffer; the recurrent product runs over blocks of RNN_RB gate vectors,
  each block H broadcasts of h[k] times one weight row (float), or
  ceil(H/4) broadcasts of four int8 codes (int8), with the even and the
  odd k in two accumulators (float) so the chains are half as long; the
  activations (qk_rnn_internal.h's rational tanh, four gates in parallel)
  and the state update follow lane-vector by lane-vector in registers.

  The including file defines:
    V, VI, VL (lanes), RNN_RB (gate vectors per register block), RNN_S8_UNSIGNED
    v_load(p) v_zero() v_set1(x) v_fma(a, b, c) v_add v_sub v_mul v_div v_abs
    v_max v_min v_hmax(v) v_loadu_n(p, n) v_storeu_n(p, v, n)
    v_codes(v, inv, dst): VL int8 codes of rint(v * inv) clamped to +-127
                          (+128 as unsigned bytes when RNN_S8_UNSIGNED)
    vi_load(p) vi_set1_dword(p) vi_dot(acc, a, w) vi_from(fold_ptr) v_cvt(vi)
    RNN_NAME(x): the function name for this ISA
*/

/** qk_rnn_internal.h's rational tanh, lane by lane as qk_rnn_tanh(). */
QK_RNN_AI V RNN_NAME(tanh_r)(V x)
{
  const V v = v_min(v_max(x, v_set1(-QK_RNN_TANH_CLAMP)), v_set1(QK_RNN_TANH_CLAMP));
  const V u = v_mul(v, v);
  V p = v_fma(v_set1(QK_RNN_TANH_P4), u, v_set1(QK_RNN_TANH_P3));
  V q = v_fma(v_set1(QK_RNN_TANH_Q4), u, v_set1(QK_RNN_TANH_Q3));
  p = v_fma(p, u, v_set1(QK_RNN_TANH_P2));
  q = v_fma(q, u, v_set1(QK_RNN_TANH_Q2));
  p = v_fma(p, u, v_set1(QK_RNN_TANH_P1));
  q = v_fma(q, u, v_set1(QK_RNN_TANH_Q1));
  p = v_fma(p, u, v_set1(QK_RNN_TANH_P0));
  q = v_fma(q, u, v_set1(1.0f));
  return v_div(v_mul(v, p), q);
}

QK_RNN_AI V RNN_NAME(sigmoid_of_half)(V zh)
{
  return v_fma(RNN_NAME(tanh_r)(zh), v_set1(0.5f), v_set1(0.5f));
}

/** z[0 .. NB) = sA + sB for NB gate vectors, float weights from W (row stride ld). */
QK_RNN_AI void RNN_NAME(f32_block)(const float *W, size_t ld, const float *hp, int H,
                                   const float *bh, const float *gxs, V *z, const int NB)
{
  V a[RNN_RB], b[RNN_RB];
  for (int i = 0; i < NB; ++i) {
    a[i] = v_load(bh + i * VL);
    b[i] = v_load(gxs + i * VL);
  }
  int k = 0;
  for (; k + 1 < H; k += 2) {
    const V h0 = v_set1(hp[k]), h1 = v_set1(hp[k + 1]);
    const float *w0 = W + (size_t)k * ld, *w1 = w0 + ld;
    for (int i = 0; i < NB; ++i) {
      a[i] = v_fma(v_load(w0 + i * VL), h0, a[i]);
      b[i] = v_fma(v_load(w1 + i * VL), h1, b[i]);
    }
  }
  if (k < H) {
    const V h0 = v_set1(hp[k]);
    const float *w0 = W + (size_t)k * ld;
    for (int i = 0; i < NB; ++i)
      a[i] = v_fma(v_load(w0 + i * VL), h0, a[i]);
  }
  for (int i = 0; i < NB; ++i)
    z[i] = v_add(a[i], b[i]);
}

static void RNN_NAME(recurrent_f32)(const qk_rnn *r, const float *hp, const float *gxs, V *z)
{
  const int GV = r->G * r->P / VL, H = r->H;
  const size_t ld = (size_t)r->G * (size_t)r->P;
  for (int j = 0; j < GV; j += RNN_RB) {
    const float *w = r->w + j * VL, *bh = r->bh + j * VL, *gj = gxs + j * VL;
    /* constant block sizes, so each is unrolled into registers */
    switch (GV - j < RNN_RB ? GV - j : RNN_RB) {
    case 1: RNN_NAME(f32_block)(w, ld, hp, H, bh, gj, z + j, 1); break;
    case 2: RNN_NAME(f32_block)(w, ld, hp, H, bh, gj, z + j, 2); break;
    case 3: RNN_NAME(f32_block)(w, ld, hp, H, bh, gj, z + j, 3); break;
#if RNN_RB > 4
    case 5: RNN_NAME(f32_block)(w, ld, hp, H, bh, gj, z + j, 5); break;
    case 6: RNN_NAME(f32_block)(w, ld, hp, H, bh, gj, z + j, 6); break;
#endif
    default: RNN_NAME(f32_block)(w, ld, hp, H, bh, gj, z + j, 4); break;
    }
  }
}

/** Integer sums of NB gate vectors over K4 dwords of codes qa. */
QK_RNN_AI void RNN_NAME(s8_block)(const int8_t *Q, size_t ld4, const int8_t *qa, int K4,
                                  const int32_t *fold, VI *acc, const int NB)
{
  VI a[RNN_RB];
  for (int i = 0; i < NB; ++i)
    a[i] = vi_from(fold + i * VL);
  for (int kk = 0; kk < K4; ++kk) {
    const VI x = vi_set1_dword(qa + 4 * kk);
    const int8_t *w = Q + (size_t)kk * ld4;
    for (int i = 0; i < NB; ++i)
      a[i] = vi_dot(a[i], x, vi_load(w + (size_t)i * VL * 4));
  }
  for (int i = 0; i < NB; ++i)
    acc[i] = a[i];
}

static void RNN_NAME(recurrent_s8)(const qk_rnn *r, const float *hp, const float *gxs, V *z)
{
  const int P = r->P, NV = P / VL, GV = r->G * NV, K4 = (r->H + 3) / 4;
  V m = v_zero();
  for (int v = 0; v < NV; ++v)
    m = v_max(v_abs(v_load(hp + v * VL)), m);
  const float amax = v_hmax(m);
  float s = 0.0f, inv = 0.0f;
  if (amax > 0.0f && isfinite(amax)) {
    s = amax / 127.0f;
    inv = 127.0f / amax;
  }
  _Alignas(64) int8_t qa[QK_RNN_MAX_UNITS + 64];
  for (int v = 0; v < NV; ++v)
    v_codes(v_load(hp + v * VL), inv, qa + v * VL);
  const size_t ld4 = (size_t)r->G * (size_t)P * 4;
  VI acc[RNN_RB];
  const V vs = v_set1(s);
  for (int j = 0; j < GV; j += RNN_RB) {
    const int nb = GV - j < RNN_RB ? GV - j : RNN_RB;
    const int8_t *w = r->q + (size_t)j * VL * 4;
    const int32_t *fold = r->fold + j * VL;
    switch (nb) {
    case 1: RNN_NAME(s8_block)(w, ld4, qa, K4, fold, acc, 1); break;
    case 2: RNN_NAME(s8_block)(w, ld4, qa, K4, fold, acc, 2); break;
    case 3: RNN_NAME(s8_block)(w, ld4, qa, K4, fold, acc, 3); break;
#if RNN_RB > 4
    case 5: RNN_NAME(s8_block)(w, ld4, qa, K4, fold, acc, 5); break;
    case 6: RNN_NAME(s8_block)(w, ld4, qa, K4, fold, acc, 6); break;
#endif
    default: RNN_NAME(s8_block)(w, ld4, qa, K4, fold, acc, 4); break;
    }
    for (int i = 0; i < nb; ++i) {
      const int l = (j + i) * VL;
      const V x = v_fma(v_cvt(acc[i]), v_load(r->ws + l), v_zero());
      z[j + i] = v_fma(x, vs, v_add(v_load(r->bh + l), v_load(gxs + l)));
    }
  }
}

/** One layer's steps; S8 is a compile-time constant. */
QK_RNN_AI void RNN_NAME(run)(const qk_rnn *r, const float *gx, int ldg, int N, float *h, float *c,
                             float *y, int ldy, const bool S8)
{
  const int H = r->H, P = r->P, NV = P / VL, G = r->G;
  const bool lstm = r->kind == QK_RNN_LSTM;
  _Alignas(64) float hp[QK_RNN_MAX_UNITS], cp[QK_RNN_MAX_UNITS], gxs[4 * QK_RNN_MAX_UNITS];
  V z[4 * QK_RNN_MAX_UNITS / VL];
  memset(hp, 0, (size_t)P * sizeof(float));
  memset(cp, 0, (size_t)P * sizeof(float));
  memcpy(hp, h, (size_t)H * sizeof(float));
  if (lstm)
    memcpy(cp, c, (size_t)H * sizeof(float));
  for (int f = 0; f < N; ++f) {
    const float *g = gx + (size_t)f * (size_t)ldg;
    float *yf = y + (size_t)f * (size_t)ldy;
    /* the state-independent part first: gx' (qk_rnn.c, input_part) */
    for (int q = 0; q < G; ++q)
      for (int v = 0; v < NV; ++v) {
        const int n = H - v * VL < VL ? H - v * VL : VL;
        const V x =
            lstm || q < 2 ? v_mul(v_loadu_n(g + q * H + v * VL, n), v_set1(r->half[q])) : v_zero();
        v_store(gxs + q * P + v * VL, x);
      }
    if (S8)
      RNN_NAME(recurrent_s8)(r, hp, gxs, z);
    else
      RNN_NAME(recurrent_f32)(r, hp, gxs, z);
    for (int v = 0; v < NV; ++v) {
      const int n = H - v * VL < VL ? H - v * VL : VL;
      V hv;
      if (lstm) {
        const V i = RNN_NAME(sigmoid_of_half)(z[v]);
        const V fg = RNN_NAME(sigmoid_of_half)(z[NV + v]);
        const V gg = RNN_NAME(tanh_r)(z[2 * NV + v]);
        const V o = RNN_NAME(sigmoid_of_half)(z[3 * NV + v]);
        const V cv = v_fma(fg, v_load(cp + v * VL), v_mul(i, gg));
        hv = v_mul(o, RNN_NAME(tanh_r)(cv));
        v_store(cp + v * VL, cv);
      } else {
        const V zg = RNN_NAME(sigmoid_of_half)(z[v]);
        const V rg = RNN_NAME(sigmoid_of_half)(z[NV + v]);
        const V nn = RNN_NAME(tanh_r)(v_fma(rg, z[2 * NV + v], v_loadu_n(g + 2 * H + v * VL, n)));
        hv = v_fma(zg, v_sub(v_load(hp + v * VL), nn), nn);
      }
      v_store(hp + v * VL, hv);
      v_storeu_n(yf + v * VL, hv, n);
    }
  }
  memcpy(h, hp, (size_t)H * sizeof(float));
  if (lstm)
    memcpy(c, cp, (size_t)H * sizeof(float));
}
