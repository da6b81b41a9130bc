/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Tests of the activation observers (models/calibrate.c): min/max exactness,
  percentile accuracy, the heavy-tailed behaviour that motivates percentile
  and MSE calibration, and independence from how the data is split into
  blocks.
*/
#include "calibrate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "qz_check.h"

/** Mean squared error of static int8 quantization with `scale`, exactly as
    qk_quantize_act_static does it: q = clamp(rint(x / scale), -127, 127). */
static double quant_mse(const float *x, size_t n, float scale)
{
  double se = 0.0;
  for (size_t i = 0; i < n; ++i) {
    float q = rintf(x[i] / scale);
    q = q > 127.0f ? 127.0f : q < -127.0f ? -127.0f : q;
    double e = (double)x[i] - (double)(q * scale);
    se += e * e;
  }
  return se / (double)n;
}

static qz_observer *make(qz_observer_kind kind)
{
  qz_observer_config c = {kind, 0.0, 0};
  qz_observer *o = qz_observer_create(&c);
  CHECK(o != NULL, "create %s", qz_observer_name(kind));
  return o;
}

static void test_minmax(void)
{
  qz_observer *o = make(QZ_OBS_MINMAX);
  CHECK(qz_observer_absmax(o) == 0.0f && qz_observer_scale(o) == 1.0f / 127.0f, "empty observer");
  const float a[4] = {0.25f, -0.5f, 0.0f, 0.125f};
  const float b[3] = {NAN, 1.75f, -INFINITY};
  qz_observer_update(o, a, 4);
  qz_observer_update(o, b, 3);
  CHECK(qz_observer_scale(o) == 1.75f / 127.0f, "scale %.9g", qz_observer_scale(o));
  CHECK(qz_observer_min(o) == -0.5f && qz_observer_max(o) == 1.75f, "min %g max %g",
        qz_observer_min(o), qz_observer_max(o));
  CHECK(qz_observer_count(o) == 5 && qz_observer_nonfinite(o) == 2, "counts %llu %llu",
        (unsigned long long)qz_observer_count(o), (unsigned long long)qz_observer_nonfinite(o));
  /* strided: 2 columns of K = 2 in ld 3 (the third row is padding, ignored) */
  const float c[6] = {0.1f, -3.0f, 99.0f, 0.2f, 0.3f, 99.0f};
  qz_observer_reset(o);
  qz_observer_update_strided(o, c, 3, 2, 2);
  CHECK(qz_observer_absmax(o) == 3.0f && qz_observer_count(o) == 4, "strided absmax %g",
        qz_observer_absmax(o));
  qz_observer_free(o);

  qz_observer_config bad = {QZ_OBS_PERCENTILE, 101.0, 0};
  CHECK(qz_observer_create(&bad) == NULL, "percentile > 100 refused");
}

static void test_percentile_accuracy(void)
{
  /* uniform |x| on [0, 1): the 99th percentile is 0.99 */
  rng_state = 5;
  qz_observer_config c = {QZ_OBS_PERCENTILE, 99.0, 0};
  qz_observer *o = qz_observer_create(&c);
  float buf[1000];
  for (int blk = 0; blk < 200; ++blk) {
    for (int i = 0; i < 1000; ++i)
      buf[i] = (float)((rng_uniform() * 2.0 - 1.0));
    qz_observer_update(o, buf, 1000);
  }
  float t = qz_observer_threshold(o);
  CHECK(fabsf(t - 0.99f) < 0.003f, "99th percentile of U(0,1) = %g", t);
  qz_observer_free(o);
}

static void test_heavy_tail(void)
{
  /* Gaussian body, 0.05 % spikes 40x larger: the case percentile and MSE
     calibration exist for */
  rng_state = 99;
  const size_t n = 200000;
  float *x = malloc(n * sizeof *x);
  for (size_t i = 0; i < n; ++i) {
    x[i] = (float)(0.1 * rng_gauss());
    if (rng_uniform() < 0.0005)
      x[i] = (float)(4.0 * rng_gauss());
  }
  qz_observer *mm = make(QZ_OBS_MINMAX), *pc = make(QZ_OBS_PERCENTILE), *ms = make(QZ_OBS_MSE);
  for (size_t i = 0; i < n; i += 4096) {
    size_t len = n - i < 4096 ? n - i : 4096;
    qz_observer_update(mm, x + i, len);
    qz_observer_update(pc, x + i, len);
    qz_observer_update(ms, x + i, len);
  }
  float s_mm = qz_observer_scale(mm), s_pc = qz_observer_scale(pc), s_ms = qz_observer_scale(ms);
  double e_mm = quant_mse(x, n, s_mm), e_pc = quant_mse(x, n, s_pc), e_ms = quant_mse(x, n, s_ms);
  printf("heavy tail (n=%zu): scale minmax %.5g (mse %.4e), percentile 99.99 %.5g (mse %.4e),"
         " mse %.5g (mse %.4e)\n",
         n, s_mm, e_mm, s_pc, e_pc, s_ms, e_ms);
  CHECK(s_pc < s_mm, "percentile %g not below minmax %g", s_pc, s_mm);
  CHECK(e_ms < e_mm, "MSE observer %g not below minmax %g", e_ms, e_mm);
  CHECK(e_ms <= e_pc * 1.05, "MSE observer %g much worse than percentile %g", e_ms, e_pc);

  /* scale sweep: the MSE observer's pick is near the best scale for the data */
  double best = INFINITY;
  for (int j = 1; j <= 400; ++j) {
    double e = quant_mse(x, n, s_mm * (float)j / 400.0f);
    if (e < best)
      best = e;
  }
  printf("  best swept scale gives mse %.4e; MSE observer is %.2f%% above it\n", best,
         100.0 * (e_ms / best - 1.0));
  CHECK(e_ms <= best * 1.10, "MSE observer %g vs swept best %g", e_ms, best);
  qz_observer_free(mm);
  qz_observer_free(pc);
  qz_observer_free(ms);
  free(x);
}

static void test_block_independence(void)
{
  /* growing range: small values first, then larger ones; one big update
     versus irregular blocks must give identical histograms and scales */
  rng_state = 2024;
  const size_t n = 50000;
  float *x = malloc(n * sizeof *x);
  for (size_t i = 0; i < n; ++i)
    x[i] = (float)(rng_gauss() * pow(10.0, 4.0 * (double)i / n - 3.0));
  for (int k = 0; k < QZ_OBS_COUNT; ++k) {
    qz_observer *one = make((qz_observer_kind)k), *many = make((qz_observer_kind)k);
    qz_observer_update(one, x, n);
    size_t i = 0, len = 1;
    while (i < n) {
      size_t l = n - i < len ? n - i : len;
      qz_observer_update(many, x + i, l);
      i += l;
      len = len * 3 % 1021 + 1; /* 1, 4, 13, 40, ... irregular */
    }
    CHECK(qz_observer_threshold(one) == qz_observer_threshold(many), "%s: %.9g vs %.9g",
          qz_observer_name((qz_observer_kind)k), qz_observer_threshold(one),
          qz_observer_threshold(many));
    qz_observer_free(one);
    qz_observer_free(many);
  }
  free(x);
}

int main(void)
{
  test_minmax();
  test_percentile_accuracy();
  test_heavy_tail();
  test_block_independence();
  printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
