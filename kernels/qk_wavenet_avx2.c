/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The int8 WaveNet layer on AVX2 + FMA (qk.h: qk_wavenet_layer_s8), fused:
  NAM's A1 (tanh) and A2 (LeakyReLU, any piecewise-linear kind) layers
  without a bottleneck. The composition in qk_wavenet.c runs
  `taps` GEMMs over columns that are mostly zeros, then passes over z for
  the mixin, the nonlinearity and head, quantizes a and runs the 1x1;
  here, after this call's frames are quantized into the int8 history
  (quantize_call at 8 and 16 channels, 4 frames to one division, writing
  only their C codes: the history may be that narrow; the ISA's batched
  quantizer otherwise), or skipped when the previous layer put them there
  (x_quantized), each frame runs in registers from its taps' codes to its
  next, 4 frames side by side sharing the division of their a scales,
  and at 8 and 16 channels next[] is quantized for the next layer in the
  same registers (chaining, qk.h's next_q):

    per tap: the frame's codes widened to int16, one pair of channels
    broadcast per vpmaddwd against the conv's int16 weight pairs (8 rows
    per ymm: C <= 8 one ymm, C <= 16 two), scaled by the frame's scale;
    mixin, nonlinearity, head; a quantized by qk.h's dynamic formula; the
    1x1 the same way from a's codes; x added.

  Shapes: B = C <= 16, any C (an odd C reads the history's zero padding
  byte after its last code, against a zero weight), taps * ceil(C/2) *
  ceil(C/8) <= MAX_PAIRS (A2 standard's kernel 15 at 8 channels: 60; A2
  nano's at 3 channels: 30).

  Bit-exactness with the composition: the integer sums are exact (int16
  products of int8 values, summed in int32: any order gives the same
  integer), zero points are taken out through the frame's code sum as in
  qk.h. The float operations are qk.h's, in its order, per row:
  fma((float)i, ws, 0) with ws (and zp) the scale group's of the tap (a
  row's scales per tap, pair_layer's tap_par), and for a tap whose
  columns straddle two groups (qk.h's pieces: G not a multiple of C)
  fma((float)i_1, ws_1, that) with the second piece's own sums, zero
  points (times its channels' code sum) and scales (pair_layer's split),
  fma(., frame scale, base) with base = bias + 0 for
  the first tap and 0 + z after it; fl(mixin * cond) then the add;
  tanh_int8_8 (qk_avx2_common.h) for qk_tanh_int8, or the piecewise-linear
  nonlinearity by compares, blends and the scalar expressions' own single
  multiplies and adds (exact: each lane gets the value the scalar branch
  returns); the dynamic quantizer's amax (max is exact; NaN lanes count 0
  as fmaxf ignores them), amax / 127 and 127 / amax where amax is > 0 and
  finite (else 0), clamp(rint(a * inv)) with NaN -> 0; then
  fma(fma((float)i, ws, 0), scale of a, bias + x) for the 1x1.
*/
#include "qk_avx2_common.h"
#include "qk_vnni256.h"

#include <immintrin.h>
#include <string.h>

/*
  Compiled twice: here for AVX2, and for AVX-VNNI by qk_wavenet_avxvnni.c
  (QK_WAVENET_AVXVNNI), which gives the entry points their qk_avxvnni_
  names, takes layers packed for that ISA (the same tiles as AVX2) and
  multiplies each channel pair with one vpdpwssd: the two int16 products
  and their int32 add in one instruction, without saturation, so the
  integer is vpmaddwd + vpaddd's (the products of int8 values never reach
  vpmaddwd's one saturating case, -32768 * -32768 twice).
*/
#ifdef QK_WAVENET_AVXVNNI
#define WN_ISA QK_ISA_AVXVNNI
#define WN_FN(name) qk_avxvnni_wavenet_##name
#define WN_ALWAYS_QUADS 1  /* vpdpbusd: exact for any weights */
#define WN_CONV_UNSIGNED 1 /* the conv's quads as unsigned weights (see frame_conv) */
#else
#define WN_ISA QK_ISA_AVX2
#define WN_FN(name) qk_avx2_wavenet_##name
#define WN_ALWAYS_QUADS 0
#define WN_CONV_UNSIGNED 0
#endif

#define AI static inline __attribute__((always_inline))

/** Most int16-pair weight vectors of the conv: taps * ceil(C/2) * ceil(C/8). */
#define MAX_PAIRS 128
/** Most ymm of rows (C <= 16). */
#define MAX_ROWV 2

static int pair_count(int C) { return (C + 1) / 2; }
static int row_vectors(int C) { return (C + 7) / 8; }

bool WN_FN(layer_shape)(const qk_wavenet_layer *L)
{
  const int C = L->C;
  /* taps of two pieces at most (pair_layer's split): every C <= 16 at qk_pack's groups */
  return C <= 8 * MAX_ROWV && qk_wavenet_bottleneck(L) == C &&
         L->taps <= MAX_PAIRS / (pair_count(C) * row_vectors(C)) && qk_wavenet_two_pieces(L);
}

bool WN_FN(layer_fusable)(const qk_wavenet_layer *L)
{
  return WN_FN(layer_shape)(L) && qk_packed_isa(L->conv) == WN_ISA;
}

/** Weight (m, k) of p, from the layout of the ISA it was packed for. */
static int weight_value(const qk_packed *p, int m, int k)
{
#ifdef QK_HAVE_AVX512VNNI
  if (qk_packed_isa(p) == QK_ISA_AVX512VNNI)
    return qk_avx512vnni_weight_value(p, m, k);
#endif
  return qk_avx2_weight_value(p, m, k);
}

/**
   One matrix ready for the frame loop: its form, and for the 1x1 its row
   scales and zero points (the conv's are per tap: pair_layer's tap_par).
*/
typedef struct {
  __m256i zp[MAX_ROWV]; /**< zero points (0 when symmetric) */
  __m256 scale[MAX_ROWV];
  int has_zp;
  int quads; /**< 1: byte quads (see below), 0: int16 pairs */
  /** The conv only: its quads hold v + offset, unsigned, and the frame's
      codes are the signed side (see below); 0 for the 1x1. */
  int unsigned_w;
  int32_t offset;
} pair_matrix;

/**
   Both matrices (qk.h's prepared weights on this ISA), in one of two forms
   per matrix:

   pairs  vector (t, h, rv): in dword r, row 8rv + r's int16 values at
          channels 2h and 2h + 1 of tap t; one vpmaddwd (or vpdpwssd) per
          channel pair against the frame's codes widened to int16.
   quads  vector (t, q, rv): in dword r, row 8rv + r's int8 values at
          channels 4q .. 4q + 3 of tap t; one vpdpbusd (AVX-VNNI) or one
          vpmaddubsw (AVX2) per 4 channels against the frame's codes
          biased to unsigned, u = x + 128 in [0, 255]. Over a tap's
          channels sum u w = sum x w + 128 * sum w, so the tap's
          accumulator starts at bias128 = -128 * (the row's weight sum over
          that tap's channels), a constant of the weights. The conv
          swaps the sides where it can (unsigned_w, piece_sums): weights
          u = v + offset, codes broadcast straight from the history
          (no shuffle, no xor), the accumulator starting at -offset times
          the frame's code sum. AVX-VNNI always (offset 128: vpdpbusd
          takes any int8 weights); AVX2 where unsigned_quads_exact().
*/
typedef struct {
  __m256i conv[MAX_PAIRS]; /**< pairs [t][h][rv] or quads [t][q][rv] */
  __m256i w1[8 * MAX_ROWV];
  __m256i conv_bias128[MAX_PAIRS]; /**< quads: [t][rv] */
  __m256i w1_bias128[MAX_ROWV];
  pair_matrix cv, w1m;
  /** Per tap: 0, or where its second piece starts (qk.h: a tap whose
      columns straddle two scale groups; qk_wavenet_tap_split). conv and
      conv_bias128 then hold the first piece's channels only (the others'
      weights 0), and the second piece's are at tap_par + piece_at[t]:
      its conv vectors (H * R, pairs or quads as conv), R bias128, R
      scales and R zero points, in that order. */
  uint8_t split[MAX_PAIRS];
  uint16_t piece_at[MAX_PAIRS];
  int splits; /**< some tap is split (pick_frames: the loops that test split[t]) */
  /** The conv's scales and zero points per tap, those of the group the
      tap's (first piece's) columns lie in (qk.h: ws[m][g_t], zp[m][g_t];
      the same for every tap with one group per row, kept per tap anyway
      so that a tap reaches them as it reaches its bias128, without an
      index): tap t's R scale vectors (float bits) at [2Rt], its R zero
      points at [2Rt + R] (+ cv.offset under cv.unsigned_w, the form
      piece_sums takes them out in); then the second pieces (split).
      Sized to the taps and pieces (WN_FN(prepared_size)). */
  __m256i tap_par[];
} pair_layer;

