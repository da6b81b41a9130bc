/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The int8 WaveNet layer on AVX-512 VNNI (qk.h: qk_wavenet_layer_s8),
  fused. The composition in qk_wavenet.c runs `taps` GEMMs over columns
  that are mostly zeros, then passes over z for the mixin, tanh and head;
  here each frame reads its taps' codes straight from the int8 history and
  keeps z and a in registers:

    1. this call's input frames into the int8 history (the ISA's batched
       dynamic quantizer, as in the composition);
    2. per frame: per tap, C/4 vpdpbusd from that frame's codes, scaled by
       its own scale; mixin, the nonlinearity, head; a to scratch;
    3. a quantized per frame (batched quantizer again);
    4. per frame: the 1x1, added to x, into next.

  Shapes: one tile (C <= 16 rows), C a multiple of 4 (a 4-k quad never
  straddles two taps), taps * C <= 128 (A2's kernel 15 at 8 channels is
  120), no bottleneck (B = C: the conv's and the 1x1's frames then share
  one lane layout). Other channel counts up to 16 (A2 nano's 3) run the
  AVX2 form's frame loop on these weights (avx2_frame_loop).

  With 8 channels and a paired history (qk.h) the taps run on paired
  lanes (row r of frame f + p in lane 2r + p): a quad of two frames and
  their two scales are then one broadcast load each, with no permutes and
  no xor per tap (about 5 vector operations per tap and vector instead of
  9; A2 standard int8 about 8% faster at block 64). Steps 1 and the
  chained next-layer quantization write that layout (paired_store8).

  Bit-exactness with the composition: the integer sums are exact (split
  into chains freely: integer addition is associative), and the operands
  are swapped relative to gemm_s8: activations are the unsigned operand
  (code + 128, one xor on the broadcast) and the weights the signed one,
  decoded once per call, so the +128 comes back out as a per-row, per-tap
  constant (-128 * row sum over the tap's columns) instead of through the
  frame's code sum. Zero points still use the frame's code sum, as in
  qk.h. The float operations are those of qk.h, in its order:
  fma((float)i, ws, 0) with ws (and zp) those of the tap's scale group
  (fused_matrix keeps them per tap: these forms take layers whose taps
  each lie in one group; a split tap, qk.h's pieces, sends the layer to
  avx2_frame_loop), fma(., frame scale, base) with
  base = bias + 0 for
  the first tap and 0 + z after it; fl(mixin * cond) then the add;
  tanh_int8_16 for qk_tanh_int8, or the piecewise-linear kinds as
  compares, blends and the same single multiplies and adds as the scalar
  expressions (act16_piecewise: each lane's value is the one the scalar
  branch picks, computed by the same IEEE operations, so it is exact);
  fma(fma((float)i, ws, 0), scale of a, bias + x) for the 1x1.

  a is never NaN after tanh (it clamps first); a piecewise-linear a is NaN
  or infinite only if z overflowed, and the quantizer steps below then
  still follow qk.h's formula (NaN ignored by the maximum, codes 0 for a
  frame whose maximum is not finite).
*/
#include "qk_avx2_common.h"
#include "qk_avx512vnni_common.h"

static void quantize_frames(const float *x, int C, int N, const qk_act_s8 *dst);

/** Most 4-k quads of a conv row (taps * C <= 128). */
#define MAX_QUADS 32

/**
   Channel counts that are not a multiple of 4 (A2 nano's 3: a quad would
   straddle two taps) run the AVX2 form's frame loop instead, from these
   weights decoded once (qk_wavenet_avx2.c; same bits, as every form).
*/
static bool avx2_frame_loop(const qk_wavenet_layer *L)
{
  /* and layers whose taps straddle scale groups (C = 12 at G = 16: qk.h's
     pieces), which the AVX2 form splits and these forms do not */
  return L->C % 4 != 0 || qk_wavenet_straddles(L);
}

/**
   Of those, layers of 1 to 3 channels (A2 nano), with or without zero
   points, run 16 frames to a vector instead (qk_wavenet_avx512_small.c).
*/
static bool small_layer(const qk_wavenet_layer *L)
{
  /* any conv groups: its weights keep a scale per tap piece (qk.h) */
  return avx2_frame_loop(L) && qk_avx512vnni_small_layer_shape(L);
}

bool qk_avx512vnni_wavenet_layer_fusable(const qk_wavenet_layer *L)
{
  if (qk_packed_isa(L->conv) != QK_ISA_AVX512VNNI)
    return false;
  if (avx2_frame_loop(L))
    return small_layer(L) || qk_avx2_wavenet_layer_shape(L);
  return L->C <= TILE_ROWS && L->taps <= 4 * MAX_QUADS / L->C && qk_wavenet_bottleneck(L) == L->C;
}

/*
  Frames per vector: with C = 4 or 8 channels a zmm holds P = 16 / C frames
  side by side (lanes p*C .. p*C + C - 1 are frame n + p), so the tanh,
  epilogues and loads of small layers run once per P frames. The weights,
  scales and biases are repeated in every lane group; each lane group
  broadcasts its own frame's codes and scale. Lanes compute exactly what
  they would alone, so the result does not depend on P.
*/

/** Lanes of lane group p (C channels each). */
ALWAYS_INLINE __mmask16 group_mask(int p, const int C)
{
  return (__mmask16)(((1u << C) - 1u) << (p * C));
}

/** Lane i takes lane i % C: a C-row vector repeated in every lane group. */
ALWAYS_INLINE __m512i repeat_rows_i32(__m512i v, const int C)
{
  if (C >= TILE_ROWS)
    return v;
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i idx = C == 8   ? _mm512_and_si512(lane, _mm512_set1_epi32(7))
                      : C == 4 ? _mm512_and_si512(lane, _mm512_set1_epi32(3))
                               : lane;
  return _mm512_permutexvar_epi32(idx, v);
}

ALWAYS_INLINE __m512 repeat_rows_ps(__m512 v, const int C)
{
  return _mm512_castsi512_ps(repeat_rows_i32(_mm512_castps_si512(v), C));
}

/*
  Paired lanes (qk.h: qk_wavenet_layer_s8_history_paired, 8 channels):
  lane 2r + p is row r of frame f + p, so that one 8-byte broadcast of a
  paired history column, [u_j(f), u_j(f+1)], is every lane's quad j, and
  one of the scales, [s(f), s(f+1)], every lane's frame scale. After the
  taps one permute takes z to the frame-major lanes (p * 8 + r) the rest
  of the layer uses.
*/

/** Lane i takes lane i / 2 (an 8-row vector for paired lanes). */
ALWAYS_INLINE __m512i pair_rows_i32(__m512i v)
{
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  return _mm512_permutexvar_epi32(_mm512_srli_epi32(lane, 1), v);
}

/** Rows of C = 8 for frame-major lanes (p * 8 + r) or, PAIRED, paired lanes (2r + p). */
ALWAYS_INLINE __m512i spread_rows_i32(__m512i v, const int C, const int PAIRED)
{
  return PAIRED ? pair_rows_i32(v) : repeat_rows_i32(v, C);
}

ALWAYS_INLINE __m512 spread_rows_ps(__m512 v, const int C, const int PAIRED)
{
  return _mm512_castsi512_ps(spread_rows_i32(_mm512_castps_si512(v), C, PAIRED));
}

/** Paired lanes (2r + p) to frame-major ones (p * 8 + r). */
ALWAYS_INLINE __m512 unpair_lanes(__m512 z)
{
  return _mm512_permutexvar_ps(
      _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15), z);
}

/**
   One matrix ready for the frame loop: signed weights per quad, then per
   tap the constant that takes the activations' +128 back out, the row
   scales and (with zero points) the zero points of the tap -- those of
   the scale group the tap's columns lie in, qk.h's ws[m][g_t], zp[m][g_t]
   -- each repeated in every lane group. A tap's three sit side by side so
   that the frame loops reach them from one per-tap address (indexing
   separate arrays by tap cost A2 standard about 2%: registers for the
   index and its bases, spilled in the 4-vector loops). Sized to the
   matrix, so a layer's prepared weights are as large as its taps need.
*/
typedef struct {
  int has_zp;
  int quads;
  __m512i v[]; /**< quad q: rows x 4 k as signed bytes; then per tap t, at
                    quads + (2 + has_zp) t: -128 * row sum of v over the
                    tap's columns, the scales (float bits), the zero points */
} fused_matrix;

/**
   Quad weights, and tap t's constant, scales and zero points. ZP: the
   matrix has zero points (a compile-time constant in the frame loops,
   which take the conv's); with t = 0 (the 1x1) any ZP gives the same
   address.
*/
ALWAYS_INLINE const __m512i *matrix_w(const fused_matrix *fm) { return fm->v; }
ALWAYS_INLINE const __m512i *matrix_tap(const fused_matrix *fm, int t, const int ZP)
{
  return fm->v + fm->quads + (ptrdiff_t)t * (2 + (ZP ? 1 : 0));
}
ALWAYS_INLINE __m512i matrix_start(const fused_matrix *fm, int t, const int ZP)
{
  return matrix_tap(fm, t, ZP)[0];
}
ALWAYS_INLINE __m512 matrix_scale(const fused_matrix *fm, int t, const int ZP)
{
  return _mm512_castsi512_ps(matrix_tap(fm, t, ZP)[1]);
}
ALWAYS_INLINE __m512i matrix_zp(const fused_matrix *fm, int t) { return matrix_tap(fm, t, 1)[2]; }

/** Bytes of a fused matrix of `quads` quads and `taps` taps, with or without zero points. */
static size_t matrix_bytes(int quads, int taps, bool has_zp)
{
  return sizeof(fused_matrix) + (size_t)(quads + taps * (has_zp ? 3 : 2)) * sizeof(__m512i);
}

