/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Activation calibration for static int8 activations.

  An observer watches one activation tensor (e.g. a layer's input) while
  calibration audio runs through the float model, block by block, and then
  proposes the one static scale that qk_quantize_act_static() uses:

      q = clamp(rint(x / scale), -127, 127)

  Observers:
    QZ_OBS_MINMAX      scale = max|x| / 127: nothing clips, but one outlier
                       stretches the grid for everything else.
    QZ_OBS_PERCENTILE  scale = T / 127 with T the p-th percentile of |x|
                       (default 99.99 %): the rarest values clip.
    QZ_OBS_MSE         scale = T / 127 with T minimizing the expected
                       squared quantization error (rounding + clipping) over
                       the observed distribution of |x|.

  Streaming: qz_observer_update() takes any number of values, any number of
  times, and never allocates (the histogram is allocated at create time).
  Results do not depend on how the data was split into blocks.
  An observer is not thread-safe; use one per tensor per thread.
*/
#ifndef QUANTONE_MODELS_CALIBRATE_H
#define QUANTONE_MODELS_CALIBRATE_H

#include <stddef.h>
#include <stdint.h>

#include "setting.h" /* qz_observer_kind and its names */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  qz_observer_kind kind;
  double percentile; /**< QZ_OBS_PERCENTILE: in (0, 100]; 0 = default 99.99 */
  int bins;          /**< histogram bins, rounded up to a power of two; 0 = 2048 */
} qz_observer_config;

typedef struct qz_observer qz_observer;

/** NULL on bad configuration or out of memory. cfg NULL = min/max. */
qz_observer *qz_observer_create(const qz_observer_config *cfg);
void qz_observer_free(qz_observer *o);

/** Forget everything observed (no allocation). */
void qz_observer_reset(qz_observer *o);

/** Observe n values. Non-finite values are counted and otherwise ignored. */
void qz_observer_update(qz_observer *o, const float *x, size_t n);

/** Observe a block in the kernels' activation layout: N columns of K values,
    column n at x + n * ldx. */
void qz_observer_update_strided(qz_observer *o, const float *x, int ldx, int K, int N);

/**
   The static int8 scale (> 0). If nothing non-zero was observed the scale
   for a full-scale range of 1.0 (1/127) is returned; check
   qz_observer_absmax() == 0 to detect that case.
*/
float qz_observer_scale(const qz_observer *o);

/** Clip threshold T (scale = T / 127) the observer chose. */
float qz_observer_threshold(const qz_observer *o);

float qz_observer_min(const qz_observer *o); /**< 0 if nothing observed */
float qz_observer_max(const qz_observer *o); /**< 0 if nothing observed */
float qz_observer_absmax(const qz_observer *o);
uint64_t qz_observer_count(const qz_observer *o);     /**< finite values seen */
uint64_t qz_observer_nonfinite(const qz_observer *o); /**< NaN / Inf values skipped */

/* ---- Layer input statistics (post-training rounding, rounding.h) ---------------

   A qz_gram accumulates, over every column x (K values) a linear is given
   while calibration audio plays through the float model:

       S = sum x x^T (K x K),   s = sum x (K),   N = number of columns

   from which the rounding methods take the Gram matrix H = S / N (the
   layer output error of a weight error E is tr(E H E^T) per column on
   average) and the input mean mu = s / N (the mean output error of E is
   E mu). Sums over the upper triangle, in float over runs of 32 columns
   and then in double (relative error ~1e-6); cost per column K (K + 1) / 2
   multiply-adds, memory K^2 doubles and K^2 floats. Streaming like the
   observers: any split into blocks gives the same sums up to float
   rounding, no allocation after create. */
typedef struct qz_gram qz_gram;

qz_gram *qz_gram_create(int k); /**< NULL for k < 1 or out of memory */
void qz_gram_free(qz_gram *g);
int qz_gram_dim(const qz_gram *g);
uint64_t qz_gram_count(const qz_gram *g); /**< columns seen (N) */

/** Add N columns of K values, column n at x + n * ldx (the kernels'
    activation layout, as qz_observer_update_strided). Columns holding a
    non-finite value are skipped. */
void qz_gram_update_strided(qz_gram *g, const float *x, int ldx, int K, int N);

/** H = S / N as a full symmetric K x K row-major matrix, and mu = s / N
    (either may be NULL). All zero when nothing was seen. */
void qz_gram_get(const qz_gram *g, double *H, double *mu);

#ifdef __cplusplus
}
#endif

#endif
