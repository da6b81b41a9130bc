/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The fused recurrent step: packing for every ISA, dispatch, and the scalar
  form, which is the definition (qk.h) written out and the oracle the SIMD
  files are tested against bit for bit.
*/
#include "qk_rnn_internal.h"

#include <stdlib.h>
#include <string.h>

int qk_rnn_gates(qk_rnn_kind kind) { return kind == QK_RNN_LSTM ? 4 : 3; }

/** Lanes per gate on an ISA: H rounded up to its vector width. */
static int lanes_for(qk_isa isa, int H)
{
  (void)isa; /* builds without x86 SIMD have the scalar form only */
  int v = 1;
#ifdef QK_HAVE_AVX2
  if (isa == QK_ISA_AVX2 || isa == QK_ISA_AVXVNNI)
    v = QK_RNN_AVX2_LANES;
#endif
#ifdef QK_HAVE_AVX512VNNI
  if (isa == QK_ISA_AVX512VNNI)
    v = QK_RNN_AVX512_LANES;
#endif
  return (H + v - 1) / v * v;
}

static qk_rnn_run_fn run_for(qk_isa isa, bool s8)
{
  (void)s8;
  switch (isa) {
#ifdef QK_HAVE_AVX2
  /* An AVX-VNNI CPU has AVX2: its steps are AVX2's (the recurrence's int8
     products are a few per step, VEX vpdpbusd would not change them). */
  case QK_ISA_AVXVNNI:
  case QK_ISA_AVX2: return s8 ? qk_rnn_run_s8_p8_avx2 : qk_rnn_run_f32_p8_avx2;
#endif
#ifdef QK_HAVE_AVX512VNNI
  case QK_ISA_AVX512VNNI: return s8 ? qk_rnn_run_s8_p16_avx512vnni : qk_rnn_run_f32_p16_avx512;
#endif
  default: return qk_rnn_run_scalar;
  }
}

static bool fail(const char **err, const char *why)
{
  if (err)
    *err = why;
  return false;
}

static bool valid(const qk_rnn_weights *w, qk_isa isa, const char **err)
{
  if (!w || (w->kind != QK_RNN_LSTM && w->kind != QK_RNN_GRU))
    return fail(err, "unknown recurrent layer kind");
  if (w->units < 1 || w->units > QK_RNN_MAX_UNITS)
    return fail(err, "units out of range");
  if (!qk_isa_supported(isa))
    return fail(err, "ISA not supported here");
  const qk_weights *q = w->wh_q;
  if (!q)
    return w->wh != NULL || fail(err, "no recurrent weights");
  if (q->format == QK_F32 || !q->codes || !q->scales)
    return fail(err, "int8 form needs integer codes and scales");
  if (q->rows != qk_rnn_gates(w->kind) * w->units || q->cols != w->units)
    return fail(err, "recurrent weights have the wrong shape");
  if (qk_group_count(q->cols, q->group) != 1 || q->zero_points)
    return fail(err, "int8 form needs one symmetric scale group per row");
  if (qk_format_is_codebook(q->format) && !q->codebook)
    return fail(err, "codebook format without a codebook");
  for (size_t i = 0, n = (size_t)q->rows * (size_t)q->cols; i < n; ++i)
    if (q->codes[i] < qk_format_min(q->format) || q->codes[i] > qk_format_max(q->format))
      return fail(err, "weight code out of range");
  return true;
}

/** The packed-gates copy of r's float form (qk_rnn_internal.h). */
static bool pack_gates(qk_rnn *r)
{
  const int H = r->H, L = QK_RNN_PK_LANES, GP = r->G * r->P;
  r->wg = qk_aligned_calloc((size_t)H * L * sizeof(float));
  r->bg = qk_aligned_calloc(L * sizeof(float));
  r->hg = qk_aligned_calloc(L * sizeof(float));
  if (!r->wg || !r->bg || !r->hg)
    return false;
  r->bytes += ((size_t)H + 2) * L * sizeof(float);
  for (int q = 0; q < r->G; ++q)
    for (int j = 0; j < H; ++j) {
      const int lane = q * r->P + j, to = q * H + j;
      for (int k = 0; k < H; ++k)
        r->wg[(size_t)k * L + (size_t)to] = r->w[(size_t)k * (size_t)GP + (size_t)lane];
      r->bg[to] = r->bh[lane];
      r->hg[to] = r->half[q];
    }
  return true;
}

