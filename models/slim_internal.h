/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Between slim.c (the API: steps, selection, the cache of sizes) and
  slim_wavenet.c (the sizes of a WaveNet with slimmable layer arrays).
  Internal to models/.
*/
#ifndef QUANTONE_MODELS_SLIM_INTERNAL_H
#define QUANTONE_MODELS_SLIM_INTERNAL_H

#include "loader_internal.h"

/** Whether some layer array can play at more than one channel count. */
bool qm_wavenet_slimmable(const qm_wavenet_desc *wn);

/** What NeuralAmpModelerCore refuses in a slimmable WaveNet
    (extract_slimmed_weights): in any of its arrays a grouped convolution
    or 1x1, or an array head conv over more than one tap. False with
    "PATH: config.layers[i]...: ..." in c. The loader calls it. */
bool qm_wavenet_check_slimmable(qm_ctx *c, const qm_wavenet_desc *wn);

/** The slim values where some array changes its channel count: i/n for
    i = 1..n-1 of each slimmable array's n allowed counts, ascending and
    each once, into a malloc'ed *out (NULL when there are none). Returns
    the count, -1 when out of memory. */
int qm_wavenet_breakpoints(const qm_wavenet_desc *wn, double **out);

/** The channels each array plays at S (NeuralAmpModelerCore's
    ratio_to_channels: allowed[min(floor(S*n), n-1)], all of them for an
    array that is not slimmable), into channels[0..n_arrays). */
void qm_wavenet_channels_at(const qm_wavenet_desc *wn, double s, int *channels);

/** d (a WaveNet) cut to those channels, a new description the caller owns
    (it points into d for what slimming does not change, so d must outlive
    it); NULL when out of memory. Without `weights`, only the shapes and
    n_weights: what a step costs, at a fraction of the memory (a hostile
    file may have a thousand sizes). */
qm_desc *qm_wavenet_slice(const qm_desc *d, const int *channels, bool weights);

/** Multiply-adds per sample of the WaveNet as described (its
    condition_dsp's included). */
double qm_wavenet_macs(const qm_desc *d);

#endif
