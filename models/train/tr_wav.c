/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
#include "tr_wav.h"

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

float *tr_wav_read(const char *path, size_t *n, int *rate, int *channels, char *err, size_t errlen)
{
  SF_INFO info;
  memset(&info, 0, sizeof info);
  SNDFILE *sf = sf_open(path, SFM_READ, &info);
  if (!sf) {
    snprintf(err, errlen, "%s: %s", path, sf_strerror(NULL));
    return NULL;
  }
  const size_t frames = (size_t)info.frames, ch = (size_t)info.channels;
  float *all = malloc(frames * ch * sizeof *all + 1);
  float *x = malloc(frames * sizeof *x + 1);
  if (!all || !x) {
    sf_close(sf);
    free(all);
    free(x);
    snprintf(err, errlen, "%s: out of memory", path);
    return NULL;
  }
  const sf_count_t got = sf_readf_float(sf, all, (sf_count_t)frames);
  sf_close(sf);
  for (size_t i = 0; i < (size_t)got; ++i)
    x[i] = all[i * ch];
  free(all);
  *n = (size_t)got;
  *rate = info.samplerate;
  if (channels)
    *channels = info.channels;
  return x;
}

bool tr_wav_write(const char *path, const float *x, size_t n, int rate, bool float32)
{
  SF_INFO info;
  memset(&info, 0, sizeof info);
  info.samplerate = rate;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | (float32 ? SF_FORMAT_FLOAT : SF_FORMAT_PCM_24);
  SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
  if (!sf)
    return false;
  const sf_count_t w = sf_writef_float(sf, x, (sf_count_t)n);
  return sf_close(sf) == 0 && w == (sf_count_t)n;
}

/* In-place iterative radix-2 FFT on interleaved complex doubles; inv = conjugate transform. */
static void fft(double *a, size_t n, int inv)
{
  for (size_t i = 1, j = 0; i < n; ++i) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1)
      j ^= bit;
    j ^= bit;
    if (i < j) {
      double t = a[2 * i];
      a[2 * i] = a[2 * j];
      a[2 * j] = t;
      t = a[2 * i + 1];
      a[2 * i + 1] = a[2 * j + 1];
      a[2 * j + 1] = t;
    }
  }
  for (size_t len = 2; len <= n; len <<= 1) {
    const double ang = 2.0 * M_PI / (double)len * (inv ? 1.0 : -1.0);
    const double wr = cos(ang), wi = sin(ang);
    for (size_t i = 0; i < n; i += len) {
      double cr = 1.0, ci = 0.0;
      for (size_t k = 0; k < len / 2; ++k) {
        double *u = a + 2 * (i + k), *v = a + 2 * (i + k + len / 2);
        const double vr = v[0] * cr - v[1] * ci, vi = v[0] * ci + v[1] * cr;
        v[0] = u[0] - vr;
        v[1] = u[1] - vi;
        u[0] += vr;
        u[1] += vi;
        const double t = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = t;
      }
    }
  }
}

long tr_latency(const float *x, const float *y, size_t n, long max_lag, size_t window,
                double *peak_corr)
{
  const size_t m = n < window ? n : window;
  size_t N = 1;
  while (N < 2 * m)
    N <<= 1;
  double *X = calloc(2 * N, sizeof *X), *Y = calloc(2 * N, sizeof *Y);
  if (!X || !Y) {
    free(X);
    free(Y);
    if (peak_corr)
      *peak_corr = 0.0;
    return 0;
  }
  double ex = 0.0, ey = 0.0;
  for (size_t i = 0; i < m; ++i) {
    X[2 * i] = x[i];
    Y[2 * i] = y[i];
    ex += (double)x[i] * x[i];
    ey += (double)y[i] * y[i];
  }
  fft(X, N, 0);
  fft(Y, N, 0);
  /* r[lag] = sum_i x[i] y[i + lag]  <->  conj(X) Y */
  for (size_t k = 0; k < N; ++k) {
    const double xr = X[2 * k], xi = -X[2 * k + 1], yr = Y[2 * k], yi = Y[2 * k + 1];
    X[2 * k] = xr * yr - xi * yi;
    X[2 * k + 1] = xr * yi + xi * yr;
  }
  fft(X, N, 1);
  long best = 0;
  double bv = -1.0;
  for (long lag = -max_lag; lag <= max_lag; ++lag) {
    const size_t idx = lag >= 0 ? (size_t)lag : N - (size_t)(-lag);
    const double v = fabs(X[2 * idx]) / (double)N;
    if (v > bv) {
      bv = v;
      best = lag;
    }
  }
  if (peak_corr)
    *peak_corr = (ex > 0 && ey > 0) ? bv / sqrt(ex * ey) : 0.0;
  free(X);
  free(Y);
  return best;
}

