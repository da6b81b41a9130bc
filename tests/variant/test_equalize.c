/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Cross-layer equalization (models/equalize.h, issue 17) on real models:
  NAM's A2 capture (LeakyReLU: residual and activation groups), the
  bundle's overdrive_standard and NAM's wavenet_a1_standard (A1, gated:
  residual groups only). Usage: test_equalize MODELS_DIR REFERENCE_NAM_DIR
  For each model, on 0.5 s of the guitar clip (0.1 s under ASan):
  - it has the groups its form allows;
  - exact scales (what variants use): the per-channel range ratio r_w / r_r
    (qm_eq_worst_ratio) is lower after than before and within 1.05 of
    balanced, and the FP32 variant with equalized weights (the whole
    variant path: equalized weights packed, equalized biases installed)
    plays within ESR 1e-12 of the file's FP32 model;
  - powers of two: the model with those weights and biases installed
    plays the file's very bits (overdrive_standard, the one model whose
    channels are more than 2x apart, must have some channels rescaled);
  - at 4 bits, nearest rounding, the equalized weights do reach the
    quantized ones: the output differs from the unequalized variant's;
  - FP32 without equalization gives the file's bits back.
*/
#include "calib_clip.h"
#include "engine.h"
#include "equalize.h"
#include "linear.h"
#include "model_file.h"
#include "qk.h"
#include "setting.h"
#define TEST_CHECK_STREAM stdout
#include "test_check.h"
#include "variant.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void render(qm_model *m, const float *x, float *y, int n)
{
  qm_model_reset(m);
  for (int i = 0; i < n; i += 64)
    qm_model_process(m, x + i, y + i, n - i < 64 ? n - i : 64);
}

/** How many samples differ in their bits. */
static int bits_differ(const float *a, const float *b, int n)
{
  int d = 0;
  for (int i = 0; i < n; ++i)
    d += memcmp(&a[i], &b[i], sizeof a[i]) != 0;
  return d;
}

static double esr(const float *y, const float *ref, int n)
{
  double num = 0.0, den = 0.0;
  for (int i = 0; i < n; ++i) {
    num += ((double)y[i] - ref[i]) * ((double)y[i] - ref[i]);
    den += (double)ref[i] * ref[i];
  }
  return num / den;
}

/** Play eq's weights and biases in m's float linears (as the variant does,
    without its guard or quantizer). False when out of memory. */
static bool install(qm_model *m, const qm_equalization *eq)
{
  for (int i = 0; i < qm_model_linear_count(m); ++i) {
    if (!eq->w[i])
      continue;
    qm_linear *L = qm_model_linear(m, i);
    qk_weights w = {.format = QK_F32, .rows = L->out, .cols = L->in, .f32 = eq->w[i]};
    const char *why = NULL;
    qk_packed *P = qk_pack(&w, qk_active_isa(), &why);
    if (!P || !qm_linear_set_packed(L, P) || !qm_linear_set_bias(L, eq->bias[i]))
      return false;
  }
  return qm_model_save_prewarm(m);
}

