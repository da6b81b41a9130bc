/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
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
  agrees with the scalar oracle bit for bit. gemm_f32 sums each column in
  four fma chains (k mod 4) combined as (c0 + c1) + (c2 + c3), and the weight-only
  path folds the scale into the decoded weight first; both agree with the
  scalar within tolerance. Every path, GEMV included, computes a column
  exactly this way whatever N is and whichever block it falls in (qk.h's
  column independence).
*/
#include "qk_avx512vnni_common.h"

#include <string.h>

/** Bits per stored code of an integer format. */
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
  v.kstep = v.bits == 8 ? 4 : v.bits == 4 ? 8 : 16;
  int last = v.K - (v.ng - 1) * v.G;
  v.Kp = (v.ng - 1) * v.G + ((last + v.kstep - 1) & -v.kstep);
  v.has_zp = p->zp != NULL;
  v.tile_bytes = (size_t)v.Kp * (size_t)(2 * v.bits); /* 16 rows * bits / 8 */
  v.codes_bytes = (size_t)v.T * v.tile_bytes;
  v.codes = NULL;
  v.par = NULL;
  return v;
}

/* ------------------------------------------------------------------------
   Pack
   ------------------------------------------------------------------------ */

int qk_avx512vnni_weight_value(const qk_packed *p, int m, int k)
{
  const int_view *v = int_view_of(p);
  const int per = 8 / v->bits, q = k / 4;
  const uint8_t byte = v->codes[(size_t)(m / TILE_ROWS) * v->tile_bytes + (size_t)(q / per) * 64 +
                                (size_t)((m % TILE_ROWS) * 4 + k % 4)];
  const int idx = (byte >> (v->bits * (q % per))) & ((1 << v->bits) - 1);
  return v->bits == 8 ? idx - 128 : p->table[idx];
}

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
  const size_t npar = (size_t)v.T * (size_t)v.ng * PAR_FLOATS;
  const size_t bytes = HDR_BYTES + v.codes_bytes + npar * sizeof(float);
  uint8_t *d = qk_aligned_calloc(bytes);
  if (!d)
    return -1;
  uint8_t *codes = d + HDR_BYTES;

  /* Padding index: one whose value is 0 if the table has one. Padded
     weights meet zero activations (int8 codes past K are 0) or are never
     read against activations (float paths stop at K), so any works. */
  int pad_idx = 0;
  if (!s8) {
    for (int i = (1 << v.bits) - 1; i >= 0; --i)
      if (p->table[i] == 0)
        pad_idx = i;
  }

  for (int t = 0; t < v.T; ++t) {
    uint8_t *tile = codes + (size_t)t * v.tile_bytes;
    for (int r = 0; r < TILE_ROWS; ++r) {
      const int m = t * TILE_ROWS + r;
      for (int k = 0; k < v.Kp; ++k) {
        int idx;
        if (m < v.M && k < v.K)
          idx = s8 ? (w->codes[(size_t)m * (size_t)v.K + (size_t)k] + 128) & 0xFF
                   : qk_weight_index(w, m, k);
        else
          idx = s8 ? 128 : pad_idx;
        const int q = k / 4, kk = k % 4;
        const size_t at = (size_t)(q / per) * 64 + (size_t)(r * 4 + kk);
        tile[at] |= (uint8_t)(idx << (v.bits * (q % per)));
      }
    }
  }

  float *par = (float *)(void *)(codes + v.codes_bytes);
  for (int t = 0; t < v.T; ++t) {
    for (int g = 0; g < v.ng; ++g) {
      float *pr = par + ((size_t)t * (size_t)v.ng + (size_t)g) * PAR_FLOATS;
      int32_t *zc = (int32_t *)(void *)(pr + 16), *zcp = (int32_t *)(void *)(pr + 32);
      for (int r = 0; r < TILE_ROWS; ++r) {
        const int m = t * TILE_ROWS + r;
        const size_t at = (size_t)m * (size_t)v.ng + (size_t)g;
        pr[r] = m < v.M ? p->scales[at] : 0.0f;
        zc[r] = 128 + ((m < v.M && p->zp) ? p->zp[at] : 0);
      }
      for (int i = 0; i < 64; ++i) {
        zcp[i] = zc[(i / 16) * 4 + (i % 16) / 4];
        pr[96 + i] = pr[(i / 16) * 4 + (i % 16) / 4];
      }
    }
  }

  v.codes = codes;
  v.par = par;
  memcpy(d, &v, sizeof v);
  p->data = d;
  p->data_bytes = bytes;
  p->fold = NULL;
  return 0;
}

/* ------------------------------------------------------------------------
   Shared pieces of the GEMM kernels
   ------------------------------------------------------------------------ */

/**
   Y rows [m0, m0+16) of one frame: y = acc + base, base = bias +
   (ACCUMULATE ? y : 0), masked to M.
*/
ALWAYS_INLINE void store_rows(float *y, const float *bias, int m0, int M, unsigned flags,
                              __m512 acc)
{
  const __mmask16 mk = lanes_mask(M - m0);
  __m512 b = bias ? loadu_mask_ps(mk, bias + m0) : _mm512_setzero_ps();
  __m512 old = (flags & QK_ACCUMULATE) ? loadu_mask_ps(mk, y + m0) : _mm512_setzero_ps();
  storeu_mask_ps(y + m0, mk, _mm512_add_ps(acc, _mm512_add_ps(b, old)));
}

/* ------------------------------------------------------------------------
   gemm_s8: R tiles (16 rows each) x F frames of int32 accumulators,
   vpdpbusd on 16 rows x 4 k per instruction, weights as the unsigned
   operand u = v + 128 and activations as the signed one (broadcast, no
   per-step flip). Per group the accumulators start at -zc * xsum
   (zc = zp + 128), so they hold i = dot - zp * xsum exactly when the
   k loop ends.
   ------------------------------------------------------------------------ */

typedef struct {
  const int_view *v;
  __m512i tbl;
  const int8_t *xcodes;
  int ld;
  int per_column;
  const float *xscales;
  const int32_t *xsums; /**< NULL: sums are computed from the codes */
  const float *bias;
  float *Y;
  int ldy;
  unsigned flags;
} s8_args;

/** Sum of the activation codes x[k0..k1) (only when the caller's sums do not fit). */
__attribute__((noinline, cold)) static int32_t xsum_range(const int8_t *x, int k0, int k1)
{
  __m512i acc = _mm512_setzero_si512();
  const __m512i ones = _mm512_set1_epi8(1);
  for (int k = k0; k < k1; k += 64) {
    const __mmask64 mk = k1 - k >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (k1 - k)) - 1);
    acc = dpbusd(acc, ones, _mm512_maskz_loadu_epi8(mk, x + k));
  }
  return _mm512_reduce_add_epi32(acc);
}

ALWAYS_INLINE void gemm_s8_16x4_core(const s8_args *a, int t0, int n0, const int R, const int F,
                                     const int bits, const int one)
{
  /* Everything in locals: stores through float / __m512 pointers may
     alias the argument structs, which would force reloads per output.
     one: a single group per row and usable caller sums (compile time). */
  const int_view *v = a->v;
  const int ng = one ? 1 : v->ng, G = v->G, Kp = v->Kp, K = v->K, M = v->M, has_zp = v->has_zp;
  const size_t tb = v->tile_bytes, tpar = (size_t)ng * PAR_FLOATS;
  const uint8_t *codes = v->codes + (size_t)t0 * tb;
  const float *par = v->par + (size_t)t0 * tpar;
  const float *bias = a->bias;
  float *Y = a->Y;
  const int ldy = a->ldy;
  const unsigned flags = a->flags;
  const int32_t *xsums = a->xsums;
  const int per = 8 / bits, kstep = 4 * per;
  const __m512i tbl = a->tbl;
  const int8_t *xp[8];
  __m512 xsc[8];
  /* Float sums between groups (read only when ng > 1). */
  __m512 fsum[4][8];
  if (ng > 1) {
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int f = 0; f < F; ++f)
        fsum[r][f] = _mm512_setzero_ps();
  }

#pragma GCC unroll 8
  for (int f = 0; f < F; ++f) {
    xp[f] = a->xcodes + (size_t)(n0 + f) * (size_t)a->ld;
    xsc[f] = _mm512_set1_ps(a->per_column ? a->xscales[n0 + f] : a->xscales[0]);
  }

  for (int g = 0; g < ng; ++g) {
    const int k0 = g * G;
    const int k1 = one ? Kp : k0 + G < Kp ? k0 + G : Kp;
    const uint8_t *blk = codes + (size_t)(k0 / kstep) * 64;
    __m512i acc[4][8];

    /* start value -zc * xsum */
    int32_t xs[8];
#pragma GCC unroll 8
    for (int f = 0; f < F; ++f)
      xs[f] = (one || xsums) ? xsums[(size_t)(n0 + f) * (size_t)ng + (size_t)g]
                             : xsum_range(xp[f], k0, k0 + G < K ? k0 + G : K);
    if (has_zp) {
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const __m512i zc = _mm512_load_si512(par + (size_t)r * tpar + (size_t)g * PAR_FLOATS + 16);
#pragma GCC unroll 8
        for (int f = 0; f < F; ++f)
          acc[r][f] = _mm512_mullo_epi32(zc, _mm512_set1_epi32((int32_t)(0u - (uint32_t)xs[f])));
      }
    } else {
#pragma GCC unroll 8
      for (int f = 0; f < F; ++f) {
        /* -128 * xsum, wrapping like the scalar's int32 arithmetic would not need to */
        const __m512i c = _mm512_mullo_epi32(_mm512_set1_epi32(xs[f]), _mm512_set1_epi32(-128));
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r)
          acc[r][f] = c;
      }
    }

    int k = k0;
    if (F == 1 && bits == 8) {
      /* GEMV: two independent chains per tile to hide vpdpbusd latency. */
      __m512i acc2[4];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r)
        acc2[r] = _mm512_setzero_si512();
      for (; k + 8 <= k1; k += 8, blk += 128) {
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          const uint8_t *b = blk + (size_t)r * tb;
          acc[r][0] = dpbusd_bc(acc[r][0], _mm512_load_si512(b), xp[0] + k);
          acc2[r] = dpbusd_bc(acc2[r], _mm512_load_si512(b + 64), xp[0] + k + 4);
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
        raw[r] = _mm512_load_si512(blk + (size_t)r * tb);
#pragma GCC unroll 4
      for (int j = 0; j < per; ++j) {
        __m512i wq[4];
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r)
          wq[r] = decode_quad(raw[r], bits, j, tbl);
        if (R == 1) {
#pragma GCC unroll 8
          for (int f = 0; f < F; ++f)
            acc[0][f] = dpbusd_bc(acc[0][f], wq[0], xp[f] + k + 4 * j);
        } else {
#pragma GCC unroll 8
          for (int f = 0; f < F; ++f) {
            const __m512i xv = _mm512_set1_epi32(load4(xp[f] + k + 4 * j));
#pragma GCC unroll 4
            for (int r = 0; r < R; ++r)
              acc[r][f] = dpbusd(acc[r][f], wq[r], xv);
          }
        }
      }
    }

    /* Group end: acc = fma((float)i, scale, acc) in qk.h's order; after
       the last group y = fma(acc, xscale, base). */
    const bool last = g + 1 == ng;
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m512 sv = _mm512_load_ps(par + (size_t)r * tpar + (size_t)g * PAR_FLOATS);
      __m512 s[8];
