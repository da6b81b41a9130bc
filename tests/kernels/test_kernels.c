/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Kernel tests: the scalar path against exact integer arithmetic, and every
  SIMD path this machine can run against the scalar path.

  - gemm_s8 (int8 activations) must agree bit for bit: qk.h fixes the
    integer sums and the order of the float operations after them.
  - gemm_f32 (float activations, any weight format) must agree within a
    tolerance scaled by sum |w||x|, since SIMD sums in another order.
  - Column independence: every ISA's output column is the same bits
    whether it is computed in one call over N columns, alone (N = 1) or in
    any sub-batch, so the engine is bit-exact at every block size.
  - Outputs are written between guard bytes, with gaps between columns
    (ldy > M), and inputs are allocated to their exact size so ASan sees any
    read past the end.

  Usage: test_kernels [--seed S] [--cases C] [--require ISA]...
  --require fails the test when that ISA cannot run here (CI uses it so a
  missing instruction set is an error, not a silent skip). AVX-VNNI is
  required whenever cpuid reports it: this machine class has it, and a
  build or dispatch that loses it must fail here.
*/
#include "qk.h"
#include "qk_test.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

/* ---- guarded output buffers ---- */
#define GUARD 64
#define GUARD_BYTE 0xA5

typedef struct {
  unsigned char *raw;
  float *y;
  size_t floats;
} guarded;

static guarded guarded_new(size_t floats)
{
  guarded g;
  g.floats = floats;
  g.raw = malloc(floats * sizeof(float) + 2 * GUARD);
  memset(g.raw, GUARD_BYTE, floats * sizeof(float) + 2 * GUARD);
  g.y = (float *)(g.raw + GUARD);
  return g;
}

static bool guards_intact(const guarded *g)
{
  const unsigned char *tail = g->raw + GUARD + g->floats * sizeof(float);
  for (int i = 0; i < GUARD; ++i)
    if (g->raw[i] != GUARD_BYTE || tail[i] != GUARD_BYTE)
      return false;
  return true;
}

/** True if the gap rows M..ldy-1 of every column still hold the guard byte. */
static bool gaps_intact(const guarded *g, int M, int ldy, int N)
{
  for (int n = 0; n < N; ++n) {
    const unsigned char *p = (const unsigned char *)(g->y + (size_t)n * (size_t)ldy + M);
    size_t bytes = (size_t)(n == N - 1 ? 0 : ldy - M) * sizeof(float);
    for (size_t i = 0; i < bytes; ++i)
      if (p[i] != GUARD_BYTE)
        return false;
  }
  return true;
}

/* ---- random weights ---- */
typedef struct {
  qk_weights w;
  float *f32;
  int8_t *codes;
  float *scales;
  int32_t *zp;
  int8_t codebook[16];
} weights_case;

/** A code, biased towards the ends of the range where overflow hides. */
static int random_code(int lo, int hi)
{
  int r = rng_int(0, 9);
  if (r == 0)
    return lo;
  if (r == 1)
    return hi;
  return rng_int(lo, hi);
}

static void weights_case_init(weights_case *c, qk_format f, int M, int K, int group, bool asym)
{
  memset(c, 0, sizeof *c);
  c->w.format = f;
  c->w.rows = M;
  c->w.cols = K;
  c->w.group = group;
  size_t n = (size_t)M * (size_t)K;
  if (qk_format_is_float(f)) {
    c->f32 = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; ++i)
      c->f32[i] = rng_float(-1.0f, 1.0f);
    c->w.f32 = c->f32;
    return;
  }
  int lo = qk_format_min(f), hi = qk_format_max(f);
  c->codes = malloc(n);
  for (size_t i = 0; i < n; ++i)
    c->codes[i] = (int8_t)random_code(lo, hi);
  int ng = qk_group_count(K, group);
  c->scales = malloc((size_t)M * (size_t)ng * sizeof(float));
  for (int i = 0; i < M * ng; ++i)
    c->scales[i] = rng_float(1e-4f, 0.05f);
  if (asym && !qk_format_is_codebook(f)) {
    c->zp = malloc((size_t)M * (size_t)ng * sizeof(int32_t));
    for (int i = 0; i < M * ng; ++i)
      c->zp[i] = random_code(lo, hi);
  }
  if (qk_format_is_codebook(f)) {
    int entries = f == QK_CB4 ? 16 : 4;
    for (int i = 0; i < entries; ++i)
      c->codebook[i] = (int8_t)random_code(-128, 127);
    c->w.codebook = c->codebook;
  }
  c->w.codes = c->codes;
  c->w.scales = c->scales;
  c->w.zero_points = c->zp;
}

static void weights_case_free(weights_case *c)
{
  free(c->f32);
  free(c->codes);
  free(c->scales);
  free(c->zp);
}

/** Value v[m][k] as the header defines it. */
static int weight_value(const weights_case *c, int m, int k)
{
  int code = c->codes[(size_t)m * (size_t)c->w.cols + (size_t)k];
  return qk_format_is_codebook(c->w.format) ? c->codebook[code] : code;
}

/** Float activations: mostly moderate, some columns silent or with outliers. */
static float *random_activations(int K, int ldx, int N)
{
  size_t floats = (size_t)ldx * (size_t)(N - 1) + (size_t)K; /* exact: ASan sees overreads */
  float *x = malloc(floats * sizeof(float));
  for (int n = 0; n < N; ++n) {
    int kind = rng_int(0, 15);
    for (int k = 0; k < K; ++k) {
      float v = rng_float(-1.0f, 1.0f);
      if (kind == 0)
        v = 0.0f;
      else if (kind == 1 && k == rng_int(0, K - 1))
        v *= 1000.0f;
      x[(size_t)n * (size_t)ldx + (size_t)k] = v;
    }
  }
  return x;
}

typedef struct {
  qk_act_s8 a;
} act_buffers;

static act_buffers act_new(int K, int N, int group)
{
  act_buffers b;
  b.a.ld = qk_act_ld(K);
  b.a.codes = malloc((size_t)b.a.ld * (size_t)N);
  b.a.scales = malloc((size_t)N * sizeof(float));
  b.a.sums = malloc((size_t)N * (size_t)qk_group_count(K, group) * sizeof(int32_t));
  b.a.group = group;
  b.a.per_column = true;
  return b;
}

static void act_free(act_buffers *b)
{
  free(b->a.codes);
  free(b->a.scales);
  free(b->a.sums);
}

static bool same_bits(const float *a, const float *b, int M, int lda, int ldb, int N, int *bad_m,
                      int *bad_n)
{
  for (int n = 0; n < N; ++n)
    for (int m = 0; m < M; ++m)
      if (memcmp(&a[(size_t)n * (size_t)lda + m], &b[(size_t)n * (size_t)ldb + m], sizeof(float))) {
        *bad_m = m;
        *bad_n = n;
        return false;
      }
  return true;
}

/* ------------------------------------------------------------------------
   1. The scalar oracle against exact integer arithmetic in int64/double:
      every integer sum and zero-point fold is what the header promises.
   ------------------------------------------------------------------------ */