/** Vectors of a second piece in tap_par: conv vectors (H * R), bias128, scales, zero points. */
static int piece_vectors(int C) { return ((C + 1) / 2 + 3) * ((C + 7) / 8); }

/** Most tap_par vectors: two per tap and row vector (taps * R <= MAX_PAIRS, layer_shape), and a
    second piece for every tap at most (taps * H * R <= MAX_PAIRS, H >= 1). */
#define MAX_TAP_PAR (2 * MAX_PAIRS + 4 * MAX_PAIRS)

/** Tap t's conv scales and zero points (R each). */
AI const __m256i *tap_scales(const pair_layer *pl, int t, const int R)
{
  return pl->tap_par + 2 * R * t;
}
AI const __m256i *tap_zero_points(const pair_layer *pl, int t, const int R)
{
  return tap_scales(pl, t, R) + R;
}

/**
   Weights of p (rows x cols, one group per row) as int16 pairs: vector
   (t, h, rv) holds, in dword r, rows 8rv + r's values at columns
   t*C + 2h and t*C + 2h + 1 (low half first); 0 past C or the rows.
*/
static int quad_count(int C) { return (C + 3) / 4; }

/**
   Whether a tap's vpmaddubsw results, each two products of magnitude at
   most `product` per int16 lane, may be summed in int16 over the tap's
   ceil(C/4) quads (the two bounds below). Always on AVX-VNNI, whose
   vpdpbusd adds into int32.
*/
static bool tap_sums_fit_int16(int C, int product)
{
#ifdef QK_WAVENET_AVXVNNI
  (void)C;
  (void)product;
  return true;
#else
  return quad_count(C) * 2 * product <= 32767;
#endif
}

/*
  When AVX2 may take the quads form (vpmaddubsw, int16 sums kept across
  a tap's quads).

  vpmaddubsw multiplies u in [0, 255] (any int8 code x as x + 128, -128
  included) by the signed weight v and adds the two products of each
  int16 lane with saturation: with A = max |v| over the matrix, a lane is
  at most 2 * 255 * A in magnitude. A tap's Q = ceil(C/4) such results
  are added lane by lane with vpaddw (wrapping) before one vpmaddwd by 1
  widens them to int32, so every int16 partial sum is at most
  Q * 510 * A in magnitude. If Q * 510 * A <= 32767 no step saturates or
  wraps, and the int32 sum is exact: the scalar's integer. That holds for
  the 4-bit codes (A = 8: Q <= 8, C = 16 needs 4) and the 2-bit ones
  (A = 2: Q <= 32) at every channel count the fused form takes, and for
  any weights with A <= 16 at C = 16 (codebooks that happen to be small).
  8-bit weights (A up to 128: one product pair alone can reach 65280)
  stay on the int16 pairs, exact by vpmaddwd. The choice reads the
  weights' actual values, so it is exact for every matrix it picks.
  AVX-VNNI's vpdpbusd adds the four products into int32 without
  saturation: the quads form is exact there for any int8 weights.
*/
static bool quads_exact(int C, int amax) { return tap_sums_fit_int16(C, 255 * amax); }

/*
  When AVX2's conv may swap the sides (pair_matrix's unsigned_w): the
  weights as u = v - vmin in [0, U], U = vmax - vmin over the matrix
  (vmin <= 0 <= vmax), and the codes x in [-128, 127] as vpmaddubsw's
  signed side. An int16 lane of one vpmaddubsw is two products, at most
  2 * 128 * U in magnitude, and a tap's Q = ceil(C/4) of them are summed
  with vpaddw before the widening, so every partial sum is at most
  Q * 256 * U: exact when that is <= 32767. The 4-bit codes (U = 15:
  Q <= 8) and the 2-bit ones (U = 3) take it at every channel count the
  fused form takes; 8-bit ones (U up to 255) do not. Over the tap,
  sum u x = sum v x - vmin * sum x: the accumulator starts at -offset
  (offset = -vmin) times the frame's code sum (and the zero points'). The
  gain over the quads form: each quad of codes is broadcast from the
  history by one load, where the quads form shuffles it out of the biased
  codes (an xor) in a register.
*/
static bool unsigned_quads_exact(int C, int range) { return tap_sums_fit_int16(C, 128 * range); }

/**
   Tap t's weights of p at channels [c0, c1) (a piece of the tap, qk.h;
   0 at the tap's other channels) as quads (see pair_layer), out[q * R +
   rv], with their constants -128 * sum v in bias128[rv]; under
   pm->unsigned_w as v + pm->offset instead (0 past the rows and the
   piece), no constants (piece_sums' unsigned form).
*/
static void prepare_tap_quads(const qk_packed *p, int C, int t, int c0, int c1, __m256i *out,
                              __m256i *bias128, const pair_matrix *pm)
{
  const int rows = qk_packed_rows(p), Q = quad_count(C), R = row_vectors(C);
  for (int rv = 0; rv < R; ++rv) {
    int32_t sum[8] = {0};
    for (int q = 0; q < Q; ++q) {
      int8_t b[32];
      for (int r = 0; r < 8; ++r)
        for (int j = 0; j < 4; ++j) {
          const int m = 8 * rv + r, c = 4 * q + j;
          const bool in = m < rows && c >= c0 && c < c1;
          const int v = in ? weight_value(p, m, t * C + c) : 0;
          b[4 * r + j] = (int8_t)(pm->unsigned_w ? (in ? v + pm->offset : 0) : v);
          sum[r] += v;
        }
      out[q * R + rv] = _mm256_loadu_si256((const __m256i *)b);
    }
    for (int r = 0; r < 8; ++r)
      sum[r] *= -128;
    bias128[rv] = _mm256_loadu_si256((const __m256i *)sum);
  }
}

/** Tap t's weights of p at channels [c0, c1) (0 at the others) as int16 pairs, out[h * R + rv]. */
static void prepare_tap_pairs(const qk_packed *p, int C, int t, int c0, int c1, __m256i *out)
{
  const int rows = qk_packed_rows(p), H = pair_count(C), R = row_vectors(C);
  for (int h = 0; h < H; ++h)
    for (int rv = 0; rv < R; ++rv) {
      int32_t d[8];
      for (int r = 0; r < 8; ++r) {
        const int m = 8 * rv + r, k0 = 2 * h, k1 = 2 * h + 1;
        const int v0 = m < rows && k0 >= c0 && k0 < c1 ? weight_value(p, m, t * C + k0) : 0;
        const int v1 = m < rows && k1 >= c0 && k1 < c1 ? weight_value(p, m, t * C + k1) : 0;
        d[r] = (int32_t)(((uint32_t)(uint16_t)(int16_t)v1 << 16) | (uint16_t)(int16_t)v0);
      }
      out[h * R + rv] = _mm256_loadu_si256((const __m256i *)d);
    }
}

/** Tap t's piece [c0, c1) of p in the matrix's form (pm->quads), its bias128 too for quads. */
static void prepare_tap(const qk_packed *p, const pair_matrix *pm, int C, int t, int c0, int c1,
                        __m256i *out, __m256i *bias128)
{
  if (pm->quads)
    prepare_tap_quads(p, C, t, c0, c1, out, bias128, pm);
  else
    prepare_tap_pairs(p, C, t, c0, c1, out);
}