/**
   One model: groups is how many groups its form has, pow2_scales whether
   powers of two must rescale some channel.
*/
static void check_model(const char *path, int groups_expected, bool pow2_scales)
{
  char err[512] = "";
  qm_desc *d = qm_load_file(path, err, sizeof err);
  if (!d) {
    CHECK(false, "%s: %s", path, err);
    return;
  }
  const double seconds = ASAN_BUILD ? 0.1 : 0.5;
  int n = 0;
  float *x = qm_calib_clip(d->sample_rate, seconds, &n);
  float *ref = malloc((size_t)n * sizeof *ref), *y = malloc((size_t)n * sizeof *y),
        *y4 = malloc((size_t)n * sizeof *y4);
  qm_model *m = qm_model_create(d, NULL, err, sizeof err);
  qm_model *p = qm_model_create(d, NULL, err, sizeof err);
  qm_equalization eq = {0};
  if (!x || !ref || !y || !y4 || !m || !p) {
    CHECK(false, "%s: %s", path, m && p ? "out of memory" : err);
    goto done;
  }
  render(m, x, ref, n);

  int groups = 0;
  const double before = qm_eq_worst_ratio(m, NULL, &groups);
  if (!qm_equalize(m, false, &eq, err, sizeof err)) {
    CHECK(false, "%s: %s", path, err);
    goto done;
  }
  const double after = qm_eq_worst_ratio(m, &eq, NULL);
  printf("%s: %d groups, %d channel rescales, worst range ratio %.4g -> %.4g\n", path, groups,
         eq.n_scaled, before, after);
  CHECK(groups == groups_expected && eq.n_groups == groups && eq.n_scaled > 0,
        "%s: %d channel groups (%d), %d channel rescales", path, groups, groups_expected,
        eq.n_scaled);
  CHECK(after < before && after <= 1.05,
        "%s: worst per-channel range ratio %.4g before, %.4g after (at most 1.05)", path, before,
        after);
  qm_equalization_free(&eq);

  /* The variant path at FP32 (not normalised: a setting string drops eq
     at FP32, where the plugin has no use for it). */
  qm_setting s;
  qm_setting_default(&s);
  s.equalize = true;
  if (!qm_model_quantize(m, &s, NULL, 0, err, sizeof err)) {
    CHECK(false, "%s: %s", path, err);
    goto done;
  }
  render(m, x, y, n);
  const double e = esr(y, ref, n);
  printf("%s: FP32 equalized, ESR %.3g against the file's\n", path, e);
  CHECK(qm_model_equalized(m) && e <= 1e-12,
        "%s: FP32 with equalized weights, ESR %.3g against the file's (at most 1e-12)", path, e);

  /* powers of two, installed by hand: the very bits */
  if (!qm_equalize(p, true, &eq, err, sizeof err) || !install(p, &eq)) {
    CHECK(false, "%s: %s", path, err[0] ? err : "out of memory");
    goto done;
  }
  render(p, x, y, n);
  const int diff = bits_differ(y, ref, n);
  printf("%s: powers of two, %d channel rescales, %d of %d samples differ\n", path, eq.n_scaled,
         diff, n);
  CHECK(diff == 0 && (eq.n_scaled > 0) == pow2_scales,
        "%s: power-of-two scales (%d channel rescales), %d of %d samples differ from the file's "
        "(0)",
        path, eq.n_scaled, diff, n);

  /* 4-bit nearest with and without: the equalized weights are quantized */
  s.bits = 4;
  s.equalize = false;
  bool ok = qm_model_quantize(m, &s, NULL, 0, err, sizeof err);
  if (ok)
    render(m, x, y4, n);
  s.equalize = true;
  ok = ok && qm_model_quantize(m, &s, NULL, 0, err, sizeof err);
  if (ok)
    render(m, x, y, n);
  CHECK(ok && bits_differ(y, y4, n) > n / 2,
        "%s: 4-bit nearest plays other samples equalized (%d of %d differ)", path,
        ok ? bits_differ(y, y4, n) : -1, n);
  s.bits = QM_BITS_FP32;
  s.equalize = false;
  ok = qm_model_quantize(m, &s, NULL, 0, err, sizeof err);
  if (ok)
    render(m, x, y, n);
  CHECK(ok && bits_differ(y, ref, n) == 0, "%s: FP32 again after equalized variants, bit for bit",
        path);
done:
  qm_equalization_free(&eq);
  qm_model_free(m);
  qm_model_free(p);
  qm_desc_free(d);
  free(x), free(ref), free(y), free(y4);
}

int main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODELS_DIR REFERENCE_NAM_DIR\n", argv[0]);
    return 2;
  }
  char path[1024];
  /* A2: 1 array, a residual group and the shared activation group */
  snprintf(path, sizeof path, "%s/current/A2.nam", argv[2]);
  check_model(path, 2, false);
  /* A1 forms: 2 arrays, one residual group each */
  snprintf(path, sizeof path, "%s/overdrive_standard.nam", argv[1]);
  check_model(path, 2, true);
  snprintf(path, sizeof path, "%s/wavenet_a1_standard.nam", argv[2]);
  check_model(path, 2, false);
  printf("%s: %d of %d checks failed\n", failures ? "FAIL" : "PASS", failures, checks);
  return failures ? 1 : 0;
}
