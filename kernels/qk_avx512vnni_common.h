/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  What the AVX-512 VNNI files share: the packed integer layout (described
  in qk_avx512vnni.c, which writes it), the vpdpbusd steps that read it and
  the vector tanh/sigmoid. Every function here is inline; the files that
  include this header are compiled with the AVX-512 flags.
*/
#ifndef QUANTONE_KERNELS_QK_AVX512VNNI_COMMON_H
#define QUANTONE_KERNELS_QK_AVX512VNNI_COMMON_H

#include "qk_internal.h"

#include <immintrin.h>
#include <string.h>

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/** Rows per tile: one zmm of int32 or float outputs. */
#define TILE_ROWS 16

/** Lane mask for the first n (<= 16) of 16 lanes. */
ALWAYS_INLINE __mmask16 lanes_mask(int n)
{
  return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n > 0 ? n : 0)) - 1u);
}

/**
   Lanes 0 .. n-1 stored to p[0 .. n-1] (n <= 4) without a masked store,
   and loaded back the same way: a layer of a few channels at a block of
   one frame stores a frame that the next layer loads at once, and a masked
   store does not forward to a later load (it waits for the store to
   retire and commit; measured on Zen 5). The load reads exactly the
   pieces the store wrote (8 bytes, then 4), so each piece forwards.
*/
ALWAYS_INLINE void store_few(float *p, __m512 v, int n)
{
  const __m128 x = _mm512_castps512_ps128(v);
  switch (n) {
  case 1: _mm_store_ss(p, x); break;
  case 2: _mm_storel_pi((__m64 *)(void *)p, x); break;
  case 3:
    _mm_storel_pi((__m64 *)(void *)p, x);
    _mm_store_ss(p + 2, _mm_movehl_ps(x, x));
    break;
  default: _mm_storeu_ps(p, x); break;
  }
}

/** p[0 .. n-1] (n <= 4) in lanes 0 .. n-1, the other lanes zero (store_few's pieces). */
ALWAYS_INLINE __m512 load_few(const float *p, int n)
{
  __m128 x;
  switch (n) {
  case 1: x = _mm_load_ss(p); break;
  case 2: x = _mm_castpd_ps(_mm_load_sd((const double *)(const void *)p)); break;
  case 3:
    x = _mm_movelh_ps(_mm_castpd_ps(_mm_load_sd((const double *)(const void *)p)), _mm_load_ss(p + 2));
    break;
  default: x = _mm_loadu_ps(p); break;
  }
  return _mm512_zextps128_ps512(x);
}

/**
   _mm512_mask_storeu_ps and _mm512_maskz_loadu_ps, but plain where the
   mask is all 16 lanes or the low 8. On Zen 4 a masked store, even of all
   16 lanes, does not forward to a load that reads it back soon after (the
   load waits until the store commits), and a masked load does not take a
   forwarded value either. Layers and GEMMs store a frame that the next
   step loads at once, so the whole and half vectors of 16- and 8-channel
   layers go plain. Measured on the A1 WaveNet's float path (README,
   "Masked stores").
*/
ALWAYS_INLINE void storeu_mask_ps(float *p, __mmask16 mk, __m512 v)
{
  if (mk == (__mmask16)0xFFFF)
    _mm512_storeu_ps(p, v);
  else if (mk == (__mmask16)0x00FF)
    _mm256_storeu_ps(p, _mm512_castps512_ps256(v));
  else
    _mm512_mask_storeu_ps(p, mk, v);
}

/** The lanes of mk from p, the others zero (storeu_mask_ps' pieces). */
ALWAYS_INLINE __m512 loadu_mask_ps(__mmask16 mk, const float *p)
{
  if (mk == (__mmask16)0xFFFF)
    return _mm512_loadu_ps(p);
  if (mk == (__mmask16)0x00FF)
    return _mm512_zextps256_ps512(_mm256_loadu_ps(p));
  return _mm512_maskz_loadu_ps(mk, p);
}

