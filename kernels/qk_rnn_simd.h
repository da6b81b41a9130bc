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
  ceil(H/4) broadcasts of four int8 codes (int8), with the k of each residue mod 4 in an accumulator
  of its own (float; two chains of dwords for int8) so the chains are short; the activations
  (qk_rnn_internal.h's rational tanh, four gates in parallel) and the state update follow
  lane-vector by lane-vector in registers.

  The including file defines:
    V, VI, VL (lanes), RNN_RB_F32 / RNN_RB_S8 (gate vectors per register block)
    v_load(p) v_zero() v_set1(x) v_fma(a, b, c) v_add v_sub v_mul v_div v_abs
    v_max v_clamp(x, c) (fminf(fmaxf(x, -c), c) lane by lane) v_loadu_n(p, n)
    v_storeu_n(p, v, n) v_keep_n(v, n) (lanes n .. VL - 1 set to 0)
    v_lane(v, k): lane k of v in every lane
    vi_absbits_max(m, v): lane by lane max of m and the bits of |v| (as
                          signed integers: the order of |v| for every float)
    vi_allmax(m): the max of m's lanes in every lane
    vi_exponent(m): m's exponent fields (m & QK_RNN_EXP_MASK); vi_same(a, b): all lanes equal
    s8_scales(m, &s, &inv): qk_rnn_s8_scale on every lane (qk_rnn_internal.h)
    v_codes(v, inv, dst): VL codes qk_rnn_s8_code(fmaf(v, inv, magic)) as bytes
                          (+128, unsigned, when the ISA's product takes them so)
    vi_load(p) vi_set1_dword(p) vi_dot(acc, a, w) vi_from(fold_ptr) vi_zero() vi_add
    v_cvt(vi)
    RNN_NAME(x): the function name for this ISA
*/

/** The rational's numerator and denominator, lane by lane as the scalar
    form's (qk_rnn.c, tanh_parts: Estrin's scheme, v folded in). */
QK_RNN_AI V RNN_NAME(tanh_parts)(V x, V *den)
{
  const V v = v_clamp(x, QK_RNN_TANH_CLAMP);
  const V u = v_mul(v, v), u2 = v_mul(u, u);
  const V p_lo = v_fma(v_set1(QK_RNN_TANH_P1), u, v_set1(QK_RNN_TANH_P0));
  const V p_hi =
      v_fma(v_set1(QK_RNN_TANH_P4), u2, v_fma(v_set1(QK_RNN_TANH_P3), u, v_set1(QK_RNN_TANH_P2)));
  *den = v_fma(
      u2,
      v_fma(v_set1(QK_RNN_TANH_Q4), u2, v_fma(v_set1(QK_RNN_TANH_Q3), u, v_set1(QK_RNN_TANH_Q2))),
      v_fma(v_set1(QK_RNN_TANH_Q1), u, v_set1(1.0f)));
  return v_fma(v_mul(v, u2), p_hi, v_mul(v, p_lo));
}

QK_RNN_AI V RNN_NAME(tanh_r)(V x)
{
  V q;
  const V n = RNN_NAME(tanh_parts)(x, &q);
  return v_div(n, q);
}

/** fmaf(0.5 t, D, 0.5): a sigmoid gate once its divide D is known. */
QK_RNN_AI V RNN_NAME(sigmoid_d)(V t, V D) { return v_fma(v_mul(t, v_set1(0.5f)), D, v_set1(0.5f)); }

/** z[0 .. NB) = (sA + sB) + (sC + sD) for NB gate vectors, float weights
    from W (row stride ld): four chains, k = 0, 1, 2, 3 mod 4. */
QK_RNN_AI void RNN_NAME(f32_block)(const float *W, size_t ld, const float *hp, const V *hreg, int H,
                                   const float *bh, const float *gxs, V *z, const int NB)
{
  V a[4][RNN_RB_F32];
  for (int i = 0; i < NB; ++i) {
    a[0][i] = v_load(bh + i * VL);
    a[1][i] = v_load(gxs + i * VL);
    a[2][i] = v_zero();
    a[3][i] = v_zero();
  }
  int k = 0;
  for (; k + 3 < H; k += 4)
    for (int t = 0; t < 4; ++t) {
      const V hk = hreg ? v_lane(*hreg, k + t) : v_set1(hp[k + t]);
      const float *w = W + (size_t)(k + t) * ld;
      for (int i = 0; i < NB; ++i)
        a[t][i] = v_fma(v_load(w + i * VL), hk, a[t][i]);
    }
  /* the last H mod 4 rows, each chain named by a constant (a chain indexed
     by a variable would keep all of a[][] in memory, across the main loop) */
  for (int t = 0; t < 3; ++t)
    if (k + t < H) {
      const V hk = hreg ? v_lane(*hreg, k + t) : v_set1(hp[k + t]);
      const float *w = W + (size_t)(k + t) * ld;
      for (int i = 0; i < NB; ++i)
        a[t][i] = v_fma(v_load(w + i * VL), hk, a[t][i]);
    }
  for (int i = 0; i < NB; ++i)
    z[i] = v_add(v_add(a[0][i], a[1][i]), v_add(a[2][i], a[3][i]));
}

/** z of every gate vector; GVC, when not 0, is their number as a
    compile-time constant (z then indexed by constants: registers). */
QK_RNN_AI void RNN_NAME(recurrent_f32)(const qk_rnn *r, const float *hp, const V *hreg,
                                       const float *gxs, V *z, const int GVC)
{
  const int GV = GVC ? GVC : r->G * r->P / VL, H = r->H;
  const size_t ld = (size_t)GV * VL;
  int j = 0;
  /* all gates in one pass over h when they fit one block (a GRU-12's three) */
  if (GVC && GVC < RNN_RB_F32) {
    RNN_NAME(f32_block)(r->w, ld, hp, hreg, H, r->bh, gxs, z, GVC < RNN_RB_F32 ? GVC : 1);
    return;
  }
  /* a constant block size, so the block is unrolled into registers */
  for (; j + RNN_RB_F32 <= GV; j += RNN_RB_F32)
    RNN_NAME(f32_block)
  (r->w + j * VL, ld, hp, hreg, H, r->bh + j * VL, gxs + j * VL, z + j, RNN_RB_F32);
  for (; j < GV; ++j)
    RNN_NAME(f32_block)(r->w + j * VL, ld, hp, hreg, H, r->bh + j * VL, gxs + j * VL, z + j, 1);
}

/** z of NB gate vectors: their integer sums over K4 dwords of codes qa in
    two chains (even and odd dwords: exact, so any split gives the same
    sum), then z = fmaf(sum, ws * s, bh + gx') with bgx = bh + gx'. */
QK_RNN_AI void RNN_NAME(s8_block)(const int8_t *Q, size_t ld4, const int8_t *qa, int K4,
                                  const int32_t *fold, const float *ws, V vs, const float *bgx,
                                  V *z, const int NB)
{
  VI a[RNN_RB_S8], b[RNN_RB_S8];
  for (int i = 0; i < NB; ++i) {
    a[i] = vi_from(fold + i * VL);
    b[i] = vi_zero();
  }
  int kk = 0;
  for (; kk + 1 < K4; kk += 2) {
    const VI x0 = vi_set1_dword(qa + 4 * kk), x1 = vi_set1_dword(qa + 4 * kk + 4);
    const int8_t *w = Q + (size_t)kk * ld4;
    for (int i = 0; i < NB; ++i) {
      a[i] = vi_dot(a[i], x0, vi_load(w + (size_t)i * VL * 4));
      b[i] = vi_dot(b[i], x1, vi_load(w + ld4 + (size_t)i * VL * 4));
    }
  }
  if (kk < K4) {
    const VI x0 = vi_set1_dword(qa + 4 * kk);
    const int8_t *w = Q + (size_t)kk * ld4;
    for (int i = 0; i < NB; ++i)
      a[i] = vi_dot(a[i], x0, vi_load(w + (size_t)i * VL * 4));
  }
  for (int i = 0; i < NB; ++i)
    z[i] = v_fma(v_cvt(vi_add(a[i], b[i])), v_mul(v_load(ws + i * VL), vs), v_load(bgx + i * VL));
}

/**
   z from h (hp) with hmax = max of the bits of |h| lane by lane, kept by
   the caller as h was made: the scale comes from its exponent in vector
   registers (no horizontal reduce to a scalar, no divide). bgx = bh + gx'.
   The codes are first made with the exponent of the previous step (*expo),
   which the max rarely changes: they do not wait for the max, whose
   exponent is compared after them, and the codes are made again with it
   when it differs (so the bits are always those of this step's scale).
*/
QK_RNN_AI void RNN_NAME(recurrent_s8)(const qk_rnn *r, const float *hp, VI hmax, VI *expo,
                                      const float *bgx, V *z, const int GVC)
{
  const int P = GVC ? VL : r->P, NV = GVC ? 1 : P / VL, GV = GVC ? GVC : r->G * NV,
            K4 = (r->H + 3) / 4;
  V vs, inv;
  s8_scales(*expo, &vs, &inv);
  _Alignas(64) int8_t qa[QK_RNN_MAX_UNITS + 64];
  for (int v = 0; v < NV; ++v)
    v_codes(v_load(hp + v * VL), inv, qa + v * VL);
  const VI e = vi_exponent(vi_allmax(hmax));
  if (__builtin_expect(!vi_same(e, *expo), 0)) {
    *expo = e;
    s8_scales(e, &vs, &inv);
    for (int v = 0; v < NV; ++v)
      v_codes(v_load(hp + v * VL), inv, qa + v * VL);
  }
  const size_t ld4 = (size_t)GV * VL * 4;
  int j = 0;
  if (GVC && GVC <= RNN_RB_S8) { /* all gates in one pass over the codes */
    RNN_NAME(s8_block)
    (r->q, ld4, qa, K4, r->fold, r->ws, vs, bgx, z, GVC <= RNN_RB_S8 ? GVC : 1);
    return;
  }
  /* a constant block size, so the block is unrolled into registers */
  for (; j + RNN_RB_S8 <= GV; j += RNN_RB_S8)
    RNN_NAME(s8_block)
  (r->q + (size_t)j * VL * 4, ld4, qa, K4, r->fold + j * VL, r->ws + j * VL, vs, bgx + j * VL,
   z + j, RNN_RB_S8);
  for (; j < GV; ++j)
    RNN_NAME(s8_block)
  (r->q + (size_t)j * VL * 4, ld4, qa, K4, r->fold + j * VL, r->ws + j * VL, vs, bgx + j * VL,
   z + j, 1);
}

/** An LSTM's cell and h from its gates' rational parts n, q (i, f, g,
    o), c read and written at cp: qk_rnn.c, lstm_unit and the h after it. */
QK_RNN_AI V RNN_NAME(lstm_cell)(const V n[4], const V q[4], float *cp)
{
  /* four gates, one divide (qk_rnn.c, tanh4) */
  const V A = v_mul(q[0], q[1]), B = v_mul(q[2], q[3]), D = v_div(v_set1(1.0f), v_mul(A, B));
  /* qk_rnn.c, lstm_unit: the cell as a polynomial in D */
  const V half = v_set1(0.5f), c0 = v_load(cp);
  const V wi = v_mul(v_mul(n[0], v_mul(q[1], B)), half);
  const V wf = v_mul(v_mul(n[1], v_mul(q[0], B)), half);
  const V wg = v_mul(n[2], v_mul(A, q[3]));
  const V a = v_mul(c0, half), b = v_fma(wf, c0, v_mul(wg, half)), e = v_mul(wi, wg);
  const V cv = v_fma(v_fma(e, D, b), D, a);
  const V o = RNN_NAME(sigmoid_d)(v_mul(n[3], v_mul(A, q[2])), D);
  v_store(cp, cv);
  return v_mul(o, RNN_NAME(tanh_r)(cv));
}

/** qk_rnn_io's Dense of one frame from hp (qk.h): the four chains k mod
    4 in the four lanes of an xmm, (d0 + d1) + (d2 + d3), + (bd + 0). Past
    H (the last piece) w and h are 0, so a chain that the oracle ends
    earlier gets + 0 here: that changes only the sign of a zero chain,
    which the final + (bd + 0) (never -0) does not pass on. */
QK_RNN_AI float RNN_NAME(io_dense)(const qk_rnn_io *io, const float *hp, int H)
{
  __m128 d = _mm_setzero_ps();
  int k = 0;
  for (; k + 4 <= H; k += 4)
    d = _mm_fmadd_ps(_mm_loadu_ps(io->wd + k), _mm_load_ps(hp + k), d);
  if (k < H) {
    const __m128i m = _mm_cmpgt_epi32(_mm_set1_epi32(H - k), _mm_setr_epi32(0, 1, 2, 3));
    d = _mm_fmadd_ps(_mm_maskload_ps(io->wd + k, m),
                     _mm_and_ps(_mm_load_ps(hp + k), _mm_castsi128_ps(m)), d);
  }
  const __m128 t = _mm_add_ps(d, _mm_shuffle_ps(d, d, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehl_ps(t, t))) + ((io->bd ? io->bd[0] : 0.0f) + 0.0f);
}

/**
   One layer's steps; S8, ONE and IO are compile-time constants. IO (float
   forms only): gx from io's input and its Dense (qk.h, qk_rnn_io), the
   frame's gx kept in gio (P lanes a gate) instead of read from gx. ONE (P == VL:
   one vector per gate, e.g. AIDA-X's LSTM-12) takes every gate in one
   register block and keeps the gate sums z in registers from the products
   to the activations: the general form stores them to a stack array and
   loads them back, a store-to-load forward on the step's chain, and runs a
   GRU's three gates as three passes over h. Same operations, same order.
*/
QK_RNN_AI void RNN_NAME(run)(const qk_rnn *r, const float *gx, int ldg, int N, float *h, float *c,
                             float *y, int ldy, const qk_rnn_io *io, const bool S8, const bool ONE,
                             const bool IO)
{
  const int H = r->H, P = ONE ? VL : r->P, NV = ONE ? 1 : P / VL, G = r->G;
  const bool lstm = r->kind == QK_RNN_LSTM;
  _Alignas(64) float hp[QK_RNN_MAX_UNITS], cp[QK_RNN_MAX_UNITS], gxs[4 * QK_RNN_MAX_UNITS],
      gio[IO ? 4 * QK_RNN_MAX_UNITS : 1];
  V zbig[ONE ? 1 : 4 * QK_RNN_MAX_UNITS / VL], zone[4];
  V *z = ONE ? zone : zbig;
  memset(hp, 0, (size_t)P * sizeof(float));
  memset(cp, 0, (size_t)P * sizeof(float));
  memcpy(hp, h, (size_t)H * sizeof(float));
  if (lstm)
    memcpy(cp, c, (size_t)H * sizeof(float));
  VI hmax = vi_zero(); /* max |h| lane by lane, as bits (padding lanes are 0) */
  for (int v = 0; S8 && v < NV; ++v)
    hmax = vi_absbits_max(hmax, v_load(hp + v * VL));
  VI expo = vi_exponent(vi_allmax(hmax)); /* the int8 form's guess of the next scale */
  /* ONE: h in a register, each h[k] broadcast from it by a permute (v_lane)
     rather than stored and loaded back (a store-to-load forward on the chain) */
  V hlast = v_load(hp);
  for (int f = 0; f < N; ++f) {
    const float *g = IO ? NULL : gx + (size_t)f * (size_t)ldg;
    float *yf = y + (size_t)f * (size_t)ldy;
    const V xin = IO ? v_set1(io->x[(size_t)f * (size_t)io->ldx]) : v_zero();
    /* the state-independent part first: gx' (qk_rnn.c, input_part) */
    for (int q = 0; q < G; ++q)
      for (int v = 0; v < NV; ++v) {
        const int n = H - v * VL < VL ? H - v * VL : VL;
        V gv;
        if (IO) {
          /* qk_rnn.c, io_input: qk_gemm_f32's sum for K = 1 */
          const V zero = v_zero();
          const V b = v_add(io->bx ? v_loadu_n(io->bx + q * H + v * VL, n) : zero, zero);
          gv = v_add(v_add(v_add(v_fma(v_loadu_n(io->wx + q * H + v * VL, n), xin, zero), zero),
                           v_add(zero, zero)),
                     b);
          gv = v_keep_n(gv, n); /* padding stays 0 whatever x is */
          v_store(gio + q * P + v * VL, gv);
        } else {
          gv = v_loadu_n(g + q * H + v * VL, n);
        }
        const V x = lstm || q < 2 ? v_mul(gv, v_set1(r->half[q])) : v_zero();
        /* the int8 form adds the bias here, off the chain (qk_rnn.c adds it in this order) */
        v_store(gxs + q * P + v * VL, S8 ? v_add(v_load(r->bh + q * P + v * VL), x) : x);
      }
    if (S8 && ONE && lstm)
      RNN_NAME(recurrent_s8)(r, hp, hmax, &expo, gxs, z, 4);
    else if (S8 && ONE)
      RNN_NAME(recurrent_s8)(r, hp, hmax, &expo, gxs, z, 3);
    else if (S8)
      RNN_NAME(recurrent_s8)(r, hp, hmax, &expo, gxs, z, 0);
    else if (ONE && lstm)
      RNN_NAME(recurrent_f32)(r, hp, &hlast, gxs, z, 4);
    else if (ONE)
      RNN_NAME(recurrent_f32)(r, hp, &hlast, gxs, z, 3);
    else
      RNN_NAME(recurrent_f32)(r, hp, NULL, gxs, z, 0);
    hmax = vi_zero();
    for (int v = 0; v < NV; ++v) {
      const int n = H - v * VL < VL ? H - v * VL : VL;
      V hv;
      if (lstm) {
        /* four gates, one divide (qk_rnn.c, tanh4) */
        V n[4], q[4];
        for (int gi = 0; gi < 4; ++gi)
          n[gi] = RNN_NAME(tanh_parts)(z[gi * NV + v], &q[gi]);
        hv = RNN_NAME(lstm_cell)(n, q, cp + v * VL);
      } else {
        V q0, q1;
        const V n0 = RNN_NAME(tanh_parts)(z[v], &q0);
        const V n1 = RNN_NAME(tanh_parts)(z[NV + v], &q1);
        const V D = v_div(v_set1(1.0f), v_mul(q0, q1));
        const V zg = RNN_NAME(sigmoid_d)(v_mul(n0, q1), D);
        const V rg = RNN_NAME(sigmoid_d)(v_mul(n1, q0), D);
        const V gn = IO ? v_load(gio + 2 * P + v * VL) : v_loadu_n(g + 2 * H + v * VL, n);
        const V nn = RNN_NAME(tanh_r)(v_fma(rg, z[2 * NV + v], gn));
        hv = v_fma(zg, v_sub(ONE ? hlast : v_load(hp + v * VL), nn), nn);
      }
      v_store(hp + v * VL, hv);
      hlast = hv;
      if (S8)
        hmax = vi_absbits_max(hmax, hv);
      v_storeu_n(yf + v * VL, hv, n);
    }
    if (IO && io->wd)
      io->yd[f] = RNN_NAME(io_dense)(io, hp, H);
  }
  memcpy(h, hp, (size_t)H * sizeof(float));
  if (lstm)
    memcpy(c, cp, (size_t)H * sizeof(float));
}

/** The float form's entry: each combination of the one-vector form (ONE)
    and the fused input/Dense (IO) as its own compile-time specialization,
    so neither is a run-time branch inside the step. */
QK_RNN_AI void RNN_NAME(run_f32)(const qk_rnn *r, const float *gx, int ldg, int N, float *h,
                                 float *c, float *y, int ldy, const qk_rnn_io *io)
{
  /* one vector per gate: the form that keeps z in registers */
  if (r->P == VL && io)
    RNN_NAME(run)(r, gx, ldg, N, h, c, y, ldy, io, false, true, true);
  else if (r->P == VL)
    RNN_NAME(run)(r, gx, ldg, N, h, c, y, ldy, NULL, false, true, false);
  else if (io)
    RNN_NAME(run)(r, gx, ldg, N, h, c, y, ldy, io, false, false, true);
  else
    RNN_NAME(run)(r, gx, ldg, N, h, c, y, ldy, NULL, false, false, false);
}
