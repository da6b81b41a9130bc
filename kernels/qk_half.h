/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  16-bit weight formats (QK_F16, QK_BF16): the packed layouts every ISA
  shares, the scalar conversions that define the bits, and the table of
  kernels each instruction set provides for them (qk_half_<isa>.c).

  Layouts (one for all ISAs, so packing is ISA-independent)
  ----------------------------------------------------------
  Rows are taken in blocks of QK_HALF_ROWS = 16 (the last block padded
  with zero rows):
    QK_F16, "f16-r16k1": for each block, for k = 0..K-1, the 16 halves
      w[b*16 + r][k], r = 0..15 (one 256-bit load, 16 floats after vcvtph2ps).
    QK_BF16, "bf16-r16k2": K padded to even with zeros; for each block, for
      each pair p, the 16 rows' (w[r][2p], w[r][2p+1]) as one 32-bit lane
      each, even k in the low half: vdpbf16ps's pair layout, one zmm.

  Arithmetic (the same float operations on every ISA, hence the same bits)
  -----------------------------------------------------------------------
  F16 weights, float activations, for output (m, n):
      acc = 0; for k in 0..K-1: acc = fmaf(f16_to_f32(w[m][k]), x[n][k], acc)
  BF16 compute: xb = bf16(x[n][.]) (qk_f32_to_bf16), pairs p in order:
      acc = 0; for p: acc = ftz(fmaf(w[m][2p+1], xb[2p+1], acc))
                      acc = ftz(fmaf(w[m][2p],   xb[2p],   acc))
  with bf16 inputs read as float and denormal ones taken as zero (never
  made: qk_f32_to_bf16 flushes them), and ftz() flushing a denormal
  result to a zero of its sign. That is what vdpbf16ps does lane by lane
  (odd element first, each step one rounding: the product of two bf16 is
  exact in float; measured on this Zen 5 over 2M random pairs against the
  alternatives, even-first and one rounding per pair, which differ in 4%).
  Then, for both: r = acc; r = r + bias[m] if bias; r = Y + r with
  QK_ACCUMULATE. The accumulation is one chain per output in k order:
  kernels gain their parallelism from 16 rows and several frames at once.
*/
#ifndef QUANTONE_KERNELS_QK_HALF_H
#define QUANTONE_KERNELS_QK_HALF_H

#include "qk_internal.h"

#include <stdint.h>
#include <string.h>

#define QK_HALF_ROWS 16

/** One instruction set's 16-bit kernels. */
typedef struct {
  const char *name; /**< what qk_packed_kernel_name() reports, e.g. "avx512bf16" */
  /** qk_gemm_f32() for QK_F16 ("f16-r16k1") weights. */
  void (*gemm_f16_r16k1)(const qk_packed *W, const float *X, int ldx, int N, const float *bias,
                         float *Y, int ldy, unsigned flags);
  /** qk_gemm_f32() for QK_BF16 ("bf16-r16k2") weights. */
  void (*gemm_bf16_r16k2)(const qk_packed *W, const float *X, int ldx, int N, const float *bias,
                          float *Y, int ldy, unsigned flags);
  void (*f32_to_f16)(uint16_t *dst, const float *src, size_t n);
  void (*f16_to_f32)(float *dst, const uint16_t *src, size_t n);
  void (*f32_to_bf16)(uint16_t *dst, const float *src, size_t n);
} qk_half_ops;

extern const qk_half_ops qk_half_ops_scalar;
#ifdef QK_HAVE_AVX2
extern const qk_half_ops qk_half_ops_avx2; /**< F16C + FMA; BF16 emulated in FMA */
#endif
#ifdef QK_HAVE_AVX512BF16
extern const qk_half_ops qk_half_ops_avx512bf16; /**< vcvtph2ps zmm, vdpbf16ps, vcvtneps2bf16 */
#endif
#ifdef QK_HAVE_NEON
extern const qk_half_ops qk_half_ops_neon; /**< vcvt f16 <-> f32; BF16 emulated in vfma */
#endif

/** The 16-bit kernels weights packed for `isa` run (scalar if none). */
const qk_half_ops *qk_half_ops_for(qk_isa isa);

/** Fill p->data with the layout of p->format from w->f32. 0, or -1 (out of memory). */
int qk_half_pack(qk_packed *p, const qk_weights *w);

