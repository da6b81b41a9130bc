/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  WAV input for the trainer (libsndfile): reading a dry / recorded pair,
  checking it, and measuring the latency between the two files.
*/
#ifndef QUANTONE_TR_WAV_H
#define QUANTONE_TR_WAV_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Read channel 0 of a file as float; *rate receives the sample rate. */
float *tr_wav_read(const char *path, size_t *n, int *rate, int *channels, char *err, size_t errlen);

/** Write mono float (32-bit float WAV if float32, else 24-bit PCM). */
bool tr_wav_write(const char *path, const float *x, size_t n, int rate, bool float32);

/**
   Lag (samples) by which y trails x, from the peak of |cross-correlation|
   over lags in [-max_lag, max_lag], computed by FFT on at most the first
   `window` samples. *peak_corr receives the normalized correlation at that
   lag (1 = identical up to a gain), so a caller can tell "unrelated files"
   from "misaligned files".
*/
long tr_latency(const float *x, const float *y, size_t n, long max_lag, size_t window,
                double *peak_corr);

typedef struct {
  float *x, *y; /**< dry input, recorded output, aligned, same length */
  size_t n;
  int rate;
  long measured_latency; /**< before any --latency correction */
  long applied_latency;
  double corr;
} tr_wav_pair;

/**
   Load and check a capture pair. Refuses (false, message in err) when the
   sample rates differ or are not 48 kHz, the lengths differ by more than
   10 ms, or the output trails / leads the input by more than max_latency
   samples after shifting it by `latency` (samples to drop from the start
   of the output; the measured figure tells the user what to pass).
*/
bool tr_wav_pair_load(tr_wav_pair *p, const char *in_path, const char *out_path, long latency,
                      long max_latency, char *err, size_t errlen);
void tr_wav_pair_free(tr_wav_pair *p);

#ifdef __cplusplus
}
#endif

#endif
