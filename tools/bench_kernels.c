/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  `quantone-bench kernels`: throughput of the GEMM/GEMV kernels for every
  weight format and activation path on one ISA, a table of GMAC/s and of
  speed relative to f32, a summary against the performance targets, and a
  short qk_tanh measurement. Weights and activations are random (seeded):
  this measures kernels, not models.
*/
#include "bench.h"
#include "bench_util.h"
#include "qk.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- columns */

/** One measured variant: a weight format, an activation path, a group size. */
typedef struct {
  const char *head;
  qk_format format;
  bool act_s8; /**< qk_gemm_s8 on pre-quantized activations, else qk_gemm_f32 */
  int group;   /**< 0 = per-channel scales */
} column;

enum {
  COL_F32,
  COL_W_S8,
  COL_W_S4,
  COL_W_S2,
  COL_W_CB4,
  COL_W_CB2,
  COL_A_S8,
  COL_A_S4,
  COL_A_S2,
  COL_A_CB4,
  COL_A_CB2,
  COL_A_S8_G32,
  NCOLS
};

static const column columns[NCOLS] = {
    [COL_F32] = {"f32", QK_F32, false, 0},   [COL_W_S8] = {"s8", QK_S8, false, 0},
    [COL_W_S4] = {"s4", QK_S4, false, 0},    [COL_W_S2] = {"s2", QK_S2, false, 0},
    [COL_W_CB4] = {"cb4", QK_CB4, false, 0}, [COL_W_CB2] = {"cb2", QK_CB2, false, 0},
    [COL_A_S8] = {"s8", QK_S8, true, 0},     [COL_A_S4] = {"s4", QK_S4, true, 0},
    [COL_A_S2] = {"s2", QK_S2, true, 0},     [COL_A_CB4] = {"cb4", QK_CB4, true, 0},
    [COL_A_CB2] = {"cb2", QK_CB2, true, 0},  [COL_A_S8_G32] = {"s8g32", QK_S8, true, 32},
};

/* Non-uniform signed levels, as a k-means codebook would produce. */
static const int8_t codebook4[16] = {-112, -76, -52, -35, -23, -14, -8, -3,
                                     2,    7,   13,  22,  34,  50,  73, 108};
static const int8_t codebook2[4] = {-61, -14, 17, 66};

/* ----------------------------------------------------------------- shapes */

typedef struct {
  int M, K, N;
  bool gemv_extra; /**< added for the GEMV target (M = K), not part of the grid */
} shape;

typedef struct {
  shape sh;
  double sec[NCOLS]; /**< median seconds per call */
} result;

static const int full_M[] = {8, 16, 32, 64}, full_K[] = {24, 48, 96, 192},
                 full_N[] = {1, 64, 256, 512};
static const int quick_M[] = {16, 64}, quick_K[] = {48, 192}, quick_N[] = {1, 64};
static const int gemv_sides[] = {16, 32, 64};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---------------------------------------------------------------- options */

typedef struct {
  qk_isa isa;
  const char *json;
  int runs;
  double min_ms;
  bool quick;
} options;

static void usage(FILE *out)
{
  fprintf(out, "usage: quantone-bench kernels [--isa NAME] [--json FILE] [--runs R] [--quick]\n"
               "                              [--min-ms MS]\n"
               "\n"
               "Measures GMAC/s (M*K*N multiply-adds per second) of qk_gemm_f32 and\n"
               "qk_gemm_s8 for M in {8,16,32,64}, K in {24,48,96,192}, N in {1,64,256,512}\n"
               "plus square GEMVs 16x16, 32x32, 64x64, for weights f32, s8, s4, s2, cb4,\n"
               "cb2 with float activations (weight-only path) and with int8 activations\n"
               "(pre-quantized by qk_quantize_act_dynamic; only the GEMM is timed), and\n"
               "s8 with group-32 scales. Prints the tables, a summary against the\n"
               "performance targets (reported, not asserted) and qk_tanh throughput.\n"
               "\n"
               "options:\n"
               "  --isa NAME    pin an ISA (scalar, avx2, avx512vnni, avxvnni, neon,\n"
               "                neon-dotprod);\n"
               "                default: qk_active_isa() (honours QUANTONE_ISA)\n"
               "  --json FILE   also write every measurement as a JSON list to FILE\n"
               "  --runs R      timed runs per cell, median reported (default 7; --quick 3)\n"
               "  --min-ms MS   minimum length of one run of repeated calls\n"
               "                (default 20; --quick 5)\n"
               "  --quick       fewer shapes and runs, for CI smoke tests\n"
               "  -h, --help    this text\n");
}

