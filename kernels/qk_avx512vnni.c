/*
  AVX-512 (F/BW/VL/DQ) + VNNI kernels.

  Packed layout (p->data), chosen so that one aligned 64-byte load feeds
  vpdpbusd directly:

    Rows are cut into tiles of 16 (M padded to a multiple of 16 with weights
    that are never stored back). K is split into the weight groups; each
    group is padded to a whole "block" of k (4 for 8-bit, 8 for 4-bit, 16
    for 2-bit), which only ever pads the last group since full groups are
    multiples of 16.

    Integer formats:  codes [T][Kp/kstep][64 bytes]. A 64-byte block holds
      8/bits "quad tiles"; quad tile j is the 16 rows x 4 k that vpdpbusd
      consumes, byte r*4+kk = weight (row r, k = 4*(block quad j) + kk).
      QK_S8 stores the value itself (one quad per block). Sub-byte formats
      store the table index in bits [bits*j, bits*j + bits) of each byte, so
      one shift + mask recovers quad j's indices and one vpshufb through
      p->table turns them into signed values, in registers.
    Then scales [T][ngroups][16] floats and, if present, zero points
    [T][ngroups][16] int32: one zmm per (tile, group).
    p->fold [T][ngroups][16] int32 = -128 * sum of the group's values,
      padded weights included: vpdpbusd multiplies u8 by s8, so activations
      are flipped to x + 128 (xor 0x80) and this term takes the 128 back out.

    QK_F32: [T][K][16] floats, one zmm per (tile, k).

  Exactness: gemm_s8 performs exactly the float operations of qk.h, so it
  agrees with the scalar oracle bit for bit. gemm_f32 keeps the scalar's
  per-row operation order (sequential fma over k, then per group), so it
  agrees too, except for single-frame QK_F32 calls (GEMV), which split the
  k chain in four to hide FMA latency.
*/
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

/* ------------------------------------------------------------------------
   Geometry of the packed integer layout
   ------------------------------------------------------------------------ */

typedef struct {
  int M, K, T;          /**< rows, cols, tiles of 16 rows */
  int G, ng;            /**< effective group size and count */
  int bits;             /**< 8, 4 or 2 */
  int kstep;            /**< k per 64-byte block: 32 / bits */
  int Kp;               /**< padded K: whole blocks in the last group */
  size_t tile_bytes;    /**< code bytes per tile */
  size_t codes_bytes;   /**< all code bytes (multiple of 64) */
  const uint8_t *codes;
  const float *scales;  /**< [T][ng][16] */
  const int32_t *zp;    /**< [T][ng][16] or NULL */
  const int32_t *fold;  /**< [T][ng][16] */
} int_view;

static int format_bits(qk_format f)
{
  switch (f) {
  case QK_S4:
  case QK_CB4: return 4;
  case QK_S2:
  case QK_CB2: return 2;
  default: return 8;
  }
}

/** Sizes of the integer layout from the common fields of p (data not needed). */
static int_view int_geometry(const qk_packed *p)
{
  int_view v;
  v.M = p->rows;
  v.K = p->cols;
  v.T = (p->rows + TILE_ROWS - 1) / TILE_ROWS;
  v.G = p->group;
  v.ng = p->ngroups;
  v.bits = format_bits(p->format);
  /* powers of two, no integer division: this runs on every GEMV call */
  v.kstep = v.bits == 8 ? 4 : v.bits == 4 ? 8 : 16;
  int last = v.K - (v.ng - 1) * v.G;
  v.Kp = (v.ng - 1) * v.G + ((last + v.kstep - 1) & -v.kstep);
  v.tile_bytes = (size_t)v.Kp * (size_t)(2 * v.bits); /* 16 rows * bits / 8 */
  v.codes_bytes = (size_t)v.T * v.tile_bytes;
  v.codes = NULL;
  v.scales = NULL;
  v.zp = NULL;
  v.fold = NULL;
  return v;
}

static int_view int_view_of(const qk_packed *p)
{
  int_view v = int_geometry(p);
  const uint8_t *d = (const uint8_t *)p->data;
  size_t ns = (size_t)v.T * (size_t)v.ng * TILE_ROWS;
  v.codes = d;
  v.scales = (const float *)(const void *)(d + v.codes_bytes);
  v.zp = p->zp ? (const int32_t *)(const void *)(d + v.codes_bytes + ns * sizeof(float)) : NULL;
  v.fold = p->fold;
  return v;
}

/* ------------------------------------------------------------------------
   Pack
   ------------------------------------------------------------------------ */

static int pack_f32(qk_packed *p, const qk_weights *w)
{
  const int M = p->rows, K = p->cols, T = (M + TILE_ROWS - 1) / TILE_ROWS;
  size_t bytes = (size_t)T * (size_t)K * TILE_ROWS * sizeof(float);
  float *d = qk_aligned_calloc(bytes);
  if (!d)
    return -1;
  for (int m = 0; m < M; ++m)
    for (int k = 0; k < K; ++k)
      d[((size_t)(m / TILE_ROWS) * (size_t)K + (size_t)k) * TILE_ROWS + (size_t)(m % TILE_ROWS)] =
          w->f32[(size_t)m * (size_t)K + (size_t)k];
  p->data = d;
  p->data_bytes = bytes;
  return 0;
}