/**
   Q = C / 4 quads per tap (the taps split the row into equal parts), rows
   spread for frame-major lanes or (PAIRED, C = 8) paired ones. Tap t's
   scales and zero points are those of group t*C / G (qk.h: G a multiple
   of C), at v->par's [group][PAR_FLOATS] (one tile: rows <= 16).
*/
ALWAYS_INLINE void prepare_matrix(const qk_packed *p, fused_matrix *fm, const int Q,
                                  const int PAIRED)
{
  const int C = 4 * Q;
  const int_view *v = int_view_of(p);
  const __m512i tbl = v->bits == 8 ? _mm512_setzero_si512() : table_u_zmm(p);
  const __m512i flip = _mm512_set1_epi8((char)0x80), ones = _mm512_set1_epi8(1);
  const int quads = v->K / 4, stride = v->has_zp ? 3 : 2;
  fm->quads = quads;
  fm->has_zp = v->has_zp;
  for (int t = 0; t * Q < quads; ++t) {
    __m512i usum = _mm512_setzero_si512();
    for (int q = t * Q; q < (t + 1) * Q; ++q) {
      const __m512i u = quad_u(v, tbl, q);
      usum = dpbusd(usum, u, ones); /* sum of u = v + 128 per row */
      fm->v[q] = spread_rows_i32(_mm512_xor_si512(u, flip), C, PAIRED);
    }
    /* row sum of v = usum - 128 * 4 * Q; start = -128 * that */
    const __m512i rowsum = _mm512_sub_epi32(usum, _mm512_set1_epi32(512 * Q));
    __m512i *tap = fm->v + quads + t * stride;
    tap[0] = spread_rows_i32(_mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(rowsum, 7)),
                             C, PAIRED);
    const float *par = v->par + (size_t)(t * C / v->G) * PAR_FLOATS;
    tap[1] = _mm512_castps_si512(spread_rows_ps(_mm512_load_ps(par), C, PAIRED));
    if (v->has_zp)
      tap[2] = spread_rows_i32(
          _mm512_sub_epi32(_mm512_load_si512(par + 16), _mm512_set1_epi32(128)), C, PAIRED);
  }
}

/** A C-float vector (bias, mixin; NULL = 0) repeated in every lane group. */
ALWAYS_INLINE __m512 load_rows(const float *v, const int C)
{
  return v ? repeat_rows_ps(loadu_mask_ps(lanes_mask(C), v), C) : _mm512_setzero_ps();
}

/** A piecewise-linear nonlinearity's constants, repeated in every lane group. */
typedef struct {
  __m512 slope;  /**< LeakyReLU's slope, or PReLU's per channel */
  __m512 lo, hi; /**< LeakyHardtanh's min_val and max_val */
  __m512 lo_slope, hi_slope;
  qk_wavenet_act_kind kind;
} fused_act;

ALWAYS_INLINE void prepare_act(const qk_wavenet_act *act, fused_act *fa, const int C)
{
  fa->kind = act->kind;
  fa->slope = act->kind == QK_WN_PRELU ? load_rows(act->slopes, C) : _mm512_set1_ps(act->slope);
  fa->lo = _mm512_set1_ps(act->min_val);
  fa->hi = _mm512_set1_ps(act->max_val);
  fa->lo_slope = _mm512_set1_ps(act->min_slope);
  fa->hi_slope = _mm512_set1_ps(act->max_slope);
}

/**
   qk.h's piecewise-linear kinds of 16 lanes: the ordered compares are
   false for NaN as the scalar ones are, the blends pick what the scalar
   branch returns, and the values are the scalar expressions' own single
   multiplies and adds (no fma), hence the same bits.
*/
ALWAYS_INLINE __m512 act16_piecewise(__m512 z, const fused_act *fa)
{
  const __m512 zero = _mm512_setzero_ps();
  switch (fa->kind) {
  case QK_WN_RELU: return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(z, zero, _CMP_GT_OQ), z);
  case QK_WN_LEAKY_RELU:
  case QK_WN_PRELU:
    return _mm512_mask_mov_ps(_mm512_mul_ps(fa->slope, z), _mm512_cmp_ps_mask(z, zero, _CMP_GT_OQ),
                              z);
  case QK_WN_HARDTANH: {
    const __m512 one = _mm512_set1_ps(1.0f), minus_one = _mm512_set1_ps(-1.0f);
    const __m512 t = _mm512_mask_mov_ps(z, _mm512_cmp_ps_mask(z, minus_one, _CMP_LT_OQ), minus_one);
    return _mm512_mask_mov_ps(t, _mm512_cmp_ps_mask(t, one, _CMP_GT_OQ), one);
  }
  case QK_WN_LEAKY_HARDTANH: {
    const __m512 below =
        _mm512_add_ps(_mm512_mul_ps(_mm512_sub_ps(z, fa->lo), fa->lo_slope), fa->lo);
    const __m512 above =
        _mm512_add_ps(_mm512_mul_ps(_mm512_sub_ps(z, fa->hi), fa->hi_slope), fa->hi);
    /* the scalar tests z < min_val first: below wins where both hold */
    const __m512 a = _mm512_mask_mov_ps(z, _mm512_cmp_ps_mask(z, fa->hi, _CMP_GT_OQ), above);
    return _mm512_mask_mov_ps(a, _mm512_cmp_ps_mask(z, fa->lo, _CMP_LT_OQ), below);
  }
  default: return z; /* QK_WN_IDENTITY */
  }
}

/** The layer's nonlinearity: TANH (compile time) or fa's piecewise-linear kind. */
ALWAYS_INLINE __m512 act16_layer(__m512 z, const fused_act *fa, const int TANH)
{
  return TANH ? tanh_int8_16(z) : act16_piecewise(z, fa);
}

/**
   |a| for the frame maxima: with a piecewise-linear a a NaN lane counts 0
   (qk.h's maximum ignores NaN; vmaxps would not), with tanh a is never NaN.
*/
ALWAYS_INLINE __m512 abs_for_max(__m512 a, const int TANH)
{
  const __m512 m = _mm512_abs_ps(a);
  return TANH ? m : _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(a, a, _CMP_ORD_Q), m);
}

/**
   Lane group p gets the int32 at base + p * stride (groups past `valid`
   repeat the last valid frame: never read beyond the block).
*/
ALWAYS_INLINE __m512i frames_i32(const int8_t *base, ptrdiff_t stride, int valid, const int P,
                                 const int C)
{
  __m512i v = _mm512_set1_epi32(load4(base));
#pragma GCC unroll 4
  for (int p = 1; p < P; ++p)
    v = _mm512_mask_set1_epi32(v, group_mask(p, C),
                               load4(base + (p < valid ? p : valid - 1) * stride));
  return v;
}

/** The same for floats one apart (scales, cond). */
ALWAYS_INLINE __m512 frames_ps(const float *base, int valid, const int P, const int C)
{
  __m512 v = _mm512_set1_ps(base[0]);
#pragma GCC unroll 4
  for (int p = 1; p < P; ++p)
    v = _mm512_mask_mov_ps(v, group_mask(p, C), _mm512_set1_ps(base[p < valid ? p : valid - 1]));
  return v;
}

ALWAYS_INLINE __m512i frames_sums(const int32_t *base, int valid, const int P, const int C)
{
  __m512i v = _mm512_set1_epi32(base[0]);
#pragma GCC unroll 4
  for (int p = 1; p < P; ++p)
    v = _mm512_mask_set1_epi32(v, group_mask(p, C), base[p < valid ? p : valid - 1]);
  return v;
}

/** acc += u8(u ^ 0x80) . s8(w). */
ALWAYS_INLINE __m512i dot_quad(__m512i acc, __m512i codes, const __m512i *w)
{
  const __m512i u = _mm512_xor_si512(codes, _mm512_set1_epi8((char)0x80));
  __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "v"(*w));
  return acc;
}

/**
   i = sum over the Q quads of the code columns at c (frame p's column at
   c + p * ld) against weights w[0..Q), from `start`, minus tap t's zp *
   code sum with zero points (ZP: fm->has_zp, a constant in the frame loops so
   that they test it once per call, not per tap). Two chains.
*/
ALWAYS_INLINE __m512i dot_columns(const fused_matrix *fm, int t, const __m512i *w, __m512i start,
                                  const int8_t *c, ptrdiff_t ld, const int32_t *sums, int valid,
                                  const int Q, const int P, const int ZP)
{
  const int C = 4 * Q;
  __m512i a0 = start, a1 = _mm512_setzero_si512();
  if (ZP)
    a0 = _mm512_sub_epi32(a0, _mm512_mullo_epi32(matrix_zp(fm, t), frames_sums(sums, valid, P, C)));
#pragma GCC unroll 4
  for (int j = 0; j < Q; ++j) {
    const __m512i x = frames_i32(c + 4 * j, ld, valid, P, C);
    if (j % 2)
      a1 = dot_quad(a1, x, w + j);
    else
      a0 = dot_quad(a0, x, w + j);
  }
  return _mm512_add_epi32(a0, a1);
}

/*
  Adjacent frames (ADJ): with 8 channels (P = 2) and a narrow history of
  ld = 8 (qk_wavenet_layer_s8_history_ld), a vector's two frames f, f + 1
  are 16 consecutive bytes: one 128-bit load, broadcast to every lane, and
  one in-register permute per quad give what two broadcasts and a masked
  merge per quad gave; their two scales are one 64-bit load likewise.
*/

/** Lanes 0-7 take element lo, lanes 8-15 element hi. */
ALWAYS_INLINE __m512i halves_index(int lo, int hi)
{
  return _mm512_mask_mov_epi32(_mm512_set1_epi32(lo), 0xFF00, _mm512_set1_epi32(hi));
}

/** dot_columns for P = 2 frames at c and c + C (C = 4 Q bytes each, both valid). */
ALWAYS_INLINE __m512i dot_adjacent(const fused_matrix *fm, int t, const __m512i *w, __m512i start,
                                   const int8_t *c, const int32_t *sums, const int Q, const int ZP)
{
  const int C = 4 * Q;
  __m512i a0 = start;
  if (ZP)
    a0 = _mm512_sub_epi32(a0, _mm512_mullo_epi32(matrix_zp(fm, t), frames_sums(sums, 2, 2, C)));
  /* dwords 0 .. Q-1 frame f's quads, Q .. 2Q-1 frame f + 1's; the xor
     makes the unsigned operand (code + 128) once for all quads */
  const __m512i both =
      _mm512_xor_si512(_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)c)),
                       _mm512_set1_epi8((char)0x80));
  /* one chain: the frame loops keep enough vectors in flight to hide its
     latency, and the second chain's zeroing and final add were two of the
     dozen operations per tap and vector */
#pragma GCC unroll 4
  for (int j = 0; j < Q; ++j) {
    const __m512i u = _mm512_permutexvar_epi32(halves_index(j, Q + j), both);
    __asm__("vpdpbusd %2, %1, %0" : "+v"(a0) : "v"(u), "v"(w[j]));
  }
  return a0;
}

