/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  quantone-bench kernels, last part: the int8 NAM WaveNet layer
  (qk_wavenet_layer_s8) as the engine runs it, against the step-by-step
  composition qk.h defines it by, on one ISA. Layers of the standard
  WaveNet's shapes (16 and 8 channels, kernel 3, dilation 8), 64 frames
  per call, random 8-bit per-channel symmetric weights; the history holds
  random audio-range frames. "engine" is the fused form with its prepared
  weights where the ISA has one, else the composition with per-tap conv
  slices; "steps" is the composition on padded columns.
*/
#include "bench.h"
#include "bench_util.h"
#include "qk.h"

#include <stdio.h>
#include <string.h>

enum { LAYER_N = 64, LAYER_TAPS = 3, LAYER_DILATION = 8 };

typedef struct {
  qk_wavenet_layer L;
  const float *x;
  const qk_act_s8 *xq;
  const float *cond;
  float *head, *next;
  const qk_wavenet_scratch *scratch;
  bool steps;
} layer_call;

static void run_layer(void *ctx, long iters)
{
  const layer_call *c = ctx;
  for (long i = 0; i < iters; ++i) {
    if (c->steps)
      qk_wavenet_layer_s8_steps(&c->L, c->x, c->xq, c->cond, LAYER_N, c->head, c->next, c->scratch);
    else
      qk_wavenet_layer_s8(&c->L, c->x, c->xq, c->cond, LAYER_N, c->head, c->next, c->scratch);
    bench_clobber(c->next);
  }
  bench_sink(c->next[0] + c->head[0]);
}

/** Random s8 weights, per-row scales, packed for isa (rows x cols). */
static qk_packed *random_s8(int rows, int cols, qk_isa isa, bench_rng *rng)
{
  int8_t *codes = bench_alloc((size_t)rows * (size_t)cols);
  float *scales = bench_alloc((size_t)rows * sizeof *scales);
  for (int i = 0; i < rows * cols; ++i)
    codes[i] = (int8_t)bench_rng_int(rng, -127, 127);
  for (int r = 0; r < rows; ++r)
    scales[r] = bench_rng_uniform(rng, 0.5f, 2.0f) / (127.0f * (float)cols);
  qk_weights w = {.format = QK_S8, .rows = rows, .cols = cols, .codes = codes, .scales = scales};
  qk_packed *p = qk_pack(&w, isa, NULL);
  bench_free(codes);
  bench_free(scales);
  return p;
}

