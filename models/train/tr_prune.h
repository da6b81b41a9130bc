/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Structured pruning of a trained WaveNet (A1 or A2): rank its channels,
  reorder them so the most important come first, and cut the model to the
  first k, which is exactly what a NAM "slice_channels_uniform" slimmable
  WaveNet plays at k channels (NeuralAmpModelerCore's
  NAM/wavenet/slimmable.cpp).

  A layer array has two channel spaces, and every matrix touching one of
  them is reordered by the same permutation, so the reordered model
  computes the same function:
    residual (C): X_l rows, shared by every layer through the skip sums:
      the rechannel's rows, every conv's inputs, every layer1x1's rows and
      bias, the next array's rechannel inputs;
    bottleneck (B): Z_l / A_l rows, shared by every layer because the head
      sums A_l over the layers: every conv's rows and bias, every input
      mixin's rows, every layer1x1's inputs, the array head's inputs, and
      the previous array's head rows and bias (its head output is added
      into this array's head sum).
  Cutting array a to C' residual channels keeps B' = max(1, B C' / C)
  bottleneck ones (NAM's rule with layer1x1, which the trainer's WaveNet
  always has), the next array's inputs follow, and the previous array's
  head keeps the rows of this array's B'.

  Criterion (tr_prune_rank): a channel's score is the output change when
  it alone is removed, measured on calibration audio: ESR of the model
  without it against the full model's output. Removing a channel is
  zeroing every weight into and out of it (the same function as the cut
  model without it), so the score is what the pruned model loses, to
  first order, and a channel that contributes nothing scores exactly 0.
  The L1 norm of the outgoing weights (summed over the layers) is kept
  as the cheap alternative: it needs no audio, but it cannot see a
  channel whose incoming weights are dead, nor how large its activations
  are (a residual channel's scale is set by the weights into it).
  The ranking is one-shot: each channel is scored alone, in the full
  model, and the weakest are removed together.
*/
#ifndef QUANTONE_TR_PRUNE_H
#define QUANTONE_TR_PRUNE_H

#include <stdbool.h>
#include <stddef.h>

#include "tr_model.h"
#include "tr_wavenet.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Widest channel space the pruner handles (residual or bottleneck). */
#define TR_PRUNE_MAX_CHANNELS 64

typedef enum {
  TR_PRUNE_OUTPUT_CHANGE = 0, /**< ESR of the output without the channel, on calibration audio */
  TR_PRUNE_L1,                /**< L1 norm of the channel's outgoing weights */
} tr_prune_criterion;

/**
   Channels a smaller (or reordered) model keeps, in their new order: in
   array a, residual channels res[a][0..n_res[a]) and bottleneck channels
   bot[a][0..n_bot[a]) of the full model. With every count full it is a
   permutation.
*/
typedef struct {
  int n_arrays;
  int n_res[TR_WN_MAX_ARRAYS], n_bot[TR_WN_MAX_ARRAYS];
  int res[TR_WN_MAX_ARRAYS][TR_PRUNE_MAX_CHANNELS];
  int bot[TR_WN_MAX_ARRAYS][TR_PRUNE_MAX_CHANNELS];
} tr_prune_pick;

typedef struct {
  tr_prune_pick order; /**< every channel, highest score first (ties: lower index first) */
  double res_score[TR_WN_MAX_ARRAYS][TR_PRUNE_MAX_CHANNELS]; /**< by the full model's index */
  double bot_score[TR_WN_MAX_ARRAYS][TR_PRUNE_MAX_CHANNELS];
} tr_prune_ranking;

/** False (with a message) if the pruner cannot handle this WaveNet. */
bool tr_prune_supported(const tr_wn_config *cfg, char *err, size_t errlen);

/** The identity order of cfg (every channel, in place). */
void tr_prune_identity(const tr_wn_config *cfg, tr_prune_pick *pick);

/**
   Score every channel of WaveNet m (parameters m->p) by criterion c; x
   (n samples) is the calibration audio of TR_PRUNE_OUTPUT_CHANGE (ignored
   for L1). One forward pass of m over x per channel.
*/
bool tr_prune_rank(tr_model *m, tr_prune_criterion c, const float *x, size_t n, tr_prune_ranking *r,
                   char *err, size_t errlen);

/**
   Per-array channel counts of the uniform width w (the first array's
   count): array a keeps max(1, C_a w / C_0), so every array is cut in the
   same proportion.
*/
void tr_prune_uniform_channels(const tr_wn_config *cfg, int w, int *channels);

/** The first channels[a] residual channels of order in every array, and the matching bottleneck
    count max(1, B C' / C): what a slice_channels_uniform model plays at those channels. */
void tr_prune_first(const tr_wn_config *cfg, const tr_prune_pick *order, const int *channels,
                    tr_prune_pick *pick);

/**
   The model that keeps pick's channels: its config (input and head sizes
   follow the neighbouring arrays) and, for each of its parameters in
   file order, the index of the full model's parameter it is (map, with
   tr_wavenet_param_count(sub) entries). Gather p[map[i]] for its weights;
   for a full permutation this reorders the model.
*/
void tr_prune_subset(const tr_wn_config *full, const tr_prune_pick *pick, tr_wn_config *sub,
                     size_t *map);

/** sub_p[i] = p[map[i]] for i < n. */
void tr_prune_gather(const float *p, const size_t *map, size_t n, float *sub_p);

/** p with everything outside pick's channels set to 0: the full-size model that computes what the
    pruned one does (the removed channels' activations are exactly 0). */
void tr_prune_zero_outside(const tr_wn_config *full, const tr_prune_pick *pick, const float *p,
                           float *out);

#ifdef __cplusplus
}
#endif

#endif