/** Load 8 consecutive bytes (unaligned, no aliasing issues). */
ALWAYS_INLINE int64_t load8(const void *p)
{
  int64_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

/**
   dot_columns for paired lanes from a paired history column (qk.h: quad
   j of frames f and f + 1 at byte 8j, as unsigned operands): one
   broadcast and one vpdpbusd per quad. `valid` 1: the successor half is
   another frame or the placeholder, whose lanes the caller ignores; its
   sum is not read (it may be past the history).
*/
ALWAYS_INLINE __m512i dot_paired(const fused_matrix *fm, int t, const __m512i *w, __m512i start,
                                 const int8_t *column, const int32_t *sums, int valid, const int Q,
                                 const int ZP)
{
  __m512i a0 = start;
  if (ZP) {
    const __m512i s = valid == 2 ? _mm512_set1_epi64(load8(sums)) : _mm512_set1_epi32(sums[0]);
    a0 = _mm512_sub_epi32(a0, _mm512_mullo_epi32(matrix_zp(fm, t), s));
  }
#pragma GCC unroll 4
  for (int j = 0; j < Q; ++j) {
    const __m512i u = _mm512_set1_epi64(load8(column + 8 * j));
    __asm__("vpdpbusd %2, %1, %0" : "+v"(a0) : "v"(u), "v"(w[j]));
  }
  return a0;
}

/** The scales of frames f and f + 1 for paired lanes (valid 1: f's in both). */
ALWAYS_INLINE __m512 paired_ps(const float *base, int valid)
{
  if (valid == 2) {
    double two;
    memcpy(&two, base, sizeof two);
    return _mm512_castpd_ps(_mm512_set1_pd(two));
  }
  return _mm512_set1_ps(base[0]);
}

/** frames_ps of two adjacent frames (lanes 0-7 base[0], 8-15 base[1]). */
ALWAYS_INLINE __m512 adjacent_ps(const float *base)
{
  /* _mm_loadl_epi64 reads through an unaligned type (scales are 4-aligned) */
  const __m128 two = _mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)(const void *)base));
  return _mm512_permutexvar_ps(halves_index(0, 1), _mm512_castps128_ps512(two));
}

/*
  Steps 3 and 4 in registers (2 or 4 frames per vector, weights without
  zero points): a is
  quantized per frame by qk.h's dynamic formula -- amax over the frame's
  lanes (a is never NaN: tanh_int8_16 clamps first), scale = amax / 127 and
  inv = 127 / amax when amax is > 0 and finite (else both 0), codes
  clamp(rint(a * inv), +-127) -- with the per-frame maxima of 4 vectors
  reduced together and the divisions done once per 4 vectors. The codes
  of frame (lane group) p feed the 1x1 by an in-register broadcast.
*/

/**
   The 1x1's integer sums (from its start, no zero points) for the codes in
   u (code + 128; frame p's C codes from byte p * C): the lanes of frame p
   take dword group_base + j of u for quad j. Two chains.
*/
ALWAYS_INLINE __m512i dot_codes(const fused_matrix *w1, __m512i u, __m512i group_base, const int Q)
{
  __m512i acc0 = matrix_start(w1, 0, 0), acc1 = _mm512_setzero_si512();
#pragma GCC unroll 4
  for (int j = 0; j < Q; ++j) {
    const __m512i uj =
        _mm512_permutexvar_epi32(_mm512_add_epi32(group_base, _mm512_set1_epi32(j)), u);
    if (j % 2)
      __asm__("vpdpbusd %2, %1, %0" : "+v"(acc1) : "v"(uj), "v"(matrix_w(w1)[j]));
    else
      __asm__("vpdpbusd %2, %1, %0" : "+v"(acc0) : "v"(uj), "v"(matrix_w(w1)[j]));
  }
  return _mm512_add_epi32(acc0, acc1);
}

/** The maximum of each 128-bit lane's 4 elements, in all 4 of them. */
ALWAYS_INLINE __m512 lane_max4(__m512 v)
{
  v = _mm512_max_ps(v, _mm512_permute_ps(v, 0x4E));
  return _mm512_max_ps(v, _mm512_permute_ps(v, 0xB1));
}

/**
   The frame maxima of m[0..3] (|a| of up to 4 vectors of P = 2 or 4
   frames, missing ones 0), packed into one vector, so that the two
   divisions run once for all of them: P = 2 gives each frame a 128-bit
   lane of d01 / d23 and interleaves the two, P = 4 reduces each frame in
   its own 128-bit lane and interleaves the four vectors. frame_values() picks a vector's values
   back out, one per lane group.
*/
ALWAYS_INLINE __m512 frame_maxima(const __m512 m[4], const int P)
{
  if (P == 2) {
    /* 128-bit lanes of d01: v0 frame 0, v0 frame 1, v1 frame 0, v1 frame 1 */
    const __m512 d01 = _mm512_max_ps(_mm512_shuffle_f32x4(m[0], m[1], 0x88),
                                     _mm512_shuffle_f32x4(m[0], m[1], 0xDD));
    const __m512 d23 = _mm512_max_ps(_mm512_shuffle_f32x4(m[2], m[3], 0x88),
                                     _mm512_shuffle_f32x4(m[2], m[3], 0xDD));
    return _mm512_mask_mov_ps(lane_max4(d01), 0xAAAA, lane_max4(d23));
  }
  __m512 r = lane_max4(m[0]);
  r = _mm512_mask_mov_ps(r, 0x2222, lane_max4(m[1]));
  r = _mm512_mask_mov_ps(r, 0x4444, lane_max4(m[2]));
  return _mm512_mask_mov_ps(r, 0x8888, lane_max4(m[3]));
}

/** Vector v's per-frame values from frame_maxima()'s packing, in each frame's lanes. */
ALWAYS_INLINE __m512 frame_values(__m512 d, int v, const int P)
{
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m512i idx;
  if (P == 2) /* frame 0 of vector v at (v & 1) * 8 + (v >> 1), frame 1 four further */
    idx = _mm512_add_epi32(_mm512_set1_epi32((v & 1) * 8 + (v >> 1)),
                           _mm512_and_si512(_mm512_srli_epi32(lane, 1), _mm512_set1_epi32(4)));
  else /* frame l / 4 of vector v at 4 * (l / 4) + v */
    idx = _mm512_add_epi32(_mm512_andnot_si512(_mm512_set1_epi32(3), lane), _mm512_set1_epi32(v));
  return _mm512_permutexvar_ps(idx, d);
}

/**
   Codes of a (never NaN) times inv, as qk.h's dynamic formula gives them.
   FINITE: every inv is finite, so |a * inv| <= 127 (1 + 2^-23) and the
   plain conversion is exact; else (the inverse of a subnormal maximum
   overflows) the clamp to +-127 and NaN (0 * inf) -> 0 are needed.
*/
ALWAYS_INLINE __m512i frame_codes(__m512 a, __m512 inv, const int FINITE)
{
  if (FINITE)
    return _mm512_cvtps_epi32(_mm512_mul_ps(a, inv));
  const __m512 r =
      _mm512_roundscale_ps(_mm512_mul_ps(a, inv), _MM_FROUND_CUR_DIRECTION | _MM_FROUND_NO_EXC);
  const __m512 c = _mm512_min_ps(_mm512_max_ps(r, _mm512_set1_ps(-127.0f)), _mm512_set1_ps(127.0f));
  return _mm512_maskz_cvtps_epi32(_mm512_cmp_ps_mask(r, r, _CMP_ORD_Q), c);
}

/*
  Writing a paired history (qk.h): frame k's quads go to column k's own
  halves (dwords 0 and 2), column k's successor halves (1 and 3) get a
  placeholder copy of them, and column k - 1's successor halves get them
  for good. Written in frame order, every column ends complete.
*/

/**
   8 frames' codes (frame-major, 8 bytes each, as the narrow history held
   them) into paired columns 0 .. 7 at col, completing column -1.
*/
ALWAYS_INLINE void paired_store8(__m512i codes, int8_t *col)
{
  const __m512i u = _mm512_xor_si512(codes, _mm512_set1_epi8((char)0x80));
  /* dword 2k + j of u is u_j(k) */
  const __m512i first = _mm512_setr_epi32(0, 2, 1, 3, 2, 4, 3, 5, 4, 6, 5, 7, 6, 8, 7, 9);
  const __m512i last =
      _mm512_setr_epi32(8, 10, 9, 11, 10, 12, 11, 13, 12, 14, 13, 15, 14, 14, 15, 15);
  _mm512_storeu_si512(col, _mm512_permutexvar_epi32(first, u));
  _mm512_storeu_si512(col + 64, _mm512_permutexvar_epi32(last, u));
  /* column -1's dwords 1 and 3 take u_0(0) and u_1(0) */
  _mm_mask_storeu_epi32(col - 16, 0xA, _mm_shuffle_epi32(_mm512_castsi512_si128(u), 0x50));
}

/** n frames' codes (frame-major, 8 bytes each) into paired columns 0 .. n-1 at col. */
static void paired_store(const int8_t *codes, int n, int8_t *col)
{
  int k = 0;
  for (; k + 8 <= n; k += 8)
    paired_store8(_mm512_loadu_si512(codes + 8 * k), col + 16 * k);
  for (; k < n; ++k) {
    const __m128i u = _mm_xor_si128(_mm_loadl_epi64((const __m128i *)(const void *)(codes + 8 * k)),
                                    _mm_set1_epi8((char)0x80));
    /* [u0, u0, u1, u1]: own halves and the placeholder */
    const __m128i own = _mm_shuffle_epi32(u, 0x50);
    _mm_storeu_si128((__m128i *)(void *)(col + 16 * k), own);
    _mm_mask_storeu_epi32(col + 16 * (k - 1), 0xA, own);
  }
}

/**
   Step 1 into a paired history (8 channels): the narrow quantizer into 16
   frames of codes on the stack (scales and sums straight to the history),
   then paired.
*/
static void quantize_frames_paired(const float *x, int N, const qk_act_s8 *xq)
{
  _Alignas(64) int8_t codes[16 * 8];
  for (int n = 0; n < N; n += 16) {
    const int m = N - n < 16 ? N - n : 16;
    const qk_act_s8 part = {.codes = codes,
                            .ld = 8,
                            .scales = xq->scales + n,
                            .per_column = true,
                            .sums = xq->sums ? xq->sums + n : NULL,
                            .group = 0};
    quantize_frames(x + (size_t)n * 8, 8, m, &part);
    paired_store(codes, m, xq->codes + (size_t)n * 16);
  }
}

/**
   Chaining (qk_wavenet_scratch's next_q): where the next layer's int8
   history takes this call's next[] frames, and whether every frame so far
   went there exactly.
*/
typedef struct {
  const qk_act_s8 *q;
  bool ok;
} chain_out;

