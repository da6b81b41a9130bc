/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Hann-windowed FFT magnitude of signal and error, averaged over frames in
  the power domain (averaging dB would bias low), scaled so a full-scale
  sine reads 0 dBFS whatever the window length.
*/
#include "spectrum.h"

#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct qg_spectrum {
  int len, bins;
  float *in;
  fftwf_complex *out;
  fftwf_plan plan;
  double *pow_sig, *pow_err;
  bool primed;
  double alpha;
  float window[QG_SCOPE_MAX];
  int window_n;
  double window_sum;
};

qg_spectrum *qg_spectrum_new(int fft_len)
{
  if (fft_len < 16 || fft_len > 2 * (QG_SPEC_MAX_BINS - 1) || (fft_len & (fft_len - 1)))
    return NULL;
  qg_spectrum *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->len = fft_len;
  s->bins = fft_len / 2 + 1;
  s->alpha = 0.25;
  s->in = fftwf_alloc_real((size_t)fft_len);
  s->out = fftwf_alloc_complex((size_t)s->bins);
  s->pow_sig = calloc((size_t)s->bins, sizeof(double));
  s->pow_err = calloc((size_t)s->bins, sizeof(double));
  if (!s->in || !s->out || !s->pow_sig || !s->pow_err) {
    qg_spectrum_free(s);
    return NULL;
  }
  /** FFTW_ESTIMATE: planning costs microseconds, not seconds, so opening
      the GUI stays instant; for a 1024-point transform at 25 Hz the
      difference in execution speed is irrelevant. */
  s->plan = fftwf_plan_dft_r2c_1d(fft_len, s->in, s->out, FFTW_ESTIMATE);
  if (!s->plan) {
    qg_spectrum_free(s);
    return NULL;
  }
  return s;
}

void qg_spectrum_free(qg_spectrum *s)
{
  if (!s)
    return;
  if (s->plan)
    fftwf_destroy_plan(s->plan);
  fftwf_free(s->in);
  fftwf_free(s->out);
  free(s->pow_sig);
  free(s->pow_err);
  free(s);
}

void qg_spectrum_set_smoothing(qg_spectrum *s, double alpha)
{
  s->alpha = alpha > 0 && alpha <= 1 ? alpha : 0.25;
}

void qg_spectrum_reset(qg_spectrum *s) { s->primed = false; }

static void analyse(qg_spectrum *s, const float *x, int n, double *acc)
{
  memset(s->in, 0, (size_t)s->len * sizeof(float));
  for (int i = 0; i < n; ++i)
    s->in[i] = x[i] * s->window[i];
  fftwf_execute(s->plan);
  /* |X|^2 * (2 / sum(w))^2: a sine of amplitude A peaks at A^2 (0 dB at A = 1). */
  double norm = 2.0 / s->window_sum;
  norm *= norm;
  for (int k = 0; k < s->bins; ++k) {
    double re = s->out[k][0], im = s->out[k][1];
    double p = (re * re + im * im) * norm;
    acc[k] = s->primed ? acc[k] + s->alpha * (p - acc[k]) : p;
  }
}

void qg_spectrum_feed(qg_spectrum *s, const float *sig, const float *err, int n, double rate,
                      qg_spectrum_view *out)
{
  if (n > s->len)
    n = s->len;
  if (n > QG_SCOPE_MAX)
    n = QG_SCOPE_MAX;
  if (n < 2)
    return;
  if (n != s->window_n) {
    s->window_sum = 0;
    for (int i = 0; i < n; ++i) {
      s->window[i] = (float)(0.5 - 0.5 * cos(2 * M_PI * i / (n - 1)));
      s->window_sum += s->window[i];
    }
    s->window_n = n;
    s->primed = false;
  }
  analyse(s, sig, n, s->pow_sig);
  analyse(s, err, n, s->pow_err);
  s->primed = true;
  out->n_bins = s->bins;
  out->rate = rate;
  for (int k = 0; k < s->bins; ++k) {
    out->signal_db[k] = (float)(10.0 * log10(s->pow_sig[k] + 1e-14));
    out->error_db[k] = (float)(10.0 * log10(s->pow_err[k] + 1e-14));
  }
  out->valid = true;
}