#pragma GCC unroll 8
      for (int f = 0; f < F; ++f)
        s[f] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r][f]), sv,
                               g == 0 ? _mm512_setzero_ps() : fsum[r][f]);
      if (!last) {
#pragma GCC unroll 8
        for (int f = 0; f < F; ++f)
          fsum[r][f] = s[f];
        continue;
      }
      const int m0 = (t0 + r) * TILE_ROWS;
      const __mmask16 mk = lanes_mask(M - m0);
      const __m512 b = bias ? loadu_mask_ps(mk, bias + m0) : _mm512_setzero_ps();
      if (flags & QK_ACCUMULATE) {
#pragma GCC unroll 8
        for (int f = 0; f < F; ++f) {
          float *y = Y + (size_t)(n0 + f) * (size_t)ldy + m0;
          __m512 base = _mm512_add_ps(b, loadu_mask_ps(mk, y));
          storeu_mask_ps(y, mk, _mm512_fmadd_ps(s[f], xsc[f], base));
        }
      } else {
        /* b + 0.0f: a -0.0f bias becomes +0.0f, as in the scalar */
        const __m512 base = bias ? _mm512_add_ps(b, _mm512_setzero_ps()) : b;
#pragma GCC unroll 8
        for (int f = 0; f < F; ++f)
          storeu_mask_ps(Y + (size_t)(n0 + f) * (size_t)ldy + m0, mk,
                         _mm512_fmadd_ps(s[f], xsc[f], base));
      }
    }
  }
}

typedef void (*s8_block_fn)(const s8_args *a, int t0, int n0);

#define DEF_S8_BLOCK(R, F, B)                                                                      \
  static void gemm_s8_16x4_r##R##_f##F##_b##B(const s8_args *a, int t0, int n0)                    \
  {                                                                                                \
    gemm_s8_16x4_core(a, t0, n0, R, F, B, 0);                                                      \
  }                                                                                                \
  static void gemm_s8_16x4_r##R##_f##F##_b##B##_one(const s8_args *a, int t0, int n0)              \
  {                                                                                                \
    gemm_s8_16x4_core(a, t0, n0, R, F, B, 1);                                                      \
  }