/* ------------------------------------------------------------------------
   Geometry of the packed integer layout, computed once at pack time and
   kept in a header at the start of p->data (a GEMV call reads it instead of
   recomputing it).
   ------------------------------------------------------------------------ */

/** Floats of per-(tile, group) parameters: 16 scales, 16 int32 zc, 64 int32 zc lane
    pattern, 64 float scale lane pattern (lane i of pattern L: row 4L + i/4). */
#define PAR_FLOATS 160
/** Bytes reserved for the header in front of the codes. */
#define HDR_BYTES 128

typedef struct {
  int M, K, T;        /**< rows, cols, tiles of 16 rows */
  int G, ng;          /**< effective group size and count */
  int bits;           /**< 8, 4 or 2 */
  int kstep;          /**< k per 64-byte block: 32 / bits */
  int Kp;             /**< padded K: whole blocks in the last group */
  int has_zp;         /**< zero points given */
  size_t tile_bytes;  /**< code bytes per tile */
  size_t codes_bytes; /**< all code bytes (multiple of 64) */
  const uint8_t *codes;
  const float *par; /**< [T][ng][PAR_FLOATS] */
} int_view;

_Static_assert(sizeof(int_view) <= HDR_BYTES, "int_view header too large");

/** The header written by pack_avx512vnni(). */
ALWAYS_INLINE const int_view *int_view_of(const qk_packed *p) { return (const int_view *)p->data; }

/**
   p->table + 128 (as unsigned bytes) in every 128-bit lane: every integer
   format is handled as u = v + 128 in [0, 255], the unsigned operand of
   vpdpbusd; zc = zp + 128 takes the offset back out.
*/
ALWAYS_INLINE __m512i table_u_zmm(const qk_packed *p)
{
  return _mm512_xor_si512(
      _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)p->table)),
      _mm512_set1_epi8((char)0x80));
}

/**
   Unsigned values u = v + 128 of quad tile j of a 64-byte block: the block
   itself for 8-bit codes, else one shift + mask to the indices and one
   vpshufb through the (offset) table.
*/
ALWAYS_INLINE __m512i decode_quad(__m512i blk, const int bits, const int j, __m512i tbl)
{
  if (bits == 8)
    return blk;
  const __m512i mask = _mm512_set1_epi8((char)((1 << bits) - 1));
  __m512i idx = j ? _mm512_srli_epi16(blk, (unsigned)(bits * j)) : blk;
  return _mm512_shuffle_epi8(tbl, _mm512_and_si512(idx, mask));
}

/** Quad q of a packed integer matrix as u = v + 128 (decode_quad wants constant bits, j). */
ALWAYS_INLINE __m512i quad_u(const int_view *v, __m512i tbl, int q)
{
  const int per = 8 / v->bits;
  const __m512i blk = _mm512_load_si512(v->codes + (size_t)(q / per) * 64);
  switch (v->bits) {
  case 8: return decode_quad(blk, 8, 0, tbl);
  case 4: return q % 2 ? decode_quad(blk, 4, 1, tbl) : decode_quad(blk, 4, 0, tbl);
  default:
    switch (q % 4) {
    case 0: return decode_quad(blk, 2, 0, tbl);
    case 1: return decode_quad(blk, 2, 1, tbl);
    case 2: return decode_quad(blk, 2, 2, tbl);
    default: return decode_quad(blk, 2, 3, tbl);
    }
  }
}

/**
   acc += u8(u) . s8(x), per 32-bit lane. Written as in-place asm
   statements: with the intrinsic, GCC 12 fails to coalesce loop-carried
   accumulators and copies every one of them each iteration. The _bc form
   broadcasts 4 activation bytes straight from memory (embedded broadcast).
*/
ALWAYS_INLINE __m512i dpbusd(__m512i acc, __m512i u, __m512i x)
{
  __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "v"(x));
  return acc;
}

typedef int32_t qk_i32u __attribute__((aligned(1), may_alias));

ALWAYS_INLINE __m512i dpbusd_bc(__m512i acc, __m512i u, const int8_t *x)
{
  __asm__("vpdpbusd %2%{1to16%}, %1, %0"
          : "+v"(acc)
          : "v"(u), "m"(*(const qk_i32u *)(const void *)x));
  return acc;
}