static void test_scalar_against_exact(void)
{
  for (int rep = 0; rep < 60; ++rep) {
    qk_format f = (qk_format)rng_int(QK_S8, QK_CB2);
    int M = rng_int(1, 40), K = rng_int(1, 200), N = rng_int(1, 9);
    int group = rng_int(0, 1) ? 16 * rng_int(1, 4) : 0;
    weights_case c;
    weights_case_init(&c, f, M, K, group, rng_int(0, 1));
    const char *err = NULL;
    qk_packed *p = qk_pack(&c.w, QK_ISA_SCALAR, &err);
    CHECK(p, "scalar pack failed: %s", err ? err : "?");
    if (!p) {
      weights_case_free(&c);
      continue;
    }
    int G = qk_packed_group(p), ng = qk_group_count(K, group);
    float *x = random_activations(K, K, N);
    act_buffers act = act_new(K, N, group);
    qk_quantize_act_dynamic_isa(QK_ISA_SCALAR, x, K, K, N, &act.a);
    float *y = malloc((size_t)M * (size_t)N * sizeof(float));
    qk_gemm_s8(p, &act.a, N, NULL, y, M, 0);
    for (int n = 0; n < N; ++n) {
      const int8_t *xq = act.a.codes + (size_t)n * (size_t)act.a.ld;
      for (int m = 0; m < M; ++m) {
        double exact = 0.0, mag = 0.0;
        for (int g = 0; g < ng; ++g) {
          int64_t dot = 0;
          int z = c.zp ? c.zp[m * ng + g] : 0;
          for (int k = g * G; k < K && k < (g + 1) * G; ++k)
            dot += (int64_t)(weight_value(&c, m, k) - z) * xq[k];
          exact += (double)dot * c.scales[m * ng + g];
          mag += fabs((double)dot * c.scales[m * ng + g]) + 1e-30;
        }
        exact *= act.a.scales[n];
        mag *= act.a.scales[n];
        double got = y[(size_t)n * (size_t)M + (size_t)m];
        CHECK(fabs(got - exact) <= 1e-5 * mag + 1e-12, "scalar s8 %s m=%d n=%d: %g vs %g",
              qk_format_name(f), m, n, got, exact);
      }
    }
    /* Quantization error of the activations: |x - deq(q(x))| <= scale/2. */
    float *xd = malloc((size_t)K * (size_t)N * sizeof(float));
    qk_dequantize_act(&act.a, K, N, xd, K);
    for (int n = 0; n < N; ++n)
      for (int k = 0; k < K; ++k)
        CHECK(fabsf(x[n * K + k] - xd[n * K + k]) <= act.a.scales[n] * 0.5001f,
              "act roundtrip n=%d k=%d", n, k);
    free(xd);
    free(y);
    free(x);
    act_free(&act);
    qk_packed_free(p);
    weights_case_free(&c);
  }
}

/* ------------------------------------------------------------------------
   2. Rounding and saturation of the activation quantizer, known values.
   ------------------------------------------------------------------------ */
static void test_act_quantizer_known_values(void)
{
  /* scale 1: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> 0, -1.5 -> -2 (half to even);
     200 and -1e9 saturate to +-127, never wrap. */
  const float x[8] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 200.0f, -1e9f, 126.5f};
  const int8_t want[8] = {0, 2, 2, 0, -2, 127, -127, 126};
  act_buffers b = act_new(8, 1, 0);
  size_t clipped = qk_quantize_act_static(x, 8, 8, 1, 1.0f, &b.a);
  CHECK(clipped == 2, "static quantizer clipped %zu, want 2", clipped);
  for (int k = 0; k < 8; ++k)
    CHECK(b.a.codes[k] == want[k], "q(%g) = %d, want %d", x[k], b.a.codes[k], want[k]);
  CHECK(b.a.sums[0] == 0 + 2 + 2 + 0 - 2 + 127 - 127 + 126, "sum %d", b.a.sums[0]);
  for (int k = 8; k < b.a.ld; ++k)
    CHECK(b.a.codes[k] == 0, "padding byte %d not zero", k);
  /* dynamic: the largest magnitude maps to exactly +-127 */
  const float y[4] = {-3.0f, 1.5f, 0.0f, 0.75f};
  qk_quantize_act_dynamic(y, 4, 4, 1, &b.a);
  CHECK(b.a.codes[0] == -127 && b.a.codes[2] == 0, "dynamic ends %d %d", b.a.codes[0],
        b.a.codes[2]);
  CHECK(fabsf(b.a.scales[0] - 3.0f / 127.0f) < 1e-9f, "dynamic scale %g", b.a.scales[0]);
  /* silent column: scale 0, codes 0 */
  const float z[3] = {0, 0, 0};
  qk_quantize_act_dynamic(z, 3, 3, 1, &b.a);
  CHECK(b.a.scales[0] == 0.0f && b.a.codes[0] == 0, "silent column");
  act_free(&b);
}

/* ------------------------------------------------------------------------
   3. Pack validation refuses what the kernels cannot run.
   ------------------------------------------------------------------------ */
static void test_pack_validation(void)
{
  int8_t codes[32];
  float scales[2] = {1.0f, 1.0f};
  int32_t zp[2] = {0, 0};
  memset(codes, 0, sizeof codes);
  qk_weights w = {.format = QK_S4, .rows = 2, .cols = 16, .codes = codes, .scales = scales};
  const char *err = NULL;
  qk_packed *p = qk_pack(&w, QK_ISA_SCALAR, &err);
  CHECK(p && !err, "valid s4 refused: %s", err ? err : "");
  qk_packed_free(p);
  codes[3] = 8; /* beyond s4's [-8, 7] */
  CHECK(!qk_pack(&w, QK_ISA_SCALAR, &err) && err, "s4 code 8 accepted");
  codes[3] = 0;
  w.group = 8; /* not a multiple of 16 (and < cols) */
  w.cols = 16;
  w.group = 12;
  CHECK(!qk_pack(&w, QK_ISA_SCALAR, &err) && err, "group 12 accepted");
  w.group = 0;
  w.format = QK_CB4; /* codebook missing */
  CHECK(!qk_pack(&w, QK_ISA_SCALAR, &err) && err, "cb4 without codebook accepted");
  int8_t cb[16] = {0};
  w.codebook = cb;
  w.zero_points = zp;
  CHECK(!qk_pack(&w, QK_ISA_SCALAR, &err) && err, "codebook with zero point accepted");
  w.zero_points = NULL;
  scales[1] = NAN;
  CHECK(!qk_pack(&w, QK_ISA_SCALAR, &err) && err, "NaN scale accepted");
  scales[1] = 1.0f;
  w.rows = 0;
  CHECK(!qk_pack(&w, QK_ISA_SCALAR, &err) && err, "zero rows accepted");
  /* weight memory counts storage bits: 2 x 16 at 4 bits = 16 bytes + scales + table */
  w.rows = 2;
  p = qk_pack(&w, QK_ISA_SCALAR, &err);
  CHECK(p && qk_packed_weight_bytes(p) == 16 + 2 * sizeof(float) + 16, "cb4 weight bytes %zu",
        p ? qk_packed_weight_bytes(p) : 0);
  qk_packed_free(p);
}

/* ------------------------------------------------------------------------
   4. Each SIMD ISA against scalar on random shapes.
   ------------------------------------------------------------------------ */
