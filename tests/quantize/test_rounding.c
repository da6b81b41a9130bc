/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Tests of post-training rounding (models/rounding.c) and the layer input
  statistics it reads (qz_gram, models/calibrate.c):
    - qz_gram equals the directly computed E[x x^T] and E[x] (to float
      rounding: it sums 32 columns in float), however the columns are
      split into blocks;
    - gptq never raises any row's layer objective above nearest rounding,
      for every mapping, symmetry, granularity and width, on correlated
      random inputs, and lowers the total clearly where inputs correlate;
    - with uncorrelated inputs (diagonal H) gptq is nearest rounding, code
      for code;
    - on a constructed layer whose optimum is known (two inputs that are
      always equal, so only the sum of their weights matters) gptq finds
      the brute-force optimum where nearest rounding misses it;
    - bias correction makes the mean layer output error zero on the
      calibration inputs;
    - adaround (models/adaround.c) never raises any row's objective (its
      damped one, and the plain one without damping) above the codes it
      starts from, nearest's or gptq's, for every mapping, symmetry,
      granularity and width, lowers it clearly at 4 and 2 bits, and finds
      the brute-force optimum of the constructed layer.
*/
#include "adaround.h"
#include "calibrate.h"
#include "quantize.h"
#include "rounding.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qz_check.h"

/** N columns of K inputs (frame-major, ld K) mixed from a few sources, so
    that inputs correlate as a real layer's do, plus a per-input offset. */
static float *correlated_inputs(int K, int N, int sources)
{
  float *x = malloc((size_t)K * N * sizeof *x);
  double *mix = malloc((size_t)K * sources * sizeof *mix);
  double *off = malloc((size_t)K * sizeof *off);
  for (int i = 0; i < K * sources; ++i)
    mix[i] = rng_gauss();
  for (int k = 0; k < K; ++k)
    off[k] = 0.5 * rng_gauss();
  double *s = malloc((size_t)sources * sizeof *s);
  for (int n = 0; n < N; ++n) {
    for (int j = 0; j < sources; ++j)
      s[j] = rng_gauss();
    for (int k = 0; k < K; ++k) {
      double v = off[k] + 0.05 * rng_gauss();
      for (int j = 0; j < sources; ++j)
        v += mix[k * sources + j] * s[j];
      x[(size_t)n * K + k] = (float)v;
    }
  }
  free(mix), free(off), free(s);
  return x;
}

static float *random_weights(int rows, int cols)
{
  float *w = malloc((size_t)rows * cols * sizeof *w);
  for (int i = 0; i < rows * cols; ++i)
    w[i] = (float)(0.3 * rng_gauss());
  return w;
}

static void gram_of(const float *x, int K, int N, double *H, double *mu)
{
  qz_gram *g = qz_gram_create(K);
  CHECK(g != NULL, "gram create");
  qz_gram_update_strided(g, x, K, K, N);
  qz_gram_get(g, H, mu);
  qz_gram_free(g);
}

static void test_gram(void)
{
  const int K = 5, N = 301;
  float *x = correlated_inputs(K, N, 2);
  double H[25], mu[5], H2[25], mu2[5];
  gram_of(x, K, N, H, mu);
  /* direct */
  for (int i = 0; i < K; ++i) {
    double m = 0.0;
    for (int n = 0; n < N; ++n)
      m += x[(size_t)n * K + i];
    CHECK(fabs(m / N - mu[i]) < 1e-12, "mean %d: %g vs %g", i, m / N, mu[i]);
    for (int j = 0; j < K; ++j) {
      double s = 0.0;
      for (int n = 0; n < N; ++n)
        s += (double)x[(size_t)n * K + i] * x[(size_t)n * K + j];
      /* float partial sums of 32 columns: float-rounding level, not exact */
      CHECK(fabs(s / N - H[i * K + j]) < 1e-5 * sqrt(H[i * K + i] * H[j * K + j]),
            "H %d %d: %g vs %g", i, j, s / N, H[i * K + j]);
    }
  }
  /* blocks of 7 with a padded layout (ld 8): same sums */
  float *pad = calloc((size_t)8 * N, sizeof *pad);
  for (int n = 0; n < N; ++n)
    memcpy(pad + (size_t)n * 8, x + (size_t)n * K, (size_t)K * sizeof *x);
  qz_gram *g = qz_gram_create(K);
  for (int n = 0; n < N; n += 7)
    qz_gram_update_strided(g, pad + (size_t)n * 8, 8, K, N - n < 7 ? N - n : 7);
  CHECK(qz_gram_count(g) == (uint64_t)N, "count %llu", (unsigned long long)qz_gram_count(g));
  qz_gram_get(g, H2, mu2);
  for (int i = 0; i < K * K; ++i)
    CHECK(fabs(H[i] - H2[i]) < 1e-5 * sqrt(H[i / K * (K + 1)] * H[i % K * (K + 1)]), "blocked H %d",
          i);
  qz_gram_free(g);
  free(pad);
  free(x);
}

