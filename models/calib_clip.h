/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The plugin's calibration clip: the audio its worker prepares variants on
  (static activation scales, post-training rounding) and measures
  per-layer SQNR with. Here, not in plugin/, so that quantone-bench can
  time a preparation on exactly what the worker uses.
*/
#ifndef QUANTONE_MODELS_CALIB_CLIP_H
#define QUANTONE_MODELS_CALIB_CLIP_H

#ifdef __cplusplus
extern "C" {
#endif

/** Seconds of the clip the plugin's worker prepares on (plugin/qt_plugin.h
    QT_CALIB_S), and quantone-run's default calibration for FP16 weights,
    so that the CLI reports what the plugin plays. */
#define QM_CALIB_CLIP_SECONDS 1.0

/**
   `seconds` of deterministic guitar-like audio at `rate`: eight plucked
   notes (decaying harmonic series with a little inharmonicity) entering
   one after another, peak about 0.5. Nothing is read from disk. Returns a
   malloc'd buffer of *n_out samples (free() it), NULL when out of memory.
   Synthesized once per process for each (rate, seconds) and copied after
   that; thread-safe (it takes a mutex: never call it from an audio
   callback).
*/
float *qm_calib_clip(double rate, double seconds, int *n_out);

#ifdef __cplusplus
}
#endif

#endif
