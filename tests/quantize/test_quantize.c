/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Tests of the weight quantizer (models/quantize.c): known values, then
  properties over every bits x mapping x symmetric/asymmetric x granularity
  on seeded random tensors, and the hand-off to the kernels (qk_pack +
  qk_gemm_f32 against the dequantized matrix).
*/
#include "quantize.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qz_check.h"

static int fallbacks; /* k-means tensors that kept linear levels */

/* ------------------------------------------------------- known values */

static void test_known_values(void)
{
  /* 8-bit asymmetric on [0.2, -0.5, 1.3, 2.1, -1.6]:
     min -1.6, max 2.1, scale = 3.7/255, zp = rint(1.6 / scale) = rint(110.27) = 110 */
  const float w[5] = {0.2f, -0.5f, 1.3f, 2.1f, -1.6f};
  qz_scheme s = {8, QZ_LINEAR, true, QZ_PER_TENSOR, 32};
  qz_tensor t;
  char err[200];
  bool ok = qz_quantize(w, 1, 5, &s, &t, err, sizeof err);
  CHECK(ok, "%s", err);
  if (!ok)
    return;
  CHECK(t.w.format == QK_S8, "format %s", qk_format_name(t.w.format));
  CHECK(fabsf(t.scales[0] - 3.7f / 255.0f) <= 1e-6f * (3.7f / 255.0f), "scale %.9g", t.scales[0]);
  CHECK(t.zero_points && t.zero_points[0] + 128 == 110, "zp %d",
        t.zero_points ? t.zero_points[0] + 128 : -1);
  /* u = rint(w / scale) + 110: 0.2 -> 13.78 -> 124, -0.5 -> -34.46 -> 76,
     1.3 -> 89.59 -> 200, 2.1 -> 144.73 -> 255, -1.6 -> -110.27 -> 0 */
  const int want_u[5] = {124, 76, 200, 255, 0};
  for (int i = 0; i < 5; ++i)
    CHECK(t.codes[i] + 128 == want_u[i], "w=%g u=%d want %d", w[i], t.codes[i] + 128, want_u[i]);
  CHECK(t.saturated == 0, "saturated %zu", t.saturated);

  /* the worked example's rounded scale 0.0144: 2.1 / 0.0144 = 145.83 -> 146,
     + 110 = 256: must saturate to 255 (wrapping would give 0) */
  bool sat = false;
  int u = qz_linear_code(2.1f, 0.0144f, 110, 0, 255, &sat);
  CHECK(u == 255 && sat, "u=%d sat=%d", u, sat);
  u = qz_linear_code(-1.6f, 0.0144f, 110, 0, 255, &sat); /* -111.1 -> -111 + 110 = -1 -> 0 */
  CHECK(u == 0 && sat, "u=%d sat=%d", u, sat);
  t.scales[0] = 0.0144f;
  size_t n_sat = qz_requantize(&t, w);
  CHECK(n_sat == 2, "saturated %zu", n_sat);
  CHECK(t.codes[3] + 128 == 255, "2.1 -> u=%d", t.codes[3] + 128);
  CHECK(t.codes[4] + 128 == 0, "-1.6 -> u=%d", t.codes[4] + 128);
  qz_tensor_free(&t);

  /* round half to even, saturating symmetric clamp */
  CHECK(qz_linear_code(2.5f, 1.0f, 0, -127, 127, NULL) == 2, "2.5");
  CHECK(qz_linear_code(3.5f, 1.0f, 0, -127, 127, NULL) == 4, "3.5");
  CHECK(qz_linear_code(-2.5f, 1.0f, 0, -127, 127, NULL) == -2, "-2.5");
  CHECK(qz_linear_code(1e30f, 1.0f, 0, -127, 127, &sat) == 127 && sat, "huge");
  CHECK(qz_linear_code(-1e30f, 1e-30f, 0, -7, 7, &sat) == -7 && sat, "huge negative");

  /* symmetric 4-bit: q in [-7, 7], scale = absmax / 7 */
  const float w2[4] = {-1.4f, 0.7f, 0.1f, 0.35f};
  s = (qz_scheme){4, QZ_LINEAR, false, QZ_PER_CHANNEL, 32};
  ok = qz_quantize(w2, 1, 4, &s, &t, err, sizeof err);
  CHECK(ok, "%s", err);
  if (ok) {
    CHECK(fabsf(t.scales[0] - 0.2f) < 1e-7f, "scale %g", t.scales[0]);
    /* -1.4/0.2 = -7, 0.7/0.2 = 3.5 -> 4 (half to even), 0.5 -> 0, 1.75 -> 2 */
    const int want[4] = {-7, 4, 0, 2};
    for (int i = 0; i < 4; ++i)
      CHECK(t.codes[i] == want[i], "w=%g q=%d want %d", w2[i], t.codes[i], want[i]);
    CHECK(t.zero_points == NULL, "symmetric has no zero points");
    qz_tensor_free(&t);
  }
}

