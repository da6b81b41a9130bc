/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Variants: one model file at one precision and scheme, and what that
  precision costs. This is the engine interface the plugin, the tools and
  the GUI data build on.

  A variant is a qm_model (engine.h) whose qm_linears hold quantized
  weights (models/quantize.h) and, optionally, int8 activation paths. It is
  built off the audio thread (it allocates, quantizes, packs, and for
  static activations runs a calibration pass); once built it processes audio
  exactly like the float model: any block size, no allocation, no locks.
*/
#ifndef QUANTONE_MODELS_VARIANT_H
#define QUANTONE_MODELS_VARIANT_H

#include "calibrate.h"
#include "engine.h"
#include "quantize.h"
#include "rounding.h"
#include "setting.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A variant is built from a qm_setting (setting.h): the one setting type
    of the engine, the plugin and the tools. */

/**
   Quantize a model built by qm_model_create() in place to `spec` (every
   qm_linear from its float weights, so this can be called again with
   another spec). For QM_ACTQ_STATIC, calibrate on `calib` (n_calib samples
   at the model's rate; the float model is run over it); the same audio
   gives the input statistics of post-training rounding (spec->rounding,
   spec->bias_correction: rounding.h; then also the guard below, and a
   failure may leave the model at FP32 or nearest rounding rather than at
   its previous setting, still usable). Allocates:
   prepare time only. Resets the model. False with a message on failure,
   leaving the model usable at its previous setting.
*/
bool qm_model_quantize(qm_model *m, const qm_setting *spec, const float *calib, int n_calib,
                       char *err, size_t errlen);

/**
   Progress of qm_model_quantize's slow part (post-training rounding: the
   reference and nearest renders, the input statistics, each layer's
   rounding, the guard's check), for a player who waits for it: stage is a
   short phrase ("input statistics", "rounding layer 12 of 41"), fraction
   in [0, 1) the share of the work done before it. Called on the thread
   that quantizes, a few dozen times per preparation; the quantization
   itself goes on when it returns. NULL (the default) for none.
*/
typedef void (*qm_progress_fn)(void *user, const char *stage, double fraction);
void qm_model_set_progress(qm_model *m, qm_progress_fn fn, void *user);

/**
   What post-training rounding (spec->rounding / bias_correction) recovered
   at linear `linear`: its output SQNR on the calibration inputs,
   10 log10(sum w^T H w / sum e^T H e) (rounding.h), with nearest rounding
   and with the rounding the variant used (equal for nearest with bias
   correction only: the correction moves the mean, not this). False where
   nothing was measured (no post-training rounding, a float linear, a
   linear with a single input).
*/
bool qm_model_linear_rounding_sqnr(const qm_model *m, int linear, double *nearest_db,
                                   double *rounded_db);

/**
   The end-to-end guard of post-training rounding: qm_model_quantize
   renders the calibration audio through the float model, the nearest
   variant and the asked one, and installs the asked one only if its ESR
   there is not higher (else nearest rounding, without bias correction).
   Gives both ESRs (dB) and whether the asked rounding was kept; false
   without post-training rounding. With a fallback, the per-layer figures
   (qm_model_linear_rounding_sqnr) stay those of the rounding that was
   tried.
*/
bool qm_model_rounding_guard(const qm_model *m, double *calib_esr_nearest_db, double *calib_esr_db,
                             bool *kept);

/** Whether the installed variant plays equalized weights (setting field
    equalize, models/equalize.h): asked, the model has channels to
    rescale, and the guard above (when it ran) kept it; it keeps the asked
    setting with or without equalization, whichever has the lower
    calibration ESR, and neither when plain nearest rounding is better. */
bool qm_model_equalized(const qm_model *m);

/** Convenience: qm_model_create + qm_model_quantize. */
qm_model *qm_variant_create(const qm_desc *d, const qm_setting *spec, const qm_options *opt,
                            const float *calib, int n_calib, char *err, size_t errlen);

/**
   Copy the streaming state (histories, recurrent state) of src into dst,
   two models built from the same description at any precisions. This is
   how a new variant starts from where the running one is, so a switch does
   not click. Real-time safe (copies, plus requantizing the int8 histories of
   int8 WaveNet layers; no allocation).
*/
bool qm_model_copy_state(qm_model *dst, const qm_model *src);

/** Saturated int8 activations since the last call (then zeroed). RT safe. */
size_t qm_model_take_clipped(qm_model *m);

/**
   The weights a qm_linear actually multiplies with, as floats (the
   dequantized values; equal to the file's for FP32), and the distinct levels
   of its quantizer for one row (scale * (v - zp) for each code value v), for
   the GUI's histogram. Writes up to max values; returns the count.
   Not real-time (may be called from the worker).
*/
/** The quantized tensor of linear `linear` (its codes, scales, zero points
    or codebook), or NULL for a float linear or a float model. Valid until
    the model is quantized again or freed. */
const qz_tensor *qm_model_linear_tensor(const qm_model *m, int linear);

int qm_model_linear_used_weights(const qm_model *m, int linear, float *w, int max);
int qm_model_linear_levels(const qm_model *m, int linear, int row, float *levels, int max);

/** Offline analysis of a variant against the float model on one signal. */
typedef struct {
  double esr;            /**< sum((y_q - y_ref)^2) / sum(y_ref^2) */
  double esr_db;         /**< 10 log10(esr) */
  int n_layers;          /**< observed layers (qm_model_layer_count) */
  double *layer_sqnr_db; /**< per layer: 10 log10(sum ref^2 / sum (q - ref)^2); owned */
  size_t clipped;        /**< saturated activations over the signal */
  size_t weight_bytes;   /**< qm_model_weight_bytes of the variant */
  size_t weight_bytes_fp32;
  double prepare_ms; /**< time to quantize and pack */
} qm_analysis;

bool qm_analyze(const qm_desc *d, const qm_setting *spec, const float *in, int n, int block,
                qm_analysis *out, char *err, size_t errlen);
/** The same for a variant q already built from d (qm_model_quantize):
    nothing is quantized again (prepare_ms 0). q is reset before and
    after, its taps left off. */
bool qm_analyze_model(const qm_desc *d, qm_model *q, const float *in, int n, int block,
                      qm_analysis *out, char *err, size_t errlen);
void qm_analysis_free(qm_analysis *a);

#ifdef __cplusplus
}
#endif

#endif