static int pack_avx512vnni(qk_packed *p, const qk_weights *w)
{
  if (p->format == QK_F32)
    return pack_f32(p, w);

  int_view v = int_geometry(p);
  const bool s8 = p->format == QK_S8;
  const int per = 8 / v.bits; /* quad tiles per block */
  size_t ns = (size_t)v.T * (size_t)v.ng * TILE_ROWS;
  size_t bytes = v.codes_bytes + ns * sizeof(float) + (p->zp ? ns * sizeof(int32_t) : 0);
  uint8_t *d = qk_aligned_calloc(bytes);
  int32_t *fold = qk_aligned_calloc(ns * sizeof(int32_t));
  if (!d || !fold) {
    qk_aligned_free(d);
    qk_aligned_free(fold);
    return -1;
  }

  /* Padding index: one whose value is 0 if the table has one, so padded
     weights usually vanish; if not, the fold cancels them anyway (padded
     activations are 0, i.e. 128 after the flip). */
  int pad_idx = 0;
  if (!s8) {
    for (int i = (1 << v.bits) - 1; i >= 0; --i)
      if (p->table[i] == 0)
        pad_idx = i;
  }

  for (int t = 0; t < v.T; ++t) {
    uint8_t *tile = d + (size_t)t * v.tile_bytes;
    for (int r = 0; r < TILE_ROWS; ++r) {
      const int m = t * TILE_ROWS + r;
      for (int k = 0; k < v.Kp; ++k) {
        int idx, val;
        if (m < v.M && k < v.K) {
          if (s8) {
            val = w->codes[(size_t)m * (size_t)v.K + (size_t)k];
            idx = val & 0xFF;
          } else {
            idx = qk_weight_index(w, m, k);
            val = p->table[idx];
          }
        } else {
          idx = pad_idx;
          val = s8 ? 0 : p->table[pad_idx];
        }
        const int q = k / 4, kk = k % 4;
        const size_t at = (size_t)(q / per) * 64 + (size_t)(r * 4 + kk);
        tile[at] |= (uint8_t)(idx << (v.bits * (q % per)));
        int g = k / v.G;
        if (g >= v.ng)
          g = v.ng - 1;
        fold[((size_t)t * (size_t)v.ng + (size_t)g) * TILE_ROWS + (size_t)r] -= 128 * val;
      }
    }
  }

  float *sc = (float *)(void *)(d + v.codes_bytes);
  int32_t *zp = p->zp ? (int32_t *)(void *)(d + v.codes_bytes + ns * sizeof(float)) : NULL;
  for (int m = 0; m < v.M; ++m) {
    for (int g = 0; g < v.ng; ++g) {
      size_t at = ((size_t)(m / TILE_ROWS) * (size_t)v.ng + (size_t)g) * TILE_ROWS +
                  (size_t)(m % TILE_ROWS);
      sc[at] = p->scales[(size_t)m * (size_t)v.ng + (size_t)g];
      if (zp)
        zp[at] = p->zp[(size_t)m * (size_t)v.ng + (size_t)g];
    }
  }
  p->data = d;
  p->data_bytes = bytes;
  p->fold = fold;
  return 0;
}

/* ------------------------------------------------------------------------
   Shared pieces of the GEMM kernels
   ------------------------------------------------------------------------ */

/** p->table in every 128-bit lane, for vpshufb lookups. */
ALWAYS_INLINE __m512i table_zmm(const qk_packed *p)
{
  return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)p->table));
}

/**
   Signed int8 values of quad tile j of a 64-byte block: the block itself
   for 8-bit codes, else one shift + mask to the indices and one vpshufb
   through the table.
*/
ALWAYS_INLINE __m512i decode_quad(__m512i blk, const int bits, const int j, __m512i tbl)
{
  if (bits == 8)
    return blk;
  const __m512i mask = _mm512_set1_epi8((char)((1 << bits) - 1));
  __m512i idx = j ? _mm512_srli_epi16(blk, (unsigned)(bits * j)) : blk;
  return _mm512_shuffle_epi8(tbl, _mm512_and_si512(idx, mask));
}

/**
   acc += u8(a) . s8(b), per 32-bit lane. Written as an in-place asm
   statement: with the intrinsic, GCC 12 fails to coalesce loop-carried
   accumulators and copies every one of them each iteration.
*/
ALWAYS_INLINE __m512i dpbusd(__m512i acc, __m512i a, __m512i b)
{
  __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
  return acc;
}

