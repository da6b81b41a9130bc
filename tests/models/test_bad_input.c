/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Loader behaviour on good and bad files: every good sample loads, builds
  and runs; every bad one is refused with a message that starts with the
  file's path and names the problem. Usage: test_models_bad_input DIR
  (DIR is created; the sample files are written there).
*/
#include "engine.h"
#include "model_file.h"
#include "sample_files.h"

#define TEST_CHECK_STREAM stdout /* FAIL lines in order with the progress lines */
#include "test_check.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int taps_seen;
static void count_tap(void *user, int layer, const float *y, int ld, int ch, int frames)
{
  (void)user;
  (void)layer;
  for (int f = 0; f < frames; ++f)
    for (int c = 0; c < ch; ++c)
      if (!isfinite(y[(size_t)f * (size_t)ld + (size_t)c]))
        ++failures;
  ++taps_seen;
}

/** A good model must build, run at changing block sizes, in place, finite. */
static void run_good(const char *path, const qm_desc *d)
{
  char err[512];
  qm_model *m = qm_model_create(d, NULL, err, sizeof err);
  CHECK(m, "%s: create failed: %s", path, err);
  if (!m)
    return;
  enum { N = 3000 };
  static float x[N], y[N], z[N];
  for (int i = 0; i < N; ++i)
    x[i] = 0.5f * sinf(0.01f * (float)i) + 0.1f * sinf(0.37f * (float)i);
  taps_seen = 0;
  qm_model_set_tap(m, count_tap, NULL);
  int done = 0, k = 1;
  while (done < N) {
    int n = k < N - done ? k : N - done;
    qm_model_process(m, x + done, y + done, n);
    done += n;
    k = k * 3 % 700 + 1;
  }
  CHECK(taps_seen > 0, "%s: no layer taps", path);
  qm_model_set_tap(m, NULL, NULL);
  bool finite = true;
  for (int i = 0; i < N; ++i)
    finite = finite && isfinite(y[i]);
  CHECK(finite, "%s: non-finite output", path);
  /* Same result in place and in one block. */
  memcpy(z, x, sizeof z);
  qm_model_reset(m);
  qm_model_process(m, z, z, N);
  double diff = 0;
  for (int i = 0; i < N; ++i)
    diff = fmax(diff, fabs((double)z[i] - y[i]));
  CHECK(diff <= 1e-5, "%s: block-size / in-place mismatch %g", path, diff);
  CHECK(qm_model_linear_count(m) > 0 && qm_model_layer_count(m) > 0, "%s: no linears", path);
  for (int i = 0; i < qm_model_layer_count(m); ++i)
    CHECK(qm_model_layer_name(m, i) && qm_model_layer_channels(m, i) > 0, "%s: layer %d", path, i);
  qm_model_free(m);
}