/** The conv's per-tap slices: the same codes drawn again from the same seed. */
static void slice_taps(int C, qk_isa isa, uint64_t seed, qk_packed **taps)
{
  const int K = LAYER_TAPS * C;
  bench_rng rng;
  bench_rng_seed(&rng, seed);
  int8_t *codes = bench_alloc((size_t)C * (size_t)K), *slice = bench_alloc((size_t)C * (size_t)C);
  float *scales = bench_alloc((size_t)C * sizeof *scales);
  for (int i = 0; i < C * K; ++i)
    codes[i] = (int8_t)bench_rng_int(&rng, -127, 127);
  for (int r = 0; r < C; ++r)
    scales[r] = bench_rng_uniform(&rng, 0.5f, 2.0f) / (127.0f * (float)K);
  for (int t = 0; t < LAYER_TAPS; ++t) {
    for (int r = 0; r < C; ++r)
      memcpy(slice + (size_t)r * (size_t)C, codes + (size_t)r * (size_t)K + (size_t)t * (size_t)C,
             (size_t)C);
    qk_weights w = {.format = QK_S8, .rows = C, .cols = C, .codes = slice, .scales = scales};
    taps[t] = qk_pack(&w, isa, NULL);
  }
  bench_free(codes);
  bench_free(slice);
  bench_free(scales);
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

/** ns per frame of the engine's form and of the composition, for C channels. */
static void measure_layer(int C, qk_isa isa, double min_seconds, int runs, double ns[2],
                          bool *fused)
{
  const int back = LAYER_DILATION * (LAYER_TAPS - 1), frames = back + LAYER_N;
  const uint64_t conv_seed = 0xC0DEull + (uint64_t)C;
  bench_rng rng;
  bench_rng_seed(&rng, conv_seed);
  qk_packed *conv = random_s8(C, LAYER_TAPS * C, isa, &rng);
  bench_rng_seed(&rng, 0x1A1Aull);
  qk_packed *w1 = random_s8(C, C, isa, &rng);
  qk_packed *taps[LAYER_TAPS];
  slice_taps(C, isa, conv_seed, taps);

  float *hist = bench_alloc((size_t)frames * (size_t)C * sizeof *hist);
  float *cond = bench_alloc(LAYER_N * sizeof *cond), *bias = bench_alloc(16 * sizeof *bias);
  float *mixin = bench_alloc(16 * sizeof *mixin);
  float *head = bench_alloc((size_t)LAYER_N * (size_t)C * sizeof *head);
  float *next = bench_alloc((size_t)LAYER_N * (size_t)C * sizeof *next);
  float *z = bench_alloc((size_t)LAYER_N * (size_t)C * sizeof *z);
  for (int i = 0; i < frames * C; ++i)
    hist[i] = bench_rng_uniform(&rng, -0.8f, 0.8f);
  for (int i = 0; i < LAYER_N; ++i)
    cond[i] = bench_rng_uniform(&rng, -0.5f, 0.5f);
  for (int i = 0; i < 16; ++i) {
    bias[i] = bench_rng_uniform(&rng, -0.1f, 0.1f);
    mixin[i] = bench_rng_uniform(&rng, -0.5f, 0.5f);
  }
  qk_act_s8 xq = act_columns(C, frames), conv_act = act_columns(LAYER_TAPS * C, LAYER_N),
            act_1x1 = act_columns(C, LAYER_N);
  qk_quantize_act_dynamic(hist, C, C, back, &xq);
  qk_act_s8 xq0 = xq;
  xq0.codes += (size_t)back * (size_t)xq.ld;
  xq0.scales += back;
  xq0.sums += back;
  const qk_wavenet_scratch scratch = {&conv_act, &act_1x1, z};

  qk_wavenet_layer L = {.C = C,
                        .taps = LAYER_TAPS,
                        .dilation = LAYER_DILATION,
                        .conv = conv,
                        .conv_bias = bias,
                        .mixin = mixin,
                        .w1x1 = w1,
                        .bias1x1 = bias};
  const qk_wavenet_layer plain = L;
  *fused = qk_wavenet_layer_s8_fused(&L);
  void *prepared = NULL;
  if (*fused) {
    prepared = bench_alloc(qk_wavenet_layer_s8_prepared_size(&L));
    qk_wavenet_layer_s8_prepare(&L, prepared);
    L.prepared = prepared;
  } else {
    L.conv_taps = (const qk_packed *const *)taps;
  }
  const float *x = hist + (size_t)back * (size_t)C;
  layer_call calls[2] = {{L, x, &xq0, cond, head, next, &scratch, false},
                         {plain, x, &xq0, cond, head, next, &scratch, true}};
  void *ctx[2] = {&calls[0], &calls[1]};
  double sec[2];
  bench_median_times(run_layer, ctx, 2, min_seconds, runs, sec);
  for (int i = 0; i < 2; ++i)
    ns[i] = sec[i] * 1e9 / LAYER_N;

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
  for (int t = 0; t < LAYER_TAPS; ++t)
    qk_packed_free(taps[t]);
  qk_packed_free(conv);
  qk_packed_free(w1);
}

void bench_wavenet_layer(int isa, double min_seconds, int runs)
{
  printf("\nint8 WaveNet layer (qk_wavenet_layer_s8, kernel %d, dilation %d, %d frames, s8 "
         "per-channel), ns per frame:\n",
         LAYER_TAPS, LAYER_DILATION, LAYER_N);
  static const int channels[] = {16, 8};
  for (int i = 0; i < 2; ++i) {
    double ns[2];
    bool fused;
    measure_layer(channels[i], (qk_isa)isa, min_seconds, runs, ns, &fused);
    printf("  C=%-2d  engine (%s) %6.2f   steps %6.2f   %.2fx\n", channels[i],
           fused ? "fused" : "steps, tap slices", ns[0], ns[1], ns[1] / ns[0]);
  }
}
