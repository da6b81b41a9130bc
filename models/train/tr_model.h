/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  What the training loop needs from a trainable network, whatever its
  architecture. Parameters live in one flat float vector in exactly the
  order of the .nam "weights" array (without WaveNet's trailing
  head_scale, which NAM keeps fixed), so writing a file is a copy and so
  is loading one.
*/
#ifndef QUANTONE_TR_MODEL_H
#define QUANTONE_TR_MODEL_H

#include <stddef.h>

#include "tr_loss.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { TR_WAVENET = 0, TR_LSTM = 1 } tr_arch;

/**
   A weight matrix as the engine multiplies it (rows = outputs, cols =
   inputs, models/model_file.h orientation), located in the flat vector:
     taps > 1 (dilated conv, file order out, in, tap): engine column
       c = tap * in + i  <->  p[off + (r * in + i) * taps + tap], in = cols / taps
     taps == 1: element (r, c) <-> p[off + r * stride + c]
   The quantizer (QAT, post-training evaluation) works on these matrices.
*/
typedef struct {
  size_t off;
  int rows, cols, taps, stride;
  const char *name;
} tr_tensor;

/** Copy tensor t out of p into row-major m[rows][cols] (engine orientation) and back. */
void tr_tensor_get(const tr_tensor *t, const float *p, float *m);
void tr_tensor_set(const tr_tensor *t, float *p, const float *m);

typedef struct tr_model tr_model;

struct tr_model {
  tr_arch arch;
  size_t n_params;
  float *p; /**< trainable parameters, .nam order */
  int n_tensors;
  tr_tensor *tensors; /**< the weight matrices (biases and states excluded) */
  /** Input samples a segment needs before its first scored output:
      WaveNet: receptive field - 1; LSTM: burn-in. */
  int context;
  int threads;

  /**
     Loss and gradient of one batch with the parameters pe (the effective
     ones: p, or p fake-quantized). x: B segments of context + L inputs,
     t: B segments of L targets. g (n_params) is overwritten.
  */
  double (*batch_grad)(tr_model *m, const float *pe, int B, int L, const float *x, const float *t,
                       tr_loss *loss, float *g);
  /** Run a whole signal with parameters pe the way the engine does after
      reset (NAM prewarm), y[n]. */
  void (*predict)(tr_model *m, const float *pe, const float *x, size_t n, float *y);
  void (*destroy)(tr_model *m);
  void *impl;
};

void tr_model_free(tr_model *m);

#ifdef __cplusplus
}
#endif

#endif
