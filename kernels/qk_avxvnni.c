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
#include "qk_avx2_layout.h"

#include <immintrin.h>

/** Largest frame and row-tile counts of a register block (array bounds). */
#define VNNI_NF 6
#define VNNI_RT 4

/** The activation's group sums a kernel reads: n * stride + g. */
typedef struct {
  const int32_t *sums; /**< NULL: sum the codes in the kernel */
  int stride;          /**< groups per column */
} xsum_view;

/** Sum of the codes c[k0..k1) (only when the caller's sums were taken over other groups). */
__attribute__((noinline, cold)) static int32_t code_sum_range(const int8_t *c, int k0, int k1)
{
  int32_t s = 0;
  for (int k = k0; k < k1; ++k)
    s += c[k];
  return s;
}

/** u = v + 128 of one decoded chunk: the table is pre-biased, s8 flips its sign bit. */
QK_AI void decode_chunk_unsigned(const int bits, const uint8_t *src, __m256i tbl_u, __m256i *u)
{
  decode_chunk(bits, src, tbl_u, u);
  if (bits == 8)
    u[0] = _mm256_xor_si256(u[0], _mm256_set1_epi8((char)0x80));
}

/**
   RT 8-row tiles (t .. t+RT-1) x NF frames (n0 .. n0+NF-1). Each decoded
   chunk serves the NF frames, each broadcast activation dword the RT
   tiles. SPLIT 2: alternate sub-tiles go to two accumulator sets, so a
   short block has two independent vpdpbusd chains per output.
*/
QK_AI void gemm_s8_tiles_vnni(const qk_packed *W, const int bits, int t, const int RT,
                              const qk_act_s8 *X, xsum_view xs, int n0, const int NF,
                              const int SPLIT, const float *bias, float *Y, int ldy, unsigned flags)
{
  const int K = W->cols, ng = W->ngroups, G = W->group, KSTEP = kstep_of(bits);
  const int NS = KSTEP / 4; /* sub-tiles per chunk */
  const size_t tb = tile_code_bytes(K, bits), pstride = (size_t)ng * 8;
  const uint8_t *wp = (const uint8_t *)W->data + (size_t)t * tb;
  const float *sc =
      (const float *)((const uint8_t *)W->data + scales_offset(W, bits)) + (size_t)t * pstride;
  const int32_t *zp = W->fold ? W->fold + (size_t)t * pstride : NULL;
  const __m256i tbl_u = _mm256_xor_si256(load_table(W), _mm256_set1_epi8((char)0x80));
  const int8_t *x[VNNI_NF];
  __m256 facc[VNNI_RT][VNNI_NF];
  for (int f = 0; f < NF; ++f)
    x[f] = X->codes + (size_t)(n0 + f) * (size_t)X->ld;
  for (int r = 0; r < RT; ++r)
    for (int f = 0; f < NF; ++f)
      facc[r][f] = _mm256_setzero_ps();
  for (int g = 0; g < ng; ++g) {
    const int k0 = g * G, k1 = k0 + G < K ? k0 + G : K;
    const int c0 = k0 / KSTEP, c1 = (k1 + KSTEP - 1) / KSTEP;
    __m256i acc[2][VNNI_RT][VNNI_NF];
    for (int s = 0; s < SPLIT; ++s)
      for (int r = 0; r < RT; ++r)
        for (int f = 0; f < NF; ++f)
          acc[s][r][f] = _mm256_setzero_si256();
    for (int c = c0; c < c1; ++c) {
      __m256i u[VNNI_RT][4];
      for (int r = 0; r < RT; ++r)
        decode_chunk_unsigned(bits, wp + (size_t)r * tb + (size_t)c * 32, tbl_u, u[r]);
      for (int s = 0; s < NS; ++s) {
        /* SPLIT 2: s8 chunks alternate chains, sub-byte chunks their sub-tiles */
        const int k = c * KSTEP + 4 * s, chain = SPLIT == 2 ? (bits == 8 ? c & 1 : s & 1) : 0;
        for (int f = 0; f < NF; ++f) {
          const __m256i xb = bcast4(x[f] + k);
          for (int r = 0; r < RT; ++r)
            acc[chain][r][f] = _mm256_dpbusd_avx_epi32(acc[chain][r][f], u[r][s], xb);
        }
      }
    }
    for (int r = 0; r < RT; ++r) {
      const __m256 scale = _mm256_load_ps(sc + (size_t)r * pstride + (size_t)g * 8);
      /* zc = zp + 128 per row; i = acc - zc * xsum */
      __m256i zc = _mm256_set1_epi32(128);
      if (zp)
        zc = _mm256_add_epi32(
            zc, _mm256_load_si256((const __m256i *)(zp + (size_t)r * pstride + (size_t)g * 8)));
      for (int f = 0; f < NF; ++f) {
        const int32_t s = xs.sums ? xs.sums[(size_t)(n0 + f) * (size_t)xs.stride + (size_t)g]
                                  : code_sum_range(x[f], k0, k1);
        __m256i i = SPLIT == 2 ? _mm256_add_epi32(acc[0][r][f], acc[1][r][f]) : acc[0][r][f];
        i = _mm256_sub_epi32(i, _mm256_mullo_epi32(zc, _mm256_set1_epi32(s)));
        facc[r][f] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i), scale, facc[r][f]);
      }
    }
  }
  for (int r = 0; r < RT; ++r) {
    const int rows = W->rows - 8 * (t + r);
    const __m256 bv = load_bias(bias, 8 * (t + r), rows);
    for (int f = 0; f < NF; ++f) {
      const float xscale = X->per_column ? X->scales[n0 + f] : X->scales[0];
      store_tile(Y + (size_t)(n0 + f) * (size_t)ldy + (size_t)(8 * (t + r)), rows, bv, flags,
                 facc[r][f], _mm256_set1_ps(xscale), 1);
    }
  }
}