/**
   If argv[*i] is `name` or `name=VALUE`, return the value (consuming the
   next argument in the first form) and set *matched; NULL if it is missing.
*/
static const char *option_value(int argc, char **argv, int *i, const char *name, bool *matched)
{
  size_t len = strlen(name);
  *matched = false;
  if (strncmp(argv[*i], name, len))
    return NULL;
  if (argv[*i][len] == '=') {
    *matched = true;
    return argv[*i] + len + 1;
  }
  if (argv[*i][len] != '\0')
    return NULL;
  *matched = true;
  if (*i + 1 >= argc)
    return NULL;
  return argv[++*i];
}

static bool parse_number(const char *s, double lo, double hi, double *out)
{
  if (!s || !*s)
    return false;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || *end || !(v >= lo && v <= hi))
    return false;
  *out = v;
  return true;
}

/** 0 on success, 1 to exit successfully (help), 2 on a usage error. */
static int parse_options(int argc, char **argv, options *o)
{
  bool have_isa = false, have_runs = false, have_ms = false;
  o->json = NULL;
  o->quick = false;
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i];
    bool m;
    const char *v;
    double num;
    if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
      usage(stdout);
      return 1;
    } else if (!strcmp(arg, "--quick")) {
      o->quick = true;
    } else if ((v = option_value(argc, argv, &i, "--isa", &m)) || m) {
      if (!v || !qk_isa_from_name(v, &o->isa)) {
        fprintf(stderr, "quantone-bench kernels: --isa needs one of:");
        for (int k = 0; k < QK_ISA_COUNT; ++k)
          fprintf(stderr, " %s", qk_isa_name((qk_isa)k));
        fprintf(stderr, "\n");
        return 2;
      }
      have_isa = true;
    } else if ((v = option_value(argc, argv, &i, "--json", &m)) || m) {
      if (!v || !*v) {
        fprintf(stderr, "quantone-bench kernels: --json needs a file name\n");
        return 2;
      }
      o->json = v;
    } else if ((v = option_value(argc, argv, &i, "--runs", &m)) || m) {
      if (!parse_number(v, 1, 1000, &num) || num != (double)(int)num) {
        fprintf(stderr, "quantone-bench kernels: --runs needs an integer in 1..1000\n");
        return 2;
      }
      o->runs = (int)num;
      have_runs = true;
    } else if ((v = option_value(argc, argv, &i, "--min-ms", &m)) || m) {
      if (!parse_number(v, 0.01, 10000, &num)) {
        fprintf(stderr, "quantone-bench kernels: --min-ms needs a number in 0.01..10000\n");
        return 2;
      }
      o->min_ms = num;
      have_ms = true;
    } else {
      fprintf(stderr, "quantone-bench kernels: unknown argument '%s'\n\n", arg);
      usage(stderr);
      return 2;
    }
  }
  if (!have_isa)
    o->isa = qk_active_isa();
  if (!have_runs)
    o->runs = o->quick ? 3 : 7;
  if (!have_ms)
    o->min_ms = o->quick ? 5.0 : 20.0;
  if (!qk_isa_supported(o->isa)) {
    fprintf(stderr, "quantone-bench kernels: ISA '%s' is not available on this machine/build\n",
            qk_isa_name(o->isa));
    return 2;
  }
  return 0;
}

