/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Reading reference renders and comparing the engine's output with them,
  for the tests that check against ../shared/reference (test_reference.c,
  test_reference_current.c, test_slim.c).
*/
#ifndef QUANTONE_TESTS_MODELS_REFERENCE_IO_H
#define QUANTONE_TESTS_MODELS_REFERENCE_IO_H

#include "engine.h"

#include <stddef.h>

/** A mono sound file's samples (malloc'ed) and their count; NULL with a
    message on stderr when it cannot be read or is not mono. */
float *ref_read_wav(const char *path, size_t *frames);

/** Error-to-signal ratio sum (y - ref)^2 / sum ref^2 (DC included), and the
    largest |y - ref|. */
typedef struct {
  double esr, max_err;
} ref_cmp;
ref_cmp ref_compare(const float *y, const float *ref, size_t n);

/** qm_model_reset() (the NAM prewarm), then x through the model in blocks
    of `block` frames, or (block 0) of lengths that change from call to
    call (1, 7, 64, 3, 256, 5000, 128, 2, 511, 33, again). */
void ref_render(qm_model *m, const float *x, float *y, size_t n, int block);
/** The same from the start state without the prewarm (qm_model_reset_cold). */
void ref_render_cold(qm_model *m, const float *x, float *y, size_t n, int block);

#endif
