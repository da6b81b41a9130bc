/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The 16-bit formats (kernels/qk_half.h), against oracles written here
  from the number formats' definitions, not from the kernels' code:

  - f16 -> f32 for all 65536 halves equals sign * mant * 2^(e-25) computed
    in double (subnormals, infinities, NaN payloads), on every ISA;
  - f32 -> f16 rounds to nearest even: for every pair of adjacent finite
    halves, their midpoint goes to the even one and the floats just below
    and above it to the lower and upper one (subnormal range and the
    overflow to infinity at 65520 included); every half converts back to
    itself; NaN stays NaN, quiet, with its sign; every ISA gives the
    scalar bits on 2^20 random bit patterns;
  - f32 -> bf16 the same way (denormal inputs to a zero of their sign);
  - the BF16 and FP16 GEMMs: every ISA bit-identical to scalar (whichever
    of scalar, avx2-f16c, avx512bf16 vdpbf16ps, neon each ISA runs, named
    in the output), and the scalar result equal to the documented order
    (odd product, then even, each an fmaf flushed to zero) evaluated here.
*/
#include "qk.h"
#include "qk_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t bits_of(float x)
{
  uint32_t u;
  memcpy(&u, &x, 4);
  return u;
}
static float float_of(uint32_t u)
{
  float x;
  memcpy(&x, &u, 4);
  return x;
}

/** binary16 value from its definition. */
static double half_value(uint16_t h)
{
  const int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
  double v = e == 0 ? ldexp(m, -24) : e == 31 ? INFINITY : ldexp(1024 + m, e - 25);
  return s ? -v : v;
}

static bool is_nan_half(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff); }

static void test_f16_conversions(qk_isa isa)
{
  const int before = failures;
  static uint16_t all[65536], back[65536];
  static float wide[65536];
  for (int i = 0; i < 65536; ++i)
    all[i] = (uint16_t)i;
  qk_f16_to_f32_isa(isa, wide, all, 65536);
  for (int i = 0; i < 65536; ++i) {
    if (is_nan_half(all[i])) {
      /* NaN: quiet NaN (F16C quiets a signalling one), sign and payload kept */
      CHECK(isnan(wide[i]) && (bits_of(wide[i]) >> 31) == (unsigned)(i >> 15) &&
                ((bits_of(wide[i]) >> 13) & 0x1ff) == (unsigned)(i & 0x1ff),
            "%s f16 %04x -> %08x", qk_isa_name(isa), i, bits_of(wide[i]));
    } else {
      CHECK((double)wide[i] == half_value(all[i]) && (signbit(wide[i]) != 0) == (i >> 15),
            "%s f16 %04x -> %a, want %a", qk_isa_name(isa), i, wide[i], half_value(all[i]));
    }
  }
  /* back: every non-NaN half to itself */
  qk_f32_to_f16_isa(isa, back, wide, 65536);
  for (int i = 0; i < 65536; ++i)
    if (!is_nan_half(all[i]))
      CHECK(back[i] == all[i], "%s f16 %04x -> f32 -> %04x", qk_isa_name(isa), i, back[i]);
    else
      CHECK(is_nan_half(back[i]) && (back[i] & 0x200) && (back[i] >> 15) == (i >> 15),
            "%s NaN %04x -> f32 -> %04x", qk_isa_name(isa), i, back[i]);
  /* midpoints between adjacent positive halves (and their negatives):
     ties to even, one float either side to the nearer */
  enum { PAIRS = 0x7c00 }; /* h and h + 1 for h < 0x7c00: 0x7bff, 0x7c00 (inf) last */
  static float probe[PAIRS * 6];
  static uint16_t got[PAIRS * 6];
  for (int h = 0; h < PAIRS; ++h) {
    const double lo = half_value((uint16_t)h);
    const double hi = h + 1 == 0x7c00 ? 65536.0 : half_value((uint16_t)(h + 1)); /* inf's slot */
    const float mid = (float)((lo + hi) / 2); /* exact: 12 significant bits */
    const float below = nextafterf(mid, 0.0f), above = nextafterf(mid, INFINITY);
    const float v[3] = {mid, below, above};
    for (int j = 0; j < 3; ++j) {
      probe[h * 6 + j] = v[j];
      probe[h * 6 + 3 + j] = -v[j];
    }
  }
  qk_f32_to_f16_isa(isa, got, probe, PAIRS * 6);
  for (int h = 0; h < PAIRS; ++h) {
    const uint16_t even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
    const uint16_t want[3] = {even, (uint16_t)h, (uint16_t)(h + 1)};
    for (int j = 0; j < 6; ++j) {
      const uint16_t w = (uint16_t)(want[j % 3] | (j >= 3 ? 0x8000 : 0));
      CHECK(got[h * 6 + j] == w, "%s f32 %a -> f16 %04x, want %04x", qk_isa_name(isa),
            probe[h * 6 + j], got[h * 6 + j], w);
    }
  }
  /* infinities and overflow, tiny values, NaN */
  const float special[] = {INFINITY,        -INFINITY, 3.4e38f, 65520.0f,  65519.99f, 0x1p-25f,
                           0x1.000002p-25f, 1e-30f,    -1e-30f, 0x1p-149f, NAN,       -NAN};
  const uint16_t want_special[] = {0x7c00, 0xfc00, 0x7c00, 0x7c00, 0x7bff, 0x0000,
                                   0x0001, 0x0000, 0x8000, 0x0000, 0x7e00, 0xfe00};
  uint16_t sg[sizeof special / sizeof special[0]];
  qk_f32_to_f16_isa(isa, sg, special, sizeof special / sizeof special[0]);
  for (size_t i = 0; i < sizeof special / sizeof special[0]; ++i)
    CHECK(sg[i] == want_special[i], "%s f32 %a -> f16 %04x, want %04x", qk_isa_name(isa),
          special[i], sg[i], want_special[i]);
  /* random bit patterns: this ISA's bits are the scalar ones */
  enum { R = 1 << 20 };
  float *rnd = malloc(R * sizeof *rnd);
  uint16_t *a = malloc(R * sizeof *a), *b = malloc(R * sizeof *b);
  for (int i = 0; i < R; ++i)
    rnd[i] = float_of((uint32_t)rng_next());
  qk_f32_to_f16_isa(QK_ISA_SCALAR, a, rnd, R);
  qk_f32_to_f16_isa(isa, b, rnd, R);
  int differ = 0;
  for (int i = 0; i < R; ++i)
    differ += a[i] != b[i];
  CHECK(differ == 0, "%s f32 -> f16: %d of %d random floats differ from scalar", qk_isa_name(isa),
        differ, R);
  qk_f32_to_bf16_isa(QK_ISA_SCALAR, a, rnd, R);
  qk_f32_to_bf16_isa(isa, b, rnd, R);
  differ = 0;
  for (int i = 0; i < R; ++i)
    differ += a[i] != b[i];
  CHECK(differ == 0, "%s f32 -> bf16: %d of %d random floats differ from scalar", qk_isa_name(isa),
        differ, R);
  free(rnd);
  free(a);
  free(b);
  printf("  %-12s f16 <-> f32 (all 65536, every midpoint), bf16 %s\n", qk_isa_name(isa),
         failures == before ? "ok" : "FAILED");
}

