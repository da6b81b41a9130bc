/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Slimmable models (models/slim.h, models/nam_container.c):
  - renders: each size of the reference's slimmable models
    (slimmable_container.nam, slimmable_wavenet.nam, A2.nam), chosen with
    qm_desc_at_slim(),
    reproduces NeuralAmpModelerCore's render at that --slim (ESR <= 1e-10
    with libm activations at blocks 1, 64 and 4096, after the prewarm),
    and qm_model_create() on the file plays its full size;
  - selection: which submodel plays just below and at each max_value, at 0
    and 1 and outside [0, 1]; the steps, their ranges, labels, weights and
    multiply-adds;
  - refusals: containers that are wrong in each way the loader checks,
    each message naming the file and the field.
  Usage: test_models_slim NAM_DIR (../shared/reference/nam; exit 77 without it).
*/
#define TEST_CHECK_STREAM stdout
#include "model_file.h"
#include "reference_io.h"
#include "slim.h"
#include "test_check.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** Worst ESR a size may have against its render: the same float
    arithmetic up to summation order. */
#define SLIM_ESR_LIMIT 1e-10

static const char *nam_dir;

static void check_render(qm_desc *d, const qm_desc *plays, const char *file, double s,
                         const char *how, bool required)
{
  char path[1200], err[512];
  snprintf(path, sizeof path, "%s/current/%.*s.slim%.1f.nam-core.wav", nam_dir,
           (int)(strlen(file) - 4), file, s);
  char in_path[1200];
  snprintf(in_path, sizeof in_path, "%s/input.wav", nam_dir);
  size_t n = 0, n_ref = 0;
  float *x = ref_read_wav(in_path, &n), *ref = ref_read_wav(path, &n_ref);
  CHECK(x && ref && n == n_ref, "reading %s and %s", in_path, path);
  qm_options o;
  qm_options_default(&o);
  o.fast_activations = false; /* the reference's exact activations */
  qm_model *m = x && ref && n == n_ref ? qm_model_create(plays, &o, err, sizeof err) : NULL;
  CHECK(m, "%s at slim %.1f: %s", file, s, err);
  float *y = malloc(n * sizeof(float) + 1);
  static const int blocks[] = {1, 64, 4096};
  for (int b = 0; m && b < 3; ++b) {
    ref_render(m, x, y, n, blocks[b]);
    const ref_cmp c = ref_compare(y, ref, n);
    printf("  %s slim %.1f (%s) block %4d: ESR %.3e (%.1f dB), max|err| %.3e%s\n", file, s, how,
           blocks[b], c.esr, 10 * log10(c.esr > 0 ? c.esr : 1e-300), c.max_err,
           required || c.esr <= SLIM_ESR_LIMIT ? "" : "  (not required yet)");
    CHECK(!required || c.esr <= SLIM_ESR_LIMIT, "%s slim %.1f block %d: ESR %.3e", file, s,
          blocks[b], c.esr);
  }
  (void)d;
  qm_model_free(m);
  free(y);
  free(x);
  free(ref);
}

static void test_renders(const char *file, const double *slims, int n_slims, bool required)
{
  char path[1100], err[512];
  snprintf(path, sizeof path, "%s/current/%s", nam_dir, file);
  qm_desc *d = qm_load_file(path, err, sizeof err);
  CHECK(d, "load: %s", err);
  if (!d)
    return;
  CHECK(qm_desc_slimmable(d), "%s is slimmable", file);
  for (int i = 0; i < n_slims; ++i) {
    const qm_desc *plays = qm_desc_at_slim(d, slims[i], err, sizeof err);
    CHECK(plays, "%s at %g: %s", file, slims[i], err);
    if (plays)
      check_render(d, plays, file, slims[i], "qm_desc_at_slim", required);
  }
  /* the description itself builds its full size */
  check_render(d, d, file, 1.0, "qm_model_create", required);
  qm_desc_free(d);
}

/* ---- Selection ------------------------------------------------------------------ */

