/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The fused recurrent step (qk.h, qk_rnn_run):
  - every ISA that runs here gives the scalar form's bits, float and int8
    weights (S8, S4, CB4 codes), LSTM and GRU, H from 1 to 64 (lane
    padding and tails of every vector width);
  - a run split into calls of 1, 5 and 31 steps gives the bits of one call
    (the state carries between calls, nothing else does);
  - the float form is an LSTM / GRU: within 2e-5 of the equations of
    qk.h in double precision with libm tanh and sigmoid (so a wrong gate
    order, a missing bias or a wrong recurrence fails), and the int8 form
    within 0.05 of the same equations on its dequantized weights (2e-5 on
    the first step, where both start from one state: this pins the int8
    form's power-of-two scale, rounding and clamp of h).
  Usage: test_rnn [--require ISA]... (fails when a required ISA cannot run).
*/
#include "qk.h"
#include "qk_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { STEPS = 37 };

typedef struct {
  qk_rnn_kind kind;
  int H, G;
  float *wh, *bh, *gx;  /* float weights [G*H][H], bias, N frames of G*H */
  int8_t *codes;        /* int8 form: codes [G*H][H] */
  float *scales;        /* [G*H] */
  int8_t codebook[16];  /* CB4 */
  qk_weights q;         /* the int8 description */
  float h0[64], c0[64]; /* start state */
} layer;

static void make_layer(layer *L, qk_rnn_kind kind, int H, qk_format fmt)
{
  memset(L, 0, sizeof *L);
  L->kind = kind;
  L->H = H;
  L->G = qk_rnn_gates(kind);
  const int M = L->G * H;
  L->wh = malloc((size_t)M * (size_t)H * sizeof(float));
  L->bh = malloc((size_t)M * sizeof(float));
  L->gx = malloc((size_t)STEPS * (size_t)M * sizeof(float));
  L->codes = malloc((size_t)M * (size_t)H);
  L->scales = malloc((size_t)M * sizeof(float));
  const float amp = 1.5f / sqrtf((float)H);
  for (int i = 0; i < 16; ++i)
    L->codebook[i] = (int8_t)(i * 17 - 128); /* -128 .. 127: the extreme values */
  for (int m = 0; m < M; ++m) {
    L->scales[m] = amp / 127.0f * rng_float(0.5f, 1.5f);
    L->bh[m] = rng_float(-0.3f, 0.3f);
    for (int k = 0; k < H; ++k) {
      const int lo = qk_format_min(fmt), hi = qk_format_max(fmt);
      const int8_t code = (int8_t)rng_int(lo, hi);
      L->codes[(size_t)m * (size_t)H + (size_t)k] = code;
      const int v = fmt == QK_CB4 ? L->codebook[code] : code;
      /* float weights: the int8 form's values, so both forms are one layer */
      L->wh[(size_t)m * (size_t)H + (size_t)k] = L->scales[m] * (float)v;
    }
  }
  for (int i = 0; i < STEPS * M; ++i)
    L->gx[i] = rng_float(-2.0f, 2.0f);
  for (int j = 0; j < H; ++j) {
    L->h0[j] = rng_float(-0.9f, 0.9f);
    L->c0[j] = rng_float(-2.0f, 2.0f);
  }
  /* |h| / s = 127.87 for the int8 form's first step: its code is clamped */
  L->h0[H / 2] = H % 2 ? -0.999f : 0.999f;
  L->q = (qk_weights){.format = fmt,
                      .rows = M,
                      .cols = H,
                      .group = 0,
                      .codes = L->codes,
                      .scales = L->scales,
                      .codebook = fmt == QK_CB4 ? L->codebook : NULL};
}

static void free_layer(layer *L)
{
  free(L->wh);
  free(L->bh);
  free(L->gx);
  free(L->codes);
  free(L->scales);
}

/** STEPS steps in calls of `per` steps; y gets STEPS*H outputs, h/c the end state. */
static void run(const qk_rnn *r, const layer *L, int per, float *y, float *h, float *c)
{
  const int M = L->G * L->H;
  memcpy(h, L->h0, sizeof L->h0);
  memcpy(c, L->c0, sizeof L->c0);
  for (int f = 0; f < STEPS; f += per) {
    const int n = STEPS - f < per ? STEPS - f : per;
    qk_rnn_run(r, L->gx + (size_t)f * (size_t)M, M, n, h, L->kind == QK_RNN_LSTM ? c : NULL,
               y + (size_t)f * (size_t)L->H, L->H);
  }
}

static double sig(double x) { return 1.0 / (1.0 + exp(-x)); }

/** The equations of qk.h in double with libm, on the float weights (or
    with h quantized per step as the int8 form does when s8). */
static void reference(const layer *L, bool s8, double *y)
{
  const int H = L->H, M = L->G * H;
  double h[64], c[64], u[256], hq[64];
  for (int j = 0; j < H; ++j)
    h[j] = L->h0[j], c[j] = L->c0[j];
  for (int f = 0; f < STEPS; ++f) {
    const float *g = L->gx + (size_t)f * (size_t)M;
    double amax = 0;
    for (int k = 0; k < H; ++k)
      amax = fmax(amax, fabs(h[k]));
    /* int8: the power-of-two scale s = 2^(floor(log2 amax) - 6), codes
       rint(h / s) clamped to +-127 (qk.h) */
    const double s = amax > 0 ? ldexp(1.0, ilogb(amax) - 6) : 0;
    for (int k = 0; k < H; ++k)
      hq[k] = s8 && amax > 0 ? fmin(fmax(rint(h[k] / s), -127.0), 127.0) * s : h[k];
    for (int m = 0; m < M; ++m) {
      u[m] = L->bh[m];
      for (int k = 0; k < H; ++k)
        u[m] += (double)L->wh[(size_t)m * (size_t)H + (size_t)k] * hq[k];
    }
    for (int j = 0; j < H; ++j) {
      if (L->kind == QK_RNN_LSTM) {
        const double i = sig(g[j] + u[j]), fg = sig(g[H + j] + u[H + j]);
        const double gg = tanh(g[2 * H + j] + u[2 * H + j]), o = sig(g[3 * H + j] + u[3 * H + j]);
        c[j] = fg * c[j] + i * gg;
        h[j] = o * tanh(c[j]);
      } else {
        const double z = sig(g[j] + u[j]), r = sig(g[H + j] + u[H + j]);
        const double n = tanh(g[2 * H + j] + r * u[2 * H + j]);
        h[j] = (1 - z) * n + z * h[j];
      }
      y[(size_t)f * (size_t)H + (size_t)j] = h[j];
    }
  }
}

static void check_layer(qk_rnn_kind kind, int H, qk_format fmt)
{
  layer L;
  make_layer(&L, kind, H, fmt);
  const char *kn = kind == QK_RNN_LSTM ? "LSTM" : "GRU";
  const size_t ny = (size_t)STEPS * (size_t)H;
  float *y_ref = calloc(ny, sizeof(float)), *y = calloc(ny, sizeof(float));
  double *yd = calloc(ny, sizeof(double));
  float h_ref[64], c_ref[64], h[64], c[64];
  for (int s8 = 0; s8 <= 1; ++s8) {
    const qk_rnn_weights w = {
        .kind = kind, .units = H, .wh = L.wh, .bh = L.bh, .wh_q = s8 ? &L.q : NULL};
    const char *form = s8 ? qk_format_name(fmt) : "f32";
    const char *err = NULL;
    qk_rnn *scalar = qk_rnn_pack(&w, QK_ISA_SCALAR, &err);
    CHECK(scalar != NULL, "%s H %d %s: scalar pack failed: %s", kn, H, form, err ? err : "?");
    if (!scalar)
      continue;
    run(scalar, &L, STEPS, y_ref, h_ref, c_ref);
    reference(&L, s8, yd);
    double worst = 0;
    for (size_t i = 0; i < ny; ++i)
      worst = fmax(worst, fabs(y_ref[i] - yd[i]));
    const double bound = s8 ? 0.05 : 2e-5;
    CHECK(worst <= bound, "%s H %d %s: scalar form %.3g from the equations (bound %g)", kn, H, form,
          worst, bound);
    /* the first step starts from the same float state on both sides, so
       there the int8 form's quantized h (scale, rounding, clamp) must give
       the equations' value as closely as the float form does */
    double first = 0;
    for (int j = 0; j < H; ++j)
      first = fmax(first, fabs(y_ref[j] - yd[j]));
    CHECK(first <= 2e-5, "%s H %d %s: first step %.3g from the equations", kn, H, form, first);
    for (int isa = 0; isa < QK_ISA_COUNT; ++isa) {
      if (!qk_isa_supported((qk_isa)isa))
        continue;
      qk_rnn *r = qk_rnn_pack(&w, (qk_isa)isa, &err);
      CHECK(r != NULL, "%s H %d %s on %s: pack failed", kn, H, form, qk_isa_name((qk_isa)isa));
      if (!r)
        continue;
      static const int splits[] = {STEPS, 1, 5, 31};
      for (int s = 0; s < 4; ++s) {
        run(r, &L, splits[s], y, h, c);
        size_t bad = 0;
        for (size_t i = 0; i < ny; ++i)
          bad += memcmp(&y[i], &y_ref[i], sizeof(float)) != 0;
        bad += memcmp(h, h_ref, (size_t)H * sizeof(float)) != 0;
        if (kind == QK_RNN_LSTM)
          bad += memcmp(c, c_ref, (size_t)H * sizeof(float)) != 0;
        CHECK(bad == 0, "%s H %d %s on %s, calls of %d steps: %zu values differ from scalar", kn, H,
              form, qk_isa_name((qk_isa)isa), splits[s], bad);
      }
      qk_rnn_free(r);
    }
    qk_rnn_free(scalar);
  }
  free(y_ref);
  free(y);
  free(yd);
  free_layer(&L);
}

/**
   qk_rnn_run_io (float form): gx from one input value per frame and the
   Dense of one row after the layer. On every ISA h, c and y must be the
   bits of qk_gemm_f32 (K = 1) + qk_rnn_run, the Dense output the same bits
   on every ISA and, where qk_rnn_io_dense_is_gemm, those of qk_gemm_f32
   on y; at every split of the frames into calls.
*/
static void check_io(qk_rnn_kind kind, int H, bool biases)
{
  layer L;
  make_layer(&L, kind, H, QK_S8);
  const char *kn = kind == QK_RNN_LSTM ? "LSTM" : "GRU";
  const int M = L.G * H, LDX = 3;
  float wx[4 * 64], bx[4 * 64], x[STEPS * LDX], wd[64], bd[1] = {rng_float(-0.5f, 0.5f)};
  for (int m = 0; m < M; ++m) {
    wx[m] = m % 7 == 3 ? 0.0f : rng_float(-1.0f, 1.0f);
    bx[m] = rng_float(-0.5f, 0.5f);
  }
  for (int k = 0; k < H; ++k)
    wd[k] = rng_float(-1.0f, 1.0f);
  for (int f = 0; f < STEPS * LDX; ++f)
    x[f] = f % 11 == 4 ? 0.0f : rng_float(-1.5f, 1.5f);
  const qk_rnn_weights w = {.kind = kind, .units = H, .wh = L.wh, .bh = L.bh};
  const qk_weights qx = {.format = QK_F32, .rows = M, .cols = 1, .f32 = wx};
  const qk_weights qd = {.format = QK_F32, .rows = 1, .cols = H, .f32 = wd};
  const qk_rnn_io io0 = {
      .x = x, .ldx = LDX, .wx = wx, .bx = biases ? bx : NULL, .wd = wd, .bd = biases ? bd : NULL};
  float *g = calloc((size_t)STEPS * (size_t)M, sizeof(float));
  float y_ref[STEPS * 64], y[STEPS * 64], yd_ref[STEPS], yd[STEPS], yd_scalar[STEPS];
  float h_ref[64], c_ref[64], h[64], c[64];
  float *cc = kind == QK_RNN_LSTM ? c : NULL, *cr = kind == QK_RNN_LSTM ? c_ref : NULL;
  for (int isa = 0; isa < QK_ISA_COUNT; ++isa) {
    if (!qk_isa_supported((qk_isa)isa))
      continue;
    const char *in = qk_isa_name((qk_isa)isa);
    qk_rnn *r = qk_rnn_pack(&w, (qk_isa)isa, NULL);
    qk_packed *px = qk_pack(&qx, (qk_isa)isa, NULL), *pd = qk_pack(&qd, (qk_isa)isa, NULL);
    CHECK(r && px && pd, "%s H %d io on %s: pack failed", kn, H, in);
    if (r && px && pd) {
      memcpy(h_ref, L.h0, sizeof h_ref);
      memcpy(c_ref, L.c0, sizeof c_ref);
      qk_gemm_f32(px, x, LDX, STEPS, io0.bx, g, M, 0);
      qk_rnn_run(r, g, M, STEPS, h_ref, cr, y_ref, H);
      qk_gemm_f32(pd, y_ref, H, STEPS, io0.bd, yd_ref, 1, 0);
      static const int splits[] = {STEPS, 1, 5, 16};
      for (int s = 0; s < 4; ++s) {
        memcpy(h, L.h0, sizeof h);
        memcpy(c, L.c0, sizeof c);
        for (int f = 0; f < STEPS; f += splits[s]) {
          const int n = STEPS - f < splits[s] ? STEPS - f : splits[s];
          qk_rnn_io io = io0;
          io.x = x + (size_t)f * LDX;
          io.yd = yd + f;
          qk_rnn_run_io(r, &io, n, h, cc, y + (size_t)f * (size_t)H, H);
        }
        size_t bad = 0, bad_d = 0, bad_s = 0;
        for (int i = 0; i < STEPS * H; ++i)
          bad += memcmp(&y[i], &y_ref[i], sizeof(float)) != 0;
        bad += memcmp(h, h_ref, (size_t)H * sizeof(float)) != 0;
        if (cc)
          bad += memcmp(c, c_ref, (size_t)H * sizeof(float)) != 0;
        if (isa == QK_ISA_SCALAR && s == 0)
          memcpy(yd_scalar, yd, sizeof yd);
        for (int f = 0; f < STEPS; ++f) {
          bad_d += memcmp(&yd[f], &yd_ref[f], sizeof(float)) != 0;
          bad_s += memcmp(&yd[f], &yd_scalar[f], sizeof(float)) != 0;
        }
        CHECK(bad == 0, "%s H %d io on %s, calls of %d: %zu values differ from GEMM + run", kn, H,
              in, splits[s], bad);
        CHECK(bad_s == 0, "%s H %d io on %s, calls of %d: %zu Dense outputs differ from scalar", kn,
              H, in, splits[s], bad_s);
        CHECK(bad_d == 0 || !qk_rnn_io_dense_is_gemm((qk_isa)isa),
              "%s H %d io on %s, calls of %d: %zu Dense outputs differ from its GEMM", kn, H, in,
              splits[s], bad_d);
      }
    }
    qk_rnn_free(r);
    qk_packed_free(px);
    qk_packed_free(pd);
  }
  free(g);
  free_layer(&L);
}

/** Descriptions the int8 form cannot take are refused, not misread. */
static void check_refusals(void)
{
  layer L;
  make_layer(&L, QK_RNN_LSTM, 8, QK_S8);
  int32_t zp[32] = {0};
  qk_weights grouped = L.q, asym = L.q, shape = L.q;
  grouped.group = 4; /* two groups per row */
  asym.zero_points = zp;
  shape.cols = 7;
  const qk_weights *bad[] = {&grouped, &asym, &shape};
  for (int i = 0; i < 3; ++i) {
    const qk_rnn_weights w = {.kind = QK_RNN_LSTM, .units = 8, .wh_q = bad[i]};
    const char *err = NULL;
    qk_rnn *r = qk_rnn_pack(&w, QK_ISA_SCALAR, &err);
    CHECK(r == NULL && err != NULL, "bad int8 description %d was packed", i);
    qk_rnn_free(r);
  }
  free_layer(&L);
}

int main(int argc, char **argv)
{
  for (int i = 1; i < argc; ++i) {
    qk_isa isa;
    if (!strcmp(argv[i], "--require") && i + 1 < argc && qk_isa_from_name(argv[i + 1], &isa)) {
      CHECK(qk_isa_supported(isa), "required ISA %s cannot run here", argv[i + 1]);
      ++i;
    } else {
      fprintf(stderr, "usage: %s [--require ISA]...\n", argv[0]);
      return 2;
    }
  }
  /* 9 .. 12: the packed-gates LSTM of AVX-512 (qk_rnn_internal.h) */
  static const int units[] = {1, 3, 8, 9, 10, 11, 12, 13, 16, 20, 40, 64};
  static const qk_format formats[] = {QK_S8, QK_S4, QK_CB4};
  for (int k = 0; k < 2; ++k)
    for (size_t u = 0; u < sizeof units / sizeof units[0]; ++u)
      check_layer(k ? QK_RNN_GRU : QK_RNN_LSTM, units[u], formats[u % 3]);
  for (int k = 0; k < 2; ++k)
    for (size_t u = 0; u < sizeof units / sizeof units[0]; ++u)
      check_io(k ? QK_RNN_GRU : QK_RNN_LSTM, units[u], u % 2 == 0);
  check_refusals();
  printf("test_rnn: %d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
