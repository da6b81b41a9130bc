/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Trainable NAM WaveNet of the A1 and A2 forms (not gated, condition = the
  raw input): A1 is Tanh, one kernel size, 1x1 heads; A2 adds per-layer
  kernel sizes, a bottleneck, LeakyReLU and a layer-array head conv with
  bias. Forward and hand-written backward on qk_gemm_f32.
*/
#ifndef QUANTONE_TR_WAVENET_H
#define QUANTONE_TR_WAVENET_H

#include <stdbool.h>

#include "tr_model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TR_WN_MAX_ARRAYS 4
#define TR_WN_MAX_LAYERS 32
/** Longest dilated-conv or head kernel (A2 uses 6, 15 and 16). */
#define TR_WN_MAX_KERNEL 16
/** Most sizes a slimmable layer array lists. */
#define TR_WN_MAX_SLIM 16

typedef enum {
  TR_WN_TANH = 0,   /**< A1 */
  TR_WN_LEAKY_RELU, /**< A2: x > 0 ? x : negative_slope * x, negative_slope >= 0 */
} tr_wn_activation;

/** One layer array. The fields after dilations are the A2 ones; zero
    keeps the A1 meaning (so A1 configs are written as before). */
typedef struct {
  int input_size, channels, head_size, kernel_size, n_layers;
  bool head_bias;
  int dilations[TR_WN_MAX_LAYERS];
  int bottleneck;                     /**< conv outputs per layer; 0: channels */
  int kernel_sizes[TR_WN_MAX_LAYERS]; /**< per layer; 0: kernel_size */
  tr_wn_activation activation;
  float negative_slope;
  int head_kernel; /**< taps of the array's head conv; 0 or 1: a 1x1 head (one array only if > 1) */
  /** Channel counts the written file lets NAM's Slim control choose
      ("slimmable": slice_channels_uniform, ascending, the last = channels);
      0: not slimmable. Only the writer reads it: training runs the full
      width. */
  int n_slim_allowed;
  int slim_allowed[TR_WN_MAX_SLIM];
} tr_wn_array_cfg;

typedef struct {
  int n_arrays;
  tr_wn_array_cfg arrays[TR_WN_MAX_ARRAYS];
  float head_scale;
} tr_wn_config;

/**
   The NAM presets: nano (4/2 channels), feather (8/4), lite (12/6),
   standard (16/8); two arrays, dilations 1..512 each, head sizes
   channels/2 then 1 (with bias), head_scale 0.02. And NAM's A2 sizes,
   a2-nano (3 channels) and a2-standard (8): one array of 23 layers with
   kernel sizes 6 and 15, LeakyReLU(0.01), bottleneck = channels, a
   16-tap head conv with bias, head_scale 0.01. False if name unknown.
*/
bool tr_wavenet_preset(const char *name, tr_wn_config *cfg);

/** Parameters in a model of this config (excluding head_scale). */
size_t tr_wavenet_param_count(const tr_wn_config *cfg);

/** Receptive field in samples (1 + sum over layers of (K-1) d + head taps - 1). */
int tr_wavenet_receptive_field(const tr_wn_config *cfg);

/** New model, weights drawn like PyTorch's Conv1d default (U(+-1/sqrt(fan_in))). */
tr_model *tr_wavenet_new(const tr_wn_config *cfg, unsigned long long seed, int threads);

const tr_wn_config *tr_wavenet_config(const tr_model *m);

/** Whether every array has the A1 form (written as a .nam 0.5 file); else A2 (0.7). */
bool tr_wavenet_is_a1(const tr_wn_config *cfg);

/** Kernel size of layer l of array A, its bottleneck, its head's taps (A2 fields resolved). */
int tr_wn_kernel(const tr_wn_array_cfg *A, int l);
int tr_wn_bottleneck(const tr_wn_array_cfg *A);
int tr_wn_head_kernel(const tr_wn_array_cfg *A);

#ifdef __cplusplus
}
#endif

#endif