#define DEF_S8_BITS(B)                                                                             \
  DEF_S8_BLOCK(4, 4, B)                                                                            \
  DEF_S8_BLOCK(4, 2, B)                                                                            \
  DEF_S8_BLOCK(4, 1, B)                                                                            \
  DEF_S8_BLOCK(2, 8, B)                                                                            \
  DEF_S8_BLOCK(2, 4, B)                                                                            \
  DEF_S8_BLOCK(2, 2, B)                                                                            \
  DEF_S8_BLOCK(2, 1, B)                                                                            \
  DEF_S8_BLOCK(1, 8, B)                                                                            \
  DEF_S8_BLOCK(1, 4, B)                                                                            \
  DEF_S8_BLOCK(1, 2, B)                                                                            \
  DEF_S8_BLOCK(1, 1, B) static const s8_block_fn s8_blocks_b##B[3][4] = {                          \
      {NULL, gemm_s8_16x4_r4_f4_b##B, gemm_s8_16x4_r4_f2_b##B, gemm_s8_16x4_r4_f1_b##B},           \
      {gemm_s8_16x4_r2_f8_b##B, gemm_s8_16x4_r2_f4_b##B, gemm_s8_16x4_r2_f2_b##B,                  \
       gemm_s8_16x4_r2_f1_b##B},                                                                   \
      {gemm_s8_16x4_r1_f8_b##B, gemm_s8_16x4_r1_f4_b##B, gemm_s8_16x4_r1_f2_b##B,                  \
       gemm_s8_16x4_r1_f1_b##B}};                                                                  \
  static const s8_block_fn s8_blocks_b##B##_one[3][4] = {                                          \
      {NULL, gemm_s8_16x4_r4_f4_b##B##_one, gemm_s8_16x4_r4_f2_b##B##_one,                         \
       gemm_s8_16x4_r4_f1_b##B##_one},                                                             \
      {gemm_s8_16x4_r2_f8_b##B##_one, gemm_s8_16x4_r2_f4_b##B##_one,                               \
       gemm_s8_16x4_r2_f2_b##B##_one, gemm_s8_16x4_r2_f1_b##B##_one},                              \
      {gemm_s8_16x4_r1_f8_b##B##_one, gemm_s8_16x4_r1_f4_b##B##_one,                               \
       gemm_s8_16x4_r1_f2_b##B##_one, gemm_s8_16x4_r1_f1_b##B##_one}};

DEF_S8_BITS(8)
DEF_S8_BITS(4)
DEF_S8_BITS(2)

/** Tile blocks of 4, 2, 1 tiles; frame blocks of 8 (4 with 4 tiles), then 4, 2, 1. */
#define RUN_BLOCKS(fns, T, N, args)                                                                \
  do {                                                                                             \
    static const int rs_[3] = {4, 2, 1}, fs_[4] = {8, 4, 2, 1};                                    \
    for (int t_ = 0; t_ < (T);) {                                                                  \
      int ri_ = (T)-t_ >= 4 ? 0 : (T)-t_ >= 2 ? 1 : 2;                                             \
      int n_ = 0;                                                                                  \
      for (int fi_ = 0; fi_ < 4; ++fi_) {                                                          \
        if (!(fns)[ri_][fi_])                                                                      \
          continue;                                                                                \
        while (n_ + fs_[fi_] <= (N)) {                                                             \
          (fns)[ri_][fi_]((args), t_, n_);                                                         \
          n_ += fs_[fi_];                                                                          \
        }                                                                                          \
      }                                                                                            \
      t_ += rs_[ri_];                                                                              \
    }                                                                                              \
  } while (0)

/** N = 1: tile blocks of 4, 2, 1, no frame loop. */
#define RUN_GEMV(fns, T, args)                                                                     \
  do {                                                                                             \
    int t_ = 0;                                                                                    \
    for (; t_ + 4 <= (T); t_ += 4)                                                                 \
      (fns)[0][3]((args), t_, 0);                                                                  \
    if (t_ + 2 <= (T)) {                                                                           \
      (fns)[1][3]((args), t_, 0);                                                                  \
      t_ += 2;                                                                                     \
    }                                                                                              \
    if (t_ < (T))                                                                                  \
      (fns)[2][3]((args), t_, 0);                                                                  \
  } while (0)

/* ------------------------------------------------------------------------
   gemm_s8 with N = 1 and one group per row (per-channel / per-tensor): no
   block machinery, the activation sum and scale read once, tiles two at a
   time with two k chains each.
   ------------------------------------------------------------------------ */

ALWAYS_INLINE void gemv1_s8_tiles(const int_view *v, int t0, __m512i tbl, const int8_t *x,
                                  int32_t xs, __m512 xsc, const float *bias, float *y,
                                  unsigned flags, const int R, const int bits)
{
  const int per = 8 / bits, kstep = 4 * per;
  const int Kp = v->Kp;
  const size_t tb = v->tile_bytes;
  const uint8_t *blk = v->codes + (size_t)t0 * tb;
  const float *par = v->par + (size_t)t0 * PAR_FLOATS;
  __m512i acc0[2], acc1[2];
  if (v->has_zp) {
    const __m512i nxs = _mm512_set1_epi32((int32_t)(0u - (uint32_t)xs));
#pragma GCC unroll 2
    for (int r = 0; r < R; ++r)
      acc0[r] = _mm512_mullo_epi32(_mm512_load_si512(par + (size_t)r * PAR_FLOATS + 16), nxs);
  } else {
    const __m512i c = _mm512_set1_epi32((int32_t)(0u - ((uint32_t)xs << 7)));
#pragma GCC unroll 2
    for (int r = 0; r < R; ++r)
      acc0[r] = c;
  }
#pragma GCC unroll 2
  for (int r = 0; r < R; ++r)
    acc1[r] = _mm512_setzero_si512();

  int k = 0;
  if (bits == 8) {
    for (; k + 8 <= Kp; k += 8, blk += 128) {
#pragma GCC unroll 2
      for (int r = 0; r < R; ++r) {
        acc0[r] = dpbusd_bc(acc0[r], _mm512_load_si512(blk + (size_t)r * tb), x + k);
        acc1[r] = dpbusd_bc(acc1[r], _mm512_load_si512(blk + (size_t)r * tb + 64), x + k + 4);
      }
    }
    if (k < Kp) {
#pragma GCC unroll 2
      for (int r = 0; r < R; ++r)
        acc0[r] = dpbusd_bc(acc0[r], _mm512_load_si512(blk + (size_t)r * tb), x + k);
    }
  } else {
    for (; k < Kp; k += kstep, blk += 64) {
#pragma GCC unroll 2
      for (int r = 0; r < R; ++r) {
        const __m512i raw = _mm512_load_si512(blk + (size_t)r * tb);
#pragma GCC unroll 4
        for (int j = 0; j < per; j += 2) {
          acc0[r] = dpbusd_bc(acc0[r], decode_quad(raw, bits, j, tbl), x + k + 4 * j);
          acc1[r] = dpbusd_bc(acc1[r], decode_quad(raw, bits, j + 1, tbl), x + k + 4 * j + 4);
        }
      }
    }
  }

#pragma GCC unroll 2
  for (int r = 0; r < R; ++r) {
    const int m0 = (t0 + r) * TILE_ROWS;
    const __mmask16 mk = lanes_mask(v->M - m0);
    const __m512 s =
        _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(acc0[r], acc1[r])),
                        _mm512_load_ps(par + (size_t)r * PAR_FLOATS), _mm512_setzero_ps());
    __m512 base = bias ? _mm512_add_ps(loadu_mask_ps(mk, bias + m0), _mm512_setzero_ps())
                       : _mm512_setzero_ps();
    if (flags & QK_ACCUMULATE)
      base = _mm512_add_ps(bias ? loadu_mask_ps(mk, bias + m0) : _mm512_setzero_ps(),
                           loadu_mask_ps(mk, y + m0));
    storeu_mask_ps(y + m0, mk, _mm512_fmadd_ps(s, xsc, base));
  }
}

ALWAYS_INLINE void gemv1_s8_core(const int_view *v, __m512i tbl, const int8_t *x, int32_t xs,
                                 float xscale, const float *bias, float *y, unsigned flags,
                                 const int bits)
{
  const __m512 xsc = _mm512_set1_ps(xscale);
  const int T = v->T;
  int t = 0;
  for (; t + 2 <= T; t += 2)
    gemv1_s8_tiles(v, t, tbl, x, xs, xsc, bias, y, flags, 2, bits);
  if (t < T)
    gemv1_s8_tiles(v, t, tbl, x, xs, xsc, bias, y, flags, 1, bits);
}

static void gemv1_s8_b8(const int_view *v, __m512i tbl, const int8_t *x, int32_t xs, float xscale,
                        const float *bias, float *y, unsigned flags)
{
  gemv1_s8_core(v, tbl, x, xs, xscale, bias, y, flags, 8);
}
static void gemv1_s8_b4(const int_view *v, __m512i tbl, const int8_t *x, int32_t xs, float xscale,
                        const float *bias, float *y, unsigned flags)
{
  gemv1_s8_core(v, tbl, x, xs, xscale, bias, y, flags, 4);
}
static void gemv1_s8_b2(const int_view *v, __m512i tbl, const int8_t *x, int32_t xs, float xscale,
                        const float *bias, float *y, unsigned flags)
{
  gemv1_s8_core(v, tbl, x, xs, xscale, bias, y, flags, 2);
}

static void gemm_s8_avx512vnni(const qk_packed *W, const qk_act_s8 *X, int N, const float *bias,
                               float *Y, int ldy, unsigned flags)
{
  if (W->format == QK_F32)
    return; /* int8 activations need integer weights (qk.h); nothing to do */
  const int_view *v = int_view_of(W);
  /* The caller's group sums are usable if they were taken over our groups. */
  const int XG = (X->group <= 0 || X->group >= v->K) ? v->K : X->group;
  const int32_t *xsums = (X->sums && XG == v->G) ? X->sums : NULL;
  if (N == 1 && v->ng == 1) {
    const int32_t xs = xsums ? xsums[0] : xsum_range(X->codes, 0, v->K);
    switch (v->bits) {
    case 8:
      gemv1_s8_b8(v, _mm512_setzero_si512(), X->codes, xs, X->scales[0], bias, Y, flags);
      break;
    case 4: gemv1_s8_b4(v, table_u_zmm(W), X->codes, xs, X->scales[0], bias, Y, flags); break;
    default: gemv1_s8_b2(v, table_u_zmm(W), X->codes, xs, X->scales[0], bias, Y, flags); break;
    }
    return;
  }
  s8_args a;
  a.v = v;
  a.tbl = v->bits == 8 ? _mm512_setzero_si512() : table_u_zmm(W);
  a.xcodes = X->codes;
  a.ld = X->ld;
  a.per_column = X->per_column;
  a.xscales = X->scales;
  a.xsums = xsums;
  a.bias = bias;
  a.Y = Y;
  a.ldy = ldy;
  a.flags = flags;
  if (N == 1) {
    switch (v->bits) {
    case 8: RUN_GEMV(s8_blocks_b8, v->T, &a); break;
    case 4: RUN_GEMV(s8_blocks_b4, v->T, &a); break;
    default: RUN_GEMV(s8_blocks_b2, v->T, &a); break;
    }
    return;
  }
  if (v->ng == 1 && xsums) {
    switch (v->bits) {
    case 8: RUN_BLOCKS(s8_blocks_b8_one, v->T, N, &a); break;
    case 4: RUN_BLOCKS(s8_blocks_b4_one, v->T, N, &a); break;
    default: RUN_BLOCKS(s8_blocks_b2_one, v->T, N, &a); break;
    }
    return;
  }
  switch (v->bits) {
  case 8: RUN_BLOCKS(s8_blocks_b8, v->T, N, &a); break;
  case 4: RUN_BLOCKS(s8_blocks_b4, v->T, N, &a); break;
  default: RUN_BLOCKS(s8_blocks_b2, v->T, N, &a); break;
  }
}

/* ------------------------------------------------------------------------
   gemm_f32, QK_F32 weights: [T][K][16] floats, R tiles x F frames of
   accumulators, one fma per (tile, frame, k) with the activation broadcast.
   The same blocks run the weight-only path on a tile decoded to floats.
   ------------------------------------------------------------------------ */

typedef struct {
  const float *X;
  int ldx;
  const float *bias;
  float *Y;
  int ldy;
  unsigned flags;
  int M, K;
  size_t tstride; /**< floats from one tile's weights to the next */
  /** 0: value k of a frame at X + k. Else the frame's K values are taps
      pieces of C (C a multiple of 4) tap_stride apart: value t*C + c at
      X + t*tap_stride + c (qk_gemm_f32_taps, read in place). */
  int taps, C;
  ptrdiff_t tap_stride;
} f32_args;

/**
   The float blocks' body, for zmm (16 rows a tile) and ymm (the low 8
   rows of a tile): a matrix of at most 8 rows fills only half of each
   16-row tile, and Zen 4 runs a 512-bit FMA on both of its 256-bit pipes,
   so the ymm form does twice the rows per cycle there (A1's 8-channel
   layers: README, "Masked stores"). Lane for lane the same operations, so
   the same bits. VT: the vector type; TOZMM widens a sum for store_rows,
   whose mask covers at most the live rows (the ymm form's upper lanes are
   undefined and never stored).

   Four chains per (tile, frame): k = j (mod 4) into chain j, combined as
   (c0 + c1) + (c2 + c3) at the end. Every block shape (GEMV included)
   splits a column's k chain exactly this way, so a column's bits never
   depend on F or N (qk.h), while a GEMV keeps four independent FMA chains
   per tile. Up to 24 accumulators (R x F <= 6), chain by chain so only R
   weights and one broadcast are live besides.
*/
#define DEF_F32_CORE(NAME, VT, LOAD, SET1, FMADD, ADD, ZERO, TOZMM)                                \
  ALWAYS_INLINE void NAME(const f32_args *a, const float *w, int m0, int n0, const int R,          \
                          const int F)                                                             \
  {                                                                                                \
    const int M = a->M, K = a->K;                                                                  \
    const size_t tstride = a->tstride;                                                             \
    const float *xp[8];                                                                            \
    _Pragma("GCC unroll 8") for (int f = 0; f < F; ++f) xp[f] =                                    \
        a->X + (size_t)(n0 + f) * (size_t)a->ldx;                                                  \
    VT ch[4][4][6];                                                                                \
    _Pragma("GCC unroll 4") for (int j = 0; j < 4; ++j)                                            \
        _Pragma("GCC unroll 4") for (int r = 0; r < R; ++r)                                        \
            _Pragma("GCC unroll 6") for (int f = 0; f < F; ++f) ch[j][r][f] = ZERO();              \
    int k = 0;                                                                                     \
    /* pieces of C values (taps: C % 4 == 0, so chain j still takes k = j                          \
       mod 4), each read where it lies; one piece of K without taps */                             \
    const int pieces = a->taps ? a->taps : 1, C = a->taps ? a->C : K;                              \
    for (int t = 0; t < pieces; ++t) {                                                             \
      const ptrdiff_t at = a->taps ? (ptrdiff_t)t * a->tap_stride - (ptrdiff_t)t * C : 0;          \
      for (const int end = k + C; k + 4 <= end; k += 4) {                                          \
        _Pragma("GCC unroll 4") for (int j = 0; j < 4; ++j)                                        \
        {                                                                                          \
          VT wv[4];                                                                                \
          _Pragma("GCC unroll 4") for (int r = 0; r < R; ++r) wv[r] =                              \
              LOAD(w + (size_t)r * tstride + (size_t)(k + j) * TILE_ROWS);                         \
          _Pragma("GCC unroll 6") for (int f = 0; f < F; ++f)                                      \
          {                                                                                        \
            const VT xb = SET1(xp[f][at + k + j]);                                                 \
            _Pragma("GCC unroll 4") for (int r = 0; r < R; ++r) ch[j][r][f] =                      \
                FMADD(wv[r], xb, ch[j][r][f]);                                                     \
          }                                                                                        \
        }                                                                                          \
      }                                                                                            \
    }                                                                                              \
    for (int j = 0; k < K; ++k, ++j) {                                                             \
      VT wv[4];                                                                                    \
      _Pragma("GCC unroll 4") for (int r = 0; r < R; ++r) wv[r] =                                  \
          LOAD(w + (size_t)r * tstride + (size_t)k * TILE_ROWS);                                   \
      _Pragma("GCC unroll 6") for (int f = 0; f < F; ++f)                                          \
      {                                                                                            \
        const VT xb = SET1(xp[f][k]);                                                              \
        _Pragma("GCC unroll 4") for (int r = 0; r < R; ++r)                                        \
        {                                                                                          \
          if (j == 0)                                                                              \
            ch[0][r][f] = FMADD(wv[r], xb, ch[0][r][f]);                                           \
          else if (j == 1)                                                                         \
            ch[1][r][f] = FMADD(wv[r], xb, ch[1][r][f]);                                           \
          else                                                                                     \
            ch[2][r][f] = FMADD(wv[r], xb, ch[2][r][f]);                                           \
        }                                                                                          \
      }                                                                                            \
    }                                                                                              \
    _Pragma("GCC unroll 6") for (int f = 0; f < F; ++f)                                            \
    {                                                                                              \
      float *y = a->Y + (size_t)(n0 + f) * (size_t)a->ldy;                                         \
      _Pragma("GCC unroll 4") for (int r = 0; r < R; ++r)                                          \
          store_rows(y, a->bias, m0 + r * TILE_ROWS, M, a->flags,                                  \
                     TOZMM(ADD(ADD(ch[0][r][f], ch[1][r][f]), ADD(ch[2][r][f], ch[3][r][f]))));    \
    }                                                                                              \
  }

#define F32_ZMM_ID(v) (v)
DEF_F32_CORE(gemm_f32_16x1_core, __m512, _mm512_load_ps, _mm512_set1_ps, _mm512_fmadd_ps,
             _mm512_add_ps, _mm512_setzero_ps, F32_ZMM_ID)
DEF_F32_CORE(gemm_f32_8x1_core, __m256, _mm256_load_ps, _mm256_set1_ps, _mm256_fmadd_ps,
             _mm256_add_ps, _mm256_setzero_ps, _mm512_castps256_ps512)

typedef void (*f32_block_fn)(const f32_args *a, const float *w, int m0, int n0);

#define DEF_F32_BLOCK(R, F)                                                                        \
  static void gemm_f32_16x1_r##R##_f##F(const f32_args *a, const float *w, int m0, int n0)         \
  {                                                                                                \
    gemm_f32_16x1_core(a, w, m0, n0, R, F);                                                        \
  }
#define DEF_F32_HALF_BLOCK(F)                                                                      \
  static void gemm_f32_8x1_f##F(const f32_args *a, const float *w, int m0, int n0)                 \
  {                                                                                                \
    gemm_f32_8x1_core(a, w, m0, n0, 1, F);                                                         \
  }
/* 4 chains x R tiles x F frames <= 24 accumulators; R = 4 only for GEMV */
DEF_F32_BLOCK(4, 1)
DEF_F32_BLOCK(2, 3)
DEF_F32_BLOCK(2, 2)
DEF_F32_BLOCK(2, 1)
DEF_F32_BLOCK(1, 6)
DEF_F32_BLOCK(1, 4)
DEF_F32_BLOCK(1, 3)
DEF_F32_BLOCK(1, 2)
DEF_F32_BLOCK(1, 1)
DEF_F32_HALF_BLOCK(6)
DEF_F32_HALF_BLOCK(4)
DEF_F32_HALF_BLOCK(3)
DEF_F32_HALF_BLOCK(2)
DEF_F32_HALF_BLOCK(1)
/** Rows: 4 tiles (GEMV), 2 tiles, 1 tile, the low half of 1 tile (at most 8 rows). */
enum { F32_R4, F32_R2, F32_R1, F32_HALF };
static const f32_block_fn f32_blocks[4][5] = {
    {NULL, NULL, NULL, NULL, gemm_f32_16x1_r4_f1},
    {NULL, NULL, gemm_f32_16x1_r2_f3, gemm_f32_16x1_r2_f2, gemm_f32_16x1_r2_f1},
    {gemm_f32_16x1_r1_f6, gemm_f32_16x1_r1_f4, gemm_f32_16x1_r1_f3, gemm_f32_16x1_r1_f2,
     gemm_f32_16x1_r1_f1},
    {gemm_f32_8x1_f6, gemm_f32_8x1_f4, gemm_f32_8x1_f3, gemm_f32_8x1_f2, gemm_f32_8x1_f1}};

/** The blocks of one tile of `rows` live rows: F32_HALF for at most 8. */
ALWAYS_INLINE int one_tile_rows(int rows) { return rows <= 8 ? F32_HALF : F32_R1; }

/** All frames of tile rows [m0, m0 + 16*R) against the weights at w (table row ri). */
ALWAYS_INLINE void run_f32_frames(const f32_args *a, int ri, const float *w, int m0, int N)
{
  static const int fs[5] = {6, 4, 3, 2, 1};
  int n = 0;
  for (int fi = 0; fi < 5; ++fi) {
    const f32_block_fn fn = f32_blocks[ri][fi];
    if (!fn)
      continue;
    for (; n + fs[fi] <= N; n += fs[fi])
      fn(a, w, m0, n);
  }
}

/* ------------------------------------------------------------------------
   gemm_f32, QK_F32 weights of at most 4 rows (A2 nano's 3-row convs and
   1x1s, the 1-row array head conv): a 16-row tile per frame would leave
   13 to 15 of its lanes idle, so here 16 frames share a vector instead,
   one accumulator per (row, chain), each k's 16 activations gathered from
   their frames and each weight broadcast. Per output it is the tile
   form's arithmetic exactly -- chain j takes k = j (mod 4) in k order,
   fma(w, x, chain) (the product commutes), (c0 + c1) + (c2 + c3), then
   + (bias + old) -- so a column's bits are the same whichever form ran
   it (qk.h: column independence); the frames after the last whole 16 run
   the tile form.
   ------------------------------------------------------------------------ */

#define FRAME_LANES 16
/** Largest M the frame form takes: at 8 rows (two passes, each gathering
    the activations again) A2 standard's FP32 ran 13% slower than on tiles. */
#define FRAMES16_MAX_ROWS 4

/** Most columns the taps form takes (its table of where each k is read). */
#define FRAMES16_TAPS_MAX_K 512

/** Most values per frame the deinterleaving below takes (ldx floats, 16
    frames in ldx vectors) and most k it holds on the stack. */
#define DEINT_MAX_LDX 4
#define DEINT_MAX_K 64

/**
   xs[k] = value k of 16 frames ldx <= 4 floats apart, whose k-th value
   lies at kpos[k] (NULL: k) from the frame: where the frames are packed
   this tight (A2 nano's 3 channels, its 1-row head), loading their
   16 * ldx floats once and permuting each piece's channels out costs far
   less than a 16-lane gather per k (which was the largest cost of A2 nano
   at block 64). kpos must give whole pieces of ldx values in order (the
   taps form's: tap t's channel c at t * tap_stride + c). Same values as
   the gathers, so the same bits.
*/
static void deinterleave16(const float *x, int ldx, int K, const ptrdiff_t *kpos, __m512 *xs)
{
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (int k0 = 0; k0 < K; k0 += ldx) {
    const float *p = x + (kpos ? kpos[k0] : k0);
    __m512 v[DEINT_MAX_LDX];
    for (int i = 0; i < DEINT_MAX_LDX; ++i)
      v[i] = i < ldx ? _mm512_loadu_ps(p + 16 * i) : _mm512_setzero_ps();
    for (int c = 0; c < ldx && k0 + c < K; ++c) {
      /* frame f's value c is float ldx * f + c of the 16 * ldx loaded */
      const __m512i idx =
          _mm512_add_epi32(_mm512_mullo_epi32(lane, _mm512_set1_epi32(ldx)), _mm512_set1_epi32(c));
      const __m512 lo = _mm512_permutex2var_ps(v[0], idx, v[1]);
      const __m512 hi = _mm512_permutex2var_ps(v[2], idx, v[3]);
      xs[k0 + c] =
          _mm512_mask_blend_ps(_mm512_cmpge_epi32_mask(idx, _mm512_set1_epi32(32)), lo, hi);
    }
  }
}

/**
   interleave_idx[M - 2][i][l]: where lane l of output vector i comes from
   when 16 frames of M <= 4 rows (one vector per row, rows concatenated:
   row r's frame f at r * 16 + f) are written frame-major (float 16i + l
   is frame (16i + l) / M, row (16i + l) % M).
*/
static const int32_t interleave_idx[3][4][16] __attribute__((aligned(64))) = {
    {{0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23},
     {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31}},
    {{0, 16, 32, 1, 17, 33, 2, 18, 34, 3, 19, 35, 4, 20, 36, 5},
     {21, 37, 6, 22, 38, 7, 23, 39, 8, 24, 40, 9, 25, 41, 10, 26},
     {42, 11, 27, 43, 12, 28, 44, 13, 29, 45, 14, 30, 46, 15, 31, 47}},
    {{0, 16, 32, 48, 1, 17, 33, 49, 2, 18, 34, 50, 3, 19, 35, 51},
     {4, 20, 36, 52, 5, 21, 37, 53, 6, 22, 38, 54, 7, 23, 39, 55},
     {8, 24, 40, 56, 9, 25, 41, 57, 10, 26, 42, 58, 11, 27, 43, 59},
     {12, 28, 44, 60, 13, 29, 45, 61, 14, 30, 46, 62, 15, 31, 47, 63}},
};

/** Rows v[0..M) of 16 frames to y, frame-major, M <= 4 floats per frame. */
ALWAYS_INLINE void interleave16(const __m512 *v, const int M, float *y)
{
  if (M == 1) {
    _mm512_storeu_ps(y, v[0]);
    return;
  }
  const __m512 z = _mm512_setzero_ps();
#pragma GCC unroll 4
  for (int i = 0; i < M; ++i) {
    const __m512i idx = _mm512_load_si512(interleave_idx[M - 2][i]);
    const __m512 lo = _mm512_permutex2var_ps(v[0], idx, v[1]);
    const __m512 hi = _mm512_permutex2var_ps(M > 2 ? v[2] : z, idx, M > 3 ? v[3] : z);
    _mm512_storeu_ps(y + 16 * i, _mm512_mask_blend_ps(
                                     _mm512_cmpge_epi32_mask(idx, _mm512_set1_epi32(32)), lo, hi));
  }
}

/**
   16 frames from n0, rows m0 .. m0 + M - 1. Value k of frame n is read at
   X + n*ldx + kpos[k] (kpos NULL: + k, a gathered column; else the taps
   form's piece offsets).
*/
ALWAYS_INLINE void gemm_f32_frames16(const f32_args *a, const float *w, int n0, int m0, const int M,
                                     const ptrdiff_t *kpos, const __m512 *xs)
{
  const int K = a->K;
  const __m512i offs =
      _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                         _mm512_set1_epi32(a->ldx));
  const float *x = a->X + (size_t)n0 * (size_t)a->ldx;
/* value k of the 16 frames: deinterleaved beforehand (xs), else gathered */
#define FRAMES16_X(k) (xs ? xs[k] : _mm512_i32gather_ps(offs, x + (kpos ? kpos[k] : (k)), 4))
  __m512 ch[4][4];
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j)
#pragma GCC unroll 4
    for (int r = 0; r < M; ++r)
      ch[j][r] = _mm512_setzero_ps();
  int k = 0;
  for (; k + 4 <= K; k += 4) {
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      const __m512 xv = FRAMES16_X(k + j);
#pragma GCC unroll 4
      for (int r = 0; r < M; ++r)
        ch[j][r] =
            _mm512_fmadd_ps(_mm512_set1_ps(w[(size_t)(k + j) * TILE_ROWS + m0 + r]), xv, ch[j][r]);
    }
  }
  for (int j = 0; k < K; ++k, ++j) {
    const __m512 xv = FRAMES16_X(k);
#pragma GCC unroll 4
    for (int r = 0; r < M; ++r) {
      const __m512 wv = _mm512_set1_ps(w[(size_t)k * TILE_ROWS + m0 + r]);
      if (j == 0)
        ch[0][r] = _mm512_fmadd_ps(wv, xv, ch[0][r]);
      else if (j == 1)
        ch[1][r] = _mm512_fmadd_ps(wv, xv, ch[1][r]);
      else
        ch[2][r] = _mm512_fmadd_ps(wv, xv, ch[2][r]);
    }
  }
  if (M == a->M && a->ldy == M) {
    /* the 16 frames' outputs are 16 * M floats in a row: store_rows'
       epilogue on whole vectors, written back interleaved */
    float *y = a->Y + (size_t)n0 * (size_t)M;
    __m512 old[DEINT_MAX_LDX] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                                 _mm512_setzero_ps()},
           out[4];
    if (a->flags & QK_ACCUMULATE)
      deinterleave16(y, M, M, NULL, old);
#pragma GCC unroll 4
    for (int r = 0; r < M; ++r) {
      const __m512 b = _mm512_set1_ps(a->bias ? a->bias[r] : 0.0f);
      const __m512 o = (a->flags & QK_ACCUMULATE) ? old[r] : _mm512_setzero_ps();
      out[r] = _mm512_add_ps(
          _mm512_add_ps(_mm512_add_ps(ch[0][r], ch[1][r]), _mm512_add_ps(ch[2][r], ch[3][r])),
          _mm512_add_ps(b, o));
    }
    interleave16(out, M, y);
    return;
  }
  float sum[4][FRAME_LANES] __attribute__((aligned(64)));
#pragma GCC unroll 4
  for (int r = 0; r < M; ++r)
    _mm512_store_ps(sum[r], _mm512_add_ps(_mm512_add_ps(ch[0][r], ch[1][r]),
                                          _mm512_add_ps(ch[2][r], ch[3][r])));
  /* store_rows' epilogue, one value at a time (the kernels do not contract) */
  for (int f = 0; f < FRAME_LANES; ++f) {
    float *y = a->Y + (size_t)(n0 + f) * (size_t)a->ldy + m0;
    for (int r = 0; r < M; ++r) {
      const float b = a->bias ? a->bias[m0 + r] : 0.0f;
      const float old = (a->flags & QK_ACCUMULATE) ? y[r] : 0.0f;
      y[r] = sum[r][f] + (b + old);
    }
  }
#undef FRAMES16_X
}