/* byte kk*4+rr <- rr*4+kk inside each lane, then dword kk*4+L <- L*4+kk */
#define BYTE_T_ZMM                                                                                 \
  _mm512_broadcast_i32x4(_mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15))
#define DWORD_T_ZMM _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15)

/* ------------------------------------------------------------------------
   tanh / sigmoid: the scalar exp_approx step for step (qk_internal.h), so
   results match the scalar bit for bit; NaN clamps like fminf/fmaxf.
   ------------------------------------------------------------------------ */

ALWAYS_INLINE __m512 exp_approx16(__m512 y)
{
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(y, _mm512_set1_ps(QK_LOG2E)),
                                        _MM_FROUND_CUR_DIRECTION | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(-QK_LN2_HI), y);
  r = _mm512_fmadd_ps(n, _mm512_set1_ps(-QK_LN2_LO), r);
  __m512 p = _mm512_set1_ps(QK_EXP_C7);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(QK_EXP_C6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(QK_EXP_C5));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(QK_EXP_C4));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(QK_EXP_C3));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(QK_EXP_C2));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  const __m512i e =
      _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvttps_epi32(n), _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

/** qk_internal.h's QK_TANH8 rational of 16 lanes, step for step. */
ALWAYS_INLINE __m512 tanh_int8_16(__m512 x)
{
  const float c = QK_TANH8_CLAMP;
  const __m512 v = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-c)), _mm512_set1_ps(c));
  const __m512 u = _mm512_mul_ps(v, v);
  const __m512 p =
      _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_set1_ps(QK_TANH8_P2), u, _mm512_set1_ps(QK_TANH8_P1)),
                      u, _mm512_set1_ps(QK_TANH8_P0));
  const __m512 q =
      _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_set1_ps(QK_TANH8_Q2), u, _mm512_set1_ps(QK_TANH8_Q1)),
                      u, _mm512_set1_ps(1.0f));
  return _mm512_div_ps(_mm512_mul_ps(v, p), q);
}

/** The activation ACT (QK_ACT_TANH, _SIGMOID, _TANH_INT8) of 16 lanes, clamped first. */
ALWAYS_INLINE __m512 act16(__m512 x, const int ACT)
{
  if (ACT == QK_ACT_TANH_INT8)
    return tanh_int8_16(x);
  const __m512 one = _mm512_set1_ps(1.0f);
  const float c = ACT == QK_ACT_SIGMOID ? QK_SIGMOID_CLAMP : QK_TANH_CLAMP;
  const __m512 v = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-c)), _mm512_set1_ps(c));
  if (ACT == QK_ACT_SIGMOID) {
    const __m512 e = exp_approx16(_mm512_xor_ps(v, _mm512_set1_ps(-0.0f))); /* -v */
    return _mm512_div_ps(one, _mm512_add_ps(one, e));
  }
  const __m512 e = exp_approx16(_mm512_mul_ps(_mm512_set1_ps(2.0f), v));
  return _mm512_div_ps(_mm512_sub_ps(e, one), _mm512_add_ps(e, one));
}

/**
   r lane c = reduction of all 16 lanes of v[c], for 16 vectors at once
   (op: 0 = float max, 1 = int32 add): 15 shuffle steps instead of 16
   horizontal reductions of 4 steps each, and no long per-column chain.
*/
ALWAYS_INLINE __m512 op16(__m512 a, __m512 b, const int ADD)
{
  return ADD ? _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(a), _mm512_castps_si512(b)))
             : _mm512_max_ps(a, b);
}

/**
   The same from 8 vectors of two columns each: lanes 0-7 of c[i] belong to
   column 2i, lanes 8-15 to column 2i + 1.
*/
ALWAYS_INLINE __m512 transpose_reduce8x2(const __m512 c[8], const int ADD)
{
  __m512 d[4], e[2];
  /* 8 -> 4: 128-bit lane L of d[i] holds 4 partials of column 4i+L */
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i)
    d[i] = op16(_mm512_shuffle_f32x4(c[2 * i], c[2 * i + 1], 0x88),
                _mm512_shuffle_f32x4(c[2 * i], c[2 * i + 1], 0xDD), ADD);
    /* 4 -> 2: lane L of e[i]: 2 partials of column 8i+L, then of 8i+4+L */
