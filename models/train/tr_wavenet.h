/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Trainable NAM "A1" WaveNet (not gated, Tanh, kernel 3, condition = the
  raw input), forward and hand-written backward on qk_gemm_f32.
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

typedef struct {
  int input_size, channels, head_size, kernel_size, n_layers;
  bool head_bias;
  int dilations[TR_WN_MAX_LAYERS];
} tr_wn_array_cfg;

typedef struct {
  int n_arrays;
  tr_wn_array_cfg arrays[TR_WN_MAX_ARRAYS];
  float head_scale;
} tr_wn_config;

/**
   The NAM presets: nano (4/2 channels), feather (8/4), lite (12/6),
   standard (16/8); two arrays, dilations 1..512 each, head sizes
   channels/2 then 1 (with bias), head_scale 0.02. False if name unknown.
*/
bool tr_wavenet_preset(const char *name, tr_wn_config *cfg);

/** Parameters in a model of this config (excluding head_scale). */
size_t tr_wavenet_param_count(const tr_wn_config *cfg);

/** Receptive field in samples (1 + sum over layers of (K-1) d). */
int tr_wavenet_receptive_field(const tr_wn_config *cfg);

/** New model, weights drawn like PyTorch's Conv1d default (U(+-1/sqrt(fan_in))). */
tr_model *tr_wavenet_new(const tr_wn_config *cfg, unsigned long long seed, int threads);

const tr_wn_config *tr_wavenet_config(const tr_model *m);

#ifdef __cplusplus
}
#endif

#endif
