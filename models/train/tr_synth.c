/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Karplus-Strong guitar synthesis for training data.

  A string of fundamental f0 is a delay line of P = fs/f0 samples closed
  by a loop filter: y[n] = x[n] + g * ((1-S) y[n-P] + S y[n-P-1]), where
  the two-point average (S in [0, 0.5]) is the frequency-dependent string
  loss (S = 0.5 is darkest) and g sets the decay: after T60 seconds the
  note is 60 dB down, g = 10^(-3 / (f0 T60)) per period. The fractional
  part of P is a linear-interpolation tap. The excitation is a noise burst
  one period long, low-passed (pick hardness) and comb-filtered at the
  pick position beta (x[n] - x[n - beta P]), which notches the harmonics a
  pick at that point cannot excite.

  Why this material: a capture model must see what a guitarist plays, i.e.
  sharp attacks, long decays through the nonlinearity's whole range, dense
  chords (intermodulation), short muted notes, and quiet passages, not
  just noise or sines; sweeps cover the spectrum evenly.
*/
#include "tr_synth.h"

#include "tr_rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FS 48000.0

typedef struct {
  float *buf;
  int len, pos;
  double period, g, S;
} ks_string;

/** Render one plucked note of duration n into out (added), peak-free scaling later. */
static void ks_pluck(float *out, size_t n, double f0, double t60, double S, double beta,
                     double hardness, double slide_to, tr_rng *r)
{
  const int maxp = (int)(FS / fmin(f0, slide_to > 0 ? slide_to : f0)) + 4;
  float *line = calloc((size_t)maxp + 2, sizeof *line);
  float *exc = calloc((size_t)maxp + 2, sizeof *exc);
  if (!line || !exc) {
    free(line);
    free(exc);
    return;
  }
  const int P0 = (int)(FS / f0);
  /* excitation: low-passed noise, comb at the pick position */
  double lp = 0.0;
  for (int i = 0; i < P0; ++i) {
    lp += hardness * (tr_rng_range(r, -1.0, 1.0) - lp);
    exc[i] = (float)lp;
  }
  const int bp = (int)(beta * P0) > 0 ? (int)(beta * P0) : 1;
  for (int i = P0 - 1; i >= bp; --i)
    exc[i] -= exc[i - bp];
  int w = 0;
  double prev = 0.0;
  const double P_fix = FS / f0, g_fix = pow(10.0, -3.0 / (f0 * t60));
  for (size_t k = 0; k < n; ++k) {
    /* pitch slide: glide geometrically over the first 40% of the note */
    double f = f0, P = P_fix, g = g_fix;
    if (slide_to > 0) { /* only slides pay for per-sample pow() */
      const double a = fmin(1.0, (double)k / (0.4 * (double)n));
      f = f0 * pow(slide_to / f0, a);
      P = FS / f;
      g = pow(10.0, -3.0 / (f * t60));
    }
    double rd = (double)w - P;
    while (rd < 0)
      rd += maxp;
    const int i0 = (int)rd;
    const double fr = rd - i0;
    const double d0 = line[i0 % maxp], d1 = line[(i0 + maxp - 1) % maxp];
    const double delayed = (1.0 - fr) * d0 + fr * d1;
    const double in = k < (size_t)P0 ? exc[k] : 0.0;
    const double y = in + g * ((1.0 - S) * delayed + S * prev);
    prev = delayed;
    line[w] = (float)y;
    w = (w + 1) % maxp;
    out[k] += (float)y;
  }
  free(line);
  free(exc);
}

static double midi_hz(double m) { return 440.0 * pow(2.0, (m - 69.0) / 12.0); }

static float peak(const float *x, size_t n)
{
  float p = 0.0f;
  for (size_t i = 0; i < n; ++i)
    p = fmaxf(p, fabsf(x[i]));
  return p;
}

/** Several levels, so the model sees the effect's whole input range. */
static double pick_level(tr_rng *r)
{
  static const double tiers_db[] = {-40.0, -28.0, -18.0, -10.0, -5.0, -1.0};
  const double db = tiers_db[tr_rng_int(r, 6)] + tr_rng_range(r, -3.0, 0.0);
  return pow(10.0, db / 20.0);
}