/* ----------------------------------------------------------- errors */

static void test_errors(void)
{
  float w[32] = {0};
  qz_tensor t;
  char err[200];
  qz_scheme s = {7, QZ_LINEAR, false, QZ_PER_CHANNEL, 32};
  CHECK(!qz_quantize(w, 2, 16, &s, &t, err, sizeof err) && strstr(err, "bits"), "%s", err);
  s.bits = 9;
  CHECK(!qz_quantize(w, 2, 16, &s, &t, err, sizeof err) && strstr(err, "bits"), "%s", err);
  s.bits = 1;
  CHECK(!qz_quantize(w, 2, 16, &s, &t, err, sizeof err) && strstr(err, "bits"), "%s", err);
  s = (qz_scheme){3, QZ_KMEANS, false, QZ_PER_CHANNEL, 32};
  CHECK(!qz_quantize(w, 2, 16, &s, &t, err, sizeof err) && strstr(err, "linear"), "%s", err);
  s = (qz_scheme){5, QZ_POW2, false, QZ_PER_CHANNEL, 32};
  CHECK(!qz_quantize(w, 2, 16, &s, &t, err, sizeof err) && strstr(err, "linear"), "%s", err);
  /* 6 and 5 bits: linear int8 codes of range +-31 / +-15 (mixed precision) */
  for (int bits = 5; bits <= 6; ++bits) {
    float ramp[32];
    for (int i = 0; i < 32; ++i)
      ramp[i] = (float)(i - 16) / 16.0f;
    s = (qz_scheme){bits, QZ_LINEAR, false, QZ_PER_CHANNEL, 32};
    CHECK(qz_quantize(ramp, 2, 16, &s, &t, err, sizeof err), "%d bits: %s", bits, err);
    const int qmax = (1 << (bits - 1)) - 1;
    int lo = 0, hi = 0;
    for (int i = 0; i < 32; ++i) {
      lo = t.codes[i] < lo ? t.codes[i] : lo;
      hi = t.codes[i] > hi ? t.codes[i] : hi;
    }
    CHECK(t.w.format == QK_S8 && lo == -qmax && hi <= qmax && t.nlevels == 2 * qmax + 1,
          "%d bits: format %d, codes %d..%d, %d levels", bits, (int)t.w.format, lo, hi, t.nlevels);
    qz_tensor_free(&t);
  }
  s = (qz_scheme){4, QZ_LINEAR, false, QZ_PER_GROUP, 24};
  CHECK(!qz_quantize(w, 2, 16, &s, &t, err, sizeof err) && strstr(err, "multiple of 16"), "%s",
        err);
  s.group = 16;
  w[5] = NAN;
  CHECK(!qz_quantize(w, 2, 16, &s, &t, err, sizeof err) && strstr(err, "non-finite"), "%s", err);
  w[5] = 0.0f;
  CHECK(!qz_quantize(w, 0, 16, &s, &t, err, sizeof err) && strstr(err, "size"), "%s", err);
  qz_tensor_free(&t); /* safe on a failed result */

  /* an all-zero matrix is fine: scale 0, every weight exactly 0 */
  for (int m = 0; m < QZ_MAPPING_COUNT; ++m) {
    for (int a = 0; a < 2; ++a) {
      s = (qz_scheme){4, (qz_mapping)m, a, QZ_PER_CHANNEL, 32};
      bool ok = qz_quantize(w, 2, 16, &s, &t, err, sizeof err);
      CHECK(ok, "%s", err);
      if (!ok)
        continue;
      float wh[32];
      qz_dequantize(&t, wh);
      for (int i = 0; i < 32; ++i)
        CHECK(wh[i] == 0.0f, "zero matrix %s asym=%d: w_hat[%d]=%g", qz_mapping_name(s.mapping), a,
              i, wh[i]);
      const char *perr = NULL;
      qk_packed *p = qk_pack(&t.w, QK_ISA_SCALAR, &perr);
      CHECK(p != NULL, "pack: %s", perr ? perr : "?");
      qk_packed_free(p);
      qz_tensor_free(&t);
    }
  }

  qz_mapping mp;
  qz_granularity gr;
  CHECK(qz_mapping_from_name("kmeans", &mp) && mp == QZ_KMEANS, "name");
  CHECK(qz_granularity_from_name("group", &gr) && gr == QZ_PER_GROUP, "name");
  CHECK(!qz_mapping_from_name("log", &mp), "unknown name");
}

