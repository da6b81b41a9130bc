/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Export of a quantized model (issue 15, item 3): the model as a setting
  plays it, written back as a standard .nam file of the same architecture
  and version, whose weights are the values the weight-only path
  multiplies with (each quantized matrix dequantized, scale * (v - zp),
  and the bias that plays, bias correction included). Any NAM player then
  plays the quantized sound; metadata.quantone records the scheme
  (models/scheme_record.h) so Quantone loads the file as the quantized
  model it came from, its codes exact.

  What is written, per architecture:
  - WaveNet (A1, A2, every option), LSTM, Linear, ConvNet: the model at
    the setting's slim value. A slimmable WaveNet cut below its full size
    is written at the size that plays (channels, bottleneck, input and
    head sizes of that size) and without its "slimmable" key; so is the
    full size: the smaller sizes of a quantized model are quantized on
    their own (qm_desc_at_slim), so no single slimmable file holds them.
  - ConvNet with batchnorm: written without (the folded conv and its bias
    are what plays), batchnorm false in its config.
  - SlimmableContainer: a container again, every submodel quantized to
    the setting as it plays when selected (the slim value picks none).
  - keras / AIDA-X JSON: refused (no .nam architecture holds its input
    and output gains and skip).
  A grouped matrix whose quantized weights are not zero between its groups
  (a mapping without a zero level) is refused: the file has no room for
  them.

  Everything here allocates, quantizes and writes a file: worker thread.
*/
#ifndef QUANTONE_MODELS_NAM_EXPORT_H
#define QUANTONE_MODELS_NAM_EXPORT_H

#include "variant.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
   Quantize d to spec (with calib for settings that need calibration
   audio, as qm_variant_create; opt NULL for the defaults) and write the
   .nam file at path (through a temporary file renamed into place). False
   with a message in err.
*/
bool qm_export_nam(qm_desc *d, const qm_setting *spec, const qm_options *opt, const float *calib,
                   int n_calib, const char *path, char *err, size_t errlen);

/**
   The same quantization, written as the integer codes for integer
   hardware: {"format", "setting", "label", "architecture", "linears": [...]}
   with scheme_record.h's per-linear layout plus "codes" (rows * cols ints,
   row-major [out][in] in the engine's column order) and "bias" (the floats
   that play); a container has "submodels": [{"max_value", ...}] instead of
   "linears". README.md documents the layout.
*/
bool qm_export_codes(qm_desc *d, const qm_setting *spec, const qm_options *opt, const float *calib,
                     int n_calib, const char *path, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
