/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  A fake-quantized (QAT) model written as the quantized model it trains:
  the engine's export (models/nam_export.h), so the .nam holds the
  dequantized weights (any NAM player plays the quantized sound) and
  metadata.quantone the scheme (Quantone loads it as that quantized model,
  its codes exact).

  The QAT forward quantizes each matrix with qz_quantize in the engine's
  orientation (linear levels, symmetric or asymmetric, per tensor,
  channel or group) with nearest rounding, which is what the engine does
  for the setting of the same scheme with Rounding at nearest; so the
  exported file plays what the trainer measured.

  When `source` is the .nam the model was fine-tuned from (a player's own
  capture, say) and holds the same number of weights at its top level, the
  written file is that file with its weights replaced: its config, version
  and metadata (name, gear, loudness, input and output levels) are kept.
  Otherwise (a container, another shape) it is the trainer's own file.
*/
#ifndef QUANTONE_TR_EXPORT_H
#define QUANTONE_TR_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "quantize.h"
#include "tr_data.h"
#include "tr_model.h"
#include "tr_nam.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Whether the engine has a setting that plays scheme s exactly as the QAT
    forward does (8, 4 or 2 bits, linear levels, symmetric or not, per
    tensor, channel or group of QZ_DEFAULT_GROUP: the settings' one group
    size); when not, why in err. */
bool tr_export_scheme_ok(const qz_scheme *s, char *err, size_t errlen);

/**
   Write model m with parameters p, quantized to s, as `out` (see above);
   meta describes the trainer's file when source is not used. False with a
   message in err.
*/
bool tr_export_quantized(const tr_model *m, const float *p, const qz_scheme *s, const char *source,
                         const tr_nam_meta *meta, const char *out, char *err, size_t errlen);

/** What tr_export_guarded wrote and measured. */
typedef struct {
  bool tuned_kept;   /**< the fine-tuned model (else the start model) */
  double start_esr;  /**< start model quantized: held-out ESR vs the targets */
  double tuned_esr;  /**< fine-tuned model quantized: the same */
  double played_esr; /**< the written file played in float by the engine: the same */
} tr_export_report;

/**
   Post-training distillation's output, never worse than plain rounding:
   writes `tuned` quantized to s if its quantized held-out ESR on val
   (samples from skip on, against val's targets) is strictly below
   `start`'s (the model it was fine-tuned from, nearest rounding), else
   `start` quantized; then plays the written file in float through the
   engine (as any NAM player plays it) on val for the report. False with
   a message in err.
*/
bool tr_export_guarded(tr_model *tuned, tr_model *start, const qz_scheme *s, const tr_signal *val,
                       int skip, const char *source, const tr_nam_meta *meta, const char *out,
                       tr_export_report *rep, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