/**
   Export exactness (issue 15, item 3): on every ISA, a weight-only GEMM
   gives the same bits as that ISA's F32 GEMM on the decoded weights,
   w = scale * ((float)v - z) rounded to float, so a model exported with
   those weights plays through the float path exactly as the quantized one.
   y0 holds what Y starts from (QK_ACCUMULATE), got what isa's weight-only
   GEMM wrote.
*/
static void check_decoded_f32(qk_isa isa, const weights_case *c, const float *x, int ldx, int N,
                              const float *bias, const float *y0, const float *got, int ldy,
                              unsigned flags, size_t yfloats)
{
  const int M = c->w.rows, K = c->w.cols, ng = qk_group_count(K, c->w.group);
  const int G = c->w.group > 0 ? c->w.group : K;
  float *wf = malloc((size_t)M * (size_t)K * sizeof *wf);
  for (int m = 0; m < M; ++m)
    for (int k = 0; k < K; ++k) {
      const int g = k / G;
      const float z = c->zp ? (float)c->zp[m * ng + g] : 0.0f;
      wf[(size_t)m * (size_t)K + (size_t)k] =
          c->scales[m * ng + g] * ((float)weight_value(c, m, k) - z);
    }
  qk_weights w = {.format = QK_F32, .rows = M, .cols = K, .f32 = wf};
  const char *err = NULL;
  qk_packed *p = qk_pack(&w, isa, &err);
  CHECK(p, "%s pack decoded f32: %s", qk_isa_name(isa), err ? err : "?");
  if (p) {
    guarded y = guarded_new(yfloats);
    if (flags & QK_ACCUMULATE)
      memcpy(y.y, y0, yfloats * sizeof(float));
    qk_gemm_f32(p, x, ldx, N, bias, y.y, ldy, flags);
    int bm = 0, bn = 0;
    CHECK(same_bits(got, y.y, M, ldy, ldy, N, &bm, &bn),
          "%s gemm_f32 %s M=%d K=%d N=%d g=%d: weight-only differs from F32 on the decoded "
          "weights at m=%d n=%d: %.9g vs %.9g",
          qk_isa_name(isa), qk_format_name(c->w.format), M, K, N, c->w.group, bm, bn,
          got[(size_t)bn * (size_t)ldy + bm], y.y[(size_t)bn * (size_t)ldy + bm]);
    free(y.raw);
    qk_packed_free(p);
  }
  free(wf);
}

static void compare_isa_case(qk_isa isa, qk_format f, int M, int K, int N, int group, bool asym)
{
  weights_case c;
  weights_case_init(&c, f, M, K, group, asym);
  const char *err = NULL;
  qk_packed *ref = qk_pack(&c.w, QK_ISA_SCALAR, &err);
  qk_packed *simd = qk_pack(&c.w, isa, &err);
  CHECK(ref && simd, "%s pack %s %dx%d g%d: %s", qk_isa_name(isa), qk_format_name(f), M, K, group,
        err ? err : "?");
  if (!ref || !simd)
    goto out_weights;
  CHECK(qk_packed_weight_bytes(ref) == qk_packed_weight_bytes(simd), "weight bytes differ");

  int ldx = K + rng_int(0, 3), ldy = M + rng_int(0, 5);
  float *x = random_activations(K, ldx, N);
  float *bias = NULL;
  if (rng_int(0, 1)) {
    bias = malloc((size_t)M * sizeof(float));
    for (int m = 0; m < M; ++m)
      bias[m] = rng_float(-1.0f, 1.0f);
  }
  unsigned flags = rng_int(0, 3) == 0 ? QK_ACCUMULATE : 0;
  size_t yfloats = (size_t)ldy * (size_t)(N - 1) + (size_t)M;
  guarded y_ref = guarded_new(yfloats), y_simd = guarded_new(yfloats);
  if (flags & QK_ACCUMULATE) {
    for (int n = 0; n < N; ++n)
      for (int m = 0; m < M; ++m) {
        float v = rng_float(-1.0f, 1.0f);
        y_ref.y[(size_t)n * (size_t)ldy + m] = v;
        y_simd.y[(size_t)n * (size_t)ldy + m] = v;
      }
  }

  float *y0 = malloc(yfloats * sizeof *y0);
  memcpy(y0, y_ref.y, yfloats * sizeof *y0);
  /* float activations: tolerance relative to sum |w||x| */
  qk_gemm_f32(ref, x, ldx, N, bias, y_ref.y, ldy, flags);
  qk_gemm_f32(simd, x, ldx, N, bias, y_simd.y, ldy, flags);
  CHECK(guards_intact(&y_simd) && gaps_intact(&y_simd, M, ldy, N),
        "%s gemm_f32 %s wrote outside Y (M=%d K=%d N=%d ldy=%d)", qk_isa_name(isa),
        qk_format_name(f), M, K, N, ldy);
  {
    int reported = 0;
    for (int n = 0; n < N && reported < 3; ++n) {
      const float *xc = x + (size_t)n * (size_t)ldx;
      for (int m = 0; m < M; ++m) {
        double mag = 0.0;
        for (int k = 0; k < K; ++k) {
          double w;
          if (qk_format_is_float(f)) {
            w = c.f32[(size_t)m * (size_t)K + (size_t)k];
          } else {
            int G = qk_packed_group(ref), g = k / G, ng = qk_group_count(K, group);
            w = c.scales[m * ng + g] * (weight_value(&c, m, k) - (c.zp ? c.zp[m * ng + g] : 0));
          }
          mag += fabs(w * xc[k]);
        }
        float a = y_ref.y[(size_t)n * (size_t)ldy + m], b = y_simd.y[(size_t)n * (size_t)ldy + m];
        double tol = 2e-6 * mag + 2e-6 * fabs(a) + 1e-7;
        if (!(fabs((double)a - (double)b) <= tol)) {
          CHECK(0, "%s gemm_f32 %s M=%d K=%d N=%d g=%d m=%d n=%d: %.9g vs %.9g (tol %.3g)",
                qk_isa_name(isa), qk_format_name(f), M, K, N, group, m, n, a, b, tol);
          ++reported;
          break;
        }
      }
    }
    ++checks;
  }
  if (!qk_format_is_float(f)) {
    check_decoded_f32(QK_ISA_SCALAR, &c, x, ldx, N, bias, y0, y_ref.y, ldy, flags, yfloats);
    check_decoded_f32(isa, &c, x, ldx, N, bias, y0, y_simd.y, ldy, flags, yfloats);
    checks += 2;
  }
  free(y0);
  /* the 16-bit formats define their arithmetic (kernels/qk_half.h): bits */
  if (f == QK_F16 || f == QK_BF16)
    CHECK(!memcmp(y_ref.y, y_simd.y, yfloats * sizeof(float)),
          "%s gemm_f32 %s M=%d K=%d N=%d: not bit-identical to scalar", qk_isa_name(isa),
          qk_format_name(f), M, K, N);

  if (!qk_format_is_float(f)) {
    /* int8 activations: dynamic or static (saturating), then bit-exact GEMM */
    act_buffers act = act_new(K, N, group);
    if (rng_int(0, 2) == 0)
      qk_quantize_act_static(x, ldx, K, N, rng_float(0.001f, 0.02f), &act.a);
    else
      qk_quantize_act_dynamic_isa(QK_ISA_SCALAR, x, ldx, K, N, &act.a);
    guarded z_ref = guarded_new(yfloats), z_simd = guarded_new(yfloats);
    if (flags & QK_ACCUMULATE) {
      memcpy(z_ref.y, y_ref.y, yfloats * sizeof(float));
      memcpy(z_simd.y, y_ref.y, yfloats * sizeof(float));
    }
    qk_gemm_s8(ref, &act.a, N, bias, z_ref.y, ldy, flags);
    qk_gemm_s8(simd, &act.a, N, bias, z_simd.y, ldy, flags);
    int bm = 0, bn = 0;
    CHECK(same_bits(z_ref.y, z_simd.y, M, ldy, ldy, N, &bm, &bn),
          "%s gemm_s8 %s M=%d K=%d N=%d g=%d asym=%d: not bit-exact at m=%d n=%d: %.9g vs %.9g",
          qk_isa_name(isa), qk_format_name(f), M, K, N, group, asym, bm, bn,
          z_ref.y[(size_t)bn * (size_t)ldy + bm], z_simd.y[(size_t)bn * (size_t)ldy + bm]);
    CHECK(guards_intact(&z_simd) && gaps_intact(&z_simd, M, ldy, N),
          "%s gemm_s8 %s wrote outside Y", qk_isa_name(isa), qk_format_name(f));
    if (!asym && !(flags & QK_ACCUMULATE)) {
      /* symmetric weights need no activation sums: a caller may pass none,
         and an ISA that folds sums in (the VNNI ones) must make its own */
      int32_t *sums = act.a.sums;
      act.a.sums = NULL;
      qk_gemm_s8(simd, &act.a, N, bias, z_simd.y, ldy, flags);
      act.a.sums = sums;
      CHECK(same_bits(z_ref.y, z_simd.y, M, ldy, ldy, N, &bm, &bn),
            "%s gemm_s8 %s M=%d K=%d N=%d g=%d without sums: not bit-exact at m=%d n=%d",
            qk_isa_name(isa), qk_format_name(f), M, K, N, group, bm, bn);
    }
    free(z_ref.raw);
    free(z_simd.raw);
    act_free(&act);
  }
  free(y_ref.raw);
  free(y_simd.raw);
  free(bias);
  free(x);
out_weights:
  qk_packed_free(ref);
  qk_packed_free(simd);
  weights_case_free(&c);
}