/* ------------------------------------------------------- data and packing */

/** Random weights of one column's format for an M x K matrix, packed for isa. */
static qk_packed *make_weights(const column *c, int M, int K, qk_isa isa, bench_rng *rng)
{
  size_t n = (size_t)M * (size_t)K;
  int ng = qk_group_count(K, c->group);
  qk_weights w = {.format = c->format, .rows = M, .cols = K, .group = c->group};
  float *f32 = NULL, *scales = NULL;
  int8_t *codes = NULL;
  if (c->format == QK_F32) {
    f32 = bench_alloc(n * sizeof *f32);
    for (size_t i = 0; i < n; ++i)
      f32[i] = bench_rng_uniform(rng, -0.5f, 0.5f);
    w.f32 = f32;
  } else {
    codes = bench_alloc(n);
    scales = bench_alloc((size_t)M * (size_t)ng * sizeof *scales);
    int lo = qk_format_min(c->format), hi = qk_format_max(c->format);
    for (size_t i = 0; i < n; ++i)
      codes[i] = (int8_t)bench_rng_int(rng, lo, hi);
    for (size_t i = 0; i < (size_t)M * (size_t)ng; ++i)
      scales[i] = bench_rng_uniform(rng, 1e-3f, 1e-2f);
    w.codes = codes;
    w.scales = scales;
    if (c->format == QK_CB4)
      w.codebook = codebook4;
    else if (c->format == QK_CB2)
      w.codebook = codebook2;
  }
  const char *err = NULL;
  qk_packed *p = qk_pack(&w, isa, &err);
  if (!p) {
    fprintf(stderr, "quantone-bench kernels: qk_pack(%s, %dx%d, group %d, %s) failed: %s\n",
            qk_format_name(c->format), M, K, c->group, qk_isa_name(isa), err ? err : "?");
    exit(1);
  }
  bench_free(f32);
  bench_free(codes);
  bench_free(scales);
  return p;
}

/** Int8 activation buffers for K x N with sums over `group`. */
static void act_alloc(qk_act_s8 *a, int K, int N, int group)
{
  a->ld = qk_act_ld(K);
  a->codes = bench_alloc((size_t)a->ld * (size_t)N);
  a->scales = bench_alloc((size_t)N * sizeof *a->scales);
  a->sums = bench_alloc((size_t)N * (size_t)qk_group_count(K, group) * sizeof *a->sums);
  a->group = group;
  a->per_column = true;
}

static void act_free(qk_act_s8 *a)
{
  bench_free(a->codes);
  bench_free(a->scales);
  bench_free(a->sums);
}

/* ----------------------------------------------------------------- timing */

/** Everything one timed call needs. */
typedef struct {
  const qk_packed *W;
  bool act_s8;
  const float *X;
  const qk_act_s8 *xq;
  float *Y;
  int M, K, N;
} gemm_call;

static void run_gemm(void *ctx, long iters)
{
  const gemm_call *g = ctx;
  if (g->act_s8) {
    for (long i = 0; i < iters; ++i) {
      qk_gemm_s8(g->W, g->xq, g->N, NULL, g->Y, g->M, 0);
      bench_clobber(g->Y);
    }
  } else {
    for (long i = 0; i < iters; ++i) {
      qk_gemm_f32(g->W, g->X, g->K, g->N, NULL, g->Y, g->M, 0);
      bench_clobber(g->Y);
    }
  }
  bench_sink(g->Y[0] + g->Y[(size_t)g->M * (size_t)g->N - 1]);
}

