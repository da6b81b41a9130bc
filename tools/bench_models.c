/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  quantone-bench models: whole-model streaming speed, one thread.

  For each model (default: wavenet_a1_standard.nam and lstm.nam from
  ../shared/reference/nam/) and each setting (FP32; 8, 4, 2 bits linear
  symmetric per channel with int8 dynamic activations and weight-only;
  when named, 4 and 2 bits asymmetric, per group of 32, or both),
  and each ISA asked for (--isa, default the active one), at block sizes
  1, 16, 32, 64, 256 (players use 1-128 frames): the median over runs (the
  settings and ISAs interleaved run by run) of the time to
  stream a fixed synthetic guitar-like signal through the model, as
  ns per sample, real-time factor, effective GMAC/s (the model's MACs per
  sample, sum over its linears of inputs x outputs, times samples / time:
  13,320 for the standard WaveNet), speed-up against our FP32 on the same
  ISA at the same block, and weight bytes. Every setting runs the same fixed workload, so
  the ratios compare like with like.

  A slimmable model (slim.h) is measured at each of its sizes, each
  named by its step ("slimmable_container.nam, slim 0.33: submodel 2 of
  3: WaveNet, 3+2 channels"), its speed-up against its own FP32.

  --rnn adds AIDA-X-style keras shapes (LSTM-12 = AIDA-X's "tw40",
  LSTM-20, LSTM-40, GRU-12, GRU-20, GRU-40; random weights, tools/bench_rnn_shapes.c).

  Targets (issue 3, AVX-512 VNNI, standard WaveNet, block 64) are
  reported as PASS / MISS, never asserted: a benchmark is not a test.

  --clock cpu times each run by the thread's CPU time
  instead of the wall clock: on a machine shared with other work, wall
  time counts the time the thread waited for a core (2-3x on a loaded
  2-core machine, and noisy), CPU time only the time it ran. Wall time
  stays the default: it is what a host's deadline sees.
*/
#include "bench.h"
#include "bench_rnn_shapes.h"
#include "bench_util.h"

#include "slim.h"
#include "variant.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef QT_SOURCE_ROOT
#define QT_SOURCE_ROOT "."
#endif

static const int default_blocks[] = {1, 16, 32, 64, 256};
#define MAX_BLOCKS 8

/** The block sizes measured (--blocks). */
static int blocks[MAX_BLOCKS];
static int n_blocks;

typedef struct {
  const char
      *name; /**< --precision word: "fp32", "fp16", "bf16", "8" (int8 acts), "8w" (weight-only) */
  const char *precision; /**< "fp32", "fp16", "bf16", "8", "4", "2" */
  int bits;
  qm_actq act;
  qm_half half; /**< the 16-bit form, at QM_BITS_HALF */
  bool asym;    /**< zero points (else symmetric) */
  bool group32; /**< scales per group of 32 inputs (else per channel) */
} setting;

static const setting all_settings[] = {
    {"fp32", "fp32", QM_BITS_FP32, QM_ACTQ_FLOAT, QM_HALF_FP16, false, false},
    {"fp16", "fp16", QM_BITS_HALF, QM_ACTQ_FLOAT, QM_HALF_FP16, false, false},
    {"bf16", "bf16", QM_BITS_HALF, QM_ACTQ_FLOAT, QM_HALF_BF16, false, false},
    {"8", "8", 8, QM_ACTQ_DYNAMIC, QM_HALF_FP16, false, false},
    {"4", "4", 4, QM_ACTQ_DYNAMIC, QM_HALF_FP16, false, false},
    {"2", "2", 2, QM_ACTQ_DYNAMIC, QM_HALF_FP16, false, false},
    {"8w", "8", 8, QM_ACTQ_FLOAT, QM_HALF_FP16, false, false},
    {"4w", "4", 4, QM_ACTQ_FLOAT, QM_HALF_FP16, false, false},
    {"2w", "2", 2, QM_ACTQ_FLOAT, QM_HALF_FP16, false, false},
    /* only when named: asymmetric per channel, and per group of 32 (the
       plugin's "Per group of 32"; issue 14's fused layer with a scale per tap) */
    {"4a", "4a", 4, QM_ACTQ_DYNAMIC, QM_HALF_FP16, true, false},
    {"2a", "2a", 2, QM_ACTQ_DYNAMIC, QM_HALF_FP16, true, false},
    {"4g", "4g32", 4, QM_ACTQ_DYNAMIC, QM_HALF_FP16, false, true},
    {"2g", "2g32", 2, QM_ACTQ_DYNAMIC, QM_HALF_FP16, false, true},
    {"4ga", "4g32a", 4, QM_ACTQ_DYNAMIC, QM_HALF_FP16, true, true},
    {"2ga", "2g32a", 2, QM_ACTQ_DYNAMIC, QM_HALF_FP16, true, true},
};
#define ALL_SETTINGS ((int)(sizeof all_settings / sizeof all_settings[0]))
/** The settings measured when --precision is not given: the first nine. */
#define DEFAULT_SETTINGS 9

/** The settings measured (--precision), FP32 always first: the ratios'
    reference. */
static setting settings[ALL_SETTINGS];
static int n_settings;

/** The ISAs measured (--isa), each with its own FP32 reference. */
static qk_isa isas[QK_ISA_COUNT];
static int n_isas;

/** A model variant: setting s on ISA i. */
#define NVARIANTS (n_settings * n_isas)

typedef struct {
  char model[512];
  double slim;         /**< the lower end of the size's slim range */
  char slim_label[64]; /**< what plays at that size */
  const char *precision;
  int bits;
  qm_actq act;
  bool group32; /**< scales per group of 32 inputs */
  qk_isa isa;
  int block;
  double ns, rtf, gmacs, ratio;
  size_t weight_bytes;
} result;

static void usage(FILE *f)
{
  fprintf(f, "usage: quantone-bench models [--model FILE]... [--rnn] [--json FILE] [--runs R]\n"
             "                             [--blocks N,N,...] [--clock wall|cpu] [--isa NAME]...\n"
             "                             [--precision LIST] [--slim S] [--quick]\n"
             "\n"
             "  --model FILE  a .nam or keras .json model (repeatable); default\n"
             "                wavenet_a1_standard.nam and lstm.nam from\n"
             "                ../shared/reference/nam/ (next to the source tree, or cwd);\n"
             "                a slimmable model is measured at each of its sizes\n"
             "  --json FILE   write every measurement as a JSON array of objects\n"
             "  --runs R      timed runs per measurement, median reported (default 5)\n"
             "  --rnn         keras LSTM-12, -20, -40 and GRU-12, -20, -40 shapes (random\n"
             "                weights, written to a temporary directory), beside the\n"
             "                --model files, instead of the default models\n"
             "  --blocks LIST block sizes, comma-separated (default 1,16,32,64,256; at most 8)\n"
             "  --clock CLOCK wall (default): elapsed time; cpu: the thread's CPU time\n"
             "                (CLOCK_THREAD_CPUTIME_ID), which leaves out the time the\n"
             "                thread waited for a core on a loaded machine\n"
             "  --isa NAME    pack for this ISA (repeatable: the ISAs run interleaved in\n"
             "                one process, each against its own FP32); default the active one\n"
             "  --precision LIST  settings, comma-separated, from fp32,8,4,2 (int8 dynamic\n"
             "                activations) and 8w,4w,2w (weight-only); default all; FP32\n"
             "                is always measured, the ratios' reference. Also, only when\n"
             "                named: 4a,2a (asymmetric), 4g,2g (scales per group of 32\n"
             "                inputs), 4ga,2ga (both), all int8 dynamic\n"
             "  --slim S      of a slimmable model, only the size that plays at S\n"
             "  --quick       0.25 s of audio and 3 runs (smoke test)\n");
}

/** Guitar-like test signal: decaying plucked harmonics, new note every
    0.25 s, peak about 0.5. Deterministic, so runs are comparable. */
static float *make_signal(int n, double rate)
{
  float *x = malloc((size_t)n * sizeof(float));
  if (!x)
    return NULL;
  static const double notes[] = {82.41, 110.0, 146.83, 196.0, 246.94, 329.63};
  int note_len = (int)(0.25 * rate);
  for (int i = 0; i < n; ++i) {
    int k = i / note_len;
    double t = (double)(i % note_len) / rate, f = notes[k % 6];
    double env = 0.5 * exp(-6.0 * t), v = 0.0;
    for (int h = 1; h <= 5; ++h)
      v += sin(2.0 * M_PI * f * h * t) / h;
    x[i] = (float)(env * v * 0.6);
  }
  return x;
}

static const char *base_name(const char *p)
{
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

/** Default model directory: the source tree's sibling shared/, else cwd's. */
static void default_dir(char *buf, size_t len)
{
  snprintf(buf, len, "%s/../shared/reference/nam", QT_SOURCE_ROOT);
  char probe[1200];
  snprintf(probe, sizeof probe, "%s/wavenet_a1_standard.nam", buf);
  if (access(probe, R_OK) != 0)
    snprintf(buf, len, "../shared/reference/nam");
}

/** --clock cpu: time runs by this thread's CPU time instead of the wall
    clock, so that time the thread spends preempted on a loaded machine
    does not count (what the thread itself costs, not what a listener
    waits). */
static bool cpu_time;

static double clock_now(void)
{
  if (!cpu_time)
    return bench_now();
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double time_run(qm_model *m, const float *x, float *y, int n, int block)
{
  qm_model_reset(m);
  double t0 = clock_now();
  for (int done = 0; done < n;) {
    int k = n - done < block ? n - done : block;
    qm_model_process(m, x + done, y + done, k);
    done += k;
  }
  double t = clock_now() - t0;
  bench_clobber(y);
  return t;
}

/**
   Every variant (setting x ISA) of one model size, each block size timed
   with the variants interleaved: run r of every variant before run r + 1
   of any, so a load change on a shared machine hits all of them alike and
   the ratios to FP32 stay fair; the median of each variant's runs is
   reported. Variant v is setting v % n_settings on ISA v / n_settings.
*/
static int bench_size(const char *path, const qm_desc *d, const qm_slim_step *step, bool slimmable,
                      int runs, double seconds, result *res, int *nres)
{
  char err[1024];
  const double rate = d->sample_rate;
  const int n = (int)(seconds * rate), nv = NVARIANTS;
  float *x = make_signal(n, rate), *y = malloc((size_t)n * sizeof(float));
  double *t = malloc((size_t)runs * (size_t)nv * sizeof(double));
  qm_model **m = calloc((size_t)nv, sizeof *m);
  int status = 0;
  if (!x || !y || !t || !m) {
    fprintf(stderr, "quantone-bench models: out of memory\n");
    status = 1;
    goto done;
  }
  for (int v = 0; v < nv; ++v) {
    const setting *S = &settings[v % n_settings];
    qm_setting spec;
    qm_setting_default(&spec);
    spec.bits = S->bits;
    spec.activations = S->act;
    spec.half = S->half;
    spec.asymmetric = S->asym;
    if (S->group32) {
      spec.granularity = QZ_PER_GROUP;
      spec.group = 32;
    }
    qm_options o;
    qm_options_default(&o);
    o.isa = (int)isas[v / n_settings];
    m[v] = qm_variant_create(d, &spec, &o, x, n, err, sizeof err);
    if (!m[v]) {
      fprintf(stderr, "quantone-bench models: %s\n", err);
      status = 1;
      goto done;
    }
  }
  const double macs = qm_model_macs_per_sample(m[0]);
  char size[96] = "";
  if (slimmable)
    snprintf(size, sizeof size, ", slim %.2f: %s", step->lo, step->label);
  printf("\n%s%s (%s, %.0f Hz, %.2f s of audio, median of %d interleaved runs, %s time)\n", path,
         size, d->architecture, rate, seconds, runs, cpu_time ? "CPU" : "wall");
  printf("%-11s %-9s %-8s %6s %12s %9s %8s %8s %8s\n", "isa", "precision", "acts", "block",
         "ns/sample", "rtf", "GMAC/s", "vs fp32", "wbytes");
  result *first = &res[*nres];
  for (int b = 0; b < n_blocks; ++b) {
    for (int v = 0; v < nv; ++v)
      time_run(m[v], x, y, n < 4096 ? n : 4096, blocks[b]); /* warm-up */
    for (int r = 0; r < runs; ++r)
      for (int v = 0; v < nv; ++v)
        t[v * runs + r] = time_run(m[v], x, y, n, blocks[b]);
    for (int v = 0; v < nv; ++v) {
      const setting *S = &settings[v % n_settings];
      const double sec = bench_median(t + v * runs, runs);
      result *R = &first[v * n_blocks + b];
      snprintf(R->model, sizeof R->model, "%s", base_name(path));
      R->slim = step->lo;
      snprintf(R->slim_label, sizeof R->slim_label, "%s", step->label);
      R->precision = S->precision;
      R->bits = S->bits;
      R->act = S->act;
      R->group32 = S->group32;
      R->isa = isas[v / n_settings];
      R->block = blocks[b];
      R->ns = sec * 1e9 / n;
      R->rtf = sec / ((double)n / rate);
      R->gmacs = macs * n / sec * 1e-9;
      R->weight_bytes = qm_model_weight_bytes(m[v]);
    }
    for (int v = 0; v < nv; ++v) { /* the FP32 of the same ISA is variant v - v % n_settings */
      result *R = &first[v * n_blocks + b];
      R->ratio = first[(v - v % n_settings) * n_blocks + b].ns / R->ns;
    }
  }
  for (int i = 0; i < nv * n_blocks; ++i) {
    const result *R = &first[i];
    printf("%-11s %-9s %-8s %6d %12.1f %9.5f %8.2f %8.2f %8zu\n", qk_isa_name(R->isa), R->precision,
           qm_actq_name(R->act), R->block, R->ns, R->rtf, R->gmacs, R->ratio, R->weight_bytes);
  }
  *nres += nv * n_blocks;
  printf("MACs per sample: %.0f\n", macs);
done:
  for (int v = 0; m && v < nv; ++v)
    qm_model_free(m[v]);
  free(m);
  free(x);
  free(y);
  free(t);
  return status;
}

/** Every size of one model file (one for a plain model), appended to *res. */
static int bench_one(const char *path, double slim, int runs, double seconds, result **res,
                     int *nres)
{
  char err[1024];
  qm_desc *d = qm_load_file(path, err, sizeof err);
  if (!d) {
    fprintf(stderr, "quantone-bench models: %s\n", err);
    return 1;
  }
  qm_slim_step steps[16];
  const int n_steps = qm_desc_slim_steps(d, steps, 16);
  int status = 0;
  for (int k = 0; k < n_steps && !status; ++k) {
    if (slim >= 0.0 && k != qm_slim_step_index(steps, n_steps, slim))
      continue;
    const qm_desc *plays = qm_desc_at_slim(d, steps[k].lo, err, sizeof err);
    result *more =
        plays ? realloc(*res, sizeof **res * (size_t)(*nres + NVARIANTS * n_blocks)) : NULL;
    if (!more) {
      fprintf(stderr, "quantone-bench models: %s\n", plays ? "out of memory" : err);
      status = 1;
      break;
    }
    *res = more;
    memset(more + *nres, 0, sizeof *more * (size_t)NVARIANTS * (size_t)n_blocks);
    status = bench_size(path, plays, &steps[k], n_steps > 1, runs, seconds, *res, nres);
  }
  qm_desc_free(d);
  return status;
}

static const result *find(const result *res, int nres, const char *model, int bits, qm_actq act,
                          int block)
{
  for (int i = 0; i < nres; ++i)
    if (!strcmp(res[i].model, model) && res[i].slim == 0.0 && res[i].bits == bits &&
        res[i].act == act && res[i].block == block && res[i].isa == isas[0])
      return &res[i];
  return NULL;
}

static void targets(const result *res, int nres)
{
  const char *wn = "wavenet_a1_standard.nam";
  const result *f = find(res, nres, wn, QM_BITS_FP32, QM_ACTQ_FLOAT, 64);
  const result *q8 = find(res, nres, wn, 8, QM_ACTQ_DYNAMIC, 64);
  const result *q4 = find(res, nres, wn, 4, QM_ACTQ_DYNAMIC, 64);
  const result *q2 = find(res, nres, wn, 2, QM_ACTQ_DYNAMIC, 64);
  if (!f || !q8 || !q4 || !q2)
    return;
  printf("\nTargets (%s, block 64, %s):\n", wn, qk_isa_name(isas[0]));
  printf("  FP32 >= 10 GMAC/s:                 %6.2f  %s\n", f->gmacs,
         f->gmacs >= 10.0 ? "PASS" : "MISS");
  printf("  8-bit int8-act >= 25 GMAC/s:       %6.2f  %s\n", q8->gmacs,
         q8->gmacs >= 25.0 ? "PASS" : "MISS");
  printf("  8-bit int8-act >= 2x FP32:         %6.2fx %s\n", q8->ratio,
         q8->ratio >= 2.0 ? "PASS" : "MISS");
  printf("  4-bit time <= 1.25x 8-bit time:    %6.2fx %s\n", q4->ns / q8->ns,
         q4->ns <= 1.25 * q8->ns ? "PASS" : "MISS");
  printf("  2-bit time <= 1.25x 8-bit time:    %6.2fx %s\n", q2->ns / q8->ns,
         q2->ns <= 1.25 * q8->ns ? "PASS" : "MISS");
}

static int write_json(const char *path, const result *res, int nres)
{
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "quantone-bench models: cannot write %s\n", path);
    return 1;
  }
  fprintf(f, "[\n");
  for (int i = 0; i < nres; ++i) {
    const result *R = &res[i];
    fprintf(f,
            "  {\"model\": \"%s\", \"slim\": %.15g, \"slim_label\": \"%s\", \"precision\": \"%s\", "
            "\"mapping\": \"%s\", \"granularity\": \"%s\", \"activations\": \"%s\", \"block\": %d, "
            "\"ns_per_sample\": %.3f, \"rtf\": %.6f, \"gmacs\": %.4f, \"ratio_vs_fp32\": %.4f, "
            "\"weight_bytes\": %zu, \"isa\": \"%s\", \"clock\": \"%s\"}%s\n",
            R->model, R->slim, R->slim_label, R->precision,
            R->bits == QM_BITS_FP32 ? "none" : "linear",
            R->bits == QM_BITS_FP32 ? "none"
            : R->group32            ? "group"
                                    : "channel",
            qm_actq_name(R->act), R->block, R->ns, R->rtf, R->gmacs, R->ratio, R->weight_bytes,
            qk_isa_name(R->isa), cpu_time ? "cpu" : "wall", i + 1 < nres ? "," : "");
  }
  fprintf(f, "]\n");
  return fclose(f) == 0 ? 0 : 1;
}

/** --blocks "1,16,64": each 1..65536, at most MAX_BLOCKS. */
static bool parse_blocks(const char *list)
{
  n_blocks = 0;
  for (const char *p = list; *p;) {
    char *end;
    const long b = strtol(p, &end, 10);
    if (end == p || b < 1 || b > 65536 || n_blocks == MAX_BLOCKS || (*end && *end != ',')) {
      fprintf(stderr, "quantone-bench models: --blocks takes up to %d sizes 1..65536, e.g. 1,64\n",
              MAX_BLOCKS);
      return false;
    }
    blocks[n_blocks++] = (int)b;
    p = *end ? end + 1 : end;
  }
  return n_blocks > 0;
}

/** --precision "fp32,8,4w": the named settings, FP32 first whether named or not. */
static bool parse_settings(const char *list)
{
  settings[0] = all_settings[0];
  n_settings = 1;
  char word[16];
  for (const char *p = list; *p;) {
    const size_t len = strcspn(p, ",");
    snprintf(word, sizeof word, "%.*s", (int)(len < sizeof word ? len : sizeof word - 1), p);
    int k = 0;
    while (k < ALL_SETTINGS && strcmp(all_settings[k].name, word))
      ++k;
    if (k == ALL_SETTINGS) {
      fprintf(stderr,
              "quantone-bench models: --precision takes fp32,fp16,bf16,8,4,2,8w,4w,2w,4a,2a,4g,2g,"
              "4ga,2ga, not '%s'\n",
              word);
      return false;
    }
    bool have = false;
    for (int i = 0; i < n_settings; ++i)
      have |= !strcmp(settings[i].name, word);
    if (!have)
      settings[n_settings++] = all_settings[k];
    p += len + (p[len] == ',');
  }
  return true;
}

/** --isa NAME: one more ISA to measure, supported on this CPU. */
static bool add_isa(const char *name)
{
  qk_isa isa;
  if (!qk_isa_from_name(name, &isa) || !qk_isa_supported(isa)) {
    fprintf(stderr, "quantone-bench models: ISA '%s' is unknown or not supported here\n", name);
    return false;
  }
  for (int i = 0; i < n_isas; ++i)
    if (isas[i] == isa)
      return true;
  isas[n_isas++] = isa;
  return true;
}

int bench_models(int argc, char **argv)
{
  memcpy(settings, all_settings, sizeof all_settings);
  n_settings = DEFAULT_SETTINGS;
  n_isas = 0;
  double slim = -1.0;
  n_blocks = (int)(sizeof default_blocks / sizeof default_blocks[0]);
  memcpy(blocks, default_blocks, sizeof default_blocks);
  const char *models[16 + BENCH_RNN_SHAPES];
  int nmodels = 0, runs = 5;
  const char *json = NULL;
  bool quick = false, rnn = false;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(argv[i], "--model") && i + 1 < argc) {
      if (nmodels == 16) {
        fprintf(stderr, "quantone-bench models: at most 16 models\n");
        return 2;
      }
      models[nmodels++] = argv[++i];
    } else if (!strcmp(argv[i], "--json") && i + 1 < argc) {
      json = argv[++i];
    } else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
      runs = atoi(argv[++i]);
      if (runs < 1 || runs > 1000) {
        fprintf(stderr, "quantone-bench models: --runs must be 1..1000\n");
        return 2;
      }
    } else if (!strcmp(argv[i], "--quick")) {
      quick = true;
    } else if (!strcmp(argv[i], "--rnn")) {
      rnn = true;
    } else if (!strcmp(argv[i], "--isa") && i + 1 < argc) {
      if (!add_isa(argv[++i]))
        return 2;
    } else if (!strcmp(argv[i], "--precision") && i + 1 < argc) {
      if (!parse_settings(argv[++i]))
        return 2;
    } else if (!strcmp(argv[i], "--slim") && i + 1 < argc) {
      char *end;
      slim = strtod(argv[++i], &end);
      if (*end || !(slim >= 0.0 && slim <= 1.0)) {
        fprintf(stderr, "quantone-bench models: --slim takes a value in [0, 1]\n");
        return 2;
      }
    } else if (!strcmp(argv[i], "--clock") && i + 1 < argc) {
      const char *c = argv[++i];
      if (strcmp(c, "wall") && strcmp(c, "cpu")) {
        fprintf(stderr, "quantone-bench models: --clock is wall or cpu\n");
        return 2;
      }
      cpu_time = !strcmp(c, "cpu");
    } else if (!strcmp(argv[i], "--blocks") && i + 1 < argc) {
      if (!parse_blocks(argv[++i]))
        return 2;
    } else {
      fprintf(stderr, "quantone-bench models: unknown or incomplete option '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }
  static char defaults[2][1200];
  if (nmodels == 0 && !rnn) {
    char dir[1024];
    default_dir(dir, sizeof dir);
    snprintf(defaults[0], sizeof defaults[0], "%s/wavenet_a1_standard.nam", dir);
    snprintf(defaults[1], sizeof defaults[1], "%s/lstm.nam", dir);
    models[nmodels++] = defaults[0];
    models[nmodels++] = defaults[1];
  }
  static char rnn_dir[64], rnn_paths[BENCH_RNN_SHAPES][1200];
  if (rnn) {
    snprintf(rnn_dir, sizeof rnn_dir, "/tmp/quantone-bench-rnn-XXXXXX");
    if (!mkdtemp(rnn_dir) || bench_rnn_shapes_write(rnn_dir, rnn_paths)) {
      fprintf(stderr, "quantone-bench models: cannot write the recurrent shapes\n");
      return 1;
    }
    for (int i = 0; i < BENCH_RNN_SHAPES; ++i)
      models[nmodels++] = rnn_paths[i];
  }
  if (n_isas == 0)
    isas[n_isas++] = qk_active_isa();
  if (quick && runs > 3)
    runs = 3;
  double seconds = quick ? 0.25 : 1.0;
  char cpu[256];
  bench_cpu_name(cpu, sizeof cpu);
  printf("quantone-bench models: %s, ISA", cpu);
  for (int i = 0; i < n_isas; ++i)
    printf("%s %s", i ? "," : "", qk_isa_name(isas[i]));
  printf(", one thread\n");

  result *res = NULL;
  int nres = 0, status = 0;
  for (int i = 0; i < nmodels; ++i)
    status |= bench_one(models[i], slim, runs, seconds, &res, &nres);
  targets(res, nres);
  if (rnn) {
    for (int i = 0; i < BENCH_RNN_SHAPES; ++i)
      remove(rnn_paths[i]);
    rmdir(rnn_dir);
  }
  if (json)
    status |= write_json(json, res, nres);
  free(res);
  return status;
}