/** Scale-group sizes every ISA test covers (0 = whole row). */
static const int groups[] = {0, 16, 32, 48, 64, 128};

static void test_isa_against_scalar(qk_isa isa, int cases)
{
  int before = failures;
  /* Every format x granularity x symmetry at least once on an awkward shape. */
  for (int f = QK_F32; f < QK_FORMAT_COUNT; ++f)
    for (size_t gi = 0; gi < sizeof groups / sizeof groups[0]; ++gi)
      for (int asym = 0; asym <= 1; ++asym)
        compare_isa_case(isa, (qk_format)f, 37, 131, 67, groups[gi], asym);
  /* The shapes models use, with the block lengths they run. */
  static const int Ms[] = {8, 16, 32, 64}, Ks[] = {24, 48, 96, 192}, Ns[] = {1, 64, 256};
  for (int f = QK_F32; f < QK_FORMAT_COUNT; ++f)
    for (int i = 0; i < 4; ++i)
      compare_isa_case(isa, (qk_format)f, Ms[i], Ks[(i + f) % 4], Ns[(i + f) % 3], 0, f == QK_S8);
  /* Random shapes including every tail; N spans 1..517. */
  for (int i = 0; i < cases; ++i) {
    qk_format f = (qk_format)rng_int(QK_F32, QK_FORMAT_COUNT - 1);
    int M = rng_int(1, 80), K = rng_int(1, 300);
    int N = i % 8 == 0 ? rng_int(1, 517) : rng_int(1, 24);
    int group = groups[rng_int(0, 5)];
    compare_isa_case(isa, f, M, K, N, group, rng_int(0, 1));
  }
  /* Activation quantizers: codes, scales, sums and clip counts identical. */
  for (int i = 0; i < 40; ++i) {
    int K = rng_int(1, 300), N = rng_int(1, 40), ldx = K + rng_int(0, 5);
    int group = groups[rng_int(0, 5)];
    float *x = random_activations(K, ldx, N);
    act_buffers a = act_new(K, N, group), b = act_new(K, N, group);
    qk_quantize_act_dynamic_isa(QK_ISA_SCALAR, x, ldx, K, N, &a.a);
    qk_quantize_act_dynamic_isa(isa, x, ldx, K, N, &b.a);
    int ng = qk_group_count(K, group);
    CHECK(!memcmp(a.a.codes, b.a.codes, (size_t)a.a.ld * (size_t)N) &&
              !memcmp(a.a.scales, b.a.scales, (size_t)N * sizeof(float)) &&
              !memcmp(a.a.sums, b.a.sums, (size_t)N * (size_t)ng * sizeof(int32_t)),
          "%s dynamic act quantizer differs from scalar (K=%d N=%d g=%d)", qk_isa_name(isa), K, N,
          group);
    /* static, with a scale small enough that many values saturate */
    float scale = rng_float(0.001f, 0.02f);
    size_t clip_a = qk_quantize_act_static_isa(QK_ISA_SCALAR, x, ldx, K, N, scale, &a.a);
    size_t clip_b = qk_quantize_act_static_isa(isa, x, ldx, K, N, scale, &b.a);
    CHECK(clip_a == clip_b && a.a.scales[0] == b.a.scales[0] && !a.a.per_column &&
              !b.a.per_column && !memcmp(a.a.codes, b.a.codes, (size_t)a.a.ld * (size_t)N) &&
              !memcmp(a.a.sums, b.a.sums, (size_t)N * (size_t)ng * sizeof(int32_t)),
          "%s static act quantizer differs from scalar (K=%d N=%d g=%d, clipped %zu vs %zu)",
          qk_isa_name(isa), K, N, group, clip_a, clip_b);
    act_free(&a);
    act_free(&b);
    free(x);
  }
  /* Short columns (K <= 128, the models' sizes, where ISAs may have a
     whole-block quantizer: up to A2's head conv of 16 taps of 8) with NaN,
     infinities, subnormal and silent columns: the dynamic quantizer must
     still match the scalar exactly. */
  for (int i = 0; i < 200; ++i) {
    /* every fourth case a WaveNet frame (K = 8 or 16), over several batches */
    int K = i % 4 ? rng_int(1, i % 2 ? 64 : 128) : i % 8 ? 8 : 16;
    int N = i % 4 ? rng_int(1, 20) : rng_int(1, 40), ldx = K + rng_int(0, 3);
    int group = groups[rng_int(0, 5)];
    float *x = random_activations(K, ldx, N);
    for (int n = 0; n < N; ++n) {
      float *col = x + (size_t)n * (size_t)ldx;
      switch (rng_int(0, 7)) {
      case 0: col[rng_int(0, K - 1)] = NAN; break;
      case 1: col[rng_int(0, K - 1)] = rng_int(0, 1) ? INFINITY : -INFINITY; break;
      case 2: /* subnormal amax: 127 / amax overflows */
        for (int k = 0; k < K; ++k)
          col[k] = col[k] * 1e-39f;
        break;
      case 3:
        for (int k = 0; k < K; ++k)
          col[k] = 0.0f;
        break;
      default: break;
      }
    }
    act_buffers a = act_new(K, N, group), b = act_new(K, N, group);
    qk_quantize_act_dynamic_isa(QK_ISA_SCALAR, x, ldx, K, N, &a.a);
    qk_quantize_act_dynamic_isa(isa, x, ldx, K, N, &b.a);
    int ng = qk_group_count(K, group);
    CHECK(!memcmp(a.a.codes, b.a.codes, (size_t)a.a.ld * (size_t)N) &&
              !memcmp(a.a.scales, b.a.scales, (size_t)N * sizeof(float)) &&
              !memcmp(a.a.sums, b.a.sums, (size_t)N * (size_t)ng * sizeof(int32_t)) &&
              b.a.per_column,
          "%s dynamic act quantizer differs from scalar on special values (K=%d N=%d g=%d)",
          qk_isa_name(isa), K, N, group);
    act_free(&a);
    act_free(&b);
    free(x);
  }
  /* The tap quantizer (a dilated conv's columns straight from a frame
     history) against gathering the columns and quantizing them. */
  for (int i = 0; i < 150; ++i) {
    int C = rng_int(0, 2) ? 16 * rng_int(1, 2) : rng_int(1, 40), taps = rng_int(1, 4);
    int d = rng_int(1, 8), N = rng_int(1, 40), group = groups[rng_int(0, 5)];
    if (i % 5 == 0) { /* taps back to back, as A2's array head conv (16 taps of 8) */
      C = i % 10 ? rng_int(1, 12) : 8;
      taps = i % 10 ? rng_int(1, 128 / C) : 16;
      d = 1;
    }
    int K = C * taps, frames = N + (taps - 1) * d;
    float *hist = random_activations(C, C, frames);
    if (rng_int(0, 3) == 0)
      hist[rng_int(0, frames * C - 1)] = rng_int(0, 1) ? NAN : INFINITY;
    float *g = malloc((size_t)K * (size_t)N * sizeof(float));
    for (int n = 0; n < N; ++n)
      for (int t = 0; t < taps; ++t)
        memcpy(g + (size_t)n * (size_t)K + (size_t)t * (size_t)C,
               hist + (size_t)(n + t * d) * (size_t)C, (size_t)C * sizeof(float));
    act_buffers a = act_new(K, N, group), b = act_new(K, N, group);
    qk_quantize_act_dynamic_isa(QK_ISA_SCALAR, g, K, K, N, &a.a);
    qk_quantize_act_dynamic_taps_isa(isa, hist, C, C, taps, (ptrdiff_t)d * C, N, &b.a);
    int ng = qk_group_count(K, group);
    CHECK(!memcmp(a.a.codes, b.a.codes, (size_t)a.a.ld * (size_t)N) &&
              !memcmp(a.a.scales, b.a.scales, (size_t)N * sizeof(float)) &&
              !memcmp(a.a.sums, b.a.sums, (size_t)N * (size_t)ng * sizeof(int32_t)) &&
              b.a.per_column,
          "%s tap quantizer differs from gather + quantize (C=%d taps=%d d=%d N=%d g=%d)",
          qk_isa_name(isa), C, taps, d, N, group);
    act_free(&a);
    act_free(&b);
    free(g);
    free(hist);
  }
  printf("  %-12s %s\n", qk_isa_name(isa), failures == before ? "agrees with scalar" : "FAILED");
}

