/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Precision 16 on every model we ship and every reference model (issue 15
  item 1): the FP16-weight variant's ESR against the FP32 model on the
  reference input must be at most -60 dB, the BF16-compute variant's at
  most -24 dB (it rounds activations to 8 significant bits: -25 to -58 dB
  measured, printed for the README), and both must store every weight in
  2 bytes (weight memory = FP32's minus 2 bytes per weight: float biases
  stay).

  The FP16 variants are prepared as the plugin prepares them, on its
  calibration clip (models/calib_clip.h, 1 s): gptq onto the half grid
  plus bias correction (models/rounding.h), each linear in turn fitted
  to the float model's output from the inputs of the model whose earlier
  linears are already rounded (sequential rounding, models/variant.c),
  then judged on input.wav, a different signal. Plain round-to-nearest-
  even halves missed -60 dB on lstm.nam (-53.8), convnet_relu.nam (-58.6)
  and slimmable_container.nam (-50.2); one-pass gptq reached -69.9, -65.8
  and -56.5 (the container, a random-weight WaveNet of 64 linears,
  accumulating the rounding over its linears); sequential rounding
  -69.9, -69.3 and -63.1.

  Judged on the whole of input.wav (2 s: 1 s of silence, then a steady
  tone 9 dB louder than the calibration clip): its first 1.5 s hold only
  half a second of the tone, where slimmable_container measured -63.1 dB
  while the whole file gave -63.2 dB with sequential rounding and -57.0
  with the one-pass rounding, so the whole file is where a regression of
  the sequential path shows. The RTNeural reference models (.json, the
  optional third directory) are checked too: they are reference models
  as much as the .nam files.

  Held-out audio: FP16 rounding is fitted to its calibration clip, so a
  figure on one more signal proves little. Every model is also judged on
  three synthesized guitar clips the calibration never saw
  (tr_synth_guitar seeds 101, 202, 303: plucks, chords, riffs, slides,
  sweeps and silences at -40 to -1 dBFS peak), where the rounding fitted
  without the idle point fell to -50.6 dB (convnet_relu, a DC offset on
  silence) and -61.5 (overdrive_nano). slimmable_container is held to
  -55 there, not -60: it cancels 26 dB at its last linear, nearest halves
  give -52.9 dB on these clips and no calibration tried reached -60 on
  all of them (models/variant.c HALF_IDLE_SECONDS; the README's FP16
  section has the figures).

  quantone-run's path (optional --cli QUANTONE_RUN): for the models whose
  CLI figure used to differ from the plugin's (it calibrated on 2 s of
  its own clip: slimmable_container -58.2 against -63.2 dB), `quantone-run
  --precision 16 --json` on input.wav must report the same ESR as the
  plugin's preparation here, within 0.05 dB, and at most -60 dB.

  Usage: test_half_esr [--held-out] [--cli QUANTONE_RUN] MODELS_DIR
  NAM_REFERENCE_DIR [RTNEURAL_DIR]. Renders the whole of input.wav, and
  with --held-out FP16 weights on 2 s of each held-out clip instead of
  BF16 and quantone-run (0.2 s and no quantone-run under ASan); exit 77
  when the reference is missing.
*/
#include "calib_clip.h"
#include "linear.h"
#include "test_check.h"
#include "tr_synth.h"
#include "variant.h"

#include <dirent.h>
#include <math.h>
#include <stdbool.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static float *read_wav(const char *path, int max, int *frames)
{
  SF_INFO info;
  memset(&info, 0, sizeof info);
  SNDFILE *f = sf_open(path, SFM_READ, &info);
  if (!f)
    return NULL;
  const int n = info.frames < max ? (int)info.frames : max;
  float *x = info.channels == 1 ? malloc((size_t)n * sizeof(float)) : NULL;
  *frames = x ? (int)sf_readf_float(f, x, n) : 0;
  sf_close(f);
  return x;
}

static double esr_db(const float *y, const float *ref, int n)
{
  double e = 0.0, p = 0.0;
  for (int i = 0; i < n; ++i) {
    const double d = (double)y[i] - (double)ref[i];
    e += d * d;
    p += (double)ref[i] * (double)ref[i];
  }
  return 10.0 * log10(e / p);
}

/** The plugin's calibration clip (plugin/qt_plugin.h QT_CALIB_S: 1 s) */
static float *calib;
static int n_calib;

/** Held-out synthesized clips (none is the calibration audio) */
#define HELD_OUT_CLIPS 3
static const uint64_t held_out_seed[HELD_OUT_CLIPS] = {101, 202, 303};
static float *held_out[HELD_OUT_CLIPS];
static int n_held_out;
/** --held-out: judge FP16 weights on the held-out clips only (a second
    meson test, so that each stays under 10 s); else input.wav, BF16,
    weight memory and quantone-run */
static bool held_out_mode;

