/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Knowledge distillation data: a teacher model (any file the engine loads,
  played by the engine's float path, models/engine.h, so the student
  learns what the plugin would play, not what a second implementation
  computes) labels the training audio, and the student trains on
  alpha * teacher + (1 - alpha) * effect.

  Why a mixed target rather than a mixed loss: every term of tr_loss is a
  quadratic form in the error divided by a target energy, and
  alpha |y - a|^2 + (1 - alpha) |y - b|^2 = |y - (alpha a + (1 - alpha) b)|^2
  + a constant, so with one denominator the mixed target has exactly the
  weighted loss's gradient. alpha = 1 is pure distillation, 0 the plain
  effect target.
*/
#ifndef QUANTONE_TR_DISTILL_H
#define QUANTONE_TR_DISTILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "model_file.h"
#include "tr_data.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  qm_desc *file;   /**< the teacher as loaded */
  qm_model *model; /**< its full-size model, float */
  double sample_rate;
} tr_teacher;

/** Load a teacher file (a container's full-size submodel) into the engine, float. */
bool tr_teacher_open(tr_teacher *t, const char *path, char *err, size_t errlen);
void tr_teacher_close(tr_teacher *t);

/** y[0..n) = the teacher's output for x from its prewarmed start state (NAM's reset). */
void tr_teacher_render(tr_teacher *t, const float *x, float *y, size_t n);

/**
   Append dry WAV files (48 kHz, channel 0) to d's training input, each
   rendered through `effect` for its target. Segments are drawn across the
   joins; the effect and the teacher then see one continuous signal, so
   targets stay consistent with inputs there too.
*/
bool tr_dataset_append_wavs(tr_dataset *d, const char *effect, const char *const *paths, int n,
                            char *err, size_t errlen);

/** Append `seconds` of held tones (tr_synth_tones, seeded) to d's training
    input, the effect's target rendered as for tr_dataset_append_wavs. */
bool tr_dataset_append_tones(tr_dataset *d, const char *effect, double seconds, uint64_t seed,
                             char *err, size_t errlen);

/**
   Label d with the teacher: each target becomes alpha * teacher(x) +
   (1 - alpha) * target, for the training and the held-out part. The
   teacher's held-out output is kept in *teacher_val and the effect's in
   *effect_val (both d->val.n, caller frees) for the final report.
*/
bool tr_distill_targets(tr_dataset *d, tr_teacher *t, double alpha, float **teacher_val,
                        float **effect_val, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