bool tr_wav_pair_load(tr_wav_pair *p, const char *in_path, const char *out_path, long latency,
                      long max_latency, char *err, size_t errlen)
{
  memset(p, 0, sizeof *p);
  size_t nx = 0, ny = 0;
  int rx = 0, ry = 0, cx = 0, cy = 0;
  float *x = tr_wav_read(in_path, &nx, &rx, &cx, err, errlen);
  if (!x)
    return false;
  float *y = tr_wav_read(out_path, &ny, &ry, &cy, err, errlen);
  if (!y) {
    free(x);
    return false;
  }
  if (rx != ry) {
    snprintf(err, errlen, "sample rates differ: %s is %d Hz, %s is %d Hz", in_path, rx, out_path,
             ry);
    goto fail;
  }
  if (rx != 48000) {
    snprintf(err, errlen, "%s is %d Hz: the models are 48 kHz, resample both files first", in_path,
             rx);
    goto fail;
  }
  const size_t diff = nx > ny ? nx - ny : ny - nx;
  if (diff > (size_t)rx / 100) {
    snprintf(err, errlen,
             "lengths differ by %zu samples (%.3f s): %s has %zu, %s has %zu; re-export both "
             "files over the same range",
             diff, (double)diff / rx, in_path, nx, out_path, ny);
    goto fail;
  }
  size_t n = nx < ny ? nx : ny;
  if (latency < 0 || (size_t)latency >= n) {
    snprintf(err, errlen, "latency %ld out of range", latency);
    goto fail;
  }
  const long max_search = rx / 10; /* 100 ms */
  p->measured_latency = tr_latency(x, y, n, max_search, (size_t)1 << 19, &p->corr);
  /* drop `latency` samples from the start of the output (and the end of the input) */
  if (latency > 0) {
    memmove(y, y + latency, (n - (size_t)latency) * sizeof *y);
    n -= (size_t)latency;
  }
  const long residual = tr_latency(x, y, n, max_search, (size_t)1 << 19, &p->corr);
  if (p->corr < 0.05) {
    snprintf(err, errlen, "%s and %s do not look like a dry/recorded pair (peak correlation %.3f)",
             in_path, out_path, p->corr);
    goto fail;
  }
  if (labs(residual) > max_latency) {
    if (residual > 0)
      snprintf(err, errlen,
               "misaligned pair: the output trails the input by %ld samples (%.2f ms); the "
               "tolerance is %ld. Trim that many samples from the start of %s, or pass "
               "--latency %ld",
               residual, 1000.0 * residual / rx, max_latency, out_path,
               residual + (latency > 0 ? latency : 0));
    else
      snprintf(err, errlen,
               "misaligned pair: the output leads the input by %ld samples (%.2f ms); the "
               "tolerance is %ld. Are the files swapped, or was the output trimmed too much?",
               -residual, -1000.0 * residual / rx, max_latency);
    goto fail;
  }
  p->x = x;
  p->y = y;
  p->n = n;
  p->rate = rx;
  p->applied_latency = latency;
  return true;
fail:
  free(x);
  free(y);
  return false;
}

void tr_wav_pair_free(tr_wav_pair *p)
{
  free(p->x);
  free(p->y);
  memset(p, 0, sizeof *p);
}
