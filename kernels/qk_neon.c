/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  AArch64 Advanced SIMD kernels (baseline ARMv8-A, every AArch64 CPU).
  Layout and the shared int8 GEMM body: qk_neon_common.h. This file also
  provides pack, the float GEMM, the activation column primitives and tanh /
  sigmoid for qk_neon_dotprod.c, which has nothing faster for them.
*/
#include "qk_neon_common.h"

/* ------------------------------------------------------------------------
   Packing
   ------------------------------------------------------------------------ */

static int pack_f32(qk_packed *p, const qk_weights *w)
{
  const int M = w->rows, K = w->cols, nb4 = (K + QK_NEON_KF - 1) / QK_NEON_KF;
  size_t bytes = (size_t)qk_neon_tiles(M) * (size_t)nb4 * 16 * sizeof(float);
  float *d = qk_aligned_calloc(bytes);
  if (!d)
    return -1;
  for (int m = 0; m < M; ++m)
    for (int k = 0; k < K; ++k)
      d[((size_t)(m / 4) * (size_t)nb4 + (size_t)(k / 4)) * 16 + (size_t)(m % 4) * 4 +
        (size_t)(k % 4)] = w->f32[(size_t)m * (size_t)K + (size_t)k];
  p->data = d;
  p->data_bytes = bytes;
  return 0;
}

int qk_neon_pack(qk_packed *p, const qk_weights *w)
{
  if (w->format == QK_F32)
    return pack_f32(p, w);

  const qk_format f = w->format;
  const int M = w->rows, K = w->cols, T = qk_neon_tiles(M), nblk = qk_neon_kblocks(K);
  const int ng = p->ngroups;
  const size_t bb = qk_neon_block_bytes(f), cb = qk_neon_codes_bytes(f, M, K);
  const size_t nst = (size_t)T * (size_t)ng * 4;
  uint8_t *d = qk_aligned_calloc(cb + nst * sizeof(float));
  if (!d)
    return -1;
  p->data = d; /* owned by p from here: qk_packed_free() releases it on failure */
  p->data_bytes = cb + nst * sizeof(float);

  for (int m = 0; m < M; ++m) {
    const int t = m / 4, r = m % 4;
    for (int k = 0; k < K; ++k) {
      uint8_t *blk = d + ((size_t)t * (size_t)nblk + (size_t)(k / QK_NEON_KB)) * bb;
      const int j = k % QK_NEON_KB;
      switch (f) {
      case QK_S8: blk[r * 16 + j] = (uint8_t)w->codes[(size_t)m * (size_t)K + (size_t)k]; break;
      case QK_S4:
      case QK_CB4:
        blk[(r / 2) * 16 + j] |= (uint8_t)(qk_weight_index(w, m, k) << (4 * (r % 2)));
        break;
      default: /* QK_S2, QK_CB2 */ blk[j] |= (uint8_t)(qk_weight_index(w, m, k) << (2 * r)); break;
      }
    }
  }

  /* Padded rows keep scale 0 and zero point 0: their outputs are never stored. */
  float *st = (float *)(d + cb);
  if (w->zero_points) {
    p->fold = qk_aligned_calloc(nst * sizeof(int32_t));
    if (!p->fold)
      return -1;
  }
  for (int m = 0; m < M; ++m)
    for (int g = 0; g < ng; ++g) {
      size_t dst = ((size_t)(m / 4) * (size_t)ng + (size_t)g) * 4 + (size_t)(m % 4);
      size_t src = (size_t)m * (size_t)ng + (size_t)g;
      st[dst] = w->scales[src];
      if (p->fold)
        p->fold[dst] = w->zero_points[src];
    }
  return 0;
}

/* ------------------------------------------------------------------------
   Float GEMM
   ------------------------------------------------------------------------ */

