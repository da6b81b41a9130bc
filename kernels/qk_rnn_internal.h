/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The fused recurrent step (qk.h, "Recurrent layers"): the packed object
  and the per-ISA entry points. One layout serves every ISA, with the lane
  count P of a gate chosen per ISA:

    row m = gate * H + j (j < H) of the file lives at lane gate * P + j;
    lanes H .. P - 1 of every gate are padding with zero weights and bias,
    so their gates stay sigmoid(0), tanh(0) and their state stays 0.

    float form  w    [H][G*P]      row k: w[.][k] of every lane, so a step
                                   is H broadcasts of h[k] times one row
    int8 form   q    [K4][G*P][4]  K4 = ceil(H / 4): lane l's codes for
                                   k = 4kk .. 4kk + 3 in one dword (zeros
                                   past H), the shape vpdpbusd and
                                   vpmaddubsw + vpmaddwd reduce per lane
                ws   [G*P]         row scales (0 in padding)
                fold [G*P]         -128 * sum_k v[m][k]: vpdpbusd takes the
                                   codes as unsigned (q + 128); adding the
                                   fold gives back sum_k v q exactly
    both        bh   [G*P]         recurrent bias (0 where the file has none)
                half [G]           0.5 for a sigmoid gate (its rows of w or
                                   ws and bh are halved), 1 for a tanh gate
*/
#ifndef QUANTONE_KERNELS_QK_RNN_INTERNAL_H
#define QUANTONE_KERNELS_QK_RNN_INTERNAL_H

#include "qk_internal.h"

#include <string.h>

/**
   The recurrent step's tanh, a rational in u = v^2 (v = x clamped to
   +-QK_RNN_TANH_CLAMP):  tanh(x) ~ v * P(u) / Q(u), P and Q of degree 4,
   each by Estrin's scheme in fmaf (qk_rnn.c, tanh_parts), then IEEE
   divisions, so every ISA gets the same bits. Fitted (iteratively
   reweighted least squares toward the minimax) on [0, 9]: |error| <= 2e-8
   before float rounding, below the float step of the result; the value at
   the clamp is 1 - 1.1e-8. Its latency (clamp, three multiplies, two fmaf,
   a divide) is about half that of the exp-based qk_tanh, and the step is a
   chain of two of them; an LSTM's four gates share one divide (qk_rnn.c,
   lstm_unit), a GRU's two sigmoid gates another.
   Sigmoid gates use sigmoid(x) = 0.5 + 0.5 tanh(x / 2), with the 1/2
   folded into their packed weights and bias (exact: a power of two).
*/
#define QK_RNN_TANH_CLAMP 9.0f
#define QK_RNN_TANH_P0 0.9999999129420565f
#define QK_RNN_TANH_P1 0.13375436747200486f
#define QK_RNN_TANH_P2 0.0034891948009151815f
#define QK_RNN_TANH_P3 2.0512827368722192e-05f
#define QK_RNN_TANH_P4 1.3236973134944974e-08f
#define QK_RNN_TANH_Q1 0.4670873582131306f
#define QK_RNN_TANH_Q2 0.025852040994076595f
#define QK_RNN_TANH_Q3 0.00032755741708534035f
#define QK_RNN_TANH_Q4 7.725126202692154e-07f

/**
   The int8 step's dynamic scale (qk.h) is a power of two taken from the
   exponent field e of amax = max_k |h[k]|, so that no divide sits on the
   step's chain and every ISA forms it with integer operations on the bits:
   s = 2^(e - 127 - 6), inv = 1 / s, which puts amax / s in [64, 128) (at
   most one bit of resolution below amax / 127). Both are normal floats for
   e in 7 .. 254; outside (amax 0, below 2^-120, infinite or NaN) s = inv = 0.
   In bits: s = (e - 6) << 23, inv = (260 - e) << 23.
*/
#define QK_RNN_EXP_MASK 0x7F800000u
#define QK_RNN_EXP_LO (7u << 23)
#define QK_RNN_EXP_HI (254u << 23)
#define QK_RNN_S_BIAS (6u << 23)
#define QK_RNN_INV_BASE (260u << 23)

/**
   A code is rint(h inv) (half to even) clamped to +-127, read from the bits
   of f = fmaf(h, inv, QK_RNN_CODE_MAGIC): for |h inv| < 128 the sum lies in
   [2^23, 2^24), whose spacing is 1, and the magic number is even, so f is
   the magic plus rint(h inv) and its bits are the magic's bits plus the
   code. The bits clamped to the magic's +-127 (as signed integers; this
   also gives every NaN or infinity a fixed code) minus the magic's bits are
   the code; their low byte is the code + 128, the unsigned byte vpdpbusd
   takes, because the magic's low byte is 0x80.
*/
#define QK_RNN_CODE_MAGIC 12583040.0f /* 1.5 * 2^23 + 128 */
#define QK_RNN_CODE_MAGIC_BITS 0x4B400080
#define QK_RNN_CODE_MAX 127