#pragma GCC unroll 2
  for (int i = 0; i < 2; ++i)
    e[i] = op16(_mm512_shuffle_ps(d[2 * i], d[2 * i + 1], 0x88),
                _mm512_shuffle_ps(d[2 * i], d[2 * i + 1], 0xDD), ADD);
  /* 2 -> 1: lane L element j = column L + 4j */
  const __m512 r =
      op16(_mm512_shuffle_ps(e[0], e[1], 0x88), _mm512_shuffle_ps(e[0], e[1], 0xDD), ADD);
  return _mm512_permutexvar_ps(DWORD_T_ZMM, r);
}

ALWAYS_INLINE __m512 transpose_reduce16(const __m512 v[16], const int ADD)
{
  __m512 c[8];
  /* 16 -> 8: 256-bit halves folded; c[i] lanes 0-7 from v[2i], 8-15 from v[2i+1] */
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i)
    c[i] = op16(_mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0x44),
                _mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0xEE), ADD);
  return transpose_reduce8x2(c, ADD);
}

/**
   qk.h's dynamic scales of 16 columns from their maxima (never NaN: max
   ignores NaN lanes): scale = amax / 127 and inv = 127 / amax where amax is
   > 0 and finite, else 0. False (nothing stored) for a subnormal amax,
   whose inverse overflows: the generic primitive handles those columns.
*/
ALWAYS_INLINE bool dynamic_scales16(__m512 amax, float *scales, float invs[16])
{
  const __mmask16 ok = _mm512_cmp_ps_mask(amax, _mm512_setzero_ps(), _CMP_GT_OQ) &
                       _mm512_cmp_ps_mask(amax, _mm512_set1_ps(__builtin_inff()), _CMP_LT_OQ);
  const __m512 inv = _mm512_maskz_div_ps(ok, _mm512_set1_ps(127.0f), amax);
  if (_mm512_cmp_ps_mask(inv, _mm512_set1_ps(__builtin_inff()), _CMP_EQ_OQ))
    return false;
  _mm512_storeu_ps(scales, _mm512_maskz_div_ps(ok, amax, _mm512_set1_ps(127.0f)));
  _mm512_store_ps(invs, inv);
  return true;
}

/**
   The largest |x| over the lanes of v, in every lane, as float bits.
   |x| compared as int32: for non-negative floats the integer order is the
   float order, and vpmaxsd takes one cycle where vmaxps takes four (at a
   block of one frame this reduction is on the critical path of every
   layer, twice). A NaN lane (bits above +inf's) wins where qk.h's maximum
   ignores it: the result is then above 0x7F800000 and the caller takes
   its exact path (frame_amax_slow).
*/
ALWAYS_INLINE int32_t frame_amax_bits(__m512 v)
{
  __m512i m = _mm512_castps_si512(_mm512_abs_ps(v));
  m = _mm512_max_epi32(m, _mm512_shuffle_i64x2(m, m, 0x4E));
  m = _mm512_max_epi32(m, _mm512_shuffle_i64x2(m, m, 0xB1));
  m = _mm512_max_epi32(m, _mm512_shuffle_epi32(m, (_MM_PERM_ENUM)0x4E));
  m = _mm512_max_epi32(m, _mm512_shuffle_epi32(m, (_MM_PERM_ENUM)0xB1));
  return _mm_cvtsi128_si32(_mm512_castsi512_si128(m));
}

/** qk.h's maximum of v's lanes with NaN ignored (max(|x|, 0) is 0 for NaN). */
static inline float frame_amax_slow(__m512 v)
{
  return _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v), _mm512_setzero_ps()));
}

