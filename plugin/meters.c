/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Output meters: ESR of the quantized path against the float reference over
  a sliding window, clipped (saturated int8) activations per second, and
  the DSP time of the quantized path relative to the reference.

  The window is QT_ESR_SEGS segments of rate/QT_ESR_SEGS samples counted
  from activation, independent of the host's block size, so the value on
  the port is exactly ESR = sum((q - r)^2) / sum(r^2) over the last
  QUANTONE_ESR_WINDOW_S seconds of whole segments (of signal: see Silence
  below); a test can recompute it offline from the two rendered signals.

  Both signals pass through a copy of the output's DC blocker (dcblock.h)
  before they are compared, the quantized path through one, the reference
  through another, so the meter measures what the player hears: a model
  variant that idles at an offset the blocker removes (the default
  model's is +0.095 at 2 bits) is not charged for it, and an ESR
  recomputed offline from two rendered outputs (tests, quantone-render) is
  the port's value. The error stays the model's: the filter is linear and
  the same on both, so it only removes what neither output contains any
  more.

  Silence: a segment whose reference is below QUANTONE_ESR_SILENCE_MS
  (about -70 dBFS) does not enter the window, so the window is the last
  QUANTONE_ESR_WINDOW_S of signal, and the port holds its value through a
  pause instead of measuring the models' idle noise against a reference of
  nearly nothing (Ardour with the transport stopped showed a constant
  -33.9 dB). The clipped count keeps the plain time window.
*/
#include "qt_plugin.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#define ESR_FLOOR_DB -120.0f
#define ESR_CEIL_DB 40.0f

void qt_meters_reset(qt_meters *mt, double rate)
{
  memset(mt, 0, sizeof *mt);
  mt->seg_len = (int)lround(rate * QUANTONE_ESR_WINDOW_S / QT_ESR_SEGS);
  if (mt->seg_len < 1)
    mt->seg_len = 1;
  mt->esr_db = ESR_FLOOR_DB;
  mt->dsp_ratio = 1.0f;
  qt_dcblock_init(&mt->dc_q, rate);
  qt_dcblock_init(&mt->dc_r, rate);
}

static float esr_db(double num, double den)
{
  if (num <= 0.0)
    return ESR_FLOOR_DB;
  if (den <= 0.0)
    return ESR_CEIL_DB;
  float v = (float)(10.0 * log10(num / den));
  return v < ESR_FLOOR_DB ? ESR_FLOOR_DB : v > ESR_CEIL_DB ? ESR_CEIL_DB : v;
}

/** Close the current segment and recompute the window sums (QT_ESR_SEGS
    additions per segment: cheap, and no drift from running subtraction).
    num / den form a ring of the last QT_ESR_SEGS segments with signal
    (idx, filled); clip a ring of the last QT_ESR_SEGS segments of time
    (cidx, cfilled). */
static void close_segment(qt_meters *mt)
{
  bool silent = mt->acc_den < QUANTONE_ESR_SILENCE_MS * mt->seg_len;
  mt->clip[mt->cidx] = mt->acc_clip;
  mt->cidx = (mt->cidx + 1) % QT_ESR_SEGS;
  if (mt->cfilled < QT_ESR_SEGS)
    ++mt->cfilled;
  size_t clip = 0;
  for (int i = 0; i < mt->cfilled; ++i)
    clip += mt->clip[i];
  /* per second, over the part of the window seen so far */
  mt->clipped = (float)((double)clip * QT_ESR_SEGS / (QUANTONE_ESR_WINDOW_S * mt->cfilled));
  if (!silent) {
    mt->num[mt->idx] = mt->acc_num;
    mt->den[mt->idx] = mt->acc_den;
    mt->idx = (mt->idx + 1) % QT_ESR_SEGS;
    if (mt->filled < QT_ESR_SEGS)
      ++mt->filled;
    double num = 0, den = 0;
    for (int i = 0; i < mt->filled; ++i) {
      num += mt->num[i];
      den += mt->den[i];
    }
    mt->esr_db = esr_db(num, den);
  }
  mt->acc_num = mt->acc_den = 0.0;
  mt->acc_clip = 0;
  mt->pos = 0;
}

void qt_meters_feed(qt_meters *mt, const float *q, const float *r, int n, size_t clipped)
{
  mt->acc_clip += clipped;
  int i = 0;
  while (i < n) {
    int k = mt->seg_len - mt->pos;
    if (k > n - i)
      k = n - i;
    double num = mt->acc_num, den = mt->acc_den;
    for (int j = i; j < i + k; ++j) {
      double fq = qt_dcblock_step(&mt->dc_q, q[j]), fr = qt_dcblock_step(&mt->dc_r, r[j]);
      double e = fq - fr;
      num += e * e;
      den += fr * fr;
    }
    mt->acc_num = num;
    mt->acc_den = den;
    mt->pos += k;
    i += k;
    if (mt->pos == mt->seg_len)
      close_segment(mt);
  }
  if (!isfinite(mt->dc_q.y1) || !isfinite(mt->dc_r.y1)) {
    qt_dcblock_reset(&mt->dc_q);
    qt_dcblock_reset(&mt->dc_r);
  }
}

/** Exponential average of both times (about 50 steps) so the ratio is
    steady enough to read while still following a switch. */
void qt_meters_time(qt_meters *mt, double t_q, double t_ref)
{
  const double a = 0.02;
  if (mt->t_q == 0.0 && mt->t_ref == 0.0) {
    mt->t_q = t_q;
    mt->t_ref = t_ref;
  } else {
    mt->t_q += a * (t_q - mt->t_q);
    mt->t_ref += a * (t_ref - mt->t_ref);
  }
  if (mt->t_ref > 0.0)
    mt->dsp_ratio = (float)(mt->t_q / mt->t_ref);
}