/** quantone-run, when its path is checked (--cli) */
static const char *quantone_run;
static const char *input_wav;

/** Models whose quantone-run figure is checked against the plugin's */
static const char *const cli_checked[] = {"slimmable_container.nam", "convnet_relu.nam",
                                          "slimmable_wavenet.nam"};

/** The ESR quantone-run reports for FP16 weights on input.wav (NAN when
    it fails or its JSON has none). */
static double cli_esr_db(const char *model)
{
  char json[] = "/tmp/test_half_esr_XXXXXX";
  const int fd = mkstemp(json);
  if (fd < 0)
    return NAN;
  close(fd);
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "'%s' --model '%s' --in '%s' --precision 16 --json '%s' >/dev/null",
           quantone_run, model, input_wav, json);
  double db = NAN;
  FILE *f = system(cmd) == 0 ? fopen(json, "r") : NULL;
  char text[8192];
  const size_t len = f ? fread(text, 1, sizeof text - 1, f) : 0;
  text[len] = 0;
  const char *at = strstr(text, "\"esr_db\":");
  if (at)
    db = strtod(at + strlen("\"esr_db\":"), NULL);
  if (f)
    fclose(f);
  unlink(json);
  return db;
}

static bool cli_checks(const char *base)
{
  for (size_t i = 0; quantone_run && i < sizeof cli_checked / sizeof cli_checked[0]; ++i)
    if (!strcmp(base, cli_checked[i]))
      return true;
  return false;
}

/** ESR (dB) of variant v against the float model m on x (n samples), both from a reset */
static double esr_on(qm_model *v, const float *x, int n, const float *ref, float *y)
{
  qm_model_reset(v);
  qm_model_process(v, x, y, n);
  return esr_db(y, ref, n);
}

static void check_model(const char *path, const float *x, int n)
{
  char err[512];
  qm_desc *d = qm_load_file(path, err, sizeof err);
  CHECK(d, "%s: %s", path, err);
  if (!d)
    return;
  const int n_buf = n > n_held_out ? n : n_held_out;
  float *ref = malloc((size_t)n * sizeof(float)), *y = malloc((size_t)n_buf * sizeof(float));
  /** the float model's output on each held-out clip */
  float *held_ref[HELD_OUT_CLIPS] = {NULL};
  double held_db[HELD_OUT_CLIPS];
  qm_model *m = qm_model_create(d, NULL, err, sizeof err);
  CHECK(m, "%s FP32: %s", path, err);
  if (!m)
    goto out;
  if (!held_out_mode)
    qm_model_process(m, x, ref, n);
  for (int c = 0; held_out_mode && c < HELD_OUT_CLIPS; ++c) {
    held_ref[c] = malloc((size_t)n_held_out * sizeof(float));
    if (!held_ref[c])
      goto out;
    qm_model_reset(m);
    qm_model_process(m, held_out[c], held_ref[c], n_held_out);
  }
  size_t bytes16 = qm_model_weight_bytes(m);
  for (int i = 0; i < qm_model_linear_count(m); ++i)
    bytes16 -= 2 * (size_t)qm_model_linear(m, i)->in * (size_t)qm_model_linear(m, i)->out;
  double db[QM_HALF_COUNT];
  for (int h = 0; h < (held_out_mode ? 1 : QM_HALF_COUNT); ++h) {
    qm_setting s;
    qm_setting_default(&s);
    s.bits = QM_BITS_HALF;
    s.half = (qm_half)h;
    qm_model *v = qm_variant_create(d, &s, NULL, calib, n_calib, err, sizeof err);
    CHECK(v, "%s %s: %s", path, qm_half_name(s.half), err);
    if (!v)
      goto out;
    db[h] = held_out_mode ? NAN : esr_on(v, x, n, ref, y);
    for (int c = 0; held_out_mode && c < HELD_OUT_CLIPS; ++c)
      held_db[c] = esr_on(v, held_out[c], n_held_out, held_ref[c], y);
    CHECK(qm_model_weight_bytes(v) == bytes16, "%s %s: weight memory %zu bytes, want %zu", path,
          qm_half_name(s.half), qm_model_weight_bytes(v), bytes16);
    qm_model_free(v);
  }
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const bool cancels = !strcmp(base, "slimmable_container.nam");
  const double held_bound = cancels ? -55.0 : -60.0;
  if (held_out_mode) {
    printf("  %-32s FP16 weights on held-out clips", base);
    for (int c = 0; c < HELD_OUT_CLIPS; ++c) {
      printf(" %6.1f", held_db[c]);
      if (!ASAN_BUILD)
        CHECK(held_db[c] <= held_bound, "%s: FP16 weights ESR %.1f dB > %.0f on held-out clip %d",
              path, held_db[c], held_bound, (int)held_out_seed[c]);
    }
    printf(" dB\n");
    goto out;
  }
  const bool cli = !ASAN_BUILD && cli_checks(base);
  const double cli_db = cli ? cli_esr_db(path) : NAN;
  if (cli) {
    CHECK(fabs(cli_db - db[QM_HALF_FP16]) <= 0.05,
          "%s: quantone-run reports FP16 ESR %.2f dB, the plugin's preparation %.2f", path, cli_db,
          db[QM_HALF_FP16]);
    CHECK(cli_db <= -60.0, "%s: quantone-run FP16 ESR %.2f dB > -60", path, cli_db);
  }
  /* The bounds were measured on the whole 2 s; the sanitized build's 0.2 s is the
     clip's quiet start, where the ESR's denominator is tiny (overdrive_standard
     BF16 measured -20.7 dB there). It runs the same code for memory errors;
     the release build judges the sound. */
  if (!ASAN_BUILD) {
    CHECK(db[QM_HALF_FP16] <= -60.0, "%s: FP16 weights ESR %.1f dB > -60", path, db[QM_HALF_FP16]);
    CHECK(db[QM_HALF_BF16] <= -24.0, "%s: BF16 compute ESR %.1f dB > -24", path, db[QM_HALF_BF16]);
  }
  printf("  %-32s FP16 weights %6.1f dB", base, db[QM_HALF_FP16]);
  if (cli)
    printf(" (quantone-run %6.1f)", cli_db);
  printf("   BF16 compute %6.1f dB\n", db[QM_HALF_BF16]);
out:
  qm_model_free(m);
  for (int c = 0; c < HELD_OUT_CLIPS; ++c)
    free(held_ref[c]);
  free(ref);
  free(y);
  qm_desc_free(d);
}

