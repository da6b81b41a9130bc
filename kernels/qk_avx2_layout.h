/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The AVX2 packed layout (described at the top of qk_avx2.c) and the
  vector pieces every kernel reading it needs: qk_avx2.c packs and runs
  it, qk_avxvnni.c runs its int8 GEMM on the same tiles with vpdpbusd.
  Everything here is inline; the files that include it are compiled with
  at least the AVX2 + FMA flags.
*/
#ifndef QUANTONE_KERNELS_QK_AVX2_LAYOUT_H
#define QUANTONE_KERNELS_QK_AVX2_LAYOUT_H

#include "qk_internal.h"

#include <immintrin.h>
#include <string.h>

#define QK_AI static inline __attribute__((always_inline))

/* ------------------------------------------------------------------------
   Layout helpers
   ------------------------------------------------------------------------ */

static inline int fmt_bits(qk_format f)
{
  switch (f) {
  case QK_S8: return 8;
  case QK_S4:
  case QK_CB4: return 4;
  case QK_S2:
  case QK_CB2: return 2;
  default: return 32;
  }
}

static inline int row_tiles(const qk_packed *p) { return (p->rows + 7) / 8; }

/** k per 32-byte chunk for an integer format of `bits` bits. */
static inline int kstep_of(int bits) { return 32 / bits; }

/** Padded K of an integer format. */
static inline int kpad_of(int K, int bits)
{
  return (K + kstep_of(bits) - 1) / kstep_of(bits) * kstep_of(bits);
}

/** Bytes of one 8-row tile of codes: 8 rows * Kp * bits / 8. */
static inline size_t tile_code_bytes(int K, int bits)
{
  return (size_t)kpad_of(K, bits) * (size_t)bits;
}

/** Offset of the tiled scales inside p->data (64-byte aligned). */
static inline size_t scales_offset(const qk_packed *p, int bits)
{
  size_t b = (size_t)row_tiles(p) * tile_code_bytes(p->cols, bits);
  return (b + QK_ALIGN - 1) / QK_ALIGN * QK_ALIGN;
}

/* ------------------------------------------------------------------------
   Shared pieces
   ------------------------------------------------------------------------ */

/** Lanes [0, n) set, n in 0..8. */
static inline __m256i lane_mask(int n)
{
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/** Four activation codes as one dword, broadcast (no alignment assumed). */
static inline __m256i bcast4(const int8_t *p)
{
  int32_t v;
  memcpy(&v, p, sizeof v);
  return _mm256_set1_epi32(v);
}

/**
   Decode one 32-byte chunk into its int8 sub-tiles w[0..32/bits/4). The
   table holds the 16 signed values; vpshufb indexes it per 128-bit lane, so
   it is broadcast to both. Indices are < 16, so bit 7 (vpshufb's "zero"
   bit) is never set.
*/
QK_AI void decode_chunk(const int bits, const uint8_t *src, __m256i tbl, __m256i *w)
{
  __m256i b = _mm256_loadu_si256((const __m256i *)src);
  if (bits == 8) {
    w[0] = b;
  } else if (bits == 4) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    w[0] = _mm256_shuffle_epi8(tbl, _mm256_and_si256(b, m4));
    w[1] = _mm256_shuffle_epi8(tbl, _mm256_and_si256(_mm256_srli_epi16(b, 4), m4));
  } else {
    const __m256i m2 = _mm256_set1_epi8(0x03);
    w[0] = _mm256_shuffle_epi8(tbl, _mm256_and_si256(b, m2));
    w[1] = _mm256_shuffle_epi8(tbl, _mm256_and_si256(_mm256_srli_epi16(b, 2), m2));
    w[2] = _mm256_shuffle_epi8(tbl, _mm256_and_si256(_mm256_srli_epi16(b, 4), m2));
    w[3] = _mm256_shuffle_epi8(tbl, _mm256_and_si256(_mm256_srli_epi16(b, 6), m2));
  }
}

static inline __m256i load_table(const qk_packed *p)
{
  return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)p->table));
}

/**
   Output of one 8-row tile for one frame: y = op(acc, base) with
   base = bias + (accumulate ? y : 0), exactly the scalar's float ops.
   Rows past M are masked off (never read nor written).
*/
QK_AI void store_tile(float *y, int rows, __m256 bias_v, unsigned flags, __m256 acc, __m256 xscale,
                      const int fused)
{
  if (rows >= 8) {
    __m256 prev = (flags & QK_ACCUMULATE) ? _mm256_loadu_ps(y) : _mm256_setzero_ps();
    __m256 base = _mm256_add_ps(bias_v, prev);
    __m256 out = fused ? _mm256_fmadd_ps(acc, xscale, base) : _mm256_add_ps(acc, base);
    _mm256_storeu_ps(y, out);
  } else {
    __m256i mk = lane_mask(rows);
    __m256 prev = (flags & QK_ACCUMULATE) ? _mm256_maskload_ps(y, mk) : _mm256_setzero_ps();
    __m256 base = _mm256_add_ps(bias_v, prev);
    __m256 out = fused ? _mm256_fmadd_ps(acc, xscale, base) : _mm256_add_ps(acc, base);
    _mm256_maskstore_ps(y, mk, out);
  }
}

static inline __m256 load_bias(const float *bias, int m0, int rows)
{
  if (!bias)
    return _mm256_setzero_ps();
  if (rows >= 8)
    return _mm256_loadu_ps(bias + m0);
  return _mm256_maskload_ps(bias + m0, lane_mask(rows));
}

#endif