/**
   Measure every column on one shape. Runs are interleaved across columns
   (run r of every column before run r+1 of any) so that slow drifts of a
   shared machine affect all formats alike and the ratios stay fair.
*/
static void measure_shape(const options *o, const shape *sh, result *res)
{
  const int M = sh->M, K = sh->K, N = sh->N;
  bench_rng rng;
  bench_rng_seed(&rng, 0x51A7E5EEDull ^ ((uint64_t)M << 40) ^ ((uint64_t)K << 20) ^ (uint64_t)N);

  float *X = bench_alloc((size_t)K * (size_t)N * sizeof *X);
  float *Y = bench_alloc((size_t)M * (size_t)N * sizeof *Y);
  for (size_t i = 0; i < (size_t)K * (size_t)N; ++i)
    X[i] = bench_rng_uniform(&rng, -1.0f, 1.0f);
  qk_act_s8 xq0, xq32;
  act_alloc(&xq0, K, N, 0);
  act_alloc(&xq32, K, N, 32);
  qk_quantize_act_dynamic_isa(o->isa, X, K, K, N, &xq0);
  qk_quantize_act_dynamic_isa(o->isa, X, K, K, N, &xq32);

  qk_packed *W[NCOLS];
  gemm_call calls[NCOLS];
  long iters[NCOLS];
  double *times = bench_alloc((size_t)NCOLS * (size_t)o->runs * sizeof *times);
  const double min_s = o->min_ms * 1e-3;

  for (int c = 0; c < NCOLS; ++c) {
    W[c] = make_weights(&columns[c], M, K, o->isa, &rng);
    calls[c] = (gemm_call){.W = W[c],
                           .act_s8 = columns[c].act_s8,
                           .X = X,
                           .xq = columns[c].group ? &xq32 : &xq0,
                           .Y = Y,
                           .M = M,
                           .K = K,
                           .N = N};
    iters[c] = bench_calibrate(run_gemm, &calls[c], min_s);
  }
  for (int r = 0; r < o->runs; ++r)
    for (int c = 0; c < NCOLS; ++c)
      times[(size_t)c * (size_t)o->runs + (size_t)r] =
          bench_time_per_iter(run_gemm, &calls[c], iters[c]);

  res->sh = *sh;
  for (int c = 0; c < NCOLS; ++c) {
    res->sec[c] = bench_median(times + (size_t)c * (size_t)o->runs, o->runs);
    qk_packed_free(W[c]);
  }
  bench_free(times);
  act_free(&xq0);
  act_free(&xq32);
  bench_free(X);
  bench_free(Y);
}

static double gmacs(const result *r, int c)
{
  return (double)r->sh.M * (double)r->sh.K * (double)r->sh.N / r->sec[c] * 1e-9;
}

static double ratio_vs_f32(const result *r, int c) { return r->sec[COL_F32] / r->sec[c]; }

/* ----------------------------------------------------------------- output */

static void print_table_header(const char *title)
{
  printf("\n%s\n", title);
  printf("%-21s%-35s %s\n", "", "weight-only: act f32 (qk_gemm_f32)", "act s8 (qk_gemm_s8)");
  printf("%-13s %6s ", "M x K x N", columns[COL_F32].head);
  for (int c = COL_W_S8; c < NCOLS; ++c)
    printf("%s%6s ", (c == COL_A_S8 || c == COL_A_S8_G32) ? " " : "", columns[c].head);
  printf("\n");
}

static void print_shape(const shape *sh)
{
  char buf[32];
  snprintf(buf, sizeof buf, "%dx%dx%d", sh->M, sh->K, sh->N);
  printf("%-13s ", buf);
}

static void print_gmacs_row(const result *r)
{
  print_shape(&r->sh);
  for (int c = 0; c < NCOLS; ++c)
    printf("%s%6.2f ", (c == COL_A_S8 || c == COL_A_S8_G32) ? " " : "", gmacs(r, c));
  printf("\n");
  fflush(stdout);
}

