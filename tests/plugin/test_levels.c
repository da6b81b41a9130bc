/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Input calibration and output modes through the real bundle (issue 18,
  items 1, 2 and 4). Gains are read as the RMS ratio, in dB, of the
  plugin's output under two settings of the same input, after the levels'
  glide has settled: to 0.01 dB.
  - a Linear model (y = 0.5 x) whose metadata says loudness -30 dB,
    input_level_dbu 18 and output_level_dbu 6: calibration -6 dB at 12 dBu
    and +6 dB at 24 dBu, Normalized +12 dB, Calibrated -6 dB at 12 dBu;
  - the same model without metadata: calibration and Calibrated change
    nothing, Normalized plays -18 dB minus its measured loudness (the
    built-in clip's RMS - 6.02 dB: known in closed form);
  - the default model (overdrive_a2.nam, no metadata): the loudness
    clip itself played Normalized comes out at -18 dB RMS within 0.5 dB,
    and 2-bit weights keep the float model's gain (Normalized / Raw the
    same at 2 bits as at FP32, to 0.01 dB) while their error stays;
  - A2.nam (when ../shared is there): Normalized / Raw = -18 - (-26.3839);
    slimmable_container.nam's smaller size keeps the full size's gain.
  Usage: test_plugin_levels BUNDLE_DIR TMP_DIR [NAM_CURRENT_DIR]
*/
#include "host.h"

#include "loudness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(c, ...) qh_check((c), __VA_ARGS__)

static const LilvPlugin *plugin;

typedef struct {
  int mode, calibrate, precision;
  float dbu;
  float slim; /**< the slim port: 1 the full size */
} levels;

static const levels RAW = {QT_OUTPUT_RAW, 0, 32, 12, 1};

static double rms_db(const float *y, size_t a, size_t b)
{
  double s = 0;
  for (size_t i = a; i < b; ++i)
    s += (double)y[i] * y[i];
  return 10.0 * log10(s / (double)(b - a));
}

/** The plugin's output for x[n] under `lv` with `model` (NULL: the
    bundle's default); y malloc'd, n frames. */
static float *render(const char *model, const levels *lv, const float *x, size_t n)
{
  qhost *h = qh_new(plugin, 48000);
  if (!h)
    return NULL;
  if (model)
    qh_set_model(h, model);
  h->ctl[QT_PORT_OUTPUT_MODE] = (float)lv->mode;
  h->ctl[QT_PORT_CALIBRATE] = (float)lv->calibrate;
  h->ctl[QT_PORT_INPUT_DBU] = lv->dbu;
  h->ctl[QT_PORT_PRECISION] = (float)lv->precision;
  h->ctl[QT_PORT_SLIM] = lv->slim;
  qh_settle(h);
  float *y = malloc(n * sizeof *y);
  if (y)
    qh_render(h, x, y, n, 256, 0, NULL, NULL);
  qh_free(h);
  return y;
}

/** RMS of the last half of the render under `lv` minus under `base`, dB. */
static double gain_db(const char *model, const levels *lv, const levels *base, const float *x,
                      size_t n)
{
  float *a = render(model, lv, x, n), *b = render(model, base, x, n);
  double g = a && b ? rms_db(a, n / 2, n) - rms_db(b, n / 2, n) : NAN;
  free(a);
  free(b);
  return g;
}

static void check_gain(double got, double want, const char *what)
{
  CHECK(fabs(got - want) <= 0.01, "%s: %.4f dB, expected %.4f (+- 0.01)", what, got, want);
}

static bool write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  if (!f)
    return false;
  bool ok = fputs(text, f) >= 0;
  return fclose(f) == 0 && ok;
}