/**
   qk.h's dynamic scale and inverse for a frame maximum of bits amax_bits
   (frame_amax_bits): scale = amax / 127 and inv = 127 / amax when amax is
   > 0 and finite, else both 0 (then every code is 0: x * 0 is 0, or NaN
   for an infinite x, which frame_codes_bytes maps to 0). False when inv
   overflows (a maximum below 127 / FLT_MAX): the caller's generic path
   clamps those codes.
*/
ALWAYS_INLINE bool frame_scale(int32_t amax_bits, __m512 v, float *scale, float *inv)
{
  if (__builtin_expect(amax_bits > 0x7F800000, 0)) { /* a NaN lane */
    const float amax = frame_amax_slow(v);
    memcpy(&amax_bits, &amax, sizeof amax);
  }
  if (__builtin_expect(amax_bits <= 0 || amax_bits >= 0x7F800000, 0)) {
    *scale = *inv = 0.0f;
    return true;
  }
  float amax;
  memcpy(&amax, &amax_bits, sizeof amax);
  *inv = 127.0f / amax;
  *scale = amax / 127.0f;
  return *inv < __builtin_inff();
}

/**
   The codes rint(v * inv) of a frame as bytes (lane k -> byte k), for a
   finite inv: |v * inv| <= 127 (1 + 2^-23) then, and the truncating
   narrowing keeps the low byte of cvtps's 0x80000000 for a NaN product
   (0 * inf, NaN * inv): code 0, as qk.h's quantizer gives.
*/
ALWAYS_INLINE __m128i frame_codes_bytes(__m512 v, float inv)
{
  return _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v, _mm512_set1_ps(inv))));
}

/** The sum of the 16 codes in b (lanes past a frame's C hold 0). */
ALWAYS_INLINE int32_t codes_sum16(__m128i b)
{
  const __m128i sad =
      _mm_sad_epu8(_mm_xor_si128(b, _mm_set1_epi8((char)0x80)), _mm_setzero_si128());
  return _mm_cvtsi128_si32(sad) + _mm_extract_epi32(sad, 2) - 16 * 128;
}

/**
   16 frames of K = 8 or 16 floats in x (16 / K frames a vector, x[0 ..
   256 / K - 1]) quantized as quantize_dyn_16 does them: qk.h's dynamic
   formula per frame (amax = max(|x|, 0), NaN counting 0; scales and
   inverses from dynamic_scales16; codes rint(x * inv), NaN 0), storing K
   codes per column ld bytes apart, or with PAD whole 64-byte columns
   (codes, then zeros) as the generic contract wants (ld == 64); each
   frame's scale, and its code sum where sums is not NULL. The batched
   quantizer loads x from memory; the fused layer hands over the next
   layer's input while it is in registers (chaining). False (nothing
   written) where dynamic_scales16 is.
*/
ALWAYS_INLINE bool quantize16_registers(const __m512 x[16], int8_t *codes, int ld, float *scales,
                                        int32_t *sums, const int K, const int PAD)
{
  const int NV = K == 16 ? 16 : 8; /* vectors per 16 frames */
  __m512 v[16];
  for (int i = 0; i < NV; ++i) /* max(|x|, 0) is 0 for NaN, as in quantize_dyn_16 */
    v[i] = _mm512_max_ps(_mm512_abs_ps(x[i]), _mm512_setzero_ps());
  const __m512 amax = K == 16 ? transpose_reduce16(v, 0) : transpose_reduce8x2(v, 0);
  float invs[16] __attribute__((aligned(64)));
  if (!dynamic_scales16(amax, scales, invs))
    return false;
  __m512 t[16];
  for (int i = 0; i < NV; ++i) {
    /* the frames' inverse scales, each over its K lanes */
    const __m512 vinv = K == 16 ? _mm512_set1_ps(invs[i])
                                : _mm512_mask_mov_ps(_mm512_set1_ps(invs[2 * i]), 0xFF00,
                                                     _mm512_set1_ps(invs[2 * i + 1]));
    const __m512 p = _mm512_mul_ps(x[i], vinv);
    const __m512i q = _mm512_maskz_cvtps_epi32(_mm512_cmp_ps_mask(p, p, _CMP_ORD_Q), p);
    /* |q| <= 127: the saturating narrowing gives quantize_dyn_16's bytes */
    const __m128i b = _mm512_cvtsepi32_epi8(q);
    if (PAD && K == 16) {
      _mm512_storeu_si512(codes + (size_t)i * (size_t)ld, _mm512_zextsi128_si512(b));
    } else if (PAD) {
      _mm512_storeu_si512(codes + (size_t)(2 * i) * (size_t)ld,
                          _mm512_zextsi128_si512(_mm_move_epi64(b)));
      _mm512_storeu_si512(codes + (size_t)(2 * i + 1) * (size_t)ld,
                          _mm512_zextsi128_si512(_mm_srli_si128(b, 8)));
    } else if (K == 16) {
      _mm_storeu_si128((__m128i *)(codes + (size_t)i * (size_t)ld), b);
    } else {
      _mm_storel_epi64((__m128i *)(codes + (size_t)(2 * i) * (size_t)ld), b);
      _mm_storeh_pd((double *)(void *)(codes + (size_t)(2 * i + 1) * (size_t)ld),
                    _mm_castsi128_pd(b));
    }
    t[i] = _mm512_castsi512_ps(q);
  }
  if (sums)
    _mm512_storeu_si512(
        sums, _mm512_castps_si512(K == 16 ? transpose_reduce16(t, 1) : transpose_reduce8x2(t, 1)));
  return true;
}

