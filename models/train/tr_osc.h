/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Weight oscillation in quantization-aware training: measuring it and
  damping it.

  With a fake-quantized forward, a latent weight that sits near the
  boundary between two codes is pushed across it by the gradient of the
  code it lands in, then back by the other's: its code flips from step to
  step while the latent weight barely moves, and every flip changes the
  played model by a whole quantization step (Nagel et al., "Overcoming
  Oscillations in Quantization-Aware Training", ICML 2022).

  Measuring: the integer codes of every weight matrix (tr_qat_codes) are
  compared from epoch to epoch (tr_osc_epoch): how many changed since the
  previous epoch, and how many of those went back to the code they had
  two epochs ago (a flip back and forth).

  Damping (the paper's oscillation dampening): a regulariser

      R = lambda * sum_i (w_i - s_r c_i)^2

  pulls each latent weight towards the centre s_r c_i of the bin it is in
  (c_i its code, s_r its row's step), the centre taken as a constant
  (the code does not move within a bin), so dR/dw_i = 2 lambda (w_i - s_r c_i).
  Weights beyond the grid's ends (|w / s| >= Qp, LSQ's clipped weights)
  are left alone, as the paper clips w before the distance. Weight units
  rather than bin units: every weight moves towards its centre at a rate
  proportional to its distance, whatever its layer's step.
*/
#ifndef QUANTONE_TR_OSC_H
#define QUANTONE_TR_OSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "quantize.h"
#include "tr_lsq.h"
#include "tr_model.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Weights in m's weight matrices: the length of a code array. */
size_t tr_qat_weight_count(const tr_model *m);

/** Rows of m's weight matrices: the length of a step array (tr_lsq's layout). */
size_t tr_qat_row_count(const tr_model *m);

/**
   The codes of every weight matrix of p, concatenated in tensor order,
   each matrix row-major in engine orientation (tr_tensor_get's layout),
   and each row's step: with lsq NULL the engine quantizer's linear
   symmetric per-channel codes and scales under s (straight-through QAT),
   else LSQ's learned steps. False with a message for another scheme.
*/
bool tr_qat_codes(const tr_model *m, const qz_scheme *s, const tr_lsq *lsq, const float *p,
                  int8_t *codes, float *steps, char *err, size_t errlen);

/** pe's weight matrices set to steps x codes (tr_qat_codes' layout): the
    fake-quantized weights of those codes on those steps. Other entries of
    pe are left as they are. */
void tr_qat_dequant_codes(const tr_model *m, const int8_t *codes, const float *steps, float *pe);

/** Rows whose largest code magnitude is above 0 and below qp. The engine
    re-encodes a written row on its max-abs scale, max|w| / qp, which is
    the row's step only when some code reaches +-qp: such a row (LSQ's
    step grown past max|w| / qp) plays on another grid than it trained on. */
size_t tr_qat_rows_below_top(const tr_model *m, const int8_t *codes, int qp);

/** Codes of the last two epochs, to count changes and flips back. */
typedef struct {
  size_t n;
  int8_t *prev, *prev2;
  int seen; /**< epochs recorded so far (0, 1 or 2 = both arrays valid) */
} tr_osc;

bool tr_osc_init(tr_osc *o, size_t n_weights);
void tr_osc_free(tr_osc *o);

/**
   Record this epoch's codes. *changed: codes different from the previous
   epoch's; *back: of those, the ones equal to the code two epochs ago.
   Both 0 on the first call (and *back on the second).
*/
void tr_osc_epoch(tr_osc *o, const int8_t *codes, size_t *changed, size_t *back);

/**
   Oscillation dampening (see above): adds dR/dp to g for every weight of
   m's matrices inside the grid and returns R, with codes and steps as
   tr_qat_codes gives them for p and qp the largest code.
*/
double tr_dampen(const tr_model *m, const float *p, const int8_t *codes, const float *steps, int qp,
                 double lambda, float *g);

/** The dampening weight of epoch ep (0-based): full weight w ramped in
    linearly over the first `ramp` epochs (ramp <= 1: w from the start), so
    the weights first settle into their bins under the task loss. */
double tr_dampen_weight(double w, int ramp, int ep);

#ifdef __cplusplus
}
#endif

#endif
