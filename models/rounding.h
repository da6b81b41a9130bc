/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Post-training rounding: choosing a quantized tensor's codes (and a bias
  offset) against the inputs its layer really sees, instead of rounding
  every weight to its nearest level on its own.

  Everything takes the layer's input statistics from calibration audio
  (calibrate.h, qz_gram): H = E[x x^T] (K x K) and mu = E[x] (K). For a
  weight error E = W_hat - W (rows x K), the layer output error per input
  column, averaged over the calibration set, is

      objective(E) = E[|E x|^2] = sum_m e_m^T H e_m      (e_m: row m of E)

  and the mean output error is E mu. The grid (scales, zero points,
  codebook) is the one qz_quantize chose; only the codes change, through
  qz_encode / qz_decode, so every mapping (linear, pow2, k-means levels),
  symmetry and granularity works the same way.

  Methods, what each solves and costs
  -----------------------------------
  nearest   every weight to its nearest level (qz_quantize): minimises
            |e_m|^2, i.e. the objective only when inputs are uncorrelated
            and of equal power. Free.
  gptq      optimal-brain-quantization order (GPTQ): quantize columns
            k = 0..K-1 in turn and move each column's rounding error onto
            the columns not yet quantized, weighted so the layer output
            error stays smallest given the inputs' correlations. One
            Cholesky factor of the damped H^-1 per layer (O(K^3), K^2
            doubles), then O(rows K^2) for the compensation. The greedy
            order is not optimal in general, so each row keeps whichever of
            gptq and nearest codes has the lower objective: never worse
            than nearest on the calibration statistics.
  scales    (with gptq) before it, qz_search_scales: each row's scales
            (per tensor: all of them) times r in 1, 0.95, .., 0.5, nearest
            codes, keep the r of the lowest objective (clipping the largest
            weights for a finer grid, judged on the layer output instead of
            the weights); after it, qz_refit_scales: per channel, the least
            squares scale for the chosen codes under H. Both can only lower
            the objective. O(11 rows K^2) and O(rows K^2).
  gptq f16  FP16 weights (precision 16, models/variant.c): gptq's
            column order and compensation onto the IEEE half grid (each
            weight the half nearest its updated value) instead of a
            quantizer's levels, keeping per row whichever of gptq and
            round-to-nearest-even has the lower objective. The weights stay
            IEEE halves; only which neighbouring half each one takes
            changes. Same cost as gptq.
  bias      bias correction: delta = -E mu added to the layer's bias makes
            the mean output error over the calibration set exactly zero
            (up to float rounding). O(rows K), K doubles.
*/
#ifndef QUANTONE_MODELS_ROUNDING_H
#define QUANTONE_MODELS_ROUNDING_H

#include <stdbool.h>
#include <stddef.h>

#include "quantize.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Default damping of gptq: lambda = QZ_GPTQ_DAMP * mean(diag H) is added
    to H's diagonal before inverting (H is often near-singular: inputs that
    move together, channels that never fire). 0.01 measured best of 0.001,
    0.01, 0.1 (4-bit linear gptq + bc on input.wav: wavenet_a1_standard
    -16.45 / -19.56 / -15.49 dB, A2 -25.77 / -26.33 / -22.98 dB,
    overdrive_standard -28.41 / -33.07 / -30.75 dB). */
#define QZ_GPTQ_DAMP 0.01

/**
   The layer objective sum_m e_m^T H e_m of t against the float weights w
   (rows x cols) for the cols x cols Gram matrix H. If per_row is not NULL
   it receives each row's term.
*/
double qz_layer_error(const qz_tensor *t, const float *w, const double *H, double *per_row);

/** The float output power sum_m w_m^T H w_m (for an SQNR against
    qz_layer_error). */
double qz_layer_power(const float *w, int rows, int cols, const double *H);

/**
   Re-choose t's codes by gptq (see the top of this file) for the float
   weights w and Gram matrix H, damping `damp` (<= 0: QZ_GPTQ_DAMP).
   t must have been made from w by qz_quantize. Allocates. False with a
   message only when out of memory or H cannot be factored even with a
   large damping (then t is unchanged).
*/
bool qz_round_gptq(qz_tensor *t, const float *w, const double *H, double damp, char *err,
                   size_t errlen);

/**
   FP16 weights by gptq (see the top of this file): w (rows x cols) onto
   the IEEE half grid, into w_half as floats each exactly a half (packing
   them as QK_F16 is exact). Damping as qz_round_gptq. Allocates. False
   with a message only when out of memory or H cannot be factored; w_half
   then holds round-to-nearest-even halves of w.
*/
bool qz_round_gptq_f16(const float *w, int rows, int cols, const double *H, double damp,
                       float *w_half, char *err, size_t errlen);

/**
   The weights a linear fed the inputs x_q of a partly rounded model
   should have to reproduce, in the least-squares sense, what its float
   weights w (rows x cols) give on the float model's inputs x_f: v =
   w A (H + lambda I)^-1, with A = E[x_f x_q^T] and H = E[x_q x_q^T]
   (cols x cols each), lambda = damp times H's mean diagonal (grown
   tenfold while H + lambda I does not factor). Rounding v onto a grid
   against H then also compensates the error arriving from upstream
   (sequential FP16 rounding, variant.c). False when out of memory or H
   cannot be factored; v is then unspecified.
*/
bool qz_cross_target(const float *w, int rows, int cols, const double *H, const double *A,
                     double damp, float *v);

/** The IEEE halves nearest w[0..n) (round to nearest even), as floats. */
void qz_nearest_f16(const float *w, size_t n, float *w_half);

/** qz_layer_error for weights given as values: w_hat against w, both
    rows x cols. */
double qz_layer_error_values(const float *w_hat, const float *w, int rows, int cols,
                             const double *H);

/** qz_bias_correction for weights given as values: delta[m] =
    -sum_k (w_hat[m][k] - w[m][k]) mu[k]. */
void qz_bias_correction_values(const float *w_hat, const float *w, int rows, int cols,
                               const double *mu, float *delta);

/** The scale search described at the top (before gptq). t made from w
    by qz_quantize; its codes are left at nearest rounding for the new
    scales. False only when out of memory (t unchanged). */
bool qz_search_scales(qz_tensor *t, const float *w, const double *H);

/** The least-squares refit of per-channel scales for t's codes (after
    gptq; other granularities are left as they are). False only when out
    of memory. */
bool qz_refit_scales(qz_tensor *t, const float *w, const double *H);

/** Bias correction: delta[m] = -sum_k (w_hat[m][k] - w[m][k]) mu[k], the
    offset that cancels t's mean output error on inputs of mean mu. */
void qz_bias_correction(const qz_tensor *t, const float *w, const double *mu, float *delta);

#ifdef __cplusplus
}
#endif

#endif