/* ------------------------------------------------------- properties */

typedef struct {
  const char *name;
  int rows, cols;
  float *w;
} tensor_case;

/** Gaussian weights with per-row magnitudes spanning ~30x, some rows shifted
    off zero (asymmetric ranges), exact zeros sprinkled in. */
static float *make_weights(int rows, int cols, int kind)
{
  float *w = malloc((size_t)rows * cols * sizeof *w);
  for (int m = 0; m < rows; ++m) {
    double mag = 0.01 * pow(30.0, rng_uniform());
    double off = (kind == 1 && m % 3 == 0) ? 1.5 * mag : 0.0;
    for (int k = 0; k < cols; ++k) {
      double v = rng_gauss() * mag + off;
      if (kind == 2) /* all positive, e.g. a gain vector */
        v = fabs(v) + 0.001;
      if ((m * cols + k) % 11 == 0)
        v = 0.0;
      w[(size_t)m * cols + k] = (float)v;
    }
  }
  return w;
}

/** qk_gemm_f32 on the packed tensor equals W_hat * X from qz_dequantize. */
static void check_gemm(const qz_tensor *t, const float *w_hat, const char *label)
{
  const char *perr = NULL;
  qk_packed *p = qk_pack(&t->w, QK_ISA_SCALAR, &perr);
  CHECK(p != NULL, "%s: qk_pack: %s", label, perr ? perr : "?");
  if (!p)
    return;
  const int M = t->w.rows, K = t->w.cols, N = 5;
  float *X = malloc((size_t)K * N * sizeof *X), *Y = malloc((size_t)M * N * sizeof *Y);
  for (int i = 0; i < K * N; ++i)
    X[i] = (float)rng_gauss();
  qk_gemm_f32(p, X, K, N, NULL, Y, M, 0);
  double worst = 0.0;
  for (int n = 0; n < N; ++n) {
    for (int m = 0; m < M; ++m) {
      double ref = 0.0, mag = 0.0;
      for (int k = 0; k < K; ++k) {
        ref += (double)w_hat[(size_t)m * K + k] * X[(size_t)n * K + k];
        mag += fabs((double)w_hat[(size_t)m * K + k] * X[(size_t)n * K + k]);
      }
      double e = fabs(Y[(size_t)n * M + m] - ref) / (mag + 1e-30);
      if (e > worst)
        worst = e;
    }
  }
  CHECK(worst <= 1e-5, "%s: gemm vs W_hat*X relative error %g", label, worst);
  free(X);
  free(Y);
  qk_packed_free(p);
}