/** The whole 16-frame runs of a matrix of M <= FRAMES16_MAX_ROWS rows, 4
    rows a pass (16 accumulators); returns the frames done. kpos's pieces
    (taps form) are `piece` values long; without kpos, piece is K. */
static int run_f32_frames16(const f32_args *a, const float *w, int N, const ptrdiff_t *kpos,
                            int piece)
{
  const bool deint = piece == a->ldx && a->ldx <= DEINT_MAX_LDX && a->K <= DEINT_MAX_K;
  __m512 xs[DEINT_MAX_K];
  int n = 0;
  for (; n + FRAME_LANES <= N; n += FRAME_LANES) {
    if (deint)
      deinterleave16(a->X + (size_t)n * (size_t)a->ldx, a->ldx, a->K, kpos, xs);
    const __m512 *x = deint ? xs : NULL;
    for (int m0 = 0; m0 < a->M; m0 += 4) {
      switch (a->M - m0) {
      case 1: gemm_f32_frames16(a, w, n, m0, 1, kpos, x); break;
      case 2: gemm_f32_frames16(a, w, n, m0, 2, kpos, x); break;
      case 3: gemm_f32_frames16(a, w, n, m0, 3, kpos, x); break;
      default: gemm_f32_frames16(a, w, n, m0, 4, kpos, x); break;
      }
    }
  }
  return n;
}

