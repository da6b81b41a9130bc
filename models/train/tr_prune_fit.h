/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  quantone-train prune: rank a trained WaveNet's channels (tr_prune.h),
  cut it to a list of uniform widths, fine-tune each width, and write one
  file the plugin's Slim control plays at every width.

  Two forms of file:
    slimmable  one WaveNet with its channels reordered (most important
               first) and "slimmable": slice_channels_uniform with the
               widths as allowed_channels. Every width is the top-left
               block of the next, so the widths share their weights and
               are fine-tuned nested: the smallest first, then each wider
               one with the smaller one inside it frozen (its gradient
               zeroed), so training a wider width never changes what a
               narrower one plays. NAM slices only 1-tap heads, so A2
               (16-tap head) cannot take this form.
    container  a SlimmableContainer of independent models, one per width
               (the full width is the model as given), each fine-tuned on
               its own; any WaveNet, more bytes.
*/
#ifndef QUANTONE_TR_PRUNE_FIT_H
#define QUANTONE_TR_PRUNE_FIT_H

#include <stdbool.h>
#include <stddef.h>

#include "tr_data.h"
#include "tr_nam.h"
#include "tr_prune.h"
#include "tr_train.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { TR_PRUNE_SLIMMABLE = 0, TR_PRUNE_CONTAINER } tr_prune_format;

typedef struct {
  tr_prune_criterion criterion;
  tr_prune_format format;
  int n_widths;               /**< the pruned widths, without the full one */
  int widths[TR_WN_MAX_SLIM]; /**< the first array's channels, ascending, below its full count */
  double calib_seconds;       /**< of the training input, for the output-change criterion */
  const char *out;            /**< file to write, or NULL */
  const tr_nam_meta *meta;
} tr_prune_opts;

typedef struct {
  int n_sizes; /**< the widths and the full model */
  int channels[TR_WN_MAX_SLIM][TR_WN_MAX_ARRAYS];
  size_t params[TR_WN_MAX_SLIM];
  double esr_cut[TR_WN_MAX_SLIM];   /**< held-out ESR vs target, cut from the full model */
  double esr_tuned[TR_WN_MAX_SLIM]; /**< as written (after fine-tuning, -1 when not tuned) */
  /** best held-out ESR of the width's own fine-tune (-1 when not tuned); equals esr_tuned
      when nothing changed it afterwards (the nested fine-tunes freeze it) */
  double esr_own[TR_WN_MAX_SLIM];
  tr_prune_ranking ranking;
} tr_prune_report;

/**
   Prune m (left unchanged) on d with the training options o (o->epochs 0:
   no fine-tuning; checkpoints and resume are per width: o->checkpoint
   gets ".wN" appended). Progress on stdout unless o->quiet.
*/
bool tr_prune_run(tr_model *m, const tr_dataset *d, const tr_prune_opts *po, const tr_train_opts *o,
                  tr_prune_report *rep, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