static double run_scheme(const tensor_case *tc, const qz_scheme *s, bool verbose)
{
  char label[160], err[200];
  snprintf(label, sizeof label, "%s %d-bit %s %s %s", tc->name, s->bits,
           qz_mapping_name(s->mapping), s->asymmetric ? "asym" : "sym",
           qz_granularity_name(s->granularity));
  qz_tensor t;
  if (!qz_quantize(tc->w, tc->rows, tc->cols, s, &t, err, sizeof err)) {
    CHECK(false, "%s: %s", label, err);
    return INFINITY;
  }
  const size_t n = (size_t)tc->rows * tc->cols;
  float *wh = malloc(n * sizeof *wh);
  qz_dequantize(&t, wh);
  const bool linear = t.w.format == QK_S8 || t.w.format == QK_S4 || t.w.format == QK_S2;
  const int gs = (t.w.group > 0 && t.w.group < tc->cols) ? t.w.group : tc->cols;

  /* expected storage format */
  if (t.levels != s->mapping && s->bits != 8) {
    ++fallbacks;
    printf("  (%s keeps linear levels: lower squared error)\n", label);
  }
  CHECK(t.levels == s->mapping || (s->mapping == QZ_KMEANS && t.levels == QZ_LINEAR),
        "%s: levels %s", label, qz_mapping_name(t.levels));
  if (t.levels == QZ_LINEAR)
    CHECK(linear && qk_format_bits(t.w.format) == (s->bits == 3 ? 4 : s->bits), "%s: format %s",
          label, qk_format_name(t.w.format));
  else
    CHECK(t.w.format == (s->bits == 2 ? QK_CB2 : QK_CB4), "%s: format %s", label,
          qk_format_name(t.w.format));
  CHECK((t.zero_points != NULL) == (linear && s->asymmetric), "%s: zero points", label);
  if (s->granularity == QZ_PER_TENSOR)
    for (int m = 1; m < tc->rows; ++m)
      CHECK(t.scales[m] == t.scales[0] && (!t.zero_points || t.zero_points[m] == t.zero_points[0]),
            "%s: per-tensor scale differs on row %d", label, m);

  /* linear: |w - w_hat| <= scale / 2 inside the range (every weight here is) */
  if (linear) {
    double worst = 0.0;
    for (int m = 0; m < tc->rows; ++m) {
      for (int k = 0; k < tc->cols; ++k) {
        size_t i = (size_t)m * tc->cols + k;
        float sc = t.scales[(size_t)m * t.ngroups + k / gs];
        double e = fabs((double)tc->w[i] - wh[i]);
        double lim = 0.5 * sc * (1.0 + 1e-5) + 1e-12;
        if (e / lim > worst)
          worst = e / lim;
      }
    }
    CHECK(worst <= 1.0, "%s: |w - w_hat| / (scale/2) up to %g", label, worst);
    CHECK(t.saturated == 0, "%s: %zu saturated", label, t.saturated);
  }

  /* zero exactly representable (asymmetric: required; all tables here hold 0) */
  for (size_t i = 0; i < n; ++i)
    if (tc->w[i] == 0.0f)
      CHECK(wh[i] == 0.0f, "%s: w=0 -> w_hat=%g at %zu", label, wh[i], i);

  /* requantizing the dequantized tensor gives the same codes: with the
     tensor's own scales (all mappings), and from scratch (linear, pow2) */
  qz_tensor r = t;
  r.codes = malloc(n);
  r.w.codes = r.codes;
  size_t rs = qz_requantize(&r, wh);
  CHECK(!memcmp(r.codes, t.codes, n) && rs == 0, "%s: requantize with fixed scales changed codes",
        label);
  free(r.codes);
  if (s->mapping != QZ_KMEANS || s->bits == 8) {
    qz_tensor r2;
    if (qz_quantize(wh, tc->rows, tc->cols, s, &r2, err, sizeof err)) {
      size_t diff = 0;
      for (size_t i = 0; i < n; ++i)
        diff += r2.codes[i] != t.codes[i];
      CHECK(diff == 0, "%s: requantize from scratch changed %zu codes", label, diff);
      qz_tensor_free(&r2);
    } else {
      CHECK(false, "%s: requantize: %s", label, err);
    }
  }

  /* squared error agrees with the dequantized matrix */
  double se = qz_squared_error(&t, tc->w), se2 = 0.0;
  for (size_t i = 0; i < n; ++i)
    se2 += ((double)tc->w[i] - wh[i]) * ((double)tc->w[i] - wh[i]);
  CHECK(fabs(se - se2) <= 1e-9 * (se2 + 1e-30), "%s: squared error %g vs %g", label, se, se2);

  check_gemm(&t, wh, label);
  if (verbose)
    printf("  %-44s levels %3d  mse %.4e\n", label, t.nlevels, se / (double)n);
  free(wh);
  qz_tensor_free(&t);
  return se;
}

