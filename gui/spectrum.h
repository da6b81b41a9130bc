/*
  Spectrum analysis of the scope frames (signal and error) for the
  spectrum view. FFTW plans are made once, in qt_spectrum_new, on the GUI
  thread: never per frame and never on an audio thread (FFTW's planner is
  slow and not thread-safe).
*/
#ifndef QUANTONE_GUI_SPECTRUM_H
#define QUANTONE_GUI_SPECTRUM_H

#include "qt_views.h"

typedef struct qt_spectrum qt_spectrum;

/** fft_len: power of two >= the frame length, <= 2 * (QT_SPEC_MAX_BINS - 1);
    frames shorter than it are zero-padded (a smoother curve, same
    resolution). */
qt_spectrum *qt_spectrum_new(int fft_len);
void qt_spectrum_free(qt_spectrum *s);
/** Exponential average weight of a new frame (0..1]; 1 = no averaging. */
void qt_spectrum_set_smoothing(qt_spectrum *s, double alpha);
/** Analyse one frame of signal and error (n samples at rate) and update
    the averaged spectra in out. */
void qt_spectrum_feed(qt_spectrum *s, const float *signal, const float *error, int n,
                      double rate, qt_spectrum_view *out);
void qt_spectrum_reset(qt_spectrum *s);

#endif