/** The smallest and largest values of p's weights, and 0. */
static void weight_range(const qk_packed *p, int *vmin, int *vmax)
{
  *vmin = 0;
  *vmax = 0;
  for (int m = 0; m < qk_packed_rows(p); ++m)
    for (int k = 0; k < qk_packed_cols(p); ++k) {
      const int v = weight_value(p, m, k);
      *vmin = v < *vmin ? v : *vmin;
      *vmax = v > *vmax ? v : *vmax;
    }
}

/**
   p's taps (cols / C of them) in one form (pm->quads: quads_exact; CONV:
   the unsigned quads where unsigned_quads_exact), tap t's vectors at
   out + t * (Q or H) * R; end[t]: the channels of tap t kept (its first
   piece: the weights past them 0), C for all (NULL).
*/
static void prepare_pairs(const qk_packed *p, int C, const uint8_t *end, __m256i *out,
                          __m256i *bias128, pair_matrix *pm, bool conv)
{
  const int taps = qk_packed_cols(p) / C, R = row_vectors(C);
  int vmin, vmax;
  weight_range(p, &vmin, &vmax);
  pm->unsigned_w = conv && unsigned_quads_exact(C, vmax - vmin);
  pm->offset = WN_CONV_UNSIGNED ? 128 : -vmin;
  pm->quads = pm->unsigned_w || quads_exact(C, vmax > -vmin ? vmax : -vmin);
  const int per_tap = (pm->quads ? quad_count(C) : pair_count(C)) * R;
  for (int t = 0; t < taps; ++t)
    prepare_tap(p, pm, C, t, 0, end && end[t] ? end[t] : C, out + (size_t)t * (size_t)per_tap,
                bias128 + (size_t)t * (size_t)R);
  pm->has_zp = p->zp != NULL;
}

/**
   Scale group g's scales and zero points (+ zp_offset; 0 when symmetric)
   of p's rows, R row vectors each.
*/
static void group_params(const qk_packed *p, int g, int R, int zp_offset, __m256 *scale,
                         __m256i *zp)
{
  const int rows = qk_packed_rows(p), ng = qk_group_count(qk_packed_cols(p), qk_packed_group(p));
  for (int rv = 0; rv < R; ++rv) {
    int32_t z[8];
    float sc[8];
    for (int r = 0; r < 8; ++r) {
      const size_t m = (size_t)(8 * rv + r), at = m * (size_t)ng + (size_t)g;
      z[r] = (int)m < rows && p->zp ? p->zp[at] + zp_offset : 0;
      sc[r] = (int)m < rows ? p->scales[at] : 0.0f;
    }
    zp[rv] = _mm256_loadu_si256((const __m256i *)z);
    scale[rv] = _mm256_loadu_ps(sc);
  }
}

/** Taps of L in two pieces (qk.h: their columns straddle a group boundary). */
static int split_taps(const qk_wavenet_layer *L)
{
  int n = 0;
  for (int t = 0; t < L->taps; ++t)
    n += qk_wavenet_tap_split(L, t) != 0;
  return n;
}

size_t WN_FN(prepared_size)(const qk_wavenet_layer *L)
{
  const size_t vectors =
      (size_t)(2 * row_vectors(L->C) * L->taps) + (size_t)(split_taps(L) * piece_vectors(L->C));
  return sizeof(pair_layer) + vectors * sizeof(__m256i);
}

/** Scale group g's scales (as float bits) and zero points of the conv into par[0 .. 2R). */
static void conv_group_params(const qk_wavenet_layer *L, const pair_layer *pl, int g, int R,
                              __m256i *par)
{
  __m256 scale[MAX_ROWV];
  group_params(L->conv, g, R, pl->cv.unsigned_w ? pl->cv.offset : 0, scale, par + R);
  for (int rv = 0; rv < R; ++rv)
    par[rv] = _mm256_castps_si256(scale[rv]);
}

void WN_FN(prepare)(const qk_wavenet_layer *L, void *mem)
{
  pair_layer *pl = mem;
  const int C = L->C, R = row_vectors(C), H = pair_count(C);
  for (int t = 0; t < L->taps; ++t)
    pl->split[t] = (uint8_t)qk_wavenet_tap_split(L, t);
  prepare_pairs(L->conv, C, pl->split, pl->conv, pl->conv_bias128, &pl->cv, true);
  prepare_pairs(L->w1x1, C, NULL, pl->w1, pl->w1_bias128, &pl->w1m, false);
  group_params(L->w1x1, 0, R, 0, pl->w1m.scale, pl->w1m.zp);
  pl->splits = split_taps(L) > 0;
  int at = 2 * R * L->taps; /* the second pieces after the taps' parameters */
  for (int t = 0; t < L->taps; ++t) {
    const int g = qk_wavenet_tap_group(L, t);
    conv_group_params(L, pl, g, R, pl->tap_par + 2 * R * t);
    pl->piece_at[t] = 0;
    if (!pl->split[t])
      continue;
    /* the second piece: channels split .. C-1, in group g + 1 */
    __m256i *piece = pl->tap_par + at;
    pl->piece_at[t] = (uint16_t)at;
    prepare_tap(L->conv, &pl->cv, C, t, pl->split[t], C, piece, piece + H * R);
    conv_group_params(L, pl, g + 1, R, piece + H * R + R);
    at += piece_vectors(C);
  }
}

/** The nonlinearity's constants (qk.h's piecewise-linear kinds). */
typedef struct {
  __m256 slope[MAX_ROWV]; /**< LeakyReLU's slope, or PReLU's per channel */
  __m256 lo, hi, lo_slope, hi_slope;
  qk_wavenet_act_kind kind;
} pair_act;

/** Lanes [0, n) of 8 set, n in 0..8. */
AI __m256i lane_mask(int n)
{
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/** Row vector rv's lanes of a C-float vector (NULL = 0). */
AI __m256 load_rows(const float *v, int C, int rv)
{
  return v ? _mm256_maskload_ps(v + 8 * rv, lane_mask(C - 8 * rv)) : _mm256_setzero_ps();
}

static void prepare_act(const qk_wavenet_act *act, int C, pair_act *pa)
{
  *pa = (pair_act){.kind = act->kind};
  for (int rv = 0; rv < row_vectors(C); ++rv)
    pa->slope[rv] =
        act->kind == QK_WN_PRELU ? load_rows(act->slopes, C, rv) : _mm256_set1_ps(act->slope);
  pa->lo = _mm256_set1_ps(act->min_val);
  pa->hi = _mm256_set1_ps(act->max_val);
  pa->lo_slope = _mm256_set1_ps(act->min_slope);
  pa->hi_slope = _mm256_set1_ps(act->max_slope);
}

/**
   qk.h's piecewise-linear kinds of 8 lanes: ordered compares (false for
   NaN, as the scalar ones), blends picking what the scalar branch
   returns, and its own multiplies and adds (no fma).
*/
AI __m256 act8(__m256 z, const pair_act *pa, int rv)
{
  const __m256 zero = _mm256_setzero_ps();
  switch (pa->kind) {
  case QK_WN_RELU: return _mm256_and_ps(z, _mm256_cmp_ps(z, zero, _CMP_GT_OQ));
  case QK_WN_LEAKY_RELU:
  case QK_WN_PRELU:
    return _mm256_blendv_ps(_mm256_mul_ps(pa->slope[rv], z), z, _mm256_cmp_ps(z, zero, _CMP_GT_OQ));
  case QK_WN_HARDTANH: {
    const __m256 one = _mm256_set1_ps(1.0f), minus_one = _mm256_set1_ps(-1.0f);
    const __m256 t = _mm256_blendv_ps(z, minus_one, _mm256_cmp_ps(z, minus_one, _CMP_LT_OQ));
    return _mm256_blendv_ps(t, one, _mm256_cmp_ps(t, one, _CMP_GT_OQ));
  }
  case QK_WN_LEAKY_HARDTANH: {
    const __m256 below =
        _mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(z, pa->lo), pa->lo_slope), pa->lo);
    const __m256 above =
        _mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(z, pa->hi), pa->hi_slope), pa->hi);
    /* the scalar tests z < min_val first: below wins where both hold */
    const __m256 a = _mm256_blendv_ps(z, above, _mm256_cmp_ps(z, pa->hi, _CMP_GT_OQ));
    return _mm256_blendv_ps(a, below, _mm256_cmp_ps(z, pa->lo, _CMP_LT_OQ));
  }
  default: return z; /* QK_WN_IDENTITY */
  }
}