/**
   The next layer's step 1 on F vectors of next[] (P = 2 frames of 8
   channels each; `valid_last` frames in the last) while they are in
   registers: qk.h's dynamic formula exactly as quantize_frames_16 computes
   it -- amax = max(|x|, 0) over the frame (NaN counts 0), scale = amax /
   127 and inv = 127 / amax where amax is > 0 and finite (else 0), codes
   rint(x * inv) (NaN -> 0), narrowed with saturation, and the codes' sum.
   One division for the 8 frames' scales and inverses (elements 0-1 and
   2-3 of frame_maxima()'s 128-bit lanes, which hold each frame twice).
   A subnormal maximum (inv overflows) leaves co->ok false: the next layer
   then quantizes the whole call itself, with its fallback.
*/
ALWAYS_INLINE void quantize_next(const __m512 nv[4], int n, int valid_last, chain_out *co,
                                 const int F)
{
  const int P = 2, C = 8;
  const __m512 zero = _mm512_setzero_ps(), k127 = _mm512_set1_ps(127.0f),
               inf = _mm512_set1_ps(__builtin_inff());
  __m512 m[4];
#pragma GCC unroll 4
  for (int v = 0; v < 4; ++v) {
    const int valid = v + 1 < F ? P : valid_last;
    m[v] = v < F ? _mm512_maskz_max_ps(lanes_mask(valid * C), _mm512_abs_ps(nv[v]), zero) : zero;
  }
  const __m512 amax = frame_maxima(m, P);
  const __mmask16 ok =
      _mm512_cmp_ps_mask(amax, zero, _CMP_GT_OQ) & _mm512_cmp_ps_mask(amax, inf, _CMP_LT_OQ);
  const __m512 q = _mm512_maskz_div_ps(ok, _mm512_mask_mov_ps(amax, 0xCCCC, k127),
                                       _mm512_mask_mov_ps(k127, 0xCCCC, amax));
  if (_mm512_mask_cmp_ps_mask(0xCCCC, q, inf, _CMP_EQ_OQ)) {
    co->ok = false;
    return;
  }
  const __m512 invs = _mm512_permute_ps(q, 0x4E);
  const qk_act_s8 *nq = co->q;
  const ptrdiff_t ld = nq->ld;
  __m128i codes[4]; /* a paired history's, written after the loop */
  /* frame k = 2v + p of the 8 at element (v & 1) * 8 + (v >> 1) + 4p */
  const __m512i frame_order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 0, 0, 0, 0, 0, 0, 0, 0);
  storeu_mask_ps(nq->scales + n, lanes_mask((F - 1) * P + valid_last),
                 _mm512_permutexvar_ps(frame_order, q));
#pragma GCC unroll 4
  for (int v = 0; v < F; ++v) {
    const int valid = v + 1 < F ? P : valid_last;
    const __m512 p = _mm512_mul_ps(nv[v], frame_values(invs, v, P));
    const __m128i b =
        _mm512_cvtsepi32_epi8(_mm512_maskz_cvtps_epi32(_mm512_cmp_ps_mask(p, p, _CMP_ORD_Q), p));
    /* sum of code + 128 over each frame's 8 bytes, then the 1024 back out */
    const __m128i sad =
        _mm_sad_epu8(_mm_xor_si128(b, _mm_set1_epi8((char)0x80)), _mm_setzero_si128());
    const __m128i sums = _mm_sub_epi32(_mm_shuffle_epi32(sad, 0x08), _mm_set1_epi32(1024));
    const ptrdiff_t f = n + v * P;
    int8_t *c = nq->codes + f * ld;
    codes[v] = b;
    if (nq->paired) {
      if (valid == 2)
        _mm_storel_epi64((__m128i *)(void *)(nq->sums + f), sums);
      else
        nq->sums[f] = _mm_cvtsi128_si32(sums);
      continue;
    }
    if (valid == 2) {
      if (ld == C) {
        _mm_storeu_si128((__m128i *)(void *)c, b);
      } else {
        _mm_storel_epi64((__m128i *)(void *)c, b);
        _mm_storeh_pd((double *)(void *)(c + ld), _mm_castsi128_pd(b));
      }
      _mm_storel_epi64((__m128i *)(void *)(nq->sums + f), sums);
    } else {
      _mm_storel_epi64((__m128i *)(void *)c, b);
      nq->sums[f] = _mm_cvtsi128_si32(sums);
    }
  }
  if (!nq->paired)
    return;
  int8_t *col = nq->codes + (ptrdiff_t)n * ld;
  if (F == 4 && valid_last == 2) {
    __m512i all = _mm512_castsi128_si512(codes[0]);
    all = _mm512_inserti32x4(all, codes[1], 1);
    all = _mm512_inserti32x4(all, codes[2], 2);
    all = _mm512_inserti32x4(all, codes[3], 3);
    paired_store8(all, col);
    return;
  }
  _Alignas(16) int8_t frame_codes[4 * 16];
  for (int v = 0; v < F; ++v)
    _mm_store_si128((__m128i *)(void *)(frame_codes + 16 * v), codes[v]);
  paired_store(frame_codes, (F - 1) * P + valid_last, col);
}

/** Steps 3 and 4 of F vectors once their frames' scales and inverses are known. */
ALWAYS_INLINE void mix_with_scales(const fused_matrix *w1, const __m512 a[4], __m512 scales,
                                   __m512 invs, const float *x, int n, int valid_last, float *next,
                                   __m512 b1x1, __m512 *nv_out, const int Q, const int P,
                                   const int F, const int FINITE)
{
  const int C = 4 * Q;
  /* lanes of frame n + v*P + p read dword p*Q + j of the vector's codes */
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i group_base = _mm512_mullo_epi32(_mm512_srli_epi32(lane, C == 4   ? 2
                                                                        : C == 8 ? 3
                                                                                 : 4),
                                                _mm512_set1_epi32(Q));
#pragma GCC unroll 4
  for (int v = 0; v < F; ++v) {
    const int valid = v + 1 < F ? P : valid_last;
    const __mmask16 mk = lanes_mask(valid * C);
    const __m512 scale = frame_values(scales, v, P), inv = frame_values(invs, v, P);
    const __m512i q = frame_codes(a[v], inv, FINITE);
    const __m512i u =
        _mm512_zextsi128_si512(_mm_xor_si128(_mm512_cvtepi32_epi8(q), _mm_set1_epi8((char)0x80)));
    const __m512i i = dot_codes(w1, u, group_base, Q);
    const __m512 s =
        _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), matrix_scale(w1, 0, 0), _mm512_setzero_ps());
    const size_t at = (size_t)(n + v * P) * (size_t)C;
    const __m512 base = _mm512_add_ps(b1x1, loadu_mask_ps(mk, x + at));
    const __m512 nv = _mm512_fmadd_ps(s, scale, base);
    storeu_mask_ps(next + at, mk, nv);
    if (nv_out)
      nv_out[v] = nv;
  }
}

ALWAYS_INLINE void mix_vectors(const fused_matrix *w1, const __m512 a[4], const float *x, int n,
                               int valid_last, float *next, __m512 b1x1, __m512 *nv_out,
                               const int Q, const int P, const int F, const int TANH)
{
  __m512 m[4];
#pragma GCC unroll 4
  for (int v = 0; v < 4; ++v)
    m[v] = v < F ? abs_for_max(a[v], TANH) : _mm512_setzero_ps();
  const __m512 amax = frame_maxima(m, P);
  const __m512 k127 = _mm512_set1_ps(127.0f), inf = _mm512_set1_ps(__builtin_inff());
  const __mmask16 ok = _mm512_cmp_ps_mask(amax, _mm512_setzero_ps(), _CMP_GT_OQ) &
                       _mm512_cmp_ps_mask(amax, inf, _CMP_LT_OQ);
  __m512 scales, invs;
  if (P == 2) {
    /* 8 frames, each in elements 0-1 of a 128-bit lane and again in 2-3:
       one division gives the scales in 0-1 and the inverses in 2-3 */
    const __m512 q = _mm512_maskz_div_ps(ok, _mm512_mask_mov_ps(amax, 0xCCCC, k127),
                                         _mm512_mask_mov_ps(k127, 0xCCCC, amax));
    scales = q;
    invs = _mm512_permute_ps(q, 0x4E);
  } else {
    scales = _mm512_maskz_div_ps(ok, amax, k127);
    invs = _mm512_maskz_div_ps(ok, k127, amax);
  }
  /* a piecewise-linear a may be infinite (z overflowed): its frame's inv
     is 0, inf * 0 is NaN, cvtps gives 0x80000000 and the truncating
     vpmovdb of frame_codes keeps its low byte, 0: qk.h's code */
  if (__builtin_expect(_mm512_cmp_ps_mask(invs, inf, _CMP_EQ_OQ) == 0, 1))
    mix_with_scales(w1, a, scales, invs, x, n, valid_last, next, b1x1, nv_out, Q, P, F, 1);
  else
    mix_with_scales(w1, a, scales, invs, x, n, valid_last, next, b1x1, nv_out, Q, P, F, 0);
}

/*
  nonzero_sum: qk.h writes each tap after the first as fma(., s, 0 + z).
  Adding +0 changes only a -0 (to +0), and z is never -0 here: the first
  tap's base is bias + 0, never -0 (a -0 bias gives +0), and an fma whose
  addend is not -0 gives -0 only from two -0 operands or an exact
  cancellation, which rounds to +0 (to nearest). By induction every z
  after a tap is not -0, so the add is left out with the same bits.
*/