/**
   QK_F32 weights: one 4-row tile times nc frames. Each (row, frame) pair
   keeps a float32x4 of partial sums over k, reduced once at the end; X is
   read exactly K floats per frame (the last partial block goes through a
   zeroed copy).
*/
QK_NEON_INLINE void f32_tile(const qk_packed *W, int t, const float *X, int ldx, int n,
                             const int nc, const float *bias, float *Y, int ldy, unsigned flags)
{
  const int K = W->cols, nb4 = (K + QK_NEON_KF - 1) / QK_NEON_KF, kfull = K / QK_NEON_KF;
  const int m = t * QK_NEON_MR, rows = W->rows - m < QK_NEON_MR ? W->rows - m : QK_NEON_MR;
  const float *wt = (const float *)W->data + (size_t)t * (size_t)nb4 * 16;
  const float *xc[4];
  float32x4_t acc[4][4];
  for (int c = 0; c < nc; ++c) {
    xc[c] = X + (size_t)(n + c) * (size_t)ldx;
    for (int r = 0; r < 4; ++r)
      acc[c][r] = vdupq_n_f32(0.0f);
  }
  for (int kb = 0; kb < kfull; ++kb) {
    const float *wb = wt + (size_t)kb * 16;
    float32x4_t w0 = vld1q_f32(wb), w1 = vld1q_f32(wb + 4), w2 = vld1q_f32(wb + 8),
                w3 = vld1q_f32(wb + 12);
    for (int c = 0; c < nc; ++c) {
      float32x4_t x = vld1q_f32(xc[c] + kb * 4);
      acc[c][0] = vfmaq_f32(acc[c][0], w0, x);
      acc[c][1] = vfmaq_f32(acc[c][1], w1, x);
      acc[c][2] = vfmaq_f32(acc[c][2], w2, x);
      acc[c][3] = vfmaq_f32(acc[c][3], w3, x);
    }
  }
  if (kfull < nb4) {
    const float *wb = wt + (size_t)kfull * 16;
    for (int c = 0; c < nc; ++c) {
      float tmp[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      memcpy(tmp, xc[c] + kfull * 4, (size_t)(K - kfull * 4) * sizeof(float));
      float32x4_t x = vld1q_f32(tmp);
      for (int r = 0; r < 4; ++r)
        acc[c][r] = vfmaq_f32(acc[c][r], vld1q_f32(wb + 4 * r), x);
    }
  }
  for (int c = 0; c < nc; ++c) {
    float *y = Y + (size_t)(n + c) * (size_t)ldy + m;
    float32x4_t base = qk_neon_base(bias, y, m, rows, flags);
    qk_neon_store_rows(y, vaddq_f32(qk_neon_hsum4_f32(acc[c]), base), rows);
  }
}

/** Widen 16 int16 values (two halves) to float, quarter q (4 values). */
QK_NEON_INLINE float32x4_t quarter_f32(int16x8_t lo, int16x8_t hi, int q)
{
  switch (q) {
  case 0: return vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo)));
  case 1: return vcvtq_f32_s32(vmovl_high_s16(lo));
  case 2: return vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi)));
  default: return vcvtq_f32_s32(vmovl_high_s16(hi));
  }
}