static void print_ratio_row(const result *r)
{
  print_shape(&r->sh);
  for (int c = 0; c < NCOLS; ++c)
    printf("%s%5.2fx ", (c == COL_A_S8 || c == COL_A_S8_G32) ? " " : "", ratio_vs_f32(r, c));
  printf("\n");
}

/** Write all measurements to f (opened before measuring) and close it. */
static int write_json(FILE *f, const char *path, const options *o, const result *res, int nres)
{
  fprintf(f, "[\n");
  bool first = true;
  for (int i = 0; i < nres; ++i) {
    const result *r = &res[i];
    for (int c = 0; c < NCOLS; ++c) {
      fprintf(f,
              "%s  {\"isa\": \"%s\", \"format\": \"%s\", \"act\": \"%s\", \"group\": %d, "
              "\"M\": %d, \"K\": %d, \"N\": %d, \"gmacs\": %.6g, \"ratio_vs_f32\": %.6g, "
              "\"ns_per_call\": %.6g, \"runs\": %d}",
              first ? "" : ",\n", qk_isa_name(o->isa), qk_format_name(columns[c].format),
              columns[c].act_s8 ? "s8" : "f32", columns[c].group, r->sh.M, r->sh.K, r->sh.N,
              gmacs(r, c), ratio_vs_f32(r, c), r->sec[c] * 1e9, o->runs);
      first = false;
    }
  }
  fprintf(f, "\n]\n");
  if (fclose(f) != 0) {
    fprintf(stderr, "quantone-bench kernels: error writing %s\n", path);
    return -1;
  }
  return 0;
}

static const char *mark(double v, double target) { return v >= target ? "PASS" : "MISS"; }

/** Min and median of `num` col over `den` col time ratios (den/num time) on grid shapes with N
 * >= 64. */
static int gemm_ratios(const result *res, int nres, int num, int den, double *min, double *med)
{
  double *v = bench_alloc((size_t)(nres ? nres : 1) * sizeof *v);
  int n = 0;
  for (int i = 0; i < nres; ++i) {
    if (res[i].sh.gemv_extra || res[i].sh.N < 64)
      continue;
    v[n++] = res[i].sec[den] / res[i].sec[num];
  }
  if (n) {
    *min = v[0];
    for (int i = 1; i < n; ++i)
      if (v[i] < *min)
        *min = v[i];
    *med = bench_median(v, n);
  }
  bench_free(v);
  return n;
}

static void print_minmed(const char *what, int n, double min, double med, double target)
{
  if (!n) {
    printf("  %-44s n/a (no shapes)\n", what);
    return;
  }
  printf("  %-44s min %5.2fx %s   median %5.2fx %s   (%d shapes, target >= %.1fx)\n", what, min,
         mark(min, target), med, mark(med, target), n, target);
}

static void print_summary(const options *o, const result *res, int nres)
{
  double mn = 0, md = 0;
  int n;
  printf("\ntargets on %s (measured and reported, not asserted):\n", qk_isa_name(o->isa));
  n = gemm_ratios(res, nres, COL_A_S8, COL_F32, &mn, &md);
  print_minmed("s8 GEMM (act s8) vs f32 GEMM, N>=64:", n, mn, md, 3.0);
  /* Absolute speeds for context: a slow f32 baseline inflates every ratio. */
  size_t cap = (size_t)(nres ? nres : 1);
  double *f = bench_alloc(cap * sizeof *f), *q = bench_alloc(cap * sizeof *q);
  int nf = 0;
  for (int i = 0; i < nres; ++i) {
    if (res[i].sh.gemv_extra || res[i].sh.N < 64)
      continue;
    f[nf] = gmacs(&res[i], COL_F32);
    q[nf++] = gmacs(&res[i], COL_A_S8);
  }
  if (nf)
    printf("  %-44s f32 %.2f GMAC/s, s8 (act s8) %.2f GMAC/s\n", "(context: median speeds, N>=64)",
           bench_median(f, nf), bench_median(q, nf));
  bench_free(f);
  bench_free(q);
  n = gemm_ratios(res, nres, COL_A_S4, COL_A_S8, &mn, &md);
  print_minmed("s4 GEMM vs s8 GEMM (act s8), N>=64:", n, mn, md, 0.8);
  n = gemm_ratios(res, nres, COL_A_S2, COL_A_S8, &mn, &md);
  print_minmed("s2 GEMM vs s8 GEMM (act s8), N>=64:", n, mn, md, 0.8);
  for (int s = 0; s < COUNT(gemv_sides); ++s) {
    int side = gemv_sides[s];
    const result *r = NULL;
    for (int i = 0; i < nres; ++i)
      if (res[i].sh.M == side && res[i].sh.K == side && res[i].sh.N == 1)
        r = &res[i];
    char what[64];
    snprintf(what, sizeof what, "s8 GEMV (act s8) vs f32 GEMV, %dx%d:", side, side);
    if (!r) {
      printf("  %-44s n/a\n", what);
      continue;
    }
    double v = ratio_vs_f32(r, COL_A_S8);
    printf("  %-44s %5.2fx %s   (target >= 1.5x; weight-only s8 %5.2fx)\n", what, v, mark(v, 1.5),
           ratio_vs_f32(r, COL_W_S8));
  }
}