/** Load 4 consecutive bytes (unaligned, no aliasing issues). */
ALWAYS_INLINE int32_t load4(const int8_t *p)
{
  int32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

/**
   Y rows [m0, m0+16) of one frame: y = fma(acc, xscale, base) (xscale
   NULL: y = acc + base), base = bias + (ACCUMULATE ? y : 0), masked to M.
*/
ALWAYS_INLINE void store_rows(float *y, const float *bias, int m0, int M, unsigned flags,
                              __m512 acc, const __m512 *xscale)
{
  const __mmask16 mk = lanes_mask(M - m0);
  __m512 b = bias ? _mm512_maskz_loadu_ps(mk, bias + m0) : _mm512_setzero_ps();
  __m512 old = (flags & QK_ACCUMULATE) ? _mm512_maskz_loadu_ps(mk, y + m0) : _mm512_setzero_ps();
  __m512 base = _mm512_add_ps(b, old);
  __m512 out = xscale ? _mm512_fmadd_ps(acc, *xscale, base) : _mm512_add_ps(acc, base);
  _mm512_mask_storeu_ps(y + m0, mk, out);
}

/* ------------------------------------------------------------------------
   gemm_s8: R tiles (16 rows each) x F frames of int32 accumulators,
   vpdpbusd on 16 rows x 4 k per instruction.
   ------------------------------------------------------------------------ */

typedef struct {
  const qk_packed *W;
  int_view v;
  const qk_act_s8 *X;
  const float *bias;
  float *Y;
  int ldy;
  unsigned flags;
  __m512 *fsum; /**< [4 tiles][8 frames] float sums between groups */
} s8_args;

ALWAYS_INLINE void gemm_s8_16x4_core(const s8_args *a, int t0, int n0, const int R, const int F,
                                     const int bits)
{
  /* Everything in locals: stores through float / __m512 pointers may
     alias the argument structs, which would force reloads per output. */
  const int_view vv = a->v, *v = &vv;
  const qk_act_s8 Xv = *a->X, *X = &Xv;
  const float *bias = a->bias;
  float *Y = a->Y;
  const int ldy = a->ldy;
  const unsigned flags = a->flags;
  const int per = 8 / bits, kstep = 4 * per;
  const __m512i tbl = table_zmm(a->W);
  const __m512i flip = _mm512_set1_epi8((char)0x80);
  const int8_t *xp[8];
  /* Float accumulators between groups live in caller memory, not in
     registers: the int32 accumulators need every zmm in the k loop. */
  __m512 *fsum = a->fsum;

#pragma GCC unroll 8
  for (int f = 0; f < F; ++f)
    xp[f] = X->codes + (size_t)(n0 + f) * (size_t)X->ld;

  for (int g = 0; g < v->ng; ++g) {
    const int k0 = g * v->G;
    const int k1 = k0 + v->G < v->Kp ? k0 + v->G : v->Kp;
    const uint8_t *blk = v->codes + (size_t)t0 * v->tile_bytes + (size_t)(k0 / kstep) * 64;
    __m512i acc[4][8];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int f = 0; f < F; ++f)
        acc[r][f] = _mm512_setzero_si512();

    int k = k0;
    if (F == 1 && bits == 8) {
      /* GEMV: two independent chains per tile to hide vpdpbusd latency. */
      __m512i acc2[4];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r)
        acc2[r] = _mm512_setzero_si512();
      for (; k + 8 <= k1; k += 8, blk += 128) {
        __m512i x0 = _mm512_xor_si512(_mm512_set1_epi32(load4(xp[0] + k)), flip);
        __m512i x1 = _mm512_xor_si512(_mm512_set1_epi32(load4(xp[0] + k + 4)), flip);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          const uint8_t *b = blk + (size_t)r * v->tile_bytes;
          acc[r][0] = dpbusd(acc[r][0], x0, _mm512_load_si512(b));
          acc2[r] = dpbusd(acc2[r], x1, _mm512_load_si512(b + 64));
        }
      }
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r)
        acc[r][0] = _mm512_add_epi32(acc[r][0], acc2[r]);
    }
    for (; k < k1; k += kstep, blk += 64) {
      __m512i raw[4];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r)
        raw[r] = _mm512_load_si512(blk + (size_t)r * v->tile_bytes);
#pragma GCC unroll 4
      for (int j = 0; j < per; ++j) {
        __m512i wq[4];
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r)
          wq[r] = decode_quad(raw[r], bits, j, tbl);
#pragma GCC unroll 8
        for (int f = 0; f < F; ++f) {
          __m512i xv = _mm512_xor_si512(_mm512_set1_epi32(load4(xp[f] + k + 4 * j)), flip);
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r)
            acc[r][f] = dpbusd(acc[r][f], xv, wq[r]);
        }
      }
    }

    /* Group end: i = dot - zp * xsum (the fold restores the signed dot),
       acc = fma((float)i, scale, acc), exactly as qk.h orders it; after
       the last group y = fma(acc, xscale, base). */
    const bool last = g + 1 == v->ng;
    __m512 xsc[8];