/**
   Weight-only path: integer codes decoded in registers (shared decode with
   the int8 GEMM), zero point subtracted in int16 (v - zp fits: |.| <= 255,
   and is exact as the scalar's float subtraction is), widened to float and
   multiplied by the row's group scale: the float weight the quantizer
   defines, scale * (v - zp), rounded as the scalar oracle rounds it. It
   then goes through f32_tile's chain: per (row, frame) one float32x4 whose
   lane j sums k = j mod 4 in k order across groups, reduced once at the
   end. So a model exported with these weights (models/nam_export.h) plays
   through the F32 path to the same bits (scaling each group's partial sum
   instead rounded otherwise: ESR 1e-8 between the two).
*/
QK_NEON_INLINE void qf32_block(qk_format f, const uint8_t *wb, int8x16_t table, const int16_t *zp,
                               const float32x4_t scale[4], const float *const *xc, int koff,
                               const int nc, int valid, float32x4_t acc[][4])
{
  int8x16_t w[4];
  int16x8_t lo[4], hi[4];
  qk_neon_decode(f, wb, table, w);
  for (int r = 0; r < 4; ++r) {
    lo[r] = vmovl_s8(vget_low_s8(w[r]));
    hi[r] = vmovl_high_s8(w[r]);
    if (zp) {
      lo[r] = vsubq_s16(lo[r], vdupq_n_s16(zp[r]));
      hi[r] = vsubq_s16(hi[r], vdupq_n_s16(zp[r]));
    }
  }
  float tmp[4][QK_NEON_KB];
  const float *xs[4];
  for (int c = 0; c < nc; ++c) {
    xs[c] = xc[c] + koff;
    if (valid < QK_NEON_KB) { /* last block: never read X past K */
      memset(tmp[c], 0, sizeof tmp[c]);
      memcpy(tmp[c], xs[c], (size_t)valid * sizeof(float));
      xs[c] = tmp[c];
    }
  }
  for (int q = 0; q < 4; ++q) {
    float32x4_t wf[4];
    for (int r = 0; r < 4; ++r)
      wf[r] = vmulq_f32(quarter_f32(lo[r], hi[r], q), scale[r]);
    for (int c = 0; c < nc; ++c) {
      float32x4_t x = vld1q_f32(xs[c] + 4 * q);
      for (int r = 0; r < 4; ++r)
        acc[c][r] = vfmaq_f32(acc[c][r], wf[r], x);
    }
  }
}

QK_NEON_INLINE void qf32_tile(const qk_packed *W, qk_format f, int t, const float *X, int ldx,
                              int n, const int nc, const float *bias, float *Y, int ldy,
                              unsigned flags)
{
  const qk_neon_tile tl = qk_neon_tile_at(W, f, t);
  const int ng = tl.ng, m = tl.m, rows = tl.rows, tail = tl.tail;
  const size_t bb = tl.bb;
  const uint8_t *wt = tl.wt;
  const float *sct = tl.sct;
  const int32_t *zpt = tl.zpt;
  const int8x16_t table = tl.table;

  const float *xc[4];
  float32x4_t acc[4][4];
  for (int c = 0; c < nc; ++c) {
    xc[c] = X + (size_t)(n + c) * (size_t)ldx;
    for (int r = 0; r < 4; ++r)
      acc[c][r] = vdupq_n_f32(0.0f);
  }

  for (int g = 0; g < ng; ++g) {
    int kb0, kb1;
    qk_neon_group_blocks(W, g, &kb0, &kb1);
    int kfull = (tail && kb1 == tl.nblk) ? kb1 - 1 : kb1;
    int16_t zp[4];
    if (zpt)
      for (int r = 0; r < 4; ++r)
        zp[r] = (int16_t)zpt[(size_t)g * 4 + (size_t)r];
    float32x4_t scale[4];
    for (int r = 0; r < 4; ++r)
      scale[r] = vdupq_n_f32(sct[(size_t)g * 4 + (size_t)r]);
    for (int kb = kb0; kb < kfull; ++kb)
      qf32_block(f, wt + (size_t)kb * bb, table, zpt ? zp : NULL, scale, xc, kb * QK_NEON_KB, nc,
                 QK_NEON_KB, acc);
    if (kfull < kb1)
      qf32_block(f, wt + (size_t)kfull * bb, table, zpt ? zp : NULL, scale, xc, kfull * QK_NEON_KB,
                 nc, tail, acc);
  }

  for (int c = 0; c < nc; ++c) {
    float *y = Y + (size_t)(n + c) * (size_t)ldy + m;
    float32x4_t base = qk_neon_base(bias, y, m, rows, flags);
    qk_neon_store_rows(y, vaddq_f32(qk_neon_hsum4_f32(acc[c]), base), rows);
  }
}