static void test_container_selection(void)
{
  char path[1100], err[512];
  snprintf(path, sizeof path, "%s/current/slimmable_container.nam", nam_dir);
  qm_desc *d = qm_load_file(path, err, sizeof err);
  CHECK(d, "load: %s", err);
  if (!d)
    return;
  CHECK(d->arch == QM_ARCH_CONTAINER && d->container.n_submodels == 3, "three submodels");
  if (d->container.n_submodels != 3) {
    qm_desc_free(d);
    return;
  }
  const qm_desc *sub[3];
  for (int i = 0; i < 3; ++i)
    sub[i] = d->container.submodels[i].model;
  CHECK(!strcmp(sub[0]->architecture, "LSTM") && !strcmp(sub[1]->architecture, "WaveNet") &&
            !strcmp(sub[2]->architecture, "WaveNet"),
        "LSTM, WaveNet, WaveNet");
  CHECK(d->n_weights == 70 + 131 + 842, "weights of all submodels: %zu", d->n_weights);
  CHECK(d->prewarm_samples == sub[2]->prewarm_samples, "the full size's prewarm");
  CHECK(qm_desc_full_size(d) == sub[2], "full size is the last submodel");
  CHECK(qm_desc_receptive_field(d) == qm_desc_receptive_field(sub[2]), "the full size's field");
  static const struct {
    double s;
    int plays;
  } cases[] = {{0.0, 0}, {0.2, 0},  {0.33, 1}, {0.5, 1}, {0.66, 2},
               {1.0, 2}, {-1.0, 0}, {2.0, 2},  {NAN, 2}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    const qm_desc *p = qm_desc_at_slim(d, cases[i].s, err, sizeof err);
    CHECK(p == sub[cases[i].plays], "slim %g plays submodel %d", cases[i].s, cases[i].plays);
  }
  /* just below each breakpoint, the submodel before */
  CHECK(qm_desc_at_slim(d, nextafter(0.33, 0), err, sizeof err) == sub[0], "below 0.33");
  CHECK(qm_desc_at_slim(d, nextafter(0.66, 0), err, sizeof err) == sub[1], "below 0.66");

  qm_slim_step st[8];
  const int n = qm_desc_slim_steps(d, st, 8);
  CHECK(n == 3, "3 steps, got %d", n);
  if (n == 3) {
    CHECK(st[0].lo == 0.0 && st[0].hi == 0.33, "step 1 [%g, %g)", st[0].lo, st[0].hi);
    CHECK(st[1].lo == 0.33 && st[1].hi == 0.66, "step 2 [%g, %g)", st[1].lo, st[1].hi);
    CHECK(st[2].lo == 0.66 && st[2].hi == 1.0, "step 3 [%g, %g]", st[2].lo, st[2].hi);
    CHECK(!strcmp(st[0].label, "submodel 1 of 3: LSTM, 3 hidden"), "label '%s'", st[0].label);
    CHECK(!strcmp(st[1].label, "submodel 2 of 3: WaveNet, 3+2 channels"), "label '%s'",
          st[1].label);
    CHECK(!strcmp(st[2].label, "submodel 3 of 3: WaveNet, 4+2 channels"), "label '%s'",
          st[2].label);
    CHECK(st[0].weights == 70 && st[1].weights == 131 && st[2].weights == 842,
          "weights %zu %zu %zu", st[0].weights, st[1].weights, st[2].weights);
    /* LSTM of 3: 4H(1 + H) + H = 51 */
    CHECK(st[0].macs_per_sample == 51, "LSTM MACs %g", st[0].macs_per_sample);
    /* a WaveNet's weights are its MACs plus its biases and head_scale, once each per sample */
    CHECK(st[1].macs_per_sample > 0 && st[1].macs_per_sample < st[1].weights &&
              st[2].macs_per_sample > st[1].macs_per_sample,
          "WaveNet MACs %g %g", st[1].macs_per_sample, st[2].macs_per_sample);
    for (int i = 0; i < n; ++i)
      printf("  step %d [%.2f, %.2f): %s, %zu weights, %.0f MACs/sample\n", i + 1, st[i].lo,
             st[i].hi, st[i].label, st[i].weights, st[i].macs_per_sample);
  }
  CHECK(qm_desc_slim_steps(d, st, 2) == 2, "fills at most max");
  /* the description's count is the engine's: rows x columns of every linear */
  for (int i = 0; i < 3; ++i) {
    qm_model *m = qm_model_create(sub[i], NULL, err, sizeof err);
    CHECK(m, "build submodel %d: %s", i, err);
    if (m)
      CHECK(qm_desc_macs_per_sample(sub[i]) == qm_model_macs_per_sample(m),
            "submodel %d: %g MACs from the description, %g from the model", i,
            qm_desc_macs_per_sample(sub[i]), qm_model_macs_per_sample(m));
    qm_model_free(m);
  }
  qm_desc_free(d);

  /* A plain model: one size, itself. */
  snprintf(path, sizeof path, "%s/lstm.nam", nam_dir);
  qm_desc *plain = qm_load_file(path, err, sizeof err);
  CHECK(plain, "load: %s", err);
  if (plain) {
    CHECK(!qm_desc_slimmable(plain), "lstm.nam is not slimmable");
    CHECK(qm_desc_at_slim(plain, 0.0, err, sizeof err) == plain, "plays itself");
    CHECK(qm_desc_slim_steps(plain, st, 8) == 1 && st[0].lo == 0 && st[0].hi == 1 &&
              st[0].weights == plain->n_weights,
          "one step");
    qm_desc_free(plain);
  }
}

