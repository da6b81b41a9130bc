/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Element-wise activations for the engine, in place, over contiguous floats.

  `fast` selects the kernels' vectorized qk_tanh / qk_sigmoid (|err| <= 2e-6
  vs libm) for tanh, sigmoid and SiLU; otherwise tanh to float precision
  (qk_tanh_exact: vectorized, within 1 ulp of the true value and 2 ulp of
  libm's tanhf, which NeuralAmpModelerCore uses with its fast tanh off, how
  the reference renders were made) and 1/(1+expf(-x)). Every other activation is
  NeuralAmpModelerCore's formula (NAM/activations.h) in the same float
  operations, so its results are the same bits either way.
*/
#ifndef QUANTONE_MODELS_ACTIVATION_H
#define QUANTONE_MODELS_ACTIVATION_H

#include "model_file.h"

#include <stdbool.h>
#include <stddef.h>

void qm_activate(qm_nonlinearity a, bool fast, float *x, size_t n);
void qm_tanh_v(bool fast, float *y, const float *x, size_t n);
void qm_sigmoid_v(bool fast, float *y, const float *x, size_t n);

/** NeuralAmpModelerCore's "Fasttanh" rational approximation. */
float qm_fasttanh(float x);

/** The activation NeuralAmpModelerCore makes of a bare name: LeakyReLU and
    PReLU with slope 0.01, LeakyHardtanh on [-1, 1] with slopes 0.01. */
qm_activation qm_activation_default(qm_nonlinearity type);

/**
   Apply a in place to `frames` frames of `width` channels each, stored
   contiguously frame after frame (channel c of frame f at f*width + c):
   PReLU's per-channel slopes follow the channel.
*/
void qm_activation_apply(const qm_activation *a, bool fast, float *x, size_t frames, int width);

#endif