void tr_synth_guitar(float *x, size_t n, uint64_t seed)
{
  tr_rng r;
  tr_rng_seed(&r, seed);
  memset(x, 0, n * sizeof *x);
  /* open strings of a guitar in standard tuning, MIDI numbers */
  static const int open[6] = {40, 45, 50, 55, 59, 64};
  size_t t = 0;
  const size_t maxev = (size_t)(3.0 * FS);
  float *ev = malloc(maxev * sizeof *ev);
  if (!ev)
    return;
  while (t < n) {
    const double u = tr_rng_uniform(&r);
    size_t len = (size_t)(tr_rng_range(&r, 0.4, 2.8) * FS);
    if (len > maxev)
      len = maxev;
    memset(ev, 0, len * sizeof *ev);
    size_t advance;
    if (u < 0.30) { /* single note, maybe with a slide */
      const int s = tr_rng_int(&r, 6);
      const double f0 = midi_hz(open[s] + tr_rng_int(&r, 15));
      const double slide =
          tr_rng_uniform(&r) < 0.2 ? f0 * pow(2.0, tr_rng_range(&r, -5, 5) / 12.0) : 0.0;
      ks_pluck(ev, len, f0, tr_rng_range(&r, 0.8, 4.0), tr_rng_range(&r, 0.0, 0.35),
               tr_rng_range(&r, 0.08, 0.3), tr_rng_range(&r, 0.3, 1.0), slide, &r);
      advance = (size_t)(tr_rng_range(&r, 0.25, 1.0) * (double)len);
    } else if (u < 0.58) { /* strummed chord: 3-6 strings, staggered onsets */
      const int fret = tr_rng_int(&r, 10);
      const int first = tr_rng_int(&r, 3),
                count = 3 + tr_rng_int(&r, 4 - first > 3 ? 3 : 4 - first);
      static const int shape[2][6] = {{0, 2, 2, 1, 0, 0},
                                      {0, 2, 2, 0, 0, 0}}; /* E major / minor shapes */
      const int sh = tr_rng_int(&r, 2);
      const double stagger = tr_rng_range(&r, 0.004, 0.03) * FS;
      const int down = tr_rng_uniform(&r) < 0.7;
      const double t60 = tr_rng_range(&r, 1.0, 4.0), S = tr_rng_range(&r, 0.0, 0.3);
      for (int i = 0; i < count && first + i < 6; ++i) {
        const int s = first + i;
        const size_t off = (size_t)((down ? i : count - 1 - i) * stagger);
        if (off >= len)
          continue;
        ks_pluck(ev + off, len - off, midi_hz(open[s] + fret + shape[sh][s]), t60, S,
                 tr_rng_range(&r, 0.1, 0.25), tr_rng_range(&r, 0.4, 1.0), 0.0, &r);
      }
      advance = (size_t)(tr_rng_range(&r, 0.3, 1.0) * (double)len);
    } else if (u < 0.76) { /* palm-muted riff on the low strings: short, dark */
      const double beat = tr_rng_range(&r, 0.09, 0.25) * FS;
      const int notes = (int)((double)len / beat);
      for (int i = 0; i < notes; ++i) {
        const size_t off = (size_t)(i * beat);
        const double f0 = midi_hz(open[tr_rng_int(&r, 2)] + tr_rng_int(&r, 7));
        const size_t nl = (size_t)fmin((double)(len - off), beat * 1.5);
        ks_pluck(ev + off, nl, f0, tr_rng_range(&r, 0.06, 0.25), tr_rng_range(&r, 0.35, 0.5), 0.15,
                 tr_rng_range(&r, 0.5, 1.0), 0.0, &r);
      }
      advance = len;
    } else if (u < 0.84) { /* logarithmic sine sweep */
      const double f1 = tr_rng_range(&r, 40.0, 200.0), f2 = tr_rng_range(&r, 2000.0, 12000.0);
      const int up = tr_rng_uniform(&r) < 0.5;
      double ph = 0.0;
      for (size_t k = 0; k < len; ++k) {
        const double a = (double)k / (double)len;
        const double f = up ? f1 * pow(f2 / f1, a) : f2 * pow(f1 / f2, a);
        ph += 2.0 * M_PI * f / FS;
        const double env = fmin(1.0, fmin((double)k, (double)(len - k)) / (0.01 * FS));
        ev[k] = (float)(env * sin(ph));
      }
      advance = len;
    } else if (u < 0.92) { /* level ramp: a chord swelling in or dying out */
      const int s = tr_rng_int(&r, 4);
      for (int i = 0; i < 3; ++i)
        ks_pluck(ev, len, midi_hz(open[s + i] + 2 * (i > 0) + tr_rng_int(&r, 5)), 6.0, 0.1, 0.2,
                 0.7, 0.0, &r);
      const int swell = tr_rng_uniform(&r) < 0.5;
      for (size_t k = 0; k < len; ++k) {
        const double a = (double)k / (double)len;
        ev[k] *= (float)(swell ? a * a : (1.0 - a) * (1.0 - a));
      }
      advance = len;
    } else { /* silence (with the faint noise floor of a real rig) */
      for (size_t k = 0; k < len; ++k)
        ev[k] = (float)(1e-4 * tr_rng_normal(&r));
      advance = len;
      const size_t m = len < n - t ? len : n - t;
      memcpy(x + t, ev, m * sizeof *x); /* raw, not level-scaled */
      t += advance;
      continue;
    }
    const float p = peak(ev, len);
    const float gsc = p > 0.0f ? (float)(pick_level(&r) / p) : 0.0f;
    for (size_t k = 0; k < len && t + k < n; ++k)
      x[t + k] += gsc * ev[k];
    if (advance < 1)
      advance = 1;
    t += advance;
  }
  free(ev);
  for (size_t k = 0; k < n; ++k) /* overlaps may add up: saturate softly at full scale */
    if (fabsf(x[k]) > 0.99f)
      x[k] = copysignf(0.99f, x[k]);
}

void tr_synth_tones(float *x, size_t n, uint64_t seed)
{
  tr_rng r;
  tr_rng_seed(&r, seed);
  size_t t = 0;
  while (t < n) {
    const double f = 70.0 * pow(1200.0 / 70.0, tr_rng_uniform(&r));
    const double amp = pow(10.0, tr_rng_range(&r, -30.0, -1.0) / 20.0);
    const size_t len = (size_t)(tr_rng_range(&r, 0.8, 2.4) * FS);
    const double fade_in = 0.01 * FS, fade_out = 0.02 * FS;
    for (size_t k = 0; k < len && t + k < n; ++k) {
      const double env = fmin(1.0, fmin((double)k / fade_in, (double)(len - k) / fade_out));
      x[t + k] = (float)(amp * env * sin(2.0 * M_PI * f * (double)k / FS));
    }
    t += len;
  }
}