qk_rnn *qk_rnn_pack(const qk_rnn_weights *w, qk_isa isa, const char **err)
{
  if (!valid(w, isa, err))
    return NULL;
  qk_rnn *r = calloc(1, sizeof *r);
  if (!r) {
    fail(err, "out of memory");
    return NULL;
  }
  const int H = w->units, G = qk_rnn_gates(w->kind), P = lanes_for(isa, H), GP = G * P;
  const int K4 = (H + 3) / 4;
  r->kind = w->kind;
  r->isa = isa;
  r->H = H;
  r->G = G;
  r->P = P;
  r->s8 = w->wh_q != NULL;
  r->run = run_for(isa, r->s8);
  r->bh = qk_aligned_calloc((size_t)GP * sizeof(float));
  r->bytes = sizeof *r + (size_t)GP * sizeof(float);
  if (!r->s8) {
    r->w = qk_aligned_calloc((size_t)H * (size_t)GP * sizeof(float));
    r->bytes += (size_t)H * (size_t)GP * sizeof(float);
  } else {
    r->ws = qk_aligned_calloc((size_t)GP * sizeof(float));
    r->fold = qk_aligned_calloc((size_t)GP * sizeof(int32_t));
    r->q = qk_aligned_calloc((size_t)K4 * (size_t)GP * 4);
    r->bytes += (size_t)GP * (sizeof(float) + sizeof(int32_t)) + (size_t)K4 * (size_t)GP * 4;
  }
  if (!r->bh || (!r->s8 && !r->w) || (r->s8 && (!r->ws || !r->fold || !r->q))) {
    qk_rnn_free(r);
    fail(err, "out of memory");
    return NULL;
  }
  for (int g = 0; g < G; ++g) {
    /* LSTM i, f, o and GRU z, r are sigmoid gates; LSTM g and GRU n tanh */
    const float half = g != 2 ? 0.5f : 1.0f;
    r->half[g] = half;
    for (int j = 0; j < H; ++j) {
      const int m = g * H + j, lane = g * P + j;
      r->bh[lane] = half * (w->bh ? w->bh[m] : 0.0f);
      if (!r->s8) {
        for (int k = 0; k < H; ++k)
          r->w[(size_t)k * (size_t)GP + (size_t)lane] =
              half * w->wh[(size_t)m * (size_t)H + (size_t)k];
        continue;
      }
      int32_t sum = 0;
      for (int k = 0; k < H; ++k) {
        const int v = qk_weight_value(w->wh_q, m, k);
        r->q[((size_t)(k / 4) * (size_t)GP + (size_t)lane) * 4 + (size_t)(k % 4)] = (int8_t)v;
        sum += v;
      }
      r->ws[lane] = half * w->wh_q->scales[m];
      r->fold[lane] = -128 * sum;
    }
  }
  if (qk_rnn_pk_applies(r->kind, isa, r->s8, H) && !pack_gates(r)) {
    qk_rnn_free(r);
    fail(err, "out of memory");
    return NULL;
  }
  return r;
}

void qk_rnn_free(qk_rnn *r)
{
  if (!r)
    return;
  qk_aligned_free(r->w);
  qk_aligned_free(r->wg);
  qk_aligned_free(r->bg);
  qk_aligned_free(r->hg);
  qk_aligned_free(r->bh);
  qk_aligned_free(r->ws);
  qk_aligned_free(r->q);
  qk_aligned_free(r->fold);
  free(r);
}

size_t qk_rnn_alloc_bytes(const qk_rnn *r) { return r ? r->bytes : 0; }
qk_isa qk_rnn_isa(const qk_rnn *r) { return r->isa; }

void qk_rnn_run(const qk_rnn *r, const float *gx, int ldg, int N, float *h, float *c, float *y,
                int ldy)
{
  if (N > 0)
    r->run(r, gx, ldg, N, h, c, y, ldy, NULL);
}

void qk_rnn_run_io(const qk_rnn *r, const qk_rnn_io *io, int N, float *h, float *c, float *y,
                   int ldy)
{
  if (N > 0 && !r->s8)
    r->run(r, NULL, 0, N, h, c, y, ldy, io);
}