#pragma GCC unroll 8
    for (int f = 0; f < F; ++f)
      xsc[f] = _mm512_set1_ps(X->per_column ? X->scales[n0 + f] : X->scales[0]);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const size_t at = ((size_t)(t0 + r) * (size_t)v->ng + (size_t)g) * TILE_ROWS;
      const __m512i fv = _mm512_load_si512(v->fold + at);
      const __m512 sv = _mm512_load_ps(v->scales + at);
      __m512 s[8];
      if (v->zp) {
        const __m512i zv = _mm512_load_si512(v->zp + at);
#pragma GCC unroll 8
        for (int f = 0; f < F; ++f) {
          __m512i xs = _mm512_set1_epi32(X->sums[(size_t)(n0 + f) * (size_t)v->ng + (size_t)g]);
          acc[r][f] = _mm512_sub_epi32(acc[r][f], _mm512_mullo_epi32(zv, xs));
        }
      }
      if (g == 0) {
#pragma GCC unroll 8
        for (int f = 0; f < F; ++f)
          s[f] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(acc[r][f], fv)), sv,
                                 _mm512_setzero_ps());
      } else {
#pragma GCC unroll 8
        for (int f = 0; f < F; ++f)
          s[f] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(acc[r][f], fv)), sv,
                                 fsum[r * 8 + f]);
      }
      if (!last) {
#pragma GCC unroll 8
        for (int f = 0; f < F; ++f)
          fsum[r * 8 + f] = s[f];
        continue;
      }
      const int m0 = (t0 + r) * TILE_ROWS;
      const __mmask16 mk = lanes_mask(v->M - m0);
      const __m512 b = bias ? _mm512_maskz_loadu_ps(mk, bias + m0) : _mm512_setzero_ps();
      if (flags & QK_ACCUMULATE) {
#pragma GCC unroll 8
        for (int f = 0; f < F; ++f) {
          float *y = Y + (size_t)(n0 + f) * (size_t)ldy + m0;
          __m512 base = _mm512_add_ps(b, _mm512_maskz_loadu_ps(mk, y));
          _mm512_mask_storeu_ps(y, mk, _mm512_fmadd_ps(s[f], xsc[f], base));
        }
      } else {
        const __m512 base = _mm512_add_ps(b, _mm512_setzero_ps());
#pragma GCC unroll 8
        for (int f = 0; f < F; ++f)
          _mm512_mask_storeu_ps(Y + (size_t)(n0 + f) * (size_t)ldy + m0, mk,
                                _mm512_fmadd_ps(s[f], xsc[f], base));
      }
    }
  }
}

typedef void (*s8_block_fn)(const s8_args *a, int t0, int n0);

#define DEF_S8_BLOCK(R, F, B)                                                          \
  static void gemm_s8_16x4_r##R##_f##F##_b##B(const s8_args *a, int t0, int n0)        \
  {                                                                                    \
    gemm_s8_16x4_core(a, t0, n0, R, F, B);                                             \
  }