/**
   Step 2 for F vectors of P frames from frame n (F * P frames, the last
   vector possibly short: `valid` frames in it). The F vectors are
   independent and interleaved step by step: one frame's chain (taps, then
   the tanh polynomial and division) is long, and a loop over single
   frames leaves the core waiting on it. With a_out NULL, steps 3 and 4
   follow in registers (mix_vectors); else a goes to a_out for them.
*/
ALWAYS_INLINE void conv_vectors(const qk_wavenet_layer *L, const fused_matrix *cv,
                                const fused_matrix *w1, const qk_act_s8 *xq, const float *x,
                                const float *cond, int n, int valid_last, float *head, float *a_out,
                                float *next, __m512 bconv, __m512 mixin, __m512 b1x1,
                                const fused_act *fa, __m512 *a_keep, __m512 *nv_out, const int Q,
                                const int P, const int F, const int TANH, const int ZP,
                                const int ADJ, const int PAIRED)
{
  const int C = 4 * Q, taps = L->taps;
  const ptrdiff_t ld = xq->ld;
  __m512 z[4];
#pragma GCC unroll 4
  for (int v = 0; v < F; ++v)
    z[v] = bconv;
  for (int t = 0; t < taps; ++t) {
    const ptrdiff_t f0 = n - (ptrdiff_t)L->dilation * (taps - 1 - t);
#pragma GCC unroll 4
    for (int v = 0; v < F; ++v) {
      const ptrdiff_t f = f0 + v * P;
      const int valid = v + 1 < F ? P : valid_last;
      if (PAIRED) { /* cv and bconv are the paired ones (conv_frames) */
        const __m512i i = dot_paired(cv, t, matrix_w(cv) + t * Q, matrix_start(cv, t, ZP),
                                     xq->codes + f * ld, xq->sums + f, valid, Q, ZP);
        const __m512 s =
            _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), matrix_scale(cv, t, ZP), _mm512_setzero_ps());
        z[v] = _mm512_fmadd_ps(s, paired_ps(xq->scales + f, valid), z[v]);
        continue;
      }
      const bool adjacent = ADJ && P == 2 && valid == 2;
      const __m512i i = adjacent
                            ? dot_adjacent(cv, t, matrix_w(cv) + t * Q, matrix_start(cv, t, ZP),
                                           xq->codes + f * ld, xq->sums + f, Q, ZP)
                            : dot_columns(cv, t, matrix_w(cv) + t * Q, matrix_start(cv, t, ZP),
                                          xq->codes + f * ld, ld, xq->sums + f, valid, Q, P, ZP);
      const __m512 s =
          _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), matrix_scale(cv, t, ZP), _mm512_setzero_ps());
      const __m512 sf =
          adjacent ? adjacent_ps(xq->scales + f) : frames_ps(xq->scales + f, valid, P, C);
      /* qk.h adds 0 + z before each tap after the first: an identity
         here, as z is never -0 (see nonzero_sum) */
      z[v] = _mm512_fmadd_ps(s, sf, z[v]);
    }
  }
  __m512 a[4];
#pragma GCC unroll 4
  for (int v = 0; v < F; ++v) {
    const int valid = v + 1 < F ? P : valid_last;
    if (PAIRED)
      z[v] = unpair_lanes(z[v]);
    z[v] = _mm512_add_ps(z[v], _mm512_mul_ps(mixin, frames_ps(cond + n + v * P, valid, P, C)));
    a[v] = act16_layer(z[v], fa, TANH);
  }
#pragma GCC unroll 4
  for (int v = 0; v < F; ++v) {
    const int valid = v + 1 < F ? P : valid_last;
    const __mmask16 mk = lanes_mask(valid * C);
    float *hn = head + (size_t)(n + v * P) * (size_t)C;
    storeu_mask_ps(hn, mk, _mm512_add_ps(loadu_mask_ps(mk, hn), a[v]));
    if (a_out)
      storeu_mask_ps(a_out + (size_t)(n + v * P) * (size_t)C, mk, a[v]);
  }
  if (a_keep) {
#pragma GCC unroll 4
    for (int v = 0; v < F; ++v)
      a_keep[v] = a[v];
  } else if (!a_out) {
    mix_vectors(w1, a, x, n, valid_last, next, b1x1, nv_out, Q, P, F, TANH);
  }
}

/**
   Step 2 for every frame, 4 vectors at a time, then single vectors; with
   a_out NULL steps 3 and 4 too.
*/
/**
   Groups of 4 vectors (ADJ: adjacent frames) software-pipelined when
   steps 3 and 4 follow in registers (a_out NULL): group g's conv, then
   group g-1's 1x1 (mix_vectors), then with chaining the next layer's
   quantization of group g-2's next[]. Each of those epilogues is a long
   chain (frame maxima, a division, the 1x1; maxima and a division
   again); right after its own group's conv it left the core waiting, with
   independent conv work behind it in program order it overlaps. Same
   operations on every value, so the same bits.
*/
ALWAYS_INLINE int conv_groups(const qk_wavenet_layer *L, const fused_matrix *cv,
                              const fused_matrix *w1, const qk_act_s8 *xq, const float *x,
                              const float *cond, int n, int N, float *head, float *a_out,
                              float *next, __m512 bconv, __m512 mixin, __m512 b1x1,
                              const fused_act *fa, chain_out *co, const int Q, const int P,
                              const int TANH, const int ZP, const int ADJ, const int PAIRED)
{
  if (a_out) {
    for (; n + 4 * P <= N; n += 4 * P)
      conv_vectors(L, cv, w1, xq, x, cond, n, P, head, a_out, next, bconv, mixin, b1x1, fa, NULL,
                   NULL, Q, P, 4, TANH, ZP, ADJ, PAIRED);
    return n;
  }
  __m512 a[4], a_prev[4], nv[4], nv_prev[4];
  int n_mix = -1, n_quantize = -1; /* groups waiting for those steps */
  for (; n + 4 * P <= N; n += 4 * P) {
    conv_vectors(L, cv, w1, xq, x, cond, n, P, head, NULL, next, bconv, mixin, b1x1, fa, a, NULL, Q,
                 P, 4, TANH, ZP, ADJ, PAIRED);
    if (n_quantize >= 0 && co->ok)
      quantize_next(nv_prev, n_quantize, P, co, 4);
    n_quantize = -1;
    if (n_mix >= 0) {
      mix_vectors(w1, a_prev, x, n_mix, P, next, b1x1, co ? nv : NULL, Q, P, 4, TANH);
      if (co) {
#pragma GCC unroll 4
        for (int v = 0; v < 4; ++v)
          nv_prev[v] = nv[v];
        n_quantize = n_mix;
      }
    }
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v)
      a_prev[v] = a[v];
    n_mix = n;
  }
  if (n_quantize >= 0 && co->ok)
    quantize_next(nv_prev, n_quantize, P, co, 4);
  if (n_mix >= 0) {
    mix_vectors(w1, a_prev, x, n_mix, P, next, b1x1, co ? nv : NULL, Q, P, 4, TANH);
    if (co && co->ok)
      quantize_next(nv, n_mix, P, co, 4);
  }
  return n;
}

/**
   conv_groups from frame n (ADJ, PAIRED as there), then the frames left
   over (fewer than a group) a vector at a time.
*/
ALWAYS_INLINE void conv_rest(const qk_wavenet_layer *L, const fused_matrix *cv,
                             const fused_matrix *w1, const qk_act_s8 *xq, const float *x,
                             const float *cond, int n, int N, float *head, float *a_out,
                             float *next, __m512 bconv, __m512 mixin, __m512 b1x1,
                             const fused_act *fa, chain_out *co, const int Q, const int P,
                             const int TANH, const int ZP, const int PAIRED)
{
  n = conv_groups(L, cv, w1, xq, x, cond, n, N, head, a_out, next, bconv, mixin, b1x1, fa, co, Q, P,
                  TANH, ZP, 0, PAIRED);
  __m512 nv[4];
  for (; n < N; n += P) {
    const int valid = N - n < P ? N - n : P;
    conv_vectors(L, cv, w1, xq, x, cond, n, valid, head, a_out, next, bconv, mixin, b1x1, fa, NULL,
                 co ? nv : NULL, Q, P, 1, TANH, ZP, 0, PAIRED);
    if (co && co->ok)
      quantize_next(nv, n, valid, co, 1);
  }
}

/** cvp: the conv spread for paired lanes (C = 8), read when xq is paired. */
ALWAYS_INLINE void conv_frames(const qk_wavenet_layer *L, const fused_matrix *cv,
                               const fused_matrix *cvp, const fused_matrix *w1, const qk_act_s8 *xq,
                               const float *x, const float *cond, int N, float *head, float *a_out,
                               float *next, const fused_act *fa, chain_out *co, const int Q,
                               const int P, const int TANH, const int ZP)
{
  const int C = 4 * Q;
  const __m512 mixin = load_rows(L->mixin, C);
  const __m512 b1x1 = load_rows(L->bias1x1, C);
  /* chaining is made for 8 channels (2 frames a vector) only */
  if (!(P == 2 && C == 8 && !a_out))
    co = NULL;
  if (P == 2 && C == 8 && xq->paired) {
    /* qk.h: base = bias + 0.0f for the first tap (a -0 bias becomes +0) */
    const __m512 bconvp = _mm512_add_ps(
        L->conv_bias ? spread_rows_ps(loadu_mask_ps(lanes_mask(C), L->conv_bias), C, 1)
                     : _mm512_setzero_ps(),
        _mm512_setzero_ps());
    conv_rest(L, cvp, w1, xq, x, cond, 0, N, head, a_out, next, bconvp, mixin, b1x1, fa, co, Q, P,
              TANH, ZP, 1);
    return;
  }
  const __m512 bconv = _mm512_add_ps(load_rows(L->conv_bias, C), _mm512_setzero_ps());
  int n = 0;
  if (P == 2 && xq->ld == C) /* a narrow history: adjacent frames */
    n = conv_groups(L, cv, w1, xq, x, cond, n, N, head, a_out, next, bconv, mixin, b1x1, fa, co, Q,
                    P, TANH, ZP, 1, 0);
  conv_rest(L, cv, w1, xq, x, cond, n, N, head, a_out, next, bconv, mixin, b1x1, fa, co, Q, P, TANH,
            ZP, 0);
}

/**
   Steps 2 to 4 for the 16 frames from n at one frame per vector (C = 12
   or 16, weights of the 1x1 without zero points), all in registers: a's
   16 frame maxima come from one transposing reduction, as in the batched
   quantizer, instead of a pass through memory. False when a frame's
   maximum is subnormal (a subnormal z gives a subnormal a): a is then in
   a_out for the batched path.
*/
ALWAYS_INLINE bool frames16_in_registers(const qk_wavenet_layer *L, const fused_matrix *cv,
                                         const fused_matrix *w1, const qk_act_s8 *xq,
                                         const float *x, const float *cond, int n, float *head,
                                         float *a_out, float *next, __m512 bconv, __m512 mixin,
                                         __m512 b1x1, const fused_act *fa, chain_out *co,
                                         const int Q, const int TANH, const int ZP)
{
  const int C = 4 * Q, taps = L->taps;
  const ptrdiff_t ld = xq->ld;
  const __mmask16 mk = lanes_mask(C);
  __m512 a[16];
#pragma GCC unroll 16
  for (int v = 0; v < 16; ++v)
    a[v] = bconv;
  for (int t = 0; t < taps; ++t) {
    const ptrdiff_t f0 = n - (ptrdiff_t)L->dilation * (taps - 1 - t);
#pragma GCC unroll 16
    for (int v = 0; v < 16; ++v) {
      const ptrdiff_t f = f0 + v;
      const __m512i i = dot_columns(cv, t, matrix_w(cv) + t * Q, matrix_start(cv, t, ZP),
                                    xq->codes + f * ld, ld, xq->sums + f, 1, Q, 1, ZP);
      const __m512 s =
          _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), matrix_scale(cv, t, ZP), _mm512_setzero_ps());
      /* qk.h's 0 + z: an identity, z is never -0 (nonzero_sum) */
      a[v] = _mm512_fmadd_ps(s, _mm512_set1_ps(xq->scales[f]), a[v]);
    }
  }
  __m512 m[16];