/** The layer's nonlinearity: TANH (compile time) or pa's piecewise-linear kind. */
AI __m256 act8_layer(__m256 z, const pair_act *pa, int rv, const int TANH)
{
  return TANH ? tanh_int8_8(z) : act8(z, pa, rv);
}

/** Dword j (0..3) of each 128-bit lane, in all four of its dwords. */
AI __m256i dword_all(__m256i v, int j)
{
  switch (j & 3) {
  case 0: return _mm256_shuffle_epi32(v, 0x00);
  case 1: return _mm256_shuffle_epi32(v, 0x55);
  case 2: return _mm256_shuffle_epi32(v, 0xAA);
  default: return _mm256_shuffle_epi32(v, 0xFF);
  }
}

/**
   int32 sums of the H channel pairs in `lo` (pairs 0-3, in both 128-bit
   lanes) and `hi` (pairs 4-7) against w[h * R + rv], from acc.
*/
AI void dot_pairs(__m256i acc[MAX_ROWV], __m256i lo, __m256i hi, const __m256i *w, const int H,
                  const int R)
{
#ifdef QK_WAVENET_AVXVNNI
  /* odd pairs in a second chain: vpdpwssd's latency is the bound, and the
     integer sum is the same in any order */
  __m256i odd[MAX_ROWV];
#pragma GCC unroll 2
  for (int rv = 0; rv < R; ++rv)
    odd[rv] = _mm256_setzero_si256();
#pragma GCC unroll 8
  for (int h = 0; h < H; ++h) {
    const __m256i x = dword_all(h < 4 ? lo : hi, h);
#pragma GCC unroll 2
    for (int rv = 0; rv < R; ++rv) {
      if (h & 1)
        odd[rv] = qk_dpwssd256(odd[rv], w[h * R + rv], x);
      else
        acc[rv] = qk_dpwssd256(acc[rv], w[h * R + rv], x);
    }
  }
#pragma GCC unroll 2
  for (int rv = 0; rv < R; ++rv)
    acc[rv] = _mm256_add_epi32(acc[rv], odd[rv]);
#else
#pragma GCC unroll 8
  for (int h = 0; h < H; ++h) {
    const __m256i x = dword_all(h < 4 ? lo : hi, h);
#pragma GCC unroll 2
    for (int rv = 0; rv < R; ++rv)
      acc[rv] = _mm256_add_epi32(acc[rv], _mm256_madd_epi16(w[h * R + rv], x));
  }
#endif
}

/**
   The quads form's int32 sums: the Q channel quads of u (codes + 128;
   channels 4q .. 4q + 3 in dword q of both 128-bit lanes) against
   w[q * R + rv], added to acc. AVX-VNNI: one vpdpbusd per quad and row
   vector. AVX2: the vpmaddubsw results of the quads summed in int16 and
   widened once (exact by quads_exact's bound).
*/
AI void dot_quads(__m256i acc[MAX_ROWV], __m256i u, const __m256i *w, const int Q, const int R)
{
#ifdef QK_WAVENET_AVXVNNI
#pragma GCC unroll 4
  for (int q = 0; q < Q; ++q) {
    const __m256i x = dword_all(u, q);
#pragma GCC unroll 2
    for (int rv = 0; rv < R; ++rv)
      acc[rv] = qk_dpbusd256(acc[rv], x, w[q * R + rv]);
  }
#else
  __m256i s16[MAX_ROWV];
  const __m256i x0 = dword_all(u, 0);
#pragma GCC unroll 2
  for (int rv = 0; rv < R; ++rv)
    s16[rv] = _mm256_maddubs_epi16(x0, w[rv]);
#pragma GCC unroll 4
  for (int q = 1; q < Q; ++q) {
    const __m256i x = dword_all(u, q);
#pragma GCC unroll 2
    for (int rv = 0; rv < R; ++rv)
      s16[rv] = _mm256_add_epi16(s16[rv], _mm256_maddubs_epi16(x, w[q * R + rv]));
  }
#pragma GCC unroll 2
  for (int rv = 0; rv < R; ++rv)
    acc[rv] = _mm256_add_epi32(acc[rv], _mm256_madd_epi16(s16[rv], _mm256_set1_epi16(1)));
#endif
}

/**
   The unsigned form's sums: the Q quads of codes (4 signed bytes each,
   broadcast from the history) against the unsigned weights w[q * R + rv],
   added to acc. AVX-VNNI: one vpdpbusd each. AVX2: vpmaddubsw, summed in
   int16 over the tap and widened once (exact by unsigned_quads_exact).
*/
AI void dot_codes_unsigned(__m256i acc[MAX_ROWV], const int8_t *codes, const __m256i *w,
                           const int Q, const int R)
{
#ifdef QK_WAVENET_AVXVNNI
#pragma GCC unroll 4
  for (int q = 0; q < Q; ++q) {
    const __m256i x = _mm256_set1_epi32(load4(codes + 4 * q));
#pragma GCC unroll 2
    for (int rv = 0; rv < R; ++rv)
      acc[rv] = qk_dpbusd256(acc[rv], w[q * R + rv], x);
  }
#else
  __m256i s16[MAX_ROWV];
  const __m256i x0 = _mm256_set1_epi32(load4(codes));
#pragma GCC unroll 2
  for (int rv = 0; rv < R; ++rv)
    s16[rv] = _mm256_maddubs_epi16(w[rv], x0);
#pragma GCC unroll 4
  for (int q = 1; q < Q; ++q) {
    const __m256i x = _mm256_set1_epi32(load4(codes + 4 * q));
#pragma GCC unroll 2
    for (int rv = 0; rv < R; ++rv)
      s16[rv] = _mm256_add_epi16(s16[rv], _mm256_maddubs_epi16(w[q * R + rv], x));
  }
#pragma GCC unroll 2
  for (int rv = 0; rv < R; ++rv)
    acc[rv] = _mm256_add_epi32(acc[rv], _mm256_madd_epi16(s16[rv], _mm256_set1_epi16(1)));
#endif
}

/** Where a matrix's int32 sums start: bias128 (quads) or 0, less zp * the code sum. */
AI void acc_start(__m256i acc[MAX_ROWV], const pair_matrix *pm, const __m256i *zp,
                  const __m256i *bias128, __m256i code_sum, const int R, const bool has_zp)
{
#pragma GCC unroll 2
  for (int rv = 0; rv < R; ++rv) {
    const __m256i b = WN_ALWAYS_QUADS || pm->quads ? bias128[rv] : _mm256_setzero_si256();
    acc[rv] = has_zp ? _mm256_sub_epi32(b, _mm256_mullo_epi32(zp[rv], code_sum)) : b;
  }
}

/** The sum of 8 int32 lanes, in every lane. */
AI __m256i hsum8(__m256i v)
{
  v = _mm256_add_epi32(v, _mm256_permute2x128_si256(v, v, 0x01));
  v = _mm256_add_epi32(v, _mm256_shuffle_epi32(v, 0x4E));
  return _mm256_add_epi32(v, _mm256_shuffle_epi32(v, 0xB1));
}

/**
   A row vector of a frame's floats: FULL (C a multiple of 8, compile
   time) plain loads and stores, else masked ones (slow stores on some
   cores, and never past C).
*/
AI __m256 load_frame(const float *p, __m256i mask, const int FULL)
{
  return FULL ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask);
}