/** For every scheme: gptq row objective <= nearest's, every row. Returns
    the total objectives summed over the 4-bit linear schemes. */
static void test_never_worse(void)
{
  const int R = 12, K = 48, N = 2000;
  float *x = correlated_inputs(K, N, 6);
  float *w = random_weights(R, K);
  double *H = malloc((size_t)K * K * sizeof *H);
  gram_of(x, K, N, H, NULL);
  double near_rows[12], gptq_rows[12];
  const int widths[3] = {8, 4, 2};
  int schemes = 0;
  for (int b = 0; b < 3; ++b)
    for (int mp = 0; mp < QZ_MAPPING_COUNT; ++mp)
      for (int a = 0; a < 2; ++a)
        for (int g = 0; g < QZ_GRANULARITY_COUNT; ++g) {
          qz_scheme s = {widths[b], (qz_mapping)mp, a != 0, (qz_granularity)g, 16};
          qz_tensor t;
          char err[160];
          CHECK(qz_quantize(w, R, K, &s, &t, err, sizeof err), "quantize: %s", err);
          double near = qz_layer_error(&t, w, H, near_rows);
          CHECK(qz_round_gptq(&t, w, H, 0.0, err, sizeof err), "gptq: %s", err);
          double opt = qz_layer_error(&t, w, H, gptq_rows);
          for (int m = 0; m < R; ++m)
            CHECK(gptq_rows[m] <= near_rows[m], "%d-bit %s %s %s row %d: gptq %g > nearest %g",
                  s.bits, qz_mapping_name(s.mapping), a ? "asym" : "sym",
                  qz_granularity_name(s.granularity), m, gptq_rows[m], near_rows[m]);
          /** Correlated inputs leave room to compensate at 4 and 2 bits:
              a gptq that did nothing would fail here. */
          if (s.bits <= 4)
            CHECK(opt < 0.7 * near, "%d-bit %s %s %s: gptq %g not clearly below nearest %g", s.bits,
                  qz_mapping_name(s.mapping), a ? "asym" : "sym",
                  qz_granularity_name(s.granularity), opt, near);
          /* the whole gptq pipeline of variant.c: scale search, gptq, refit */
          double piped_rows[12];
          qz_tensor_free(&t);
          CHECK(qz_quantize(w, R, K, &s, &t, err, sizeof err), "quantize: %s", err);
          CHECK(qz_search_scales(&t, w, H), "search");
          double searched = qz_layer_error(&t, w, H, NULL);
          CHECK(searched <= near, "%d-bit %s: scale search %g > nearest %g", s.bits,
                qz_mapping_name(s.mapping), searched, near);
          CHECK(qz_round_gptq(&t, w, H, 0.0, err, sizeof err), "gptq: %s", err);
          double rounded = qz_layer_error(&t, w, H, NULL);
          CHECK(qz_refit_scales(&t, w, H), "refit");
          qz_layer_error(&t, w, H, piped_rows);
          double piped = 0.0;
          for (int m = 0; m < R; ++m) {
            piped += piped_rows[m];
            CHECK(piped_rows[m] <= near_rows[m], "%d-bit %s row %d: pipeline %g > nearest %g",
                  s.bits, qz_mapping_name(s.mapping), m, piped_rows[m], near_rows[m]);
          }
          CHECK(piped <= rounded && rounded <= searched, "%d-bit %s: %g, %g, %g not decreasing",
                s.bits, qz_mapping_name(s.mapping), searched, rounded, piped);
          qz_tensor_free(&t);
          ++schemes;
        }
  CHECK(schemes == 3 * QZ_MAPPING_COUNT * 2 * QZ_GRANULARITY_COUNT, "schemes %d", schemes);
  free(H), free(w), free(x);
}

/** Uncorrelated inputs: nothing to compensate, gptq = nearest. */
static void test_diagonal_is_nearest(void)
{
  const int R = 8, K = 32;
  float *w = random_weights(R, K);
  double *H = calloc((size_t)K * K, sizeof *H);
  for (int k = 0; k < K; ++k)
    H[k * K + k] = 0.5 + rng_uniform();
  for (int mp = 0; mp < QZ_MAPPING_COUNT; ++mp) {
    qz_scheme s = {4, (qz_mapping)mp, false, QZ_PER_CHANNEL, 32};
    qz_tensor t;
    char err[160];
    CHECK(qz_quantize(w, R, K, &s, &t, err, sizeof err), "quantize: %s", err);
    int8_t *near = malloc((size_t)R * K);
    memcpy(near, t.codes, (size_t)R * K);
    CHECK(qz_round_gptq(&t, w, H, 0.0, err, sizeof err), "gptq: %s", err);
    CHECK(memcmp(near, t.codes, (size_t)R * K) == 0, "%s: diagonal H changed codes",
          qz_mapping_name(s.mapping));
    free(near);
    qz_tensor_free(&t);
  }
  free(H), free(w);
}