#pragma GCC unroll 16
  for (int v = 0; v < 16; ++v) {
    a[v] = act16_layer(_mm512_add_ps(a[v], _mm512_mul_ps(mixin, _mm512_set1_ps(cond[n + v]))), fa,
                       TANH);
    float *hn = head + (size_t)(n + v) * (size_t)C;
    storeu_mask_ps(hn, mk, _mm512_add_ps(loadu_mask_ps(mk, hn), a[v]));
    /* never NaN; past C, tanh(0) = 0, but a piecewise-linear kind may map
       0 elsewhere (LeakyHardtanh with max_val < 0) */
    m[v] = TANH ? abs_for_max(a[v], TANH) : _mm512_maskz_mov_ps(mk, abs_for_max(a[v], TANH));
  }
  float scales[16] __attribute__((aligned(64))), invs[16] __attribute__((aligned(64)));
  __m512 nv[16];
  const __m512 amax = transpose_reduce16(m, 0);
  /* an infinite piecewise-linear a (z overflowed) saturates a code here:
     the batched path gives it qk.h's code 0 */
  if ((!TANH && _mm512_cmp_ps_mask(amax, _mm512_set1_ps(__builtin_inff()), _CMP_NLT_UQ)) ||
      !dynamic_scales16(amax, scales, invs)) {
#pragma GCC unroll 16
    for (int v = 0; v < 16; ++v)
      storeu_mask_ps(a_out + (size_t)(n + v) * (size_t)C, mk, a[v]);
    return false;
  }
#pragma GCC unroll 16
  for (int v = 0; v < 16; ++v) {
    /* the batched quantizer's codes, as unsigned operands (code + 128);
       a and inv are finite, so p is never NaN */
    const __m512 p = _mm512_mul_ps(a[v], _mm512_set1_ps(invs[v]));
    const __m512i q = _mm512_cvtps_epi32(p);
    const __m512i u =
        _mm512_castsi128_si512(_mm_xor_si128(_mm512_cvtsepi32_epi8(q), _mm_set1_epi8((char)0x80)));
    const __m512i i = dot_codes(w1, u, _mm512_setzero_si512(), Q);
    const __m512 s =
        _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), matrix_scale(w1, 0, 0), _mm512_setzero_ps());
    const size_t at = (size_t)(n + v) * (size_t)C;
    const __m512 base = _mm512_add_ps(b1x1, loadu_mask_ps(mk, x + at));
    nv[v] = _mm512_fmadd_ps(s, _mm512_set1_ps(scales[v]), base);
    storeu_mask_ps(next + at, mk, nv[v]);
  }
  if (co && co->ok) {
    /* the next layer's step 1 while next[] is in registers (16 channels:
       lanes past C are 0, as the batched quantizer reads them) */
    const qk_act_s8 *nq = co->q;
    co->ok = quantize16_registers(nv, nq->codes + (ptrdiff_t)n * nq->ld, (int)nq->ld,
                                  nq->scales + n, nq->sums ? nq->sums + n : NULL, 16, 0);
  }
  return true;
}

/** Step 4 for every frame, P at a time. */
ALWAYS_INLINE void mix_frames(const qk_wavenet_layer *L, const fused_matrix *w1,
                              const qk_act_s8 *aq, const float *x, int N, float *next, const int Q,
                              const int P)
{
  const int C = 4 * Q;
  const ptrdiff_t ld = aq->ld;
  const __m512 b1x1 = load_rows(L->bias1x1, C);
  for (int n = 0; n < N; n += P) {
    const int valid = N - n < P ? N - n : P;
    const __mmask16 mk = lanes_mask(valid * C);
    const __m512i i =
        dot_columns(w1, 0, matrix_w(w1), matrix_start(w1, 0, 0), aq->codes + (ptrdiff_t)n * ld, ld,
                    aq->sums + n, valid, Q, P, w1->has_zp);
    const __m512 s =
        _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), matrix_scale(w1, 0, 0), _mm512_setzero_ps());
    const __m512 base = _mm512_add_ps(b1x1, loadu_mask_ps(mk, x + (size_t)n * (size_t)C));
    storeu_mask_ps(next + (size_t)n * (size_t)C, mk,
                   _mm512_fmadd_ps(s, frames_ps(aq->scales + n, valid, P, C), base));
  }
}

/*
  Small blocks (a block of one frame above all): a frame per vector, steps
  1 to 4 in registers. At one frame a layer is a chain of dependent steps
  (the frame's codes, its tap, the nonlinearity, a's codes, the 1x1, the
  next layer's input), so what counts is the chain's latency: each
  maximum is one in-register reduction (frame_amax_bits), each division
  a scalar one, the frame's own tap takes its codes from the register that
  made them, and nothing goes through the batched quantizers' 16-frame
  columns (at one frame they were two thirds of the layer). Same
  operations on every value as the batched forms, so the same bits.
*/

/**
   The unsigned operands of a frame's codes straight from cvtps's int32
   lanes q (code k in lane k): the low bytes, flipped (code + 128), of
   lanes 4j .. 4j+3 gathered into every dword of 128-bit lane j by one
   in-lane vpshufb (1 cycle, where narrowing with vpmovdb took 4 on the
   chain of a block of one frame). quad_in_lane() then broadcasts quad j.
*/
ALWAYS_INLINE __m512i quads_in_lanes(__m512i q)
{
  const __m512i low_bytes =
      _mm512_broadcast_i32x4(_mm_setr_epi8(0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12));
  return _mm512_shuffle_epi8(_mm512_xor_si512(q, _mm512_set1_epi32(0x80)), low_bytes);
}

/** Quad j of quads_in_lanes() in every lane. */
ALWAYS_INLINE __m512i quad_in_lane(__m512i lanes, const int j)
{
  /* literal immediates: clang wants one even unoptimized (the fuzz build) */
  switch (j) {
  case 0: return _mm512_shuffle_i32x4(lanes, lanes, 0x00);
  case 1: return _mm512_shuffle_i32x4(lanes, lanes, 0x55);
  case 2: return _mm512_shuffle_i32x4(lanes, lanes, 0xaa);
  default: return _mm512_shuffle_i32x4(lanes, lanes, 0xff);
  }
}

/**
   start + the Q quads of w against the operands u[j]: one chain per quad
   (each a single vpdpbusd), summed as a tree; the integer sum is exact
   in any order.
*/
ALWAYS_INLINE __m512i dot_quads(__m512i start, const __m512i *w, const __m512i u[4], const int Q)
{
  __m512i acc[4];
#pragma GCC unroll 4
  for (int j = 0; j < Q; ++j)
    acc[j] = dpbusd(j ? _mm512_setzero_si512() : start, u[j], w[j]);
  if (Q == 1)
    return acc[0];
  const __m512i lo = _mm512_add_epi32(acc[0], acc[1]);
  if (Q == 2)
    return lo;
  return _mm512_add_epi32(lo, Q == 3 ? acc[2] : _mm512_add_epi32(acc[2], acc[3]));
}

/**
   The layer's nonlinearity of one frame of C lanes; with C <= 8 and tanh
   on 256 bits (the same operations on each lane, so the same bits), whose
   division's latency is about 11 cycles against 17 for 512, and lanes
   8 .. 15 zero.
*/
ALWAYS_INLINE __m512 act_one_frame(__m512 z, const fused_act *fa, const int C, const int TANH)
{
  if (!(TANH && C <= 8))
    return act16_layer(z, fa, TANH);
  return _mm512_zextps256_ps512(tanh_int8_8(_mm512_castps512_ps256(z)));
}

/**
   A frame's C floats as a vector (lanes past C zero) and back: plain
   loads and stores of exactly C floats where C is 4, 8 or 16. The next
   layer's input is loaded right after this layer stored it, on the chain
   of a block of one frame, and a store is forwarded to a load of the
   same size; from a masked store it was not, here.
*/
ALWAYS_INLINE __m512 load_frame(const float *p, const int C)
{
  if (C == 16)
    return _mm512_loadu_ps(p);
  if (C == 8)
    return _mm512_zextps256_ps512(_mm256_loadu_ps(p));
  if (C == 4)
    return _mm512_zextps128_ps512(_mm_loadu_ps(p));
  return loadu_mask_ps(lanes_mask(C), p);
}

ALWAYS_INLINE void store_frame_ps(float *p, __m512 v, const int C)
{
  if (C == 16)
    _mm512_storeu_ps(p, v);
  else if (C == 8)
    _mm256_storeu_ps(p, _mm512_castps512_ps256(v));
  else if (C == 4)
    _mm_storeu_ps(p, _mm512_castps512_ps128(v));
  else
    storeu_mask_ps(p, lanes_mask(C), v);
}

/**
   The frame's codes into column n of its history (C bytes; PAIRED: qk.h's
   paired layout, own halves and the placeholder, completing column n-1),
   its scale and code sum.
*/
ALWAYS_INLINE void store_frame(const qk_act_s8 *xq, int n, __m128i b, float scale, const int C,
                               const int PAIRED)
{
  int8_t *col = xq->codes + (ptrdiff_t)n * xq->ld;
  if (PAIRED) {
    const __m128i own = _mm_shuffle_epi32(_mm_xor_si128(b, _mm_set1_epi8((char)0x80)), 0x50);
    _mm_storeu_si128((__m128i *)(void *)col, own);
    _mm_mask_storeu_epi32(col - xq->ld, 0xA, own);
  } else {
    _mm_mask_storeu_epi8(col, (__mmask16)lanes_mask(C), b);
  }
  xq->scales[n] = scale;
  if (xq->sums)
    xq->sums[n] = codes_sum16(b);
}

