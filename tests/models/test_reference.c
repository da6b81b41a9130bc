/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The float engine against the reference renders:
  - ../shared/reference/nam: wavenet_a1_standard.nam and lstm.nam on
    input.wav must reproduce *.nam-core.wav (NeuralAmpModelerCore, prewarmed)
    with ESR <= 1e-8 and max |err| <= 1e-4 at block sizes 1, 64, 4096 and a
    changing block size.
  - ../shared/reference/rtneural: each keras file's output_batch from its
    input_batch (RTNeural, zero state) with ESR <= 1e-8. Those outputs
    start from RTNeural's zero state, so the keras renders here start cold
    (qm_model_reset_cold): the engine's keras prewarm (AIDA-X's 2048 zero
    samples, which qm_model_reset runs) would start elsewhere. That the
    prewarm is there, and is AIDA-X's, is checked separately.
  Usage: test_models_reference NAM_DIR RTNEURAL_DIR. Exit 77 (skip) when the
  reference directory is missing.
*/
#include "engine.h"
#include "model_file.h"
#include "reference_io.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void test_nam(const char *dir, const char *name)
{
  char path[1024], refpath[1100], inpath[1100], err[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  snprintf(refpath, sizeof refpath, "%s-core.wav", path);
  snprintf(inpath, sizeof inpath, "%s/input.wav", dir);
  qm_desc *d = qm_load_file(path, err, sizeof err);
  if (!d) {
    printf("FAIL load %s\n", err);
    ++failures;
    return;
  }
  size_t n = 0, nref = 0;
  float *x = ref_read_wav(inpath, &n), *ref = ref_read_wav(refpath, &nref);
  if (!x || !ref || n != nref) {
    printf("FAIL reading %s / %s\n", inpath, refpath);
    ++failures;
    free(x);
    free(ref);
    qm_desc_free(d);
    return;
  }
  float *y = malloc((size_t)n * sizeof(float));
  printf("%s: %s, %zu weights, sample rate %g, prewarm %d, receptive field %d\n", name,
         d->architecture, d->n_weights, d->sample_rate, d->prewarm_samples,
         qm_desc_receptive_field(d));
  for (int fast = 0; fast <= 1; ++fast) {
    qm_options o;
    qm_options_default(&o);
    o.fast_activations = fast;
    qm_model *m = qm_model_create(d, &o, err, sizeof err);
    if (!m) {
      printf("FAIL create %s\n", err);
      ++failures;
      continue;
    }
    static const int blocks[] = {1, 64, 4096, 0};
    for (int b = 0; b < 4; ++b) {
      ref_render(m, x, y, n, blocks[b]);
      ref_cmp c = ref_compare(y, ref, n);
      bool ok = c.esr <= 1e-8 && c.max_err <= 1e-4;
      /* Both activation paths must meet the tolerance: libm is what the
         reference used, qk_* is the engine's default. */
      bool required = true;
      char label[16];
      if (blocks[b])
        snprintf(label, sizeof label, "%d", blocks[b]);
      else
        snprintf(label, sizeof label, "varying");
      printf("  %s %-7s block %-8s ESR %.3e (%.1f dB)  max|err| %.3e  %s\n", name,
             fast ? "qk_tanh" : "libm", label, c.esr, 10 * log10(c.esr > 0 ? c.esr : 1e-30),
             c.max_err, ok ? "ok" : (required ? "FAIL" : "over tolerance"));
      if (!ok && required)
        ++failures;
    }
    qm_model_free(m);
  }
  free(x);
  free(ref);
  free(y);
  qm_desc_free(d);
}

/**
   qm_model_reset() of a keras model = a cold start followed by 2048 zero
   samples (AIDA-X's pre-buffer): the first block after it equals, bit for
   bit, the block that follows 2048 zeros from the cold state.
*/
static void prewarm_is_zeros(const qm_desc *d, const char *name)
{
  char err[512];
  qm_options o;
  qm_options_default(&o);
  qm_model *a = qm_model_create(d, &o, err, sizeof err),
           *b = qm_model_create(d, &o, err, sizeof err);
  float zeros[2048] = {0}, sink[2048], x[256], ya[256], yb[256];
  for (int i = 0; i < 256; ++i)
    x[i] = 0.5f * sinf(0.05f * (float)i);
  if (!a || !b) {
    printf("FAIL create %s\n", err);
    ++failures;
  } else {
    qm_model_reset(a);
    qm_model_process(a, x, ya, 256);
    qm_model_reset_cold(b);
    qm_model_process(b, zeros, sink, 2048);
    qm_model_process(b, x, yb, 256);
    const bool same = !memcmp(ya, yb, sizeof ya);
    qm_model_reset_cold(b);
    qm_model_process(b, x, yb, 256);
    const bool differs = memcmp(ya, yb, sizeof ya) != 0;
    printf("  %-28s prewarm = 2048 zeros from cold: %s; cold start differs: %s\n", name,
           same ? "yes" : "no", differs ? "yes" : "no");
    if (!same || !differs)
      ++failures;
  }
  qm_model_free(a);
  qm_model_free(b);
}

static void test_keras(const char *dir, const char *name)
{
  char path[1024], err[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  qm_desc *d = qm_load_file(path, err, sizeof err);
  json_error_t je;
  json_t *root = json_load_file(path, 0, &je);
  if (!d || !root) {
    printf("FAIL load %s\n", d ? je.text : err);
    ++failures;
    qm_desc_free(d);
    json_decref(root);
    return;
  }
  json_t *in = json_object_get(root, "input_batch"), *out = json_object_get(root, "output_batch");
  size_t n = json_array_size(in);
  float *x = malloc(n * sizeof(float)), *ref = malloc(n * sizeof(float)),
        *y = malloc(n * sizeof(float));
  for (size_t i = 0; i < n; ++i) {
    x[i] = (float)json_number_value(json_array_get(json_array_get(in, i), 0));
    ref[i] = (float)json_number_value(json_array_get(json_array_get(out, i), 0));
  }
  if (d->prewarm_samples != 2048) {
    printf("FAIL %s: keras prewarm %d samples, AIDA-X's is 2048\n", name, d->prewarm_samples);
    ++failures;
  }
  prewarm_is_zeros(d, name);
  for (int fast = 0; fast <= 1; ++fast) {
    qm_options o;
    qm_options_default(&o);
    o.fast_activations = fast;
    qm_model *m = qm_model_create(d, &o, err, sizeof err);
    if (!m) {
      printf("FAIL create %s\n", err);
      ++failures;
      continue;
    }
    static const int blocks[] = {1, 64, 0}; /* 0: changing block sizes */
    for (int b = 0; b < 3; ++b) {
      ref_render_cold(m, x, y, n, blocks[b]);
      ref_cmp c = ref_compare(y, ref, n);
      bool ok = c.esr <= 1e-8;
      bool required = true;
      printf("  %-28s %-7s block %4d ESR %.3e (%.1f dB)  max|err| %.3e  %s\n", name,
             fast ? "qk_tanh" : "libm", blocks[b], c.esr, 10 * log10(c.esr > 0 ? c.esr : 1e-30),
             c.max_err, ok ? "ok" : (required ? "FAIL" : "over tolerance"));
      if (!ok && required)
        ++failures;
    }
    qm_model_free(m);
  }
  free(x);
  free(ref);
  free(y);
  json_decref(root);
  qm_desc_free(d);
}

int main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: %s NAM_DIR RTNEURAL_DIR\n", argv[0]);
    return 2;
  }
  char probe[1024];
  snprintf(probe, sizeof probe, "%s/input.wav", argv[1]);
  FILE *f = fopen(probe, "rb");
  if (!f) {
    printf("reference data not found at %s: skipped\n", argv[1]);
    return 77;
  }
  fclose(f);
  test_nam(argv[1], "wavenet_a1_standard.nam");
  test_nam(argv[1], "lstm.nam");
  static const char *keras[] = {"gru8_dense1.json", "lstm16_dense1.json",
                                "gru12_dense4tanh_dense1.json", "lstm8_lstm8_dense1.json"};
  for (int i = 0; i < 4; ++i)
    test_keras(argv[2], keras[i]);
  printf("%s\n", failures ? "FAILED" : "all reference checks passed");
  return failures ? 1 : 0;
}