static void test_properties(void)
{
  rng_state = 12345;
  tensor_case cases[] = {
      {"gauss 24x80", 24, 80, NULL},   /* group 32 -> 32, 32, 16 */
      {"shifted 16x64", 16, 64, NULL}, /* asymmetric rows */
      {"positive 8x48", 8, 48, NULL},  /* all >= 0 */
      {"thin 5x16", 5, 16, NULL},      /* one group == one row */
  };
  cases[0].w = make_weights(24, 80, 0);
  cases[1].w = make_weights(16, 64, 1);
  cases[2].w = make_weights(8, 48, 2);
  cases[3].w = make_weights(5, 16, 0);
  const int bits[3] = {8, 4, 2};
  int combos = 0;
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
    for (int b = 0; b < 3; ++b) {
      for (int a = 0; a < 2; ++a) {
        for (int g = 0; g < QZ_GRANULARITY_COUNT; ++g) {
          double se[QZ_MAPPING_COUNT];
          for (int m = 0; m < QZ_MAPPING_COUNT; ++m) {
            qz_scheme s = {bits[b], (qz_mapping)m, a, (qz_granularity)g, 32};
            se[m] = run_scheme(&cases[c], &s, false);
            ++combos;
          }
          /* k-means never worse than linear at the same bits on the same tensor */
          CHECK(se[QZ_KMEANS] <= se[QZ_LINEAR] * (1.0 + 1e-9),
                "%s %d-bit %s %s: kmeans %g > linear %g", cases[c].name, bits[b],
                a ? "asym" : "sym", qz_granularity_name((qz_granularity)g), se[QZ_KMEANS],
                se[QZ_LINEAR]);
        }
      }
    }
  }
  printf("property sweep: %d schemes on %zu tensors; %d of %d 4/2-bit k-means tensors kept"
         " linear levels\n",
         combos, sizeof cases / sizeof cases[0], fallbacks,
         (int)(sizeof cases / sizeof cases[0]) * 2 * 2 * QZ_GRANULARITY_COUNT);
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c)
    free(cases[c].w);
}

/** 3 bits: linear codes in the 4-bit format (S4, the kernels unchanged),
    limited to 8 levels: [-3, 3] symmetric, [-4, 3] asymmetric; every
    property of run_scheme (round trip, kernel hand-off); squared error
    between the 4-bit and the 2-bit one's on the same tensor. */
