/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Code shared by the two AArch64 kernel files, qk_neon.c (baseline Advanced
  SIMD) and qk_neon_dotprod.c (ARMv8.2 sdot). Both read the same packed
  layout, so qk_neon.c owns pack, gemm_f32, the activation column
  primitives and tanh/sigmoid, and the dotprod table points at those. Only the
  int8 GEMM differs, and only in how one group's integer sums are formed
  (qk_neon_group_sums): with +dotprod each block is one SDOT per row and
  frame; the baseline multiplies into int16 lanes (SMULL/SMLAL) and keeps
  the exact sums there for as many blocks as the weights' largest
  magnitude allows (qk_neon_int16_run_blocks) before widening to int32.
  The rest of the body is written once below and compiled in each file.

  Packed layout (p->data), the same for both files
  -------------------------------------------------
  Rows are grouped in tiles of 4 (the last tile padded with zero rows), so
  one float32x4 holds the 4 outputs of a tile for one frame and is stored
  straight into the frame-major Y.

  QK_F32: per tile, per block of 4 k: 16 floats, row r's 4 values at r*4
  (k zero padded to a multiple of 4).

  Integer formats: per tile, per block of 16 k (zero padded), 4 rows of 16
  values; a block holds
    QK_S8:          64 bytes, row r's 16 codes at r*16
    QK_S4, QK_CB4:  32 bytes; byte j of half h holds row 2h (low nibble)
                    and row 2h+1 (high nibble) at k = j
    QK_S2, QK_CB2:  16 bytes; byte j holds rows 0..3 in bits 0-1, 2-3,
                    4-5, 6-7 at k = j
  Sub-byte fields are qk_weight_index() values, so one AND or shift gives a
  whole register of indices for vqtbl1q_s8 through p->table: a 16-row tile
  of k, with no lane shuffling. After the codes (at a 64-byte boundary):
  scales transposed to [tile][group][4 rows] floats, so a group's scales for
  a tile are one vld1q_f32. Zero points, if any, go the same way in p->fold
  ([tile][group][4] int32).

  Groups are multiples of 16 when there is more than one (qk_pack checks),
  so a block never straddles two groups.
*/
#ifndef QUANTONE_KERNELS_QK_NEON_COMMON_H
#define QUANTONE_KERNELS_QK_NEON_COMMON_H

#include "qk_internal.h"

#include <arm_neon.h>
#include <string.h>

/** Force inlining so the constant format / column-count arguments specialize
    each call site into straight-line register code. */
#define QK_NEON_INLINE static inline __attribute__((always_inline))

enum {
  QK_NEON_MR = 4,  /**< rows per tile */
  QK_NEON_KB = 16, /**< k per integer block */
  QK_NEON_KF = 4   /**< k per float block */
};

/* ---- functions of qk_neon.c that the dotprod table reuses ---- */
int qk_neon_pack(qk_packed *p, const qk_weights *w);
void qk_neon_gemm_f32(const qk_packed *W, const float *X, int ldx, int N, const float *bias,
                      float *Y, int ldy, unsigned flags);
float qk_neon_column_amax(const float *x, int K);
size_t qk_neon_quantize_column(const float *x, int K, float inv, int8_t *codes, int ld,
                               int32_t *sums, int group);
void qk_neon_tanh(float *y, const float *x, size_t n);
void qk_neon_sigmoid(float *y, const float *x, size_t n);
void qk_neon_tanh_int8(float *y, const float *x, size_t n);

/* ---- layout arithmetic ---- */

static inline int qk_neon_tiles(int rows) { return (rows + QK_NEON_MR - 1) / QK_NEON_MR; }
static inline int qk_neon_kblocks(int cols) { return (cols + QK_NEON_KB - 1) / QK_NEON_KB; }

/** Bytes of one 4-row x 16-k block of an integer format. */
static inline size_t qk_neon_block_bytes(qk_format f)
{
  switch (f) {
  case QK_S8: return 64;
  case QK_S4:
  case QK_CB4: return 32;
  default: return 16; /* QK_S2, QK_CB2 */
  }
}