#define DEF_S8_BITS(B)                                                                 \
  DEF_S8_BLOCK(4, 4, B) DEF_S8_BLOCK(4, 2, B) DEF_S8_BLOCK(4, 1, B)                    \
  DEF_S8_BLOCK(2, 8, B) DEF_S8_BLOCK(2, 4, B) DEF_S8_BLOCK(2, 2, B) DEF_S8_BLOCK(2, 1, B) \
  DEF_S8_BLOCK(1, 8, B) DEF_S8_BLOCK(1, 4, B) DEF_S8_BLOCK(1, 2, B) DEF_S8_BLOCK(1, 1, B) \
  static const s8_block_fn s8_blocks_b##B[3][4] = {                                    \
    {NULL, gemm_s8_16x4_r4_f4_b##B, gemm_s8_16x4_r4_f2_b##B, gemm_s8_16x4_r4_f1_b##B}, \
    {gemm_s8_16x4_r2_f8_b##B, gemm_s8_16x4_r2_f4_b##B, gemm_s8_16x4_r2_f2_b##B,       \
     gemm_s8_16x4_r2_f1_b##B},                                                         \
    {gemm_s8_16x4_r1_f8_b##B, gemm_s8_16x4_r1_f4_b##B, gemm_s8_16x4_r1_f2_b##B,       \
     gemm_s8_16x4_r1_f1_b##B}};

DEF_S8_BITS(8)
DEF_S8_BITS(4)
DEF_S8_BITS(2)

/** Tile blocks of 4, 2, 1 tiles; frame blocks of 8 (4 with 4 tiles), then 4, 2, 1. */
#define RUN_BLOCKS(fns, T, N, args)                                                    \
  do {                                                                                 \
    static const int rs_[3] = {4, 2, 1}, fs_[4] = {8, 4, 2, 1};                       \
    for (int t_ = 0; t_ < (T);) {                                                      \
      int ri_ = (T) - t_ >= 4 ? 0 : (T) - t_ >= 2 ? 1 : 2;                             \
      int n_ = 0;                                                                      \
      for (int fi_ = 0; fi_ < 4; ++fi_) {                                              \
        if (!(fns)[ri_][fi_])                                                          \
          continue;                                                                    \
        while (n_ + fs_[fi_] <= (N)) {                                                 \
          (fns)[ri_][fi_]((args), t_, n_);                                             \
          n_ += fs_[fi_];                                                              \
        }                                                                              \
      }                                                                                \
      t_ += rs_[ri_];                                                                  \
    }                                                                                  \
  } while (0)

static void gemm_s8_avx512vnni(const qk_packed *W, const qk_act_s8 *X, int N, const float *bias,
                               float *Y, int ldy, unsigned flags)
{
  if (W->format == QK_F32)
    return; /* int8 activations need integer weights (qk.h); nothing to do */
  __m512 fsum[4 * 8];
  s8_args a = {W, int_view_of(W), X, bias, Y, ldy, flags, fsum};
  switch (a.v.bits) {
  case 8: RUN_BLOCKS(s8_blocks_b8, a.v.T, N, &a); break;
  case 4: RUN_BLOCKS(s8_blocks_b4, a.v.T, N, &a); break;
  default: RUN_BLOCKS(s8_blocks_b2, a.v.T, N, &a); break;
  }
}

/* ------------------------------------------------------------------------
   gemm_f32, QK_F32 weights: [T][K][16] floats, R tiles x F frames of
   accumulators, one fma per (tile, frame, k) with the activation broadcast.
   ------------------------------------------------------------------------ */

typedef struct {
  const qk_packed *W;
  const float *X;
  int ldx;
  const float *bias;
  float *Y;
  int ldy;
  unsigned flags;
  int_view v; /* integer formats only */
} f32_args;

ALWAYS_INLINE void gemm_f32_16x1_core(const f32_args *a, int t0, int n0, const int R, const int F)
{
  const int M = a->W->rows, K = a->W->cols;
  const size_t tstride = (size_t)K * TILE_ROWS;
  const float *w = (const float *)a->W->data + (size_t)t0 * tstride;
  const float *xp[8];
  __m512 acc[4][8];

#pragma GCC unroll 8
  for (int f = 0; f < F; ++f)
    xp[f] = a->X + (size_t)(n0 + f) * (size_t)a->ldx;
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int f = 0; f < F; ++f)
      acc[r][f] = _mm512_setzero_ps();

  int k = 0;
  if (F == 1) {
    /* GEMV: four chains over k so FMA latency does not bound a row. */
    __m512 c1[4], c2[4], c3[4];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
      c1[r] = c2[r] = c3[r] = _mm512_setzero_ps();
    for (; k + 4 <= K; k += 4) {
      const __m512 x0 = _mm512_set1_ps(xp[0][k]), x1 = _mm512_set1_ps(xp[0][k + 1]);
      const __m512 x2 = _mm512_set1_ps(xp[0][k + 2]), x3 = _mm512_set1_ps(xp[0][k + 3]);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const float *wr = w + (size_t)r * tstride + (size_t)k * TILE_ROWS;
        acc[r][0] = _mm512_fmadd_ps(_mm512_load_ps(wr), x0, acc[r][0]);
        c1[r] = _mm512_fmadd_ps(_mm512_load_ps(wr + 16), x1, c1[r]);
        c2[r] = _mm512_fmadd_ps(_mm512_load_ps(wr + 32), x2, c2[r]);
        c3[r] = _mm512_fmadd_ps(_mm512_load_ps(wr + 48), x3, c3[r]);
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
      acc[r][0] = _mm512_add_ps(_mm512_add_ps(acc[r][0], c1[r]), _mm512_add_ps(c2[r], c3[r]));
  }
  for (; k < K; ++k) {
    __m512 wv[4];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
      wv[r] = _mm512_load_ps(w + (size_t)r * tstride + (size_t)k * TILE_ROWS);
#pragma GCC unroll 8
    for (int f = 0; f < F; ++f) {
      const __m512 xb = _mm512_set1_ps(xp[f][k]);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r)
        acc[r][f] = _mm512_fmadd_ps(wv[r], xb, acc[r][f]);
    }
  }

#pragma GCC unroll 8
  for (int f = 0; f < F; ++f) {
    float *y = a->Y + (size_t)(n0 + f) * (size_t)a->ldy;
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
      store_rows(y, a->bias, (t0 + r) * TILE_ROWS, M, a->flags, acc[r][f], NULL);
  }
}

typedef void (*f32_block_fn)(const f32_args *a, int t0, int n0);

#define DEF_F32_BLOCK(R, F)                                                            \
  static void gemm_f32_16x1_r##R##_f##F(const f32_args *a, int t0, int n0)              \
  {                                                                                    \
    gemm_f32_16x1_core(a, t0, n0, R, F);                                               \
  }
DEF_F32_BLOCK(4, 4) DEF_F32_BLOCK(4, 2) DEF_F32_BLOCK(4, 1)
DEF_F32_BLOCK(2, 8) DEF_F32_BLOCK(2, 4) DEF_F32_BLOCK(2, 2) DEF_F32_BLOCK(2, 1)
DEF_F32_BLOCK(1, 8) DEF_F32_BLOCK(1, 4) DEF_F32_BLOCK(1, 2) DEF_F32_BLOCK(1, 1)
static const f32_block_fn f32_blocks[3][4] = {
  {NULL, gemm_f32_16x1_r4_f4, gemm_f32_16x1_r4_f2, gemm_f32_16x1_r4_f1},
  {gemm_f32_16x1_r2_f8, gemm_f32_16x1_r2_f4, gemm_f32_16x1_r2_f2, gemm_f32_16x1_r2_f1},
  {gemm_f32_16x1_r1_f8, gemm_f32_16x1_r1_f4, gemm_f32_16x1_r1_f2, gemm_f32_16x1_r1_f1}};

/* ------------------------------------------------------------------------
   gemm_f32, integer weights (weight-only path). Each 16x4 quad tile is
   decoded to int8 in registers, transposed to four 16-row k-slices
   (vpshufb inside 128-bit lanes + vpermd across them), widened to int32,
   the zero point subtracted and converted to float. Per row this is the
   scalar's own order: part = fma(v - z, x, part) over the group,
   acc = fma(part, scale, acc), y = acc + base.
   ------------------------------------------------------------------------ */

ALWAYS_INLINE void gemm_wq_f32_16x4_core(const f32_args *a, int t0, int n0, const int F,
                                         const int bits)
{
  const int_view *v = &a->v;
  const int per = 8 / bits, kstep = 4 * per;
  const __m512i tbl = table_zmm(a->W);
  /* byte kk*4+rr <- rr*4+kk inside each lane, then dword kk*4+L <- L*4+kk */
  const __m512i byte_t = _mm512_broadcast_i32x4(
      _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
  const __m512i dword_t = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const float *xp[8];
  __m512 acc[8], part[8];

#pragma GCC unroll 8
  for (int f = 0; f < F; ++f) {
    xp[f] = a->X + (size_t)(n0 + f) * (size_t)a->ldx;
    acc[f] = _mm512_setzero_ps();
  }

  for (int g = 0; g < v->ng; ++g) {
    const int k0 = g * v->G;
    const int kend = k0 + v->G < v->K ? k0 + v->G : v->K;
    const size_t at = ((size_t)t0 * (size_t)v->ng + (size_t)g) * TILE_ROWS;
    const __m512i zv = v->zp ? _mm512_load_si512(v->zp + at) : _mm512_setzero_si512();
    const uint8_t *blk = v->codes + (size_t)t0 * v->tile_bytes + (size_t)(k0 / kstep) * 64;
#pragma GCC unroll 8
    for (int f = 0; f < F; ++f)
      part[f] = _mm512_setzero_ps();

    for (int k = k0; k < kend; k += kstep, blk += 64) {
      const __m512i raw = _mm512_load_si512(blk);
#pragma GCC unroll 4
      for (int j = 0; j < per; ++j) {
        const int kq = k + 4 * j;
        if (kq >= kend)
          break;
        __m512i q8 = decode_quad(raw, bits, j, tbl);
        q8 = _mm512_permutexvar_epi32(dword_t, _mm512_shuffle_epi8(q8, byte_t));
        __m512 wf[4];
        wf[0] = _mm512_cvtepi32_ps(
            _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm512_castsi512_si128(q8)), zv));
        wf[1] = _mm512_cvtepi32_ps(
            _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm512_extracti32x4_epi32(q8, 1)), zv));
        wf[2] = _mm512_cvtepi32_ps(
            _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm512_extracti32x4_epi32(q8, 2)), zv));
        wf[3] = _mm512_cvtepi32_ps(
            _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm512_extracti32x4_epi32(q8, 3)), zv));
        if (kq + 4 <= kend) {
#pragma GCC unroll 4
          for (int kk = 0; kk < 4; ++kk)
#pragma GCC unroll 8
            for (int f = 0; f < F; ++f)
              part[f] = _mm512_fmadd_ps(wf[kk], _mm512_set1_ps(xp[f][kq + kk]), part[f]);
        } else {
          for (int kk = 0; kk < kend - kq; ++kk)
#pragma GCC unroll 8
            for (int f = 0; f < F; ++f)
              part[f] = _mm512_fmadd_ps(wf[kk], _mm512_set1_ps(xp[f][kq + kk]), part[f]);
        }
      }
    }
    const __m512 sv = _mm512_load_ps(v->scales + at);