/**
   Steps 1 to 4 for frame n, one frame per vector (the lanes past C repeat
   or zero the frame's rows, as the weights are spread; only C are
   stored), weights without zero points. False, with nothing written,
   when the frame's inverse scale overflows (the caller's batched path
   takes the frame then). An a whose maximum is not positive and finite
   (or whose inverse overflows) goes the batched way (a_out, the
   quantizer, mix_frames) for steps 3 and 4.
*/
ALWAYS_INLINE bool one_frame(const qk_wavenet_layer *L, const fused_matrix *cv,
                             const fused_matrix *w1, const qk_act_s8 *xq, const float *x,
                             const float *cond, int n, float *head, float *a_out, float *next,
                             const qk_act_s8 *act_1x1, __m512 bconv, __m512 mixin, __m512 b1x1,
                             const fused_act *fa, const int Q, const int TANH, const int PAIRED)
{
  const int C = 4 * Q, taps = L->taps;
  const __mmask16 mk = lanes_mask(C);
  const ptrdiff_t ld = xq->ld;
  const __m512 xv = load_frame(x + (size_t)n * C, C);
  float xs, xinv;
  if (!frame_scale(frame_amax_bits(xv), xv, &xs, &xinv))
    return false;
  const __m512i xcodes = _mm512_cvtps_epi32(_mm512_mul_ps(xv, _mm512_set1_ps(xinv)));
  /* the history's bytes as frame_codes_bytes() makes them, off the chain */
  store_frame(xq, n, _mm512_cvtepi32_epi8(xcodes), xs, C, PAIRED);
  const __m512i xlanes = quads_in_lanes(xcodes);
  __m512i xu[4];
#pragma GCC unroll 4
  for (int j = 0; j < Q; ++j)
    xu[j] = quad_in_lane(xlanes, j);

  __m512 z = bconv;
  for (int t = 0; t < taps; ++t) {
    const ptrdiff_t f = n - (ptrdiff_t)L->dilation * (taps - 1 - t);
    const __m512i *w = matrix_w(cv) + t * Q;
    __m512i i;
    __m512 sf;
    if (f == n) { /* this frame: codes and scale from the registers */
      i = dot_quads(matrix_start(cv, t, 0), w, xu, Q);
      sf = _mm512_set1_ps(xs);
    } else {
      const int8_t *c = xq->codes + f * ld;
      __m512i u[4];
#pragma GCC unroll 4
      for (int j = 0; j < Q; ++j) /* a paired column holds quad j of frame f at byte 8j, unsigned */
        u[j] = PAIRED ? _mm512_set1_epi32(load4(c + 8 * j))
                      : _mm512_xor_si512(_mm512_set1_epi32(load4(c + 4 * j)),
                                         _mm512_set1_epi8((char)0x80));
      i = dot_quads(matrix_start(cv, t, 0), w, u, Q);
      sf = _mm512_set1_ps(xq->scales[f]);
    }
    const __m512 s =
        _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), matrix_scale(cv, t, 0), _mm512_setzero_ps());
    /* qk.h's 0 + z: an identity, z is never -0 (nonzero_sum) */
    z = _mm512_fmadd_ps(s, sf, z);
  }
  z = _mm512_add_ps(z, _mm512_mul_ps(mixin, _mm512_set1_ps(cond[n])));
  const __m512 a = act_one_frame(z, fa, C, TANH);
  float *hn = head + (size_t)n * C;
  store_frame_ps(hn, _mm512_add_ps(load_frame(hn, C), a), C);

  /* past C, tanh repeats the frame's values or gives tanh(0) = 0; a
     piecewise-linear kind may map 0 elsewhere (LeakyHardtanh with
     max_val < 0) */
  const __m512 am = TANH ? a : _mm512_maskz_mov_ps(mk, a);
  const int32_t abits = frame_amax_bits(am);
  float as, ainv;
  if (__builtin_expect(abits >= 0x7F800000 || !frame_scale(abits, am, &as, &ainv), 0)) {
    /* an infinite or NaN a (a piecewise-linear a of an overflowed z), or
       a tiny maximum: qk.h's codes through the batched quantizer */
    storeu_mask_ps(a_out + (size_t)n * C, mk, a);
    const qk_act_s8 aq = qk_act_columns_from(act_1x1, n, 1);
    quantize_frames(a_out + (size_t)n * C, C, 1, &aq);
    mix_frames(L, w1, &aq, x + (size_t)n * C, 1, next + (size_t)n * C, Q, 1);
    return true;
  }
  /* a is finite here: |a * inv| <= 127 (1 + 2^-23), cvtps exact */
  const __m512i alanes =
      quads_in_lanes(_mm512_cvtps_epi32(_mm512_mul_ps(am, _mm512_set1_ps(ainv))));
  __m512i au[4];
#pragma GCC unroll 4
  for (int j = 0; j < Q; ++j)
    au[j] = quad_in_lane(alanes, j);
  const __m512i i = dot_quads(matrix_start(w1, 0, 0), matrix_w(w1), au, Q);
  const __m512 s =
      _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), matrix_scale(w1, 0, 0), _mm512_setzero_ps());
  const __m512 base = _mm512_add_ps(b1x1, xv);
  store_frame_ps(next + (size_t)n * C, _mm512_fmadd_ps(s, _mm512_set1_ps(as), base), C);
  return true;
}

/**
   Steps 1 and 3: the dynamic quantizer, as the composition calls it, but
   storing only the C codes of each column (all the frame loops read).
*/
static void quantize_frames(const float *x, int C, int N, const qk_act_s8 *dst)
{
  qk_act_s8 out = *dst;
  if (!qk_avx512vnni_quantize_frames(x, C, N, &out))
    qk_act_quantize_dynamic(&qk_ops_avx512vnni, x, C, C, N, &out);
}

/*
  A layer's prepared weights (qk.h): the conv's fused matrix, then the
  1x1's, then with 8 channels the conv's again spread for paired lanes
  (for a paired history), each sized by matrix_bytes (multiples of 64
  bytes).
*/
static size_t conv_bytes(const qk_wavenet_layer *L)
{
  return matrix_bytes(L->taps * L->C / 4, L->taps, qk_packed_has_zero_points(L->conv));
}

static size_t w1_bytes(const qk_wavenet_layer *L)
{
  return matrix_bytes(L->C / 4, 1, qk_packed_has_zero_points(L->w1x1));
}

/**
   The largest prepared weights: at C = 8 (16 taps of 2 quads and 3
   vectors each) the conv twice and a 1x1 of 2 quads; C = 4 (32 taps of 1
   quad, a 1x1 of 1 quad) and C = 12, 16 (10 and 8 taps) take less.
*/
#define MAX_PREPARED                                                                               \
  (sizeof(fused_matrix) * 3 + (size_t)(2 * (MAX_QUADS + 3 * (MAX_QUADS / 2)) + 2 + 3) * 64)
_Static_assert(sizeof(fused_matrix) * 2 + (size_t)(MAX_QUADS + 3 * MAX_QUADS + 1 + 3) * 64 <=
                   MAX_PREPARED,
               "C = 4's prepared weights fit");

typedef struct {
  const fused_matrix *cv, *w1;
  const fused_matrix *cvp; /**< C = 8: the conv for paired lanes, else NULL */
} fused_layer;

static fused_layer layer_at(const qk_wavenet_layer *L, const void *mem)
{
  const char *at = mem;
  const fused_layer fl = {(const fused_matrix *)at, (const fused_matrix *)(at + conv_bytes(L)),
                          L->C == 8 ? (const fused_matrix *)(at + conv_bytes(L) + w1_bytes(L))
                                    : NULL};
  return fl;
}

ALWAYS_INLINE void prepare_layer(const qk_wavenet_layer *L, void *mem, const int Q)
{
  char *at = mem;
  prepare_matrix(L->conv, (fused_matrix *)at, Q, 0);
  prepare_matrix(L->w1x1, (fused_matrix *)(at + conv_bytes(L)), Q, 0);
  if (Q == 2)
    prepare_matrix(L->conv, (fused_matrix *)(at + conv_bytes(L) + w1_bytes(L)), Q, 1);
}

size_t qk_avx512vnni_wavenet_prepared_size(const qk_wavenet_layer *L)
{
  if (small_layer(L))
    return qk_avx512vnni_small_layer_bytes();
  if (avx2_frame_loop(L))
    return qk_avx2_wavenet_prepared_size(L);
  return conv_bytes(L) * (L->C == 8 ? 2 : 1) + w1_bytes(L);
}

/**
   The small form reads and writes a column's first dword (C <= 3 codes
   and zero padding); the others read C codes, and with C = 8 or 16 their
   quantizer writes only those (other C go through the generic quantizer,
   which writes whole columns).
*/
/** qk.h: 8 channels with a lookback (column -1 always exists to complete). */
bool qk_avx512vnni_wavenet_history_paired(const qk_wavenet_layer *L)
{
  return !avx2_frame_loop(L) && L->C == 8 && L->taps > 1 && L->dilation > 0;
}

int qk_avx512vnni_wavenet_history_ld(const qk_wavenet_layer *L)
{
  if (small_layer(L))
    return 4;
  if (qk_avx512vnni_wavenet_history_paired(L))
    return 16;
  if (!avx2_frame_loop(L) && (L->C == 8 || L->C == 16))
    return L->C;
  return qk_act_ld(L->C);
}

static qk_wavenet_s8_frame_fn frame_form(const qk_wavenet_layer *L);

qk_wavenet_s8_frame_fn qk_avx512vnni_wavenet_s8_frame_form(const qk_wavenet_layer *L)
{
  if (small_layer(L))
    return qk_avx512vnni_small_frame_form(L);
  return avx2_frame_loop(L) ? NULL : frame_form(L);
}

bool qk_avx512vnni_wavenet_chains(const qk_wavenet_layer *L)
{
  /* the 8-channel form (2 frames a vector) and the 16-channel one's
     16-frame groups, whose 1x1 epilogue runs in registers (weights
     without zero points) */
  return (L->C == 8 || L->C == 16) && qk_wavenet_bottleneck(L) == L->C &&
         !qk_packed_has_zero_points(L->w1x1);
}

void qk_avx512vnni_wavenet_prepare(const qk_wavenet_layer *L, void *mem)
{
  if (small_layer(L)) {
    qk_avx512vnni_small_layer_prepare(L, mem);
    return;
  }
  if (avx2_frame_loop(L)) {
    qk_avx2_wavenet_prepare(L, mem);
    return;
  }
  switch (L->C / 4) {
  case 1: prepare_layer(L, mem, 1); break;
  case 2: prepare_layer(L, mem, 2); break;
  case 3: prepare_layer(L, mem, 3); break;
  default: prepare_layer(L, mem, 4); break;
  }
}