/** slimmable_wavenet.nam: one array of 3 channels, allowed [1, 2, 3], 10
    layers of kernel 3, no gating, head 1: 40 C^2 + 32 C + 1 weights. */
static void test_wavenet_selection(void)
{
  char path[1100], err[512];
  snprintf(path, sizeof path, "%s/current/slimmable_wavenet.nam", nam_dir);
  qm_desc *d = qm_load_file(path, err, sizeof err);
  CHECK(d, "load: %s", err);
  if (!d)
    return;
  CHECK(qm_desc_slimmable(d), "slimmable_wavenet.nam is slimmable");
  CHECK(qm_desc_full_size(d) == d, "its full size is itself");
  qm_slim_step st[8];
  const int n = qm_desc_slim_steps(d, st, 8);
  CHECK(n == 3, "3 steps, got %d", n);
  static const size_t weights[] = {73, 225, 457};
  static const char *const labels[] = {"1 of 3 channels", "2 of 3 channels", "3 of 3 channels"};
  for (int i = 0; i < n && i < 3; ++i) {
    CHECK(st[i].lo == i / 3.0 && st[i].hi == (i == 2 ? 1.0 : (i + 1) / 3.0), "step %d [%g, %g)", i,
          st[i].lo, st[i].hi);
    CHECK(st[i].weights == weights[i], "step %d: %zu weights, want %zu", i, st[i].weights,
          weights[i]);
    CHECK(!strcmp(st[i].label, labels[i]), "step %d label '%s'", i, st[i].label);
    printf("  step %d [%.3f, %.3f): %s, %zu weights, %.0f MACs/sample\n", i + 1, st[i].lo, st[i].hi,
           st[i].label, st[i].weights, st[i].macs_per_sample);
  }
  CHECK(st[2].weights == d->n_weights, "the full size's weights are the file's");
  /* selection: floor(S * 3), the same description every time */
  static const struct {
    double s;
    int channels;
  } cases[] = {{0.0, 1},       {0.3333, 1}, {1.0 / 3.0, 2}, {0.5, 2}, {0.6666, 2},
               {2.0 / 3.0, 3}, {1.0, 3},    {-1.0, 1},      {NAN, 3}};
  const qm_desc *first = NULL;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    const qm_desc *p = qm_desc_at_slim(d, cases[i].s, err, sizeof err);
    CHECK(p && p->arch == QM_ARCH_WAVENET && p->wavenet.arrays[0].channels == cases[i].channels,
          "slim %g plays %d channels", cases[i].s, cases[i].channels);
    if (cases[i].s == 0.0)
      first = p;
  }
  CHECK(qm_desc_at_slim(d, 0.1, err, sizeof err) == first, "a size is built once");
  CHECK(qm_desc_at_slim(d, 1.0, err, sizeof err) == d, "the full size is d itself");
  /* each size's MACs are the engine's for it */
  for (int i = 0; i < n; ++i) {
    const qm_desc *p = qm_desc_at_slim(d, st[i].lo, err, sizeof err);
    qm_model *m = p ? qm_model_create(p, NULL, err, sizeof err) : NULL;
    CHECK(m, "build step %d: %s", i, err);
    if (m)
      CHECK(st[i].macs_per_sample == qm_model_macs_per_sample(m), "step %d: MACs %g vs %g", i,
            st[i].macs_per_sample, qm_model_macs_per_sample(m));
    qm_model_free(m);
  }
  qm_desc_free(d);
}

/** A2.nam: a real container of 665 KB (nested weights through jansson's
    DOM): A2 nano (3 channels) below 0.5, A2 standard (8) from 0.5. */