/**
   Frames in steps of 4, then 2, then 1 (f32) or 2 then 1 (quantized: with
   the decoded rows live, 2 frames is what fits the 32 vector registers
   without spilling).
*/
QK_NEON_INLINE void qf32_fmt(const qk_packed *W, qk_format f, const float *X, int ldx, int N,
                             const float *bias, float *Y, int ldy, unsigned flags)
{
  const int T = qk_neon_tiles(W->rows);
  for (int t = 0; t < T; ++t) {
    int n = 0;
    for (; n + 2 <= N; n += 2)
      qf32_tile(W, f, t, X, ldx, n, 2, bias, Y, ldy, flags);
    if (n < N)
      qf32_tile(W, f, t, X, ldx, n, 1, bias, Y, ldy, flags);
  }
}

void qk_neon_gemm_f32(const qk_packed *W, const float *X, int ldx, int N, const float *bias,
                      float *Y, int ldy, unsigned flags)
{
  switch (W->format) {
  case QK_F32: {
    const int T = qk_neon_tiles(W->rows);
    for (int t = 0; t < T; ++t) {
      int n = 0;
      for (; n + 4 <= N; n += 4)
        f32_tile(W, t, X, ldx, n, 4, bias, Y, ldy, flags);
      if (n + 2 <= N) {
        f32_tile(W, t, X, ldx, n, 2, bias, Y, ldy, flags);
        n += 2;
      }
      if (n < N)
        f32_tile(W, t, X, ldx, n, 1, bias, Y, ldy, flags);
    }
    break;
  }
  case QK_S8: qf32_fmt(W, QK_S8, X, ldx, N, bias, Y, ldy, flags); break;
  case QK_S4:
  case QK_CB4: qf32_fmt(W, QK_S4, X, ldx, N, bias, Y, ldy, flags); break;
  default: qf32_fmt(W, QK_S2, X, ldx, N, bias, Y, ldy, flags); break;
  }
}

/* ------------------------------------------------------------------------
   Int8 GEMM (baseline: SMULL/SMLAL into int16 lanes, SADALP once per run)
   ------------------------------------------------------------------------ */

static void neon_gemm_s8(const qk_packed *W, const qk_act_s8 *X, int N, const float *bias, float *Y,
                         int ldy, unsigned flags)
{
  qk_neon_gemm_s8_body(W, X, N, bias, Y, ldy, flags);
}

/* ------------------------------------------------------------------------
   Activation column primitives (the drivers are qk_act.c's)
   ------------------------------------------------------------------------ */

/**
   16 floats -> 16 codes: rint(x * inv) by FCVTNS (ties to even, NaN -> 0,
   saturating to int32), clamped to [-127, 127]. A value counts as clipped
   when its rounded magnitude exceeds 127, as in the scalar code; the
   saturating abs keeps INT32_MIN (x*inv <= -2^31) counted.
*/
QK_NEON_INLINE int8x16_t quant16(const float *x, float32x4_t inv, uint32x4_t *clip)
{
  const int32x4_t hi = vdupq_n_s32(127), lo = vdupq_n_s32(-127);
  int32x4_t i[4];
  for (int j = 0; j < 4; ++j) {
    i[j] = vcvtnq_s32_f32(vmulq_f32(vld1q_f32(x + 4 * j), inv));
    *clip = vsubq_u32(*clip, vcgtq_s32(vqabsq_s32(i[j]), hi)); /* mask is -1 */
    i[j] = vmaxq_s32(vminq_s32(i[j], hi), lo);
  }
  int16x8_t a = vcombine_s16(vmovn_s32(i[0]), vmovn_s32(i[1]));
  int16x8_t b = vcombine_s16(vmovn_s32(i[2]), vmovn_s32(i[3]));
  return vcombine_s8(vmovn_s16(a), vmovn_s16(b));
}