/**
   qk_act_quantize_dynamic of N frames of K floats (x frame-major, group
   0), except that it stores only each column's K codes and leaves its
   padding as it was: for readers of the first K bytes (the fused WaveNet
   layer; columns of any ld >= K, a compact history's included). K = 8 or
   16 (two or one frames per vector, 16 frames per batch):
   writing whole 64-byte columns, and the generic batch's rolled loops,
   measured 15-20% of a whole model. False (nothing written) otherwise.
*/
bool qk_avx512vnni_quantize_frames(const float *x, int K, int N, qk_act_s8 *out);

/**
   The fused WaveNet layer of 1 to 3 channels, 16 frames to a vector
   (qk_wavenet_avx512_small.c): the shape it takes (B = C <= 3, taps * C
   <= 64, weights without zero points), its prepared weights' bytes and
   making them, and the layer (prepared may be NULL: decoded per call).
*/
bool qk_avx512vnni_small_layer_shape(const qk_wavenet_layer *L);
size_t qk_avx512vnni_small_layer_bytes(void);
void qk_avx512vnni_small_layer_prepare(const qk_wavenet_layer *L, void *mem);
void qk_avx512vnni_small_layer_s8(const qk_wavenet_layer *L, const void *prepared, const float *x,
                                  const qk_act_s8 *xq, const float *cond, int N, float *head,
                                  float *next);
/** The small layer's one-frame form (qk.h: qk_wavenet_layer_s8_frame_form). */
qk_wavenet_s8_frame_fn qk_avx512vnni_small_frame_form(const qk_wavenet_layer *L);

/** The fused WaveNet layer (qk_wavenet_avx512vnni.c). */
bool qk_avx512vnni_wavenet_layer_fusable(const qk_wavenet_layer *L);
void qk_avx512vnni_wavenet_layer_s8(const qk_wavenet_layer *L, const float *x, const qk_act_s8 *xq,
                                    const float *cond, int N, float *head, float *next,
                                    const qk_wavenet_scratch *scratch);
size_t qk_avx512vnni_wavenet_prepared_size(const qk_wavenet_layer *L);
void qk_avx512vnni_wavenet_prepare(const qk_wavenet_layer *L, void *mem);
int qk_avx512vnni_wavenet_history_ld(const qk_wavenet_layer *L);
qk_wavenet_s8_frame_fn qk_avx512vnni_wavenet_s8_frame_form(const qk_wavenet_layer *L);
bool qk_avx512vnni_wavenet_chains(const qk_wavenet_layer *L);
bool qk_avx512vnni_wavenet_history_paired(const qk_wavenet_layer *L);

#endif