/* ------------------------------------------------------------------------
   5. The vpmaddubsw trap: u8 x s8 pair sums overflow int16 when weights are
      -128 and activations +-127 (offset to 1..255). Every ISA must still
      produce the exact sum.
   ------------------------------------------------------------------------ */
static void test_saturation_trap(qk_isa isa)
{
  const int M = 16, K = 256, N = 8;
  int8_t *codes = malloc((size_t)M * K);
  float scales[16];
  int32_t zp[16];
  for (int m = 0; m < M; ++m) {
    scales[m] = 1.0f;
    zp[m] = m % 2 ? 127 : -128;
    for (int k = 0; k < K; ++k)
      codes[m * K + k] = (int8_t)((m / 2) % 2 ? -128 : 127);
  }
  qk_weights w = {
      .format = QK_S8, .rows = M, .cols = K, .codes = codes, .scales = scales, .zero_points = zp};
  float *x = malloc((size_t)K * N * sizeof(float));
  for (int n = 0; n < N; ++n)
    for (int k = 0; k < K; ++k)
      x[n * K + k] = (n % 2 ? -1.0f : 1.0f) * ((k + n) % 3 ? 1.0f : -1.0f);
  act_buffers a = act_new(K, N, 0);
  qk_quantize_act_static(x, K, K, N, 1.0f / 127.0f, &a.a); /* all codes +-127 */
  const char *err = NULL;
  qk_packed *p = qk_pack(&w, isa, &err);
  float y[16 * 8];
  qk_gemm_s8(p, &a.a, N, NULL, y, M, 0);
  for (int n = 0; n < N; ++n)
    for (int m = 0; m < M; ++m) {
      int64_t dot = 0;
      for (int k = 0; k < K; ++k)
        dot += (int64_t)(codes[m * K + k] - zp[m]) * a.a.codes[n * a.a.ld + k];
      float want = (float)dot * (1.0f / 127.0f);
      CHECK(y[n * M + m] == want, "%s saturation trap m=%d n=%d: %.9g, exact %.9g",
            qk_isa_name(isa), m, n, y[n * M + m], want);
    }
  /* and the weight-only path with the same extreme codes */
  float yf[16 * 8];
  qk_gemm_f32(p, x, K, N, NULL, yf, M, 0);
  for (int n = 0; n < N; ++n)
    for (int m = 0; m < M; ++m) {
      double want = 0.0;
      for (int k = 0; k < K; ++k)
        want += (double)(codes[m * K + k] - zp[m]) * x[n * K + k];
      CHECK(fabs(yf[n * M + m] - want) <= 1e-6 * 255.0 * K, "%s weight-only extreme m=%d",
            qk_isa_name(isa), m);
    }
  qk_packed_free(p);
  act_free(&a);
  free(x);
  free(codes);
}

/* ------------------------------------------------------------------------
   5b. Exact int16 runs at their bound. Kernels without a widening dot
       product keep exact products in int16 lanes while the code range
       allows: NEON without sdot sums n = floor(32767 / (2 * 127 * A)) blocks
       of 16 k (two products per lane each; A = the largest weight
       magnitude, the table's for sub-byte formats) before widening
       (qk_neon_int16_run_blocks), AVX2 a bound of the same kind
       (chunks_per_flush). Here every weight sits at one extreme level of its
       format (both signs; for codebooks the table's largest level, from
       +-1 up to -128) and every code at +127 or at -127, so every product
       has the largest magnitude and the same sign: at K = n + 1 blocks one
       product too many in a run wraps a lane. Each ISA must give the exact
       sum at K = n blocks, n + 1, and 2n + 1 plus a masked tail.
   ------------------------------------------------------------------------ */

/** floor(32767 / (2 * 127 * A)): the bound the test aims one block past. */
static int int16_run_blocks(int amax) { return 32767 / (2 * 127 * amax); }

/** Weights of format f all at value `level`; a codebook gets the levels
    {lo, hi} (index 0 and 1, the rest 0) and every weight the one index. */
static void int16_run_case(qk_isa isa, qk_format f, int lo, int hi, bool use_lo, float xsign, int K)
{
  const int M = 6, N = 7; /* a full and a padded row tile; 4 + 2 + 1 frames */
  const bool cb = qk_format_is_codebook(f);
  const int level = use_lo ? lo : hi;
  int8_t codebook[16] = {0};
  codebook[0] = (int8_t)lo;
  codebook[1] = (int8_t)hi;
  int8_t *codes = malloc((size_t)M * (size_t)K);
  memset(codes, cb ? (use_lo ? 0 : 1) : level, (size_t)M * (size_t)K);
  float scales[6] = {1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f};
  qk_weights w = {.format = f,
                  .rows = M,
                  .cols = K,
                  .codes = codes,
                  .scales = scales,
                  .codebook = cb ? codebook : NULL};
  float *x = malloc((size_t)K * N * sizeof(float));
  for (size_t i = 0; i < (size_t)K * N; ++i)
    x[i] = xsign;
  act_buffers a = act_new(K, N, 0);
  qk_quantize_act_static(x, K, K, N, 1.0f / 127.0f, &a.a);
  CHECK(a.a.codes[0] == (int8_t)(127 * xsign) && a.a.codes[K - 1] == (int8_t)(127 * xsign),
        "int16 run test: codes %d %d, not %d", a.a.codes[0], a.a.codes[K - 1], (int)(127 * xsign));
  const char *err = NULL;
  qk_packed *p = qk_pack(&w, isa, &err);
  CHECK(p, "%s pack %s: %s", qk_isa_name(isa), qk_format_name(f), err ? err : "?");
  float y[6 * 7];
  if (p)
    qk_gemm_s8(p, &a.a, N, NULL, y, M, 0);
  /* qk.h's float steps with scale 1 and no base: (float)i * xscale */
  const int64_t dot = (int64_t)level * (int64_t)a.a.codes[0] * K;
  const float want = (float)dot * a.a.scales[0];
  int bad = 0;
  while (p && bad < M * N && y[bad] == want)
    ++bad;
  CHECK(p && bad == M * N,
        "%s int16 run %s level %d codes %+d K=%d (%d blocks): m=%d n=%d: %.9g, exact %.9g",
        qk_isa_name(isa), qk_format_name(f), level, a.a.codes[0], K, (K + 15) / 16, bad % M,
        bad / M, bad < M * N ? y[bad] : want, want);
  qk_packed_free(p);
  act_free(&a);
  free(x);
  free(codes);
}

