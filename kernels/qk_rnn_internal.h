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
*/
#ifndef QUANTONE_KERNELS_QK_RNN_INTERNAL_H
#define QUANTONE_KERNELS_QK_RNN_INTERNAL_H

#include "qk_internal.h"

/** Largest H (QM_MAX_CHANNELS of the engine); sizes the step's stack buffers. */
#define QK_RNN_MAX_UNITS 1024

typedef void (*qk_rnn_run_fn)(const qk_rnn *r, const float *gx, int ldg, int N, float *h, float *c,
                              float *y, int ldy);

struct qk_rnn {
  qk_rnn_kind kind;
  qk_isa isa;
  int H, G, P;
  bool s8;
  float *w;
  float *bh;
  float *ws;
  int8_t *q;
  int32_t *fold;
  size_t bytes;
  qk_rnn_run_fn run;
};

void qk_rnn_run_scalar(const qk_rnn *r, const float *gx, int ldg, int N, float *h, float *c,
                       float *y, int ldy);
#ifdef QK_HAVE_AVX2
/** Lanes per gate of the AVX2 form (a multiple of this). */
#define QK_RNN_AVX2_LANES 8
void qk_rnn_run_f32_p8_avx2(const qk_rnn *r, const float *gx, int ldg, int N, float *h, float *c,
                            float *y, int ldy);
void qk_rnn_run_s8_p8_avx2(const qk_rnn *r, const float *gx, int ldg, int N, float *h, float *c,
                           float *y, int ldy);
#endif
#ifdef QK_HAVE_AVX512VNNI
#define QK_RNN_AVX512_LANES 16
void qk_rnn_run_f32_p16_avx512(const qk_rnn *r, const float *gx, int ldg, int N, float *h, float *c,
                               float *y, int ldy);
void qk_rnn_run_s8_p16_avx512vnni(const qk_rnn *r, const float *gx, int ldg, int N, float *h,
                                  float *c, float *y, int ldy);
#endif

#endif
