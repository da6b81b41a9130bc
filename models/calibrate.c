/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Activation observers: min/max, percentile and MSE calibration of a
  static int8 scale.

  The histogram
  -------------
  Percentile and MSE need the distribution of |x|, but the range is not
  known before the audio has been seen. The histogram therefore covers
  [0, R) with R = 2^e and B bins (B a power of two). When a value >= R
  arrives, R doubles as often as needed and neighbouring bins are summed
  pairwise. Because R and B are powers of two, a value's bin is
  floor(|x| * B / R) computed exactly (a multiplication by a power of two
  in double), and floor(floor(y) / 2^s) = floor(y / 2^s), so merging gives
  exactly the histogram that would have been built with the final range
  from the start: the result never depends on how the audio was split
  into blocks. The price is that the range can be up to 2x the largest
  value, i.e. at least B/2 bins cover the observed values.
*/
#include "calibrate.h"

#include "qk.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define QZ_OBS_DEFAULT_BINS 2048
#define QZ_OBS_MAX_BINS (1 << 20)
#define QZ_OBS_DEFAULT_PERCENTILE 99.99
#define QZ_QMAX 127

struct qz_observer {
  qz_observer_kind kind;
  double percentile;
  int bins; /**< B, a power of two */
  int log2_bins;
  uint64_t *hist; /**< B counts of |x| over [0, 2^range_exp) */
  bool has_range; /**< false until a non-zero value was seen */
  int range_exp;  /**< R = 2^range_exp > every |x| seen */
  float min, max, absmax;
  uint64_t count, nonfinite;
};

qz_observer *qz_observer_create(const qz_observer_config *cfg)
{
  qz_observer_config c = {QZ_OBS_MINMAX, 0.0, 0};
  if (cfg)
    c = *cfg;
  if ((unsigned)c.kind >= QZ_OBS_COUNT || c.bins < 0 || c.bins > QZ_OBS_MAX_BINS ||
      !(c.percentile >= 0.0 && c.percentile <= 100.0))
    return NULL;
  if (c.percentile == 0.0)
    c.percentile = QZ_OBS_DEFAULT_PERCENTILE;
  int bins = c.bins ? c.bins : QZ_OBS_DEFAULT_BINS, lb = 0;
  /** Round the bin count up to a power of two: see the histogram note. */
  while ((1 << lb) < bins)
    ++lb;
  if (lb < 1)
    lb = 1;
  qz_observer *o = calloc(1, sizeof *o);
  if (!o)
    return NULL;
  o->kind = c.kind;
  o->percentile = c.percentile;
  o->log2_bins = lb;
  o->bins = 1 << lb;
  o->hist = calloc((size_t)o->bins, sizeof *o->hist);
  if (!o->hist) {
    free(o);
    return NULL;
  }
  qz_observer_reset(o);
  return o;
}

void qz_observer_free(qz_observer *o)
{
  if (!o)
    return;
  free(o->hist);
  free(o);
}

void qz_observer_reset(qz_observer *o)
{
  memset(o->hist, 0, (size_t)o->bins * sizeof *o->hist);
  o->has_range = false;
  o->range_exp = 0;
  o->min = o->max = o->absmax = 0.0f;
  o->count = o->nonfinite = 0;
}

/** Grow R to 2^e (e > range_exp) by summing 2^(e - range_exp) bins at a time. */
static void grow_range(qz_observer *o, int e)
{
  int shift = e - o->range_exp;
  const int B = o->bins;
  if (shift >= o->log2_bins) {
    uint64_t total = 0;
    for (int i = 0; i < B; ++i)
      total += o->hist[i];
    memset(o->hist, 0, (size_t)B * sizeof *o->hist);
    o->hist[0] = total;
  } else {
    /* in place: bin i reads bins [i << shift, (i + 1) << shift), all >= i */
    int nb = B >> shift;
    for (int i = 0; i < nb; ++i) {
      uint64_t s = 0;
      for (int j = i << shift; j < (i + 1) << shift; ++j)
        s += o->hist[j];
      o->hist[i] = s;
    }
    memset(o->hist + nb, 0, (size_t)(B - nb) * sizeof *o->hist);
  }
  o->range_exp = e;
}