static void test_int16_run_extremes(qk_isa isa)
{
  const int before = failures;
  /* format, the value range's ends (codebooks: the table's smallest and
     largest level) */
  static const struct {
    qk_format f;
    int lo, hi;
  } cases[] = {
      {QK_S8, -128, 127}, {QK_S4, -8, 7},  {QK_S2, -2, 1},  {QK_CB4, -128, 127},
      {QK_CB4, -64, 64},  {QK_CB4, -9, 9}, {QK_CB4, -1, 1}, {QK_CB2, -127, 100},
      {QK_CB2, -3, 3},    {QK_CB2, -1, 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    const int amax = -cases[i].lo > cases[i].hi ? -cases[i].lo : cases[i].hi;
    const int n = int16_run_blocks(amax);
    const int ks[3] = {16 * n, 16 * (n + 1), 16 * (2 * n + 1) + 7};
    for (int side = 0; side < 2; ++side)
      for (int j = 0; j < 3; ++j) {
        int16_run_case(isa, cases[i].f, cases[i].lo, cases[i].hi, side == 0, 1.0f, ks[j]);
        int16_run_case(isa, cases[i].f, cases[i].lo, cases[i].hi, side == 0, -1.0f, ks[j]);
      }
  }
  printf("  %-12s %s\n", qk_isa_name(isa),
         failures == before ? "int16 runs exact at their bound" : "FAILED");
}

/* ------------------------------------------------------------------------
   6. tanh and sigmoid within 2e-6 of libm over [-20, 20], every ISA.
   ------------------------------------------------------------------------ */
static void test_activations(qk_isa isa)
{
  const size_t n = 400001 + 3; /* odd length: exercises tails */
  float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
  for (size_t i = 0; i < n; ++i)
    x[i] = -20.0f + 40.0f * (float)i / (float)(n - 4);
  x[n - 3] = 1e-7f;
  x[n - 2] = -0.0f;
  x[n - 1] = 100.0f;
  double worst_tanh = 0.0, worst_sig = 0.0;
  qk_tanh_isa(isa, y, x, n);
  for (size_t i = 0; i < n; ++i)
    worst_tanh = fmax(worst_tanh, fabs(y[i] - tanh((double)x[i])));
  qk_sigmoid_isa(isa, y, x, n);
  for (size_t i = 0; i < n; ++i)
    worst_sig = fmax(worst_sig, fabs(y[i] - 1.0 / (1.0 + exp(-(double)x[i]))));
  CHECK(worst_tanh <= 2e-6, "%s tanh max error %.3g", qk_isa_name(isa), worst_tanh);
  CHECK(worst_sig <= 2e-6, "%s sigmoid max error %.3g", qk_isa_name(isa), worst_sig);
  /* in place works */
  memcpy(y, x, n * sizeof(float));
  qk_tanh_isa(isa, y, y, n);
  CHECK(fabs(y[n / 2] - tanh((double)x[n / 2])) <= 2e-6, "%s tanh in place", qk_isa_name(isa));
  printf("  %-12s tanh max err %.2e, sigmoid max err %.2e\n", qk_isa_name(isa), worst_tanh,
         worst_sig);
  free(x);
  free(y);
}

/**
   6b. qk_tanh_int8: relative (and absolute) error <= 6e-5 against libm over
   [-20, 20] and tiny values, odd, below 1 in magnitude, NaN and infinities
   clamped; every ISA bit for bit equal to the scalar (the int8 WaveNet
   layer's fused and step-by-step forms rely on it).
*/
static void test_tanh_int8(qk_isa isa)
{
  const size_t dense = 400001;
  const float special[] = {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-40f, -1e-40f,  1e-7f,     4.99f,
                           5.0f, 5.01f, -5.0f,  100.0f,  -1e30f, INFINITY, -INFINITY, NAN};
  const size_t ns = sizeof special / sizeof special[0], n = dense + ns;
  float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float)),
        *neg = malloc(n * sizeof(float)), *ref = malloc(n * sizeof(float));
  for (size_t i = 0; i < dense; ++i)
    x[i] = -20.0f + 40.0f * (float)i / (float)(dense - 1);
  memcpy(x + dense, special, sizeof special);
  qk_tanh_int8_isa(isa, y, x, n);
  double worst = 0.0;
  for (size_t i = 0; i < n; ++i) {
    if (isnan(x[i])) {
      CHECK(fabsf(y[i]) < 1.0f, "%s tanh_int8(NaN) = %g, not clamped", qk_isa_name(isa), y[i]);
      continue;
    }
    const double t = tanh((double)x[i]), err = fabs(y[i] - t);
    worst = fmax(worst, t != 0.0 ? err / fabs(t) : err);
    CHECK(fabsf(y[i]) < 1.0f, "%s tanh_int8(%g) = %.9g", qk_isa_name(isa), x[i], y[i]);
  }
  CHECK(worst <= 6e-5, "%s tanh_int8 max relative error %.3g", qk_isa_name(isa), worst);
  for (size_t i = 0; i < n; ++i)
    neg[i] = -x[i];
  qk_tanh_int8_isa(isa, neg, neg, n); /* in place */
  size_t odd_fail = 0, isa_fail = 0;
  for (size_t i = 0; i < n; ++i)
    odd_fail += !isnan(x[i]) && neg[i] != -y[i];
  qk_tanh_int8_isa(QK_ISA_SCALAR, ref, x, n);
  for (size_t i = 0; i < n; ++i)
    isa_fail += memcmp(&y[i], &ref[i], sizeof(float)) != 0;
  CHECK(odd_fail == 0, "%s tanh_int8 not odd at %zu inputs", qk_isa_name(isa), odd_fail);
  CHECK(isa_fail == 0, "%s tanh_int8 differs from scalar at %zu inputs", qk_isa_name(isa),
        isa_fail);
  printf("  %-12s tanh_int8 max rel err %.2e\n", qk_isa_name(isa), worst);
  free(x);
  free(y);
  free(neg);
  free(ref);
}

/** The scalar ISA's tap quantizer (the generic gather path) against gathering. */
static void test_taps_scalar(void)
{
  for (int i = 0; i < 50; ++i) {
    int C = rng_int(1, 40), taps = rng_int(1, 4), d = rng_int(1, 8), N = rng_int(1, 20);
    int K = C * taps, frames = N + (taps - 1) * d;
    float *hist = random_activations(C, C, frames);
    float *g = malloc((size_t)K * (size_t)N * sizeof(float));
    for (int n = 0; n < N; ++n)
      for (int t = 0; t < taps; ++t)
        memcpy(g + (size_t)n * (size_t)K + (size_t)t * (size_t)C,
               hist + (size_t)(n + t * d) * (size_t)C, (size_t)C * sizeof(float));
    act_buffers a = act_new(K, N, 0), b = act_new(K, N, 0);
    qk_quantize_act_dynamic_isa(QK_ISA_SCALAR, g, K, K, N, &a.a);
    qk_quantize_act_dynamic_taps_isa(QK_ISA_SCALAR, hist, C, C, taps, (ptrdiff_t)d * C, N, &b.a);
    CHECK(!memcmp(a.a.codes, b.a.codes, (size_t)a.a.ld * (size_t)N) &&
              !memcmp(a.a.scales, b.a.scales, (size_t)N * sizeof(float)) &&
              !memcmp(a.a.sums, b.a.sums, (size_t)N * sizeof(int32_t)),
          "scalar tap quantizer differs (C=%d taps=%d)", C, taps);
    act_free(&a);
    act_free(&b);
    free(g);
    free(hist);
  }
}