AI void store_frame(float *p, __m256i mask, __m256 v, const int FULL)
{
  if (FULL)
    _mm256_storeu_ps(p, v);
  else
    _mm256_maskstore_ps(p, mask, v);
}

/**
   The int32 sums i of one piece of a tap (qk.h; a whole tap is one piece)
   against the frame's codes: w its conv vectors (pairs or quads, the
   piece's channels only), bias128 and zp its R constants and zero
   points, xs the code sum of the piece's channels (read only with zero
   points, or by the unsigned form).
*/
AI void piece_sums(__m256i acc[MAX_ROWV], const pair_layer *pl, const __m256i *w,
                   const __m256i *bias128, const __m256i *zp, const int8_t *codes, int32_t xs,
                   const int H, const int R, const bool has_zp)
{
  const int Q = (H + 1) / 2; /* quads: ceil(C / 4) */
  if (WN_CONV_UNSIGNED || pl->cv.unsigned_w) {
    /*
      The codes x are the signed side, broadcast 4 at a time straight
      from the history (a load each, no shuffles), and the weights the
      unsigned one, u = v + offset (0 past the rows and the piece:
      channels past C read the zero padding anyway). Over the piece,
      sum u x = sum v x + offset * sum x, so with zero points the scalar's
      i = sum v x - zp * sum x = sum u x - (zp + offset) * sum x: the
      accumulator starts at -(zp + offset) times the piece's code sum
      (zp holds zp + offset). Exact in int32 (|sum u x| <= 255 * 128 * 16
      at C = 16).
    */
    const __m256i xsv = _mm256_set1_epi32(xs);
    const __m256i start = _mm256_set1_epi32(-pl->cv.offset * xs);
#pragma GCC unroll 2
    for (int rv = 0; rv < R; ++rv)
      acc[rv] = has_zp ? _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_mullo_epi32(zp[rv], xsv))
                       : start;
    dot_codes_unsigned(acc, codes, w, Q, R);
  } else if (pl->cv.quads) {
    acc_start(acc, &pl->cv, zp, bias128, _mm256_set1_epi32(has_zp ? xs : 0), R, has_zp);
    /* the codes + 128 (channels past C read the history's zero padding: u = 128, weight 0) */
    const __m128i c8 =
        Q <= 2 ? _mm_loadl_epi64((const __m128i *)codes) : _mm_loadu_si128((const __m128i *)codes);
    const __m256i u = _mm256_broadcastsi128_si256(_mm_xor_si128(c8, _mm_set1_epi8((char)0x80)));
    dot_quads(acc, u, w, Q, R);
  } else {
    acc_start(acc, &pl->cv, zp, bias128, _mm256_set1_epi32(has_zp ? xs : 0), R, has_zp);
    /* pairs 0-3 (codes 0-7) and 4-7 (codes 8-15) as int16, each in both lanes */
    __m256i lo, hi = _mm256_setzero_si256();
    if (H <= 4) {
      lo = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)codes)));
    } else {
      const __m256i w16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)codes));
      lo = _mm256_permute2x128_si256(w16, w16, 0x00);
      hi = _mm256_permute2x128_si256(w16, w16, 0x11);
    }
    dot_pairs(acc, lo, hi, w, H, R);
  }
}

/** The sum of codes[c0 .. c1). */
static inline int32_t code_sum(const int8_t *codes, int c0, int c1)
{
  int32_t s = 0;
  for (int c = c0; c < c1; ++c)
    s += codes[c];
  return s;
}

/**
   Frame n's conv: z = bias + its taps, in qk.h's order (H pairs, R row
   vectors). SPLITS: the layer may have taps of two pieces (pl->split;
   compile time: pick_frames; 8 and 16 channels never do, every group
   being a multiple of 16).
*/
AI void frame_conv(const qk_wavenet_layer *L, const pair_layer *pl, const qk_act_s8 *xq, int n,
                   const __m256 *bconv, __m256 z[MAX_ROWV], const int H, const int R,
                   const int TAPS, const int ZP, const int SPLITS)
{
  const bool has_zp = ZP && pl->cv.has_zp;
  const bool need_sum = has_zp || WN_CONV_UNSIGNED || pl->cv.unsigned_w;
  /* TAPS: the tap count at compile time (0: L->taps), so the taps' loads and sums unroll */
  const int taps = TAPS ? TAPS : L->taps, Q = (H + 1) / 2; /* quads: ceil(C / 4) */
  const int per_tap = (WN_CONV_UNSIGNED || pl->cv.quads ? Q : H) * R;
#pragma GCC unroll 2
  for (int rv = 0; rv < R; ++rv)
    z[rv] = bconv[rv];
#pragma GCC unroll 4
  for (int t = 0; t < taps; ++t) {
    const ptrdiff_t f = n - (ptrdiff_t)L->dilation * (taps - 1 - t);
    const int8_t *codes = xq->codes + f * (ptrdiff_t)xq->ld;
    const int split = SPLITS ? pl->split[t] : 0;
    /* the first piece's code sum: the frame's, unless the tap is split */
    const int32_t xs = need_sum ? (split ? code_sum(codes, 0, split) : xq->sums[f]) : 0;
    __m256i acc[MAX_ROWV];
    piece_sums(acc, pl, pl->conv + (size_t)t * (size_t)per_tap,
               pl->conv_bias128 + (size_t)t * (size_t)R, tap_zero_points(pl, t, R), codes, xs, H, R,
               has_zp);
    __m256 p[MAX_ROWV];
#pragma GCC unroll 2
    for (int rv = 0; rv < R; ++rv)
      p[rv] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[rv]),
                              _mm256_castsi256_ps(tap_scales(pl, t, R)[rv]), _mm256_setzero_ps());
    if (SPLITS && __builtin_expect(split != 0, 0)) {
      /* qk.h's second piece: p = fma((float)i_t1, ws[g_t + 1], p) */
      const __m256i *piece = pl->tap_par + pl->piece_at[t];
      const int C = L->C;
      piece_sums(acc, pl, piece, piece + H * R, piece + H * R + 2 * R, codes,
                 need_sum ? code_sum(codes, split, C) : 0, H, R, has_zp);
#pragma GCC unroll 2
      for (int rv = 0; rv < R; ++rv)
        p[rv] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[rv]),
                                _mm256_castsi256_ps(piece[H * R + R + rv]), p[rv]);
    }
    const __m256 s = _mm256_set1_ps(xq->scales[f]);
#pragma GCC unroll 2
    for (int rv = 0; rv < R; ++rv)
      /* qk.h's base 0 + z for the later taps is z itself: z is never -0
         (the first tap adds bias + 0, never -0, and a rounded sum is -0
         only when both terms are), and 0 + NaN is that NaN */
      z[rv] = _mm256_fmadd_ps(p[rv], s, z[rv]);
  }
}

/**
   Frame n's mixin, nonlinearity (lanes past C zeroed: act(0) need not be
   0; FULL has none) and head; returns the lanes' |a| (NaN counted 0, as
   qk.h's maximum ignores NaN) for the frame's maximum.
*/
AI __m256 frame_act(const qk_wavenet_layer *L, const pair_act *pa, const float *cond, int n,
                    float *head, const __m256 *mixin, const __m256i *mask, const __m256 z[MAX_ROWV],
                    __m256 a[MAX_ROWV], const int R, const int TANH, const int FULL)
{
  const int C = FULL ? 8 * R : L->C;
  const __m256 c = _mm256_set1_ps(cond[n]);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  __m256 m = _mm256_setzero_ps();
  float *hn = head + (size_t)n * (size_t)C;
#pragma GCC unroll 2
  for (int rv = 0; rv < R; ++rv) {
    const __m256 zz = _mm256_add_ps(z[rv], _mm256_mul_ps(mixin[rv], c));
    const __m256 v = act8_layer(zz, pa, rv, TANH);
    a[rv] = FULL ? v : _mm256_and_ps(v, _mm256_castsi256_ps(mask[rv]));
    store_frame(hn + 8 * rv, mask[rv],
                _mm256_add_ps(load_frame(hn + 8 * rv, mask[rv], FULL), a[rv]), FULL);
    /* vmaxps returns its second operand when either is NaN: a NaN lane keeps m */
    m = _mm256_max_ps(_mm256_and_ps(a[rv], abs_mask), m);
  }
  return m;
}