static void linear_models(const char *tmp, const float *x, size_t n)
{
  char meta[1200], plain[1200];
  snprintf(meta, sizeof meta, "%s/half_meta.nam", tmp);
  snprintf(plain, sizeof plain, "%s/half_plain.nam", tmp);
  const char *lin = "{\"version\": \"0.5.0\", \"architecture\": \"Linear\", \"config\": "
                    "{\"receptive_field\": 1, \"bias\": false}, \"weights\": [0.5]";
  char text[1024];
  snprintf(text, sizeof text,
           "%s, \"metadata\": {\"loudness\": -30.0, \"input_level_dbu\": 18.0, "
           "\"output_level_dbu\": 6.0}}",
           lin);
  char plain_text[512];
  snprintf(plain_text, sizeof plain_text, "%s}", lin);
  if (!write_file(meta, text) || !write_file(plain, plain_text)) {
    CHECK(false, "writing the Linear models in %s", tmp);
    return;
  }
  printf("A Linear model (y = 0.5 x) with loudness -30, input 18 dBu, output 6 dBu\n");
  levels cal12 = {QT_OUTPUT_RAW, 1, 32, 12, 1}, cal24 = {QT_OUTPUT_RAW, 1, 32, 24, 1};
  levels norm = {QT_OUTPUT_NORMALIZED, 0, 32, 12, 1};
  levels calib12 = {QT_OUTPUT_CALIBRATED, 0, 32, 12, 1},
         calib0 = {QT_OUTPUT_CALIBRATED, 0, 32, 0, 1};
  check_gain(gain_db(meta, &cal12, &RAW, x, n), 12.0 - 18.0, "input calibration at 12 dBu");
  check_gain(gain_db(meta, &cal24, &RAW, x, n), 24.0 - 18.0, "input calibration at 24 dBu");
  check_gain(gain_db(meta, &norm, &RAW, x, n), -18.0 + 30.0, "Normalized");
  check_gain(gain_db(meta, &calib12, &RAW, x, n), 6.0 - 12.0, "Calibrated at 12 dBu");
  check_gain(gain_db(meta, &calib0, &RAW, x, n), 6.0 - 0.0, "Calibrated at 0 dBu");

  printf("The same model without metadata\n");
  check_gain(gain_db(plain, &cal24, &RAW, x, n), 0.0, "input calibration does nothing");
  check_gain(gain_db(plain, &calib0, &RAW, x, n), 0.0, "Calibrated does nothing");
  size_t nc = 0;
  float *clip = qm_loudness_clip(&nc);
  if (!clip)
    return;
  double clip_db = rms_db(clip, 0, nc), measured = clip_db + 20.0 * log10(0.5);
  free(clip);
  printf("  built-in clip RMS %.3f dBFS: the model's measured loudness is %.3f dB\n", clip_db,
         measured);
  check_gain(gain_db(plain, &norm, &RAW, x, n), -18.0 - measured,
             "Normalized from the measured loudness");

  /** The plugin keeps a measured loudness for the life of the process
      (loudness_cache.c): by path and content, so another model written
      to the same path is measured again. */
  printf("Another model (y = 0.25 x) written to the same path\n");
  snprintf(plain_text, sizeof plain_text,
           "{\"version\": \"0.5.0\", \"architecture\": \"Linear\", \"config\": "
           "{\"receptive_field\": 1, \"bias\": false}, \"weights\": [0.25]}");
  if (!write_file(plain, plain_text)) {
    CHECK(false, "rewriting %s", plain);
    return;
  }
  check_gain(gain_db(plain, &norm, &RAW, x, n), -18.0 - (clip_db + 20.0 * log10(0.25)),
             "Normalized from the new file's measured loudness");
}

static void default_model(const float *x, size_t n)
{
  printf("The default model (no metadata: its loudness is measured)\n");
  size_t nc = 0;
  float *clip = qm_loudness_clip(&nc);
  levels norm = {QT_OUTPUT_NORMALIZED, 0, 32, 12, 1};
  float *y = clip ? render(NULL, &norm, clip, nc) : NULL;
  if (y) {
    double out = rms_db(y, 0, nc);
    CHECK(fabs(out - QM_LOUDNESS_TARGET_DB) <= 0.5,
          "the loudness clip played Normalized: %.3f dB RMS, target %.1f (+- 0.5)", out,
          QM_LOUDNESS_TARGET_DB);
    float *r = render(NULL, &RAW, clip, nc);
    if (r)
      CHECK(fabs(rms_db(r, 0, nc) - QM_LOUDNESS_TARGET_DB) > 1.0,
            "... and Raw is elsewhere (%.3f dB): a real check", rms_db(r, 0, nc));
    free(r);
  }
  free(y);
  free(clip);

  levels raw2 = {QT_OUTPUT_RAW, 0, 2, 12, 1}, norm2 = {QT_OUTPUT_NORMALIZED, 0, 2, 12, 1};
  double g32 = gain_db(NULL, &norm, &RAW, x, n), g2 = gain_db(NULL, &norm2, &raw2, x, n);
  check_gain(g2, g32, "2 bits keep the float model's normalization gain");
  float *q = render(NULL, &norm2, x, n), *f = render(NULL, &norm, x, n);
  if (q && f) {
    double e = 0, s = 0;
    for (size_t i = n / 2; i < n; ++i) {
      e += ((double)q[i] - f[i]) * ((double)q[i] - f[i]);
      s += (double)f[i] * f[i];
    }
    double esr = 10.0 * log10(e / s);
    CHECK(esr > -30.0, "... and its error is still heard: ESR %.1f dB against FP32, Normalized",
          esr);
  }
  free(q);
  free(f);
}