static void test_three_bits(void)
{
  rng_state = 4242;
  tensor_case tc = {"gauss 24x80", 24, 80, NULL};
  tc.w = make_weights(24, 80, 0);
  for (int a = 0; a < 2; ++a)
    for (int g = 0; g < QZ_GRANULARITY_COUNT; ++g) {
      double se[3];
      const int bits[3] = {4, 3, 2};
      for (int b = 0; b < 3; ++b) {
        qz_scheme s = {bits[b], QZ_LINEAR, a, (qz_granularity)g, 32};
        se[b] = run_scheme(&tc, &s, false);
      }
      CHECK(se[0] < se[1] && se[1] < se[2],
            "3-bit %s %s: squared error %g not between 4-bit %g and 2-bit %g", a ? "asym" : "sym",
            qz_granularity_name((qz_granularity)g), se[1], se[0], se[2]);
      qz_scheme s = {3, QZ_LINEAR, a, (qz_granularity)g, 32};
      qz_tensor t;
      char err[200];
      if (!qz_quantize(tc.w, tc.rows, tc.cols, &s, &t, err, sizeof err)) {
        CHECK(false, "3-bit: %s", err);
        continue;
      }
      int lo = 127, hi = -128;
      for (size_t i = 0; i < (size_t)tc.rows * tc.cols; ++i) {
        lo = t.codes[i] < lo ? t.codes[i] : lo;
        hi = t.codes[i] > hi ? t.codes[i] : hi;
      }
      CHECK(t.w.format == QK_S4 && lo == (a ? -4 : -3) && hi == 3 && t.nlevels == (a ? 8 : 7),
            "3-bit %s %s: format %s, codes %d..%d, %d levels", a ? "asym" : "sym",
            qz_granularity_name((qz_granularity)g), qk_format_name(t.w.format), lo, hi, t.nlevels);
      /** clipped ranges (the rounding's scale search, gptq's updates)
          saturate at the 3-bit extremes, not the format's */
      for (int i = 0; i < tc.rows * t.ngroups; ++i)
        t.scales[i] *= 0.5f;
      const size_t sat = qz_requantize(&t, tc.w);
      lo = 127, hi = -128;
      for (size_t i = 0; i < (size_t)tc.rows * tc.cols; ++i) {
        lo = t.codes[i] < lo ? t.codes[i] : lo;
        hi = t.codes[i] > hi ? t.codes[i] : hi;
      }
      CHECK(sat > 0 && lo >= (a ? -4 : -3) && hi <= 3,
            "3-bit %s %s at half the range: codes %d..%d, %zu saturated", a ? "asym" : "sym",
            qz_granularity_name((qz_granularity)g), lo, hi, sat);
      qz_tensor_free(&t);
    }
  free(tc.w);
}

/** Figures for the report: MSE of every mapping on one sample tensor. */
static void report_sample(void)
{
  rng_state = 777;
  tensor_case tc = {"gauss 64x256", 64, 256, NULL};
  tc.w = make_weights(64, 256, 0);
  printf("sample tensor %s (MSE per weight):\n", tc.name);
  const int bits[3] = {8, 4, 2};
  for (int b = 0; b < 3; ++b)
    for (int g = 0; g < QZ_GRANULARITY_COUNT; ++g)
      for (int a = 0; a < 2; ++a) {
        double se[QZ_MAPPING_COUNT];
        for (int m = 0; m < QZ_MAPPING_COUNT; ++m) {
          qz_scheme s = {bits[b], (qz_mapping)m, a, (qz_granularity)g, 32};
          se[m] = run_scheme(&tc, &s, bits[b] != 8);
        }
        /* on zero-centred weights k-means must win outright (no fallback) */
        if (bits[b] != 8)
          CHECK(se[QZ_KMEANS] < se[QZ_LINEAR], "%d-bit %s %s: kmeans %g, linear %g", bits[b],
                a ? "asym" : "sym", qz_granularity_name((qz_granularity)g), se[QZ_KMEANS],
                se[QZ_LINEAR]);
      }
  free(tc.w);
}

int main(void)
{
  test_known_values();
  test_errors();
  test_properties();
  test_three_bits();
  report_sample();
  printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