/** max (ADD 0) or int32 sum (ADD 1) of the lanes of a and b. */
AI __m256 op8(__m256 a, __m256 b, const int ADD)
{
  return ADD ? _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(a), _mm256_castps_si256(b)))
             : _mm256_max_ps(a, b);
}

/**
   The maximum (ADD 0) or int32 sum (ADD 1) of each of 4 vectors' 8 lanes,
   vector f's in lanes f and f + 4: one transposing reduction, 11
   operations for 4 vectors where each alone took 6.
*/
AI __m256 reduce4(const __m256 v[4], const int ADD)
{
  /* per 128-bit lane: v0 (lanes 0, 2), v1 (0, 2), v0 (1, 3), v1 (1, 3); then v2, v3 */
  const __m256 a = op8(_mm256_unpacklo_ps(v[0], v[1]), _mm256_unpackhi_ps(v[0], v[1]), ADD);
  const __m256 b = op8(_mm256_unpacklo_ps(v[2], v[3]), _mm256_unpackhi_ps(v[2], v[3]), ADD);
  /* per 128-bit lane: vector f's four lanes in element f */
  const __m256 c =
      op8(_mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(a), _mm256_castps_pd(b))),
          _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(a), _mm256_castps_pd(b))), ADD);
  return op8(c, _mm256_permute2f128_ps(c, c, 0x01), ADD);
}

/**
   qk.h's dynamic scales of 4 frames from their maxima (reduce4's lanes f
   and f + 4): amax / 127 in lane f, 127 / amax in lane f + 4, both 0
   where amax is not > 0 and finite. One division gives the 4 frames' 8
   quotients (each frame took two divisions of 8 lanes before).
*/
AI __m256 scales_inverses4(__m256 amax)
{
  const __m256 k127 = _mm256_set1_ps(127.0f);
  const __m256 ok =
      _mm256_and_ps(_mm256_cmp_ps(amax, _mm256_setzero_ps(), _CMP_GT_OQ),
                    _mm256_cmp_ps(amax, _mm256_set1_ps(__builtin_inff()), _CMP_LT_OQ));
  const __m256 num = _mm256_blend_ps(amax, k127, 0xF0), den = _mm256_blend_ps(k127, amax, 0xF0);
  return _mm256_and_ps(_mm256_div_ps(num, den), ok);
}

/** True if an inverse of scales_inverses4() overflowed (a subnormal maximum). */
AI bool inverse_overflows(__m256 si)
{
  return (_mm256_movemask_ps(_mm256_cmp_ps(si, _mm256_set1_ps(__builtin_inff()), _CMP_EQ_OQ)) &
          0xF0) != 0;
}

/** Lane i of v in every lane. */
AI __m256 lane_all(__m256 v, int i) { return _mm256_permutevar8x32_ps(v, _mm256_set1_epi32(i)); }

/**
   a's codes by qk.h's formula for the frame's inverse inv. FINITE (every
   inverse of the group finite): |a| <= amax, so |a * inv| <= 127 (1 +
   2^-24)^2 and the conversion alone rounds to the clamped code; a NaN
   (piecewise-linear kinds only: tanh_int8_8 clamps first) still maps to
   0. Else (an inverse overflowed: a subnormal maximum) the clamp and the
   NaN step in full.
*/
AI void frame_codes(const __m256 a[MAX_ROWV], __m256 inv, __m256i q[MAX_ROWV], const int R,
                    const int TANH, const bool finite)
{
#pragma GCC unroll 2
  for (int rv = 0; rv < R; ++rv) {
    const __m256 p = _mm256_mul_ps(a[rv], inv);
    if (finite) {
      q[rv] = _mm256_cvtps_epi32(TANH ? p : _mm256_and_ps(p, _mm256_cmp_ps(p, p, _CMP_ORD_Q)));
    } else {
      const __m256 r = _mm256_round_ps(p, _MM_FROUND_CUR_DIRECTION | _MM_FROUND_NO_EXC);
      const __m256 cl =
          _mm256_min_ps(_mm256_max_ps(r, _mm256_set1_ps(-127.0f)), _mm256_set1_ps(127.0f));
      q[rv] = _mm256_cvtps_epi32(_mm256_and_ps(cl, _mm256_cmp_ps(r, r, _CMP_ORD_Q)));
    }
  }
}

/** The 1x1 on a's codes q, scaled, plus bias and x, into next (and nv). */
AI void frame_out(const qk_wavenet_layer *L, const pair_layer *pl, const float *x, int n,
                  float *next, const __m256 *b1x1, const __m256i *mask, const __m256i q[MAX_ROWV],
                  __m256 scale, __m256 nv[MAX_ROWV], const int H, const int R, const int FULL,
                  const int ZP)
{
  const int C = FULL ? 8 * R : L->C, Q = (H + 1) / 2;
  const bool has_zp = ZP && pl->w1m.has_zp;
  /* the 1x1 on a's codes (lanes past C hold code 0, against weight 0) */
  __m256i acc[MAX_ROWV];
  acc_start(acc, &pl->w1m, pl->w1m.zp, pl->w1_bias128,
            has_zp ? hsum8(R == 1 ? q[0] : _mm256_add_epi32(q[0], q[1])) : _mm256_setzero_si256(),
            R, has_zp);
  if (WN_ALWAYS_QUADS || pl->w1m.quads) {
    /* bytes: dword 0 = channels 0-3, 4 = 4-7, 1 = 8-11, 5 = 12-15; gathered into both lanes */
    const __m256i zero = _mm256_setzero_si256();
    const __m256i b = _mm256_packs_epi16(_mm256_packs_epi32(q[0], R == 1 ? zero : q[1]), zero);
    const __m256i u =
        _mm256_xor_si256(_mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 0, 4, 1, 5)),
                         _mm256_set1_epi8((char)0x80));
    dot_quads(acc, u, pl->w1, Q, R);
  } else {
    /* as int16 pairs */
    __m256i lo, hi = _mm256_setzero_si256();
    if (R == 1) {
      lo = _mm256_broadcastsi128_si256(
          _mm_packs_epi32(_mm256_castsi256_si128(q[0]), _mm256_extracti128_si256(q[0], 1)));
    } else {
      const __m256i w16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(q[0], q[1]), 0xD8);
      lo = _mm256_permute2x128_si256(w16, w16, 0x00);
      hi = _mm256_permute2x128_si256(w16, w16, 0x11);
    }
    dot_pairs(acc, lo, hi, pl->w1, H, R);
  }
  const float *xn = x + (size_t)n * (size_t)C;
  float *nn = next + (size_t)n * (size_t)C;
#pragma GCC unroll 2
  for (int rv = 0; rv < R; ++rv) {
    const __m256 p =
        _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[rv]), pl->w1m.scale[rv], _mm256_setzero_ps());
    const __m256 base = _mm256_add_ps(b1x1[rv], load_frame(xn + 8 * rv, mask[rv], FULL));
    nv[rv] = _mm256_fmadd_ps(p, scale, base);
    store_frame(nn + 8 * rv, mask[rv], nv[rv], FULL);
  }
}