void qz_observer_update(qz_observer *o, const float *x, size_t n)
{
  /** The running figures in locals, stored once at the end: the
      histogram's counts are uint64_t like o->count, so every increment
      through o would make the compiler reload and store o->count too. */
  float lo = o->min, hi = o->max, bmax = 0.0f;
  /* pass 1: extremes of this block, so the range grows at most once */
  bool fresh = o->count == 0; /* min / max not yet initialized */
  for (size_t i = 0; i < n; ++i) {
    float v = x[i];
    if (!isfinite(v))
      continue;
    if (fresh) {
      lo = hi = v;
      fresh = false;
    }
    /** Comparisons, not fminf / fmaxf: the same result for finite values
        (on a tie, -0 against +0, both keep the value they had), without
        a call into libm per value (a fifth of a fresh plugin instance's
        CPU time when its variants calibrate static activations). */
    if (v < lo)
      lo = v;
    if (v > hi)
      hi = v;
    float a = fabsf(v);
    if (a > bmax)
      bmax = a;
  }
  o->min = lo;
  o->max = hi;
  if (bmax > o->absmax)
    o->absmax = bmax;
  if (bmax > 0.0f) {
    /** frexp: bmax = f * 2^e with f in [0.5, 1), so 2^e > bmax strictly and
        every |x| of the block falls in a bin index < B. */
    int e;
    frexp(bmax, &e);
    if (!o->has_range) {
      o->range_exp = e; /* earlier values were all 0: bin 0 at any range */
      o->has_range = true;
    } else if (e > o->range_exp) {
      grow_range(o, e);
    }
  }
  /* pass 2: histogram; B / 2^e is a power of two, so the product is exact */
  const double to_bin = ldexp(1.0, o->log2_bins - o->range_exp);
  const bool has_range = o->has_range;
  uint64_t *hist = o->hist, count = o->count, nonfinite = o->nonfinite;
  for (size_t i = 0; i < n; ++i) {
    float v = x[i];
    if (!isfinite(v)) {
      nonfinite++;
      continue;
    }
    size_t idx = has_range ? (size_t)(fabs((double)v) * to_bin) : 0;
    hist[idx]++;
    count++;
  }
  o->count = count;
  o->nonfinite = nonfinite;
}

void qz_observer_update_strided(qz_observer *o, const float *x, int ldx, int K, int N)
{
  for (int c = 0; c < N; ++c)
    qz_observer_update(o, x + (size_t)c * (size_t)ldx, (size_t)K);
}

/** T such that `percentile` % of the observed |x| are <= T, interpolating
    linearly inside the bin where the cumulative count crosses the target
    (values are taken as uniformly spread across a bin). */
static double percentile_threshold(const qz_observer *o)
{
  const double width = ldexp(1.0, o->range_exp - o->log2_bins);
  const double target = o->percentile / 100.0 * (double)o->count;
  double cum = 0.0;
  for (int i = 0; i < o->bins; ++i) {
    double c = (double)o->hist[i];
    if (c > 0.0 && cum + c >= target) {
      double t = (i + (target - cum) / c) * width;
      return fmin(t, (double)o->absmax);
    }
    cum += c;
  }
  return o->absmax;
}

/**
   Integral over [a, b) of the squared error of the symmetric int8 quantizer
   on |x| with step d: err(x) = (x - d * min(rint(x / d), 127))^2. The axis
   is cut into the quantizer's cells [(k - 1/2) d, (k + 1/2) d), in which
   err = (x - k d)^2 integrates to ((hi - k d)^3 - (lo - k d)^3) / 3; past
   126.5 d every value maps to the top level 127 d, which is where clipping
   error comes from.
*/
static double bin_error_integral(double a, double b, double d)
{
  double total = 0.0, lo = a;
  double kf = floor(a / d + 0.5);
  int k = kf >= QZ_QMAX ? QZ_QMAX : (int)kf;
  for (;;) {
    double L = k * d, hi = k >= QZ_QMAX ? b : fmin(b, (k + 0.5) * d);
    if (hi > lo) {
      double u = hi - L, l = lo - L;
      total += (u * u * u - l * l * l) / 3.0;
    }
    if (hi >= b)
      break;
    lo = hi;
    ++k;
  }
  return total;
}

