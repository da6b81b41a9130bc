/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Slimmable models: one file that plays at several sizes, chosen by a slim
  value S in [0, 1] (NAM's SetSlimmableSize). Two kinds exist in .nam 0.7:
  a SlimmableContainer (one of several complete submodels plays) and a
  WaveNet whose layer arrays are "slimmable" (the first n of their channels
  play). Each size is an ordinary description the engine builds like any
  other, so the quantizer, the variants and the analysis need nothing of
  their own.

  Everything here allocates or may: call it from a worker, never from the
  audio thread, and for one description from one thread at a time
  (qm_desc_at_slim and qm_desc_slim_steps fill the description's cache of
  sizes). The descriptions it returns are read-only and may be built
  into models on any thread.
*/
#ifndef QUANTONE_MODELS_SLIM_H
#define QUANTONE_MODELS_SLIM_H

#include "model_file.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One size a slimmable model can play: the slim values S in [lo, hi) select it
    (the last step's hi is 1.0 and it also covers S = 1.0). */
typedef struct {
  double lo, hi;
  char label[64]; /* what plays, e.g. "submodel 1 of 2: WaveNet, 3 channels" or "3 of 8 channels" */
  size_t weights; /* float parameters of that size */
  double macs_per_sample; /* multiply-adds per output sample of that size */
} qm_slim_step;

/** Whether the model has more than one size (a SlimmableContainer, or a WaveNet with a slimmable
 * layer array). */
bool qm_desc_slimmable(const qm_desc *d);
/** The steps, ascending (1 step for a plain model); fills at most max, returns the count. */
int qm_desc_slim_steps(qm_desc *d, qm_slim_step *steps, int max);
/** NeuralAmpModelerCore's semantics: a container plays the first submodel whose max_value is above
    S (the last at S >= its max_value); a slimmable layer array plays
    allowed_channels[min(floor(S*n), n-1)] channels. Returns the description that plays at S, owned
    by d (built once per size and cached in d, valid until qm_desc_free(d)); d itself for a plain
    model. NULL with "PATH: problem" in err only when out of memory. Allocates: never on the audio
    thread. S outside [0, 1] is taken as its nearest end (NaN as 1.0), so that what plays is
    always one of the steps. */
const qm_desc *qm_desc_at_slim(qm_desc *d, double s, char *err, size_t errlen);

/** The step of steps[0..n) that plays at S: the one whose [lo, hi) holds it, the last for S at
    or above its lo (and for NaN), the first below 0. -1 when n <= 0. */
int qm_slim_step_index(const qm_slim_step *steps, int n, double s);

/** What qm_model_create() builds from d: the description that plays at S = 1.0 (a container's
    last submodel; d itself otherwise, a slimmable WaveNet's full size being its file's). Never
    allocates. */
const qm_desc *qm_desc_full_size(const qm_desc *d);

/** Multiply-adds per output sample of the description as it stands (a container: its full
    size): every weight matrix's rows x columns once per sample, recurrences included. */
double qm_desc_macs_per_sample(const qm_desc *d);

#ifdef __cplusplus
}
#endif

#endif
