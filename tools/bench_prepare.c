/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  quantone-bench prepare: the CPU time of preparing a variant as the
  plugin's worker does it (plugin/worker.c variant_model: a model built
  from the description, then qm_model_quantize on the calibration clip,
  models/calib_clip.h, of QT_CALIB_S = 1 s at the model's rate), per
  setting, with the share of each step the progress hook reports
  (qm_model_set_progress): float reference, nearest rounding, input
  statistics, rounding, the guard's check. Times are the thread's CPU
  time (CLOCK_THREAD_CPUTIME_ID), so the other work on a shared machine
  does not count; the settings are interleaved run by run and the median
  of --runs is reported.

  usage: quantone-bench prepare [--model FILE]... [--settings LIST] [--runs R]
*/
#include "bench.h"

#include "calib_clip.h"
#include "setting.h"
#include "variant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef QT_SOURCE_ROOT
#define QT_SOURCE_ROOT "."
#endif

#define MAX_STEPS 8
#define MAX_SETTINGS 8
#define MAX_RUNS 31
/** The plugin's calibration clip length (plugin/qt_plugin.h QT_CALIB_S). */
#define CALIB_S 1.0

static double cpu_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/** The steps of one preparation: CPU seconds spent in each stage, the
    stages being what the progress hook names (the rounding of every layer
    counts as one step, "rounding"). */
typedef struct {
  char name[MAX_STEPS][32];
  double sec[MAX_STEPS];
  int n, cur;
  double t_last;
} steps;

static void on_progress(void *user, const char *stage, double fraction)
{
  (void)fraction;
  steps *s = user;
  double now = cpu_s();
  if (s->cur >= 0)
    s->sec[s->cur] += now - s->t_last;
  s->t_last = now;
  char name[32];
  snprintf(name, sizeof name, "%s", strncmp(stage, "rounding layer", 14) ? stage : "rounding");
  int i = 0;
  while (i < s->n && strcmp(s->name[i], name))
    ++i;
  if (i == s->n && s->n < MAX_STEPS)
    snprintf(s->name[s->n++], sizeof s->name[0], "%s", name);
  s->cur = i < s->n ? i : -1;
}

/** One preparation; its total CPU seconds, the steps in *st. */
static double prepare_once(const qm_desc *d, const qm_setting *set, const float *calib, int n,
                           steps *st)
{
  memset(st, 0, sizeof *st);
  st->cur = -1;
  char err[256];
  double t0 = cpu_s();
  qm_options o;
  qm_options_default(&o);
  qm_model *m = qm_model_create(d, &o, err, sizeof err);
  if (m) {
    qm_model_set_progress(m, on_progress, st);
    on_progress(st, "build", 0.0);
    if (!qm_model_quantize(m, set, calib, n, err, sizeof err))
      fprintf(stderr, "quantone-bench prepare: %s\n", err);
    on_progress(st, "end", 1.0);
    qm_model_free(m);
  } else {
    fprintf(stderr, "quantone-bench prepare: %s\n", err);
  }
  return cpu_s() - t0;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int bench_prepare(int argc, char **argv)
{
  const char *models[8];
  int n_models = 0, runs = 5;
  const char *list = "4:linear:sym:channel:dynamic,4:linear:sym:channel:dynamic:gptq:bc";
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--model") && i + 1 < argc && n_models < 8)
      models[n_models++] = argv[++i];
    else if (!strcmp(argv[i], "--settings") && i + 1 < argc)
      list = argv[++i];
    else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
      runs = atoi(argv[++i]);
    else {
      printf("usage: quantone-bench prepare [--model FILE]... [--settings LIST] [--runs R]\n\n"
             "CPU time of preparing each setting of LIST (quantone-render's form, default\n"
             "4-bit linear nearest and 4:gptq:bc, the plugin's Optimized) as the plugin's\n"
             "worker does, on its 1 s calibration clip, with the CPU time of each step;\n"
             "median of R runs (default 5), settings interleaved. Default model:\n"
             "../shared/reference/nam/wavenet_a1_standard.nam.\n");
      return strcmp(argv[i], "--help") ? 2 : 0;
    }
  }
  if (runs < 1 || runs > MAX_RUNS)
    runs = runs < 1 ? 1 : MAX_RUNS;
  static char def[4096];
  if (n_models == 0) {
    snprintf(def, sizeof def, "%s/../shared/reference/nam/wavenet_a1_standard.nam",
             QT_SOURCE_ROOT);
    models[n_models++] = def;
  }
  qm_setting sets[MAX_SETTINGS];
  char names[MAX_SETTINGS][96];
  int n_sets = 0;
  char *copy = strdup(list), *save = NULL;
  for (char *e = strtok_r(copy, ",", &save); e && n_sets < MAX_SETTINGS;
       e = strtok_r(NULL, ",", &save)) {
    char err[256];
    if (!qm_setting_parse(e, &sets[n_sets], err, sizeof err)) {
      fprintf(stderr, "quantone-bench prepare: %s\n", err);
      free(copy);
      return 2;
    }
    qm_setting_format(&sets[n_sets], names[n_sets], sizeof names[0]);
    ++n_sets;
  }
  free(copy);
  for (int mi = 0; mi < n_models; ++mi) {
    char err[256];
    qm_desc *d = qm_load_file(models[mi], err, sizeof err);
    if (!d) {
      fprintf(stderr, "quantone-bench prepare: %s\n", err);
      return 1;
    }
    int n = 0;
    float *calib = qm_calib_clip(d->sample_rate, CALIB_S, &n);
    printf("%s (%.0f Hz, calibration clip %.1f s), CPU seconds, median of %d\n", models[mi],
           d->sample_rate, CALIB_S, runs);
    static double total[MAX_SETTINGS][MAX_RUNS], step[MAX_SETTINGS][MAX_STEPS][MAX_RUNS];
    steps names_of[MAX_SETTINGS];
    for (int r = 0; r < runs; ++r)
      for (int s = 0; s < n_sets; ++s) {
        steps st;
        total[s][r] = prepare_once(d, &sets[s], calib, n, &st);
        for (int k = 0; k < st.n; ++k)
          step[s][k][r] = st.sec[k];
        names_of[s] = st;
      }
    for (int s = 0; s < n_sets; ++s) {
      printf("  %-44s %6.3f s", names[s], median(total[s], runs));
      const steps *st = &names_of[s];
      for (int k = 0; k < st->n; ++k)
        if (strcmp(st->name[k], "end"))
          printf("  %s %.3f", st->name[k], median(step[s][k], runs));
      printf("\n");
    }
    free(calib);
    qm_desc_free(d);
  }
  return 0;
}
