/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  AVX-VNNI kernels: AVX2 + FMA plus the VEX-encoded 256-bit vpdpbusd
  (Intel Alder Lake and later Core, AMD Zen 5), for CPUs that have it
  without AVX-512 VNNI.

  The weights are packed in the AVX2 layout (qk_avx2_layout.h, described
  in qk_avx2.c), so everything but the int8 GEMM is AVX2's own code: the
  pack, the float GEMMs (weight-only path included), the activation
  quantizers and the activations run through qk_ops_avx2's functions.
  Only gemm_s8 differs: one vpdpbusd per 8 rows x 4 k where AVX2 needs
  vpsignb + vpmaddubsw + vpmaddwd + vpaddd.

  gemm_s8, exactly
  ----------------
  vpdpbusd multiplies unsigned bytes by signed bytes, four per dword, and
  adds the four products to the int32 lane without saturation. The
  weights take the unsigned side as u = v + 128 (in [0, 255]: s8 codes
  flip their top bit, the sub-byte formats decode through a table that
  already holds v + 128), the activation codes x (in [-127, 127]) the
  signed side, broadcast 4 at a time. Over a weight group:

      sum_k u[k] x[k] = sum_k v[k] x[k] + 128 * xsum,

  so with the zero point zp the scalar's integer is

      i = sum_k v[k] x[k] - zp * xsum = sum_k u[k] x[k] - (zp + 128) * xsum.

  Padding past K pairs u = 128 (s8) or the table's value with x = 0 (the
  codes past K are zero up to ld): it adds nothing. |sum u x| <=
  255 * 127 * K and |(zp + 128) * xsum| <= 256 * 127 * K (zp in
  [-128, 127]) stay inside int32 for K < 33,000; the product is taken with
  wrapping vpmulld and the sum wraps the same way, so the int32 result is
  the scalar's whenever the scalar's own int32 does not overflow. xsum is
  the caller's group sums when they were taken over the weight groups,
  else computed here from the codes. The float steps after i are qk.h's,
  in its order: every result is bit-identical with the scalar oracle.
  Integer sums are exact, so splitting a k chain in two accumulators (the
  short frame blocks do, for latency) changes no bit.
*/
#include "qk_avx2_gemm_s8_tiles.h"
#include "qk_avx2_layout.h"

#include <immintrin.h>

/**
   All frames: blocks of 6 frames x 2 tiles (12 accumulators, 2 weight
   vectors and a broadcast in the 16 ymm), then the last frames in one
   block of their own with more tiles, so that every block keeps 8 to 12
   vpdpbusd chains in flight (blocks of 1 or 2 frames split their k chains).
*/
QK_AI void gemm_s8_bits_vnni(const qk_packed *W, const int bits, const qk_act_s8 *X, int N,
                             const float *bias, float *Y, int ldy, unsigned flags)
{
  const xsum_view xs = xsum_view_of(W, X);
  const int dot = QK_DOT_VNNI;
  int n = 0;
  for (; n + 6 <= N; n += 6)
    gemm_s8_frames(W, bits, dot, 0, X, xs, n, 6, 2, 1, bias, Y, ldy, flags);
  switch (N - n) {
  case 5: gemm_s8_frames(W, bits, dot, 0, X, xs, n, 5, 2, 1, bias, Y, ldy, flags); break;
  case 4: gemm_s8_frames(W, bits, dot, 0, X, xs, n, 4, 3, 1, bias, Y, ldy, flags); break;
  case 3: gemm_s8_frames(W, bits, dot, 0, X, xs, n, 3, 4, 1, bias, Y, ldy, flags); break;
  case 2: gemm_s8_frames(W, bits, dot, 0, X, xs, n, 2, 3, 2, bias, Y, ldy, flags); break;
  case 1: gemm_s8_frames(W, bits, dot, 0, X, xs, n, 1, 4, 2, bias, Y, ldy, flags); break;
  default: break;
  }
}