/**
   One column: codes, zero padding to ld, group sums. Sums are taken per
   16-code block with one horizontal add when blocks never straddle groups
   (group a multiple of 16, or one group), else from the stored codes.
*/
size_t qk_neon_quantize_column(const float *x, int K, float inv, int8_t *codes, int ld,
                               int32_t *sums, int group)
{
  const float32x4_t vinv = vdupq_n_f32(inv);
  const int G = qk_group_size(K, group), ng = qk_group_count(K, group);
  const bool block_sums = sums && (ng == 1 || G % QK_NEON_KB == 0);
  uint32x4_t clip = vdupq_n_u32(0);
  if (block_sums)
    memset(sums, 0, (size_t)ng * sizeof *sums);
  int k = 0;
  for (; k + QK_NEON_KB <= K; k += QK_NEON_KB) {
    int8x16_t q = quant16(x + k, vinv, &clip);
    vst1q_s8(codes + k, q);
    if (block_sums)
      sums[k / G] += vaddlvq_s8(q);
  }
  if (k < K) { /* tail through a zeroed copy: padding quantizes to 0 */
    float tmp[QK_NEON_KB] = {0};
    memcpy(tmp, x + k, (size_t)(K - k) * sizeof(float));
    int8x16_t q = quant16(tmp, vinv, &clip);
    if (block_sums)
      sums[k / G] += vaddlvq_s8(q);
    int8_t out[QK_NEON_KB];
    vst1q_s8(out, q);
    int room = ld - k < QK_NEON_KB ? ld - k : QK_NEON_KB;
    memcpy(codes + k, out, (size_t)room);
    k += room;
  }
  if (ld > k)
    memset(codes + k, 0, (size_t)(ld - k));
  if (sums && !block_sums)
    qk_act_group_sums(codes, K, group, sums);
  return (size_t)vaddvq_u32(clip);
}

/** max_k |x[k]|: FMAXNM ignores a quiet NaN like fmaxf does, so it matches bit for bit. */
float qk_neon_column_amax(const float *x, int K)
{
  float32x4_t m0 = vdupq_n_f32(0.0f), m1 = m0, m2 = m0, m3 = m0;
  int k = 0;
  for (; k + 16 <= K; k += 16) {
    m0 = vmaxnmq_f32(m0, vabsq_f32(vld1q_f32(x + k)));
    m1 = vmaxnmq_f32(m1, vabsq_f32(vld1q_f32(x + k + 4)));
    m2 = vmaxnmq_f32(m2, vabsq_f32(vld1q_f32(x + k + 8)));
    m3 = vmaxnmq_f32(m3, vabsq_f32(vld1q_f32(x + k + 12)));
  }
  for (; k + 4 <= K; k += 4)
    m0 = vmaxnmq_f32(m0, vabsq_f32(vld1q_f32(x + k)));
  float amax = vmaxnmvq_f32(vmaxnmq_f32(vmaxnmq_f32(m0, m1), vmaxnmq_f32(m2, m3)));
  for (; k < K; ++k)
    amax = fmaxf(amax, fabsf(x[k]));
  return amax;
}

/* ------------------------------------------------------------------------
   tanh / sigmoid: the scalar exp_approx step for step, 4 lanes at a time.
   FRINTN is rintf (ties to even), FMLA is fmaf, FDIV is the IEEE division,
   FMAXNM/FMINNM are fmaxf/fminf (NaN input clamps like the scalar), so the
   results equal the scalar oracle's.
   ------------------------------------------------------------------------ */

