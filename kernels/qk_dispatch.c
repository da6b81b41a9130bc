/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Choosing an instruction set once per process, and routing the public
  calls to it. Packed weights remember the ISA they were packed for, so a
  GEMM always runs the kernels that understand its tile layout.
*/
#include "qk_half.h"

#include <math.h>

#include <pthread.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#endif

#if (defined(__x86_64__) || defined(__i386__)) && !defined(QK_AVXVNNI_ON_EVEX)
static pthread_once_t avx_vnni_once = PTHREAD_ONCE_INIT;
static bool avx_vnni_bit;

static void read_avx_vnni_bit(void)
{
  unsigned a, b, c, d;
  if (__get_cpuid_max(0, NULL) < 7)
    return;
  __cpuid_count(7, 1, a, b, c, d);
  avx_vnni_bit = (a >> 4) & 1u;
}

/**
   AVX-VNNI, the VEX form of vpdpbusd: CPUID.(EAX=7, ECX=1):EAX bit 4. Its
   ymm state is the AVX2 one, whose OS support __builtin_cpu_supports("avx2")
   has checked. Read once: qk_ops_for() runs on the audio path, and cpuid
   traps to the hypervisor in a virtual machine (measured here: 96% of the
   int8 WaveNet's time when it was read on every call).
*/
static bool cpu_has_avx_vnni(void)
{
  pthread_once(&avx_vnni_once, read_avx_vnni_bit);
  return avx_vnni_bit;
}
#endif

/** Whether the CPU can run an ISA (independent of what was built). */
static bool cpu_has(qk_isa isa)
{
  switch (isa) {
  case QK_ISA_SCALAR: return true;
#if defined(__x86_64__) || defined(__i386__)
  case QK_ISA_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  case QK_ISA_AVX512VNNI:
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
           __builtin_cpu_supports("fma");
  case QK_ISA_AVXVNNI:
#ifdef QK_AVXVNNI_ON_EVEX
    /** The test build's AVX-VNNI code uses the EVEX form (qk_vnni256.h). */
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
#else
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_avx_vnni();
#endif
#endif
#if defined(__aarch64__)
  case QK_ISA_NEON: return true;
  case QK_ISA_NEON_DOTPROD:
#if defined(__linux__)
    return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#else
    return false;
#endif
#endif
  default: return false;
  }
}

static const qk_isa_ops *built_ops(qk_isa isa)
{
  switch (isa) {
  case QK_ISA_SCALAR: return &qk_ops_scalar;
#ifdef QK_HAVE_AVX2
  case QK_ISA_AVX2: return &qk_ops_avx2;
#endif
#ifdef QK_HAVE_AVX512VNNI
  case QK_ISA_AVX512VNNI: return &qk_ops_avx512vnni;
#endif
#ifdef QK_HAVE_AVXVNNI
  case QK_ISA_AVXVNNI: return &qk_ops_avxvnni;
#endif
#ifdef QK_HAVE_NEON
  case QK_ISA_NEON: return &qk_ops_neon;
  case QK_ISA_NEON_DOTPROD: return &qk_ops_neon_dotprod;
#endif
  default: return NULL;
  }
}

const qk_isa_ops *qk_ops_for(qk_isa isa)
{
  if ((unsigned)isa >= QK_ISA_COUNT || !cpu_has(isa))
    return NULL;
  return built_ops(isa);
}

bool qk_isa_supported(qk_isa isa) { return qk_ops_for(isa) != NULL; }

static pthread_once_t active_once = PTHREAD_ONCE_INIT;
static qk_isa active_isa = QK_ISA_SCALAR;

static void choose_active_isa(void)
{
  static const qk_isa preference[] = {QK_ISA_AVX512VNNI,   QK_ISA_AVXVNNI, QK_ISA_AVX2,
                                      QK_ISA_NEON_DOTPROD, QK_ISA_NEON,    QK_ISA_SCALAR};
  for (size_t i = 0; i < sizeof preference / sizeof preference[0]; ++i) {
    if (qk_isa_supported(preference[i])) {
      active_isa = preference[i];
      break;
    }
  }
  /* An override naming an ISA this machine cannot run is ignored, so a
     stale environment never crashes a host with SIGILL. */
  qk_isa wanted;
  if (qk_isa_from_name(getenv("QUANTONE_ISA"), &wanted) && qk_isa_supported(wanted))
    active_isa = wanted;
}

qk_isa qk_active_isa(void)
{
  pthread_once(&active_once, choose_active_isa);
  return active_isa;
}

static const qk_isa_ops *active_ops(void) { return built_ops(qk_active_isa()); }

/** Ops for an explicit ISA, falling back to scalar when it cannot run here. */
static const qk_isa_ops *ops_or_scalar(qk_isa isa)
{
  const qk_isa_ops *ops = qk_ops_for(isa);
  return ops ? ops : &qk_ops_scalar;
}

void qk_gemm_f32(const qk_packed *W, const float *X, int ldx, int N, const float *bias, float *Y,
                 int ldy, unsigned flags)
{
  if (N <= 0)
    return;
  if (W->format == QK_F16)
    qk_half_ops_for(W->isa)->gemm_f16_r16k1(W, X, ldx, N, bias, Y, ldy, flags);
  else if (W->format == QK_BF16)
    qk_half_ops_for(W->isa)->gemm_bf16_r16k2(W, X, ldx, N, bias, Y, ldy, flags);
  else
    built_ops(W->isa)->gemm_f32(W, X, ldx, N, bias, Y, ldy, flags);
}