int main(int argc, char **argv)
{
  const char *dir = argc > 1 ? argv[1] : "qm_samples";
  if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
    perror(dir);
    return 1;
  }
  sample_file *s;
  int n = samples_make(&s);
  char path[1024], err[512];
  for (int i = 0; i < n; ++i) {
    snprintf(path, sizeof path, "%s/%s", dir, s[i].name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(s[i].text, 1, s[i].len, f) != s[i].len) {
      perror(path);
      return 1;
    }
    fclose(f);
    err[0] = '\0';
    qm_desc *d = qm_load_file(path, err, sizeof err);
    if (!s[i].expect) {
      CHECK(d, "%s should load: %s", s[i].name, err);
      if (d) {
        printf("ok   %-22s loads: %s, %zu weights\n", s[i].name, d->architecture, d->n_weights);
        run_good(path, d);
      }
    } else {
      size_t pl = strlen(path);
      CHECK(!d, "%s should be refused", s[i].name);
      CHECK(strncmp(err, path, pl) == 0 && strncmp(err + pl, ": ", 2) == 0,
            "%s: message does not start with the path: %s", s[i].name, err);
      CHECK(strstr(err, s[i].expect), "%s: expected \"%s\" in: %s", s[i].name, s[i].expect, err);
      printf("ok   %-22s refused: %s\n", s[i].name, err + pl + 2);
    }
    qm_desc_free(d);
  }

  /* A later patch version than this build knows loads, with a warning the
     plugin and tools pass on; a file of a known version has none. */
  snprintf(path, sizeof path, "%s/good_version073.nam", dir);
  qm_desc *dv = qm_load_file(path, err, sizeof err);
  CHECK(dv && dv->warning && strstr(dv->warning, "0.7.3") && strstr(dv->warning, "0.7.0"),
        "version 0.7.3: expected a warning naming 0.7.3 and 0.7.0, got %s",
        dv && dv->warning ? dv->warning : "none");
  qm_desc_free(dv);
  snprintf(path, sizeof path, "%s/good_wavenet1.nam", dir);
  dv = qm_load_file(path, err, sizeof err);
  CHECK(dv && !dv->warning, "version 0.5.2 should load without a warning");
  qm_desc_free(dv);

  /* Metadata and extras of the good files. */
  snprintf(path, sizeof path, "%s/good_wavenet2.nam", dir);
  qm_desc *d = qm_load_file(path, err, sizeof err);
  CHECK(d && d->meta.name && !strcmp(d->meta.name, "Sample"), "metadata name");
  CHECK(d && d->meta.has_loudness && d->meta.loudness == -20.5, "loudness");
  CHECK(d && d->meta.has_gain && d->meta.gain == 0.4, "gain");
  CHECK(d && d->meta.has_input_level && d->meta.input_level_dbu == 12.0, "input level");
  CHECK(d && d->meta.has_output_level && d->meta.output_level_dbu == 6.5, "output level");
  CHECK(d && d->meta.has_validation_esr && d->meta.validation_esr == 0.0123, "validation esr");
  CHECK(d && d->meta.gear_make && !strcmp(d->meta.gear_make, "Q"), "gear_make");
  CHECK(d && d->sample_rate == 48000 && d->sample_rate_in_file, "sample rate");
  CHECK(d && qm_desc_receptive_field(d) == 1 + 2 * (1 + 2 + 4) + 1 * (1 + 8), "receptive field");
  qm_desc_free(d);
  snprintf(path, sizeof path, "%s/good_lstm2.nam", dir);
  d = qm_load_file(path, err, sizeof err);
  CHECK(d && d->sample_rate == 44100 && d->prewarm_samples == 22050, "lstm rate/prewarm");
  qm_desc_free(d);
  snprintf(path, sizeof path, "%s/good_linear.nam", dir);
  d = qm_load_file(path, err, sizeof err);
  CHECK(d && d->sample_rate == 48000 && !d->sample_rate_in_file, "default sample rate");
  qm_desc_free(d);
  snprintf(path, sizeof path, "%s/good_keras.json", dir);
  d = qm_load_file(path, err, sizeof err);
  CHECK(d && d->in_skip && d->out_gain_db == -3.0 && d->seq.n_layers == 5, "keras extras");
  qm_desc_free(d);

  /* A path that does not exist, and the explicit loaders on the wrong kind. */
  snprintf(path, sizeof path, "%s/does_not_exist.nam", dir);
  d = qm_load_file(path, err, sizeof err);
  CHECK(!d && strstr(err, path) && strstr(err, "cannot open"), "missing file: %s", err);
  d = qm_load_keras_buffer("{\"version\": \"0.5.0\"}", 20, "x.json", err, sizeof err);
  CHECK(!d && !strcmp(err, "x.json: missing key \"layers\" in the file"), "keras on nam: %s", err);
  /* A tiny error buffer truncates, never overflows. */
  char small[8];
  d = qm_load_buffer("nope", 4, "some/long/path.nam", small, sizeof small);
  CHECK(!d && strlen(small) == 7, "truncation");

  samples_free(s, n);
  printf("%s\n", failures ? "FAILED" : "all loader checks passed");
  return failures ? 1 : 0;
}