/** bfloat16 value from its definition (the top half of a binary32). */
static float bf16_value(uint16_t b) { return float_of((uint32_t)b << 16); }

static void test_bf16_rounding(void)
{
  const int before = failures;
  /* every pair of adjacent positive finite normal bf16 values */
  enum { LO = 0x0080, HI = 0x7f7f };
  const int n = HI - LO + 1;
  float *probe = malloc((size_t)n * 3 * sizeof *probe);
  uint16_t *got = malloc((size_t)n * 3 * sizeof *got);
  for (int b = LO; b <= HI; ++b) {
    const float mid = float_of(((uint32_t)b << 16) | 0x8000u); /* halfway to b + 1 */
    probe[(b - LO) * 3] = mid;
    probe[(b - LO) * 3 + 1] = nextafterf(mid, 0.0f);
    probe[(b - LO) * 3 + 2] = nextafterf(mid, INFINITY);
  }
  qk_f32_to_bf16_isa(QK_ISA_SCALAR, got, probe, (size_t)n * 3);
  for (int b = LO; b <= HI; ++b) {
    const uint16_t even = (b & 1) ? (uint16_t)(b + 1) : (uint16_t)b;
    CHECK(got[(b - LO) * 3] == even && got[(b - LO) * 3 + 1] == b && got[(b - LO) * 3 + 2] == b + 1,
          "bf16 around %a: %04x %04x %04x", bf16_value((uint16_t)b), got[(b - LO) * 3],
          got[(b - LO) * 3 + 1], got[(b - LO) * 3 + 2]);
  }
  free(probe);
  free(got);
  const float special[] = {INFINITY, -INFINITY, 3.4028235e38f, 0x1p-127f, -0x1p-127f, NAN, 1.0f};
  const uint16_t want[] = {0x7f80, 0xff80, 0x7f80, 0x0000, 0x8000, 0x7fc0, 0x3f80};
  uint16_t sg[7];
  qk_f32_to_bf16_isa(QK_ISA_SCALAR, sg, special, 7);
  for (int i = 0; i < 7; ++i)
    CHECK(sg[i] == want[i], "f32 %a -> bf16 %04x, want %04x", special[i], sg[i], want[i]);
  printf("  bf16 rounding (every midpoint, denormals, inf, NaN) %s\n",
         failures == before ? "ok" : "FAILED");
}

