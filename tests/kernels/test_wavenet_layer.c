/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The int8 NAM WaveNet layer (qk.h: qk_wavenet_layer_s8 and friends).

  What this proves, and why it matters:

  1. Every ISA gives the reference's bits. qk_wavenet_layer_s8() (fused
     where the ISA has a form for the shape, else step by step) must write
     exactly what qk_wavenet_layer_s8_steps() writes on weights packed for
     the scalar ISA (the oracle): head, next and the int8 history columns
     0..N-1 (codes, scales, sums), compared with memcmp. A model that runs
     the fused form on one machine and the composition on another must
     produce identical audio, and the fused form must not drift from the
     definition it claims to implement. Random layers cover every weight
     format, symmetric and with zero points at the range ends, the shapes
     the fused form takes and those it must refuse (C not a multiple of 4,
     C > 16, taps * C > 64 up to QK_TAPS_MAX_K), dilations 0..16, frame
     counts 1..100, biases present, absent or holding -0.0f, and
     histories with silent, huge (1e3) and tiny (1e-30, 1e-38) frames
     and frames holding a NaN (all but the check in double).
     Every buffer the layer writes sits between guard bytes, the lookback
     columns of the int8 history must stay untouched, and the float input
     must not change; scratch buffers are allocated to their exact size so
     ASan (this test also runs in the sanitizer build) sees any overrun.
     The fused/step-by-step choice itself is checked against what qk.h
     documents, so a fused form that silently stops being used fails too.
     The step-by-step form with per-tap conv slices (conv_taps, what the
     engine gives ISAs without a fused form) and the fused form with
     prepared weights (what the engine gives it) must give the same bits.

  2. The reference is the intended maths. On the scalar ISA, next and
     head are recomputed from the definitions in qk.h in double: history
     codes dequantized with their frame's scale (and those codes checked
     against qk.h's dynamic formula, written out here), weights as
     scale * (v - zp), z = bias + the dilated taps + mixin * cond, tanh in
     double (within qk_tanh_int8's stated error), head += a, and the 1x1 on a quantized per frame by
  the same formula. Tolerance: 1e-4 * (1 + |value|), plus the float rounding of z (1e-6 * the sum of
  its terms' magnitudes: next to a 1e3 frame, taps of thousands can cancel to a z near 0), plus, for
  each code of a whose exact value lies within the float error of a rounding boundary (so float and
  double may legitimately round it apart), one code step times |w1x1| -- that term is zero for all
  but about one code in 100.

  3. Column independence: N frames in one call equal, bit for bit, the
     same frames in two calls split at a random point (the second call's
     x, history, cond, head and next advanced), on every ISA. This is what
     makes a model bit-identical at every audio block size.

  1c. Per-group conv scales (qk.h: groups of a multiple of C inputs, tap
     t weighted by group t*C/G's scale and zero point): G = 16, 32, 64 at
     C = 4, 8, 16 (and 1, 2, 3 at a G they divide), every format
     symmetric and asymmetric, rows of two or more groups, blocks 1 to 5,
     16, 17, 64: every ISA's fused form (required to run) with and without
     prepared weights, and the steps with per-tap slices, against the
     scalar steps bit for bit; 2 is run on them too.

  1d. Taps of pieces (qk.h: a conv scale group G not a multiple of C
     splits a tap at the group boundary): C = 3, 5, 6, 7, 12 at G = 16,
     32, 64, taps 3, 6, 7, 11, 15 (wherever some tap splits; the newest
     tap too), every format symmetric and asymmetric, blocks 1, 2, 3, 16,
     17, 64: every ISA against the scalar steps bit for bit, the fused
     forms (AVX2's, AVX-512's small form and its frame form) required
     where documented; 2 is run on such layers too, and the per-tap
     slices must be refused for them.

  4. qk_wavenet_layer_s8_valid() refuses what the layer cannot run: F32
     weights, a 1x1 group that splits its row (a conv scale group that
     splits a tap is valid: 1d), mismatched shapes (with a
     bottleneck too), an unknown nonlinearity or PReLU without slopes,
     weights packed for different ISAs.

  1b. A2 layers (NAM's current default): 1 and 3 for a bottleneck B (and
     B != C), kernels 6 and 15, A2 nano's 3 channels, A2's dilations and
     2048, every nonlinearity of qk.h (crossed LeakyHardtanh bounds, and
     one that overflows to inf), 8/4/2-bit weights symmetric and
     asymmetric, blocks of 1, 7, 64 and 4096 frames; the A2 standard layer
     (C = 8, kernels 6 and 15, LeakyReLU) must run fused on AVX-512 VNNI.
     2 is run on them too.

  Usage: test_wavenet_layer [--seed S] [--rounds R] [--verbose] [--require ISA]...
  --require fails the test when that ISA cannot run here; --verbose prints
  every case with whether it ran fused.
*/
#include "qk.h"
#define QK_TEST_SEED 0x5DEECE66D2545F49ull
#include "qk_test.h"
#include "test_asan.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool verbose;

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/** A nonzero xorshift state from any seed (distinct seeds, distinct states). */
static uint64_t seed_state(uint64_t seed)
{
  const uint64_t s = seed ^ 0x9E3779B97F4A7C15ull;
  return s ? s : 1;
}
static bool rng_chance(int one_in) { return rng_int(0, one_in - 1) == 0; }

/* ---- guarded buffers: payload between two guard regions ---- */
#define GUARD 64
#define GUARD_BYTE 0xA5

typedef struct {
  unsigned char *raw;
  unsigned char *p; /* payload */
  size_t bytes;
} guarded;

static guarded guarded_new(size_t bytes)
{
  guarded g = {malloc(bytes + 2 * GUARD), NULL, bytes};
  memset(g.raw, GUARD_BYTE, bytes + 2 * GUARD);
  g.p = g.raw + GUARD;
  return g;
}

static guarded guarded_clone(const guarded *src)
{
  guarded g = guarded_new(src->bytes);
  memcpy(g.raw, src->raw, src->bytes + 2 * GUARD);
  return g;
}

static bool guards_intact(const guarded *g)
{
  const unsigned char *tail = g->p + g->bytes;
  for (int i = 0; i < GUARD; ++i)
    if (g->raw[i] != GUARD_BYTE || tail[i] != GUARD_BYTE)
      return false;
  return true;
}

static void guarded_free(guarded *g)
{
  free(g->raw);
  g->raw = g->p = NULL;
}

static void fill_random_bytes(unsigned char *p, size_t n)
{
  for (size_t i = 0; i < n; ++i)
    p[i] = (unsigned char)rng_next();
}

/** Index of the first float whose bits differ, or -1. */
static long first_float_diff(const float *a, const float *b, size_t n)
{
  for (size_t i = 0; i < n; ++i)
    if (memcmp(&a[i], &b[i], sizeof(float)))
      return (long)i;
  return -1;
}

/* ------------------------------------------------------------------------
   Random weight matrices (qk_weights descriptions the test owns)
   ------------------------------------------------------------------------ */
typedef struct {
  qk_weights w;
  int8_t *codes;
  float *scales;
  int32_t *zp;
  int8_t codebook[16];
} matrix;

/** A value in [lo, hi], biased towards the ends of the range. */
static int random_code(int lo, int hi)
{
  switch (rng_int(0, 9)) {
  case 0: return lo;
  case 1: return hi;
  default: return rng_int(lo, hi);
  }
}

/** Largest |v - zp| the format allows: sizes the scales so z stays O(1). */
static int value_span(qk_format f)
{
  return qk_format_is_codebook(f) ? 255 : qk_format_max(f) - qk_format_min(f);
}

/** rows x cols, scale groups of `group` k (0: one per row), zero points if asym (S8/S4/S2). */
static void matrix_random(matrix *mx, qk_format f, int rows, int cols, int group, bool asym)
{
  memset(mx, 0, sizeof *mx);
  const int lo = qk_format_min(f), hi = qk_format_max(f);
  const size_t n = (size_t)rows * (size_t)cols;
  const int ng = qk_group_count(cols, group);
  mx->codes = malloc(n);
  for (size_t i = 0; i < n; ++i)
    mx->codes[i] = (int8_t)random_code(lo, hi);
  mx->scales = malloc((size_t)rows * (size_t)ng * sizeof(float));
  const float unit = 2.0f / ((float)value_span(f) * sqrtf((float)cols));
  for (int i = 0; i < rows * ng; ++i)
    mx->scales[i] = unit * rng_float(0.05f, 2.0f) * (rng_chance(8) ? 20.0f : 1.0f);
  if (asym && !qk_format_is_codebook(f)) {
    mx->zp = malloc((size_t)rows * (size_t)ng * sizeof(int32_t));
    for (int i = 0; i < rows * ng; ++i)
      mx->zp[i] = random_code(lo, hi);
  }
  if (qk_format_is_codebook(f)) {
    for (int i = 0; i < (f == QK_CB4 ? 16 : 4); ++i)
      mx->codebook[i] = (int8_t)random_code(-128, 127);
    mx->w.codebook = mx->codebook;
  }
  mx->w.format = f;
  mx->w.rows = rows;
  mx->w.cols = cols;
  mx->w.group = group;
  mx->w.codes = mx->codes;
  mx->w.scales = mx->scales;
  mx->w.zero_points = mx->zp;
}

static void matrix_free(matrix *mx)
{
  free(mx->codes);
  free(mx->scales);
  free(mx->zp);
}

/** w[m][k] = scale[m][g] * (v[m][k] - zp[m][g]) in double, g = k's scale group (qk.h). */
static double matrix_weight(const matrix *mx, int m, int k)
{
  const int code = mx->codes[(size_t)m * (size_t)mx->w.cols + (size_t)k];
  const int v = qk_format_is_codebook(mx->w.format) ? mx->codebook[code] : code;
  const int ng = qk_group_count(mx->w.cols, mx->w.group);
  const size_t at = (size_t)m * (size_t)ng + (size_t)(ng > 1 ? k / mx->w.group : 0);
  const int zp = mx->zp ? mx->zp[at] : 0;
  return (double)mx->scales[at] * (double)(v - zp);
}

static qk_packed *pack_or_fail(const matrix *mx, qk_isa isa)
{
  const char *err = NULL;
  qk_packed *p = qk_pack(&mx->w, isa, &err);
  CHECK(p, "qk_pack %s %dx%d group %d on %s failed: %s", qk_format_name(mx->w.format), mx->w.rows,
        mx->w.cols, mx->w.group, qk_isa_name(isa), err ? err : "?");
  return p;
}

/**
   The conv's per-tap slices (qk.h's conv_taps): columns t*C .. t*C + C - 1
   of every row, the scales and zero points of the row's group those
   columns lie in (its only one without groups), the same codebook,
   packed for isa.
*/
static qk_packed **pack_taps_or_fail(const matrix *mx, int C, int taps, qk_isa isa)
{
  const int rows = mx->w.rows, ng = qk_group_count(mx->w.cols, mx->w.group);
  qk_packed **tp = calloc((size_t)taps, sizeof *tp);
  int8_t *codes = malloc((size_t)rows * (size_t)C);
  float *scales = malloc((size_t)rows * sizeof(float));
  int32_t *zp = malloc((size_t)rows * sizeof(int32_t));
  for (int t = 0; t < taps; ++t) {
    const int g = ng > 1 ? t * C / mx->w.group : 0;
    for (int r = 0; r < rows; ++r) {
      memcpy(codes + (size_t)r * (size_t)C,
             mx->codes + (size_t)r * (size_t)mx->w.cols + (size_t)t * (size_t)C, (size_t)C);
      scales[r] = mx->scales[(size_t)r * (size_t)ng + (size_t)g];
      zp[r] = mx->zp ? mx->zp[(size_t)r * (size_t)ng + (size_t)g] : 0;
    }
    qk_weights w = mx->w;
    w.cols = C;
    w.group = 0;
    w.codes = codes;
    w.scales = scales;
    w.zero_points = mx->zp ? zp : NULL;
    const char *err = NULL;
    tp[t] = qk_pack(&w, isa, &err);
    CHECK(tp[t], "qk_pack of tap %d slice on %s failed: %s", t, qk_isa_name(isa), err ? err : "?");
  }
  free(codes);
  free(scales);
  free(zp);
  return tp;
}

static void taps_free(qk_packed **tp, int taps)
{
  for (int t = 0; tp && t < taps; ++t)
    qk_packed_free(tp[t]);
  free(tp);
}

/* ------------------------------------------------------------------------
   One random layer case: parameters, weights and inputs
   ------------------------------------------------------------------------ */
typedef struct {
  int C, taps, dilation, N;
  int B;                   /* bottleneck; 0: B = C (the A1 layer) */
  int group;               /* the conv's scale group size (0: one per row) */
  qk_wavenet_act_kind act; /* QK_WN_TANH for the A1 layer; parameters drawn at random */
  bool overflow;           /* LeakyHardtanh with a slope of 1e38: some a overflow to inf */
  qk_format conv_format, w1_format;
  bool conv_zp, w1_zp;
  bool conv_bias, bias1x1;
  bool nan_frames; /* some history frames hold a NaN (not in the double check) */
  bool subnormal;  /* history and cond scaled into the subnormals, no conv bias:
                      z, a and their frame maxima are subnormal */
  int extreme;     /* 0, or every weight at the format's most negative value and every
                      history frame of equal-magnitude values (codes +-127): 1 all +, 2 all -,
                      3 alternating signs by frame (the int16 sums' bounds at their worst);
                      4 to 6 the same with a codebook value just past that bound; 7 to 9 the
                      conv at the unsigned byte-quad form's extreme instead, 10 to 12 a
                      codebook just past it (make_extreme) */
  int zp_span;     /* 0, or (with extreme and zero points) every weight value v - zp at the
                      format's largest magnitude: 1 v = max, zp = min (+255 for S8), 2 the
                      opposite (-255) */
} case_params;

typedef struct {
  case_params p;
  int back;       /* lookback frames: dilation * (taps - 1) */
  char desc[200]; /* the parameters, for every message */
  matrix conv, w1;
  int B;               /* the bottleneck (p.B or C) */
  qk_wavenet_act act;  /* p.act with its parameters */
  float *prelu;        /* B slopes of QK_WN_PRELU, else NULL */
  float *conv_bias;    /* NULL or B, one entry -0.0f */
  float *bias1x1;      /* NULL or C */
  float *mixin, *cond; /* B, N */
  float *head0;        /* N * B, nonzero */
  guarded hist;        /* (back + N) * C floats, frame-major */
  float *x;            /* frame 0 of hist */
} layer_case;

static const char *const act_names[QK_WN_ACT_COUNT] = {
    "tanh", "identity", "relu", "leaky_relu", "prelu", "hardtanh", "leaky_hardtanh"};

static void describe(const case_params *p, char *out, size_t size)
{
  char extra[96] = "";
  if (p->B || p->act != QK_WN_TANH)
    snprintf(extra, sizeof extra, " B=%d act=%s%s", p->B ? p->B : p->C, act_names[p->act],
             p->overflow ? "(slope 1e38)" : "");
  snprintf(out, size, "C=%d taps=%d dilation=%d N=%d conv=%s%s w1x1=%s%s conv_bias=%s bias1x1=%s%s",
           p->C, p->taps, p->dilation, p->N, qk_format_name(p->conv_format),
           p->conv_zp ? "+zp" : "", qk_format_name(p->w1_format), p->w1_zp ? "+zp" : "",
           p->conv_bias ? "yes(one -0.0f)" : "NULL", p->bias1x1 ? "yes" : "NULL", extra);
  if (p->extreme) {
    const size_t used = strlen(out);
    snprintf(out + used, size - used, " extreme=%d", p->extreme);
  }
  if (p->zp_span) {
    const size_t used = strlen(out);
    snprintf(out + used, size - used, " zp_span=%d", p->zp_span);
  }
  if (p->group) {
    const size_t used = strlen(out);
    snprintf(out + used, size - used, " conv group=%d", p->group);
  }
}

static float *random_floats(int n, float lo, float hi)
{
  float *v = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
  for (int i = 0; i < n; ++i)
    v[i] = rng_float(lo, hi);
  return v;
}

/**
   The nonlinearity's parameters: NAM's 0.01 or a random LeakyReLU slope,
   PReLU slopes per channel, LeakyHardtanh bounds (now and then crossed:
   min_val > max_val, where the kernel must test min_val first) and
   slopes. Draws nothing for tanh, so the A1 cases stay as they were.
*/
static void random_act(layer_case *lc)
{
  const case_params *p = &lc->p;
  lc->act.kind = p->act;
  switch (p->act) {
  case QK_WN_LEAKY_RELU: lc->act.slope = rng_chance(2) ? 0.01f : rng_float(-0.5f, 1.5f); break;
  case QK_WN_PRELU:
    lc->prelu = random_floats(lc->B, -0.5f, 1.5f);
    lc->act.slopes = lc->prelu;
    break;
  case QK_WN_LEAKY_HARDTANH:
    lc->act.min_val = rng_float(-1.0f, 0.0f);
    lc->act.max_val = rng_chance(5) ? rng_float(-1.5f, lc->act.min_val) : rng_float(0.0f, 1.0f);
    lc->act.min_slope = rng_float(0.0f, 0.2f);
    lc->act.max_slope = p->overflow ? 1e38f : rng_float(0.0f, 0.2f);
    /* an overflow case must overflow whatever the random data: with the
       knee at -4 every z above -0.6 (all of z >= min_val >= -1 but the
       lowest) takes (z + 4) * 1e38 = inf; set after the draws above, so
       the random stream, and every later case, stay as they were */
    if (p->overflow)
      lc->act.max_val = -4.0f;
    break;
  default: break;
  }
}

/** One frame of C floats of a given kind (see fill_history). */
static void fill_frame(float *f, int C, int kind)
{
  const float amp = kind == 4 ? 0.01f : kind == 5 ? 0.1f : 1.0f;
  for (int c = 0; c < C; ++c) {
    switch (kind) {
    case 0: f[c] = 0.0f; break;                            /* silent */
    case 2: f[c] = 1e-30f * rng_float(-1.0f, 1.0f); break; /* tiny scale */
    case 3: f[c] = 1e-38f * rng_float(-1.0f, 1.0f); break; /* subnormal scale */
    default: f[c] = amp * rng_float(-1.0f, 1.0f); break;   /* audio range */
    }
  }
  if (kind == 1)
    f[rng_int(0, C - 1)] = rng_chance(2) ? 1e3f : -1e3f; /* one outlier */
  if (kind == 7)
    f[rng_int(0, C - 1)] = NAN; /* one NaN */
}

/**
   Frames of audio-range values at a few levels, with at least one silent
   frame, one with a single 1e3 value and one of 1e-30 values when there
   are frames enough, and more of each (and 1e-38 frames) at random.
*/
static void fill_history(float *h, int C, int frames, bool nan_frames)
{
  for (int f = 0; f < frames; ++f) {
    int r = rng_int(0, 39), kind = r < 4                   ? 0
                                   : r < 6                 ? 1
                                   : r < 8                 ? 2
                                   : r < 10                ? 3
                                   : r < 16                ? 4
                                   : r < 22                ? 5
                                   : r < 39 || !nan_frames ? 6
                                                           : 7;
    fill_frame(h + (size_t)f * (size_t)C, C, kind);
  }
  for (int kind = 0; kind < 3 && kind < frames; ++kind)
    fill_frame(h + (size_t)rng_int(0, frames - 1) * (size_t)C, C, kind);
}

/**
   Weights of mx at their largest magnitude: the most negative code; for a
   codebook, the largest |value| the AVX2 byte-quad form still admits at C
   channels (qk_wavenet_avx2.c: ceil(C/4) * 2 * 255 * A <= 32767), so its
   int16 sums come within 1% of 32767 (A = 16 at C = 16: 32640), or with
   `past` one more, which must take the int16 pairs instead (A = 17 would
   sum to 34680 and wrap).
*/
static void matrix_extreme(matrix *mx, int C, bool past)
{
  const qk_format f = mx->w.format;
  const size_t n = (size_t)mx->w.rows * (size_t)mx->w.cols;
  if (qk_format_is_codebook(f)) {
    const int admitted = 32767 / ((C + 3) / 4 * 2 * 255);
    mx->codebook[0] = (int8_t)(-admitted - (past ? 1 : 0));
    memset(mx->codes, 0, n);
  } else {
    memset(mx->codes, (int8_t)qk_format_min(f), n);
  }
}

/**
   The conv's weights at the extreme of AVX2's unsigned byte-quad form
   (qk_wavenet_avx2.c: weights u = v - vmin in [0, U], vmin <= 0 <= vmax,
   exact while ceil(C/4) * 256 * U <= 32767): the first weight at the low
   end and every other at the high end, so u = U almost everywhere. A
   format's own minimum and maximum; a codebook's 0 and the lowest value
   the form admits at C channels (U = 31 at C = 16: int16 sums of 31496
   against codes +-127), or with `past` one lower, which must take
   another form (the int16 pairs at C = 16).
*/
static void matrix_unsigned_extreme(matrix *mx, int C, bool past)
{
  const qk_format f = mx->w.format;
  const size_t n = (size_t)mx->w.rows * (size_t)mx->w.cols;
  if (qk_format_is_codebook(f)) {
    const int admitted = 32767 / ((C + 3) / 4 * 256);
    mx->codebook[0] = 0;
    mx->codebook[1] = (int8_t)(-admitted - (past ? 1 : 0));
    memset(mx->codes, 0, n);
    mx->codes[0] = 1;
  } else {
    memset(mx->codes, (int8_t)qk_format_max(f), n);
    mx->codes[0] = (int8_t)qk_format_min(f);
  }
}

/**
   p->extreme: the weights at their largest magnitude (or the conv at the
   unsigned form's extreme) and each history frame of one value repeated (1.0f or -1.0f), so every
   code is +127 or -127 (u = 255 or 1 in the byte-quad forms): the products and the int16 sums of
   the fused forms at the ends of their range.
*/
static void make_extreme(layer_case *lc, int frames)
{
  const int signs = (lc->p.extreme - 1) % 3 + 1, kind = (lc->p.extreme - 1) / 3;
  /* kinds 0 and 1: both matrices at matrix_extreme's (1: past it); 2 and
     3: the conv at matrix_unsigned_extreme's instead */
  const bool past = kind % 2;
  if (kind >= 2)
    matrix_unsigned_extreme(&lc->conv, lc->p.C, past);
  else
    matrix_extreme(&lc->conv, lc->p.C, past);
  matrix_extreme(&lc->w1, lc->p.C, past);
  float *h = (float *)lc->hist.p;
  const int C = lc->p.C;
  for (int f = 0; f < frames; ++f) {
    const float v = signs == 1 ? 1.0f : signs == 2 ? -1.0f : f % 2 ? 1.0f : -1.0f;
    for (int c = 0; c < C; ++c)
      h[(size_t)f * (size_t)C + (size_t)c] = v;
  }
}

/** case_params.zp_span: codes at one end of the format, zero points at the other. */
static void matrix_zp_span(matrix *mx, int span)
{
  if (!mx->zp)
    return;
  const int lo = qk_format_min(mx->w.format), hi = qk_format_max(mx->w.format);
  const size_t n = (size_t)mx->w.rows * (size_t)mx->w.cols;
  memset(mx->codes, (int8_t)(span == 1 ? hi : lo), n);
  for (int i = 0; i < mx->w.rows * qk_group_count(mx->w.cols, mx->w.group); ++i)
    mx->zp[i] = span == 1 ? lo : hi;
}

static void layer_case_init(layer_case *lc, const case_params *p)
{
  memset(lc, 0, sizeof *lc);
  lc->p = *p;
  const int C = p->C, N = p->N, B = p->B ? p->B : C;
  lc->B = B;
  lc->back = p->dilation * (p->taps - 1);
  describe(p, lc->desc, sizeof lc->desc);
  matrix_random(&lc->conv, p->conv_format, B, p->taps * C, p->group, p->conv_zp);
  matrix_random(&lc->w1, p->w1_format, C, B, 0, p->w1_zp);
  if (p->conv_bias) {
    lc->conv_bias = random_floats(B, -0.5f, 0.5f);
    lc->conv_bias[rng_int(0, B - 1)] = -0.0f;
  }
  if (p->bias1x1) {
    lc->bias1x1 = random_floats(C, -0.5f, 0.5f);
    if (rng_chance(2))
      lc->bias1x1[rng_int(0, C - 1)] = -0.0f;
  }
  lc->mixin = random_floats(B, -1.0f, 1.0f);
  lc->cond = random_floats(N, -1.0f, 1.0f);
  lc->head0 = random_floats(N * B, -2.0f, 2.0f);
  for (int i = 0; i < N * B; ++i)
    if (lc->head0[i] == 0.0f)
      lc->head0[i] = 0.25f;
  const int frames = lc->back + N;
  lc->hist = guarded_new((size_t)frames * (size_t)C * sizeof(float));
  fill_history((float *)lc->hist.p, C, frames, p->nan_frames);
  if (p->subnormal) {
    float *h = (float *)lc->hist.p;
    for (size_t i = 0; i < (size_t)frames * (size_t)C; ++i)
      h[i] = isfinite(h[i]) ? h[i] * 1e-42f : h[i];
    for (int n = 0; n < N; ++n)
      lc->cond[n] *= 1e-41f;
    free(lc->conv_bias);
    lc->conv_bias = NULL;
  }
  if (p->extreme)
    make_extreme(lc, frames);
  if (p->zp_span)
    matrix_zp_span(&lc->conv, p->zp_span), matrix_zp_span(&lc->w1, p->zp_span);
  lc->x = (float *)lc->hist.p + (size_t)lc->back * (size_t)C;
  random_act(lc);
}

static void layer_case_free(layer_case *lc)
{
  matrix_free(&lc->conv);
  matrix_free(&lc->w1);
  free(lc->prelu);
  free(lc->conv_bias);
  free(lc->bias1x1);
  free(lc->mixin);
  free(lc->cond);
  free(lc->head0);
  guarded_free(&lc->hist);
}

/** The layer description over weights packed for one ISA. */
static qk_wavenet_layer layer_of(const layer_case *lc, const qk_packed *conv, const qk_packed *w1)
{
  qk_wavenet_layer L = {.C = lc->p.C,
                        .taps = lc->p.taps,
                        .dilation = lc->p.dilation,
                        .conv = conv,
                        .conv_bias = lc->conv_bias,
                        .mixin = lc->mixin,
                        .w1x1 = w1,
                        .bias1x1 = lc->bias1x1,
                        .bottleneck = lc->p.B,
                        .act = lc->act};
  return L;
}

/* ------------------------------------------------------------------------
   The int8 history: columns -back .. N-1, column 0 = frame 0
   ------------------------------------------------------------------------ */
typedef struct {
  int back, N, ld;
  bool paired;                 /* qk.h: qk_wavenet_layer_s8_history_paired's layout */
  guarded codes, scales, sums; /* (back + N) columns each */
  qk_act_s8 view;              /* column 0 = frame 0 */
} int8_history;

static void int8_history_bind(int8_history *h)
{
  h->view.codes = (int8_t *)h->codes.p + (size_t)h->back * (size_t)h->ld;
  h->view.ld = h->ld;
  h->view.scales = (float *)h->scales.p + h->back;
  h->view.per_column = true;
  h->view.sums = (int32_t *)h->sums.p + h->back;
  h->view.group = 0;
  h->view.paired = h->paired;
}

/*
  The paired layout, as qk.h documents it (written out here rather than
  through the kernels, so that a kernel and its documentation cannot drift
  apart together): column n is [u0(n), u0(n+1), u1(n), u1(n+1)], u_j(f)
  frame f's codes 4j .. 4j+3 xor 0x80, the last column's successor halves
  a copy of its own.
*/

/** Column n's own code k (k < 8) of a paired history. */
static int8_t paired_code(const int8_t *col, int k)
{
  return (int8_t)((uint8_t)col[8 * (k / 4) + k % 4] ^ 0x80u);
}

/** Column n's successor code k: frame n + 1's code k, or the placeholder. */
static int8_t paired_next_code(const int8_t *col, int k)
{
  return (int8_t)((uint8_t)col[8 * (k / 4) + 4 + k % 4] ^ 0x80u);
}

/** Code k of column n of a history view, in its layout. */
static int8_t history_code(const qk_act_s8 *h, int n, int k)
{
  const int8_t *col = h->codes + (ptrdiff_t)n * h->ld;
  return h->paired ? paired_code(col, k) : col[k];
}

/**
   Columns from .. to - 1 of a paired history are complete: each one's
   successor halves hold the next column's codes, the last one's its own.
   Returns the first column that is not, or `to`.
*/
static int paired_complete(const qk_act_s8 *h, int from, int to)
{
  for (int n = from; n < to; ++n) {
    const int8_t *col = h->codes + (ptrdiff_t)n * h->ld;
    const int8_t *next = n + 1 < to ? col + h->ld : col;
    for (int k = 0; k < 8; ++k)
      if (paired_next_code(col, k) != paired_code(next, k))
        return n;
  }
  return to;
}

/**
   Lookback columns quantized from the lookback floats on `isa`; columns
   0..N-1 hold garbage codes, scales and sums the layer must overwrite,
   with zero padding (qk.h: the caller keeps it zero).
*/
static void int8_history_init(int8_history *h, const layer_case *lc, qk_isa isa)
{
  const int C = lc->p.C, cols = lc->back + lc->p.N;
  h->back = lc->back;
  h->N = lc->p.N;
  h->ld = qk_act_ld(C);
  h->paired = false;
  h->codes = guarded_new((size_t)cols * (size_t)h->ld);
  h->scales = guarded_new((size_t)cols * sizeof(float));
  h->sums = guarded_new((size_t)cols * sizeof(int32_t));
  fill_random_bytes(h->codes.p, h->codes.bytes);
  fill_random_bytes(h->scales.p, h->scales.bytes);
  fill_random_bytes(h->sums.p, h->sums.bytes);
  int8_history_bind(h);
  for (int n = 0; n < h->N; ++n)
    memset(h->view.codes + (size_t)n * (size_t)h->ld + C, 0, (size_t)(h->ld - C));
  if (lc->back > 0) {
    qk_act_s8 lookback = h->view;
    lookback.codes = (int8_t *)h->codes.p;
    lookback.scales = (float *)h->scales.p;
    lookback.sums = (int32_t *)h->sums.p;
    qk_quantize_act_dynamic_isa(isa, (const float *)lc->hist.p, C, C, lc->back, &lookback);
  }
}

static void int8_history_clone(int8_history *dst, const int8_history *src)
{
  *dst = *src;
  dst->codes = guarded_clone(&src->codes);
  dst->scales = guarded_clone(&src->scales);
  dst->sums = guarded_clone(&src->sums);
  int8_history_bind(dst);
}

/**
   src with columns of ld bytes (qk_wavenet_layer_s8_history_ld's narrow
   history): each column's first ld bytes (codes, then zero padding).
*/
static void int8_history_narrow(int8_history *dst, const int8_history *src, int ld, bool paired)
{
  const int cols = src->back + src->N;
  *dst = *src;
  dst->ld = ld;
  dst->paired = paired;
  dst->codes = guarded_new((size_t)cols * (size_t)ld);
  for (int n = 0; n < cols; ++n) {
    int8_t *d = (int8_t *)dst->codes.p + (size_t)n * (size_t)ld;
    const int8_t *s0 = (const int8_t *)src->codes.p + (size_t)n * (size_t)src->ld;
    const int8_t *s1 = n + 1 < cols ? s0 + src->ld : s0;
    if (!paired) {
      memcpy(d, s0, (size_t)ld);
      continue;
    }
    for (int k = 0; k < 8; ++k) {
      d[8 * (k / 4) + k % 4] = (int8_t)((uint8_t)s0[k] ^ 0x80u);
      d[8 * (k / 4) + 4 + k % 4] = (int8_t)((uint8_t)s1[k] ^ 0x80u);
    }
  }
  dst->scales = guarded_clone(&src->scales);
  dst->sums = guarded_clone(&src->sums);
  int8_history_bind(dst);
}

static void int8_history_free(int8_history *h)
{
  guarded_free(&h->codes);
  guarded_free(&h->scales);
  guarded_free(&h->sums);
}

/* ------------------------------------------------------------------------
   One run of the layer: outputs, history copy and exact-size scratch
   ------------------------------------------------------------------------ */
typedef struct {
  guarded head, next;
  int8_history xq;
  qk_act_s8 conv_act, act_1x1;
  float *z;
  qk_wavenet_scratch scratch;
} run_state;

/** N columns of K codes with `ng` sums each (qk.h's scratch: the conv's groups). */
static qk_act_s8 act_alloc(int K, int N, int ng)
{
  qk_act_s8 a = {.ld = qk_act_ld(K), .per_column = true, .group = 0};
  a.codes = malloc((size_t)a.ld * (size_t)N);
  a.scales = malloc((size_t)N * sizeof(float));
  a.sums = malloc((size_t)N * (size_t)ng * sizeof(int32_t));
  return a;
}

static void act_release(qk_act_s8 *a)
{
  free(a->codes);
  free(a->scales);
  free(a->sums);
}

/** head starts at head0, next at a garbage pattern, xq at a copy of the case's history. */
static void run_state_init(run_state *r, const layer_case *lc, const int8_history *xq0)
{
  const int C = lc->p.C, N = lc->p.N, taps = lc->p.taps, B = lc->B;
  const size_t nc = (size_t)N * (size_t)C, nb = (size_t)N * (size_t)B;
  r->head = guarded_new(nb * sizeof(float));
  memcpy(r->head.p, lc->head0, nb * sizeof(float));
  r->next = guarded_new(nc * sizeof(float));
  memset(r->next.p, 0xCD, nc * sizeof(float));
  int8_history_clone(&r->xq, xq0);
  r->conv_act = act_alloc(taps * C, N, qk_group_count(taps * C, lc->p.group));
  r->act_1x1 = act_alloc(B, N, 1);
  r->z = malloc(nb * sizeof(float));
  r->scratch = (qk_wavenet_scratch){.conv_act = &r->conv_act, .act_1x1 = &r->act_1x1, .z = r->z};
}

static void run_state_free(run_state *r)
{
  guarded_free(&r->head);
  guarded_free(&r->next);
  int8_history_free(&r->xq);
  act_release(&r->conv_act);
  act_release(&r->act_1x1);
  free(r->z);
}

typedef void layer_fn(const qk_wavenet_layer *L, const float *x, const qk_act_s8 *xq,
                      const float *cond, int N, float *head, float *next,
                      const qk_wavenet_scratch *scratch);

/** Frames n0 .. n0 + count - 1 in one call, every pointer advanced to frame n0. */
static void run_frames(layer_fn *fn, const qk_wavenet_layer *L, const layer_case *lc, run_state *r,
                       int n0, int count)
{
  const size_t off = (size_t)n0 * (size_t)lc->p.C, off_head = (size_t)n0 * (size_t)lc->B;
  qk_act_s8 xq = r->xq.view;
  xq.codes += (size_t)n0 * (size_t)xq.ld;
  xq.scales += n0;
  xq.sums += n0;
  fn(L, lc->x + off, &xq, lc->cond + n0, count, (float *)r->head.p + off_head,
     (float *)r->next.p + off, &r->scratch);
}

/** Frames n0 .. n0 + count - 1 through the int8 frame form, one call per
    frame (qk.h: qk_wavenet_layer_s8_frame_form), as run_frames. */
static void run_frame_form(qk_wavenet_s8_frame_fn frame, const qk_wavenet_layer *L,
                           const layer_case *lc, run_state *r, int n0, int count)
{
  for (int n = n0; n < n0 + count; ++n) {
    qk_act_s8 xq = r->xq.view;
    xq.codes += (size_t)n * (size_t)xq.ld;
    xq.scales += n;
    xq.sums += n;
    frame(L, lc->x + (size_t)n * (size_t)lc->p.C, &xq, lc->cond[n],
          (float *)r->head.p + (size_t)n * (size_t)lc->B,
          (float *)r->next.p + (size_t)n * (size_t)lc->p.C);
  }
}

/* ------------------------------------------------------------------------
   Comparing runs
   ------------------------------------------------------------------------ */

/** head and next of two runs, bit for bit; `what` names got and want. */
static void compare_outputs(const char *what, const layer_case *lc, const run_state *got,
                            const run_state *want)
{
  const int C = lc->p.C, B = lc->B;
  const size_t nc = (size_t)lc->p.N * (size_t)C, nb = (size_t)lc->p.N * (size_t)B;
  const float *gh = (const float *)got->head.p, *wh = (const float *)want->head.p;
  const float *gn = (const float *)got->next.p, *wn = (const float *)want->next.p;
  long i = first_float_diff(gh, wh, nb);
  CHECK(i < 0, "%s: head differs at frame %ld channel %ld: %.9g (%a) vs %.9g (%a) [%s]", what,
        i / B, i % B, i >= 0 ? gh[i] : 0.0, i >= 0 ? gh[i] : 0.0, i >= 0 ? wh[i] : 0.0,
        i >= 0 ? wh[i] : 0.0, lc->desc);
  i = first_float_diff(gn, wn, nc);
  CHECK(i < 0, "%s: next differs at frame %ld channel %ld: %.9g (%a) vs %.9g (%a) [%s]", what,
        i / C, i % C, i >= 0 ? gn[i] : 0.0, i >= 0 ? gn[i] : 0.0, i >= 0 ? wn[i] : 0.0,
        i >= 0 ? wn[i] : 0.0, lc->desc);
}

/** History columns 0..N-1 of two runs: C codes, scale bits and sum per column. */
static void compare_history(const char *what, const layer_case *lc, const run_state *got,
                            const run_state *want)
{
  const qk_act_s8 *g = &got->xq.view, *w = &want->xq.view;
  const int C = lc->p.C;
  for (int n = 0; n < lc->p.N; ++n) {
    int c = 0;
    while (c < C && history_code(g, n, c) == history_code(w, n, c))
      ++c;
    CHECK(c == C, "%s: int8 history frame %d code %d is %d, want %d [%s]", what, n, c,
          c < C ? history_code(g, n, c) : 0, c < C ? history_code(w, n, c) : 0, lc->desc);
    CHECK(!memcmp(&g->scales[n], &w->scales[n], sizeof(float)),
          "%s: int8 history frame %d scale %a, want %a [%s]", what, n, g->scales[n], w->scales[n],
          lc->desc);
    CHECK(g->sums[n] == w->sums[n], "%s: int8 history frame %d sum %d, want %d [%s]", what, n,
          g->sums[n], w->sums[n], lc->desc);
    if (c < C || memcmp(&g->scales[n], &w->scales[n], sizeof(float)) || g->sums[n] != w->sums[n])
      break; /* one report per run */
  }
}

/**
   What the layer must leave alone: guard bytes around head, next and the
   three history arrays, the lookback columns (as the case built them), and
   the padding bytes C..ld-1 of the columns it wrote must still be zero.
*/
static void check_untouched(const char *what, const layer_case *lc, const run_state *r,
                            const int8_history *xq0)
{
  const int8_history *h = &r->xq;
  CHECK(guards_intact(&r->head), "%s: wrote outside head (N*B = %d floats) [%s]", what,
        lc->p.N * lc->B, lc->desc);
  CHECK(guards_intact(&r->next), "%s: wrote outside next (N*C = %d floats) [%s]", what,
        lc->p.N * lc->p.C, lc->desc);
  CHECK(guards_intact(&h->codes) && guards_intact(&h->scales) && guards_intact(&h->sums),
        "%s: wrote outside the int8 history (codes %d, scales %d, sums %d intact) [%s]", what,
        guards_intact(&h->codes), guards_intact(&h->scales), guards_intact(&h->sums), lc->desc);
  const size_t back = (size_t)lc->back;
  if (h->paired) {
    /* column -1's successor halves take frame 0's codes; the rest of the
       lookback stays, and every written column is complete */
    const int first = paired_complete(&h->view, -1, lc->p.N);
    CHECK(first == lc->p.N, "%s: paired history column %d incomplete [%s]", what, first, lc->desc);
    const int8_t *was = (const int8_t *)xq0->codes.p + (back - 1) * (size_t)h->ld;
    const int8_t *is = h->view.codes - h->ld;
    CHECK(back >= 1 && !memcmp(h->codes.p, xq0->codes.p, (back - 1) * (size_t)h->ld) &&
              !memcmp(is, was, 4) && !memcmp(is + 8, was + 8, 4) &&
              !memcmp(h->scales.p, xq0->scales.p, back * sizeof(float)) &&
              !memcmp(h->sums.p, xq0->sums.p, back * sizeof(int32_t)),
          "%s: changed the %zu lookback columns of the paired int8 history [%s]", what, back,
          lc->desc);
    return;
  }
  CHECK(!memcmp(h->codes.p, xq0->codes.p, back * (size_t)h->ld) &&
            !memcmp(h->scales.p, xq0->scales.p, back * sizeof(float)) &&
            !memcmp(h->sums.p, xq0->sums.p, back * sizeof(int32_t)),
        "%s: changed the %zu lookback columns of the int8 history [%s]", what, back, lc->desc);
  for (int n = 0; n < lc->p.N; ++n) {
    const int8_t *c = h->view.codes + (size_t)n * (size_t)h->ld;
    int k = lc->p.C;
    while (k < h->ld && c[k] == 0)
      ++k;
    CHECK(k == h->ld, "%s: int8 history frame %d padding byte %d is %d, not 0 [%s]", what, n, k,
          k < h->ld ? c[k] : 0, lc->desc);
    if (k != h->ld)
      break;
  }
}

/* ------------------------------------------------------------------------
   1 and 3. One case on one ISA against the scalar oracle, and split calls
   ------------------------------------------------------------------------ */

/** qk.h: some tap of the conv is more than one piece (its columns in two scale groups). */
static bool straddles(const case_params *p)
{
  const int K = p->taps * p->C, G = p->group > 0 && p->group < K ? p->group : K;
  for (int t = 0; t < p->taps; ++t)
    if (t * p->C / G != (t * p->C + p->C - 1) / G)
      return true;
  return false;
}

/**
   qk.h: fused for B = C on AVX2 for C up to 16 and taps * ceil(C/2) *
   ceil(C/8) <= 128; on AVX-512 VNNI for C a multiple of 4 up to 16 and
   taps * C <= 128 with every tap one piece, and as AVX2 for the others.
*/
static bool documented_fused(qk_isa isa, const case_params *p)
{
  if (p->B != 0 && p->B != p->C)
    return false;
  const bool avx2_shape = p->C <= 16 && p->taps * ((p->C + 1) / 2) * ((p->C + 7) / 8) <= 128;
  if (isa == QK_ISA_AVX512VNNI)
    return p->C % 4 == 0 && !straddles(p) ? p->C <= 16 && p->taps * p->C <= 128 : avx2_shape;
  return (isa == QK_ISA_AVX2 || isa == QK_ISA_AVXVNNI) && avx2_shape;
}

/** qk.h: an int8 frame form on AVX-512 VNNI, given prepared weights, for
    its small fused layers (B = C <= 3, taps * C <= 64; any conv scale
    groups, with or without zero points) and for its fused layers of 4, 8,
    12 and 16 channels without zero points (B = C, no tap split by a scale
    group). */
static bool documented_frame_form(qk_isa isa, const case_params *p, const qk_wavenet_layer *L)
{
  if (isa != QK_ISA_AVX512VNNI || !L->prepared || !(p->B == 0 || p->B == p->C))
    return false;
  if (p->C <= 3)
    return p->taps * p->C <= 64;
  return p->C % 4 == 0 && p->C <= 16 && !straddles(p) && !qk_packed_has_zero_points(L->conv) &&
         !qk_packed_has_zero_points(L->w1x1);
}

/** The ISAs whose fused forms chain some layers (qk.h: qk_wavenet_layer_s8_chains). */
static bool chaining_isa(qk_isa isa)
{
  return isa == QK_ISA_AVX512VNNI || isa == QK_ISA_AVX2 || isa == QK_ISA_AVXVNNI;
}

typedef struct {
  int cases, fused;
  int narrow;  /**< also run on a narrower history (qk_wavenet_layer_s8_history_ld) */
  int paired;  /**< of those, paired (qk_wavenet_layer_s8_history_paired) */
  int chained; /**< next[] quantized for the next layer in the call (qk.h: next_q) */
  int frame_form; /**< also run frame by frame (qk.h: qk_wavenet_layer_s8_frame_form) */
  int fused_by_C[25], steps_by_C[25];
} isa_tally;

/**
   Chaining (qk.h, qk_wavenet_scratch's next_q and x_quantized). A run with
   next_q on a garbage history of ld columns must give want's head and
   next, touch nothing past the N columns' C codes, and, where it reports
   next_quantized, leave there what the scalar quantizer makes of want's
   next: codes, scale bits and sums. Then a run whose x is already in xq
   (quantized by the scalar quantizer) with x_quantized must give want's
   outputs too. True if the layer chained. paired: next_q and xq in the
   paired layout (ld 16), which has a column -1 to complete.
*/
static bool check_chaining(qk_isa isa, const qk_wavenet_layer *L, const layer_case *lc,
                           const int8_history *xq0, const run_state *want, int ld, bool paired)
{
  const int C = lc->p.C, N = lc->p.N;
  char what[160];
  /* the next layer's history: garbage columns, zero padding */
  int8_history nh;
  nh.back = paired ? 1 : 0;
  nh.N = N;
  nh.ld = ld;
  nh.paired = paired;
  nh.codes = guarded_new((size_t)(N + nh.back) * (size_t)ld);
  nh.scales = guarded_new((size_t)(N + nh.back) * sizeof(float));
  nh.sums = guarded_new((size_t)(N + nh.back) * sizeof(int32_t));
  fill_random_bytes(nh.codes.p, nh.codes.bytes);
  fill_random_bytes(nh.scales.p, nh.scales.bytes);
  fill_random_bytes(nh.sums.p, nh.sums.bytes);
  int8_history_bind(&nh);
  for (int n = 0; n < N && !paired; ++n)
    memset(nh.view.codes + (size_t)n * (size_t)ld + C, 0, (size_t)(ld - C));
  const guarded codes0 = guarded_clone(&nh.codes);
  int8_history xqp; /* paired runs read a paired xq */
  if (paired)
    int8_history_narrow(&xqp, xq0, ld, true);
  const int8_history *xq_in = paired ? &xqp : xq0;

  run_state chained;
  run_state_init(&chained, lc, xq_in);
  bool done = true;
  chained.scratch.next_q = &nh.view;
  chained.scratch.next_quantized = &done;
  run_frames(qk_wavenet_layer_s8, L, lc, &chained, 0, N);
  snprintf(what, sizeof what, "%s qk_wavenet_layer_s8 with next_q (ld %d) vs scalar steps",
           qk_isa_name(isa), ld);
  compare_outputs(what, lc, &chained, want);
  compare_history(what, lc, &chained, want);
  check_untouched(what, lc, &chained, xq_in);
  CHECK(guards_intact(&nh.codes) && guards_intact(&nh.scales) && guards_intact(&nh.sums),
        "%s: wrote outside next_q's %d columns [%s]", what, N, lc->desc);
  if (paired) /* column -1: its own halves, scale and sum stay */
    CHECK(!memcmp(nh.codes.p, codes0.p, 4) &&
              !memcmp((const int8_t *)nh.codes.p + 8, (const int8_t *)codes0.p + 8, 4),
          "%s: next_q column -1's own codes written [%s]", what, lc->desc);
  if (done) {
    /* a form that chains must say so: the engine hands next_q only to
       layers qk_wavenet_layer_s8_chains() names */
    CHECK(qk_wavenet_layer_s8_chains(L),
          "%s: quantized next_q, but qk_wavenet_layer_s8_chains() says this layer does not "
          "chain, so the engine never would [%s]",
          what, lc->desc);
    /* the reference: want's next through the scalar quantizer */
    int8_history ref;
    ref.back = 0;
    ref.paired = false;
    ref.N = N;
    ref.ld = qk_act_ld(C);
    ref.codes = guarded_new((size_t)N * (size_t)ref.ld);
    ref.scales = guarded_new((size_t)N * sizeof(float));
    ref.sums = guarded_new((size_t)N * sizeof(int32_t));
    int8_history_bind(&ref);
    qk_quantize_act_dynamic_isa(QK_ISA_SCALAR, (const float *)want->next.p, C, C, N, &ref.view);
    if (paired) {
      const int first = paired_complete(&nh.view, -1, N);
      CHECK(first == N, "%s: next_q paired column %d incomplete [%s]", what, first, lc->desc);
    }
    for (int n = 0; n < N; ++n) {
      const int8_t *g = nh.view.codes + (size_t)n * (size_t)ld;
      const int8_t *w = ref.view.codes + (size_t)n * (size_t)ref.ld;
      int c = 0;
      while (c < C && history_code(&nh.view, n, c) == w[c])
        ++c;
      const bool same = c == C && !memcmp(&nh.view.scales[n], &ref.view.scales[n], sizeof(float)) &&
                        nh.view.sums[n] == ref.view.sums[n];
      CHECK(same,
            "%s: next_q frame %d (scale %a sum %d) differs from the scalar quantizer's "
            "(scale %a sum %d) [%s]",
            what, n, nh.view.scales[n], nh.view.sums[n], ref.view.scales[n], ref.view.sums[n],
            lc->desc);
      int k = paired ? ld : C; /* a paired column has no padding */
      while (k < ld && g[k] == ((const int8_t *)codes0.p)[(size_t)n * (size_t)ld + (size_t)k])
        ++k;
      CHECK(k == ld, "%s: next_q frame %d padding byte %d written [%s]", what, n, k, lc->desc);
      if (!same || k != ld)
        break;
    }
    int8_history_free(&ref);

    /* the next call's side: x already in xq, x_quantized */
    int8_history pre;
    int8_history_clone(&pre, xq0);
    qk_quantize_act_dynamic_isa(QK_ISA_SCALAR, lc->x, C, C, N, &pre.view);
    for (int n = 0; n < N; ++n) /* the fused forms read C codes; keep the padding zero */
      memset(pre.view.codes + (size_t)n * (size_t)pre.ld + C, 0, (size_t)(pre.ld - C));
    if (paired) {
      int8_history wide = pre;
      int8_history_narrow(&pre, &wide, ld, true);
      int8_history_free(&wide);
    }
    run_state skip;
    run_state_init(&skip, lc, &pre);
    skip.scratch.x_quantized = true;
    run_frames(qk_wavenet_layer_s8, L, lc, &skip, 0, N);
    snprintf(what, sizeof what, "%s qk_wavenet_layer_s8 with x_quantized vs scalar steps",
             qk_isa_name(isa));
    compare_outputs(what, lc, &skip, want);
    compare_history(what, lc, &skip, want);
    run_state_free(&skip);
    int8_history_free(&pre);
  }
  guarded_free((guarded *)&codes0);
  if (paired)
    int8_history_free(&xqp);
  int8_history_free(&nh);
  run_state_free(&chained);
  return done;
}

static void run_case(qk_isa isa, const case_params *p, isa_tally *tally)
{
  layer_case lc;
  layer_case_init(&lc, p);
  guarded hist0 = guarded_clone(&lc.hist);
  qk_packed *cv_ref = pack_or_fail(&lc.conv, QK_ISA_SCALAR);
  qk_packed *w1_ref = pack_or_fail(&lc.w1, QK_ISA_SCALAR);
  qk_packed *cv = pack_or_fail(&lc.conv, isa), *w1 = pack_or_fail(&lc.w1, isa);
  if (!cv_ref || !w1_ref || !cv || !w1)
    goto out;
  const qk_wavenet_layer Lref = layer_of(&lc, cv_ref, w1_ref), L = layer_of(&lc, cv, w1);
  CHECK(qk_wavenet_layer_s8_valid(&Lref) && qk_wavenet_layer_s8_valid(&L),
        "%s: qk_wavenet_layer_s8_valid false for a valid layer [%s]", qk_isa_name(isa), lc.desc);
  const bool fused = qk_wavenet_layer_s8_fused(&L);
  CHECK(fused == documented_fused(isa, p),
        "%s: qk_wavenet_layer_s8_fused = %d, qk.h documents %d [%s]", qk_isa_name(isa), fused,
        documented_fused(isa, p), lc.desc);
  CHECK(!qk_wavenet_layer_s8_fused(&Lref), "scalar weights report a fused form [%s]", lc.desc);

  int8_history xq0;
  int8_history_init(&xq0, &lc, isa);
  run_state want, got, split, isa_steps, sliced, prepped;
  run_state_init(&want, &lc, &xq0);
  run_state_init(&got, &lc, &xq0);
  run_state_init(&split, &lc, &xq0);
  run_state_init(&isa_steps, &lc, &xq0);
  run_state_init(&sliced, &lc, &xq0);
  run_state_init(&prepped, &lc, &xq0);
  /* the same layer with prepared weights (qk.h: same result) */
  const size_t prep_bytes = qk_wavenet_layer_s8_prepared_size(&L);
  CHECK((prep_bytes > 0) == fused, "%s: prepared size %zu for a layer %s fused [%s]",
        qk_isa_name(isa), prep_bytes, fused ? "run" : "not run", lc.desc);
  void *prep = prep_bytes ? aligned_alloc(64, (prep_bytes + 63) / 64 * 64) : NULL;
  if (prep)
    qk_wavenet_layer_s8_prepare(&L, prep);
  qk_wavenet_layer Lp = L;
  Lp.prepared = prep;
  /* the same layer with per-tap slices, step by step (qk.h: same result);
     a tap of two pieces has no slice of one group: refused there, and the
     layer without them stands in */
  qk_packed **taps = pack_taps_or_fail(&lc.conv, p->C, p->taps, isa);
  qk_wavenet_layer Ls = L;
  Ls.conv_taps = (const qk_packed *const *)taps;
  CHECK(qk_wavenet_layer_s8_valid(&Ls) == !straddles(p),
        "%s: layer with tap slices %s [%s]", qk_isa_name(isa),
        straddles(p) ? "valid for taps of two pieces" : "not valid", lc.desc);
  if (straddles(p))
    Ls.conv_taps = NULL;

  const int N = p->N, k = N > 1 ? rng_int(1, N - 1) : rng_int(0, 1);
  char what[160];
  run_frames(qk_wavenet_layer_s8_steps, &Lref, &lc, &want, 0, N);
  run_frames(qk_wavenet_layer_s8, &L, &lc, &got, 0, 0); /* N = 0 writes nothing */
  run_frames(qk_wavenet_layer_s8, &L, &lc, &got, 0, N);
  run_frames(qk_wavenet_layer_s8, &L, &lc, &split, 0, k);
  run_frames(qk_wavenet_layer_s8, &L, &lc, &split, k, N - k);
  run_frames(qk_wavenet_layer_s8_steps, &L, &lc, &isa_steps, 0, N);
  run_frames(qk_wavenet_layer_s8_steps, &Ls, &lc, &sliced, 0, N);
  run_frames(qk_wavenet_layer_s8, &Lp, &lc, &prepped, 0, N);
  /* the one-frame form, frame by frame, where there is one */
  const qk_wavenet_s8_frame_fn frame = qk_wavenet_layer_s8_frame_form(&Lp);
  CHECK((frame != NULL) == documented_frame_form(isa, p, &Lp),
        "%s: qk_wavenet_layer_s8_frame_form %s, qk.h documents %d [%s]", qk_isa_name(isa),
        frame ? "given" : "NULL", documented_frame_form(isa, p, &Lp), lc.desc);
  CHECK(!qk_wavenet_layer_s8_frame_form(&L), "%s: a frame form without prepared weights [%s]",
        qk_isa_name(isa), lc.desc);
  run_state framed;
  run_state_init(&framed, &lc, &xq0);
  if (frame) {
    run_frame_form(frame, &Lp, &lc, &framed, 0, N);
    snprintf(what, sizeof what, "%s qk_wavenet_layer_s8_frame_form frame by frame vs scalar steps",
             qk_isa_name(isa));
    compare_outputs(what, &lc, &framed, &want);
    compare_history(what, &lc, &framed, &want);
    check_untouched(what, &lc, &framed, &xq0);
    tally->frame_form++;
  }

  if (p->overflow) { /* the case must reach an infinite a, or it tests nothing */
    const float *h = (const float *)want.head.p;
    size_t inf = 0;
    for (size_t i = 0; i < (size_t)N * (size_t)lc.B; ++i)
      inf += isinf(h[i]) != 0;
    CHECK(inf > 0, "overflow case: no infinite a in the scalar head [%s]", lc.desc);
  }
  snprintf(what, sizeof what, "%s qk_wavenet_layer_s8 (%s) vs scalar steps", qk_isa_name(isa),
           fused ? "fused" : "step by step");
  compare_outputs(what, &lc, &got, &want);
  compare_history(what, &lc, &got, &want);
  check_untouched(what, &lc, &got, &xq0);
  snprintf(what, sizeof what, "%s qk_wavenet_layer_s8_steps vs scalar steps", qk_isa_name(isa));
  compare_outputs(what, &lc, &isa_steps, &want);
  compare_history(what, &lc, &isa_steps, &want);
  check_untouched(what, &lc, &isa_steps, &xq0);
  check_untouched("scalar steps (oracle)", &lc, &want, &xq0);
  snprintf(what, sizeof what, "%s qk_wavenet_layer_s8_steps with tap slices vs scalar steps",
           qk_isa_name(isa));
  compare_outputs(what, &lc, &sliced, &want);
  compare_history(what, &lc, &sliced, &want);
  check_untouched(what, &lc, &sliced, &xq0);
  snprintf(what, sizeof what, "%s qk_wavenet_layer_s8 with prepared weights vs scalar steps",
           qk_isa_name(isa));
  compare_outputs(what, &lc, &prepped, &want);
  compare_history(what, &lc, &prepped, &want);
  check_untouched(what, &lc, &prepped, &xq0);
  snprintf(what, sizeof what, "%s qk_wavenet_layer_s8 (%s) in calls of %d + %d frames vs one call",
           qk_isa_name(isa), fused ? "fused" : "step by step", k, N - k);
  compare_outputs(what, &lc, &split, &got);
  compare_history(what, &lc, &split, &got);
  check_untouched(what, &lc, &split, &xq0);
  /* with prepared weights, on the narrower history the fused form allows
     (qk.h: qk_wavenet_layer_s8_history_ld): the same result, nothing
     written past a column's ld */
  const int narrow_ld = qk_wavenet_layer_s8_history_ld(&L);
  const bool paired = qk_wavenet_layer_s8_history_paired(&L);
  CHECK(paired == (isa == QK_ISA_AVX512VNNI && fused && p->C == 8 && lc.B == 8 && p->taps > 1 &&
                   p->dilation > 0),
        "%s: qk_wavenet_layer_s8_history_paired = %d [%s]", qk_isa_name(isa), paired, lc.desc);
  CHECK(!paired || narrow_ld == 16, "%s: paired history of ld %d [%s]", qk_isa_name(isa), narrow_ld,
        lc.desc);
  CHECK(narrow_ld >= p->C && narrow_ld <= qk_act_ld(p->C) &&
            (fused || narrow_ld == qk_act_ld(p->C)),
        "%s: history ld %d for C = %d [%s]", qk_isa_name(isa), narrow_ld, p->C, lc.desc);
  if (prep && narrow_ld < qk_act_ld(p->C)) {
    int8_history xqn;
    int8_history_narrow(&xqn, &xq0, narrow_ld, paired);
    run_state narrow;
    run_state_init(&narrow, &lc, &xqn);
    run_frames(qk_wavenet_layer_s8, &Lp, &lc, &narrow, 0, N);
    snprintf(what, sizeof what, "%s qk_wavenet_layer_s8 on a history of ld %d vs scalar steps",
             qk_isa_name(isa), narrow_ld);
    compare_outputs(what, &lc, &narrow, &want);
    compare_history(what, &lc, &narrow, &want);
    check_untouched(what, &lc, &narrow, &xqn);
    tally->narrow++;
    tally->paired += paired;
    run_state_free(&narrow);
    int8_history_free(&xqn);
  }
  /* every 8- and 16-channel case (the chained shapes; every other 16 under
     ASan, which runs this test 5-10x slower), and one in 8 of the others
     (which must report not chained, and write nothing there) */
  if (p->C == 8 || (p->C == 16 && (!ASAN_BUILD || tally->cases % 2 == 0)) ||
      tally->cases % 8 == 0) {
    tally->chained += check_chaining(isa, &Lp, &lc, &xq0, &want, qk_act_ld(p->C), false);
    if (prep && narrow_ld < qk_act_ld(p->C))
      tally->chained += check_chaining(isa, &Lp, &lc, &xq0, &want, narrow_ld, paired);
  }
  CHECK(guards_intact(&lc.hist) && !memcmp(lc.hist.p, hist0.p, hist0.bytes),
        "%s: the float history (const x) changed [%s]", qk_isa_name(isa), lc.desc);

  tally->cases++;
  tally->fused += fused;
  (fused ? tally->fused_by_C : tally->steps_by_C)[p->C <= 24 ? p->C : 0]++;
  if (verbose)
    printf("    %-12s %-5s %s\n", qk_isa_name(isa), fused ? "fused" : "steps", lc.desc);

  run_state_free(&want);
  run_state_free(&got);
  run_state_free(&split);
  run_state_free(&isa_steps);
  run_state_free(&sliced);
  run_state_free(&prepped);
  run_state_free(&framed);
  free(prep);
  taps_free(taps, p->taps);
  int8_history_free(&xq0);
out:
  qk_packed_free(cv_ref);
  qk_packed_free(w1_ref);
  qk_packed_free(cv);
  qk_packed_free(w1);
  guarded_free(&hist0);
  layer_case_free(&lc);
}

static const int main_Cs[] = {1, 2, 3, 4, 5, 8, 12, 16};
static const int wide_Cs[] = {20, 24};
static const int dilations[] = {0, 1, 2, 5, 16};
static const int frame_counts[] = {1, 2, 3, 4, 5, 7, 16, 17, 33, 64, 100};
static const qk_format formats[] = {QK_S8, QK_S4, QK_S2, QK_CB4, QK_CB2};

static bool format_takes_zp(qk_format f) { return !qk_format_is_codebook(f); }

/** Random parameters for C, a conv format and zero-point choice; taps mostly keep taps*C <= 64. */
static case_params random_params(int C, qk_format f, bool zp)
{
  case_params p;
  p.C = C;
  const int fit = 64 / C; /* most taps with taps * C <= 64 */
  p.taps = rng_int(1, fit >= 1 && fit < 4 && !rng_chance(5) ? fit : 4);
  p.dilation = dilations[rng_int(0, COUNT(dilations) - 1)];
  p.N = frame_counts[rng_int(0, COUNT(frame_counts) - 1)];
  p.conv_format = f;
  p.conv_zp = zp;
  p.w1_format = rng_chance(4) ? formats[rng_int(0, COUNT(formats) - 1)] : f;
  p.w1_zp = format_takes_zp(p.w1_format) && (p.w1_format == f ? zp : rng_chance(2));
  p.conv_bias = !rng_chance(3);
  p.bias1x1 = !rng_chance(3);
  p.nan_frames = true;
  p.subnormal = false;
  p.extreme = 0;
  p.B = 0;
  p.act = QK_WN_TANH;
  p.overflow = false;
  p.group = 0;
  p.zp_span = 0;
  return p;
}

/**
   Shapes at the edges of the fused form (taps * C exactly 64, C = 12 with
   an odd tap count) and just past it, up to QK_TAPS_MAX_K.
*/
static const int edge_shapes[][2] = {{4, 16}, {8, 8},    {12, 5},  {16, 4}, {4, 17},
                                     {12, 6}, {16, 5},   {1, 64},  {1, 65}, {3, 22},
                                     {5, 13}, {24, 170}, {16, 256}};

static void test_isa(qk_isa isa, int rounds)
{
  const int before = failures;
  isa_tally t;
  memset(&t, 0, sizeof t);
  for (int r = 0; r < rounds; ++r) {
    for (int ci = 0; ci < COUNT(main_Cs) + COUNT(wide_Cs); ++ci) {
      const int C = ci < COUNT(main_Cs) ? main_Cs[ci] : wide_Cs[ci - COUNT(main_Cs)];
      for (int fi = 0; fi < COUNT(formats); ++fi)
        for (int zp = 0; zp <= (int)format_takes_zp(formats[fi]); ++zp) {
          /* the wide channel counts only every other round: they never fuse */
          if (ci >= COUNT(main_Cs) && (r + fi + zp) % 2)
            continue;
          case_params p = random_params(C, formats[fi], zp);
          /* consecutive frame counts per C: every C meets every N */
          p.N = frame_counts[(r * 8 + fi * 2 + zp) % COUNT(frame_counts)];
          run_case(isa, &p, &t);
        }
    }
  }
  /* subnormal a: the fused forms' paths for a maximum whose inverse overflows
     (3: the small layers' frame form checks for it apart) */
  static const int subnormal_C[] = {3, 8, 16};
  for (int ci = 0; ci < COUNT(subnormal_C); ++ci)
    for (int i = 0; i < 3; ++i) {
      const int C = subnormal_C[ci];
      case_params p = random_params(C, QK_S8, false);
      p.w1_format = QK_S8;
      p.w1_zp = false;
      p.subnormal = true;
      run_case(isa, &p, &t);
    }
  /* the weights' largest magnitude against codes +-127: every format, the fused channel counts */
  for (int fi = 0; fi < COUNT(formats); ++fi)
    for (int C = 4; C <= 16; C += 4)
      for (int e = 1; e <= 12; ++e) {
        /* `past` (4-6, 10-12) is for codebooks only */
        if ((e - 1) / 3 % 2 && !qk_format_is_codebook(formats[fi]))
          continue;
        case_params p = random_params(C, formats[fi], false);
        p.w1_format = formats[fi];
        p.w1_zp = false;
        p.nan_frames = false;
        p.extreme = e;
        run_case(isa, &p, &t);
      }
  for (int s = 0; s < COUNT(edge_shapes); ++s) {
    const qk_format f = formats[rng_int(0, COUNT(formats) - 1)];
    case_params p = random_params(edge_shapes[s][0], f, format_takes_zp(f) && rng_chance(2));
    p.taps = edge_shapes[s][1];
    if (p.taps * p.C > 256) /* keep the huge convs short */
      p.N = rng_int(1, 5), p.dilation = rng_int(0, 2);
    run_case(isa, &p, &t);
  }
  /* qk_wavenet_avx512vnni.c chains 8-channel layers whose 1x1 has no zero
     points, qk_wavenet_avx2.c (AVX2, AVX-VNNI) 8- and 16-channel ones */
  CHECK(!chaining_isa(isa) || t.chained > 0,
        "%s: no case quantized next[] for the next layer (next_q)", qk_isa_name(isa));
  CHECK(isa != QK_ISA_AVX512VNNI || t.paired > 0, "avx512vnni: no case ran on a paired history");
  CHECK(isa != QK_ISA_AVX512VNNI || t.frame_form > 0, "avx512vnni: no case ran the frame form");
  printf("  %-12s %4d cases, %3d fused (%d also on a narrow history, %d of them paired, %d "
         "chained, %d frame by frame), %4d step by step: %s\n",
         qk_isa_name(isa), t.cases, t.fused, t.narrow, t.paired, t.chained, t.frame_form,
         t.cases - t.fused, failures == before ? "bit-exact, split calls identical" : "FAILED");
  printf("  %-12s fused/steps by C:", "");
  for (int C = 1; C <= 24; ++C)
    if (t.fused_by_C[C] + t.steps_by_C[C])
      printf(" %d:%d/%d", C, t.fused_by_C[C], t.steps_by_C[C]);
  printf("\n");
}

/* ------------------------------------------------------------------------
   1a. The small AVX-512 form (qk_wavenet_avx512_small.c: C <= 3, 16 frames
   to a vector and the frame form at 1 and 2 frames) with and without zero
   points, every integer format that takes them, at the block sizes on
   both sides of its switch; and v - zp at its largest magnitude (+-255
   for S8, past a signed byte) against codes +-127
   ------------------------------------------------------------------------ */

static const int small_blocks[] = {1, 2, 3, 16, 17, 64};
static const qk_format zp_formats[] = {QK_S8, QK_S4, QK_S2};

static void test_small_zp_isa(qk_isa isa)
{
  const int before = failures;
  isa_tally t;
  memset(&t, 0, sizeof t);
  for (int C = 1; C <= 3; ++C)
    for (int fi = 0; fi < COUNT(zp_formats); ++fi)
      for (int zp = 0; zp <= 1; ++zp)
        for (int b = 0; b < COUNT(small_blocks); ++b)
          for (int span = 0; span <= (zp ? 2 : 0); ++span) {
            case_params p = random_params(C, zp_formats[fi], zp);
            p.taps = rng_int(2, 64 / C);
            p.N = small_blocks[b];
            p.w1_format = p.conv_format;
            p.w1_zp = zp ? !rng_chance(4) : false;
            p.act = rng_chance(2) ? QK_WN_TANH : QK_WN_LEAKY_RELU;
            if (span) {
              p.extreme = 3; /* codes +-127, alternating by frame */
              p.nan_frames = false;
              p.w1_zp = true;
              p.zp_span = span;
            }
            run_case(isa, &p, &t);
          }
  /* every one of them is the small form's (run_case checks the frame form against qk.h) */
  CHECK(isa != QK_ISA_AVX512VNNI || t.frame_form == t.cases,
        "avx512vnni: %d of %d small layers had the frame form", t.frame_form, t.cases);
  printf("  %-12s %4d cases, %3d fused, %d frame by frame, %4d step by step: %s\n",
         qk_isa_name(isa), t.cases, t.fused, t.frame_form, t.cases - t.fused,
         failures == before ? "bit-exact, split calls identical" : "FAILED");
}

/* ------------------------------------------------------------------------
   1b. A2 layers (NAM's current default WaveNet): a bottleneck B, kernels
   of 6 and 15, dilations up to 2048, LeakyReLU and the other piecewise-
   linear kinds, at the audio block sizes an engine sees
   ------------------------------------------------------------------------ */

/** {C, B, taps}: A2 standard (8, 8, 6/15) and nano (3, 3, 6/15), bottlenecks, fused edges. */
static const int a2_shapes[][3] = {{8, 8, 6},   {8, 8, 15},  {3, 3, 6},    {3, 3, 15},
                                   {8, 4, 6},   {8, 4, 15},  {4, 8, 6},    {3, 5, 15},
                                   {16, 16, 8}, {16, 16, 9}, {12, 12, 10}, {4, 4, 15}};
static const int a2_dilations[] = {1, 3, 7, 13, 17, 41, 101, 239, 2048};
static const int a2_blocks[] = {1, 7, 64, 4096};
/** 8-, 4- and 2-bit weights, symmetric and with zero points */
static const qk_format a2_formats[] = {QK_S8, QK_S4, QK_S2};

static case_params a2_params(int shape, qk_wavenet_act_kind act, int block, int pick)
{
  const int fi = pick % 6;
  case_params p = random_params(a2_shapes[shape][0], a2_formats[fi / 2], fi % 2);
  p.B = a2_shapes[shape][1] == p.C ? 0 : a2_shapes[shape][1];
  p.taps = a2_shapes[shape][2];
  p.act = act;
  p.N = a2_blocks[block];
  /* the longest blocks with the longest dilations, every dilation in turn */
  p.dilation = p.N == 4096 ? a2_dilations[COUNT(a2_dilations) - 1 - pick % 2]
                           : a2_dilations[pick % COUNT(a2_dilations)];
  p.w1_format = p.conv_format;
  p.w1_zp = p.conv_zp;
  return p;
}

static void test_a2_isa(qk_isa isa)
{
  const int before = failures;
  isa_tally t;
  memset(&t, 0, sizeof t);
  int standard = 0, standard_fused = 0, pick = 0;
  for (int sh = 0; sh < COUNT(a2_shapes); ++sh)
    for (int act = 0; act < QK_WN_ACT_COUNT; ++act)
      for (int b = 0; b < COUNT(a2_blocks); ++b) {
        const case_params p = a2_params(sh, (qk_wavenet_act_kind)act, b, pick++);
        const int fused_before = t.fused;
        run_case(isa, &p, &t);
        if (p.C == 8 && p.B == 0 && act == QK_WN_LEAKY_RELU) {
          standard++;
          standard_fused += t.fused - fused_before;
        }
      }
  /* an overflowing LeakyHardtanh: infinite a, frames whose maximum is inf */
  static const int overflow_C[] = {4, 8, 16, 3};
  for (int i = 0; i < COUNT(overflow_C); ++i) {
    case_params p = random_params(overflow_C[i], QK_S8, false);
    p.act = QK_WN_LEAKY_HARDTANH;
    p.overflow = true;
    p.taps = 6;
    p.N = 64;
    p.w1_format = QK_S8;
    p.w1_zp = false;
    run_case(isa, &p, &t);
  }
  /* the A2 standard layer must run fused where qk.h says it does */
  CHECK((isa != QK_ISA_AVX512VNNI && isa != QK_ISA_AVX2) || standard_fused == standard,
        "%s: %d of %d A2 standard layers (C=8, kernel 6 and 15, LeakyReLU) ran fused",
        qk_isa_name(isa), standard_fused, standard);
  CHECK(!chaining_isa(isa) || t.chained > 0,
        "%s: no A2 case quantized next[] for the next layer (next_q)", qk_isa_name(isa));
  CHECK(isa != QK_ISA_AVX512VNNI || t.frame_form > 0,
        "avx512vnni: no A2 case ran the frame form");
  printf("  %-12s %4d cases, %3d fused, %d chained, %d frame by frame, %4d step by step (A2 "
         "standard fused: %d/%d): %s\n",
         qk_isa_name(isa), t.cases, t.fused, t.chained, t.frame_form, t.cases - t.fused,
         standard_fused, standard, failures == before ? "bit-exact, split calls identical" : "FAILED");
}

/* ------------------------------------------------------------------------
   1c. Per-group conv scales (qk.h: groups of G a multiple of C, tap t in
   group t*C / G): every ISA against the scalar steps, the fused forms
   required where the shape is theirs
   ------------------------------------------------------------------------ */

/** {C, G}: the fused channel counts at every group size, and small C at a G they divide. */
static const int grouped_shapes[][2] = {{4, 16},  {4, 32},  {4, 64},  {8, 16}, {8, 32}, {8, 64},
                                        {16, 16}, {16, 32}, {16, 64}, {1, 16}, {2, 32}, {3, 48}};
static const int grouped_blocks[] = {1, 2, 3, 4, 5, 16, 17, 64};

/**
   A layer whose conv row spans at least two groups of G (taps > G / C),
   within both fused forms' tap limits (taps * C <= 128 and taps *
   ceil(C/2) * ceil(C/8) <= 128), so that qk.h has it fused on AVX-512
   VNNI, AVX2 and AVX-VNNI.
*/
static case_params grouped_params(int C, int G, qk_format f, bool zp, int block)
{
  case_params p = random_params(C, f, zp);
  const int lo = G / C + 1, by_k = 128 / C, by_pairs = 128 / (((C + 1) / 2) * ((C + 7) / 8));
  const int hi = by_k < by_pairs ? by_k : by_pairs;
  p.group = G;
  p.taps = rng_int(lo, hi);
  p.N = block;
  p.act = rng_chance(2) ? QK_WN_TANH : QK_WN_LEAKY_RELU;
  p.dilation = rng_int(0, 3);
  /* the 1x1 (K = C <= G) has one group per row whatever the size */
  p.w1_format = f;
  p.w1_zp = zp;
  return p;
}

static void test_grouped_isa(qk_isa isa)
{
  const int before = failures;
  isa_tally t;
  memset(&t, 0, sizeof t);
  int pick = 0;
  for (int sh = 0; sh < COUNT(grouped_shapes); ++sh)
    for (int fi = 0; fi < COUNT(formats); ++fi)
      for (int zp = 0; zp <= (int)format_takes_zp(formats[fi]); ++zp) {
        const int C = grouped_shapes[sh][0], G = grouped_shapes[sh][1];
        const int block = grouped_blocks[pick++ % COUNT(grouped_blocks)];
        const case_params p = grouped_params(C, G, formats[fi], zp, block);
        run_case(isa, &p, &t);
      }
  /* every fused form must have taken them (run_case checks each against qk.h) */
  CHECK(!chaining_isa(isa) || t.fused == t.cases, "%s: %d of %d grouped layers ran fused",
        qk_isa_name(isa), t.fused, t.cases);
  printf("  %-12s %4d cases, %3d fused, %d chained, %4d step by step: %s\n", qk_isa_name(isa),
         t.cases, t.fused, t.chained, t.cases - t.fused,
         failures == before ? "bit-exact, split calls identical" : "FAILED");
}

/* ------------------------------------------------------------------------
   1d. Taps of pieces (qk.h: a conv scale group G not a multiple of C
   splits a tap at the group boundary): every ISA against the scalar steps
   ------------------------------------------------------------------------ */

/** 1, 2 and 8 divide every group qk_pack takes (multiples of 16): listed, never split. */
static const int straddle_Cs[] = {1, 2, 3, 5, 6, 7, 8, 12};
static const int straddle_taps[] = {3, 6, 7, 11, 15}; /* 6 and 11: the newest tap split at C = 3 */
static const int straddle_Gs[] = {16, 32, 64};
static const int straddle_blocks[] = {1, 2, 3, 16, 17, 64};

/**
   Every C, taps and G of the lists where some tap straddles two groups
   (G % C != 0 and taps * C > G), S8, S4 and S2 symmetric and asymmetric
   (plus the codebooks), the blocks in turn; the fused forms must take
   each layer their shape allows (run_case checks documented_fused), and
   the result is the scalar steps' bit for bit.
*/
static void test_straddle_isa(qk_isa isa)
{
  const int before = failures;
  isa_tally t;
  memset(&t, 0, sizeof t);
  int pick = 0, split = 0;
  for (int ci = 0; ci < COUNT(straddle_Cs); ++ci)
    for (int ti = 0; ti < COUNT(straddle_taps); ++ti)
      for (int gi = 0; gi < COUNT(straddle_Gs); ++gi)
        for (int fi = 0; fi < COUNT(formats); ++fi)
          for (int zp = 0; zp <= (int)format_takes_zp(formats[fi]); ++zp) {
            const int C = straddle_Cs[ci], G = straddle_Gs[gi];
            case_params p = random_params(C, formats[fi], zp);
            p.taps = straddle_taps[ti];
            p.group = G;
            if (!straddles(&p))
              continue;
            p.N = straddle_blocks[pick++ % COUNT(straddle_blocks)];
            p.act = rng_chance(2) ? QK_WN_TANH : QK_WN_LEAKY_RELU;
            p.dilation = rng_int(0, 3);
            p.w1_format = formats[fi];
            p.w1_zp = zp;
            run_case(isa, &p, &t);
            split++;
          }
  CHECK(split > 0 && (!chaining_isa(isa) || t.fused > 0),
        "%s: %d straddling layers, %d fused", qk_isa_name(isa), split, t.fused);
  printf("  %-12s %4d cases, %3d fused, %d frame by frame, %4d step by step: %s\n",
         qk_isa_name(isa), t.cases, t.fused, t.frame_form, t.cases - t.fused,
         failures == before ? "bit-exact, split calls identical" : "FAILED");
}

/* ------------------------------------------------------------------------
   2. The reference against the definitions of qk.h in double
   ------------------------------------------------------------------------ */

/** qk.h's dynamic quantizer for one frame, written out in float. */
static void formula_quantize(const float *x, int C, int8_t *q, float *scale, int32_t *sum)
{
  float amax = 0.0f;
  for (int c = 0; c < C; ++c)
    amax = fmaxf(amax, fabsf(x[c]));
  float s = 0.0f, inv = 0.0f;
  if (amax > 0.0f && isfinite(amax)) {
    s = amax / 127.0f;
    inv = 127.0f / amax;
  }
  *sum = 0;
  for (int c = 0; c < C; ++c) {
    float v = rintf(x[c] * inv);
    v = isnan(v) ? 0.0f : fminf(fmaxf(v, -127.0f), 127.0f);
    q[c] = (int8_t)v;
    *sum += q[c];
  }
  *scale = s;
}

/** The codes of one frame's a in double, and how many codes each may be off by. */
typedef struct {
  double scale;
  int code[32];
  double slack[32]; /* codes a float computation may legitimately differ by */
} double_quant;

/**
   qk.h's dynamic formula on a (double), where err[c] bounds how far the
   kernel's float a[c] may be from it: a code whose exact value is within
   that distance (in code units) of a rounding boundary may round the other
   way in float, so it gets a slack of a code step.
*/
static double_quant quantize_double(const double *a, const double *err, int C)
{
  double_quant dq;
  double amax = 0.0, amax_err = 0.0;
  for (int c = 0; c < C; ++c)
    if (fabs(a[c]) > amax)
      amax = fabs(a[c]), amax_err = err[c];
  dq.scale = amax / 127.0;
  for (int c = 0; c < C; ++c) {
    dq.code[c] = 0;
    dq.slack[c] = 0.0;
    if (amax == 0.0)
      continue;
    const double t = a[c] * (127.0 / amax);
    dq.code[c] = (int)nearbyint(t);
    const double delta = 127.0 * (err[c] + amax_err) / amax + 1e-4;
    const double to_boundary = fabs(fabs(t - floor(t)) - 0.5);
    if (to_boundary < delta)
      dq.slack[c] = 1.0 + floor(2.0 * delta);
  }
  return dq;
}

/** Quantizes every frame -back .. N-1 by the formula; checks the history the layer wrote. */
static void formula_history(const layer_case *lc, const run_state *r, int8_t *q, float *s)
{
  const int C = lc->p.C, frames = lc->back + lc->p.N;
  const float *h = (const float *)lc->hist.p;
  const qk_act_s8 *xq = &r->xq.view;
  for (int f = 0; f < frames; ++f) {
    int32_t sum;
    formula_quantize(h + (size_t)f * (size_t)C, C, q + (size_t)f * (size_t)C, &s[f], &sum);
    const int n = f - lc->back; /* column in the history view */
    const int8_t *got = xq->codes + (ptrdiff_t)n * xq->ld;
    CHECK(!memcmp(got, q + (size_t)f * (size_t)C, (size_t)C) &&
              !memcmp(&xq->scales[n], &s[f], sizeof(float)) && xq->sums[n] == sum,
          "int8 history frame %d (%s) differs from qk.h's dynamic formula: scale %a vs %a, "
          "sum %d vs %d [%s]",
          n, n < 0 ? "lookback, qk_quantize_act_dynamic_isa" : "written by the layer",
          xq->scales[n], s[f], xq->sums[n], sum, lc->desc);
  }
}

typedef struct {
  int values, slack_codes;
  double worst; /* largest |diff| / (1 + |value|) where no code had slack */
} semantics_tally;

/** The first value outside its tolerance, and how many were. */
typedef struct {
  int bad, n, m;
  double got, want, tol;
} mismatch;

static void compare_value(mismatch *mm, semantics_tally *st, int n, int m, double got, double want,
                          double tol, bool exact_codes)
{
  const double rel = fabs(got - want) / (1.0 + fabs(want));
  if (exact_codes)
    st->worst = fmax(st->worst, rel);
  st->values++;
  if (fabs(got - want) <= tol)
    return;
  if (!mm->bad++) {
    mm->n = n;
    mm->m = m;
    mm->got = got;
    mm->want = want;
    mm->tol = tol;
  }
}

/**
   z of frame n in double from the formula-quantized history (q, s: rows
   0 .. back+N-1 = frames -back .. N-1): bias, the dilated taps and the
   mixin. mag[m] is the sum of the terms' magnitudes (float error scale).
*/
static void conv_frame_double(const layer_case *lc, const int8_t *q, const float *s, int n,
                              double *z, double *mag)
{
  const int C = lc->p.C, taps = lc->p.taps;
  for (int m = 0; m < lc->B; ++m) {
    z[m] = lc->conv_bias ? lc->conv_bias[m] : 0.0;
    mag[m] = fabs(z[m]);
    for (int t = 0; t < taps; ++t) {
      const int f = n + lc->back - lc->p.dilation * (taps - 1 - t);
      for (int c = 0; c < C; ++c) {
        const double term = matrix_weight(&lc->conv, m, t * C + c) *
                            (double)q[(size_t)f * (size_t)C + (size_t)c] * (double)s[f];
        z[m] += term;
        mag[m] += fabs(term);
      }
    }
    const double mix = (double)lc->mixin[m] * (double)lc->cond[n];
    z[m] += mix;
    mag[m] += fabs(mix);
  }
}

/** next of frame n in double: x + w1x1 * dequantized a + bias1x1, and its slack. */
static void mix_frame_double(const layer_case *lc, const double_quant *dq, int n, double *next,
                             double *slack)
{
  const int C = lc->p.C;
  for (int m = 0; m < C; ++m) {
    next[m] =
        (double)lc->x[(size_t)n * (size_t)C + (size_t)m] + (lc->bias1x1 ? lc->bias1x1[m] : 0.0);
    slack[m] = 0.0;
    for (int c = 0; c < lc->B; ++c) {
      const double w = matrix_weight(&lc->w1, m, c);
      next[m] += w * dq->code[c] * dq->scale;
      slack[m] += fabs(w) * dq->slack[c] * dq->scale;
    }
  }
}

/**
   qk.h's nonlinearity of z in double (tanh exactly, the others by their
   formulas); *lip gets how much a float error in z can move it (the
   largest slope; the kinds are continuous where the bounds are not
   crossed, as semantics_case keeps them).
*/
static double act_double(const qk_wavenet_act *act, double z, int m, double *lip)
{
  *lip = 1.0;
  switch (act->kind) {
  case QK_WN_TANH: return tanh(z);
  case QK_WN_RELU: return z > 0.0 ? z : 0.0;
  case QK_WN_LEAKY_RELU: *lip = fmax(1.0, fabs(act->slope)); return z > 0.0 ? z : act->slope * z;
  case QK_WN_PRELU: *lip = fmax(1.0, fabs(act->slopes[m])); return z > 0.0 ? z : act->slopes[m] * z;
  case QK_WN_HARDTANH: return fmin(fmax(z, -1.0), 1.0);
  case QK_WN_LEAKY_HARDTANH:
    *lip = fmax(1.0, fmax(fabs(act->min_slope), fabs(act->max_slope)));
    if (z < act->min_val)
      return (z - act->min_val) * act->min_slope + act->min_val;
    if (z > act->max_val)
      return (z - act->max_val) * act->max_slope + act->max_val;
    return z;
  default: return z;
  }
}

static void semantics_case(const case_params *p, semantics_tally *st)
{
  layer_case lc;
  layer_case_init(&lc, p);
  /* crossed LeakyHardtanh bounds jump at min_val: float and double z may
     land on either side (the bit-exact tests keep them) */
  if (lc.act.max_val < lc.act.min_val)
    lc.act.max_val = -lc.act.max_val;
  qk_packed *cv = pack_or_fail(&lc.conv, QK_ISA_SCALAR), *w1 = pack_or_fail(&lc.w1, QK_ISA_SCALAR);
  if (!cv || !w1)
    goto out;
  const qk_wavenet_layer L = layer_of(&lc, cv, w1);
  int8_history xq0;
  int8_history_init(&xq0, &lc, QK_ISA_SCALAR);
  run_state r;
  run_state_init(&r, &lc, &xq0);
  run_frames(qk_wavenet_layer_s8_steps, &L, &lc, &r, 0, p->N);

  const int C = p->C, B = lc.B, frames = lc.back + p->N;
  int8_t *q = malloc((size_t)frames * (size_t)C);
  float *s = malloc((size_t)frames * sizeof(float));
  formula_history(&lc, &r, q, s);

  const float *head = (const float *)r.head.p, *next = (const float *)r.next.p;
  mismatch bad_head = {0, 0, 0, 0, 0, 0}, bad_next = {0, 0, 0, 0, 0, 0};
  for (int n = 0; n < p->N; ++n) {
    double z[32], mag[32], a[32], err[32], want[32], slack[32];
    conv_frame_double(&lc, q, s, n, z, mag);
    for (int m = 0; m < B; ++m) {
      const size_t i = (size_t)n * (size_t)B + (size_t)m;
      double lip;
      a[m] = act_double(&lc.act, z[m], m, &lip);
      /* qk_tanh_int8's bound (qk.h: 5.3e-5 relative) or the piecewise
         kinds' own rounding, and the float rounding of z times the slope */
      err[m] = (p->act == QK_WN_TANH ? 6e-5 : 1e-6) * fabs(a[m]) + 1e-6 * lip * mag[m];
      const double h = (double)lc.head0[i] + a[m];
      /* + the float rounding of z: terms of an outlier frame can cancel */
      compare_value(&bad_head, st, n, m, head[i], h, 1e-4 * (1.0 + fabs(h)) + 1e-6 * lip * mag[m],
                    true);
    }
    const double_quant dq = quantize_double(a, err, B);
    mix_frame_double(&lc, &dq, n, want, slack);
    for (int m = 0; m < C; ++m) {
      const size_t i = (size_t)n * (size_t)C + (size_t)m;
      compare_value(&bad_next, st, n, m, next[i], want[m], 1e-4 * (1.0 + fabs(want[m])) + slack[m],
                    slack[m] == 0.0);
    }
    for (int c = 0; c < B; ++c)
      st->slack_codes += dq.slack[c] > 0.0;
  }
  CHECK(!bad_head.bad,
        "scalar steps head != qk.h in double at %d values, first frame %d channel %d: %.9g vs "
        "%.9g (tol %.3g) [%s]",
        bad_head.bad, bad_head.n, bad_head.m, bad_head.got, bad_head.want, bad_head.tol, lc.desc);
  CHECK(!bad_next.bad,
        "scalar steps next != qk.h in double at %d values, first frame %d channel %d: %.9g vs "
        "%.9g (tol %.3g) [%s]",
        bad_next.bad, bad_next.n, bad_next.m, bad_next.got, bad_next.want, bad_next.tol, lc.desc);
  free(q);
  free(s);
  run_state_free(&r);
  int8_history_free(&xq0);
out:
  qk_packed_free(cv);
  qk_packed_free(w1);
  layer_case_free(&lc);
}

static void test_semantics(void)
{
  const int before = failures;
  semantics_tally st = {0, 0, 0.0};
  int cases = 0;
  for (int i = 0; i < 96; ++i) {
    const int C = i < 80 ? main_Cs[i % COUNT(main_Cs)] : wide_Cs[i % 2];
    const qk_format f = formats[(i / COUNT(main_Cs)) % COUNT(formats)];
    case_params p = random_params(C, f, format_takes_zp(f) && i % 2);
    p.nan_frames = false; /* a NaN has no tolerance to compare within */
    semantics_case(&p, &st);
    ++cases;
  }
  /* per-group conv scales: each tap weighted by its own group's scale and zero point */
  for (int i = 0; i < 2 * COUNT(grouped_shapes); ++i) {
    const qk_format f = formats[i % COUNT(formats)];
    case_params p = grouped_params(grouped_shapes[i / 2][0], grouped_shapes[i / 2][1], f,
                                   format_takes_zp(f) && i % 2, 16);
    p.nan_frames = false;
    semantics_case(&p, &st);
    ++cases;
  }
  /* taps of two pieces: each piece weighted by its own group's scale and zero point */
  static const int pieces[][3] = {{3, 11, 32}, {3, 15, 16}, {5, 7, 16}, {6, 11, 64}, {12, 7, 16}};
  for (int i = 0; i < 2 * COUNT(pieces); ++i) {
    const qk_format f = formats[i % COUNT(formats)];
    case_params p = random_params(pieces[i / 2][0], f, format_takes_zp(f) && i % 2);
    p.taps = pieces[i / 2][1];
    p.group = pieces[i / 2][2];
    p.N = 16;
    p.nan_frames = false;
    semantics_case(&p, &st);
    ++cases;
  }
  printf("  scalar       %d cases, %d values, worst |diff|/(1+|v|) %.2e, %d codes of a at a "
         "rounding boundary: %s\n",
         cases, st.values, st.worst, st.slack_codes, failures == before ? "agrees" : "FAILED");
}

/** The A2 shapes and every nonlinearity against qk.h in double. */
static void test_semantics_a2(void)
{
  const int before = failures;
  semantics_tally st = {0, 0, 0.0};
  int cases = 0;
  for (int sh = 0; sh < COUNT(a2_shapes); ++sh)
    for (int act = 0; act < QK_WN_ACT_COUNT; ++act) {
      case_params p = a2_params(sh, (qk_wavenet_act_kind)act, 2, cases);
      p.nan_frames = false;
      p.dilation = p.dilation > 17 ? 17 : p.dilation;
      semantics_case(&p, &st);
      ++cases;
    }
  printf("  scalar A2    %d cases, %d values, worst |diff|/(1+|v|) %.2e, %d codes of a at a "
         "rounding boundary: %s\n",
         cases, st.values, st.worst, st.slack_codes, failures == before ? "agrees" : "FAILED");
}

/* ------------------------------------------------------------------------
   4. qk_wavenet_layer_s8_valid refuses what the layer cannot run
   ------------------------------------------------------------------------ */

/** conv C x taps*C and w1x1 C x C of S8, packed with given groups on given ISAs. */
typedef struct {
  matrix conv, w1;
  float mixin[48];
  qk_packed *cv, *w;
} valid_fixture;

static void valid_fixture_init(valid_fixture *v, int C, int taps, int conv_group, qk_isa cv_isa,
                               qk_isa w1_isa)
{
  matrix_random(&v->conv, QK_S8, C, taps * C, conv_group, false);
  matrix_random(&v->w1, QK_S4, C, C, 0, true);
  for (int i = 0; i < 48; ++i)
    v->mixin[i] = 0.5f;
  v->cv = pack_or_fail(&v->conv, cv_isa);
  v->w = pack_or_fail(&v->w1, w1_isa);
}

static void valid_fixture_free(valid_fixture *v)
{
  qk_packed_free(v->cv);
  qk_packed_free(v->w);
  matrix_free(&v->conv);
  matrix_free(&v->w1);
}

static qk_wavenet_layer valid_layer(const valid_fixture *v, int C, int taps)
{
  qk_wavenet_layer L = {.C = C,
                        .taps = taps,
                        .dilation = 2,
                        .conv = v->cv,
                        .conv_bias = NULL,
                        .mixin = v->mixin,
                        .w1x1 = v->w,
                        .bias1x1 = NULL};
  return L;
}

/** F32 weights of the right shape. */
static qk_packed *pack_f32(int rows, int cols, float *buf)
{
  for (int i = 0; i < rows * cols; ++i)
    buf[i] = 0.01f * (float)(i % 7);
  qk_weights w = {.format = QK_F32, .rows = rows, .cols = cols, .f32 = buf};
  const char *err = NULL;
  qk_packed *p = qk_pack(&w, QK_ISA_SCALAR, &err);
  CHECK(p, "qk_pack f32 %dx%d: %s", rows, cols, err ? err : "?");
  return p;
}

static void test_valid(void)
{
  const int before = failures;
  valid_fixture v;
  /* baseline: C = 16, taps = 3, whole-row groups (0, and 48 == the row) */
  valid_fixture_init(&v, 16, 3, 0, QK_ISA_SCALAR, QK_ISA_SCALAR);
  qk_wavenet_layer L = valid_layer(&v, 16, 3);
  CHECK(qk_wavenet_layer_s8_valid(&L), "valid: C=16 taps=3 s8 conv, s4 1x1 refused");
  qk_wavenet_layer bad = L;
  bad.taps = 2;
  CHECK(!qk_wavenet_layer_s8_valid(&bad), "valid: taps=2 accepted for a 16x48 conv");
  bad = L;
  bad.C = 8;
  CHECK(!qk_wavenet_layer_s8_valid(&bad), "valid: C=8 accepted for a 16x48 conv and 16x16 1x1");
  bad = L;
  bad.C = 0;
  CHECK(!qk_wavenet_layer_s8_valid(&bad), "valid: C=0 accepted");
  bad = L;
  bad.taps = 0;
  CHECK(!qk_wavenet_layer_s8_valid(&bad), "valid: taps=0 accepted");
  bad = L;
  bad.dilation = -1;
  CHECK(!qk_wavenet_layer_s8_valid(&bad), "valid: dilation=-1 accepted");
  bad = L;
  bad.mixin = NULL;
  CHECK(!qk_wavenet_layer_s8_valid(&bad), "valid: NULL mixin accepted");
  bad = L;
  bad.conv = NULL;
  CHECK(!qk_wavenet_layer_s8_valid(&bad), "valid: NULL conv accepted");
  bad = L;
  bad.w1x1 = NULL;
  CHECK(!qk_wavenet_layer_s8_valid(&bad), "valid: NULL w1x1 accepted");
  bad = L;
  bad.w1x1 = v.cv; /* 16 x 48 as the 1x1 */
  CHECK(!qk_wavenet_layer_s8_valid(&bad), "valid: a 16x48 w1x1 accepted for C=16");
  bad = L;
  bad.conv = v.w; /* 16 x 16 as the conv */
  CHECK(!qk_wavenet_layer_s8_valid(&bad), "valid: a 16x16 conv accepted for taps=3");

  /* F32 conv or 1x1 */
  float buf[48 * 48];
  qk_packed *f32cv = pack_f32(16, 48, buf);
  bad = L;
  bad.conv = f32cv;
  CHECK(!f32cv || !qk_wavenet_layer_s8_valid(&bad), "valid: an F32 conv accepted");
  qk_packed_free(f32cv);
  qk_packed *f32w1 = pack_f32(16, 16, buf);
  bad = L;
  bad.w1x1 = f32w1;
  CHECK(!f32w1 || !qk_wavenet_layer_s8_valid(&bad), "valid: an F32 w1x1 accepted");
  qk_packed_free(f32w1);
  valid_fixture_free(&v);

  /* an explicit group equal to the row is one group per row: accepted */
  valid_fixture_init(&v, 16, 3, 48, QK_ISA_SCALAR, QK_ISA_SCALAR);
  L = valid_layer(&v, 16, 3);
  CHECK(qk_wavenet_layer_s8_valid(&L), "valid: conv group 48 == taps*C = 48 refused");
  valid_fixture_free(&v);
  /* group 16 splits a 48-wide conv row into three scale groups of one
     tap each, 32 into one of two taps and one of one: whole taps, accepted */
  for (int G = 16; G <= 32; G += 16) {
    valid_fixture_init(&v, 16, 3, G, QK_ISA_SCALAR, QK_ISA_SCALAR);
    L = valid_layer(&v, 16, 3);
    CHECK(qk_wavenet_layer_s8_valid(&L), "valid: conv group %d with C = 16 refused", G);
    valid_fixture_free(&v);
  }
  /* groups that split a tap (G not a multiple of C): taps of pieces,
     valid on every ISA (qk.h) */
  {
    static const int split[][3] = {{12, 4, 16}, {12, 4, 32}, {24, 2, 16}, {3, 11, 16}, {5, 7, 16}};
    for (int i = 0; i < COUNT(split); ++i)
      for (int isa = 0; isa < QK_ISA_COUNT; ++isa) {
        if (!qk_isa_supported((qk_isa)isa))
          continue;
        const int C = split[i][0], taps = split[i][1], G = split[i][2];
        valid_fixture_init(&v, C, taps, G, (qk_isa)isa, (qk_isa)isa);
        L = valid_layer(&v, C, taps);
        CHECK(qk_wavenet_layer_s8_valid(&L), "valid: conv group %d with C = %d (taps %d) refused on %s",
              G, C, taps, qk_isa_name((qk_isa)isa));
        valid_fixture_free(&v);
      }
  }
  /* a 1x1 of C = 32 with group 16 splits its row too */
  {
    matrix w1;
    matrix_random(&w1, QK_S8, 32, 32, 16, false);
    valid_fixture_init(&v, 32, 1, 0, QK_ISA_SCALAR, QK_ISA_SCALAR);
    qk_packed *split = pack_or_fail(&w1, QK_ISA_SCALAR);
    L = valid_layer(&v, 32, 1);
    CHECK(qk_wavenet_layer_s8_valid(&L), "valid: C=32 taps=1 refused");
    L.w1x1 = split;
    CHECK(!split || !qk_wavenet_layer_s8_valid(&L), "valid: w1x1 group 16 with C = 32 accepted");
    qk_packed_free(split);
    matrix_free(&w1);
    valid_fixture_free(&v);
  }

  /* tap slices: right ones accepted; wrong shape or zero points refused */
  {
    valid_fixture_init(&v, 8, 3, 0, QK_ISA_SCALAR, QK_ISA_SCALAR);
    qk_packed **good = pack_taps_or_fail(&v.conv, 8, 3, QK_ISA_SCALAR);
    L = valid_layer(&v, 8, 3);
    L.conv_taps = (const qk_packed *const *)good;
    CHECK(qk_wavenet_layer_s8_valid(&L), "valid: correct tap slices refused");
    const qk_packed *wrong[3] = {good[0], v.cv, good[2]}; /* a whole conv as a slice */
    L.conv_taps = wrong;
    CHECK(!qk_wavenet_layer_s8_valid(&L), "valid: a %dx%d matrix accepted as a tap slice",
          qk_packed_rows(v.cv), qk_packed_cols(v.cv));
    matrix asym;
    matrix_random(&asym, QK_S8, 8, 24, 0, true);
    qk_packed **zp = pack_taps_or_fail(&asym, 8, 3, QK_ISA_SCALAR);
    L.conv_taps = (const qk_packed *const *)zp;
    CHECK(!qk_wavenet_layer_s8_valid(&L), "valid: slices with zero points, conv without, accepted");
    taps_free(zp, 3);
    taps_free(good, 3);
    matrix_free(&asym);
    valid_fixture_free(&v);
  }

  /* a bottleneck: conv B x taps*C, w1x1 C x B; and the nonlinearity */
  {
    matrix conv, w1, conv_wrong;
    matrix_random(&conv, QK_S8, 4, 6 * 8, 0, false);
    matrix_random(&w1, QK_S4, 8, 4, 0, true);
    matrix_random(&conv_wrong, QK_S8, 8, 6 * 8, 0, false);
    qk_packed *cv = pack_or_fail(&conv, QK_ISA_SCALAR), *w = pack_or_fail(&w1, QK_ISA_SCALAR);
    qk_packed *cvw = pack_or_fail(&conv_wrong, QK_ISA_SCALAR);
    qk_packed **taps = pack_taps_or_fail(&conv, 8, 6, QK_ISA_SCALAR);
    float mixin[8] = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
    qk_wavenet_layer B4 = {.C = 8,
                           .taps = 6,
                           .dilation = 3,
                           .conv = cv,
                           .mixin = mixin,
                           .w1x1 = w,
                           .bottleneck = 4,
                           .act = {.kind = QK_WN_LEAKY_RELU, .slope = 0.01f}};
    CHECK(qk_wavenet_layer_s8_valid(&B4), "valid: C=8 B=4 taps=6 LeakyReLU refused");
    bad = B4;
    bad.conv_taps = (const qk_packed *const *)taps;
    CHECK(qk_wavenet_layer_s8_valid(&bad), "valid: C=8 B=4 with 4x8 tap slices refused");
    bad = B4;
    bad.bottleneck = 0;
    CHECK(!qk_wavenet_layer_s8_valid(&bad), "valid: a 4-row conv accepted without bottleneck");
    bad = B4;
    bad.conv = cvw;
    CHECK(!qk_wavenet_layer_s8_valid(&bad), "valid: an 8-row conv accepted for B=4");
    bad = B4;
    bad.bottleneck = -1;
    CHECK(!qk_wavenet_layer_s8_valid(&bad), "valid: bottleneck -1 accepted");
    bad = B4;
    bad.act.kind = QK_WN_ACT_COUNT;
    CHECK(!qk_wavenet_layer_s8_valid(&bad), "valid: nonlinearity %d accepted", QK_WN_ACT_COUNT);
    bad = B4;
    bad.act.kind = QK_WN_PRELU;
    CHECK(!qk_wavenet_layer_s8_valid(&bad), "valid: PReLU without slopes accepted");
    bad.act.slopes = mixin;
    CHECK(qk_wavenet_layer_s8_valid(&bad), "valid: PReLU with slopes refused");
    taps_free(taps, 6);
    qk_packed_free(cv);
    qk_packed_free(w);
    qk_packed_free(cvw);
    matrix_free(&conv);
    matrix_free(&w1);
    matrix_free(&conv_wrong);
  }

  /* weights packed for two different ISAs */
  int pairs = 0;
  for (int i = 0; i < QK_ISA_COUNT; ++i)
    for (int j = 0; j < QK_ISA_COUNT; ++j) {
      if (i == j || !qk_isa_supported((qk_isa)i) || !qk_isa_supported((qk_isa)j))
        continue;
      valid_fixture_init(&v, 8, 2, 0, (qk_isa)i, (qk_isa)j);
      L = valid_layer(&v, 8, 2);
      CHECK(!qk_wavenet_layer_s8_valid(&L), "valid: conv for %s with w1x1 for %s accepted",
            qk_isa_name((qk_isa)i), qk_isa_name((qk_isa)j));
      CHECK(!qk_wavenet_layer_s8_fused(&L), "fused: conv for %s with w1x1 for %s reports fused",
            qk_isa_name((qk_isa)i), qk_isa_name((qk_isa)j));
      valid_fixture_free(&v);
      ++pairs;
    }
  printf("  F32, split groups, shapes, bottlenecks, NULLs, bad tap slices, nonlinearities, %d "
         "mixed-ISA pairs refused: %s\n",
         pairs, failures == before ? "ok" : "FAILED");
}

/* ------------------------------------------------------------------------
   4. The history helpers the engine fills, reads and clears a layer's
   int8 history with (qk.h: qk_wavenet_history_*), in every layout
   ------------------------------------------------------------------------ */
static void test_history_helpers(void)
{
  enum { FRAMES = 37 };
  /* {C, ld, paired}: generic, narrow and paired columns */
  static const int layouts[][3] = {{8, 64, 0}, {8, 8, 0}, {8, 16, 1}, {3, 4, 0}, {16, 16, 0}};
  int before = failures;
  for (int li = 0; li < COUNT(layouts); ++li) {
    const int C = layouts[li][0], ld = layouts[li][1];
    float x[FRAMES * 16];
    for (int i = 0; i < FRAMES * C; ++i) /* a silent frame and a huge one among them */
      x[i] = i / C == 5 ? 0.0f : i / C == 9 ? 3e38f : rng_float(-2.0f, 2.0f);
    /* one column before 0, which the helpers must leave alone */
    int8_history h = {.back = 1, .N = FRAMES, .ld = ld, .paired = layouts[li][2] != 0};
    h.codes = guarded_new((size_t)(FRAMES + 1) * (size_t)ld);
    h.scales = guarded_new((size_t)(FRAMES + 1) * sizeof(float));
    h.sums = guarded_new((size_t)(FRAMES + 1) * sizeof(int32_t));
    fill_random_bytes(h.codes.p, h.codes.bytes);
    int8_history_bind(&h);
    const guarded codes0 = guarded_clone(&h.codes);
    qk_act_s8 ref = {.ld = qk_act_ld(C), .per_column = true, .group = 0};
    ref.codes = malloc((size_t)FRAMES * (size_t)ref.ld);
    ref.scales = malloc(FRAMES * sizeof(float));
    ref.sums = malloc(FRAMES * sizeof(int32_t));
    qk_quantize_act_dynamic_isa(QK_ISA_SCALAR, x, C, C, FRAMES, &ref);
    qk_wavenet_history_quantize(x, C, FRAMES, &h.view);
    for (int n = 0; n < FRAMES; ++n) {
      int8_t got[16];
      qk_wavenet_history_codes(&h.view, C, n, got);
      int c = 0;
      while (c < C && got[c] == ref.codes[(size_t)n * (size_t)ref.ld + (size_t)c] &&
             history_code(&h.view, n, c) == got[c])
        ++c;
      CHECK(c == C && !memcmp(&h.view.scales[n], &ref.scales[n], sizeof(float)) &&
                h.view.sums[n] == ref.sums[n],
            "history C=%d ld=%d paired=%d: frame %d differs from the scalar quantizer's", C, ld,
            h.paired, n);
      if (c != C)
        break;
    }
    CHECK(guards_intact(&h.codes) && !memcmp(h.codes.p, codes0.p, (size_t)ld),
          "history C=%d ld=%d paired=%d: quantize wrote outside columns 0..%d", C, ld, h.paired,
          FRAMES - 1);
    if (h.paired)
      CHECK(paired_complete(&h.view, 0, FRAMES) == FRAMES,
            "history: paired columns incomplete after quantize");
    /* set_codes: frame 3's codes into column 20, completing column 19 */
    int8_t three[16];
    qk_wavenet_history_codes(&h.view, C, 3, three);
    qk_wavenet_history_set_codes(&h.view, C, 20, true, three);
    int8_t back[16];
    qk_wavenet_history_codes(&h.view, C, 20, back);
    CHECK(!memcmp(back, three, (size_t)C), "history C=%d ld=%d: set_codes did not read back", C,
          ld);
    if (h.paired)
      CHECK(paired_complete(&h.view, 19, 21) == 21 && paired_complete(&h.view, 20, 21) == 21,
            "history: set_codes left columns 19, 20 incomplete");
    qk_wavenet_history_clear(&h.view, FRAMES);
    for (int n = 0; n < FRAMES; ++n) {
      int8_t got[16];
      qk_wavenet_history_codes(&h.view, C, n, got);
      bool zero = h.view.scales[n] == 0.0f && h.view.sums[n] == 0;
      for (int c = 0; c < C; ++c)
        zero = zero && got[c] == 0;
      CHECK(zero, "history C=%d ld=%d paired=%d: column %d not cleared", C, ld, h.paired, n);
      if (!zero)
        break;
    }
    guarded_free((guarded *)&codes0);
    int8_history_free(&h);
    free(ref.codes);
    free(ref.scales);
    free(ref.sums);
  }
  printf("  %d layouts: %s\n", COUNT(layouts), failures == before ? "ok" : "FAILED");
}

int main(int argc, char **argv)
{
  int rounds = 20;
  bool required[QK_ISA_COUNT] = {false};
  for (int i = 1; i < argc; ++i) {
    qk_isa isa;
    if (!strcmp(argv[i], "--seed") && i + 1 < argc)
      rng_state = seed_state(strtoull(argv[++i], NULL, 0));
    else if (!strcmp(argv[i], "--rounds") && i + 1 < argc && atoi(argv[i + 1]) >= 0)
      rounds = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--verbose"))
      verbose = true;
    else if (!strcmp(argv[i], "--require") && i + 1 < argc && qk_isa_from_name(argv[i + 1], &isa))
      required[isa] = true, ++i;
    else {
      fprintf(stderr, "usage: %s [--seed S] [--rounds R] [--verbose] [--require ISA]...\n",
              argv[0]);
      return 2;
    }
  }
  printf("seed 0x%" PRIx64 ", %d rounds, default ISA %s\n", rng_state, rounds,
         qk_isa_name(qk_active_isa()));
  for (int i = 0; i < QK_ISA_COUNT; ++i)
    CHECK(!required[i] || qk_isa_supported((qk_isa)i), "required ISA %s cannot run here",
          qk_isa_name((qk_isa)i));

  printf("the engine's history helpers (qk_wavenet_history_*):\n");
  test_history_helpers();
  printf("qk_wavenet_layer_s8_valid:\n");
  test_valid();
  printf("scalar steps against qk.h's definitions in double:\n");
  test_semantics();
  test_semantics_a2();
  printf("qk_wavenet_layer_s8 on each ISA against scalar steps, and split into two calls:\n");
  for (int i = QK_ISA_SCALAR; i < QK_ISA_COUNT; ++i) {
    if (!qk_isa_supported((qk_isa)i)) {
      printf("  %-12s not available here\n", qk_isa_name((qk_isa)i));
      continue;
    }
    test_isa((qk_isa)i, rounds);
  }
  printf("small layers (C = 1 to 3) with and without zero points, S8/S4/S2, blocks 1, 2, 3, "
         "16, 17, 64:\n");
  for (int i = QK_ISA_SCALAR; i < QK_ISA_COUNT; ++i)
    if (qk_isa_supported((qk_isa)i))
      test_small_zp_isa((qk_isa)i);
  printf("A2 layers (bottleneck, kernels 6 and 15, dilations to 2048, every nonlinearity, "
         "blocks 1, 7, 64, 4096):\n");
  for (int i = QK_ISA_SCALAR; i < QK_ISA_COUNT; ++i)
    if (qk_isa_supported((qk_isa)i))
      test_a2_isa((qk_isa)i);
  printf("per-group conv scales (G = 16, 32, 64; C = 1 to 16; every format; blocks 1 to 64):\n");
  for (int i = QK_ISA_SCALAR; i < QK_ISA_COUNT; ++i)
    if (qk_isa_supported((qk_isa)i))
      test_grouped_isa((qk_isa)i);
  printf("taps of two pieces (G = 16, 32, 64 not a multiple of C = 3, 5, 6, 7, 12; taps 3, 6, 7, 11, "
         "15; every format; blocks 1 to 64):\n");
  for (int i = QK_ISA_SCALAR; i < QK_ISA_COUNT; ++i)
    if (qk_isa_supported((qk_isa)i))
      test_straddle_isa((qk_isa)i);
  printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