/**
   qk.h's dynamic quantizer for the F (1 to 4) frames n .. n + F - 1 held
   in v (C = 8 R channels each, in registers): amax = max |v| over the
   frame (NaN counts 0), its scale and inverse (scales_inverses4: one
   division), codes rint(v * inv) with NaN -> 0 (inv finite: |v * inv| <=
   127, as in frame_codes), and their sum. Writes the frames' C codes (not
   the padding), scales and sums into dst's columns n ..; false, with
   nothing written, when a frame's maximum is subnormal (its inverse
   overflows): the caller takes the generic driver then.
*/
AI bool quantize_frames4(const __m256 v[4][MAX_ROWV], const qk_act_s8 *dst, int n, const int F,
                         const int R)
{
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  __m256 m[4];
#pragma GCC unroll 4
  for (int f = 0; f < 4; ++f) {
    m[f] = _mm256_setzero_ps();
#pragma GCC unroll 2
    for (int rv = 0; rv < R && f < F; ++rv) /* a NaN lane keeps m (vmaxps) */
      m[f] = _mm256_max_ps(_mm256_and_ps(v[f][rv], abs_mask), m[f]);
  }
  const __m256 si = scales_inverses4(reduce4(m, 0));
  if (inverse_overflows(si))
    return false;
  const ptrdiff_t ld = dst->ld;
  __m256 sums[4];
#pragma GCC unroll 4
  for (int f = 0; f < 4; ++f) {
    sums[f] = _mm256_setzero_ps();
    if (f >= F)
      continue;
    const __m256 inv = lane_all(si, 4 + f);
    __m256i q[MAX_ROWV];
#pragma GCC unroll 2
    for (int rv = 0; rv < R; ++rv) {
      const __m256 p = _mm256_mul_ps(v[f][rv], inv);
      q[rv] = _mm256_cvtps_epi32(_mm256_and_ps(p, _mm256_cmp_ps(p, p, _CMP_ORD_Q)));
    }
    sums[f] = _mm256_castsi256_ps(R == 1 ? q[0] : _mm256_add_epi32(q[0], q[1]));
    /* int16 then bytes per 128-bit lane; dwords 0 4 1 5 are channels 0-15 in order */
    const __m256i w = _mm256_packs_epi32(q[0], R == 1 ? q[0] : q[1]);
    const __m256i b = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(w, w),
                                                  _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    int8_t *c = dst->codes + (ptrdiff_t)(n + f) * ld;
    if (R == 1)
      _mm_storel_epi64((__m128i *)(void *)c, _mm256_castsi256_si128(b));
    else
      _mm_storeu_si128((__m128i *)(void *)c, _mm256_castsi256_si128(b));
  }
  const __m256i s = _mm256_castps_si256(reduce4(sums, 1));
  if (F == 4) {
    _mm_storeu_ps(dst->scales + n, _mm256_castps256_ps128(si));
    _mm_storeu_si128((__m128i *)(void *)(dst->sums + n), _mm256_castsi256_si128(s));
  } else {
    float sc[8];
    int32_t su[8];
    _mm256_storeu_ps(sc, si);
    _mm256_storeu_si256((__m256i *)(void *)su, s);
    for (int f = 0; f < F; ++f) {
      dst->scales[n + f] = sc[f];
      dst->sums[n + f] = su[f];
    }
  }
  return true;
}

/**
   Chaining (qk.h, qk_wavenet_scratch's next_q): the next layer's int8
   history, which takes this call's next[] frames while they are in
   registers, and whether every frame so far went there.
*/
typedef struct {
  const qk_act_s8 *q;
  bool ok;
} chain_out;

/**
   Frames n .. n + F - 1, step by step side by side: each frame is one long
   chain of dependent steps (taps, tanh's division, the maximum across
   lanes, the quantizer's division, the 1x1), and F independent chains in
   program order keep the core's schedulers busy where one frame alone
   waits on latencies (at C = 16 and F = 4 some vectors spill to the
   stack: still faster). Each frame computes exactly what it would alone;
   the F frames share the division of their a scales (scales_inverses4)
   and, chained, of their next[] scales.
*/
/** What every frame of a call reads and writes, and the constants it loads once. */
typedef struct {
  const qk_wavenet_layer *L;
  const pair_layer *pl;
  const pair_act *pa;
  const qk_act_s8 *xq;
  const float *x, *cond;
  float *head, *next;
  const __m256 *bconv, *mixin, *b1x1;
  const __m256i *mask;
  chain_out *co; /**< NULL: not chained */
} frame_ctx;

AI void layer_frame_group(const frame_ctx *k, int n, const int F, const int H, const int R,
                          const int TAPS, const int TANH, const int FULL, const int ZP,
                          const int SPLITS)
{
  const qk_wavenet_layer *L = k->L;
  __m256 z[4][MAX_ROWV], a[4][MAX_ROWV], m[4], nv[4][MAX_ROWV];
#pragma GCC unroll 4
  for (int f = 0; f < F; ++f)
    frame_conv(L, k->pl, k->xq, n + f, k->bconv, z[f], H, R, TAPS, ZP, SPLITS);
#pragma GCC unroll 4
  for (int f = 0; f < 4; ++f)
    m[f] = f < F ? frame_act(L, k->pa, k->cond, n + f, k->head, k->mixin, k->mask, z[f], a[f], R,
                             TANH, FULL)
                 : _mm256_setzero_ps();
  const __m256 si = scales_inverses4(reduce4(m, 0));
  const bool finite = !inverse_overflows(si);
#pragma GCC unroll 4
  for (int f = 0; f < F; ++f) {
    __m256i q[MAX_ROWV];
    frame_codes(a[f], lane_all(si, 4 + f), q, R, TANH, finite);
    frame_out(L, k->pl, k->x, n + f, k->next, k->b1x1, k->mask, q, lane_all(si, f), nv[f], H, R,
              FULL, ZP);
  }
  if (FULL && k->co && k->co->ok)
    k->co->ok = quantize_frames4(nv, k->co->q, n, F, R);
}

AI void layer_frames(const qk_wavenet_layer *L, const pair_layer *pl, const qk_act_s8 *xq,
                     const float *x, const float *cond, int N, float *head, float *next,
                     chain_out *co, const int H, const int R, const int TAPS, const int TANH,
                     const int FULL, const int ZP, const int SPLITS)
{
  /* local copies: the frame loop's stores (may_alias vectors) would
     otherwise make it load the shapes and pointers again every frame */
  const qk_wavenet_layer Lc = *L;
  const qk_act_s8 xqc = *xq;
  L = &Lc;
  xq = &xqc;
  const int C = L->C;
  pair_act pa;
  prepare_act(&L->act, C, &pa);
  __m256 bconv[MAX_ROWV], mixin[MAX_ROWV], b1x1[MAX_ROWV];
  __m256i mask[MAX_ROWV];
  for (int rv = 0; rv < R; ++rv) {
    /* qk.h: base = bias + 0.0f for the first tap (a -0 bias becomes +0) */
    bconv[rv] = _mm256_add_ps(load_rows(L->conv_bias, C, rv), _mm256_setzero_ps());
    mixin[rv] = load_rows(L->mixin, C, rv);
    b1x1[rv] = load_rows(L->bias1x1, C, rv);
    mask[rv] = lane_mask(C - 8 * rv);
  }
  const frame_ctx k = {L, pl, &pa, xq, x, cond, head, next, bconv, mixin, b1x1, mask, co};
  int n = 0;
  for (; n + 4 <= N; n += 4)
    layer_frame_group(&k, n, 4, H, R, TAPS, TANH, FULL, ZP, SPLITS);
  switch (N - n) {
  case 3: layer_frame_group(&k, n, 3, H, R, TAPS, TANH, FULL, ZP, SPLITS); break;
  case 2: layer_frame_group(&k, n, 2, H, R, TAPS, TANH, FULL, ZP, SPLITS); break;
  case 1: layer_frame_group(&k, n, 1, H, R, TAPS, TANH, FULL, ZP, SPLITS); break;
  default: break;
  }
}

/**
  Each specialised frame loop is a function of its own (noinline). Inlined
  into layer_s8 as one body, the 18 loops (shape x activation x zero points
  x A1's taps, each unrolled for 1-4 frames) made a function that took the
  compiler 43 minutes (2,574 s) under ASan; apart they cost one call per layer.
*/
typedef void frames_fn(const qk_wavenet_layer *L, const pair_layer *pl, const qk_act_s8 *xq,
                       const float *x, const float *cond, int N, float *head, float *next,
                       chain_out *co);