#pragma GCC unroll 8
    for (int f = 0; f < F; ++f)
      acc[f] = _mm512_fmadd_ps(part[f], sv, acc[f]);
  }

#pragma GCC unroll 8
  for (int f = 0; f < F; ++f)
    store_rows(a->Y + (size_t)(n0 + f) * (size_t)a->ldy, a->bias, t0 * TILE_ROWS, v->M, a->flags,
               acc[f], NULL);
}

#define DEF_WQ_BLOCK(F, B)                                                             \
  static void gemm_wq_f32_16x4_f##F##_b##B(const f32_args *a, int t0, int n0)           \
  {                                                                                    \
    gemm_wq_f32_16x4_core(a, t0, n0, F, B);                                            \
  }
#define DEF_WQ_BITS(B)                                                                 \
  DEF_WQ_BLOCK(8, B) DEF_WQ_BLOCK(4, B) DEF_WQ_BLOCK(2, B) DEF_WQ_BLOCK(1, B)          \
  static const f32_block_fn wq_blocks_b##B[3][4] = {                                   \
    {NULL, NULL, NULL, NULL},                                                          \
    {NULL, NULL, NULL, NULL},                                                          \
    {gemm_wq_f32_16x4_f8_b##B, gemm_wq_f32_16x4_f4_b##B, gemm_wq_f32_16x4_f2_b##B,      \
     gemm_wq_f32_16x4_f1_b##B}};
DEF_WQ_BITS(8)
DEF_WQ_BITS(4)
DEF_WQ_BITS(2)

/** Tile-block selection for tables that only have single-tile kernels. */
#define RUN_BLOCKS_1(fns, T, N, args)                                                  \
  do {                                                                                 \
    static const int fs_[4] = {8, 4, 2, 1};                                            \
    for (int t_ = 0; t_ < (T); ++t_) {                                                 \
      int n_ = 0;                                                                      \
      for (int fi_ = 0; fi_ < 4; ++fi_) {                                              \
        while (n_ + fs_[fi_] <= (N)) {                                                 \
          (fns)[2][fi_]((args), t_, n_);                                               \
          n_ += fs_[fi_];                                                              \
        }                                                                              \
      }                                                                                \
    }                                                                                  \
  } while (0)

static void gemm_f32_avx512vnni(const qk_packed *W, const float *X, int ldx, int N,
                                const float *bias, float *Y, int ldy, unsigned flags)
{
  f32_args a = {W, X, ldx, bias, Y, ldy, flags, {0}};
  if (W->format == QK_F32) {
    const int T = (W->rows + TILE_ROWS - 1) / TILE_ROWS;
    RUN_BLOCKS(f32_blocks, T, N, &a);
    return;
  }
  a.v = int_view_of(W);
  switch (a.v.bits) {
  case 8: RUN_BLOCKS_1(wq_blocks_b8, a.v.T, N, &a); break;
  case 4: RUN_BLOCKS_1(wq_blocks_b4, a.v.T, N, &a); break;
  default: RUN_BLOCKS_1(wq_blocks_b2, a.v.T, N, &a); break;
  }
}

/* ------------------------------------------------------------------------
   Activation quantization: 16 floats at a time, masked tails (never read
   past K), codes written in whole 16-byte steps (ld >= K rounded to 64),
   then zero padding to ld. Same float ops as the scalar: x * inv, rint in
   the current rounding mode, saturation counted in float, NaN -> 0.
   ------------------------------------------------------------------------ */

static size_t quantize_column_avx512(const float *x, int K, float inv, int8_t *codes, int ld,
                                     int32_t *sums, int group)
{
  const __m512 vinv = _mm512_set1_ps(inv);
  const __m512 hi = _mm512_set1_ps(127.0f), lo = _mm512_set1_ps(-127.0f);
  const int G = (group <= 0 || group >= K) ? K : group;
  const bool vec_sums = sums && (G == K || G % 16 == 0);
  size_t clipped = 0;
  __m512i gsum = _mm512_setzero_si512();
  int gcur = 0;
  int k = 0;
  for (; k < K; k += 16) {
    const __mmask16 mk = lanes_mask(K - k);
    const __m512 q = _mm512_mul_ps(_mm512_maskz_loadu_ps(mk, x + k), vinv);
    const __m512 r = _mm512_roundscale_ps(q, _MM_FROUND_CUR_DIRECTION | _MM_FROUND_NO_EXC);
    const __mmask16 over = _mm512_cmp_ps_mask(r, hi, _CMP_GT_OQ);
    const __mmask16 under = _mm512_cmp_ps_mask(r, lo, _CMP_LT_OQ);
    const __mmask16 ordered = _mm512_cmp_ps_mask(r, r, _CMP_ORD_Q);
    clipped += (size_t)__builtin_popcount((unsigned)over) + (size_t)__builtin_popcount((unsigned)under);
    const __m512 c = _mm512_min_ps(_mm512_max_ps(r, lo), hi);
    const __m512i i = _mm512_maskz_cvtps_epi32(ordered, c);
    _mm_storeu_si128((__m128i *)(void *)(codes + k), _mm512_cvtepi32_epi8(i));
    if (vec_sums) {
      const int g = k / G;
      if (g != gcur) {
        sums[gcur] = _mm512_reduce_add_epi32(gsum);
        gsum = _mm512_setzero_si512();
        gcur = g;
      }
      gsum = _mm512_add_epi32(gsum, i);
    }
  }
  if (k < ld)
    memset(codes + k, 0, (size_t)(ld - k));
  if (vec_sums) {
    sums[gcur] = _mm512_reduce_add_epi32(gsum);
  } else if (sums) {
    const int ng = qk_group_count(K, group);
    for (int g = 0; g < ng; ++g) {
      int32_t s = 0;
      for (int kk = g * G; kk < K && kk < (g + 1) * G; ++kk)
        s += codes[kk];
      sums[g] = s;
    }
  }
  return clipped;
}

static void quantize_act_dynamic_avx512vnni(const float *x, int ldx, int K, int N, qk_act_s8 *out)
{
  const int ng = qk_group_count(K, out->group);
  out->per_column = true;
  for (int n = 0; n < N; ++n) {
    const float *col = x + (size_t)n * (size_t)ldx;
    __m512 m = _mm512_setzero_ps();
    for (int k = 0; k < K; k += 16) {
      /* max(|x|, m) keeps m when |x| is NaN, like fmaxf */
      m = _mm512_max_ps(_mm512_abs_ps(_mm512_maskz_loadu_ps(lanes_mask(K - k), col + k)), m);
    }
    const float amax = _mm512_reduce_max_ps(m);
    float scale = 0.0f, inv = 0.0f;
    if (amax > 0.0f && isfinite(amax)) {
      scale = amax / 127.0f;
      inv = 127.0f / amax;
    }
    out->scales[n] = scale;
    quantize_column_avx512(col, K, inv, out->codes + (size_t)n * (size_t)out->ld, out->ld,
                           out->sums ? out->sums + (size_t)n * (size_t)ng : NULL, out->group);
  }
}

static size_t quantize_act_static_avx512vnni(const float *x, int ldx, int K, int N, float scale,
                                             qk_act_s8 *out)
{
  const int ng = qk_group_count(K, out->group);
  const float inv = 1.0f / scale;
  size_t clipped = 0;
  out->per_column = false;
  out->scales[0] = scale;
  for (int n = 0; n < N; ++n)
    clipped += quantize_column_avx512(x + (size_t)n * (size_t)ldx, K, inv,
                                      out->codes + (size_t)n * (size_t)out->ld, out->ld,
                                      out->sums ? out->sums + (size_t)n * (size_t)ng : NULL,
                                      out->group);
  return clipped;
}

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
  const __m512i e = _mm512_slli_epi32(
      _mm512_add_epi32(_mm512_cvttps_epi32(n), _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

static void tanh_avx512vnni(float *y, const float *x, size_t count)
{
  const __m512 lo = _mm512_set1_ps(-QK_TANH_CLAMP), hi = _mm512_set1_ps(QK_TANH_CLAMP);
  const __m512 one = _mm512_set1_ps(1.0f), two = _mm512_set1_ps(2.0f);
  for (size_t i = 0; i < count; i += 16) {
    const __mmask16 mk = count - i >= 16 ? (__mmask16)0xFFFF : lanes_mask((int)(count - i));
    __m512 v = _mm512_min_ps(_mm512_max_ps(_mm512_maskz_loadu_ps(mk, x + i), lo), hi);
    __m512 e = exp_approx16(_mm512_mul_ps(two, v));
    _mm512_mask_storeu_ps(y + i, mk, _mm512_div_ps(_mm512_sub_ps(e, one), _mm512_add_ps(e, one)));
  }
}

static void sigmoid_avx512vnni(float *y, const float *x, size_t count)
{
  const __m512 lo = _mm512_set1_ps(-QK_SIGMOID_CLAMP), hi = _mm512_set1_ps(QK_SIGMOID_CLAMP);
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 sign = _mm512_set1_ps(-0.0f);
  for (size_t i = 0; i < count; i += 16) {
    const __mmask16 mk = count - i >= 16 ? (__mmask16)0xFFFF : lanes_mask((int)(count - i));
    __m512 v = _mm512_min_ps(_mm512_max_ps(_mm512_maskz_loadu_ps(mk, x + i), lo), hi);
    __m512 e = exp_approx16(_mm512_xor_ps(v, sign));
    _mm512_mask_storeu_ps(y + i, mk, _mm512_div_ps(one, _mm512_add_ps(one, e)));
  }
}

const qk_isa_ops qk_ops_avx512vnni = {
  .isa = QK_ISA_AVX512VNNI,
  .pack = pack_avx512vnni,
  .gemm_f32 = gemm_f32_avx512vnni,
  .gemm_s8 = gemm_s8_avx512vnni,
  .quantize_act_dynamic = quantize_act_dynamic_avx512vnni,
  .quantize_act_static = quantize_act_static_avx512vnni,
  .tanh = tanh_avx512vnni,
  .sigmoid = sigmoid_avx512vnni,
};
