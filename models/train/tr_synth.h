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

/**
   Fill x[0..n) (48 kHz) with held sine tones one after another: each 0.8
   to 2.4 s, its frequency log-uniform over 70-1200 Hz (a guitar's
   fundamentals and low harmonics), its level uniform over -30 to -1 dBFS
   peak, faded in over 10 ms and out over 20 ms. Seeded like
   tr_synth_guitar.

   Why: a held note through a high-gain capture is a steady wave whose
   level and shape are set by the saturating layers. The guitar material
   passes through that state while notes decay and never dwells in it, so
   a fake-quantized model fitted to it can miss the steady level by a few
   percent (A1 at 4 bits: 7% louder on a held 220 Hz tone, -19.6 dB ESR
   where the plucked clips gave -22.6).
*/
void tr_synth_tones(float *x, size_t n, uint64_t seed);

#ifdef __cplusplus
}
#endif

#endif