/**
   Frames below which a layer of P frames per vector runs one frame per
   vector (one_frame) instead. A1's 8-channel layers (P = 2), against the
   2-frame form, ns per sample of the model: 2 frames 1071 against 1209,
   4 frames 854 against 838, 7 frames 803 against 756.
*/
#define FEW_FRAMES(P) (2 * (P))

ALWAYS_INLINE void layer_q(const qk_wavenet_layer *L, const float *x, const qk_act_s8 *xq,
                           const float *cond, int N, float *head, float *next,
                           const qk_wavenet_scratch *scratch, const int Q, const int TANH,
                           const int ZP)
{
  const int P = 4 / Q == 4 ? 4 : 4 / Q == 2 ? 2 : 1; /* C = 4, 8: 4, 2 frames per zmm */
  const int C = 4 * Q;
  _Alignas(64) unsigned char local[MAX_PREPARED];
  const void *mem = L->prepared;
  if (!mem) {
    prepare_layer(L, local, Q);
    mem = local;
  }
  const fused_layer fl = layer_at(L, mem);
  const fused_matrix *cv = fl.cv, *w1 = fl.w1;
  fused_act act;
  prepare_act(&L->act, &act, C);
  const fused_act *fa = &act;
  const fused_matrix *cvp = fl.cvp;
  float *a = scratch->z;
  const bool paired = Q == 2 && xq->paired;
  /* qk.h: base = bias + 0.0f for the first tap (a -0 bias becomes +0) */
  const __m512 bconv = _mm512_add_ps(load_rows(L->conv_bias, C), _mm512_setzero_ps());
  const __m512 mixin = load_rows(L->mixin, C), b1x1 = load_rows(L->bias1x1, C);

  /* frames [0, n0) are done; [n0, quantized) are in the int8 history */
  int n0 = 0, quantized = scratch->x_quantized ? N : 0;
  if (!w1->has_zp && (P == 1 || (!ZP && N < FEW_FRAMES(P)))) {
    /* 16-frame groups (P = 1), then the rest a frame at a time */
    const int groups = P == 1 ? N / 16 * 16 : 0;
    if (quantized < groups) {
      quantize_frames(x, C, groups, xq);
      quantized = groups;
    }
    /* 16 channels: the next layer's step 1 in the groups' epilogue, when
       the groups are the whole call (the frames after them run one_frame,
       which does not chain) */
    chain_out co = {scratch->next_q, Q == 4 && scratch->next_q && groups == N && N > 0};
    for (; n0 < groups; n0 += 16)
      if (!frames16_in_registers(L, cv, w1, xq, x, cond, n0, head, a, next, bconv, mixin, b1x1, fa,
                                 co.ok ? &co : NULL, Q, TANH, ZP)) {
        const qk_act_s8 aq = qk_act_columns_from(scratch->act_1x1, n0, 1);
        quantize_frames(a + (size_t)n0 * C, C, 16, &aq);
        mix_frames(L, w1, &aq, x + (size_t)n0 * C, 16, next + (size_t)n0 * C, Q, P);
        co.ok = false;
      }
    if (scratch->next_quantized)
      *scratch->next_quantized = co.ok;
    for (; !ZP && n0 < N; ++n0)
      if (!(paired ? one_frame(L, cv, w1, xq, x, cond, n0, head, a, next, scratch->act_1x1, bconv,
                               mixin, b1x1, fa, Q, TANH, 1)
                   : one_frame(L, cv, w1, xq, x, cond, n0, head, a, next, scratch->act_1x1, bconv,
                               mixin, b1x1, fa, Q, TANH, 0)))
        break; /* an overflowing inverse scale: the rest the batched way */
    if (n0 == N)
      return;
    if (quantized < n0)
      quantized = n0;
  }
  if (quantized < N) {
    const qk_act_s8 xr = qk_act_columns_from(xq, quantized, 1);
    const float *xn = x + (size_t)quantized * C;
    if (paired)
      quantize_frames_paired(xn, N - quantized, &xr);
    else
      quantize_frames(xn, C, N - quantized, &xr);
  }
  if (n0 == 0 && P > 1 && !w1->has_zp) {
    /* the next layer's step 1 in the epilogue (8 channels: 2 frames a
       vector), from 32 frames on: at 16 the call's last group ends on
       both epilogue chains with nothing to overlap them, and A2 standard
       measured 2% slower chained than not (4% faster at 64) */
    chain_out co = {scratch->next_q, P == 2 && scratch->next_q && N >= 32};
    conv_frames(L, cv, cvp, w1, xq, x, cond, N, head, NULL, next, fa, co.ok ? &co : NULL, Q, P,
                TANH, ZP);
    if (scratch->next_quantized)
      *scratch->next_quantized = co.ok;
    return;
  }
  /* the rest (all frames with zero points) in three passes */
  const qk_act_s8 xr = qk_act_columns_from(xq, n0, 1);
  const qk_act_s8 ar = qk_act_columns_from(scratch->act_1x1, n0, 1);
  const size_t at = (size_t)n0 * C;
  conv_frames(L, cv, cvp, w1, &xr, x + at, cond + n0, N - n0, head + at, a + at, next + at, fa,
              NULL, Q, P, TANH, ZP);
  quantize_frames(a + at, C, N - n0, &ar);
  mix_frames(L, w1, &ar, x + at, N - n0, next + at, Q, P);
}

/**
  layer_q compiled once per channel quad count (Q), activation and zero
  points, each a function of its own (noinline): inlined into one body, the
  16 forms made a function that took the compiler 19 minutes under ASan (306 s apart);
  apart they cost one call per layer.
*/
typedef void layer_fn(const qk_wavenet_layer *L, const float *x, const qk_act_s8 *xq,
                      const float *cond, int N, float *head, float *next,
                      const qk_wavenet_scratch *scratch);

#define LAYER_FN(Q, TANH, ZP)                                                                      \
  static __attribute__((noinline)) void layer_q##Q##_t##TANH##_z##ZP(                              \
      const qk_wavenet_layer *L, const float *x, const qk_act_s8 *xq, const float *cond, int N,    \
      float *head, float *next, const qk_wavenet_scratch *scratch)                                 \
  {                                                                                                \
    layer_q(L, x, xq, cond, N, head, next, scratch, Q, TANH, ZP);                                  \
  }
#define LAYER_FNS(Q) LAYER_FN(Q, 0, 0) LAYER_FN(Q, 0, 1) LAYER_FN(Q, 1, 0) LAYER_FN(Q, 1, 1)
LAYER_FNS(1)
LAYER_FNS(2)
LAYER_FNS(3)
LAYER_FNS(4)

/** [Q - 1][tanh][zero points] */
static layer_fn *const layer_forms[4][2][2] = {
    {{layer_q1_t0_z0, layer_q1_t0_z1}, {layer_q1_t1_z0, layer_q1_t1_z1}},
    {{layer_q2_t0_z0, layer_q2_t0_z1}, {layer_q2_t1_z0, layer_q2_t1_z1}},
    {{layer_q3_t0_z0, layer_q3_t0_z1}, {layer_q3_t1_z0, layer_q3_t1_z1}},
    {{layer_q4_t0_z0, layer_q4_t0_z1}, {layer_q4_t1_z0, layer_q4_t1_z1}},
};

/**
   The frame form (qk.h) of the layers above without zero points: layer_q
   at one frame, which runs it a frame per vector (one_frame), with a
   scratch of one frame of its own, called straight. At a block of one
   frame the engine's general int8 call, the ISA dispatch and the shape
   tests of qk_avx512vnni_wavenet_layer_s8 took about a tenth of A1's
   time (16-channel layers; README, "The engine around the layers").
*/
#define FRAME_FN(Q, TANH)                                                                          \
  static void frame_q##Q##_t##TANH(const qk_wavenet_layer *L, const float *x, const qk_act_s8 *xq, \
                                   float cond, float *head, float *next)                           \
  {                                                                                                \
    _Alignas(64) float a[4 * (Q)];                                                                 \
    _Alignas(64) int8_t codes[64];                                                                 \
    float scale;                                                                                   \
    int32_t sum;                                                                                   \
    qk_act_s8 act_1x1 = {codes, 64, &scale, true, &sum, 0, false};                                 \
    const qk_wavenet_scratch scratch = {.act_1x1 = &act_1x1, .z = a};                              \
    layer_q##Q##_t##TANH##_z0(L, x, xq, &cond, 1, head, next, &scratch);                           \
  }
#define FRAME_FNS(Q) FRAME_FN(Q, 0) FRAME_FN(Q, 1)
FRAME_FNS(1)
FRAME_FNS(2)
FRAME_FNS(3)
FRAME_FNS(4)

/** [Q - 1][tanh] */
static const qk_wavenet_s8_frame_fn frame_forms[4][2] = {
    {frame_q1_t0, frame_q1_t1},
    {frame_q2_t0, frame_q2_t1},
    {frame_q3_t0, frame_q3_t1},
    {frame_q4_t0, frame_q4_t1},
};

void qk_avx512vnni_wavenet_layer_s8(const qk_wavenet_layer *L, const float *x, const qk_act_s8 *xq,
                                    const float *cond, int N, float *head, float *next,
                                    const qk_wavenet_scratch *scratch)
{
  if (small_layer(L)) {
    qk_avx512vnni_small_layer_s8(L, L->prepared, x, xq, cond, N, head, next);
    return;
  }
  if (avx2_frame_loop(L)) {
    qk_avx2_wavenet_layer_s8(L, x, xq, cond, N, head, next, scratch);
    return;
  }
  /* tanh (A1) and the piecewise-linear kinds (A2) compiled apart: the
     tanh form is the code it was before the other kinds existed */
  const int q = L->C / 4 < 4 ? L->C / 4 : 4;
  const bool tanh = L->act.kind == QK_WN_TANH;
  const bool zp = qk_packed_has_zero_points(L->conv);
  layer_forms[q - 1][tanh][zp](L, x, xq, cond, N, head, next, scratch);
}

/** A layer layer_q runs without zero points (C = 4 to 16): its frame form. */
static qk_wavenet_s8_frame_fn frame_form(const qk_wavenet_layer *L)
{
  if (L->C > TILE_ROWS || qk_packed_has_zero_points(L->conv) || qk_packed_has_zero_points(L->w1x1))
    return NULL;
  return frame_forms[L->C / 4 - 1][L->act.kind == QK_WN_TANH];
}
