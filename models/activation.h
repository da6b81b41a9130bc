/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Element-wise activations for the engine, in place, over contiguous floats.

  `fast` selects the kernels' vectorized qk_tanh / qk_sigmoid (|err| <= 2e-6
  vs libm); otherwise libm tanhf and 1/(1+expf(-x)), the functions
  NeuralAmpModelerCore uses with its fast tanh off (how the reference
  renders were made).
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

#endif