/* ------------------------------------------------------------------------
   7. Column independence (qk.h): each output column depends only on W, its
      own column of X, bias and flags. One call over N columns must equal,
      bit for bit, the columns computed one at a time and in random
      sub-batches, on every ISA, for every format, gemm_f32 and gemm_s8.
   ------------------------------------------------------------------------ */

/** Columns [n0, n0 + cnt) of an int8 activation block, as its own block. */
static qk_act_s8 act_view(const qk_act_s8 *a, int n0, int ng)
{
  qk_act_s8 v = *a;
  v.codes = a->codes + (size_t)n0 * (size_t)a->ld;
  if (a->per_column)
    v.scales = a->scales + n0;
  if (a->sums)
    v.sums = a->sums + (size_t)n0 * (size_t)ng;
  return v;
}

static void column_independence_case(qk_isa isa, qk_format f, int M, int K, int N, int group,
                                     bool asym)
{
  weights_case c;
  weights_case_init(&c, f, M, K, group, asym);
  const char *err = NULL;
  qk_packed *p = qk_pack(&c.w, isa, &err);
  CHECK(p, "%s pack %s %dx%d g%d: %s", qk_isa_name(isa), qk_format_name(f), M, K, group,
        err ? err : "?");
  if (!p) {
    weights_case_free(&c);
    return;
  }
  const int ldx = K + rng_int(0, 3), ldy = M + rng_int(0, 5);
  const int ng = qk_group_count(K, group);
  float *x = random_activations(K, ldx, N);
  float *bias = NULL;
  if (rng_int(0, 1)) {
    bias = malloc((size_t)M * sizeof(float));
    for (int m = 0; m < M; ++m)
      bias[m] = rng_float(-1.0f, 1.0f);
  }
  const unsigned flags = rng_int(0, 2) == 0 ? QK_ACCUMULATE : 0;
  const size_t yfloats = (size_t)ldy * (size_t)(N - 1) + (size_t)M;
  float *y0 = malloc(yfloats * sizeof(float));
  for (size_t i = 0; i < yfloats; ++i)
    y0[i] = rng_float(-1.0f, 1.0f);
  float *yall = malloc(yfloats * sizeof(float)), *yone = malloc(yfloats * sizeof(float)),
        *ysub = malloc(yfloats * sizeof(float));
  act_buffers act = act_new(K, N, group);
  if (!qk_format_is_float(f)) {
    if (rng_int(0, 3) == 0)
      qk_quantize_act_static_isa(isa, x, ldx, K, N, rng_float(0.001f, 0.02f), &act.a);
    else
      qk_quantize_act_dynamic_isa(isa, x, ldx, K, N, &act.a);
  }
  for (int path = 0; path < (qk_format_is_float(f) ? 1 : 2); ++path) {
    memcpy(yall, y0, yfloats * sizeof(float));
    memcpy(yone, y0, yfloats * sizeof(float));
    memcpy(ysub, y0, yfloats * sizeof(float));
    if (path == 0) {
      qk_gemm_f32(p, x, ldx, N, bias, yall, ldy, flags);
      for (int n = 0; n < N; ++n)
        qk_gemm_f32(p, x + (size_t)n * (size_t)ldx, ldx, 1, bias, yone + (size_t)n * (size_t)ldy,
                    ldy, flags);
      for (int n = 0; n < N;) {
        int cnt = rng_int(1, N - n < 19 ? N - n : 19);
        qk_gemm_f32(p, x + (size_t)n * (size_t)ldx, ldx, cnt, bias, ysub + (size_t)n * (size_t)ldy,
                    ldy, flags);
        n += cnt;
      }
    } else {
      qk_gemm_s8(p, &act.a, N, bias, yall, ldy, flags);
      for (int n = 0; n < N; ++n) {
        qk_act_s8 v = act_view(&act.a, n, ng);
        qk_gemm_s8(p, &v, 1, bias, yone + (size_t)n * (size_t)ldy, ldy, flags);
      }
      for (int n = 0; n < N;) {
        int cnt = rng_int(1, N - n < 19 ? N - n : 19);
        qk_act_s8 v = act_view(&act.a, n, ng);
        qk_gemm_s8(p, &v, cnt, bias, ysub + (size_t)n * (size_t)ldy, ldy, flags);
        n += cnt;
      }
    }
    int bm = 0, bn = 0;
    const char *what = path ? "gemm_s8" : "gemm_f32";
    CHECK(same_bits(yall, yone, M, ldy, ldy, N, &bm, &bn),
          "%s %s %s M=%d K=%d N=%d g=%d asym=%d: N=%d call differs from N=1 calls at m=%d "
          "n=%d: %.9g vs %.9g",
          qk_isa_name(isa), what, qk_format_name(f), M, K, N, group, asym, N, bm, bn,
          yall[(size_t)bn * (size_t)ldy + bm], yone[(size_t)bn * (size_t)ldy + bm]);
    CHECK(same_bits(yall, ysub, M, ldy, ldy, N, &bm, &bn),
          "%s %s %s M=%d K=%d N=%d g=%d asym=%d: N=%d call differs from sub-batches at m=%d "
          "n=%d: %.9g vs %.9g",
          qk_isa_name(isa), what, qk_format_name(f), M, K, N, group, asym, N, bm, bn,
          yall[(size_t)bn * (size_t)ldy + bm], ysub[(size_t)bn * (size_t)ldy + bm]);
  }
  /* the dynamic quantizer too: one call over N columns == N calls of one */
  if (!qk_format_is_float(f)) {
    act_buffers one = act_new(K, N, group);
    qk_quantize_act_dynamic_isa(isa, x, ldx, K, N, &act.a);
    for (int n = 0; n < N; ++n) {
      qk_act_s8 v = act_view(&one.a, n, ng);
      qk_quantize_act_dynamic_isa(isa, x + (size_t)n * (size_t)ldx, ldx, K, 1, &v);
    }
    CHECK(!memcmp(act.a.codes, one.a.codes, (size_t)act.a.ld * (size_t)N) &&
              !memcmp(act.a.scales, one.a.scales, (size_t)N * sizeof(float)) &&
              !memcmp(act.a.sums, one.a.sums, (size_t)N * (size_t)ng * sizeof(int32_t)),
          "%s dynamic quantizer: N=%d call differs from N=1 calls (K=%d g=%d)", qk_isa_name(isa), N,
          K, group);
    act_free(&one);
  }
  act_free(&act);
  free(y0);
  free(yall);
  free(yone);
  free(ysub);
  free(bias);
  free(x);
  qk_packed_free(p);
  weights_case_free(&c);
}