void qk_gemm_f32_taps(const qk_packed *W, const float *x, int ldx, int C, int taps,
                      ptrdiff_t tap_stride, int N, float *gather, const float *bias, float *Y,
                      int ldy, unsigned flags)
{
  if (N <= 0)
    return;
  const qk_isa_ops *ops = built_ops(W->isa);
  const bool half = W->format == QK_F16 || W->format == QK_BF16;
  const int done = ops->gemm_f32_taps && !half
                       ? ops->gemm_f32_taps(W, x, ldx, C, taps, tap_stride, N, bias, Y, ldy, flags)
                       : 0;
  if (done >= N)
    return;
  const size_t K = (size_t)taps * (size_t)C;
  if (N - done == 1 && tap_stride == C) {
    /* one column whose taps lie side by side (dilation 1: A2's array head
       conv, 16 taps) already is the gathered column: at a block of one
       frame the copy was a quarter of that conv's time */
    qk_gemm_f32(W, x + (size_t)done * (size_t)ldx, (int)K, 1, bias,
                Y + (size_t)done * (size_t)ldy, ldy, flags);
    return;
  }
  for (int n = done; n < N; ++n)
    for (int t = 0; t < taps; ++t) {
      /* pieces of a few floats: a libc call each would cost more than the
         copy; whole 32-byte pieces where C allows (inlined vector moves) */
      const float *src = x + (size_t)n * (size_t)ldx + (ptrdiff_t)t * tap_stride;
      float *dst = gather + (size_t)(n - done) * K + (size_t)t * (size_t)C;
      if (C % 8 == 0)
        for (int c = 0; c < C; c += 8)
          __builtin_memcpy(dst + c, src + c, 8 * sizeof(float));
      else
        for (int c = 0; c < C; ++c)
          dst[c] = src[c];
    }
  if (half)
    qk_gemm_f32(W, gather, (int)K, N - done, bias, Y + (size_t)done * (size_t)ldy, ldy, flags);
  else
    ops->gemm_f32(W, gather, (int)K, N - done, bias, Y + (size_t)done * (size_t)ldy, ldy, flags);
}

void qk_gemm_s8(const qk_packed *W, const qk_act_s8 *X, int N, const float *bias, float *Y, int ldy,
                unsigned flags)
{
  if (N <= 0 || qk_format_is_float(W->format))
    return;
  built_ops(W->isa)->gemm_s8(W, X, N, bias, Y, ldy, flags);
}

void qk_quantize_act_dynamic(const float *x, int ldx, int K, int N, qk_act_s8 *out)
{
  qk_act_quantize_dynamic(active_ops(), x, ldx, K, N, out);
}

void qk_quantize_act_dynamic_taps(const float *x, int ldx, int C, int taps, ptrdiff_t tap_stride,
                                  int N, qk_act_s8 *out)
{
  qk_act_quantize_dynamic_taps(active_ops(), x, ldx, C, taps, tap_stride, N, out);
}

void qk_quantize_act_dynamic_taps_isa(qk_isa isa, const float *x, int ldx, int C, int taps,
                                      ptrdiff_t tap_stride, int N, qk_act_s8 *out)
{
  qk_act_quantize_dynamic_taps(ops_or_scalar(isa), x, ldx, C, taps, tap_stride, N, out);
}

void qk_quantize_act_dynamic_isa(qk_isa isa, const float *x, int ldx, int K, int N, qk_act_s8 *out)
{
  qk_act_quantize_dynamic(ops_or_scalar(isa), x, ldx, K, N, out);
}

size_t qk_quantize_act_static(const float *x, int ldx, int K, int N, float scale, qk_act_s8 *out)
{
  return qk_act_quantize_static(active_ops(), x, ldx, K, N, scale, out);
}

size_t qk_quantize_act_static_isa(qk_isa isa, const float *x, int ldx, int K, int N, float scale,
                                  qk_act_s8 *out)
{
  return qk_act_quantize_static(ops_or_scalar(isa), x, ldx, K, N, scale, out);
}

void qk_tanh(float *y, const float *x, size_t n) { active_ops()->tanh(y, x, n); }
void qk_tanh_exact(float *y, const float *x, size_t n)
{
  const qk_isa_ops *ops = active_ops();
  if (ops->tanh_exact) {
    ops->tanh_exact(y, x, n);
    return;
  }
  for (size_t i = 0; i < n; ++i)
    y[i] = tanhf(x[i]);
}
void qk_sigmoid(float *y, const float *x, size_t n) { active_ops()->sigmoid(y, x, n); }
void qk_tanh_isa(qk_isa isa, float *y, const float *x, size_t n)
{
  ops_or_scalar(isa)->tanh(y, x, n);
}
void qk_sigmoid_isa(qk_isa isa, float *y, const float *x, size_t n)
{
  ops_or_scalar(isa)->sigmoid(y, x, n);
}
void qk_tanh_int8(float *y, const float *x, size_t n) { active_ops()->tanh_int8(y, x, n); }
void qk_tanh_int8_isa(qk_isa isa, float *y, const float *x, size_t n)
{
  ops_or_scalar(isa)->tanh_int8(y, x, n);
}