static void test_a2_selection(void)
{
  char path[1100], err[512];
  snprintf(path, sizeof path, "%s/current/A2.nam", nam_dir);
  qm_desc *d = qm_load_file(path, err, sizeof err);
  CHECK(d, "load: %s", err);
  if (!d)
    return;
  qm_slim_step st[4];
  const int n = qm_desc_slim_steps(d, st, 4);
  CHECK(n == 2, "2 steps, got %d", n);
  if (n == 2) {
    CHECK(st[0].lo == 0 && st[0].hi == 0.5 && st[1].lo == 0.5 && st[1].hi == 1.0, "ranges");
    CHECK(!strcmp(st[0].label, "submodel 1 of 2: WaveNet, 3 channels") &&
              !strcmp(st[1].label, "submodel 2 of 2: WaveNet, 8 channels"),
          "labels '%s', '%s'", st[0].label, st[1].label);
    CHECK(st[0].weights == 1871 && st[1].weights == 12146, "weights %zu, %zu", st[0].weights,
          st[1].weights);
    for (int i = 0; i < n; ++i)
      printf("  A2 step %d [%.2f, %.2f): %s, %zu weights, %.0f MACs/sample\n", i + 1, st[i].lo,
             st[i].hi, st[i].label, st[i].weights, st[i].macs_per_sample);
  }
  CHECK(qm_desc_at_slim(d, nextafter(0.5, 0), err, sizeof err) == d->container.submodels[0].model,
        "below 0.5: nano");
  CHECK(qm_desc_at_slim(d, 0.5, err, sizeof err) == d->container.submodels[1].model,
        "0.5: standard");
  for (int i = 0; i < n; ++i) {
    const qm_desc *sub = d->container.submodels[i].model;
    qm_model *m = qm_model_create(sub, NULL, err, sizeof err);
    CHECK(m, "build A2 submodel %d: %s", i, err);
    if (m)
      CHECK(st[i].macs_per_sample == qm_model_macs_per_sample(m), "A2 %d: MACs %g vs %g", i,
            st[i].macs_per_sample, qm_model_macs_per_sample(m));
    qm_model_free(m);
  }
  qm_desc_free(d);
}

/* ---- Containers built from the reference's, changed one way each ------------------- */

static json_t *reference_container(void)
{
  char path[1100];
  snprintf(path, sizeof path, "%s/current/slimmable_container.nam", nam_dir);
  json_error_t je;
  json_t *root = json_load_file(path, 0, &je);
  CHECK(root, "%s: %s", path, je.text);
  return root;
}

static json_t *submodel(json_t *root, size_t i)
{
  return json_array_get(json_object_get(json_object_get(root, "config"), "submodels"), i);
}

/** Load `root` as "box.nam"; NULL and the message in err when refused. */
static qm_desc *load_json(json_t *root, char *err, size_t errlen)
{
  char *text = json_dumps(root, JSON_COMPACT);
  qm_desc *d = qm_load_buffer(text, strlen(text), "box.nam", err, errlen);
  free(text);
  return d;
}

static void expect_refused(json_t *root, const char *message, const char *what)
{
  char err[512] = "";
  qm_desc *d = load_json(root, err, sizeof err);
  CHECK(!d, "%s: loaded", what);
  CHECK(strstr(err, message), "%s: message '%s', expected '%s'", what, err, message);
  printf("  refused (%s): %s\n", what, err);
  qm_desc_free(d);
  json_decref(root);
}