/** All N frames of a QK_F32 matrix (a->M rows) on the blocks above. */
static void run_f32_tiles(const f32_args *a, const float *w, int N)
{
  const int T = (a->M + TILE_ROWS - 1) / TILE_ROWS;
  for (int t = 0; t < T;) {
    /* 4 tiles x 1 frame only for GEMV (16 independent chains); frame
       runs take 2 tiles x 2 frames, so the weights each pass streams
       (2 tiles x K x 64 B) stay in L1 and serve two frames */
    const int ri = (N == 1 && T - t >= 4) ? F32_R4
                   : T - t >= 2           ? F32_R2
                                          : one_tile_rows(a->M - t * TILE_ROWS);
    run_f32_frames(a, ri, w + (size_t)t * a->tstride, t * TILE_ROWS, N);
    t += ri == F32_R4 ? 4 : ri == F32_R2 ? 2 : 1;
  }
}

/** Whether the frame form takes a QK_F32 matrix for N frames ldx apart. */
static bool frames16_applies(const qk_packed *W, int ldx, int N)
{
  return W->format == QK_F32 && W->rows <= FRAMES16_MAX_ROWS && N >= FRAME_LANES &&
         (size_t)ldx * FRAME_LANES <= (size_t)INT32_MAX / 4;
}

/** A QK_F32 matrix's GEMM arguments (tiles of W->cols values a row, 16
    rows), each frame's values read plainly from X. */
static f32_args f32_args_of(const qk_packed *W, const float *X, int ldx, const float *bias,
                            float *Y, int ldy, unsigned flags)
{
  return (f32_args){.X = X,
                    .ldx = ldx,
                    .bias = bias,
                    .Y = Y,
                    .ldy = ldy,
                    .flags = flags,
                    .M = W->rows,
                    .K = W->cols,
                    .tstride = (size_t)W->cols * TILE_ROWS};
}

/**
   qk_gemm_f32_taps() with each k read where its tap's piece lies, so the
   engine's gather (C floats per frame and tap) is not needed: the whole
   16-frame runs of a matrix of few rows on the frame form (A2 nano's
   convs), and every frame of one whose pieces are whole multiples of 4
   values on the blocks (A1's convs: the gather was 9% of an A1 FP32
   process at block 16). Same k order, same chains: same bits.
*/
static int gemm_f32_taps_avx512vnni(const qk_packed *W, const float *x, int ldx, int C, int taps,
                                    ptrdiff_t tap_stride, int N, const float *bias, float *Y,
                                    int ldy, unsigned flags)
{
  const int K = W->cols;
  if (W->format != QK_F32 || K != taps * C)
    return 0;
  if (!frames16_applies(W, ldx, N) || K > FRAMES16_TAPS_MAX_K) {
    if (C % 4 != 0)
      return 0;
    f32_args a = f32_args_of(W, x, ldx, bias, Y, ldy, flags);
    a.taps = taps;
    a.C = C;
    a.tap_stride = tap_stride;
    run_f32_tiles(&a, (const float *)W->data, N);
    return N;
  }
  ptrdiff_t kpos[FRAMES16_TAPS_MAX_K];
  for (int t = 0; t < taps; ++t)
    for (int c = 0; c < C; ++c)
      kpos[t * C + c] = (ptrdiff_t)t * tap_stride + c;
  const f32_args a = f32_args_of(W, x, ldx, bias, Y, ldy, flags);
  return run_f32_frames16(&a, (const float *)W->data, N, kpos, C);
}

/* ------------------------------------------------------------------------
   gemm_f32, integer weights (weight-only path).

   N >= 2 (and K small enough for the stack buffer): one tile at a time is
   decoded to float weights w = scale * (v - z) in the QK_F32 layout
   ([k][16], L1-resident) and the f32 blocks run all frames on it, so the
   decode is paid once per call, not once per frame block.

   N = 1 (wq_gemv_core) and K beyond the buffer (gemm_wq_f32_16x4_core):
   the same weights decoded in registers, the same chains, so a column's
   bits never depend on N (qk.h).

   Per output this is fma(scale * (v - z), x[k], .) over k in four chains
   (k mod 4) combined as (c0 + c1) + (c2 + c3): another rounding than the
   scalar's per-group partial sums (f32 results agree
   within tolerance, as qk.h allows).
   ------------------------------------------------------------------------ */

/** Largest padded K the decode buffer holds (16 KiB of floats). */
#define WQ_KMAX 256

/** Tile t as floats scale * (v - z), [Kp][16], into buf. */
ALWAYS_INLINE void wq_decode_tile(const int_view *v, int t, __m512i tbl, float *buf, const int bits)
{
  const int per = 8 / bits, kstep = 4 * per;
  const int ng = v->ng, G = v->G, Kp = v->Kp;
  const __m512i byte_t = BYTE_T_ZMM, dword_t = DWORD_T_ZMM;
  const uint8_t *blk = v->codes + (size_t)t * v->tile_bytes;
  const float *par = v->par + (size_t)t * (size_t)ng * PAR_FLOATS;
  for (int g = 0; g < ng; ++g, par += PAR_FLOATS) {
    const int k0 = g * G, kend = k0 + G < Kp ? k0 + G : Kp;
    const __m512 sv = _mm512_load_ps(par);
    const __m512i zc = _mm512_load_si512(par + 16);
    for (int k = k0; k < kend; k += kstep, blk += 64) {
      const __m512i raw = _mm512_load_si512(blk);
#pragma GCC unroll 4
      for (int j = 0; j < per; ++j) {
        __m512i q8 = decode_quad(raw, bits, j, tbl);
        q8 = _mm512_permutexvar_epi32(dword_t, _mm512_shuffle_epi8(q8, byte_t));
        float *o = buf + (size_t)(k + 4 * j) * TILE_ROWS;
        _mm512_store_ps(o, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(
                                             _mm512_cvtepu8_epi32(_mm512_castsi512_si128(q8)), zc)),
                                         sv));
        _mm512_store_ps(
            o + 16, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(
                                      _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(q8, 1)), zc)),
                                  sv));
        _mm512_store_ps(
            o + 32, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(
                                      _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(q8, 2)), zc)),
                                  sv));
        _mm512_store_ps(
            o + 48, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(
                                      _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(q8, 3)), zc)),
                                  sv));
      }
    }
  }
}

static void wq_decode_tile_b8(const int_view *v, int t, __m512i tbl, float *buf)
{
  wq_decode_tile(v, t, tbl, buf, 8);
}
static void wq_decode_tile_b4(const int_view *v, int t, __m512i tbl, float *buf)
{
  wq_decode_tile(v, t, tbl, buf, 4);
}
static void wq_decode_tile_b2(const int_view *v, int t, __m512i tbl, float *buf)
{
  wq_decode_tile(v, t, tbl, buf, 2);
}

/**
   N = 1, or K beyond the decode buffer: each 16x4 quad tile is decoded in
   registers per frame block, transposed to four 16-row k-slices (vpshufb
   inside 128-bit lanes + vpermd across them), widened, zc subtracted,
   converted and scaled: w = (float)(v - z) * scale, exactly the value
   wq_decode_tile() stores. Then acc = fma(w, x[k], acc) in the f32
   blocks' four chains (k mod 4), so every path of the weight-only GEMM gives a
   column the same bits whatever N is.
*/
typedef struct {
  const int_view *v;
  __m512i tbl;
  const float *X;
  int ldx;
  const float *bias;
  float *Y;
  int ldy;
  unsigned flags;
} wq_args;