/* ------------------------------------------------------------------- tanh */

typedef struct {
  void (*fn)(qk_isa isa, float *y, const float *x, size_t n); /* qk_tanh_isa, qk_tanh_int8_isa */
  qk_isa isa;
  float *y;
  const float *x;
  size_t n;
} tanh_call;

static void run_tanh(void *ctx, long iters)
{
  const tanh_call *t = ctx;
  for (long i = 0; i < iters; ++i) {
    t->fn(t->isa, t->y, t->x, t->n);
    bench_clobber(t->y);
  }
  bench_sink(t->y[0] + t->y[t->n - 1]);
}

static void bench_tanh(const options *o)
{
  enum { TANH_N = 1024 };
  float *x = bench_alloc(TANH_N * sizeof *x), *y = bench_alloc(TANH_N * sizeof *y);
  bench_rng rng;
  bench_rng_seed(&rng, 0x7A4Bull);
  for (int i = 0; i < TANH_N; ++i)
    x[i] = bench_rng_uniform(&rng, -6.0f, 6.0f);
  /* the int8 path's tanh first, so that the scalar call can be left out */
  tanh_call calls[3] = {{qk_tanh_int8_isa, o->isa, y, x, TANH_N},
                        {qk_tanh_isa, o->isa, y, x, TANH_N},
                        {qk_tanh_isa, QK_ISA_SCALAR, y, x, TANH_N}};
  void *ctx[3] = {&calls[0], &calls[1], &calls[2]};
  const int ncalls = o->isa == QK_ISA_SCALAR ? 2 : 3;
  double sec[3];
  bench_median_times(run_tanh, ctx, ncalls, o->min_ms * 1e-3, o->runs, sec);
  printf("\nqk_tanh (n=%d, x in [-6, 6]): %s %.1f Melem/s (%.3f ns/elem)", TANH_N,
         qk_isa_name(o->isa), TANH_N / sec[1] * 1e-6, sec[1] * 1e9 / TANH_N);
  if (ncalls == 3)
    printf(", scalar %.1f Melem/s, %.2fx scalar", TANH_N / sec[2] * 1e-6, sec[2] / sec[1]);
  printf(
      "\nqk_tanh_int8 (the int8 WaveNet layer's): %s %.1f Melem/s (%.3f ns/elem), %.2fx qk_tanh\n",
      qk_isa_name(o->isa), TANH_N / sec[0] * 1e-6, sec[0] * 1e9 / TANH_N, sec[1] / sec[0]);
  bench_free(x);
  bench_free(y);
}

/* ------------------------------------------------------------------- main */