#define FRAMES_FN_S(name, H, R, TAPS, TANH, FULL, ZP, SPLITS)                                      \
  static __attribute__((noinline)) void name(                                                      \
      const qk_wavenet_layer *L, const pair_layer *pl, const qk_act_s8 *xq, const float *x,        \
      const float *cond, int N, float *head, float *next, chain_out *co)                           \
  {                                                                                                \
    layer_frames(L, pl, xq, x, cond, N, head, next, co, H, R, TAPS, TANH, FULL, ZP, SPLITS);       \
  }
/** Without split taps (SPLITS 0). */
#define FRAMES_FN(name, H, R, TAPS, TANH, FULL, ZP) FRAMES_FN_S(name, H, R, TAPS, TANH, FULL, ZP, 0)

/* 8 and 16 channels fill whole vectors (FULL), with zero points or without,
   tanh with A1's 3 taps known or any count, or a piecewise-linear kind */
FRAMES_FN(frames8_tanh3, 4, 1, 3, 1, 1, 0)
FRAMES_FN(frames8_tanh3_zp, 4, 1, 3, 1, 1, 1)
FRAMES_FN(frames8_tanh, 4, 1, 0, 1, 1, 0)
FRAMES_FN(frames8_tanh_zp, 4, 1, 0, 1, 1, 1)
FRAMES_FN(frames8_pwl, 4, 1, 0, 0, 1, 0)
FRAMES_FN(frames8_pwl_zp, 4, 1, 0, 0, 1, 1)
FRAMES_FN(frames16_tanh3, 8, 2, 3, 1, 1, 0)
FRAMES_FN(frames16_tanh3_zp, 8, 2, 3, 1, 1, 1)
FRAMES_FN(frames16_tanh, 8, 2, 0, 1, 1, 0)
FRAMES_FN(frames16_tanh_zp, 8, 2, 0, 1, 1, 1)
FRAMES_FN(frames16_pwl, 8, 2, 0, 0, 1, 0)
FRAMES_FN(frames16_pwl_zp, 8, 2, 0, 0, 1, 1)
/*
  Partial vectors: 3 and 4 channels (2 pairs), up to 8, up to 16; each
  also with taps of two pieces (_split: pair_layer's split, a conv group
  not a multiple of C), apart so that the others keep their loops as they
  were (a test per tap cost 10% at 3 channels).
*/
#define FRAMES_FN_PARTIAL(name, H, R, TANH)                                                        \
  FRAMES_FN(name, H, R, 0, TANH, 0, 1)                                                             \
  FRAMES_FN_S(name##_split, H, R, 0, TANH, 0, 1, 1)
FRAMES_FN_PARTIAL(frames4_tanh, 2, 1, 1)
FRAMES_FN_PARTIAL(frames4_pwl, 2, 1, 0)
FRAMES_FN_PARTIAL(frames_narrow_tanh, pair_count(L->C), 1, 1)
FRAMES_FN_PARTIAL(frames_narrow_pwl, pair_count(L->C), 1, 0)
FRAMES_FN_PARTIAL(frames_wide_tanh, pair_count(L->C), 2, 1)
FRAMES_FN_PARTIAL(frames_wide_pwl, pair_count(L->C), 2, 0)

/** The frame loop compiled for the layer's shape, activation, zero points and taps. */
static frames_fn *pick_frames(const qk_wavenet_layer *L, const pair_layer *pl, bool tanh)
{
  const bool zp = pl->cv.has_zp || pl->w1m.has_zp;
  const bool taps3 = tanh && L->taps == 3;
  switch (L->C) {
  case 8:
    if (!tanh)
      return zp ? frames8_pwl_zp : frames8_pwl;
    if (taps3)
      return zp ? frames8_tanh3_zp : frames8_tanh3;
    return zp ? frames8_tanh_zp : frames8_tanh;
  case 16:
    if (!tanh)
      return zp ? frames16_pwl_zp : frames16_pwl;
    if (taps3)
      return zp ? frames16_tanh3_zp : frames16_tanh3;
    return zp ? frames16_tanh_zp : frames16_tanh;
  case 3:
  case 4:
    if (pl->splits)
      return tanh ? frames4_tanh_split : frames4_pwl_split;
    return tanh ? frames4_tanh : frames4_pwl;
  default:
    if (L->C <= 8 && pl->splits)
      return tanh ? frames_narrow_tanh_split : frames_narrow_pwl_split;
    if (L->C <= 8)
      return tanh ? frames_narrow_tanh : frames_narrow_pwl;
    if (pl->splits)
      return tanh ? frames_wide_tanh_split : frames_wide_pwl_split;
    return tanh ? frames_wide_tanh : frames_wide_pwl;
  }
}

/** The channel counts whose frames fill whole vectors: narrow histories, chaining. */
static bool full_shape(const qk_wavenet_layer *L) { return L->C == 8 || L->C == 16; }

int WN_FN(layer_history_ld)(const qk_wavenet_layer *L)
{
  /* quantize_frames4 writes, and frame_conv reads, a column's C codes only */
  return full_shape(L) ? L->C : qk_act_ld(L->C);
}

bool WN_FN(layer_chains)(const qk_wavenet_layer *L) { return full_shape(L); }

/** C codes at a time from the generic driver (it writes ld bytes: codes, then zero padding). */
static void quantize_generic(const float *x, int C, int n, int F, const qk_act_s8 *xq)
{
  qk_act_s8 cols = qk_act_columns_from(xq, n, 1);
  qk_act_quantize_dynamic(&qk_ops_avx2, x + (size_t)n * (size_t)C, C, C, F, &cols);
}

/** quantize_frames4 on F frames of x from n, the generic driver if it declines. */
AI void quantize_group(const float *x, int n, const qk_act_s8 *xq, const int F, const int R)
{
  const int C = 8 * R;
  __m256 v[4][MAX_ROWV];
#pragma GCC unroll 4
  for (int f = 0; f < F; ++f)
#pragma GCC unroll 2
    for (int rv = 0; rv < R; ++rv)
      v[f][rv] = _mm256_loadu_ps(x + (size_t)(n + f) * (size_t)C + 8 * rv);
  if (!quantize_frames4(v, xq, n, F, R))
    quantize_generic(x, C, n, F, xq);
}

/** Step 1 for C = 8 R channels: the call's frames into the history, 4 at a time. */
AI void quantize_call(const float *x, int N, const qk_act_s8 *xq, const int R)
{
  int n = 0;
  for (; n + 4 <= N; n += 4)
    quantize_group(x, n, xq, 4, R);
  switch (N - n) {
  case 3: quantize_group(x, n, xq, 3, R); break;
  case 2: quantize_group(x, n, xq, 2, R); break;
  case 1: quantize_group(x, n, xq, 1, R); break;
  default: break;
  }
}

void WN_FN(layer_s8)(const qk_wavenet_layer *L, const float *x, const qk_act_s8 *xq,
                     const float *cond, int N, float *head, float *next,
                     const qk_wavenet_scratch *scratch)
{
  const pair_layer *pl = L->prepared;
  _Alignas(32) unsigned char local[sizeof(pair_layer) + MAX_TAP_PAR * sizeof(__m256i)];
  if (!pl) {
    WN_FN(prepare)(L, local);
    pl = (const pair_layer *)(const void *)local;
  }
  const int C = L->C;
  if (!scratch->x_quantized) {
    if (C == 16)
      quantize_call(x, N, xq, 2);
    else if (C == 8)
      quantize_call(x, N, xq, 1);
    else
      quantize_generic(x, C, 0, N, xq);
  }
  chain_out co = {scratch->next_q, scratch->next_q && full_shape(L)};
  /* tanh (A1) and the piecewise-linear kinds (A2) compiled apart */
  frames_fn *frames = pick_frames(L, pl, L->act.kind == QK_WN_TANH);
  frames(L, pl, xq, x, cond, N, head, next, co.ok ? &co : NULL);
  if (scratch->next_quantized)
    *scratch->next_quantized = co.ok;
}
