/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  quantone-bench kernels, last part (and `quantone-bench layer` alone): the
  int8 NAM WaveNet layer (qk_wavenet_layer_s8) as the engine runs it,
  against the step-by-step composition qk.h defines it by, on one ISA.
  Random 8-bit per-channel symmetric weights; the history holds random
  audio-range frames. "engine" is the fused form with its prepared
  weights where the ISA has one, else the composition with per-tap conv
  slices ("slices", also timed on its own: what an ISA without a fused
  form runs); "steps" is the composition on padded columns.

  A1 layers: the standard WaveNet's shapes (16 and 8 channels, kernel 3,
  dilation 8, tanh), 64 frames per call.

  A2 layers: A2 standard's and nano's shapes (8 and 3 channels, no
  bottleneck, kernels 6 and 15, LeakyReLU 0.01, dilation 41 and 13 as in
  A2.nam) at 64 and 16
  frames per call, also against the float path an engine runs without
  int8 activations: the taps gathered into taps*C columns, one qk_gemm_f32
  with F32 weights, the mixin, LeakyReLU, the head sum and the 1x1 as a
  second qk_gemm_f32 (models/wavenet.c's run_layer_steps).
*/
#include "bench.h"
#include "bench_util.h"
#include "qk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** One measured layer shape. */
typedef struct {
  int C, taps, dilation, N;
  qk_wavenet_act act;
} layer_shape;

/** Which form a call times. */
typedef enum { FORM_ENGINE, FORM_STEPS, FORM_SLICES, FORM_FLOAT, FORM_COUNT } layer_form;

typedef struct {
  qk_wavenet_layer L;
  layer_form form;
  int N;
  const float *x;
  const qk_act_s8 *xq;
  const float *cond;
  float *head, *next;
  const qk_wavenet_scratch *scratch;
  /* the float path */
  const qk_packed *conv_f32, *w1_f32;
  float *gather;
} layer_call;

/** The engine's float layer (models/wavenet.c, run_layer_steps) for B = C. */
static void float_layer(const layer_call *c)
{
  const qk_wavenet_layer *L = &c->L;
  const int C = L->C, taps = L->taps, KC = taps * C, N = c->N;
  const size_t nc = (size_t)N * (size_t)C;
  float *z = c->scratch->z;
  const float *x0 = c->x - (size_t)L->dilation * (size_t)(taps - 1) * (size_t)C;
  for (int n = 0; n < N; ++n)
    for (int t = 0; t < taps; ++t)
      memcpy(c->gather + (size_t)n * (size_t)KC + (size_t)t * (size_t)C,
             x0 + ((size_t)n + (size_t)t * (size_t)L->dilation) * (size_t)C,
             (size_t)C * sizeof(float));
  qk_gemm_f32(c->conv_f32, c->gather, KC, N, L->conv_bias, z, C, 0);
  for (int n = 0; n < N; ++n)
    for (int m = 0; m < C; ++m)
      z[(size_t)n * (size_t)C + (size_t)m] += L->mixin[m] * c->cond[n];
  qk_wavenet_act_apply(&L->act, z, z, C, N);
  for (size_t i = 0; i < nc; ++i)
    c->head[i] += z[i];
  memcpy(c->next, c->x, nc * sizeof(float));
  qk_gemm_f32(c->w1_f32, z, C, N, L->bias1x1, c->next, C, QK_ACCUMULATE);
}

static void run_layer(void *ctx, long iters)
{
  const layer_call *c = ctx;
  for (long i = 0; i < iters; ++i) {
    switch (c->form) {
    case FORM_STEPS:
    case FORM_SLICES:
      qk_wavenet_layer_s8_steps(&c->L, c->x, c->xq, c->cond, c->N, c->head, c->next, c->scratch);
      break;
    case FORM_FLOAT: float_layer(c); break;
    default:
      qk_wavenet_layer_s8(&c->L, c->x, c->xq, c->cond, c->N, c->head, c->next, c->scratch);
      break;
    }
    bench_clobber(c->next);
  }
  bench_sink(c->next[0] + c->head[0]);
}

/** Random s8 codes and per-row scales (rows x cols), drawn from seed. */
static void random_codes(int rows, int cols, uint64_t seed, int8_t *codes, float *scales)
{
  bench_rng rng;
  bench_rng_seed(&rng, seed);
  for (int i = 0; i < rows * cols; ++i)
    codes[i] = (int8_t)bench_rng_int(&rng, -127, 127);
  for (int r = 0; r < rows; ++r)
    scales[r] = bench_rng_uniform(&rng, 0.5f, 2.0f) / (127.0f * (float)cols);
}

/**
   The matrix of seed packed for isa: s8, its per-tap slices (taps pointers,
   when taps is not NULL: columns t*C .. t*C + C - 1), or its F32 values.
*/
static qk_packed *pack_matrix(int rows, int cols, uint64_t seed, qk_isa isa, int C,
                              qk_packed **taps, bool f32)
{
  int8_t *codes = bench_alloc((size_t)rows * (size_t)cols);
  float *scales = bench_alloc((size_t)rows * sizeof *scales);
  random_codes(rows, cols, seed, codes, scales);
  qk_weights w = {.format = QK_S8, .rows = rows, .cols = cols, .codes = codes, .scales = scales};
  qk_packed *p = NULL;
  if (f32) {
    float *v = bench_alloc((size_t)rows * (size_t)cols * sizeof *v);
    for (int i = 0; i < rows * cols; ++i)
      v[i] = scales[i / cols] * (float)codes[i];
    qk_weights wf = {.format = QK_F32, .rows = rows, .cols = cols, .f32 = v};
    p = qk_pack(&wf, isa, NULL);
    bench_free(v);
  } else if (taps) {
    int8_t *slice = bench_alloc((size_t)rows * (size_t)C);
    for (int t = 0; t < cols / C; ++t) {
      for (int r = 0; r < rows; ++r)
        memcpy(slice + (size_t)r * (size_t)C,
               codes + (size_t)r * (size_t)cols + (size_t)t * (size_t)C, (size_t)C);
      qk_weights ws = {.format = QK_S8, .rows = rows, .cols = C, .codes = slice, .scales = scales};
      taps[t] = qk_pack(&ws, isa, NULL);
    }
    bench_free(slice);
  } else {
    p = qk_pack(&w, isa, NULL);
  }
  bench_free(codes);
  bench_free(scales);
  return p;
}

static qk_act_s8 act_columns(int K, int n)
{
  qk_act_s8 a = {.codes = bench_alloc((size_t)n * (size_t)qk_act_ld(K)),
                 .ld = qk_act_ld(K),
                 .scales = bench_alloc((size_t)n * sizeof(float)),
                 .sums = bench_alloc((size_t)n * sizeof(int32_t)),
                 .per_column = true};
  return a;
}

static void act_columns_free(qk_act_s8 *a)
{
  bench_free(a->codes);
  bench_free(a->scales);
  bench_free(a->sums);
}

/**
   ns per frame of each layer_form (the float path only if with_float)
   for one shape; *fused says which form the engine ran.
*/
static void measure_layer(const layer_shape *s, qk_isa isa, double min_seconds, int runs,
                          bool with_float, double ns[FORM_COUNT], bool *fused)
{
  const int C = s->C, taps = s->taps, N = s->N, KC = taps * C;
  const int back = s->dilation * (taps - 1), frames = back + N;
  const uint64_t conv_seed = 0xC0DEull + (uint64_t)C + 97u * (uint64_t)taps, w1_seed = 0x1A1Aull;
  qk_packed *conv = pack_matrix(C, KC, conv_seed, isa, C, NULL, false);
  qk_packed *w1 = pack_matrix(C, C, w1_seed, isa, C, NULL, false);
  qk_packed **conv_taps = bench_alloc((size_t)taps * sizeof *conv_taps);
  pack_matrix(C, KC, conv_seed, isa, C, conv_taps, false);
  qk_packed *conv_f32 = pack_matrix(C, KC, conv_seed, isa, C, NULL, true);
  qk_packed *w1_f32 = pack_matrix(C, C, w1_seed, isa, C, NULL, true);

  bench_rng rng;
  bench_rng_seed(&rng, 0x5EEDull);
  float *hist = bench_alloc((size_t)frames * (size_t)C * sizeof *hist);
  float *cond = bench_alloc((size_t)N * sizeof *cond), *bias = bench_alloc(16 * sizeof *bias);
  float *mixin = bench_alloc(16 * sizeof *mixin);
  float *head = bench_alloc((size_t)N * (size_t)C * sizeof *head);
  float *next = bench_alloc((size_t)N * (size_t)C * sizeof *next);
  float *z = bench_alloc((size_t)N * (size_t)C * sizeof *z);
  float *gather = bench_alloc((size_t)N * (size_t)KC * sizeof *gather);
  for (int i = 0; i < frames * C; ++i)
    hist[i] = bench_rng_uniform(&rng, -0.8f, 0.8f);
  for (int i = 0; i < N; ++i)
    cond[i] = bench_rng_uniform(&rng, -0.5f, 0.5f);
  for (int i = 0; i < 16; ++i) {
    bias[i] = bench_rng_uniform(&rng, -0.1f, 0.1f);
    mixin[i] = bench_rng_uniform(&rng, -0.5f, 0.5f);
  }
  qk_act_s8 xq = act_columns(C, frames), conv_act = act_columns(KC, N), act_1x1 = act_columns(C, N);
  qk_quantize_act_dynamic(hist, C, C, back, &xq);
  qk_act_s8 xq0 = xq;
  xq0.codes += (size_t)back * (size_t)xq.ld;
  xq0.scales += back;
  xq0.sums += back;
  const qk_wavenet_scratch scratch = {.conv_act = &conv_act, .act_1x1 = &act_1x1, .z = z};

  qk_wavenet_layer L = {.C = C,
                        .taps = taps,
                        .dilation = s->dilation,
                        .conv = conv,
                        .conv_bias = bias,
                        .mixin = mixin,
                        .w1x1 = w1,
                        .bias1x1 = bias,
                        .act = s->act};
  const qk_wavenet_layer plain = L;
  *fused = qk_wavenet_layer_s8_fused(&L);
  void *prepared = NULL;
  if (*fused) {
    prepared = bench_alloc(qk_wavenet_layer_s8_prepared_size(&L));
    qk_wavenet_layer_s8_prepare(&L, prepared);
    L.prepared = prepared;
  } else {
    L.conv_taps = (const qk_packed *const *)conv_taps;
  }
  const float *x = hist + (size_t)back * (size_t)C;
  const layer_call base = {.N = N,
                           .x = x,
                           .xq = &xq0,
                           .cond = cond,
                           .head = head,
                           .next = next,
                           .scratch = &scratch,
                           .conv_f32 = conv_f32,
                           .w1_f32 = w1_f32,
                           .gather = gather};
  layer_call calls[FORM_COUNT];
  void *ctx[FORM_COUNT];
  for (int f = 0; f < FORM_COUNT; ++f) {
    calls[f] = base;
    calls[f].form = (layer_form)f;
    calls[f].L = f == FORM_ENGINE ? L : plain;
    ctx[f] = &calls[f];
  }
  calls[FORM_SLICES].L.conv_taps = (const qk_packed *const *)conv_taps;
  double sec[FORM_COUNT] = {0};
  bench_median_times(run_layer, ctx, with_float ? FORM_COUNT : FORM_COUNT - 1, min_seconds, runs,
                     sec);
  for (int i = 0; i < FORM_COUNT; ++i)
    ns[i] = sec[i] * 1e9 / N;

  bench_free(prepared);
  act_columns_free(&xq);
  act_columns_free(&conv_act);
  act_columns_free(&act_1x1);
  bench_free(hist);
  bench_free(cond);
  bench_free(bias);
  bench_free(mixin);
  bench_free(head);
  bench_free(next);
  bench_free(z);
  bench_free(gather);
  for (int t = 0; t < taps; ++t)
    qk_packed_free(conv_taps[t]);
  bench_free(conv_taps);
  qk_packed_free(conv);
  qk_packed_free(w1);
  qk_packed_free(conv_f32);
  qk_packed_free(w1_f32);
}

void bench_wavenet_layer(int isa, double min_seconds, int runs)
{
  printf("\nint8 WaveNet layer (qk_wavenet_layer_s8, s8 per-channel), ns per frame, medians of %d "
         "interleaved runs:\n",
         runs);
  printf("A1 (tanh, kernel 3, dilation 8, 64 frames per call):\n");
  static const int a1_channels[] = {16, 8};
  for (int i = 0; i < 2; ++i) {
    const layer_shape s = {.C = a1_channels[i], .taps = 3, .dilation = 8, .N = 64};
    double ns[FORM_COUNT];
    bool fused;
    measure_layer(&s, (qk_isa)isa, min_seconds, runs, false, ns, &fused);
    printf("  C=%-2d  engine (%s) %6.2f   slices %6.2f   steps %6.2f   steps/engine %.2fx\n", s.C,
           fused ? "fused" : "slices", ns[FORM_ENGINE], ns[FORM_SLICES], ns[FORM_STEPS],
           ns[FORM_STEPS] / ns[FORM_ENGINE]);
  }
  printf("A2 standard (C=8) and nano (C=3), LeakyReLU 0.01: int8 engine and steps against the "
         "float path (gather, qk_gemm_f32, LeakyReLU, 1x1):\n");
  static const int a2_C[] = {8, 3}, a2_taps[] = {6, 15}, a2_dilation[] = {41, 13},
                   blocks[] = {64, 16};
  for (int ci = 0; ci < 2; ++ci)
    for (int k = 0; k < 2; ++k)
      for (int b = 0; b < 2; ++b) {
        const layer_shape s = {.C = a2_C[ci],
                               .taps = a2_taps[k],
                               .dilation = a2_dilation[k],
                               .N = blocks[b],
                               .act = {.kind = QK_WN_LEAKY_RELU, .slope = 0.01f}};
        double ns[FORM_COUNT];
        bool fused;
        measure_layer(&s, (qk_isa)isa, min_seconds, runs, true, ns, &fused);
        printf("  C=%d K=%-2d block %-3d engine (%s) %6.2f   slices %6.2f   float %6.2f   "
               "float/engine %.2fx\n",
               s.C, s.taps, s.N, fused ? "fused" : "slices", ns[FORM_ENGINE], ns[FORM_SLICES],
               ns[FORM_FLOAT], ns[FORM_FLOAT] / ns[FORM_ENGINE]);
      }
}

int bench_layer(int argc, char **argv)
{
  qk_isa isa = qk_active_isa();
  int runs = 7;
  double min_ms = 20.0;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--isa") && i + 1 < argc && qk_isa_from_name(argv[i + 1], &isa) &&
        qk_isa_supported(isa))
      ++i;
    else if (!strcmp(argv[i], "--runs") && i + 1 < argc && atoi(argv[i + 1]) >= 1)
      runs = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--min-ms") && i + 1 < argc && atof(argv[i + 1]) > 0.0)
      min_ms = atof(argv[++i]);
    else {
      fprintf(stderr, "usage: quantone-bench layer [--isa NAME] [--runs R] [--min-ms MS]\n"
                      "  the int8 WaveNet layer part of 'kernels' alone (A1 and A2 shapes);\n"
                      "  --isa: a supported ISA (default: the active one)\n");
      return !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") ? 0 : 2;
    }
  }
  printf("quantone-bench layer: isa %s, median of %d runs, each >= %g ms\n", qk_isa_name(isa), runs,
         min_ms);
  bench_wavenet_layer(isa, min_ms * 1e-3, runs);
  return 0;
}