/** Size of the code area, rounded so the transposed scales stay aligned. */
static inline size_t qk_neon_codes_bytes(qk_format f, int rows, int cols)
{
  size_t b = (size_t)qk_neon_tiles(rows) * (size_t)qk_neon_kblocks(cols) * qk_neon_block_bytes(f);
  return (b + QK_ALIGN - 1) / QK_ALIGN * QK_ALIGN;
}

static inline const float *qk_neon_scales_t(const qk_packed *p)
{
  return (const float *)((const uint8_t *)p->data +
                         qk_neon_codes_bytes(p->format, p->rows, p->cols));
}

/** First and one-past-last 16-k block of group g. */
static inline void qk_neon_group_blocks(const qk_packed *p, int g, int *kb0, int *kb1)
{
  int per = p->group / QK_NEON_KB; /* exact whenever ngroups > 1 */
  *kb0 = g * per;
  *kb1 = (g == p->ngroups - 1) ? qk_neon_kblocks(p->cols) : *kb0 + per;
}

/** Where 4-row tile t of an integer-format matrix lives, and its shape. */
typedef struct {
  int ng;             /**< groups per row */
  int nblk;           /**< 16-k blocks per row */
  int m, rows;        /**< first row, valid rows (<= QK_NEON_MR) */
  int tail;           /**< K % QK_NEON_KB: valid k of the last block, 0 if whole */
  size_t bb;          /**< bytes per code block */
  const uint8_t *wt;  /**< the tile's first code block */
  const float *sct;   /**< the tile's scales, [ng][4] */
  const int32_t *zpt; /**< the tile's zero points, [ng][4], or NULL */
  int8x16_t table;    /**< p->table for qk_neon_decode() */
} qk_neon_tile;

QK_NEON_INLINE qk_neon_tile qk_neon_tile_at(const qk_packed *W, qk_format f, int t)
{
  qk_neon_tile tl;
  tl.ng = W->ngroups;
  tl.nblk = qk_neon_kblocks(W->cols);
  tl.m = t * QK_NEON_MR;
  tl.rows = W->rows - tl.m < QK_NEON_MR ? W->rows - tl.m : QK_NEON_MR;
  tl.tail = W->cols % QK_NEON_KB;
  tl.bb = qk_neon_block_bytes(f);
  tl.wt = (const uint8_t *)W->data + (size_t)t * (size_t)tl.nblk * tl.bb;
  tl.sct = qk_neon_scales_t(W) + (size_t)t * (size_t)tl.ng * 4;
  tl.zpt = W->fold ? W->fold + (size_t)t * (size_t)tl.ng * 4 : NULL;
  tl.table = vld1q_s8(W->table);
  return tl;
}

/* ---- decoding ---- */

/**
   The signed values of one block: w[r] = 16 values of row r. Sub-byte codes
   are split with one mask or shift per row and mapped through the value
   table with TBL, which covers S4/S2 (table = v - min) and codebooks alike.
*/
QK_NEON_INLINE void qk_neon_decode(qk_format f, const uint8_t *b, int8x16_t table, int8x16_t w[4])
{
  switch (f) {
  case QK_S8:
    for (int r = 0; r < 4; ++r)
      w[r] = vld1q_s8((const int8_t *)b + 16 * r);
    break;
  case QK_S4:
  case QK_CB4: {
    const uint8x16_t lo = vdupq_n_u8(0x0F);
    uint8x16_t a = vld1q_u8(b), c = vld1q_u8(b + 16);
    w[0] = vqtbl1q_s8(table, vandq_u8(a, lo));
    w[1] = vqtbl1q_s8(table, vshrq_n_u8(a, 4));
    w[2] = vqtbl1q_s8(table, vandq_u8(c, lo));
    w[3] = vqtbl1q_s8(table, vshrq_n_u8(c, 4));
    break;
  }
  default: { /* QK_S2, QK_CB2 */
    const uint8x16_t m3 = vdupq_n_u8(0x03);
    uint8x16_t a = vld1q_u8(b);
    w[0] = vqtbl1q_s8(table, vandq_u8(a, m3));
    w[1] = vqtbl1q_s8(table, vandq_u8(vshrq_n_u8(a, 2), m3));
    w[2] = vqtbl1q_s8(table, vandq_u8(vshrq_n_u8(a, 4), m3));
    w[3] = vqtbl1q_s8(table, vshrq_n_u8(a, 6));
    break;
  }
  }
}