/** s and inv from the bits of amax (above). */
static inline void qk_rnn_s8_scale(uint32_t amax_bits, float *s, float *inv)
{
  const uint32_t e = amax_bits & QK_RNN_EXP_MASK;
  const bool normal = e >= QK_RNN_EXP_LO && e <= QK_RNN_EXP_HI;
  *s = normal ? qk_bits_float(e - QK_RNN_S_BIAS) : 0.0f;
  *inv = normal ? qk_bits_float(QK_RNN_INV_BASE - e) : 0.0f;
}

/** The code of f = fmaf(h, inv, QK_RNN_CODE_MAGIC) (above). */
static inline int32_t qk_rnn_s8_code(float f)
{
  const int32_t b = (int32_t)qk_float_bits(f);
  const int32_t lo = QK_RNN_CODE_MAGIC_BITS - QK_RNN_CODE_MAX;
  const int32_t hi = QK_RNN_CODE_MAGIC_BITS + QK_RNN_CODE_MAX;
  return (b < lo ? lo : b > hi ? hi : b) - QK_RNN_CODE_MAGIC_BITS;
}

/** Largest H (QM_MAX_CHANNELS of the engine); sizes the step's stack buffers. */
#define QK_RNN_MAX_UNITS 1024

/** io NULL: gx as given; else gx from io and its Dense (qk.h, qk_rnn_io;
    float forms only). */
typedef void (*qk_rnn_run_fn)(const qk_rnn *r, const float *gx, int ldg, int N, float *h, float *c,
                              float *y, int ldy, const qk_rnn_io *io);

struct qk_rnn {
  qk_rnn_kind kind;
  qk_isa isa;
  int H, G, P;
  bool s8;
  float *w;
  /** The packed-gates float form (AVX-512, an LSTM of 9 to 12 units: see
      qk_rnn_pk_applies), NULL elsewhere: the gates end to end, lane
      q * H + j, in QK_RNN_PK_LANES lanes; wg [H][QK_RNN_PK_LANES] the
      rows of w, bg the rows of bh, hg the gate's factor a (qk.h). */
  float *wg, *bg, *hg;
  float *bh;
  float *ws;
  int8_t *q;
  int32_t *fold;
  float half[4];
  size_t bytes;
  qk_rnn_run_fn run;
};

/** Three zmm of gates end to end (qk_rnn_avx512.c, run_pk). */
#define QK_RNN_PK_LANES 48

/** Whether a pack takes the packed-gates form: an LSTM's four gates of
    9 to 12 units fill three zmm end to end where padded to 16 lanes
    each they take four (fewer need another permutation; more do not fit). */
static inline bool qk_rnn_pk_applies(qk_rnn_kind kind, qk_isa isa, bool s8, int H)
{
#ifdef QK_HAVE_AVX512VNNI
  return isa == QK_ISA_AVX512VNNI && !s8 && kind == QK_RNN_LSTM && H > 8 &&
         4 * H <= QK_RNN_PK_LANES;
#else
  (void)kind, (void)isa, (void)s8, (void)H; /* no packed form without AVX-512 */
  return false;
#endif
}

/** The rational above on one value (the scalar form's). */
float qk_rnn_tanh(float x);

void qk_rnn_run_scalar(const qk_rnn *r, const float *gx, int ldg, int N, float *h, float *c,
                       float *y, int ldy, const qk_rnn_io *io);
#ifdef QK_HAVE_AVX2
/** Lanes per gate of the AVX2 form (a multiple of this). */
#define QK_RNN_AVX2_LANES 8
void qk_rnn_run_f32_p8_avx2(const qk_rnn *r, const float *gx, int ldg, int N, float *h, float *c,
                            float *y, int ldy, const qk_rnn_io *io);
void qk_rnn_run_s8_p8_avx2(const qk_rnn *r, const float *gx, int ldg, int N, float *h, float *c,
                           float *y, int ldy, const qk_rnn_io *io);
#endif
#ifdef QK_HAVE_AVX512VNNI
#define QK_RNN_AVX512_LANES 16
void qk_rnn_run_f32_p16_avx512(const qk_rnn *r, const float *gx, int ldg, int N, float *h, float *c,
                               float *y, int ldy, const qk_rnn_io *io);
void qk_rnn_run_s8_p16_avx512vnni(const qk_rnn *r, const float *gx, int ldg, int N, float *h,
                                  float *c, float *y, int ldy, const qk_rnn_io *io);
#endif

#endif