/** Frames n0 .. n0+NF-1 over every row tile: RT tiles at a time, then 2, then 1. */
QK_AI void gemm_s8_frames_vnni(const qk_packed *W, const int bits, const qk_act_s8 *X, xsum_view xs,
                               int n0, const int NF, const int RT, const int SPLIT,
                               const float *bias, float *Y, int ldy, unsigned flags)
{
  const int MT = row_tiles(W);
  int t = 0;
  for (; t + RT <= MT; t += RT)
    gemm_s8_tiles_vnni(W, bits, t, RT, X, xs, n0, NF, SPLIT, bias, Y, ldy, flags);
  if (RT > 2 && t + 2 <= MT) {
    gemm_s8_tiles_vnni(W, bits, t, 2, X, xs, n0, NF, SPLIT, bias, Y, ldy, flags);
    t += 2;
  }
  for (; t < MT; ++t)
    gemm_s8_tiles_vnni(W, bits, t, 1, X, xs, n0, NF, SPLIT, bias, Y, ldy, flags);
}

/**
   All frames: blocks of 6 frames x 2 tiles (12 accumulators, 2 weight
   vectors and a broadcast in the 16 ymm), then the last frames in one
   block of their own with more tiles, so that every block keeps 8 to 12
   vpdpbusd chains in flight (blocks of 1 or 2 frames split their k chains).
*/
QK_AI void gemm_s8_bits_vnni(const qk_packed *W, const int bits, const qk_act_s8 *X, int N,
                             const float *bias, float *Y, int ldy, unsigned flags)
{
  /* The caller's sums serve when they were taken over the weight groups. */
  const bool sums_fit = X->sums && qk_group_size(W->cols, X->group) == W->group;
  const xsum_view xs = {sums_fit ? X->sums : NULL, W->ngroups};
  int n = 0;
  for (; n + 6 <= N; n += 6)
    gemm_s8_frames_vnni(W, bits, X, xs, n, 6, 2, 1, bias, Y, ldy, flags);
  switch (N - n) {
  case 5: gemm_s8_frames_vnni(W, bits, X, xs, n, 5, 2, 1, bias, Y, ldy, flags); break;
  case 4: gemm_s8_frames_vnni(W, bits, X, xs, n, 4, 3, 1, bias, Y, ldy, flags); break;
  case 3: gemm_s8_frames_vnni(W, bits, X, xs, n, 3, 4, 1, bias, Y, ldy, flags); break;
  case 2: gemm_s8_frames_vnni(W, bits, X, xs, n, 2, 3, 2, bias, Y, ldy, flags); break;
  case 1: gemm_s8_frames_vnni(W, bits, X, xs, n, 1, 4, 2, bias, Y, ldy, flags); break;
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
};