/** Expected squared error of quantizing the histogram with clip T. */
static double mse_cost(const qz_observer *o, double T, int last_bin)
{
  const double width = ldexp(1.0, o->range_exp - o->log2_bins);
  const double d = T / QZ_QMAX;
  double cost = 0.0;
  for (int i = 0; i <= last_bin; ++i) {
    if (!o->hist[i])
      continue;
    /* bin i holds hist[i] values spread uniformly over [i w, (i + 1) w) */
    cost += (double)o->hist[i] / width * bin_error_integral(i * width, (i + 1) * width, d);
  }
  return cost;
}

/**
   T minimizing the expected squared error (rounding noise below T plus
   clipping error above it) over the histogram. Candidates are every bin
   edge up to the largest value and the exact max|x| itself; each is scored
   with the exact integral under the uniform-within-bin model, so no
   Delta^2 / 12 approximation skews the choice toward small thresholds.
*/
static double mse_threshold(const qz_observer *o)
{
  const double width = ldexp(1.0, o->range_exp - o->log2_bins);
  int last = o->bins - 1;
  while (last > 0 && !o->hist[last])
    --last;
  double best_t = o->absmax, best = mse_cost(o, best_t, last);
  for (int j = 1; j <= last + 1; ++j) {
    double t = j * width;
    if (t >= o->absmax)
      break;
    double c = mse_cost(o, t, last);
    if (c < best) {
      best = c;
      best_t = t;
    }
  }
  return best_t;
}

float qz_observer_threshold(const qz_observer *o)
{
  if (!(o->absmax > 0.0f))
    return 0.0f;
  double t;
  switch (o->kind) {
  case QZ_OBS_PERCENTILE: t = percentile_threshold(o); break;
  case QZ_OBS_MSE: t = mse_threshold(o); break;
  default: t = o->absmax; break;
  }
  if (!(t > 0.0))
    t = o->absmax;
  return (float)t;
}

float qz_observer_scale(const qz_observer *o)
{
  float t = qz_observer_threshold(o);
  /** scale = T / 127: T maps to the top int8 code. */
  float s = t / (float)QZ_QMAX;
  return s > 0.0f ? s : 1.0f / (float)QZ_QMAX;
}

float qz_observer_min(const qz_observer *o) { return o->min; }
float qz_observer_max(const qz_observer *o) { return o->max; }
float qz_observer_absmax(const qz_observer *o) { return o->absmax; }
uint64_t qz_observer_count(const qz_observer *o) { return o->count; }
uint64_t qz_observer_nonfinite(const qz_observer *o) { return o->nonfinite; }

/* ---- Layer input statistics ------------------------------------------------ */

struct qz_gram {
  int k;
  uint64_t count;
  double *sum_xx; /**< k * k, upper triangle (row i, column j >= i) filled */
  double *sum_x;  /**< k */
  float *block;   /**< k * k: float partial sums of up to QZ_GRAM_BLOCK columns */
  float *panel;   /**< k * QZ_GRAM_BLOCK: the block's columns, variable-major (block_add) */
};

/** Columns summed in float before they are added to the double sums: 8
    float lanes per vector instead of 4 doubles, and at most 32 terms per
    float sum (relative rounding error ~32 * 2^-24, far below what the
    rounding methods can resolve). */
#define QZ_GRAM_BLOCK 32

qz_gram *qz_gram_create(int k)
{
  if (k < 1 || k > (1 << 14))
    return NULL;
  qz_gram *g = calloc(1, sizeof *g);
  if (!g)
    return NULL;
  g->k = k;
  g->sum_xx = calloc((size_t)k * (size_t)k, sizeof *g->sum_xx);
  g->sum_x = calloc((size_t)k, sizeof *g->sum_x);
  g->block = calloc((size_t)k * (size_t)k, sizeof *g->block);
  g->panel = calloc((size_t)k * QZ_GRAM_BLOCK, sizeof *g->panel);
  if (!g->sum_xx || !g->sum_x || !g->block || !g->panel) {
    qz_gram_free(g);
    return NULL;
  }
  return g;
}

void qz_gram_free(qz_gram *g)
{
  if (!g)
    return;
  free(g->sum_xx);
  free(g->sum_x);
  free(g->block);
  free(g->panel);
  free(g);
}