bool qk_rnn_io_dense_is_gemm(qk_isa isa)
{
  (void)isa;
#ifdef QK_HAVE_AVX512VNNI
  if (isa == QK_ISA_AVX512VNNI)
    return true;
#endif
  return false;
}

/* ---- The scalar form: the definition, step for step ---------------------- */

/**
   The rational's numerator v P(u) and denominator Q(u) by Estrin's scheme,
   c0 + c1 u + u^2 (c2 + c3 u + c4 u^2), v multiplied into the two halves of
   the numerator (v (p0 + p1 u) + (v u^2) (p2 + ...)) so that it is ready
   with the denominator rather than one multiply after it.
*/
static inline void tanh_parts(float x, float *num, float *den)
{
  const float v = fminf(fmaxf(x, -QK_RNN_TANH_CLAMP), QK_RNN_TANH_CLAMP), u = v * v, u2 = u * u;
  const float p_lo = fmaf(QK_RNN_TANH_P1, u, QK_RNN_TANH_P0);
  const float p_hi = fmaf(QK_RNN_TANH_P4, u2, fmaf(QK_RNN_TANH_P3, u, QK_RNN_TANH_P2));
  *num = fmaf(v * u2, p_hi, v * p_lo);
  *den = fmaf(u2, fmaf(QK_RNN_TANH_Q4, u2, fmaf(QK_RNN_TANH_Q3, u, QK_RNN_TANH_Q2)),
              fmaf(QK_RNN_TANH_Q1, u, 1.0f));
}

float qk_rnn_tanh(float x)
{
  float n, q;
  tanh_parts(x, &n, &q);
  return n / q;
}

/**
   One LSTM unit's update with one divide for its four gates
   (qk_rnn_internal.h): with t' = n * (the other three Q) the gates' tanh
   before the common 1/Q, D = 1 / (Q_i Q_f Q_g Q_o), i = 0.5 + (t'_i / 2) D,
   f = 0.5 + (t'_f / 2) D, g = t'_g D, o = 0.5 + (t'_o / 2) D, the new cell
   f c + i g is the polynomial a + b D + e D^2 in D, whose coefficients
   a = c / 2, b = (t'_f / 2) c + t'_g / 2, e = (t'_i / 2) t'_g do not wait
   for the divide. Returns o; *c becomes the new cell.
*/
static float lstm_unit(const float x[4], float *c)
{
  float n[4], q[4];
  for (int g = 0; g < 4; ++g)
    tanh_parts(x[g], &n[g], &q[g]);
  const float A = q[0] * q[1], B = q[2] * q[3], D = 1.0f / (A * B);
  const float wi = (n[0] * (q[1] * B)) * 0.5f, wf = (n[1] * (q[0] * B)) * 0.5f;
  const float wg = n[2] * (A * q[3]);
  const float a = *c * 0.5f, b = fmaf(wf, *c, wg * 0.5f), e = wi * wg;
  *c = fmaf(fmaf(e, D, b), D, a);
  return fmaf((n[3] * (A * q[2])) * 0.5f, D, 0.5f);
}

/** The GRU's two sigmoid gates with one divide. */
static void gates2(const float x[2], float out[2])
{
  float n[2], q[2];
  for (int g = 0; g < 2; ++g)
    tanh_parts(x[g], &n[g], &q[g]);
  const float D = 1.0f / (q[0] * q[1]);
  out[0] = fmaf((n[0] * q[1]) * 0.5f, D, 0.5f);
  out[1] = fmaf((n[1] * q[0]) * 0.5f, D, 0.5f);
}

/** The state-independent part of a step: gx' = half * gx per lane (0 for
    the GRU candidate, whose input projection joins after the reset gate). */
static void input_part(const qk_rnn *r, const float *g, float *gxs)
{
  const int H = r->H, P = r->P;
  for (int q = 0; q < r->G; ++q)
    for (int j = 0; j < P; ++j)
      gxs[q * P + j] =
          j < H && !(r->kind == QK_RNN_GRU && q == 2) ? r->half[q] * g[q * H + j] : 0.0f;
}

