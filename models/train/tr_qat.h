/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Quantization-aware training support: fake quantization of a model's
  weight matrices with the engine's own quantizer (models/quantize.h), so
  the weights the network trains against are exactly those the engine will
  multiply with after loading the file and quantizing it the same way.
*/
#ifndef QUANTONE_TR_QAT_H
#define QUANTONE_TR_QAT_H

#include <stdbool.h>
#include <stddef.h>

#include "quantize.h"
#include "tr_model.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
   pe = p with every weight matrix of m replaced by qz_dequantize(qz_quantize(W))
   under scheme s (biases, states, head_scale stay float, as in the engine's
   weight-only path). Straight-through estimator: the caller applies the
   gradient taken at pe to p unchanged. Returns false with a message on error.
   *saturated (may be NULL) receives the count of weights the encoder clamped.
*/
bool tr_fake_quant(const tr_model *m, const qz_scheme *s, const float *p, float *pe,
                   size_t *saturated, char *err, size_t errlen);

/** Parse "4", "4:linear", "2:pow2:asym:group32" ... into a scheme (default linear sym channel). */
bool tr_scheme_parse(const char *spec, qz_scheme *s, char *err, size_t errlen);

/** "4-bit linear sym channel" */
void tr_scheme_name(const qz_scheme *s, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