/* ---- outputs ---- */

/** Sum each of four vectors: lane r of the result is the sum of a[r]. */
QK_NEON_INLINE int32x4_t qk_neon_hsum4_s32(const int32x4_t a[4])
{
  return vpaddq_s32(vpaddq_s32(a[0], a[1]), vpaddq_s32(a[2], a[3]));
}

QK_NEON_INLINE float32x4_t qk_neon_hsum4_f32(const float32x4_t a[4])
{
  return vpaddq_f32(vpaddq_f32(a[0], a[1]), vpaddq_f32(a[2], a[3]));
}

/**
   (bias ? bias[m] : 0) + (QK_ACCUMULATE ? y : 0) for the tile's rows, with
   the same float addition the scalar code does (it matters for the sign of
   zero, which the final fma can pass through).
*/
QK_NEON_INLINE float32x4_t qk_neon_base(const float *bias, const float *y, int m, int rows,
                                        unsigned flags)
{
  float32x4_t b = vdupq_n_f32(0.0f), a = vdupq_n_f32(0.0f);
  if (rows == QK_NEON_MR) {
    if (bias)
      b = vld1q_f32(bias + m);
    if (flags & QK_ACCUMULATE)
      a = vld1q_f32(y);
  } else {
    float tb[4] = {0.0f, 0.0f, 0.0f, 0.0f}, ta[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int r = 0; r < rows; ++r) {
      if (bias)
        tb[r] = bias[m + r];
      if (flags & QK_ACCUMULATE)
        ta[r] = y[r];
    }
    b = vld1q_f32(tb);
    a = vld1q_f32(ta);
  }
  return vaddq_f32(b, a);
}

/** Store the tile's valid rows of one frame (never past row M). */
QK_NEON_INLINE void qk_neon_store_rows(float *y, float32x4_t v, int rows)
{
  if (rows == QK_NEON_MR) {
    vst1q_f32(y, v);
  } else {
    float t[4];
    vst1q_f32(t, v);
    memcpy(y, t, (size_t)rows * sizeof(float));
  }
}

/* ---- int8 GEMM, compiled once per file ---- */

/** One frame's 16 codes at x. Codes past K are zero by contract; masking
    the last block (one AND) keeps the padded weights (table[0], not 0) out
    of the sum even for hand-built activations. */
QK_NEON_INLINE int8x16_t qk_neon_codes16(const int8_t *x, bool masked, uint8x16_t mask)
{
  int8x16_t v = vld1q_s8(x);
  return masked ? vandq_s8(v, vreinterpretq_s8_u8(mask)) : v;
}

/** Block kb of tile tl: its 4 weight rows, decoded, and nc frames' 16
    codes (MASKED for the last block of a row whose K is not whole). */
QK_NEON_INLINE void qk_neon_load_block(qk_format f, const qk_neon_tile *tl, int kb,
                                       const int8_t *const *xc, const int nc, bool masked,
                                       uint8x16_t mask, int8x16_t w[4], int8x16_t x[4])
{
  qk_neon_decode(f, tl->wt + (size_t)kb * tl->bb, tl->table, w);
  for (int c = 0; c < nc; ++c)
    x[c] = qk_neon_codes16(xc[c] + kb * QK_NEON_KB, masked, mask);
}

#if defined(__ARM_FEATURE_DOTPROD)

/**
   Block kb of tile tl: for each of nc frames, the 16 products of row r
   into acc[c][r] with SDOT (4 products into each int32 lane, exact for
   any codes). Only the sum of the four lanes is used, so how the 16
   products are split between them does not matter.
*/
QK_NEON_INLINE void qk_neon_int32_block(qk_format f, const qk_neon_tile *tl, int kb,
                                        const int8_t *const *xc, const int nc, bool masked,
                                        uint8x16_t mask, int32x4_t acc[][4])
{
  int8x16_t w[4], x[4];
  qk_neon_load_block(f, tl, kb, xc, nc, masked, mask, w, x);
  for (int c = 0; c < nc; ++c)
    for (int r = 0; r < 4; ++r)
      acc[c][r] = vdotq_s32(acc[c][r], w[r], x[c]);
}

#else