int qz_gram_dim(const qz_gram *g) { return g->k; }
uint64_t qz_gram_count(const qz_gram *g) { return g->count; }

/** Add the float partial sums to the double ones and clear them. */
static void flush_block(qz_gram *g)
{
  const int K = g->k;
  for (int i = 0; i < K; ++i)
    for (int j = i; j < K; ++j) {
      g->sum_xx[(size_t)i * K + j] += g->block[(size_t)i * K + j];
      g->block[(size_t)i * K + j] = 0.0f;
    }
}

/**
   S[i][j] += sum over the nc columns c_t of c_t[i] c_t[j], as one matrix
   product on the kernels: with the columns laid out variable-major,
   P[i][t] = c_t[i] (K x nc), S += P P^T is qk_gemm_f32 of P packed as a
   weight matrix times the K columns P[j][.] (the same array read as
   activations). The whole square is summed (flush_block reads the upper
   triangle). On wavenet_a1_standard (quantone-bench prepare) the input
   statistics of a 4-bit gptq + bc preparation took 0.27 s of 0.36 s one
   column at a time in plain C, 0.20 s four columns at a time; see the
   commit for this one. Columns of nc terms per float sum, as before.
*/
static bool block_add(qz_gram *g, const float *const *c, int nc)
{
  const int K = g->k;
  for (int i = 0; i < K; ++i) {
    float *row = g->panel + (size_t)i * (size_t)nc;
    double s = 0.0;
    for (int t = 0; t < nc; ++t)
      row[t] = c[t][i];
    for (int t = 0; t < nc; ++t) /* s[i] += x_i, in double (bias correction's mean) */
      s += row[t];
    g->sum_x[i] += s;
  }
  qk_weights w = {.format = QK_F32, .rows = K, .cols = nc, .f32 = g->panel};
  qk_packed *P = qk_pack(&w, qk_active_isa(), NULL);
  if (!P)
    return false;
  qk_gemm_f32(P, g->panel, nc, K, NULL, g->block, K, QK_ACCUMULATE);
  qk_packed_free(P);
  return true;
}

/** The plain form of block_add's products, for when packing fails (out
    of memory; block_add has added the sums already). */
static void block_add_plain(qz_gram *g, const float *const *c, int nc)
{
  const int K = g->k;
  for (int t = 0; t < nc; ++t)
    for (int i = 0; i < K; ++i) {
      const float ai = c[t][i];
      float *row = g->block + (size_t)i * (size_t)K;
      for (int j = i; j < K; ++j)
        row[j] += ai * c[t][j];
    }
}

void qz_gram_update_strided(qz_gram *g, const float *x, int ldx, int K, int N)
{
  if (K != g->k)
    return;
  /** Up to QZ_GRAM_BLOCK finite columns are collected, summed into the
      float block (block_add), and flushed to the double sums. */
  const float *cols[QZ_GRAM_BLOCK];
  int nc = 0;
  for (int n = 0; n < N; ++n) {
    const float *c = x + (size_t)n * (size_t)ldx;
    /** 0 * x is 0 for every finite x and NaN for an infinity or a NaN:
        one sum tells whether the column is finite, and vectorizes. */
    float z = 0.0f;
    for (int i = 0; i < K; ++i)
      z += 0.0f * c[i];
    if (z != 0.0f)
      continue;
    g->count++;
    cols[nc++] = c;
    if (nc == QZ_GRAM_BLOCK) {
      if (!block_add(g, cols, nc))
        block_add_plain(g, cols, nc);
      flush_block(g);
      nc = 0;
    }
  }
  if (nc) {
    if (!block_add(g, cols, nc))
      block_add_plain(g, cols, nc);
    flush_block(g);
  }
}

void qz_gram_get(const qz_gram *g, double *H, double *mu)
{
  const int K = g->k;
  const double inv = g->count ? 1.0 / (double)g->count : 0.0;
  for (int i = 0; H && i < K; ++i)
    for (int j = i; j < K; ++j)
      H[(size_t)i * K + j] = H[(size_t)j * K + i] = g->sum_xx[(size_t)i * K + j] * inv;
  for (int i = 0; mu && i < K; ++i)
    mu[i] = g->sum_x[i] * inv;
}