static void gemm_s8_s8w_vnni(const qk_packed *W, const qk_act_s8 *X, int N, const float *bias,
                             float *Y, int ldy, unsigned flags)
{
  gemm_s8_bits_vnni(W, 8, X, N, bias, Y, ldy, flags);
}

static void gemm_s8_s4w_vnni(const qk_packed *W, const qk_act_s8 *X, int N, const float *bias,
                             float *Y, int ldy, unsigned flags)
{
  gemm_s8_bits_vnni(W, 4, X, N, bias, Y, ldy, flags);
}

static void gemm_s8_s2w_vnni(const qk_packed *W, const qk_act_s8 *X, int N, const float *bias,
                             float *Y, int ldy, unsigned flags)
{
  gemm_s8_bits_vnni(W, 2, X, N, bias, Y, ldy, flags);
}

static void avxvnni_gemm_s8(const qk_packed *W, const qk_act_s8 *X, int N, const float *bias,
                            float *Y, int ldy, unsigned flags)
{
  switch (fmt_bits(W->format)) {
  case 8: gemm_s8_s8w_vnni(W, X, N, bias, Y, ldy, flags); break;
  case 4: gemm_s8_s4w_vnni(W, X, N, bias, Y, ldy, flags); break;
  case 2: gemm_s8_s2w_vnni(W, X, N, bias, Y, ldy, flags); break;
  default: break; /* QK_F32 has no int8 path */
  }
}

/* The AVX2 entries are read through qk_ops_avx2 at call time: a static
   initializer cannot copy another object's members. */
static int avxvnni_pack(qk_packed *p, const qk_weights *w) { return qk_ops_avx2.pack(p, w); }

static void avxvnni_gemm_f32(const qk_packed *W, const float *X, int ldx, int N, const float *bias,
                             float *Y, int ldy, unsigned flags)
{
  qk_ops_avx2.gemm_f32(W, X, ldx, N, bias, Y, ldy, flags);
}

static float avxvnni_column_amax(const float *x, int K) { return qk_ops_avx2.column_amax(x, K); }

static size_t avxvnni_quantize_column(const float *x, int K, float inv, int8_t *codes, int ld,
                                      int32_t *sums, int group)
{
  return qk_ops_avx2.quantize_column(x, K, inv, codes, ld, sums, group);
}

static bool avxvnni_quantize_dynamic(const float *x, int ldx, int K, int N, qk_act_s8 *out)
{
  return qk_ops_avx2.quantize_dynamic && qk_ops_avx2.quantize_dynamic(x, ldx, K, N, out);
}

static void avxvnni_tanh(float *y, const float *x, size_t n) { qk_ops_avx2.tanh(y, x, n); }
static void avxvnni_sigmoid(float *y, const float *x, size_t n) { qk_ops_avx2.sigmoid(y, x, n); }
static void avxvnni_tanh_int8(float *y, const float *x, size_t n)
{
  qk_ops_avx2.tanh_int8(y, x, n);
}

const qk_isa_ops qk_ops_avxvnni = {
    .isa = QK_ISA_AVXVNNI,
    .pack = avxvnni_pack,
    .gemm_f32 = avxvnni_gemm_f32,
    .gemm_s8 = avxvnni_gemm_s8,
    .column_amax = avxvnni_column_amax,
    .quantize_column = avxvnni_quantize_column,
    .quantize_dynamic = avxvnni_quantize_dynamic,
    .tanh = avxvnni_tanh,
    .sigmoid = avxvnni_sigmoid,
    .tanh_int8 = avxvnni_tanh_int8,
    .wavenet_layer_fusable = qk_avxvnni_wavenet_layer_fusable,
    .wavenet_layer_s8 = qk_avxvnni_wavenet_layer_s8,
    .wavenet_prepared_size = qk_avxvnni_wavenet_prepared_size,
    .wavenet_prepare = qk_avxvnni_wavenet_prepare,
    .wavenet_history_ld = qk_avxvnni_wavenet_layer_history_ld,
    .wavenet_chains = qk_avxvnni_wavenet_layer_chains,
};