static int build_shapes(const options *o, shape *out)
{
  const int *Ms = o->quick ? quick_M : full_M, *Ks = o->quick ? quick_K : full_K,
            *Ns = o->quick ? quick_N : full_N;
  int nM = o->quick ? COUNT(quick_M) : COUNT(full_M);
  int nK = o->quick ? COUNT(quick_K) : COUNT(full_K);
  int nN = o->quick ? COUNT(quick_N) : COUNT(full_N);
  int n = 0;
  for (int i = 0; i < nM; ++i)
    for (int j = 0; j < nK; ++j)
      for (int k = 0; k < nN; ++k)
        out[n++] = (shape){Ms[i], Ks[j], Ns[k], false};
  for (int s = 0; s < COUNT(gemv_sides); ++s)
    out[n++] = (shape){gemv_sides[s], gemv_sides[s], 1, true};
  return n;
}

int bench_kernels(int argc, char **argv)
{
  options o;
  int rc = parse_options(argc, argv, &o);
  if (rc)
    return rc == 1 ? 0 : rc;

  /* Open the JSON file now: a bad path should fail before minutes of measuring. */
  FILE *json = NULL;
  if (o.json && !(json = fopen(o.json, "w"))) {
    fprintf(stderr, "quantone-bench kernels: cannot write %s: %s\n", o.json, strerror(errno));
    return 1;
  }

  char cpu[256];
  bench_cpu_name(cpu, sizeof cpu);
  printf("quantone-bench kernels\n");
  printf("  cpu:     %s\n", cpu);
  printf("  isa:     %s%s (qk_active_isa: %s; supported:", qk_isa_name(o.isa),
         o.isa == qk_active_isa() ? "" : " [pinned]", qk_isa_name(qk_active_isa()));
  for (int i = 0; i < QK_ISA_COUNT; ++i)
    if (qk_isa_supported((qk_isa)i))
      printf(" %s", qk_isa_name((qk_isa)i));
  printf(")\n");
  printf("  timing:  median of %d runs per cell, each >= %g ms of repeated calls%s\n", o.runs,
         o.min_ms, o.quick ? " (--quick)" : "");
  printf(
      "  weights: random, symmetric, per-channel scales (group 0); s8g32 = s8, group-32 scales\n");
  printf(
      "  act s8:  activations pre-quantized by qk_quantize_act_dynamic; only qk_gemm_s8 timed\n");
  fflush(stdout);

  shape shapes[COUNT(full_M) * COUNT(full_K) * COUNT(full_N) + COUNT(gemv_sides)];
  int nshapes = build_shapes(&o, shapes);
  result *res = bench_alloc((size_t)nshapes * sizeof *res);

  print_table_header("GMAC/s (M*K*N / median time per call):");
  for (int i = 0; i < nshapes; ++i) {
    if (shapes[i].gemv_extra && (i == 0 || !shapes[i - 1].gemv_extra))
      printf("-- square GEMVs for the GEMV target --\n");
    measure_shape(&o, &shapes[i], &res[i]);
    print_gmacs_row(&res[i]);
  }

  print_table_header("ratio_vs_f32 (f32 time / this time, same ISA and shape):");
  for (int i = 0; i < nshapes; ++i) {
    if (res[i].sh.gemv_extra && (i == 0 || !res[i - 1].sh.gemv_extra))
      printf("-- square GEMVs for the GEMV target --\n");
    print_ratio_row(&res[i]);
  }

  print_summary(&o, res, nshapes);
  bench_tanh(&o);
  bench_vnni_peak(o.min_ms * 1e-3, o.runs);
  bench_wavenet_layer(o.isa, o.min_ms * 1e-3, o.runs);

  rc = 0;
  if (json) {
    if (write_json(json, o.json, &o, res, nshapes) == 0)
      printf("\nwrote %d measurements to %s\n", nshapes * NCOLS, o.json);
    else
      rc = 1;
  }
  bench_free(res);
  return rc;
}