ALWAYS_INLINE void gemm_wq_f32_16x4_core(const wq_args *a, int t0, int n0, const int F,
                                         const int bits)
{
  const int_view *v = a->v;
  const int per = 8 / bits, kstep = 4 * per;
  const __m512i tbl = a->tbl;
  const __m512i byte_t = BYTE_T_ZMM, dword_t = DWORD_T_ZMM;
  const float *xp[4];
  __m512 acc[4][4]; /* chain k % 4, the f32 blocks' split */

#pragma GCC unroll 4
  for (int f = 0; f < F; ++f) {
    xp[f] = a->X + (size_t)(n0 + f) * (size_t)a->ldx;
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j)
      acc[j][f] = _mm512_setzero_ps();
  }

  for (int g = 0; g < v->ng; ++g) {
    const int k0 = g * v->G;
    const int kend = k0 + v->G < v->K ? k0 + v->G : v->K;
    const float *par = v->par + ((size_t)t0 * (size_t)v->ng + (size_t)g) * PAR_FLOATS;
    const __m512i zv = _mm512_load_si512(par + 16);
    const __m512 sv = _mm512_load_ps(par);
    const uint8_t *blk = v->codes + (size_t)t0 * v->tile_bytes + (size_t)(k0 / kstep) * 64;

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
        wf[0] = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(
                                  _mm512_cvtepu8_epi32(_mm512_castsi512_si128(q8)), zv)),
                              sv);
        wf[1] = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(
                                  _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(q8, 1)), zv)),
                              sv);
        wf[2] = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(
                                  _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(q8, 2)), zv)),
                              sv);
        wf[3] = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(
                                  _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(q8, 3)), zv)),
                              sv);
        if (kq + 4 <= kend) {
#pragma GCC unroll 4
          for (int kk = 0; kk < 4; ++kk)
#pragma GCC unroll 4
            for (int f = 0; f < F; ++f)
              acc[kk][f] = _mm512_fmadd_ps(wf[kk], _mm512_set1_ps(xp[f][kq + kk]), acc[kk][f]);
        } else {
          for (int kk = 0; kk < kend - kq; ++kk)
#pragma GCC unroll 4
            for (int f = 0; f < F; ++f)
              acc[kk][f] = _mm512_fmadd_ps(wf[kk], _mm512_set1_ps(xp[f][kq + kk]), acc[kk][f]);
        }
      }
    }
  }

#pragma GCC unroll 4
  for (int f = 0; f < F; ++f)
    store_rows(
        a->Y + (size_t)(n0 + f) * (size_t)a->ldy, a->bias, t0 * TILE_ROWS, v->M, a->flags,
        _mm512_add_ps(_mm512_add_ps(acc[0][f], acc[1][f]), _mm512_add_ps(acc[2][f], acc[3][f])));
}

/**
   N = 1 fast path: each 64-byte quad tile (16 rows x 4 k, byte r*4+kk) is
   widened lane by lane without a transpose: lane i of part L is row
   4L + i/4 at k + i%4. w = (float)(u - zc) * scale with the per-lane
   patterns (the same value the decoders produce), times x[k..k+3]
   repeated in every 128-bit lane: lane kk accumulates chain k % 4 of the
   f32 blocks, over all groups. At the end each row's chains combine as
   (c0 + c1) + (c2 + c3), the blocks' order, so a GEMV gives the bits the
   GEMM gives that column (qk.h). Partial quads at the end of K use a
   masked fma, so chains past K are left untouched, not fed zeros.
*/
#define WQ_PART(q8, blk, bits, L)                                                                  \
  ((bits) == 8 ? _mm_load_si128((const __m128i *)(const void *)((blk) + 16 * (L)))                 \
               : _mm512_extracti32x4_epi32((q8), (L)))

ALWAYS_INLINE void wq_gemv_quad(__m512 acc[4], __m512i q8, const uint8_t *blk, const int bits,
                                const __m512i zcp[4], const __m512 spat[4], __m512 xpat,
                                __mmask16 mk)
{
  __m128i part[4];
  part[0] = WQ_PART(q8, blk, bits, 0);
  part[1] = WQ_PART(q8, blk, bits, 1);
  part[2] = WQ_PART(q8, blk, bits, 2);
  part[3] = WQ_PART(q8, blk, bits, 3);
#pragma GCC unroll 4
  for (int L = 0; L < 4; ++L) {
    const __m512 w = _mm512_mul_ps(
        _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_cvtepu8_epi32(part[L]), zcp[L])), spat[L]);
    acc[L] = _mm512_mask3_fmadd_ps(w, xpat, acc[L], mk);
  }
}

ALWAYS_INLINE void wq_gemv_core(const int_view *v, __m512i tbl, const float *x, const float *bias,
                                float *y, unsigned flags, const int bits)
{
  const int per = 8 / bits, kstep = 4 * per;
  const int ng = v->ng, G = v->G, K = v->K, M = v->M, T = v->T;
  const size_t tb = v->tile_bytes;
  const __m512i idx_lo =
      _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28);
  for (int t = 0; t < T; ++t) {
    const uint8_t *blk = v->codes + (size_t)t * tb;
    const float *par = v->par + (size_t)t * (size_t)ng * PAR_FLOATS;
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                     _mm512_setzero_ps()};
    for (int g = 0; g < ng; ++g, par += PAR_FLOATS) {
      const int k0 = g * G, kend = k0 + G < K ? k0 + G : K;
      __m512i zcp[4];
      __m512 spat[4];
#pragma GCC unroll 4
      for (int L = 0; L < 4; ++L) {
        zcp[L] = _mm512_load_si512(par + 32 + 16 * L);
        spat[L] = _mm512_load_ps(par + 96 + 16 * L);
      }
      int k = k0;
      for (; k + kstep <= kend; k += kstep, blk += 64) {
        const __m512i raw = bits == 8 ? _mm512_setzero_si512() : _mm512_load_si512(blk);
#pragma GCC unroll 4
        for (int j = 0; j < per; ++j)
          wq_gemv_quad(acc, decode_quad(raw, bits, j, tbl), blk, bits, zcp, spat,
                       _mm512_broadcast_f32x4(_mm_loadu_ps(x + k + 4 * j)), (__mmask16)0xFFFF);
      }
      if (k < kend) { /* the block holding K: never read x past K */
        const __m512i raw = bits == 8 ? _mm512_setzero_si512() : _mm512_load_si512(blk);
        for (int j = 0; j < per && k + 4 * j < kend; ++j) {
          const int n = kend - (k + 4 * j);
          const __mmask8 m4 = (__mmask8)(n >= 4 ? 0xF : (1u << n) - 1u);
          const __mmask16 mk = (__mmask16)(m4 * 0x1111u);
          wq_gemv_quad(acc, decode_quad(raw, bits, j, tbl), blk, bits, zcp, spat,
                       _mm512_broadcast_f32x4(_mm_maskz_loadu_ps(m4, x + k + 4 * j)), mk);
        }
        blk += 64;
      }
    }
    __m512 t2[4];
#pragma GCC unroll 4
    for (int L = 0; L < 4; ++L) {
      const __m512 t1 = _mm512_add_ps(acc[L], _mm512_permute_ps(acc[L], 0xB1)); /* c0+c1, c2+c3 */
      t2[L] = _mm512_add_ps(t1, _mm512_permute_ps(t1, 0x4E)); /* (c0+c1)+(c2+c3) */
    }
    const __m512 out =
        _mm512_mask_blend_ps((__mmask16)0xFF00, _mm512_permutex2var_ps(t2[0], idx_lo, t2[1]),
                             _mm512_permutex2var_ps(t2[2], idx_lo, t2[3]));
    store_rows(y, bias, t * TILE_ROWS, M, flags, out);
  }
}

static void wq_gemv_b8(const int_view *v, __m512i tbl, const float *x, const float *bias, float *y,
                       unsigned flags)
{
  wq_gemv_core(v, tbl, x, bias, y, flags, 8);
}
static void wq_gemv_b4(const int_view *v, __m512i tbl, const float *x, const float *bias, float *y,
                       unsigned flags)
{
  wq_gemv_core(v, tbl, x, bias, y, flags, 4);
}
static void wq_gemv_b2(const int_view *v, __m512i tbl, const float *x, const float *bias, float *y,
                       unsigned flags)
{
  wq_gemv_core(v, tbl, x, bias, y, flags, 2);
}

typedef void (*wq_block_fn)(const wq_args *a, int t0, int n0);

#define DEF_WQ_BLOCK(F, B)                                                                         \
  static void gemm_wq_f32_16x4_f##F##_b##B(const wq_args *a, int t0, int n0)                       \
  {                                                                                                \
    gemm_wq_f32_16x4_core(a, t0, n0, F, B);                                                        \
  }
#define DEF_WQ_BITS(B)                                                                             \
  DEF_WQ_BLOCK(4, B)                                                                               \
  DEF_WQ_BLOCK(2, B)                                                                               \
  DEF_WQ_BLOCK(1, B)                                                                               \
  static const wq_block_fn wq_blocks_b##B[3] = {                                                   \
      gemm_wq_f32_16x4_f4_b##B, gemm_wq_f32_16x4_f2_b##B, gemm_wq_f32_16x4_f1_b##B};
DEF_WQ_BITS(8)
DEF_WQ_BITS(4)
DEF_WQ_BITS(2)

static void gemm_f32_avx512vnni(const qk_packed *W, const float *X, int ldx, int N,
                                const float *bias, float *Y, int ldy, unsigned flags)
{
  if (W->format == QK_F32) {
    const f32_args a = f32_args_of(W, X, ldx, bias, Y, ldy, flags);
    const float *w = (const float *)W->data;
    if (frames16_applies(W, ldx, N)) {
      const int done = run_f32_frames16(&a, w, N, NULL, W->cols);
      if (done == N)
        return;
      f32_args rest = a;
      rest.X = X + (size_t)done * (size_t)ldx;
      rest.Y = Y + (size_t)done * (size_t)ldy;
      run_f32_frames(&rest, one_tile_rows(W->rows), w, 0, N - done);
      return;
    }
    run_f32_tiles(&a, w, N);
    return;
  }
  const int_view *v = int_view_of(W);
  const __m512i tbl = v->bits == 8 ? _mm512_setzero_si512() : table_u_zmm(W);
  if (N == 1) {
    switch (v->bits) {
    case 8: wq_gemv_b8(v, tbl, X, bias, Y, flags); break;
    case 4: wq_gemv_b4(v, tbl, X, bias, Y, flags); break;
    default: wq_gemv_b2(v, tbl, X, bias, Y, flags); break;
    }
    return;
  }
  if (v->Kp <= WQ_KMAX) {
    float buf[WQ_KMAX * TILE_ROWS] __attribute__((aligned(64)));
    /* one decoded tile at a time: no tstride */
    const f32_args a = {
        .X = X, .ldx = ldx, .bias = bias, .Y = Y, .ldy = ldy, .flags = flags, .M = v->M, .K = v->K};
    for (int t = 0; t < v->T; ++t) {
      switch (v->bits) {
      case 8: wq_decode_tile_b8(v, t, tbl, buf); break;
      case 4: wq_decode_tile_b4(v, t, tbl, buf); break;
      default: wq_decode_tile_b2(v, t, tbl, buf); break;
      }
      run_f32_frames(&a, one_tile_rows(v->M - t * TILE_ROWS), buf, t * TILE_ROWS, N);
    }
    return;
  }
  const wq_args a = {v, tbl, X, ldx, bias, Y, ldy, flags};
  const wq_block_fn *fns = v->bits == 8 ? wq_blocks_b8 : v->bits == 4 ? wq_blocks_b4 : wq_blocks_b2;
  static const int fs[3] = {4, 2, 1};
  for (int t = 0; t < v->T; ++t) {
    int n = 0;
    for (int fi = 0; fi < 3; ++fi)
      for (; n + fs[fi] <= N; n += fs[fi])
        fns[fi](&a, t, n);
  }
}