static int by_name(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/** Every file of a directory whose name ends in ext, in name order.
    Returns how many it checked. */
static int check_dir(const char *dir, const char *ext, const float *x, int n)
{
  DIR *dd = opendir(dir);
  if (!dd)
    return 0;
  char *names[256];
  int count = 0;
  struct dirent *e;
  while ((e = readdir(dd)) && count < 256) {
    const size_t len = strlen(e->d_name);
    const size_t elen = strlen(ext);
    if (len > elen && !strcmp(e->d_name + len - elen, ext))
      names[count++] = strdup(e->d_name);
  }
  closedir(dd);
  qsort(names, (size_t)count, sizeof names[0], by_name);
  for (int i = 0; i < count; ++i) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    check_model(path, x, n);
    free(names[i]);
  }
  return count;
}

int main(int argc, char **argv)
{
  if (argc > 1 && !strcmp(argv[1], "--held-out")) {
    held_out_mode = true;
    --argc;
    ++argv;
  }
  if (argc > 2 && !strcmp(argv[1], "--cli")) {
    quantone_run = argv[2];
    argc -= 2;
    argv += 2;
  }
  if (argc < 3) {
    fprintf(stderr, "usage: test_half_esr [--cli QUANTONE_RUN] MODELS_DIR NAM_REFERENCE_DIR "
                    "[RTNEURAL_DIR]\n");
    return 2;
  }
  char path[1024], input[1024];
  snprintf(input, sizeof input, "%s/input.wav", argv[2]);
  input_wav = input;
  snprintf(path, sizeof path, "%s", input);
  int n = 0;
  float *x = read_wav(path, ASAN_BUILD ? 9600 : 96000, &n);
  if (!x) {
    printf("SKIP: no %s\n", path);
    return 77;
  }
  /* the sanitized build judges no ESR (below): a quarter of the clip */
  calib = qm_calib_clip(48000.0, ASAN_BUILD ? 0.25 : QM_CALIB_CLIP_SECONDS, &n_calib);
  n_held_out = ASAN_BUILD ? 9600 : 96000;
  for (int c = 0; held_out_mode && c < HELD_OUT_CLIPS; ++c) {
    held_out[c] = malloc((size_t)n_held_out * sizeof(float));
    if (!held_out[c])
      return 1;
    tr_synth_guitar(held_out[c], (size_t)n_held_out, held_out_seed[c]);
  }
  int models = check_dir(argv[1], ".nam", x, n);
  models += check_dir(argv[2], ".nam", x, n);
  snprintf(path, sizeof path, "%s/current", argv[2]);
  models += check_dir(path, ".nam", x, n);
  if (argc > 3) {
    const int rtneural = check_dir(argv[3], ".json", x, n);
    CHECK(rtneural >= 4, "only %d RTNeural models found in %s", rtneural, argv[3]);
    models += rtneural;
  }
  CHECK(models >= 14, "only %d models found", models);
  free(x);
  free(calib);
  for (int c = 0; c < HELD_OUT_CLIPS; ++c)
    free(held_out[c]);
  printf("%d models, %d checks, %d failures\n", models, checks, failures);
  return failures ? 1 : 0;
}
