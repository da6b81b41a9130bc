/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Cross-layer equalization (issue 17): rescale the channels between
  linears so that their per-channel weight ranges even out before the
  weights are quantized, without changing the float function.

  A channel group is n channels that some linears write (their rows
  offset..offset+n-1, and those rows' biases) and other linears read (their
  columns tap*stride + offset + c, every tap), with only positively
  homogeneous functions in between, channel by channel: f(x / s) = f(x) / s
  for s > 0. Sums, the identity, ReLU, LeakyReLU and PReLU are (PReLU's
  slope belongs to the channel, which keeps its own s); tanh, sigmoid,
  gating (tanh(a) * sigmoid(b)), blending, FiLM, hardtanh, SiLU are not,
  and no group crosses them. Dividing channel c's writer rows and biases
  by s_c and multiplying its reader columns by s_c then gives the same
  outputs. The architecture says where such groups are (its registry op
  equalization_groups, arch_registry.h); an architecture without one has
  none and is left as it is.

  WaveNet (wavenet.c) has two kinds:
    residual stream x of a layer array (A1 and A2 alike): the array's
      rechannel and every layer1x1 write it (the stream is a sum of their
      outputs), every layer's dilated conv (all taps) and the next
      array's rechannel read it. Only linear sums sit between them, so
      the layers' activation does not matter; it couples all layers of
      the array into one group, not one pair per layer. FiLM on the
      conv's input or on layer1x1's output excludes the array.
    activation channels a of a layer (A2's LeakyReLU, ungated): the conv
      (rows and bias) and the mixin write its input z, layer1x1 and
      head1x1 read a: the conv -> layer1x1 pair inside the layer. Without
      head1x1 every layer adds a into the array's head accumulator, so
      all layers of the array share one s per channel, with the array's
      head conv as a reader and the previous array's head conv as a
      writer of the accumulator it starts from. A1's layers are gated
      (tanh * sigmoid): never.
  Which groups a model has: wavenet_a1_standard and overdrive_standard
  (A1 form) the residual stream of each of their 2 arrays; A2.nam the
  residual streams and the activation channels.

  The scale is the classic balance: with r_w(c) the largest |w| of
  channel c's writer rows and r_r(c) of its reader columns,
  s_c = sqrt(r_w(c) r_r(c)) / r_r(c) = sqrt(r_w(c) / r_r(c)), after which
  both are sqrt(r_w r_r): the range ratio r_w / r_r of every channel is 1,
  so no channel's weights sit far below the range of the matrix they are
  quantized with. The groups share linears (a conv reads the residual and
  writes a), so the balance runs QM_EQ_ROUNDS times over all groups.
  Two forms of s:
    exact (what variants use): each scaled weight and bias is rounded to
      float once more, so the float output moves by float rounding only
      (ESR about 1e-14; test `equalize` holds it to 1e-12);
    powers of two (pow2), s_c = 2^round(log2 s_c): every scaled weight,
      bias, product and sum is exact in float, in any summation order, and
      the float output is bit for bit unchanged (barring subnormals); the
      ratio is then only brought within [1/2, 2]. Trained NAM models have
      their channels within 2x already (worst ratio 1.4 on A2, 1.8 on
      wavenet_a1_standard, 3.2 on overdrive_standard), so powers of two
      rescale nothing on A1 and A2 and 7 channels of overdrive_standard:
      too coarse to matter.
  Measured (4-bit linear per channel, ESR on input.wav, README): it helps
  nearest rounding a lot (overdrive_standard -20.2 -> -30.3 dB,
  wavenet_a1_standard -8.0 -> -11.1) but not gptq + bias correction, whose
  calibration-audio error it lowers while the held-out one rises; so the
  plugin's Optimized does not include it (setting.h).

  Cost: O(weights) per round and a copy of the weights the groups touch
  while the variant lives (for the GUI's and the exporter's view of them).
*/
#ifndef QUANTONE_MODELS_EQUALIZE_H
#define QUANTONE_MODELS_EQUALIZE_H

#include <stdbool.h>
#include <stddef.h>

#include "engine.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QM_EQ_ROUNDS 4

/** Rows offset..offset+n-1 of linear `linear` (qm_model_linear index). */
typedef struct {
  int linear, offset;
} qm_eq_writer;

/** Columns tap*stride + offset + c, c < n, tap < taps, of linear `linear`. */
typedef struct {
  int linear, offset, stride, taps;
} qm_eq_reader;

typedef struct {
  int n; /**< channels */
  int n_writers, n_readers;
  qm_eq_writer *writers;
  qm_eq_reader *readers;
} qm_eq_group;

/** Equalized copies of a model's float weights: w[i] / bias[i] replace
    linear i's weights and bias (the file's bias, zeros where it had none);
    both NULL for a linear no group touches. */
typedef struct {
  int n_linears;
  float **w, **bias;
  int n_groups; /**< groups found and balanced */
  int n_scaled; /**< channel rescales (over all rounds) */
  bool pow2;    /**< scales rounded to powers of two (bit-exact) */
} qm_equalization;

/**
   Balance the model's channel groups, with scales rounded to powers of
   two (pow2: the float output bit for bit the file's) or exact ones
   (each weight then rounded once more: the float output within float
   rounding).
   Reads each linear's float weights L->w and the file's bias; the model
   is not changed. False only when out of memory (message in err, *eq
   empty).
*/
bool qm_equalize(const qm_model *m, bool pow2, qm_equalization *eq, char *err, size_t errlen);

void qm_equalization_free(qm_equalization *eq);

/** Linear i's float weights after eq (its own L->w where eq did not touch
    it, or eq is NULL). */
const float *qm_eq_weights(const qm_model *m, const qm_equalization *eq, int i);

/**
   The largest per-channel range ratio over the model's groups, the larger
   of r_w(c) / r_r(c) and its inverse, with eq's weights (NULL: the
   file's). Channels with a zero range (dead) are skipped; 1 when the
   model has no groups. *groups (if not NULL) gets their number. NAN when
   out of memory.
*/
double qm_eq_worst_ratio(const qm_model *m, const qm_equalization *eq, int *groups);

/** The groups of the model's architecture (registry op), *n of them
    (NULL, 0 for none). False when out of memory. */
bool qm_eq_groups(const qm_model *m, qm_eq_group **groups, int *n);

void qm_eq_groups_free(qm_eq_group *groups, int n);

/** Append a group of n channels with room for the given counts to
    *groups (*count entries, realloc'd); NULL when out of memory (the
    group is then counted, to be freed with the others). */
qm_eq_group *qm_eq_group_new(qm_eq_group **groups, int *count, int n, int max_writers,
                             int max_readers);

#ifdef __cplusplus
}
#endif

#endif