/**
   Inputs 1 and 2 always equal, input 0 and 3 independent (H = E[x x^T]
   with x = (a, b, b, c), unit powers): the output sees w1 + w2 only. At 4
   bits symmetric per channel with w0 = 7 the scale is 1 and the levels
   are the integers -7..7. w1 = w2 = 0.3: nearest gives 0 + 0 (sum error
   0.6), the optimum 0 + 1 or 1 + 0 (sum error 0.4). Brute force over all
   15^4 code choices gives the optimum; gptq must reach it.
*/
static void test_known_optimum(void)
{
  const int K = 4;
  const float w[4] = {7.0f, 0.3f, 0.3f, -2.2f};
  const double H[16] = {1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1};
  qz_scheme s = {4, QZ_LINEAR, false, QZ_PER_CHANNEL, 32};
  qz_tensor t;
  char err[160];
  CHECK(qz_quantize(w, 1, K, &s, &t, err, sizeof err), "quantize: %s", err);
  CHECK(t.scales[0] == 1.0f, "scale %g", t.scales[0]);
  double near = qz_layer_error(&t, w, H, NULL);
  CHECK(fabs(near - (0.36 + 0.04)) < 1e-6, "nearest objective %g", near);
  double best = INFINITY;
  int8_t keep[4];
  memcpy(keep, t.codes, 4);
  for (int c0 = -7; c0 <= 7; ++c0)
    for (int c1 = -7; c1 <= 7; ++c1)
      for (int c2 = -7; c2 <= 7; ++c2)
        for (int c3 = -7; c3 <= 7; ++c3) {
          t.codes[0] = (int8_t)c0, t.codes[1] = (int8_t)c1;
          t.codes[2] = (int8_t)c2, t.codes[3] = (int8_t)c3;
          double e = qz_layer_error(&t, w, H, NULL);
          if (e < best)
            best = e;
        }
  memcpy(t.codes, keep, 4);
  CHECK(fabs(best - (0.16 + 0.04)) < 1e-6, "brute-force optimum %g", best);
  CHECK(qz_round_gptq(&t, w, H, 0.0, err, sizeof err), "gptq: %s", err);
  double opt = qz_layer_error(&t, w, H, NULL);
  CHECK(fabs(opt - best) < 1e-9, "gptq %g, optimum %g (nearest %g)", opt, best, near);
  qz_tensor_free(&t);
}

/** Mean over the calibration columns of (W_hat x + delta) - W x is 0. */
static void test_bias_correction(void)
{
  const int R = 10, K = 40, N = 1500;
  float *x = correlated_inputs(K, N, 4);
  float *w = random_weights(R, K);
  double *H = malloc((size_t)K * K * sizeof *H), mu[40];
  gram_of(x, K, N, H, mu);
  for (int mp = 0; mp < QZ_MAPPING_COUNT; ++mp) {
    qz_scheme s = {2, (qz_mapping)mp, false, QZ_PER_CHANNEL, 32};
    qz_tensor t;
    char err[160];
    CHECK(qz_quantize(w, R, K, &s, &t, err, sizeof err), "quantize: %s", err);
    CHECK(qz_round_gptq(&t, w, H, 0.0, err, sizeof err), "gptq: %s", err);
    float delta[10], *wh = malloc((size_t)R * K * sizeof *wh);
    qz_bias_correction(&t, w, mu, delta);
    qz_dequantize(&t, wh);
    double worst_before = 0.0, worst_after = 0.0, scale = 0.0;
    for (int m = 0; m < R; ++m) {
      double before = 0.0, ref = 0.0;
      for (int n = 0; n < N; ++n) {
        double d = 0.0, y = 0.0;
        for (int k = 0; k < K; ++k) {
          d += ((double)wh[m * K + k] - w[m * K + k]) * x[(size_t)n * K + k];
          y += (double)w[m * K + k] * x[(size_t)n * K + k];
        }
        before += d;
        ref += y * y;
      }
      before /= N;
      double after = before + delta[m];
      worst_before = fmax(worst_before, fabs(before));
      worst_after = fmax(worst_after, fabs(after));
      scale = fmax(scale, sqrt(ref / N));
    }
    CHECK(worst_before > 1e-3 * scale, "%s: the test's layer has no mean error (%g)",
          qz_mapping_name(s.mapping), worst_before);
    CHECK(worst_after < 1e-6 * scale, "%s: mean error after correction %g (before %g)",
          qz_mapping_name(s.mapping), worst_after, worst_before);
    free(wh);
    qz_tensor_free(&t);
  }
  free(H), free(w), free(x);
}