/* ------------------------------------------------------------------------
   Activation quantization: 16 floats at a time, masked tails (never read
   past K), codes written in whole 16-byte steps (ld >= K rounded to 64),
   then zero padding to ld. Same float ops as the scalar: x * inv, rint in
   the current rounding mode, saturation counted in float, NaN -> 0.
   ------------------------------------------------------------------------ */

/** max_k |x[k]|: max(|x|, m) keeps m when |x| is NaN, like fmaxf. */
static float column_amax_avx512(const float *x, int K)
{
  __m512 m = _mm512_setzero_ps();
  for (int k = 0; k < K; k += 16)
    m = _mm512_max_ps(_mm512_abs_ps(loadu_mask_ps(lanes_mask(K - k), x + k)), m);
  return _mm512_reduce_max_ps(m);
}

static size_t quantize_column_avx512(const float *x, int K, float inv, int8_t *codes, int ld,
                                     int32_t *sums, int group)
{
  const __m512 vinv = _mm512_set1_ps(inv);
  const __m512 hi = _mm512_set1_ps(127.0f), lo = _mm512_set1_ps(-127.0f);
  const int G = qk_group_size(K, group);
  const bool vec_sums = sums && (G == K || G % 16 == 0);
  size_t clipped = 0;
  __m512i gsum = _mm512_setzero_si512();
  int gcur = 0;
  int k = 0;
  for (; k < K; k += 16) {
    const __mmask16 mk = lanes_mask(K - k);
    const __m512 q = _mm512_mul_ps(loadu_mask_ps(mk, x + k), vinv);
    const __m512 r = _mm512_roundscale_ps(q, _MM_FROUND_CUR_DIRECTION | _MM_FROUND_NO_EXC);
    const __mmask16 over = _mm512_cmp_ps_mask(r, hi, _CMP_GT_OQ);
    const __mmask16 under = _mm512_cmp_ps_mask(r, lo, _CMP_LT_OQ);
    const __mmask16 ordered = _mm512_cmp_ps_mask(r, r, _CMP_ORD_Q);
    clipped +=
        (size_t)__builtin_popcount((unsigned)over) + (size_t)__builtin_popcount((unsigned)under);
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
  if (vec_sums)
    sums[gcur] = _mm512_reduce_add_epi32(gsum);
  else if (sums)
    qk_act_group_sums(codes, K, group, sums);
  return clipped;
}

/* ------------------------------------------------------------------------
   Dynamic quantization of whole blocks with K <= 128 (every activation of
   the standard NAM models, and A2's array head conv: 16 taps of 8): a
   column is at most 8 zmm, loaded once (masked, never past K), its amax,
   codes, code column (zero padding to a multiple of 64 bytes included:
   masked lanes load 0 and quantize to 0) and group sums made in
   registers, one or two 64-byte stores per column, no calls. Same float
   ops as qk_act.c + the scalar primitive: scale = amax / 127, inv = 127 /
   amax, q = rint(x * inv) in the current rounding mode, NaN -> 0. With a
   finite inv, |x| <= amax bounds |x * inv| by 127 (1 + 2^-23), so no code
   needs clamping; a column whose inv is not finite (subnormal amax) goes
   through the generic primitive.
   ------------------------------------------------------------------------ */

/** Most vectors of 16 values in a column quantized in registers (K <= 128). */
#define DYN_MAX_V 8

/**
   The codes of V vectors q[] (int32, |q| <= 127) as bytes in k order,
   64 bytes per 4 vectors (vectors past V are zeros), then zeros up to ld.
*/
ALWAYS_INLINE void store_dyn_codes(const __m512i q[DYN_MAX_V], int8_t *codes, int ld, const int V)
{
  const __m512i perm = DWORD_T_ZMM, zero = _mm512_setzero_si512();
#pragma GCC unroll 2
  for (int i0 = 0; i0 < V; i0 += 4) {
    /* packs work per 128-bit lane; the dword transpose restores k order */
    const __m512i lo = _mm512_packs_epi32(q[i0], i0 + 1 < V ? q[i0 + 1] : zero);
    const __m512i hi =
        i0 + 2 < V ? _mm512_packs_epi32(q[i0 + 2], i0 + 3 < V ? q[i0 + 3] : zero) : zero;
    _mm512_storeu_si512(codes + 16 * i0,
                        _mm512_permutexvar_epi32(perm, _mm512_packs_epi16(lo, hi)));
  }
  const int stored = (V + 3) / 4 * 64;
  if (ld > stored)
    memset(codes + stored, 0, (size_t)(ld - stored));
}

/**
   Vector i of a column (16 values of k = 16i..16i+15) is read from
   x + off[i] with lane mask mk[i]: off[i] = 16 i for a contiguous column,
   or the tap's place in a history buffer (C a multiple of 16).
*/
ALWAYS_INLINE void quantize_dyn_col(const float *x, const ptrdiff_t off[DYN_MAX_V],
                                    const __mmask16 mk[DYN_MAX_V], int K, int8_t *codes, int ld,
                                    float *scale, int32_t *sums, int G, const int V)
{
  __m512 v[DYN_MAX_V];
  __m512 m = _mm512_setzero_ps();
#pragma GCC unroll 8
  for (int i = 0; i < V; ++i) {
    v[i] = loadu_mask_ps(mk[i], x + off[i]);
    m = _mm512_max_ps(_mm512_abs_ps(v[i]), m);
  }
  const float amax = _mm512_reduce_max_ps(m);
  float sc = 0.0f, inv = 0.0f;
  if (amax > 0.0f && isfinite(amax)) {
    sc = amax / 127.0f;
    inv = 127.0f / amax;
    if (!isfinite(inv)) {
      /* subnormal amax: the generic primitive, on a gathered copy */
      float col[16 * DYN_MAX_V];
#pragma GCC unroll 8
      for (int i = 0; i < V; ++i)
        _mm512_storeu_ps(col + 16 * i, v[i]);
      *scale = sc;
      quantize_column_avx512(col, K, inv, codes, ld, sums, G);
      return;
    }
  }
  *scale = sc;
  const __m512 vinv = _mm512_set1_ps(inv);
  __m512i q[DYN_MAX_V];
#pragma GCC unroll 8
  for (int i = 0; i < V; ++i) {
    const __m512 p = _mm512_mul_ps(v[i], vinv);
    q[i] = _mm512_maskz_cvtps_epi32(_mm512_cmp_ps_mask(p, p, _CMP_ORD_Q), p);
  }
  store_dyn_codes(q, codes, ld, V);
  if (!sums)
    return;
  if (G >= K) {
    __m512i t = q[0];
#pragma GCC unroll 8
    for (int i = 1; i < V; ++i)
      t = _mm512_add_epi32(t, q[i]);
    sums[0] = _mm512_reduce_add_epi32(t);
  } else {
    /* G is a multiple of 16 here: whole vectors per group */
    const int per = G / 16;
    for (int i0 = 0, g = 0; i0 < V; i0 += per, ++g) {
      __m512i t = q[i0];
      for (int i = i0 + 1; i < i0 + per && i < V; ++i)
        t = _mm512_add_epi32(t, q[i]);
      sums[g] = _mm512_reduce_add_epi32(t);
    }
  }
}

/** 16 columns n0..n0+15 with one group (or no sums): batched reductions. */
ALWAYS_INLINE bool quantize_dyn_16(const float *x, int ldx, const ptrdiff_t off[DYN_MAX_V],
                                   const __mmask16 mk[DYN_MAX_V], int8_t *codes, int ld,
                                   float *scales, int32_t *sums, const int V)
{
  /* Column loops stay rolled: unrolling 16 columns spills everything. */
  __m512 mv[16];
#pragma GCC unroll 1
  for (int c = 0; c < 16; ++c) {
    const float *xc = x + (size_t)c * (size_t)ldx;
    /* max(|x|, m) keeps m when |x| is NaN: start from 0, never from |x| */
    __m512 m = _mm512_setzero_ps();
#pragma GCC unroll 8
    for (int i = 0; i < V; ++i)
      m = _mm512_max_ps(_mm512_abs_ps(loadu_mask_ps(mk[i], xc + off[i])), m);
    mv[c] = m;
  }
  const __m512 amax = transpose_reduce16(mv, 0);
  float invs[16] __attribute__((aligned(64)));
  if (!dynamic_scales16(amax, scales, invs))
    return false;
  __m512 tv[16];
#pragma GCC unroll 1
  for (int c = 0; c < 16; ++c) {
    const float *xc = x + (size_t)c * (size_t)ldx;
    const __m512 vinv = _mm512_set1_ps(invs[c]);
    __m512i q[DYN_MAX_V];
#pragma GCC unroll 8
    for (int i = 0; i < V; ++i) {
      const __m512 p = _mm512_mul_ps(loadu_mask_ps(mk[i], xc + off[i]), vinv);
      q[i] = _mm512_maskz_cvtps_epi32(_mm512_cmp_ps_mask(p, p, _CMP_ORD_Q), p);
    }
    store_dyn_codes(q, codes + (size_t)c * (size_t)ld, ld, V);
    __m512i t = q[0];
#pragma GCC unroll 8
    for (int i = 1; i < V; ++i)
      t = _mm512_add_epi32(t, q[i]);
    tv[c] = _mm512_castsi512_ps(t);
  }
  if (sums)
    _mm512_storeu_si512(sums, _mm512_castps_si512(transpose_reduce16(tv, 1)));
  return true;
}

ALWAYS_INLINE void quantize_dyn_block(const float *x, int ldx, const ptrdiff_t off[DYN_MAX_V],
                                      const __mmask16 mk[DYN_MAX_V], int K, int N, qk_act_s8 *out,
                                      int G, int ng, const int V)
{
  int8_t *codes = out->codes;
  const int ld = out->ld;
  float *scales = out->scales;
  int32_t *sums = out->sums;
  int n = 0;
  if (ng == 1 || !sums) {
    for (; n + 16 <= N; n += 16) {
      if (!quantize_dyn_16(x + (size_t)n * (size_t)ldx, ldx, off, mk,
                           codes + (size_t)n * (size_t)ld, ld, scales + n, sums ? sums + n : NULL,
                           V)) {
        for (int c = n; c < n + 16; ++c)
          quantize_dyn_col(x + (size_t)c * (size_t)ldx, off, mk, K, codes + (size_t)c * (size_t)ld,
                           ld, scales + c, sums ? sums + c : NULL, G, V);
      }
    }
  }
  for (; n < N; ++n)
    quantize_dyn_col(x + (size_t)n * (size_t)ldx, off, mk, K, codes + (size_t)n * (size_t)ld, ld,
                     scales + n, sums ? sums + (size_t)n * (size_t)ng : NULL, G, V);
}

/** Both entry points once the vector offsets and masks are known. */
static bool quantize_dyn_run(const float *x, int ldx, const ptrdiff_t off[DYN_MAX_V],
                             const __mmask16 mk[DYN_MAX_V], int K, int N, qk_act_s8 *out)
{
  if (K > 16 * DYN_MAX_V || out->ld < qk_act_ld(K))
    return false;
  const int G = qk_group_size(K, out->group);
  if (G < K && G % 16)
    return false;
  const int ng = qk_group_count(K, out->group);
  out->per_column = true;
  switch ((K + 15) / 16) {
  case 1: quantize_dyn_block(x, ldx, off, mk, K, N, out, G, ng, 1); break;
  case 2: quantize_dyn_block(x, ldx, off, mk, K, N, out, G, ng, 2); break;
  case 3: quantize_dyn_block(x, ldx, off, mk, K, N, out, G, ng, 3); break;
  case 4: quantize_dyn_block(x, ldx, off, mk, K, N, out, G, ng, 4); break;
  case 5: quantize_dyn_block(x, ldx, off, mk, K, N, out, G, ng, 5); break;
  case 6: quantize_dyn_block(x, ldx, off, mk, K, N, out, G, ng, 6); break;
  case 7: quantize_dyn_block(x, ldx, off, mk, K, N, out, G, ng, 7); break;
  default: quantize_dyn_block(x, ldx, off, mk, K, N, out, G, ng, 8); break;
  }
  return true;
}

/** Offsets and masks of contiguous columns of K values. */
static void contiguous_vectors(int K, ptrdiff_t off[DYN_MAX_V], __mmask16 mk[DYN_MAX_V])
{
  for (int i = 0; i < DYN_MAX_V; ++i) {
    off[i] = 16 * i;
    mk[i] = lanes_mask(K - 16 * i);
  }
}

/**
   16 frames of K = 8 or 16 floats, back to back (a zmm holds 16 / K
   frames), as quantize_dyn_16 does them (quantize16_registers). The
   loops unroll here: a frame is one vector, nothing spills.
*/
ALWAYS_INLINE bool quantize_frames_16(const float *x, int8_t *codes, int ld, float *scales,
                                      int32_t *sums, const int K, const int PAD)
{
  __m512 v[16];
  for (int i = 0; i < (K == 16 ? 16 : 8); ++i)
    v[i] = _mm512_loadu_ps(x + 16 * i);
  return quantize16_registers(v, codes, ld, scales, sums, K, PAD);
}

/**
   quantize_dyn_block on up to 16 frames, for a history whose columns are
   narrower than the 64 bytes it writes (ld < 64): through 64-byte columns
   on the stack, then each column's K codes, its scale and sum.
*/
static void quantize_narrow_columns(const float *x, int K, int N, qk_act_s8 *out)
{
  int8_t codes[16 * 64] __attribute__((aligned(64)));
  float scales[16];
  int32_t sums[16];
  qk_act_s8 wide = {.codes = codes, .ld = 64, .scales = scales, .sums = sums, .group = 0};
  ptrdiff_t off[DYN_MAX_V];
  __mmask16 mk[DYN_MAX_V];
  contiguous_vectors(K, off, mk);
  quantize_dyn_block(x, K, off, mk, K, N, &wide, K, 1, 1);
  for (int n = 0; n < N; ++n) {
    memcpy(out->codes + (size_t)n * (size_t)out->ld, codes + 64 * n, (size_t)K);
    out->scales[n] = scales[n];
    if (out->sums)
      out->sums[n] = sums[n];
  }
}

ALWAYS_INLINE void quantize_frames_k(const float *x, int N, qk_act_s8 *out, const int K,
                                     const int PAD)
{
  ptrdiff_t off[DYN_MAX_V];
  __mmask16 mk[DYN_MAX_V];
  contiguous_vectors(K, off, mk);
  const int ld = out->ld;
  int n = 0;
  for (; n + 16 <= N; n += 16) {
    qk_act_s8 part = qk_act_columns_from(out, n, 1);
    if (quantize_frames_16(x + (size_t)n * K, part.codes, ld, part.scales, part.sums, K, PAD))
      continue;
    if (ld < 64)
      quantize_narrow_columns(x + (size_t)n * K, K, 16, &part);
    else
      quantize_dyn_block(x + (size_t)n * K, K, off, mk, K, 16, &part, K, 1, 1);
  }
  /* the last frames one at a time in registers (the whole call at a
     block of one frame): a frame's maximum is one reduction, not the
     16-frame transpose, and nothing goes through 64-byte stack columns */
  for (; n < N; ++n) {
    const __m512 v = loadu_mask_ps(lanes_mask(K), x + (size_t)n * K);
    float scale, inv;
    if (!frame_scale(frame_amax_bits(v), v, &scale, &inv))
      break;
    const __m128i b = frame_codes_bytes(v, inv);
    int8_t *c = out->codes + (size_t)n * (size_t)ld;
    if (PAD) /* bytes 16 .. 63 zero; with K = 8 the codes' bytes 8 .. 15 are 0 */
      _mm512_storeu_si512(c, _mm512_zextsi128_si512(b));
    else if (K == 16)
      _mm_storeu_si128((__m128i *)(void *)c, b);
    else
      _mm_storel_epi64((__m128i *)(void *)c, b);
    out->scales[n] = scale;
    if (out->sums)
      out->sums[n] = codes_sum16(b);
  }
  if (n < N) {
    qk_act_s8 rest = qk_act_columns_from(out, n, 1);
    if (ld < 64)
      quantize_narrow_columns(x + (size_t)n * K, K, N - n, &rest);
    else
      quantize_dyn_block(x + (size_t)n * K, K, off, mk, K, N - n, &rest, K, 1, 1);
  }
}

/**
   N frames of K = 8 or 16 floats back to back into columns of one group
   (ld >= K): only the codes (for the fused WaveNet layer), or with PAD
   whole columns, padding zeros included (ld == 64). False otherwise.
*/
static bool quantize_frames_8_16(const float *x, int K, int N, qk_act_s8 *out, bool pad)
{
  if ((K != 8 && K != 16) || (pad ? out->ld != 64 : out->ld < K) ||
      qk_group_count(K, out->group) != 1)
    return false;
  out->per_column = true;
  if (K == 16)
    pad ? quantize_frames_k(x, N, out, 16, 1) : quantize_frames_k(x, N, out, 16, 0);
  else
    pad ? quantize_frames_k(x, N, out, 8, 1) : quantize_frames_k(x, N, out, 8, 0);
  return true;
}

bool qk_avx512vnni_quantize_frames(const float *x, int K, int N, qk_act_s8 *out)
{
  return quantize_frames_8_16(x, K, N, out, false);
}

static bool quantize_dynamic_avx512(const float *x, int ldx, int K, int N, qk_act_s8 *out)
{
  /* frames back to back: the unrolled frame quantizer, whole columns */
  if (ldx == K && quantize_frames_8_16(x, K, N, out, true))
    return true;
  ptrdiff_t off[DYN_MAX_V];
  __mmask16 mk[DYN_MAX_V];
  contiguous_vectors(K, off, mk);
  return quantize_dyn_run(x, ldx, off, mk, K, N, out);
}

/**
   Taps of C = 16 or 32 floats (whole vectors), or taps back to back
   (tap_stride == C: the column is K contiguous floats, as in A2's array
   head conv of 16 taps of 8), up to 128 values per column.
*/
static bool quantize_dynamic_taps_avx512(const float *x, int ldx, int C, int taps,
                                         ptrdiff_t tap_stride, int N, qk_act_s8 *out)
{
  const int K = C * taps;
  if (K > 16 * DYN_MAX_V || (C % 16 && tap_stride != C))
    return false;
  ptrdiff_t off[DYN_MAX_V] = {0};
  __mmask16 mk[DYN_MAX_V];
  for (int i = 0; i < DYN_MAX_V; ++i) {
    const int k = 16 * i;
    if (k < K)
      off[i] = (ptrdiff_t)(k / C) * tap_stride + (k % C);
    mk[i] = lanes_mask(K - k);
  }
  return quantize_dyn_run(x, ldx, off, mk, K, N, out);
}

/* The activations over arrays: act16 (qk_avx512vnni_common.h) per 16 lanes. */
ALWAYS_INLINE void act_map16(float *y, const float *x, size_t count, const int ACT)
{
  for (size_t i = 0; i < count; i += 16) {
    const __mmask16 mk = count - i >= 16 ? (__mmask16)0xFFFF : lanes_mask((int)(count - i));
    storeu_mask_ps(y + i, mk, act16(loadu_mask_ps(mk, x + i), ACT));
  }
}

static void tanh_avx512vnni(float *y, const float *x, size_t count)
{
  act_map16(y, x, count, QK_ACT_TANH);
}
static void sigmoid_avx512vnni(float *y, const float *x, size_t count)
{
  act_map16(y, x, count, QK_ACT_SIGMOID);
}
static void tanh_int8_avx512vnni(float *y, const float *x, size_t count)
{
  act_map16(y, x, count, QK_ACT_TANH_INT8);
}

const qk_isa_ops qk_ops_avx512vnni = {
    .isa = QK_ISA_AVX512VNNI,
    .pack = pack_avx512vnni,
    .gemm_f32 = gemm_f32_avx512vnni,
    .gemm_s8 = gemm_s8_avx512vnni,
    .column_amax = column_amax_avx512,
    .quantize_column = quantize_column_avx512,
    .tanh = tanh_avx512vnni,
    .tanh_exact = qk_avx512vnni_tanh_exact,
    .sigmoid = sigmoid_avx512vnni,
    .tanh_int8 = tanh_int8_avx512vnni,
    .quantize_dynamic = quantize_dynamic_avx512,
    .quantize_dynamic_taps = quantize_dynamic_taps_avx512,
    .gemm_f32_taps = gemm_f32_taps_avx512vnni,
    .wavenet_layer_fusable = qk_avx512vnni_wavenet_layer_fusable,
    .wavenet_layer_s8 = qk_avx512vnni_wavenet_layer_s8,
    .wavenet_prepared_size = qk_avx512vnni_wavenet_prepared_size,
    .wavenet_prepare = qk_avx512vnni_wavenet_prepare,
    .wavenet_layer_f32_frame_fits = qk_avx512vnni_wavenet_layer_f32_frame_fits,
    .wavenet_layer_f32_frame = qk_avx512vnni_wavenet_layer_f32_frame,
    .wavenet_layer_s8_frame_form = qk_avx512vnni_wavenet_s8_frame_form,
    .wavenet_history_ld = qk_avx512vnni_wavenet_history_ld,
    .wavenet_chains = qk_avx512vnni_wavenet_chains,
    .wavenet_history_paired = qk_avx512vnni_wavenet_history_paired,
};
