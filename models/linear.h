/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  qm_linear: every weight matrix of every architecture goes through this one
  object, so a network can be rebuilt at another precision by swapping what
  is inside it, without touching the architecture code.

  Y[N frames][out] = W[out][in] * X[N frames][in] + bias, frame-major as in
  kernels/qk.h. Today the engine builds each qm_linear from float weights
  packed as QK_F32. A quantizer replaces W with a quantized qk_packed
  (qm_linear_set_packed) and may switch the activations to int8
  (qm_linear_set_activations); apply() then runs qk_gemm_s8.
*/
#ifndef QUANTONE_MODELS_LINEAR_H
#define QUANTONE_MODELS_LINEAR_H

#include "qk.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  QM_LINEAR_ACT_F32 = 0,    /**< float activations (reference, or weight-only) */
  QM_LINEAR_ACT_S8_DYNAMIC, /**< int8 with a scale per frame, computed at run time */
  QM_LINEAR_ACT_S8_STATIC   /**< int8 with one calibrated scale */
} qm_linear_act;

typedef struct qm_linear {
  /* What the engine reads per layer per block to pick a layer's path
     (shape, weights, activation mode, observer) first, in the struct's
     first 64 bytes: at a block of one frame its time is mostly these
     structs' cache lines, and spread over 216 bytes they took three or
     four lines per linear. */
  int in, out;    /**< K and M */
  qk_packed *W;   /**< what apply() multiplies with (owned) */
  unsigned W_gen; /**< bumped whenever W is replaced (caches of W key on it) */
  qm_linear_act act_mode;
  float *bias; /**< [out], or NULL: what apply() adds */
  /** Calibration hook (models/variant.c): when set, apply() first hands it
      the float input block it was given, so a static-activation scale can be
      observed per linear exactly where the int8 quantization would happen.
      NULL while audio plays; only set around an offline calibration pass. */
  void (*observe)(void *user, const struct qm_linear *L, const float *X, int ldx, int N);
  void *observe_user;

  char name[48]; /**< e.g. "a0.l3.conv", "lstm0.wh": stable across builds */
  float *w;      /**< float weights [out][in], row-major (the reference) */
  /** The description's arrays it was built from (w and bias of
      qm_linear_init): the exporter writes the weights that play in their
      place (models/nam_export.c). */
  const float *src_w, *src_b;
  float *bias_file; /**< the file's bias [out] (zeros if it had none) while `bias`
                         holds a corrected one (qm_linear_set_bias_offset), else NULL */
  bool bias_added;  /**< the file had no bias: `bias` exists only for the offset */
  int max_n;        /**< largest N apply() is called with */
  /** A linear whose output this one's is summed with before anything else
      happens to it, or NULL: a bias correction of this one (when it has
      no bias of its own) goes into that one's bias. An LSTM's recurrent
      matrix into its input matrix: both feed the gate sums. */
  struct qm_linear *bias_into;

  float act_scale; /**< static scale (QM_LINEAR_ACT_S8_STATIC) */
  qk_act_s8 act;   /**< int8 scratch for max_n frames (owned unless act_shared) */
  bool act_shared; /**< act's buffers belong to the model (qm_linear_share_act) */
  int act_pool;    /**< which of the model's shared buffers it may use (0 or 1): two
                        linears one kernel call uses at once need different ones */
  size_t clipped;  /**< saturated activations so far (static mode) */
} qm_linear;

/**
   Build from float weights w[out][in] and bias[out] (NULL for none): copies
   both and packs them as QK_F32 for `isa`. Allocates (prepare time only).
   Returns false with a message in err on failure.
*/
bool qm_linear_init(qm_linear *L, const char *name, int out, int in, const float *w,
                    const float *bias, qk_isa isa, int max_n, char *err, size_t errlen);

/** Free what the linear owns (not the struct itself). */
void qm_linear_release(qm_linear *L);

/**
   Y = W X + bias (flags: QK_ACCUMULATE adds to Y). N <= max_n. No
   allocation: the audio thread calls this.
*/
void qm_linear_apply(qm_linear *L, const float *X, int ldx, int N, float *Y, int ldy,
                     unsigned flags);

/**
   The same for a dilated convolution whose input column n is `taps`
   pieces of C floats at x + n*C + t*tap_stride (in = taps * C), read
   straight from a frame history. With int8 dynamic activations the
   columns are quantized in place (qk_quantize_act_dynamic_taps), never
   gathered; with float ones qk_gemm_f32_taps reads them in place where
   the ISA can and gathers the rest into `gather` (N * in floats), as the
   other modes do first. Either way the result is bit for bit that of gathering and
   calling qm_linear_apply().
*/
void qm_linear_apply_taps(qm_linear *L, const float *x, int C, int taps, ptrdiff_t tap_stride,
                          int N, float *gather, float *Y, int ldy, unsigned flags);

/**
   bias = the file's bias + delta[out] (post-training bias correction,
   models/rounding.h), or the file's bias again for delta NULL. A linear
   without a bias gets one while an offset is set. Allocates (prepare time
   only); false when out of memory (nothing changed).
*/
bool qm_linear_set_bias_offset(qm_linear *L, const float *delta);

/** bias = exactly the given values [out] (an equalized bias, equalize.h,
    with or without a correction), the file's kept as with an offset;
    NULL gives the file's bias back. Allocates; false when out of memory. */
bool qm_linear_set_bias(qm_linear *L, const float *bias);

/** Replace the packed weights (takes ownership; shape must match). */
bool qm_linear_set_packed(qm_linear *L, qk_packed *W);

/**
   Choose the activation path. Int8 modes need an integer weight format and
   allocate the int8 scratch (prepare time). group must equal the packed
   weights' group when they have zero points (0 = whole row).
*/
bool qm_linear_set_activations(qm_linear *L, qm_linear_act mode, float static_scale, int group);

/**
   Use the buffers of `pool` (codes, scales, sums, sized for at least
   max_n columns of this linear) as the int8 scratch instead of its own,
   which it frees. The scratch only lives within one apply() call, so the
   linears of one model, which run one after another on one thread, can
   share it. False (nothing changed) when the linear has no int8 mode.
*/
bool qm_linear_share_act(qm_linear *L, const qk_act_s8 *pool);

/** Bytes of weights as stored (codes, scales, zero points) plus float bias. */
size_t qm_linear_weight_bytes(const qm_linear *L);

#ifdef __cplusplus
}
#endif

#endif