/**
   Block kb of tile tl as a run of one block (see qk_neon_int16_run_blocks
   below: exact for any int8 weights): row r's 16 products for frame c
   into 8 int16 lanes (SMULL, SMLAL2), at once added pairwise into
   acc[c][r] (SADALP), whose four lanes add up to row r's sum. Each int16
   vector is consumed as soon as it is made, which keeps the 16
   accumulators in registers.
*/
QK_NEON_INLINE void qk_neon_int32_block(qk_format f, const qk_neon_tile *tl, int kb,
                                        const int8_t *const *xc, const int nc, bool masked,
                                        uint8x16_t mask, int32x4_t acc[][4])
{
  int8x16_t w[4], x[4];
  qk_neon_load_block(f, tl, kb, xc, nc, masked, mask, w, x);
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < nc; ++c) {
      const int16x8_t two =
          vmlal_high_s8(vmull_s8(vget_low_s8(w[r]), vget_low_s8(x[c])), w[r], x[c]);
      acc[c][r] = vpadalq_s16(acc[c][r], two);
    }
}

#endif

/**
   One group's exact integer sums with every block's products added into
   int32 lanes at once (qk_neon_int32_block): lane r of rowsum[c] is row
   r's sum for frame c over whole blocks kb0..kfull-1 and the masked tail
   block kfull if kfull < kb1.
*/
QK_NEON_INLINE void qk_neon_group_sums_int32(qk_format f, const qk_neon_tile *tl,
                                             const int8_t *const *xc, int kb0, int kfull, int kb1,
                                             const int nc, uint8x16_t mask, int32x4_t rowsum[4])
{
  int32x4_t acc[4][4];
  for (int c = 0; c < nc; ++c)
    for (int r = 0; r < 4; ++r)
      acc[c][r] = vdupq_n_s32(0);
  for (int kb = kb0; kb < kfull; ++kb)
    qk_neon_int32_block(f, tl, kb, xc, nc, false, mask, acc);
  if (kfull < kb1)
    qk_neon_int32_block(f, tl, kfull, xc, nc, true, mask, acc);
  for (int c = 0; c < nc; ++c)
    rowsum[c] = qk_neon_hsum4_s32(acc[c]);
}

#if defined(__ARM_FEATURE_DOTPROD)

/** One group's exact integer sums (see qk_neon_group_sums_int32). */
QK_NEON_INLINE void qk_neon_group_sums(qk_format f, const qk_neon_tile *tl, const int8_t *const *xc,
                                       int kb0, int kfull, int kb1, const int nc, uint8x16_t mask,
                                       int run, int32x4_t rowsum[4])
{
  (void)run; /* SDOT sums into int32 at once: no int16 runs */
  qk_neon_group_sums_int32(f, tl, xc, kb0, kfull, kb1, nc, mask, rowsum);
}

#else /* baseline Advanced SIMD: products summed in int16 lanes */

/**
   Largest magnitude A a weight of W can decode to: S8's range ends at
   -128; a sub-byte format's values are its table (S4 -8..7, S2 -2..1, a
   codebook its levels, any int8), whose unused entries are 0 (qk_pack).
   Padded rows and k decode through the same table, so they are within A
   too. VABS leaves -128 as 0x80, which reads 128 unsigned.
*/
QK_NEON_INLINE int qk_neon_value_amax(const qk_packed *W, qk_format f)
{
  if (f == QK_S8)
    return 128;
  return vmaxvq_u8(vreinterpretq_u8_s8(vabsq_s8(vld1q_s8(W->table))));
}