/**
   qk_gemm_f32_taps (a dilated conv's taps read in place from a frame
   history) against gathering the columns and calling qk_gemm_f32: the
   same bits, for float and weight-only formats, the small row counts
   AVX-512 runs 16 frames to a vector (A2 nano's convs, the head conv)
   and larger ones, with and without bias and QK_ACCUMULATE.
*/
static void test_gemm_f32_taps(qk_isa isa, int cases)
{
  int before = failures;
  for (int i = 0; i < cases; ++i) {
    const qk_format f = i % 3 ? QK_F32 : QK_S8;
    const int M = i % 4 ? rng_int(1, 4) : rng_int(5, 20), C = rng_int(1, 16);
    /* every fifth case a dilation of 1 on 1 or 17 frames: a last single
       column of adjacent taps is read without a gather */
    const bool one_col = i % 5 == 4;
    const int taps = rng_int(1, 16), d = one_col ? 1 : rng_int(1, 9);
    const int N = one_col ? (i % 10 == 4 ? 1 : 17) : rng_int(1, 70);
    const int K = taps * C, frames = N + (taps - 1) * d;
    weights_case c;
    weights_case_init(&c, f, M, K, 0, false);
    qk_packed *p = qk_pack(&c.w, isa, NULL);
    CHECK(p, "%s pack %s %dx%d for the taps GEMM", qk_isa_name(isa), qk_format_name(f), M, K);
    if (!p) {
      weights_case_free(&c);
      continue;
    }
    float *hist = random_activations(C, C, frames);
    float *g = malloc((size_t)K * (size_t)N * sizeof(float));
    float *scratch = malloc((size_t)K * (size_t)N * sizeof(float));
    for (int n = 0; n < N; ++n)
      for (int t = 0; t < taps; ++t)
        memcpy(g + (size_t)n * (size_t)K + (size_t)t * (size_t)C,
               hist + (size_t)(n + t * d) * (size_t)C, (size_t)C * sizeof(float));
    float *bias = NULL;
    if (rng_int(0, 1)) {
      bias = malloc((size_t)M * sizeof(float));
      for (int m = 0; m < M; ++m)
        bias[m] = rng_float(-1.0f, 1.0f);
    }
    const unsigned flags = rng_int(0, 1) ? QK_ACCUMULATE : 0;
    const size_t ny = (size_t)M * (size_t)N;
    float *ya = malloc(ny * sizeof(float)), *yb = malloc(ny * sizeof(float));
    for (size_t k = 0; k < ny; ++k)
      ya[k] = yb[k] = rng_float(-1.0f, 1.0f);
    qk_gemm_f32(p, g, K, N, bias, ya, M, flags);
    qk_gemm_f32_taps(p, hist, C, C, taps, (ptrdiff_t)d * C, N, scratch, bias, yb, M, flags);
    CHECK(!memcmp(ya, yb, ny * sizeof(float)),
          "%s taps GEMM differs from gather + qk_gemm_f32 (%s M=%d C=%d taps=%d d=%d N=%d)",
          qk_isa_name(isa), qk_format_name(f), M, C, taps, d, N);
    free(ya);
    free(yb);
    free(bias);
    free(g);
    free(scratch);
    free(hist);
    qk_packed_free(p);
    weights_case_free(&c);
  }
  printf("  %-12s %s\n", qk_isa_name(isa),
         failures == before ? "taps read in place = gathered" : "FAILED");
}

static void test_column_independence(qk_isa isa, int cases)
{
  int before = failures;
  /* every format x group x symmetry on an awkward shape with all tails */
  for (int f = QK_F32; f < QK_FORMAT_COUNT; ++f)
    for (size_t gi = 0; gi < sizeof groups / sizeof groups[0]; ++gi)
      for (int asym = 0; asym <= 1; ++asym)
        column_independence_case(isa, (qk_format)f, 37, 131, 23, groups[gi], asym);
  /* model shapes (WaveNet conv / 1x1 / mixin / head, LSTM gates), long K
     too; A2 nano's 3-row convs and 1x1 and A2's 1-row head conv, which
     AVX-512 runs 16 frames to a vector */
  static const int shapes[][2] = {{16, 48}, {16, 16}, {16, 1}, {8, 24},   {8, 8},
                                  {1, 8},   {64, 16}, {64, 1}, {48, 300}, {32, 520},
                                  {3, 18},  {3, 45},  {3, 3},  {1, 48}};
  for (int f = QK_F32; f < QK_FORMAT_COUNT; ++f)
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s)
      column_independence_case(isa, (qk_format)f, shapes[s][0], shapes[s][1], rng_int(2, 70), 0,
                               f == QK_S8 && s % 2);
  for (int i = 0; i < cases; ++i) {
    qk_format f = (qk_format)rng_int(QK_F32, QK_FORMAT_COUNT - 1);
    int M = rng_int(1, 80), K = rng_int(1, 300);
    int N = i % 8 == 0 ? rng_int(2, 300) : rng_int(2, 40);
    column_independence_case(isa, f, M, K, N, groups[rng_int(0, 5)], rng_int(0, 1));
  }
  printf("  %-12s %s\n", qk_isa_name(isa),
         failures == before ? "columns independent of N" : "FAILED");
}

/** CPUID.(EAX=7, ECX=1):EAX bit 4, read here on its own, not through the library's dispatch. */
static bool cpu_reports_avx_vnni(void)
{
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, c, d;
  if (!__builtin_cpu_supports("avx2") || __get_cpuid_max(0, NULL) < 7)
    return false;
  __cpuid_count(7, 1, a, b, c, d);
  return (a >> 4) & 1u;
#else
  return false;
#endif
}

int main(int argc, char **argv)
{
  int cases = 300;
  bool required[QK_ISA_COUNT] = {false};
  for (int i = 1; i < argc; ++i) {
    qk_isa isa;
    if (!strcmp(argv[i], "--seed") && i + 1 < argc)
      rng_state = strtoull(argv[++i], NULL, 0) | 1;
    else if (!strcmp(argv[i], "--cases") && i + 1 < argc)
      cases = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--require") && i + 1 < argc && qk_isa_from_name(argv[i + 1], &isa))
      required[isa] = true, ++i;
    else {
      fprintf(stderr, "usage: %s [--seed S] [--cases C] [--require ISA]...\n", argv[0]);
      return 2;
    }
  }
  if (cpu_reports_avx_vnni())
    required[QK_ISA_AVXVNNI] = true;
  printf("seed 0x%" PRIx64 ", default ISA %s\n", rng_state, qk_isa_name(qk_active_isa()));
  for (int i = 0; i < QK_ISA_COUNT; ++i)
    CHECK(!required[i] || qk_isa_supported((qk_isa)i), "required ISA %s cannot run here",
          qk_isa_name((qk_isa)i));

  test_scalar_against_exact();
  test_act_quantizer_known_values();
  test_pack_validation();
  printf("activations against libm:\n");
  test_activations(QK_ISA_SCALAR);
  test_tanh_int8(QK_ISA_SCALAR);
  printf("ISAs against the scalar oracle:\n");
  {
    /* the scalar tap quantizer against gather + scalar quantize, too */
    int f0 = failures;
    test_taps_scalar();
    printf("  %-12s %s\n", "scalar", failures == f0 ? "tap quantizer agrees" : "FAILED");
  }
  test_saturation_trap(QK_ISA_SCALAR);
  test_int16_run_extremes(QK_ISA_SCALAR);
  for (int i = QK_ISA_SCALAR + 1; i < QK_ISA_COUNT; ++i) {
    if (!qk_isa_supported((qk_isa)i)) {
      printf("  %-12s not available here\n", qk_isa_name((qk_isa)i));
      continue;
    }
    test_isa_against_scalar((qk_isa)i, cases);
    test_saturation_trap((qk_isa)i);
    test_int16_run_extremes((qk_isa)i);
    test_activations((qk_isa)i);
    test_tanh_int8((qk_isa)i);
  }
  printf("f32 GEMM on taps read in place (qk_gemm_f32_taps):\n");
  for (int i = QK_ISA_SCALAR; i < QK_ISA_COUNT; ++i)
    if (qk_isa_supported((qk_isa)i))
      test_gemm_f32_taps((qk_isa)i, cases / 2);
  printf("column independence (one call over N == N calls of one):\n");
  for (int i = QK_ISA_SCALAR; i < QK_ISA_COUNT; ++i)
    if (qk_isa_supported((qk_isa)i))
      test_column_independence((qk_isa)i, cases / 2);
  printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
