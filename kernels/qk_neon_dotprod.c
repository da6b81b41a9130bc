/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  AArch64 kernels for CPUs with the ARMv8.2 dot product (sdot), compiled
  with -march=armv8.2-a+dotprod and only called when HWCAP_ASIMDDP is set.
  It reads the same packed layout as qk_neon.c, so everything but the int8
  GEMM is qk_neon.c's; the int8 GEMM is the shared body of
  qk_neon_common.h, whose 16-wide dot product becomes one SDOT here
  (vdotq_s32) instead of two multiplies and two pairwise adds.
*/
#include "qk_neon_common.h"

#if !defined(__ARM_FEATURE_DOTPROD)
#error "qk_neon_dotprod.c needs -march=armv8.2-a+dotprod (or later)"
#endif

static void dotprod_gemm_s8(const qk_packed *W, const qk_act_s8 *X, int N, const float *bias,
                            float *Y, int ldy, unsigned flags)
{
  qk_neon_gemm_s8_body(W, X, N, bias, Y, ldy, flags);
}

const qk_isa_ops qk_ops_neon_dotprod = {
    .isa = QK_ISA_NEON_DOTPROD,
    .pack = qk_neon_pack,
    .gemm_f32 = qk_neon_gemm_f32,
    .gemm_s8 = dotprod_gemm_s8,
    .column_amax = qk_neon_column_amax,
    .quantize_column = qk_neon_quantize_column,
    .tanh = qk_neon_tanh,
    .sigmoid = qk_neon_sigmoid,
    .tanh_int8 = qk_neon_tanh_int8,
};
