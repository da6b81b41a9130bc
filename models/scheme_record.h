/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The scheme of an exported quantized model (models/nam_export.c), as the
  file's metadata.quantone records it: the setting, and per weight matrix
  (qm_linear, by name) its bits, mapping, the levels it really carries,
  symmetry, granularity, and its scales, zero points or codebook. A file
  that carries one loads as the quantized model it came from: quantizing
  a linear to the recorded scheme encodes its weights on the recorded
  levels (qz_quantize_fixed) instead of fitting new ones, so the codes are
  the exported codes exactly and the weights do not move.

  JSON layout of metadata.quantone (also --export-codes, with "codes" and
  "bias" added per linear; README.md documents it):

    {"format": 1, "setting": "4:linear:asym:group:float", "label": "...",
     "linears": [{"name": "a0.l0.conv", "rows": M, "cols": K, "bits": 4,
                  "mapping": "linear", "levels": "linear",
                  "asymmetric": true, "granularity": "group", "group": 32,
                  "scales": [M * G floats], "zero_points": [M * G ints],
                  "codebook": [16 ints]}, ...]}

  G = scale groups per row (ceil(K / group) per group, else 1);
  weight (m, k) = scales[m*G + k/group] * (v - zero_points[m*G + k/group])
  with v the code (linear levels) or codebook[code]. A float linear is
  {"name", "rows", "cols", "bits": 32}.
*/
#ifndef QUANTONE_MODELS_SCHEME_RECORD_H
#define QUANTONE_MODELS_SCHEME_RECORD_H

#include "engine.h"
#include "quantize.h"

#include <jansson.h>

/** The version of the layout above this build writes and reads. */
#define QM_SCHEME_RECORD_FORMAT 1

typedef struct {
  char name[48];
  int rows, cols, bits; /**< bits 32: a float linear (nothing else set) */
  qz_scheme scheme;
  qz_mapping levels;
  int ngroups;
  float *scales;        /**< rows * ngroups */
  int32_t *zero_points; /**< rows * ngroups, or NULL */
  int8_t codebook[16];
  bool has_codebook;
} qm_linear_record;

typedef struct qm_scheme_record {
  char setting[128]; /**< qm_setting_format's string */
  int n;
  qm_linear_record *linears;
} qm_scheme_record;

/** The record of metadata.quantone, or NULL (none, another format, or
    malformed: a record is only ever used whole). Allocates. */
qm_scheme_record *qm_scheme_record_read(json_t *quantone);
qm_scheme_record *qm_scheme_record_clone(const qm_scheme_record *r);
void qm_scheme_record_free(qm_scheme_record *r);

/** Linear i's record if it says how to quantize it to `scheme` (same name,
    shape and scheme), else NULL. */
const qm_linear_record *qm_scheme_record_match(const qm_scheme_record *r, const qm_linear *L,
                                               const qz_scheme *scheme);

/** A JSON array of n floats (as doubles: a 9-digit dump gives each float
    back exactly); NULL when out of memory. */
json_t *qm_json_float_array(const float *v, size_t n);

/** metadata.quantone for a quantized model m made with spec; with `codes`,
    each quantized linear's codes (row-major) and the bias it plays are
    added (--export-codes). m NULL: the setting alone, no linears (a
    container's own record). NULL when out of memory. */
json_t *qm_scheme_record_json(const qm_model *m, const qm_setting *spec, bool codes);

#endif