/* ---- GEMMs ---------------------------------------------------------------------- */

static float ftz(float x) { return fabsf(x) < 0x1p-126f ? copysignf(0.0f, x) : x; }
static float round_bf16(float x)
{
  uint16_t b;
  qk_f32_to_bf16_isa(QK_ISA_SCALAR, &b, &x, 1);
  return bf16_value(b);
}
static float round_f16(float x)
{
  uint16_t h;
  qk_f32_to_f16_isa(QK_ISA_SCALAR, &h, &x, 1);
  return (float)half_value(h);
}

/** The documented arithmetic of one output (qk_half.h), written out here. */
static float documented(qk_format f, const float *w, const float *x, int K)
{
  float acc = 0.0f;
  if (f == QK_F16) {
    for (int k = 0; k < K; ++k)
      acc = fmaf(round_f16(w[k]), x[k], acc);
    return acc;
  }
  for (int k = 0; k < K; k += 2) {
    const float w1 = k + 1 < K ? round_bf16(w[k + 1]) : 0.0f;
    const float x1 = k + 1 < K ? round_bf16(x[k + 1]) : 0.0f;
    acc = ftz(fmaf(w1, x1, acc));
    acc = ftz(fmaf(round_bf16(w[k]), round_bf16(x[k]), acc));
  }
  return acc;
}

static float rnd_float(void)
{
  /* magnitudes 2^-71 .. 2^3, both signs: weights and activations of real
     models, and products small enough that results flush now and then */
  const float m = (float)(rng_next() >> 40) / (float)(1 << 24);
  const int e = (int)(rng_next() % 74) - 70;
  return (rng_next() & 1 ? -1.0f : 1.0f) * ldexpf(0.5f + m, e);
}

static void test_gemm_bits(qk_format f, int cases)
{
  const int before = failures;
  int ran[QK_ISA_COUNT] = {0};
  for (int c = 0; c < cases; ++c) {
    const int M = 1 + (int)(rng_next() % 40), K = 1 + (int)(rng_next() % 140);
    const int N = c % 5 == 0 ? 1 + (int)(rng_next() % 70) : 1 + (int)(rng_next() % 9);
    const int ldx = K + (int)(rng_next() % 3), ldy = M + (int)(rng_next() % 3);
    float *w = malloc((size_t)M * K * sizeof *w), *x = malloc((size_t)ldx * N * sizeof *x);
    float *bias = malloc((size_t)M * sizeof *bias);
    for (int i = 0; i < M * K; ++i)
      w[i] = rnd_float();
    for (int i = 0; i < ldx * N; ++i)
      x[i] = rnd_float();
    for (int i = 0; i < M; ++i)
      bias[i] = rnd_float();
    const unsigned flags = c % 3 == 0 ? QK_ACCUMULATE : 0;
    const float *b = c % 2 ? bias : NULL;
    const size_t ny = (size_t)ldy * (size_t)N;
    float *y0 = malloc(ny * sizeof *y0), *yref = malloc(ny * sizeof *yref),
          *y = malloc(ny * sizeof *y);
    for (size_t i = 0; i < ny; ++i)
      y0[i] = rnd_float();
    qk_weights qw = {.format = f, .rows = M, .cols = K, .f32 = w};
    qk_packed *ref = qk_pack(&qw, QK_ISA_SCALAR, NULL);
    memcpy(yref, y0, ny * sizeof *y0);
    qk_gemm_f32(ref, x, ldx, N, b, yref, ldy, flags);
    for (int n = 0; n < N; ++n)
      for (int m = 0; m < M; ++m) {
        float want = documented(f, w + (size_t)m * K, x + (size_t)n * ldx, K);
        if (b)
          want = want + b[m];
        if (flags & QK_ACCUMULATE)
          want = y0[(size_t)n * ldy + m] + want;
        const float got = yref[(size_t)n * ldy + m];
        CHECK(bits_of(got) == bits_of(want), "scalar %s M=%d K=%d N=%d (%d,%d): %a, documented %a",
              qk_format_name(f), M, K, N, m, n, got, want);
      }
    for (int isa = 1; isa < QK_ISA_COUNT; ++isa) {
      if (!qk_isa_supported((qk_isa)isa))
        continue;
      qk_packed *p = qk_pack(&qw, (qk_isa)isa, NULL);
      memcpy(y, y0, ny * sizeof *y0);
      qk_gemm_f32(p, x, ldx, N, b, y, ldy, flags);
      size_t differ = 0;
      for (size_t i = 0; i < ny; ++i)
        differ += bits_of(y[i]) != bits_of(yref[i]);
      CHECK(differ == 0, "%s (%s) %s M=%d K=%d N=%d: %zu outputs differ from scalar",
            qk_isa_name((qk_isa)isa), qk_packed_kernel_name(p), qk_format_name(f), M, K, N, differ);
      ++ran[isa];
      qk_packed_free(p);
    }
    qk_packed_free(ref);
    free(w);
    free(x);
    free(bias);
    free(y0);
    free(yref);
    free(y);
  }
  for (int isa = 0; isa < QK_ISA_COUNT; ++isa)
    if (isa == 0 || ran[isa])
      printf("  %s %-12s (%s) %s\n", qk_format_name(f), qk_isa_name((qk_isa)isa),
             qk_half_kernel_name((qk_isa)isa), failures == before ? "= scalar bits" : "FAILED");
}

