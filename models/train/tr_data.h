/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Training data: aligned (input, target) signals split into a training
  part and a held-out validation part.
*/
#ifndef QUANTONE_TR_DATA_H
#define QUANTONE_TR_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tr_wav.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  float *x, *y;
  size_t n;
} tr_signal;

typedef struct {
  tr_signal train, val;
  char desc[256];
} tr_dataset;

/**
   Built-in target: synthesized guitar (tr_synth_guitar) through a reference
   effect ("overdrive" or "diode"). The validation audio is synthesized
   with a different seed, so it is held out: no note of it was trained on.
*/
bool tr_dataset_builtin(tr_dataset *d, const char *effect, double train_seconds, double val_seconds,
                        uint64_t seed, char *err, size_t errlen);

/** From a checked WAV pair: the last val_fraction is held out. Takes ownership of nothing. */
bool tr_dataset_from_pair(tr_dataset *d, const tr_wav_pair *p, double val_fraction, char *err,
                          size_t errlen);

void tr_dataset_free(tr_dataset *d);

#ifdef __cplusplus
}
#endif

#endif