/** H + lambda I: the objective adaround minimises with damping. */
static double *damped(const double *H, int K, double lambda)
{
  double *D = malloc((size_t)K * K * sizeof *D);
  memcpy(D, H, (size_t)K * K * sizeof *D);
  for (int k = 0; k < K; ++k)
    D[(size_t)k * K + k] += lambda;
  return D;
}

/** adaround from nearest and from gptq codes: every row's objective only
    goes down, for every scheme; clearly down at 4 and 2 bits. */
static void test_adaround_never_worse(void)
{
  const int R = 12, K = 48, N = 2000;
  float *x = correlated_inputs(K, N, 6);
  float *w = random_weights(R, K);
  double *H = malloc((size_t)K * K * sizeof *H);
  gram_of(x, K, N, H, NULL);
  double *Hd = damped(H, K, qz_adaround_lambda(H, K, -1.0));
  const int widths[3] = {8, 4, 2};
  int schemes = 0;
  for (int b = 0; b < 3; ++b)
    for (int mp = 0; mp < QZ_MAPPING_COUNT; ++mp)
      for (int a = 0; a < 2; ++a)
        for (int g = 0; g < QZ_GRANULARITY_COUNT; ++g)
          for (int start = 0; start < 2; ++start)
            for (int damp = 0; damp < 2; ++damp) {
              qz_scheme s = {widths[b], (qz_mapping)mp, a != 0, (qz_granularity)g, 16};
              qz_tensor t;
              char err[160];
              CHECK(qz_quantize(w, R, K, &s, &t, err, sizeof err), "quantize: %s", err);
              const double *Hj = damp ? Hd : H; /* the objective this run minimises */
              double near_rows[12], from_rows[12], ada_rows[12];
              const double near = qz_layer_error(&t, w, Hj, near_rows);
              if (start)
                CHECK(qz_round_gptq(&t, w, H, 0.0, err, sizeof err), "gptq: %s", err);
              qz_layer_error(&t, w, Hj, from_rows);
              long moved = qz_round_adaround(&t, w, H, damp ? -1.0 : 0.0);
              const double opt = qz_layer_error(&t, w, Hj, ada_rows);
              CHECK(moved >= 0, "adaround: out of memory");
              for (int m = 0; m < R; ++m)
                CHECK(ada_rows[m] <= from_rows[m] && (start || ada_rows[m] <= near_rows[m]),
                      "%d-bit %s %s %s from %s%s row %d: adaround %g > start %g", s.bits,
                      qz_mapping_name(s.mapping), a ? "asym" : "sym",
                      qz_granularity_name(s.granularity), start ? "gptq" : "nearest",
                      damp ? " damped" : "", m, ada_rows[m], from_rows[m]);
              /** From nearest, correlated inputs leave a lot to gain: an
                  adaround that did nothing fails here. */
              if (s.bits <= 4 && !start)
                CHECK(opt < 0.7 * near, "%d-bit %s %s %s%s: adaround %g not clearly below %g",
                      s.bits, qz_mapping_name(s.mapping), a ? "asym" : "sym",
                      qz_granularity_name(s.granularity), damp ? " damped" : "", opt, near);
              qz_tensor_free(&t);
              ++schemes;
            }
  CHECK(schemes == 4 * 3 * QZ_MAPPING_COUNT * 2 * QZ_GRANULARITY_COUNT, "schemes %d", schemes);
  free(Hd), free(H), free(w), free(x);
}

/** The constructed layer of test_known_optimum: one flip of w1 or w2
    from nearest is the optimum, and the descent takes it. */
static void test_adaround_known_optimum(void)
{
  const float w[4] = {7.0f, 0.3f, 0.3f, -2.2f};
  const double H[16] = {1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1};
  qz_scheme s = {4, QZ_LINEAR, false, QZ_PER_CHANNEL, 32};
  qz_tensor t;
  char err[160];
  CHECK(qz_quantize(w, 1, 4, &s, &t, err, sizeof err), "quantize: %s", err);
  long moved = qz_round_adaround(&t, w, H, 0.0);
  double opt = qz_layer_error(&t, w, H, NULL);
  CHECK(moved == 1 && fabs(opt - 0.2) < 1e-9, "adaround %g (optimum 0.2) after %ld moves", opt,
        moved);
  qz_tensor_free(&t);
}

int main(void)
{
  rng_state = 17;
  test_gram();
  test_never_worse();
  test_diagonal_is_nearest();
  test_known_optimum();
  test_bias_correction();
  test_adaround_never_worse();
  test_adaround_known_optimum();
  printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
