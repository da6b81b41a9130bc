/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Synthesized guitar-like training audio (Karplus-Strong plucked strings).
*/
#ifndef QUANTONE_TR_SYNTH_H
#define QUANTONE_TR_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
   Fill x[0..n) (48 kHz) with a seeded sequence of events: single plucked
   notes, strummed chords, palm-muted riffs, pitch slides, sine sweeps,
   crescendos / fades and silences, each at one of several levels between
   -40 and -1 dBFS peak. The same seed always gives the same audio.
*/
void tr_synth_guitar(float *x, size_t n, uint64_t seed);

#ifdef __cplusplus
}
#endif

#endif
