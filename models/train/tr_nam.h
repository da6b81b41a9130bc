/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  .nam files for the trainer: a writer (what NAM's own exporter writes:
  version, metadata, architecture, config, weights, sample_rate) and a
  minimal private reader for the two architectures the trainer builds, used
  to resume / fine-tune (QAT starts from a float .nam) and to check the
  weight layout against the reference files.
*/
#ifndef QUANTONE_TR_NAM_H
#define QUANTONE_TR_NAM_H

#include <stdbool.h>
#include <stddef.h>

#include "tr_lstm.h"
#include "tr_model.h"
#include "tr_wavenet.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What an A1 WaveNet or LSTM file says (as NAM 0.5 players read it), and
    an A2 WaveNet or a SlimmableContainer (NAM 0.7). */
#define TR_NAM_VERSION "0.5.4"
#define TR_NAM_VERSION_A2 "0.7.0"

typedef struct {
  const char *name;
  const char *modeled_by;
  const char *gear_type; /**< "pedal", "amp", ... */
  const char *tone_type; /**< "clean", "overdrive", "crunch", "hi_gain", "fuzz" */
  double validation_esr; /**< < 0: write null */
  const char *quantone;  /**< extra JSON object text under metadata.quantone, or NULL */
} tr_nam_meta;

/** Write model m with parameters p to path. Returns false (and errno) on I/O error. */
bool tr_nam_write(const char *path, const tr_model *m, const float *p, const tr_nam_meta *meta);

/**
   Write n models as a NAM SlimmableContainer (.nam 0.7.0): the Slim
   control plays the first submodel whose max_value is above it, so
   max_values must rise (the last is usually 1.0; EINVAL if not), each
   submodel a whole file of its own as NAM writes it, and an empty
   top-level weights list.
*/
bool tr_nam_write_container(const char *path, int n, const tr_model *const *models,
                            const float *const *params, const double *max_values,
                            const tr_nam_meta *meta);

/**
   Read a WaveNet A1 (not gated, Tanh, condition size 1) or LSTM .nam into a
   new trainable model (its parameters loaded). On failure NULL and err.
*/
tr_model *tr_nam_read(const char *path, int threads, int lstm_prewarm, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