/**
   How many 16-k blocks of products one int16 lane may sum before it is
   widened to int32: the one place the run length is decided.

   Proof that the sums are exact. qk_neon_mul_block adds two products to
   each int16 lane per block: lane j of row r gets w[j] * x[j] (SMULL, or
   SMLAL within a run, of the low halves) and w[8+j] * x[8+j] (SMLAL2 of
   the high halves). Activation codes are in [-127, 127] (qk_act_s8: the
   quantizers clamp there) and every weight is in [-A, A]
   (qk_neon_value_amax), so a product is at most 127 * A in magnitude, and
   after n blocks a lane, and every partial sum on the way to it, is at
   most 2 * n * 127 * A. SMLAL wraps only when a sum leaves
   [-32768, 32767], so with
       n = floor(32767 / (2 * 127 * A))
   no step wraps and the int16 lane is the exact integer sum; SADALP then
   adds the lane pairs into int32, exact for any int16 values.
     S8 (A = 128), or a codebook with a level of magnitude 65 or more:
       n = 1 (at worst 2 * 127 * 128 = 32512): one widening per block
       instead of one per 8 products;
     a codebook of powers of two up to 64 (models' pow2 CB4): n = 2;
     S4 (A = 8): n = 16 (32 products a lane, at worst 32512);
     S2 (A = 2): n = 64 (128 products, at worst 32512);
     a codebook within +-1 (symmetric pow2 CB2): n = 129.
   A <= 128 for every int8 weight, so n >= 1: no format has to widen after
   each multiply. With one block more, all weights at -A against all codes
   at +127 (or -127) wrap the lane: test_kernels' int16-run test runs those
   extremes at n and n + 1 blocks and fails then.
*/
QK_NEON_INLINE int qk_neon_int16_run_blocks(const qk_packed *W, qk_format f)
{
  const int a = qk_neon_value_amax(W, f);
  return 32767 / (2 * 127 * (a > 0 ? a : 1));
}

/**
   Block kb of tile tl, in a run: for each of nc frames, add row r's 16
   products into the 8 int16 lanes of sum16[c][r] (two per lane, see
   qk_neon_int16_run_blocks). START: the run's first block, which sets
   the lanes (SMULL) instead of adding to them.
*/
QK_NEON_INLINE void qk_neon_mul_block(qk_format f, const qk_neon_tile *tl, int kb,
                                      const int8_t *const *xc, const int nc, bool masked,
                                      uint8x16_t mask, bool start, int16x8_t sum16[][4])
{
  int8x16_t w[4], x[4];
  qk_neon_load_block(f, tl, kb, xc, nc, masked, mask, w, x);
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < nc; ++c) {
      const int16x8_t low = start ? vmull_s8(vget_low_s8(w[r]), vget_low_s8(x[c]))
                                  : vmlal_s8(sum16[c][r], vget_low_s8(w[r]), vget_low_s8(x[c]));
      sum16[c][r] = vmlal_high_s8(low, w[r], x[c]);
    }
}

/** The row sums of a finished longer run, lane r = row r (SADDLP, then
    pairwise adds), added to rowsum: 4 registers a frame, not 16. */
QK_NEON_INLINE void qk_neon_widen_run(const int nc, int16x8_t sum16[][4], int32x4_t rowsum[4])
{
  for (int c = 0; c < nc; ++c) {
    int32x4_t wide[4];
    for (int r = 0; r < 4; ++r)
      wide[r] = vpaddlq_s16(sum16[c][r]);
    rowsum[c] = vaddq_s32(rowsum[c], qk_neon_hsum4_s32(wide));
  }
}

/**
   One group's exact integer sums: lane r of rowsum[c] is row r's sum for
   frame c over whole blocks kb0..kfull-1 and the masked tail block kfull
   if kfull < kb1. With RUN = 1 (S8, known when compiling, or a codebook
   with a large level) each block goes into int32 at once
   (qk_neon_group_sums_int32); longer runs sum RUN blocks in int16
   (qk_neon_int16_run_blocks) and widen each run once into the row sums;
   the tail block is a run of its own.
*/
QK_NEON_INLINE void qk_neon_group_sums(qk_format f, const qk_neon_tile *tl, const int8_t *const *xc,
                                       int kb0, int kfull, int kb1, const int nc, uint8x16_t mask,
                                       int run, int32x4_t rowsum[4])
{
  if (run == 1) {
    qk_neon_group_sums_int32(f, tl, xc, kb0, kfull, kb1, nc, mask, rowsum);
    return;
  }
  int16x8_t sum16[4][4];
  for (int c = 0; c < nc; ++c)
    rowsum[c] = vdupq_n_s32(0);
  for (int kb = kb0; kb < kfull;) {
    const int end = kfull - kb > run ? kb + run : kfull;
    qk_neon_mul_block(f, tl, kb, xc, nc, false, mask, true, sum16);
    for (++kb; kb < end; ++kb)
      qk_neon_mul_block(f, tl, kb, xc, nc, false, mask, false, sum16);
    qk_neon_widen_run(nc, sum16, rowsum);
  }
  if (kfull < kb1) {
    qk_neon_mul_block(f, tl, kfull, xc, nc, true, mask, true, sum16);
    qk_neon_widen_run(nc, sum16, rowsum);
  }
}