/** z = (sA + sB) + (sC + sD) (qk.h) with float weights: four fmaf chains, k mod 4. */
static void recurrent_f32(const qk_rnn *r, const float *h, const float *gxs, float *z)
{
  const int GP = r->G * r->P;
  for (int l = 0; l < GP; ++l) {
    float s[4] = {r->bh[l], gxs[l], 0.0f, 0.0f};
    for (int k = 0; k < r->H; ++k)
      s[k % 4] = fmaf(r->w[(size_t)k * (size_t)GP + (size_t)l], h[k], s[k % 4]);
    z[l] = (s[0] + s[1]) + (s[2] + s[3]);
  }
}

/** z with h quantized to int8 for this step (qk.h): the power-of-two
    scale from amax's exponent (qk_rnn_internal.h), codes by the magic sum. */
static void recurrent_s8(const qk_rnn *r, const float *h, const float *gxs, float *z)
{
  const int GP = r->G * r->P, H = r->H;
  uint32_t amax_bits = 0;
  for (int k = 0; k < H; ++k) {
    const uint32_t b = qk_float_bits(fabsf(h[k]));
    amax_bits = b > amax_bits ? b : amax_bits;
  }
  float s, inv;
  qk_rnn_s8_scale(amax_bits, &s, &inv);
  int32_t q[QK_RNN_MAX_UNITS];
  for (int k = 0; k < H; ++k)
    q[k] = qk_rnn_s8_code(fmaf(h[k], inv, QK_RNN_CODE_MAGIC));
  for (int l = 0; l < GP; ++l) {
    int32_t acc = 0;
    for (int k = 0; k < H; ++k)
      acc += r->q[((size_t)(k / 4) * (size_t)GP + (size_t)l) * 4 + (size_t)(k % 4)] * q[k];
    z[l] = fmaf((float)acc, r->ws[l] * s, r->bh[l] + gxs[l]);
  }
}

/** gx of one frame from io's input (qk.h, qk_rnn_io): qk_gemm_f32's sum
    for K = 1, its three other chains and the old value 0. */
static void io_input(const qk_rnn *r, const qk_rnn_io *io, int f, float *g)
{
  const float x = io->x[(size_t)f * (size_t)io->ldx];
  for (int m = 0; m < r->G * r->H; ++m)
    g[m] =
        ((fmaf(io->wx[m], x, 0.0f) + 0.0f) + (0.0f + 0.0f)) + ((io->bx ? io->bx[m] : 0.0f) + 0.0f);
}

/** The Dense of one frame (qk.h, qk_rnn_io): four chains k mod 4. */
static float io_dense(const qk_rnn *r, const qk_rnn_io *io, const float *h)
{
  float d[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (int k = 0; k < r->H; ++k)
    d[k % 4] = fmaf(io->wd[k], h[k], d[k % 4]);
  return ((d[0] + d[1]) + (d[2] + d[3])) + ((io->bd ? io->bd[0] : 0.0f) + 0.0f);
}

void qk_rnn_run_scalar(const qk_rnn *r, const float *gx, int ldg, int N, float *h, float *c,
                       float *y, int ldy, const qk_rnn_io *io)
{
  const int H = r->H, P = r->P;
  float gxs[4 * QK_RNN_MAX_UNITS], z[4 * QK_RNN_MAX_UNITS], gio[4 * QK_RNN_MAX_UNITS];
  for (int f = 0; f < N; ++f) {
    const float *g = gx + (size_t)f * (size_t)ldg;
    if (io) {
      io_input(r, io, f, gio);
      g = gio;
    }
    input_part(r, g, gxs);
    if (r->s8)
      recurrent_s8(r, h, gxs, z);
    else
      recurrent_f32(r, h, gxs, z);
    for (int j = 0; j < H; ++j) {
      if (r->kind == QK_RNN_LSTM) {
        const float x[4] = {z[j], z[P + j], z[2 * P + j], z[3 * P + j]};
        const float o = lstm_unit(x, &c[j]);
        h[j] = o * qk_rnn_tanh(c[j]);
      } else {
        const float x[2] = {z[j], z[P + j]};
        float t[2];
        gates2(x, t);
        const float zg = t[0], rg = t[1];
        const float n = qk_rnn_tanh(fmaf(rg, z[2 * P + j], g[2 * H + j]));
        h[j] = fmaf(zg, h[j] - n, n);
      }
    }
    memcpy(y + (size_t)f * (size_t)ldy, h, (size_t)H * sizeof(float));
    if (io && io->wd)
      io->yd[f] = io_dense(r, io, h);
  }
}