/** Row blocks and padded K (even for BF16) of a packed 16-bit matrix. */
static inline int qk_half_blocks(const qk_packed *p)
{
  return (p->rows + QK_HALF_ROWS - 1) / QK_HALF_ROWS;
}
static inline int qk_half_kpad(const qk_packed *p)
{
  return p->format == QK_BF16 ? (p->cols + 1) & ~1 : p->cols;
}

/**
   IEEE binary32 -> binary16, round to nearest even (what vcvtps2ph with
   imm 0 and ARM's vcvt_f16_f32 do): overflow to infinity, results below
   the smallest normal half rounded to subnormals (exactly, then to even),
   NaN kept a NaN with its sign, quiet bit set and the top 9 payload bits.
*/
static inline uint16_t qk_f32_to_f16_scalar(float x)
{
  const uint32_t u = qk_float_bits(x);
  const uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
  const uint32_t abs = u & 0x7fffffffu;
  if (abs > 0x7f800000u) /* NaN */
    return (uint16_t)(sign | 0x7e00u | ((abs >> 13) & 0x3ffu));
  if (abs >= 0x477ff000u) /* >= 65520 (half max + half an ulp): rounds to inf */
    return (uint16_t)(sign | 0x7c00u);
  if (abs < 0x38800000u) { /* below 2^-14: a half subnormal (or zero) */
    if (abs < 0x33000000u) /* below 2^-25, at most half the smallest subnormal: 0 */
      return sign;
    /* value = mant * 2^(e - 150) with the implicit bit; in units of 2^-24 */
    const uint32_t e = abs >> 23, mant = (abs & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - e; /* 14..24: 2^-24 units = mant >> (126 - e) */
    uint32_t q = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1), halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (q & 1u)))
      ++q;
    return (uint16_t)(sign | q); /* q may reach 0x400: the smallest normal, correctly */
  }
  /* normal: rebias the exponent (127 -> 15), round the 13 dropped bits to even */
  uint32_t h = ((abs - 0x38000000u) >> 13);
  const uint32_t rem = abs & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u)))
    ++h; /* a carry into the exponent is the right result, up to inf */
  return (uint16_t)(sign | h);
}

/** binary16 -> binary32, exact (subnormal halves become normal floats). */
static inline float qk_f16_to_f32_scalar(uint16_t h)
{
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  if (e == 0x1f) /* inf, NaN: payload kept */
    return qk_bits_float(sign | 0x7f800000u | (mant << 13));
  if (e != 0)
    return qk_bits_float(sign | ((e + 112u) << 23) | (mant << 13));
  /* zero or subnormal: mant * 2^-24, exact in float */
  const float v = (float)mant * 0x1p-24f;
  return qk_bits_float(sign | qk_float_bits(v));
}

/**
   binary32 -> bfloat16 as vcvtneps2bf16 does it: round to nearest even,
   a denormal input gives a zero of its sign (bf16 keeps float's exponent
   range, so a normal input never rounds to a denormal), NaN quieted.
*/
static inline uint16_t qk_f32_to_bf16_scalar(float x)
{
  const uint32_t u = qk_float_bits(x);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return (uint16_t)((u >> 16) | 0x40u);
  if ((u & 0x7f800000u) == 0)
    return (uint16_t)((u >> 16) & 0x8000u);
  return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

/** bfloat16 -> binary32 as vdpbf16ps reads it: denormals as zero. */
static inline float qk_bf16_to_f32_daz(uint16_t b)
{
  const uint32_t u = (uint32_t)b << 16;
  return (u & 0x7f800000u) ? qk_bits_float(u) : qk_bits_float(u & 0x80000000u);
}

/** A denormal float result as a zero of its sign (vdpbf16ps's FTZ). */
static inline float qk_half_ftz(float x)
{
  const uint32_t u = qk_float_bits(x);
  return (u & 0x7f800000u) ? x : qk_bits_float(u & 0x80000000u);
}

/** r = acc (+ bias) (Y + r): the epilogue every 16-bit kernel shares. */
static inline float qk_half_finish(float acc, const float *bias, int m, const float *y,
                                   unsigned flags)
{
  float r = acc;
  if (bias)
    r = r + bias[m];
  if (flags & QK_ACCUMULATE)
    r = *y + r;
  return r;
}

#endif
