/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Quantone float reference engine: streaming inference of a loaded model
  (model_file.h) on the kernels of kernels/qk.h.

  - qm_model_create() builds the network (allocates, packs weights); it may
    run on any non-audio thread. The description can be freed afterwards.
  - qm_model_process() accepts any block length (including 1, and lengths
    that change between calls). Long blocks are cut into internal batches
    of `chunk` frames; WaveNet layers are GEMMs over a whole batch, LSTM /
    GRU input projections too, and only their recurrences run per sample.
    It never allocates, locks or does I/O. in and out may be the same buffer.
  - qm_model_reset() returns to the start state and prewarms the way
    NeuralAmpModelerCore does (zeros through the model for
    desc->prewarm_samples), so histories start at the zero-input steady
    state. It does not allocate either, but it costs prewarm_samples of
    processing (3 ms for a standard A1, more for an LSTM's half second):
    too much for one audio block.
  - So qm_model_create() and qm_model_quantize() prewarm once and keep the
    resulting state (qm_model_save_prewarm), and qm_model_restore_prewarm()
    returns to it by copying: what a real-time host calls after NaN input
    or a model that blew up.

  For analysis every layer output can be observed through a tap callback,
  and every weight matrix is a qm_linear (linear.h) a quantizer can replace.
*/
#ifndef QUANTONE_MODELS_ENGINE_H
#define QUANTONE_MODELS_ENGINE_H

#include "linear.h"
#include "model_file.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qm_model qm_model;

/** Frames per internal batch by default. Every per-batch buffer (and the
    room of each WaveNet history) scales with it: 64 frames keep a standard
    A1's at a quarter of what 256 took, at no measurable cost in speed
    (quantone-bench models: blocks of 256 as fast either way). */
#define QM_DEFAULT_CHUNK 64
#define QM_MAX_CHUNK 4096

typedef struct {
  int chunk; /**< frames per internal batch, 1..QM_MAX_CHUNK (0 = QM_DEFAULT_CHUNK) */
  /** Use the kernels' vectorized qk_tanh / qk_sigmoid (|err| <= 2e-6)
      instead of libm tanhf / expf. Default true: the reference renders
      (made with exact tanh) are met either way with ESR far below 1e-8
      (see tests/models/test_reference.c), so the fast path costs nothing
      audible. */
  bool fast_activations;
  int isa; /**< qk_isa to pack for; -1 = qk_active_isa() */
} qm_options;

/** Defaults: chunk QM_DEFAULT_CHUNK, qk_* activations, active ISA. */
void qm_options_default(qm_options *o);

/** Build a model (and reset it). NULL on failure with "PATH: problem" in err. */
qm_model *qm_model_create(const qm_desc *d, const qm_options *opt, char *err, size_t errlen);
void qm_model_free(qm_model *m);

/** Start state plus NAM-style prewarm. Real-time safe but not cheap. */
void qm_model_reset(qm_model *m);
/** Start state without prewarm (for tests of the raw start). */
void qm_model_reset_cold(qm_model *m);

/**
   qm_model_reset(), then keep a copy of the prewarmed streaming state for
   qm_model_restore_prewarm(). Allocates (prepare time only); false when out
   of memory. qm_model_create() and qm_model_quantize() call it.
*/
bool qm_model_save_prewarm(qm_model *m);
/**
   Back to the state qm_model_save_prewarm() kept, by copying it (and
   requantizing the int8 histories of int8 WaveNet layers): no allocation,
   no lock, about the cost of copying the histories once. Bit for bit the
   state qm_model_reset() computes. If the weights or activation modes
   changed since it was saved (or nothing was saved), it falls back to
   qm_model_reset() itself, which is correct but slow.
*/
void qm_model_restore_prewarm(qm_model *m);
/** Whether the last prewarm (qm_model_reset / save_prewarm) left every
    output sample and state value finite. A model that is not has weights
    out of range: qm_model_create() refuses it. */
bool qm_model_prewarm_finite(const qm_model *m);

/** out[0..n) = model(in[0..n)); any n >= 0. Real-time safe. */
void qm_model_process(qm_model *m, const float *in, float *out, int n);

double qm_model_sample_rate(const qm_model *m);
int qm_model_prewarm_samples(const qm_model *m);
qm_arch qm_model_arch(const qm_model *m);
/** Bytes of weights at their current storage precision (sum over linears). */
size_t qm_model_weight_bytes(const qm_model *m);

/** Where a model's memory goes, in bytes (heap blocks it owns). */
typedef struct {
  size_t weights_float;   /**< float copies of the file's weights and biases (qm_linear.w) */
  size_t weights_packed;  /**< what the kernels multiply (tiles, scales, folded sums) */
  size_t weights_derived; /**< forms derived from them: fused int8 layers, per-tap slices */
  size_t act_scratch;     /**< the linears' int8 activation scratch */
  size_t history_float;   /**< streaming input histories (WaveNet layers, FIR) */
  size_t history_int8;    /**< int8 copies of WaveNet histories (codes, scales, sums) */
  size_t scratch;         /**< per-batch buffers (gather, z, head, LSTM gates, in/out) */
  size_t prewarm;         /**< the saved prewarmed state */
  size_t quantizer;       /**< the quantizer's codes and scales, kept for the GUI */
  size_t other;           /**< structs, names, recurrent state */
  size_t total;           /**< the sum */
} qm_memory;

/** Fill *out for m. Not real-time (walks the model). */
void qm_model_memory(const qm_model *m, qm_memory *out);

/**
   WaveNet layers (condition_dsp's included) that run as one int8 WaveNet
   layer (qk_wavenet_layer_s8), into *int8, and how many of those the
   weights' ISA runs fused, into *fused; both 0 for other architectures.
   For tests and benchmarks: a fast path that silently stops being taken
   shows here.
*/
void qm_model_int8_layers(const qm_model *m, int *int8, int *fused);

/* ---- Per-layer observation ----------------------------------------------- */

/**
   Called from qm_model_process() (never during prewarm) once per internal
   batch for every observed layer: y holds `frames` frames of `channels`
   values, frame f at y + f*ld. It runs on the audio thread: copy, don't
   block.
*/
typedef void (*qm_tap_fn)(void *user, int layer, const float *y, int ld, int channels, int frames);
void qm_model_set_tap(qm_model *m, qm_tap_fn fn, void *user);

/** Observed layers, in processing order: WaveNet "a0.l3" (residual output
    of layer 3 of array 0) and "a0.head" (the array's head output);
    sequential "0.lstm", "1.dense", ... (each layer's output). */
int qm_model_layer_count(const qm_model *m);
const char *qm_model_layer_name(const qm_model *m, int layer);
int qm_model_layer_channels(const qm_model *m, int layer);

/* ---- Weight matrices, for quantizers --------------------------------------- */

/** Every qm_linear of the model, in a fixed order (names are stable). */
int qm_model_linear_count(const qm_model *m);
/** Multiply-adds per output sample: every linear's in x out (each runs
    once per frame), the measure quantone-bench's GMAC/s divides by. */
double qm_model_macs_per_sample(const qm_model *m);
qm_linear *qm_model_linear(qm_model *m, int i);

#ifdef __cplusplus
}
#endif

#endif
