/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The ISA-independent part of the 16-bit formats (qk_half.h): packing into
  the shared layouts, choosing an ISA's kernels, the public conversions.
*/
#include "qk_half.h"

#if defined(__x86_64__) || defined(__i386__)
#include <pthread.h>
#endif

int qk_half_pack(qk_packed *p, const qk_weights *w)
{
  const int blocks = qk_half_blocks(p), kpad = qk_half_kpad(p);
  const size_t halves = (size_t)blocks * QK_HALF_ROWS * (size_t)kpad;
  uint16_t *d = qk_aligned_calloc(halves * sizeof *d);
  if (!d)
    return -1;
  for (int m = 0; m < p->rows; ++m) {
    const int b = m / QK_HALF_ROWS, r = m % QK_HALF_ROWS;
    uint16_t *blk = d + (size_t)b * QK_HALF_ROWS * (size_t)kpad;
    const float *row = w->f32 + (size_t)m * (size_t)p->cols;
    for (int k = 0; k < p->cols; ++k) {
      if (p->format == QK_F16)
        blk[(size_t)k * QK_HALF_ROWS + (size_t)r] = qk_f32_to_f16_scalar(row[k]);
      else /* pair k/2, lane r, low half for even k */
        blk[(size_t)(k / 2) * 2 * QK_HALF_ROWS + (size_t)r * 2 + (size_t)(k & 1)] =
            qk_f32_to_bf16_scalar(row[k]);
    }
  }
  p->data = d;
  p->data_bytes = halves * sizeof *d;
  return 0;
}

#if defined(QK_HAVE_AVX512BF16)
static pthread_once_t bf16_once = PTHREAD_ONCE_INIT;
static bool bf16_bit;
static void read_bf16_bit(void) { bf16_bit = __builtin_cpu_supports("avx512bf16"); }
/** AVX512_BF16 (vdpbf16ps), asked once: the audio path dispatches on it. */
static bool cpu_has_avx512bf16(void)
{
  pthread_once(&bf16_once, read_bf16_bit);
  return bf16_bit;
}
#endif

const qk_half_ops *qk_half_ops_for(qk_isa isa)
{
  switch (isa) {
#ifdef QK_HAVE_AVX512BF16
  case QK_ISA_AVX512VNNI:
    if (cpu_has_avx512bf16())
      return &qk_half_ops_avx512bf16;
    return &qk_half_ops_avx2; /* AVX-512 without BF16 (Ice Lake, Zen 3 has no 512) */
#endif
#ifdef QK_HAVE_AVX2
  case QK_ISA_AVX2:
  case QK_ISA_AVXVNNI: return &qk_half_ops_avx2;
#endif
#ifdef QK_HAVE_NEON
  case QK_ISA_NEON:
  case QK_ISA_NEON_DOTPROD: return &qk_half_ops_neon;
#endif
  default: return &qk_half_ops_scalar;
  }
}

const char *qk_packed_kernel_name(const qk_packed *p)
{
  if (p->format == QK_F16 || p->format == QK_BF16)
    return qk_half_ops_for(p->isa)->name;
  return qk_isa_name(p->isa);
}

/** The 16-bit kernels of an ISA that can run here, scalar otherwise. */
static const qk_half_ops *runnable(qk_isa isa)
{
  return qk_isa_supported(isa) ? qk_half_ops_for(isa) : &qk_half_ops_scalar;
}

void qk_f32_to_f16_isa(qk_isa isa, uint16_t *dst, const float *src, size_t n)
{
  runnable(isa)->f32_to_f16(dst, src, n);
}

void qk_f16_to_f32_isa(qk_isa isa, float *dst, const uint16_t *src, size_t n)
{
  runnable(isa)->f16_to_f32(dst, src, n);
}

void qk_f32_to_bf16_isa(qk_isa isa, uint16_t *dst, const float *src, size_t n)
{
  runnable(isa)->f32_to_bf16(dst, src, n);
}

const char *qk_half_kernel_name(qk_isa isa) { return runnable(isa)->name; }