static void a2(const char *dir, const float *x, size_t n)
{
  char path[1200];
  snprintf(path, sizeof path, "%s/A2.nam", dir);
  if (access(path, R_OK) != 0) {
    printf("skip: %s\n", path);
    return;
  }
  printf("A2.nam (loudness -26.3839 in its metadata)\n");
  levels norm = {QT_OUTPUT_NORMALIZED, 0, 32, 12, 1};
  check_gain(gain_db(path, &norm, &RAW, x, n), -18.0 + 26.383899688720703, "Normalized");
}

/** A slimmable model without metadata: its smaller sizes play at the
    full model's measured gain, like quantized variants. */
static void slim_sizes(const char *dir, const float *x, size_t n)
{
  char path[1200];
  snprintf(path, sizeof path, "%s/slimmable_container.nam", dir);
  if (access(path, R_OK) != 0) {
    printf("skip: %s\n", path);
    return;
  }
  printf("slimmable_container.nam (no metadata: measured on its full size)\n");
  levels norm = {QT_OUTPUT_NORMALIZED, 0, 32, 12, 1}, raw = {QT_OUTPUT_RAW, 0, 32, 12, 1};
  double full = gain_db(path, &norm, &raw, x, n);
  norm.slim = raw.slim = 0.2f; /* the LSTM submodel */
  double small = gain_db(path, &norm, &raw, x, n);
  check_gain(small, full, "slim 0.2 keeps the full size's normalization gain");
  float *a = render(path, &raw, x, n);
  raw.slim = 1;
  float *b = render(path, &raw, x, n);
  if (a && b) {
    double d = fabs(rms_db(a, n / 2, n) - rms_db(b, n / 2, n));
    CHECK(d > 0.01, "... while the sizes' own levels differ by %.2f dB (not normalised away)", d);
  }
  free(a);
  free(b);
}

int main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: %s BUNDLE_DIR TMP_DIR [NAM_CURRENT_DIR]\n", argv[0]);
    return 2;
  }
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "mkdir -p '%s'", argv[2]);
  if (system(cmd) != 0)
    return 1;
  LilvWorld *world = lilv_world_new();
  qh_world_init(world);
  if (!(plugin = qh_find_plugin(world, argv[1])))
    return 1;
  /* 0.5 s of a guitar-like tone: 110 Hz and two overtones at -12 dBFS */
  size_t n = 24000;
  float *x = malloc(n * sizeof *x);
  if (!x)
    return 1;
  for (size_t i = 0; i < n; ++i) {
    double t = (double)i / 48000.0;
    x[i] = (float)(0.25 * (sin(2 * M_PI * 110 * t) + 0.5 * sin(2 * M_PI * 220 * t) +
                           0.25 * sin(2 * M_PI * 330 * t)));
  }
  linear_models(argv[2], x, n);
  default_model(x, n);
  if (argc > 3) {
    a2(argv[3], x, n);
    slim_sizes(argv[3], x, n);
  }
  free(x);
  lilv_world_free(world);
  printf("%s (%d failure%s)\n", qh_failures ? "FAILED" : "all passed", qh_failures,
         qh_failures == 1 ? "" : "s");
  return qh_failures ? 1 : 0;
}