static void test_refusals(void)
{
  json_t *r = reference_container();
  if (!r)
    return;
  json_decref(r);

  r = reference_container();
  json_object_set_new(submodel(r, 1), "max_value", json_real(0.2));
  expect_refused(r, "box.nam: config.submodels[1].max_value 0.2 is not above the 0.33", "unsorted");

  r = reference_container();
  json_object_set_new(submodel(r, 1), "max_value", json_real(0.33));
  expect_refused(r, "box.nam: config.submodels[1].max_value 0.33 is not above the 0.33",
                 "equal max_values");

  r = reference_container();
  json_object_set_new(submodel(r, 2), "max_value", json_real(0.9));
  expect_refused(r, "box.nam: config.submodels[2].max_value 0.9: the last must be at least 1.0",
                 "last below 1.0");

  r = reference_container();
  json_array_append_new(json_object_get(r, "weights"), json_real(1.0));
  expect_refused(r, "box.nam: weights: a SlimmableContainer's own \"weights\" must be []",
                 "own weights");

  r = reference_container();
  json_t *w = json_object_get(json_object_get(submodel(r, 1), "model"), "weights");
  json_array_remove(w, json_array_size(w) - 1);
  expect_refused(r, "box.nam: config.submodels[1].model: weight count mismatch", "broken submodel");

  r = reference_container();
  json_object_set_new(json_object_get(submodel(r, 2), "model"), "architecture",
                      json_string("Transformer"));
  expect_refused(r, "box.nam: config.submodels[2].model: unknown architecture", "unknown inside");

  r = reference_container();
  json_object_set_new(submodel(r, 0), "model", json_deep_copy(r));
  expect_refused(r,
                 "box.nam: config.submodels[0].model: a SlimmableContainer inside a container "
                 "is not supported",
                 "nested container");

  r = reference_container();
  json_object_set_new(json_object_get(submodel(r, 2), "model"), "sample_rate", json_real(44100.0));
  expect_refused(r, "box.nam: config.submodels[2].model: sample_rate 44100 differs",
                 "sample rates");

  r = reference_container();
  json_object_del(submodel(r, 1), "max_value");
  expect_refused(r, "box.nam: missing key \"max_value\" in config.submodels[1]", "no max_value");

  r = reference_container();
  json_object_set_new(json_object_get(r, "config"), "submodels", json_array());
  expect_refused(r, "box.nam: config.submodels must be a non-empty array", "no submodels");

  /* what NeuralAmpModelerCore cannot slim, in a slimmable WaveNet */
  char wpath[1100];
  snprintf(wpath, sizeof wpath, "%s/current/slimmable_wavenet.nam", nam_dir);
  json_error_t je;
  json_t *array;
  r = json_load_file(wpath, 0, &je);
  array = json_array_get(json_object_get(json_object_get(r, "config"), "layers"), 0);
  json_object_set_new(array, "groups_input", json_integer(3));
  expect_refused(r, "box.nam: config.layers[0].groups_input is 3 in a slimmable WaveNet",
                 "grouped slimmable");
  r = json_load_file(wpath, 0, &je);
  array = json_array_get(json_object_get(json_object_get(r, "config"), "layers"), 0);
  json_object_set_new(array, "head",
                      json_pack("{s:i, s:i, s:b}", "out_channels", 1, "kernel_size", 2, "bias", 0));
  expect_refused(r, "box.nam: config.layers[0].head.kernel_size is 2 in a slimmable WaveNet",
                 "slimmable head conv");

  /* max_values beyond 1.0: the submodel covering 1.0 is the last step,
     the one above it never plays. */
  r = reference_container();
  json_object_set_new(submodel(r, 0), "max_value", json_real(0.5));
  json_object_set_new(submodel(r, 1), "max_value", json_real(1.2));
  json_object_set_new(submodel(r, 2), "max_value", json_real(2.0));
  char err[512];
  qm_desc *d = load_json(r, err, sizeof err);
  CHECK(d, "max_values 0.5, 1.2, 2: %s", err);
  if (d) {
    qm_slim_step st[4];
    const int n = qm_desc_slim_steps(d, st, 4);
    CHECK(n == 2 && st[0].lo == 0 && st[0].hi == 0.5 && st[1].lo == 0.5 && st[1].hi == 1.0,
          "two steps up to 1.0 (%d)", n);
    const qm_desc *second = d->container.submodels[1].model;
    CHECK(qm_desc_at_slim(d, 1.0, err, sizeof err) == second, "1.0 plays the second");
    CHECK(qm_desc_full_size(d) == second, "the full size is the one at 1.0");
    qm_desc_free(d);
  }
  json_decref(r);
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: %s NAM_DIR\n", argv[0]);
    return 2;
  }
  nam_dir = argv[1];
  char probe[1100];
  snprintf(probe, sizeof probe, "%s/current/slimmable_container.nam", nam_dir);
  FILE *f = fopen(probe, "rb");
  if (!f) {
    printf("reference data not found at %s: skipped\n", nam_dir);
    return 77;
  }
  fclose(f);
  test_container_selection();
  test_refusals();
  test_wavenet_selection();
  static const double container_slims[] = {0.2, 0.5, 1.0};
  test_renders("slimmable_container.nam", container_slims, 3, true);
  static const double wavenet_slims[] = {0.0, 0.5, 1.0};
  test_renders("slimmable_wavenet.nam", wavenet_slims, 3, true);
  test_a2_selection();
  static const double a2_slims[] = {0.0, 1.0};
  test_renders("A2.nam", a2_slims, 2, true);
  printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