/**
   Results below FLT_MIN: vdpbf16ps flushes each step's result, so the
   emulations must too. Each row's products are ~2^-130 (denormal) and its
   last one 1.0 * 2^-120 (normal): with the flush the row gives 2^-120,
   without it 2^-120 plus the denormal sums.
*/
static void test_bf16_flush(void)
{
  enum { M = 20, K = 5 };
  float w[M * K], x[K] = {0x1p-60f, -0x1.8p-61f, 0x1p-60f, 0x1.4p-60f, 1.0f};
  for (int m = 0; m < M; ++m) {
    for (int k = 0; k < K - 1; ++k)
      w[m * K + k] = ldexpf(1.0f + (float)((m + k) % 7) / 8.0f, -70);
    w[m * K + K - 1] = 0x1p-120f;
  }
  float flushed = documented(QK_BF16, w, x, K), exact = 0.0f;
  for (int k = K - 1; k >= 0; --k)
    exact = fmaf(w[k], x[k], exact);
  CHECK(bits_of(flushed) != bits_of(exact), "the flush case does not flush (%a)", flushed);
  qk_weights qw = {.format = QK_BF16, .rows = M, .cols = K, .f32 = w};
  for (int isa = 0; isa < QK_ISA_COUNT; ++isa) {
    if (!qk_isa_supported((qk_isa)isa))
      continue;
    qk_packed *p = qk_pack(&qw, (qk_isa)isa, NULL);
    float y[M];
    qk_gemm_f32(p, x, K, 1, NULL, y, M, 0);
    for (int m = 0; m < M; ++m)
      CHECK(bits_of(y[m]) == bits_of(documented(QK_BF16, w + m * K, x, K)),
            "%s (%s) flush row %d: %a, documented %a", qk_isa_name((qk_isa)isa),
            qk_packed_kernel_name(p), m, y[m], documented(QK_BF16, w + m * K, x, K));
    qk_packed_free(p);
  }
}

int main(int argc, char **argv)
{
  /* --require-bf16: fail unless some ISA runs vdpbf16ps (CI on this machine) */
  const bool require_bf16 = argc > 1 && !strcmp(argv[1], "--require-bf16");
  for (int isa = 0; isa < QK_ISA_COUNT; ++isa)
    if (qk_isa_supported((qk_isa)isa))
      test_f16_conversions((qk_isa)isa);
  test_bf16_rounding();
  test_gemm_bits(QK_F16, 300);
  test_gemm_bits(QK_BF16, 300);
  test_bf16_flush();
  bool have_bf16 = false;
  for (int isa = 0; isa < QK_ISA_COUNT; ++isa)
    have_bf16 = have_bf16 || (qk_isa_supported((qk_isa)isa) &&
                              !strcmp(qk_half_kernel_name((qk_isa)isa), "avx512bf16"));
  if (require_bf16)
    CHECK(have_bf16, "no ISA runs the avx512bf16 kernels here");
  printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
