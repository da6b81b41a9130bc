/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Small dense helpers the backward passes need beside qk_gemm_f32:
  weight-gradient outer products and packing of (transposed) matrices.
  Activations are frame-major as in kernels/qk.h: frame n's channels are
  contiguous at X + n*ldx.
*/
#ifndef QUANTONE_TR_LINALG_H
#define QUANTONE_TR_LINALG_H

#include <stddef.h>

#include "qk.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
   dW[m][k] += sum_{n < N} G[n*ldg + m] * X[n*ldx + k]   (m < M, k < K),
   dW row-major with row stride ldw. This is the weight gradient of
   Y = W X for frame-major G = dL/dY and X; it would need two transposes to
   go through qk_gemm_f32, so it is a register-blocked loop of its own
   (AVX2+FMA when the CPU has it, checked once).
*/
void tr_outer_acc(float *dW, int ldw, int M, int K, const float *G, int ldg, const float *X,
                  int ldx, int N);

/** b[m] += sum_n G[n*ldg + m]. */
void tr_colsum_acc(float *b, int M, const float *G, int ldg, int N);

/**
   Pack a rows x cols matrix read with row stride ld (transposed if
   transpose: the packed matrix is cols x rows, element [c][r] = A[r*ld+c])
   as QK_F32 for the active ISA. Replaces *slot (freeing the old pack).
*/
void tr_pack(qk_packed **slot, const float *A, int rows, int cols, int ld, int transpose);

#ifdef __cplusplus
}
#endif

#endif
