/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Input calibration, output normalization and the measured loudness
  (loudness.h has the formulas).
*/
#include "loudness.h"

#include "train/tr_synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const mode_names[QM_OUTPUT_MODE_COUNT] = {
    [QM_OUTPUT_RAW] = "raw",
    [QM_OUTPUT_NORMALIZED] = "normalized",
    [QM_OUTPUT_CALIBRATED] = "calibrated",
};

const char *qm_output_mode_name(qm_output_mode mode)
{
  return (int)mode >= 0 && mode < QM_OUTPUT_MODE_COUNT ? mode_names[mode] : NULL;
}

bool qm_output_mode_from_name(const char *name, qm_output_mode *mode)
{
  for (int i = 0; i < QM_OUTPUT_MODE_COUNT; ++i)
    if (!strcmp(name, mode_names[i])) {
      *mode = (qm_output_mode)i;
      return true;
    }
  return false;
}

bool qm_input_calibration_db(const qm_metadata *meta, double interface_dbu, double *gain_db)
{
  *gain_db = 0.0;
  if (!meta->has_input_level || !isfinite(meta->input_level_dbu))
    return false;
  *gain_db = interface_dbu - meta->input_level_dbu;
  return true;
}

bool qm_output_gain_db(const qm_metadata *meta, qm_output_mode mode, double interface_dbu,
                       bool has_measured, double measured_db, double *gain_db)
{
  *gain_db = 0.0;
  switch (mode) {
  case QM_OUTPUT_RAW: return true;
  case QM_OUTPUT_NORMALIZED:
    if (meta->has_loudness && isfinite(meta->loudness)) {
      *gain_db = QM_LOUDNESS_TARGET_DB - meta->loudness;
      return true;
    }
    if (has_measured && isfinite(measured_db)) {
      *gain_db = QM_LOUDNESS_TARGET_DB - measured_db;
      return true;
    }
    return false;
  case QM_OUTPUT_CALIBRATED:
    if (!meta->has_output_level || !isfinite(meta->output_level_dbu))
      return false;
    *gain_db = meta->output_level_dbu - interface_dbu;
    return true;
  default: return false;
  }
}

float *qm_loudness_clip(size_t *n)
{
  *n = (size_t)(QM_LOUDNESS_CLIP_S * 48000.0);
  float *x = malloc(*n * sizeof *x);
  if (x)
    tr_synth_guitar(x, *n, QM_LOUDNESS_CLIP_SEED);
  return x;
}

bool qm_measure_loudness_db(qm_model *m, double *loudness_db, char *err, size_t errlen)
{
  size_t n = 0;
  float *x = qm_loudness_clip(&n);
  float *y = malloc(n * sizeof *y);
  if (!x || !y) {
    free(x);
    free(y);
    snprintf(err, errlen, "out of memory");
    return false;
  }
  qm_model_reset(m);
  /** The clip is played at the model's rate as it is: the measure is a
      level, and a guitar's spectrum moved by a rate ratio reads about
      the same; every model of a rate hears the same samples. */
  for (size_t i = 0; i < n; i += QM_DEFAULT_CHUNK) {
    int k = (int)(n - i < QM_DEFAULT_CHUNK ? n - i : QM_DEFAULT_CHUNK);
    qm_model_process(m, x + i, y + i, k);
  }
  qm_model_reset(m);
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i)
    sum += (double)y[i] * y[i];
  free(x);
  free(y);
  double ms = sum / (double)n;
  if (!isfinite(ms)) {
    snprintf(err, errlen, "the model's output is not finite on the loudness clip");
    return false;
  }
  /** A silent model has no loudness to normalize from (the gain would be
      unbounded): it plays raw. */
  if (!(ms > 1e-20)) {
    snprintf(err, errlen, "the model is silent on the loudness clip");
    return false;
  }
  *loudness_db = 10.0 * log10(ms);
  return true;
}