#endif

/**
   What every tile of one int8 GEMM call shares, worked out once per call:
   tile 0's place and the tail mask (qk_neon_tile_at's divisions), the
   int16 run length, and how a frame's scale and base are found. A tile
   call then only offsets pointers, which matters at the models' shapes,
   where a tile holds one to three blocks of products.
*/
typedef struct {
  qk_neon_tile first; /**< tile 0; tile t is first moved by t tiles */
  size_t tile_bytes;  /**< codes of one tile */
  uint8x16_t mask;    /**< valid k of the last block when first.tail */
  int run;            /**< int16 run length in blocks (baseline; 0 with sdot) */
  const float *xscale;
  int xscale_step; /**< frame n's scale is xscale[n * xscale_step] */
  const float *bias;
  bool accumulate; /**< QK_ACCUMULATE */
} qk_neon_s8_call;

QK_NEON_INLINE qk_neon_s8_call qk_neon_s8_call_of(const qk_packed *W, qk_format f,
                                                  const qk_act_s8 *X, const float *bias,
                                                  unsigned flags)
{
  qk_neon_s8_call cl;
  cl.first = qk_neon_tile_at(W, f, 0);
  cl.tile_bytes = (size_t)cl.first.nblk * cl.first.bb;
  cl.mask = vdupq_n_u8(0);
  if (cl.first.tail) {
    static const uint8_t ramp[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    cl.mask = vcltq_u8(vld1q_u8(ramp), vdupq_n_u8((uint8_t)cl.first.tail));
  }
#if defined(__ARM_FEATURE_DOTPROD)
  cl.run = 0;
#else
  cl.run = qk_neon_int16_run_blocks(W, f);
#endif
  cl.xscale = X->scales;
  cl.xscale_step = X->per_column ? 1 : 0;
  cl.bias = bias;
  cl.accumulate = (flags & QK_ACCUMULATE) != 0;
  return cl;
}

/**
   One 4-row tile times nc frames (n..n+nc-1). Integer sums per group are
   exact; the float steps per output are exactly those of qk.h, applied lane
   by lane: acc = fma((float)i, scale, acc) per group in order, then
   y = fma(acc, xscale, base) with base = (bias or 0) + (y or 0).
*/
QK_NEON_INLINE void qk_neon_s8_tile(const qk_packed *W, qk_format f, const qk_neon_s8_call *cl,
                                    const bool one_group, int t, const qk_act_s8 *X, int n,
                                    const int nc, float *Y, int ldy)
{
  qk_neon_tile tl = cl->first;
  const int ng = one_group ? 1 : tl.ng, m = t * QK_NEON_MR, tail = tl.tail;
  const int rows = W->rows - m < QK_NEON_MR ? W->rows - m : QK_NEON_MR;
  tl.wt += (size_t)t * cl->tile_bytes;
  tl.sct += (size_t)t * (size_t)ng * 4;
  if (tl.zpt)
    tl.zpt += (size_t)t * (size_t)ng * 4;

  const int8_t *xc[4];
  for (int c = 0; c < nc; ++c)
    xc[c] = X->codes + (size_t)(n + c) * (size_t)X->ld;

  float32x4_t facc[4];
  for (int c = 0; c < nc; ++c)
    facc[c] = vdupq_n_f32(0.0f);

  for (int g = 0; g < ng; ++g) {
    int kb0 = 0, kb1 = tl.nblk;
    if (!one_group)
      qk_neon_group_blocks(W, g, &kb0, &kb1);
    int kfull = (tail && kb1 == tl.nblk) ? kb1 - 1 : kb1;
    int32x4_t rowsum[4];
    qk_neon_group_sums(f, &tl, xc, kb0, kfull, kb1, nc, cl->mask, cl->run, rowsum);

    const float32x4_t s = vld1q_f32(tl.sct + (size_t)g * 4);
    const int32x4_t z = tl.zpt ? vld1q_s32(tl.zpt + (size_t)g * 4) : vdupq_n_s32(0);
    for (int c = 0; c < nc; ++c) {
      int32x4_t i = rowsum[c];
      if (tl.zpt) /* zero point folded with the activation group sum */
        i = vmlsq_n_s32(i, z, X->sums[(size_t)(n + c) * (size_t)ng + (size_t)g]);
      facc[c] = vfmaq_f32(facc[c], vcvtq_f32_s32(i), s);
    }
  }

  if (rows == QK_NEON_MR) {
    const float32x4_t zero = vdupq_n_f32(0.0f);
    const float32x4_t b = cl->bias ? vld1q_f32(cl->bias + m) : zero;
    for (int c = 0; c < nc; ++c) {
      float *y = Y + (size_t)(n + c) * (size_t)ldy + m;
      const float32x4_t base = vaddq_f32(b, cl->accumulate ? vld1q_f32(y) : zero);
      const float xs = cl->xscale[(size_t)(n + c) * (size_t)cl->xscale_step];
      vst1q_f32(y, vfmaq_f32(base, facc[c], vdupq_n_f32(xs)));
    }
  } else { /* the last tile's rows past M are never read or written */
    const unsigned flags = cl->accumulate ? QK_ACCUMULATE : 0;
    for (int c = 0; c < nc; ++c) {
      float *y = Y + (size_t)(n + c) * (size_t)ldy + m;
      const float32x4_t base = qk_neon_base(cl->bias, y, m, rows, flags);
      const float xs = cl->xscale[(size_t)(n + c) * (size_t)cl->xscale_step];
      qk_neon_store_rows(y, vfmaq_f32(base, facc[c], vdupq_n_f32(xs)), rows);
    }
  }
}

/** All tiles, frames in steps of 4, then 2, then 1. ONE_GROUP: the rows
    are one group (per-channel scales, what the models use), compiled
    without the group loop. */
QK_NEON_INLINE void qk_neon_s8_tiles(const qk_packed *W, qk_format f, const qk_neon_s8_call *cl,
                                     const bool one_group, const qk_act_s8 *X, int N, float *Y,
                                     int ldy)
{
  const int T = qk_neon_tiles(W->rows);
  for (int t = 0; t < T; ++t) {
    int n = 0;
    for (; n + 4 <= N; n += 4)
      qk_neon_s8_tile(W, f, cl, one_group, t, X, n, 4, Y, ldy);
    if (n + 2 <= N) {
      qk_neon_s8_tile(W, f, cl, one_group, t, X, n, 2, Y, ldy);
      n += 2;
    }
    if (n < N)
      qk_neon_s8_tile(W, f, cl, one_group, t, X, n, 1, Y, ldy);
  }
}

/** The int8 GEMM for one weight format. */
QK_NEON_INLINE void qk_neon_gemm_s8_fmt(const qk_packed *W, qk_format f, const qk_act_s8 *X, int N,
                                        const float *bias, float *Y, int ldy, unsigned flags)
{
  const qk_neon_s8_call cl = qk_neon_s8_call_of(W, f, X, bias, flags);
  if (cl.first.ng == 1)
    qk_neon_s8_tiles(W, f, &cl, true, X, N, Y, ldy);
  else
    qk_neon_s8_tiles(W, f, &cl, false, X, N, Y, ldy);
}

/** The int8 GEMM; each including file wraps it in its own ops entry. */
static void qk_neon_gemm_s8_body(const qk_packed *W, const qk_act_s8 *X, int N, const float *bias,
                                 float *Y, int ldy, unsigned flags)
{
  switch (W->format) {
  case QK_S8: qk_neon_gemm_s8_fmt(W, QK_S8, X, N, bias, Y, ldy, flags); break;
  /* A sub-byte format and its codebook twin decode identically (TBL). */
  case QK_S4:
  case QK_CB4: qk_neon_gemm_s8_fmt(W, QK_S4, X, N, bias, Y, ldy, flags); break;
  case QK_S2:
  case QK_CB2: qk_neon_gemm_s8_fmt(W, QK_S2, X, N, bias, Y, ldy, flags); break;
  default: break; /* QK_F32 has no int8 path (qk.h) */
  }
}

#endif
