/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Spectrum analysis of the scope frames (signal and error) for the
  spectrum view. FFTW plans are made once, in qg_spectrum_new, on the GUI
  thread: never per frame and never on an audio thread (FFTW's planner is
  slow and not thread-safe).
*/
#ifndef QUANTONE_GUI_SPECTRUM_H
#define QUANTONE_GUI_SPECTRUM_H

#include "views.h"

typedef struct qg_spectrum qg_spectrum;

/** fft_len: power of two >= the frame length, <= 2 * (QG_SPEC_MAX_BINS - 1);
    frames shorter than it are zero-padded (a smoother curve, same
    resolution). */
qg_spectrum *qg_spectrum_new(int fft_len);
void qg_spectrum_free(qg_spectrum *s);
/** Exponential average weight of a new frame (0..1]; 1 = no averaging. */
void qg_spectrum_set_smoothing(qg_spectrum *s, double alpha);
/** Analyse one frame of signal and error (n samples at rate) and update
    the averaged spectra in out. */
void qg_spectrum_feed(qg_spectrum *s, const float *signal, const float *error, int n, double rate,
                      qg_spectrum_view *out);
void qg_spectrum_reset(qg_spectrum *s);

#endif