QK_NEON_INLINE float32x4_t exp4(float32x4_t y)
{
  float32x4_t n = vrndnq_f32(vmulq_f32(y, vdupq_n_f32(QK_LOG2E)));
  float32x4_t r = vfmaq_f32(y, n, vdupq_n_f32(-QK_LN2_HI));
  r = vfmaq_f32(r, n, vdupq_n_f32(-QK_LN2_LO));
  float32x4_t p = vdupq_n_f32(QK_EXP_C7);
  p = vfmaq_f32(vdupq_n_f32(QK_EXP_C6), p, r);
  p = vfmaq_f32(vdupq_n_f32(QK_EXP_C5), p, r);
  p = vfmaq_f32(vdupq_n_f32(QK_EXP_C4), p, r);
  p = vfmaq_f32(vdupq_n_f32(QK_EXP_C3), p, r);
  p = vfmaq_f32(vdupq_n_f32(QK_EXP_C2), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
  /* 2^n built in the exponent field; n is integral, so the convert is exact. */
  int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
  return vmulq_f32(p, vreinterpretq_f32_s32(e));
}

QK_NEON_INLINE float32x4_t tanh4(float32x4_t x)
{
  const float32x4_t one = vdupq_n_f32(1.0f);
  float32x4_t v =
      vminnmq_f32(vmaxnmq_f32(x, vdupq_n_f32(-QK_TANH_CLAMP)), vdupq_n_f32(QK_TANH_CLAMP));
  float32x4_t e = exp4(vmulq_f32(vdupq_n_f32(2.0f), v));
  return vdivq_f32(vsubq_f32(e, one), vaddq_f32(e, one));
}

QK_NEON_INLINE float32x4_t sigmoid4(float32x4_t x)
{
  const float32x4_t one = vdupq_n_f32(1.0f);
  float32x4_t v =
      vminnmq_f32(vmaxnmq_f32(x, vdupq_n_f32(-QK_SIGMOID_CLAMP)), vdupq_n_f32(QK_SIGMOID_CLAMP));
  return vdivq_f32(one, vaddq_f32(one, exp4(vnegq_f32(v))));
}

/** qk_internal.h's QK_TANH8 rational, step for step (FMLA is fmaf). */
QK_NEON_INLINE float32x4_t tanh_int8_4(float32x4_t x)
{
  const float32x4_t v =
      vminnmq_f32(vmaxnmq_f32(x, vdupq_n_f32(-QK_TANH8_CLAMP)), vdupq_n_f32(QK_TANH8_CLAMP));
  const float32x4_t u = vmulq_f32(v, v);
  const float32x4_t p =
      vfmaq_f32(vdupq_n_f32(QK_TANH8_P0),
                vfmaq_f32(vdupq_n_f32(QK_TANH8_P1), vdupq_n_f32(QK_TANH8_P2), u), u);
  const float32x4_t q = vfmaq_f32(
      vdupq_n_f32(1.0f), vfmaq_f32(vdupq_n_f32(QK_TANH8_Q1), vdupq_n_f32(QK_TANH8_Q2), u), u);
  return vdivq_f32(vmulq_f32(v, p), q);
}

/** The activation ACT (QK_ACT_TANH, _SIGMOID, _TANH_INT8) of 4 lanes. */
QK_NEON_INLINE float32x4_t act4(float32x4_t v, const int ACT)
{
  return ACT == QK_ACT_SIGMOID ? sigmoid4(v) : ACT == QK_ACT_TANH_INT8 ? tanh_int8_4(v) : tanh4(v);
}

/** y = ACT(x); the tail goes through a copy. */
QK_NEON_INLINE void act_map4(float *y, const float *x, size_t count, const int ACT)
{
  size_t i = 0;
  for (; i + 4 <= count; i += 4)
    vst1q_f32(y + i, act4(vld1q_f32(x + i), ACT));
  if (i < count) {
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    memcpy(t, x + i, (count - i) * sizeof(float));
    vst1q_f32(t, act4(vld1q_f32(t), ACT));
    memcpy(y + i, t, (count - i) * sizeof(float));
  }
}

void qk_neon_tanh(float *y, const float *x, size_t count) { act_map4(y, x, count, QK_ACT_TANH); }
void qk_neon_sigmoid(float *y, const float *x, size_t count)
{
  act_map4(y, x, count, QK_ACT_SIGMOID);
}
void qk_neon_tanh_int8(float *y, const float *x, size_t count)
{
  act_map4(y, x, count, QK_ACT_TANH_INT8);
}

const qk_isa_ops qk_ops_neon = {
    .isa = QK_ISA_NEON,
    .pack = qk_neon_pack,
    .gemm_f32 = qk_neon_gemm_f32,
    .gemm_s8 = neon_gemm_s8,
    .column_amax = qk_neon_column_amax,
    .quantize_column = qk_neon_quantize_column,
    .tanh = qk_neon_tanh,
    .sigmoid = qk_neon_sigmoid,
    .tanh_int8 = qk_neon_tanh_int8,
};
