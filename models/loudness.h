/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Levels a player expects from an amp capture: the input calibrated to the
  level the capture was made at, and the output raw, normalized to a common
  loudness, or calibrated to the capture's output level. The formulas are
  the NAM ecosystem's (a capture's metadata.input_level_dbu,
  output_level_dbu and loudness); models without a loudness get one
  measured on the built-in guitar clip, so every capture, AIDA-X files and
  our own models included, arrives at a comparable level.
*/
#ifndef QUANTONE_MODELS_LOUDNESS_H
#define QUANTONE_MODELS_LOUDNESS_H

#include "engine.h"
#include "model_file.h"

#include <stdbool.h>
#include <stddef.h>

/** The output modes; the values are the plugin's output_mode port values. */
typedef enum {
  QM_OUTPUT_RAW = 0,    /**< the model's output as it is */
  QM_OUTPUT_NORMALIZED, /**< loudness moved to QM_LOUDNESS_TARGET_DB */
  QM_OUTPUT_CALIBRATED, /**< dBFS of the capture's output_level_dbu at the interface's level */
  QM_OUTPUT_MODE_COUNT
} qm_output_mode;

/** "raw", "normalized", "calibrated" (what --output-mode takes), or NULL. */
const char *qm_output_mode_name(qm_output_mode mode);
/** The mode of a name (case-sensitive); false for anything else. */
bool qm_output_mode_from_name(const char *name, qm_output_mode *mode);

/** The loudness every model is normalized to, dB (NAM's plugin uses -18). */
#define QM_LOUDNESS_TARGET_DB (-18.0)
/** The interface level NAM's plugin assumes, dBu at 0 dBFS. */
#define QM_INTERFACE_DBU_DEFAULT 12.0
/** The clip a loudness is measured on: the first seconds of the demo
    clip's synthesized guitar (models/train/tr_synth.h, seed 7: playing
    from the start, levels -40 to -1 dBFS peak). */
#define QM_LOUDNESS_CLIP_S 4.0
#define QM_LOUDNESS_CLIP_SEED 7

/**
   The input gain that calibrates a capture, dB: the interface's level at
   0 dBFS minus the capture's (a signal of L dBu reads L - interface_dbu
   dBFS here and must reach the model at L - input_level_dbu dBFS):
       gain = interface_dbu - input_level_dbu.
   False (and 0 dB) when the file has no input_level_dbu.
*/
bool qm_input_calibration_db(const qm_metadata *meta, double interface_dbu, double *gain_db);

/**
   The output gain of a mode, dB:
     raw:        0;
     normalized: QM_LOUDNESS_TARGET_DB - loudness, the file's loudness or,
                 without one, `measured_db` when has_measured;
     calibrated: output_level_dbu - interface_dbu (the capture's output
                 level shown on this interface's scale).
   False (and 0 dB) when the mode has nothing to work from.
*/
bool qm_output_gain_db(const qm_metadata *meta, qm_output_mode mode, double interface_dbu,
                       bool has_measured, double measured_db, double *gain_db);

/**
   The measured loudness of a model without one in its file: the RMS level
   of its output, 10 log10(mean(y^2)) dBFS, over the first
   QM_LOUDNESS_CLIP_S seconds of the built-in guitar clip, played from the
   model's steady state (it is reset before and after). NAM's `loudness`
   is the same measure (RMS dB) of its own standard input. Slow: the
   plugin calls it in the worker, once per loaded file.
*/
bool qm_measure_loudness_db(qm_model *m, double *loudness_db, char *err, size_t errlen);

/** The clip itself (n = seconds * 48000 frames, malloc'd; NULL without
    memory), for tests that check the measure. */
float *qm_loudness_clip(size_t *n);

#endif
