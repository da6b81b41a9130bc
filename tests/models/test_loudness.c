/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Input calibration, output modes and the measured loudness
  (models/loudness.h), issue 18 items 1 and 2:
  - the gains from known metadata, to 0.01 dB, including A2.nam's own
    loudness and input_level_dbu when ../shared is there;
  - the measured loudness of a model whose output is known in closed form
    (a NAM Linear model, y = 0.5 x: the clip's RMS level - 6.02 dB) and of
    a real WaveNet (overdrive_standard.nam) against an RMS computed here
    from its whole-clip output, both within 0.5 dB (they agree far closer).
  Usage: test_models_loudness MODELS_DIR [SHARED_REFERENCE_DIR]
*/
#include "engine.h"
#include "loudness.h"
#include "model_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void check(int ok, const char *what)
{
  printf("%s: %s\n", ok ? "ok" : "FAIL", what);
  if (!ok)
    ++failures;
}

static void check_db(double got, double want, double tol, const char *what)
{
  char line[256];
  snprintf(line, sizeof line, "%s: %.4f dB, expected %.4f (+- %.2f)", what, got, want, tol);
  check(fabs(got - want) <= tol, line);
}

static void formulas(void)
{
  qm_metadata m;
  memset(&m, 0, sizeof m);
  double g = 99;
  check(!qm_input_calibration_db(&m, 12.0, &g) && g == 0.0, "no input_level_dbu: no calibration");
  check(!qm_output_gain_db(&m, QM_OUTPUT_NORMALIZED, 12.0, false, 0, &g) && g == 0.0,
        "no loudness, none measured: normalized does nothing");
  check(!qm_output_gain_db(&m, QM_OUTPUT_CALIBRATED, 12.0, false, 0, &g) && g == 0.0,
        "no output_level_dbu: calibrated does nothing");
  check(qm_output_gain_db(&m, QM_OUTPUT_RAW, 12.0, true, -30.0, &g) && g == 0.0, "raw: 0 dB");
  check(qm_output_gain_db(&m, QM_OUTPUT_NORMALIZED, 12.0, true, -30.0, &g), "measured applies");
  check_db(g, 12.0, 0.01, "normalized from a measured -30 dB");

  m.has_input_level = true;
  m.input_level_dbu = 18.3;
  m.has_loudness = true;
  m.loudness = -25.5;
  m.has_output_level = true;
  m.output_level_dbu = 4.0;
  check(qm_input_calibration_db(&m, 12.0, &g), "input_level_dbu: calibration applies");
  check_db(g, -6.3, 0.01, "input 12 dBu interface, capture at 18.3 dBu");
  qm_input_calibration_db(&m, 24.0, &g);
  check_db(g, 5.7, 0.01, "input 24 dBu interface, capture at 18.3 dBu");
  qm_output_gain_db(&m, QM_OUTPUT_NORMALIZED, 12.0, true, -40.0, &g);
  check_db(g, 7.5, 0.01, "normalized: the file's loudness -25.5 wins over a measured one");
  qm_output_gain_db(&m, QM_OUTPUT_CALIBRATED, 12.0, false, 0, &g);
  check_db(g, -8.0, 0.01, "calibrated: output 4 dBu on a 12 dBu interface");
  qm_output_gain_db(&m, QM_OUTPUT_CALIBRATED, 0.0, false, 0, &g);
  check_db(g, 4.0, 0.01, "calibrated: output 4 dBu on a 0 dBu interface");
}

static void a2_metadata(const char *shared)
{
  char path[4096], err[512];
  snprintf(path, sizeof path, "%s/nam/current/A2.nam", shared);
  qm_desc *d = qm_load_file(path, err, sizeof err);
  if (!d) {
    printf("skip: A2.nam (%s)\n", err);
    return;
  }
  double g = 0;
  /* A2.nam's metadata: "loudness": -26.383899688720703, "input_level_dbu": 14.76 */
  check(qm_input_calibration_db(&d->meta, 12.0, &g), "A2.nam has input_level_dbu");
  check_db(g, 12.0 - 14.76, 0.01, "A2.nam input calibration at 12 dBu");
  check(qm_output_gain_db(&d->meta, QM_OUTPUT_NORMALIZED, 12.0, false, 0, &g),
        "A2.nam has loudness");
  check_db(g, -18.0 + 26.3839, 0.01, "A2.nam normalization gain");
  check(!qm_output_gain_db(&d->meta, QM_OUTPUT_CALIBRATED, 12.0, false, 0, &g),
        "A2.nam has no output_level_dbu: calibrated does nothing");
  qm_desc_free(d);
}

static double clip_rms_db(const float *x, size_t n)
{
  double s = 0;
  for (size_t i = 0; i < n; ++i)
    s += (double)x[i] * x[i];
  return 10.0 * log10(s / (double)n);
}

static void measured_linear(void)
{
  static const char nam[] = "{\"version\": \"0.5.0\", \"architecture\": \"Linear\", \"config\": "
                            "{\"receptive_field\": 1, \"bias\": false}, \"weights\": [0.5]}";
  char err[512];
  qm_desc *d = qm_load_buffer(nam, strlen(nam), "half.nam", err, sizeof err);
  check(d != NULL, "a Linear y = 0.5 x model loads");
  if (!d)
    return;
  qm_options o;
  qm_options_default(&o);
  qm_model *m = qm_model_create(d, &o, err, sizeof err);
  size_t n = 0;
  float *x = qm_loudness_clip(&n);
  double got = 0;
  check(m && x && qm_measure_loudness_db(m, &got, err, sizeof err), "Linear model measured");
  double clip = clip_rms_db(x, n);
  printf("clip: %zu frames, RMS %.3f dBFS\n", n, clip);
  check(clip > -40.0 && clip < -3.0, "the clip plays (RMS between -40 and -3 dBFS)");
  check_db(got, clip + 20.0 * log10(0.5), 0.5, "Linear 0.5 x: clip RMS - 6.02 dB");
  check_db(got, clip + 20.0 * log10(0.5), 0.01, "Linear 0.5 x, closely");
  free(x);
  qm_model_free(m);
  qm_desc_free(d);
}

static void measured_wavenet(const char *models)
{
  char path[4096], err[512];
  snprintf(path, sizeof path, "%s/overdrive_standard.nam", models);
  qm_desc *d = qm_load_file(path, err, sizeof err);
  check(d != NULL, "overdrive_standard.nam loads");
  if (!d)
    return;
  check(!d->meta.has_loudness, "overdrive_standard.nam carries no loudness (it is measured)");
  qm_options o;
  qm_options_default(&o);
  qm_model *m = qm_model_create(d, &o, err, sizeof err);
  double got = 0;
  check(m && qm_measure_loudness_db(m, &got, err, sizeof err), "overdrive_standard measured");
  /* Stated measure: RMS over the clip's output from the steady state, here
     in one call on a fresh model, summed in double. */
  qm_model *fresh = qm_model_create(d, &o, err, sizeof err);
  size_t n = 0;
  float *x = qm_loudness_clip(&n);
  float *y = x ? malloc(n * sizeof *y) : NULL;
  if (fresh && y) {
    qm_model_process(fresh, x, y, (int)n);
    double want = clip_rms_db(y, n);
    check_db(got, want, 0.5, "overdrive_standard: measured loudness vs RMS of its output");
    check(fabs(want - clip_rms_db(x, n)) > 1.0, "the model changes the level (a real check)");
  }
  free(x);
  free(y);
  qm_model_free(fresh);
  qm_model_free(m);
  qm_desc_free(d);
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: test_models_loudness MODELS_DIR [SHARED_REFERENCE_DIR]\n");
    return 2;
  }
  formulas();
  if (argc > 2)
    a2_metadata(argv[2]);
  measured_linear();
  measured_wavenet(argv[1]);
  printf("%s\n", failures ? "FAILED" : "all passed");
  return failures ? 1 : 0;
}
