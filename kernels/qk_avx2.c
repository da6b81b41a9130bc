/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  AVX2 + FMA kernels (F16C allowed, nothing from AVX-512).

  Packed layout (p->data), all tiles 8 output rows wide; M is padded to a
  multiple of 8 with zero rows (their outputs are computed and never stored):

    QK_F32   floats  [MT][K][8]            one ymm = 8 rows of one k
    integer  codes   [MT][Kp/KSTEP][32 B]  one 32-byte chunk per KSTEP k
             scales  [MT][ngroups][8] float (after the codes, 64-B aligned)
             p->fold [MT][ngroups][8] int32 zero points, or NULL

  An int8 "sub-tile" is one ymm holding 8 rows x 4 consecutive k, row r in
  dword r (byte 4r + j = k0 + j). That is the shape vpmaddubsw + vpmaddwd
  reduce into one int32 per row, with the 4 activation bytes broadcast as a
  dword. The chunk formats hold 1, 2 or 4 such sub-tiles:

    QK_S8          KSTEP = 4:  the sub-tile itself (signed values v)
    QK_S4 / CB4    KSTEP = 8:  byte 4r+j = idx(r,k0+j) | idx(r,k0+4+j) << 4
    QK_S2 / CB2    KSTEP = 16: byte 4r+j = sum_t idx(r,k0+4t+j) << 2t

  idx is qk_weight_index(); it is decoded in registers by shift + mask and a
  vpshufb through p->table (broadcast to both lanes). K is padded to KSTEP
  with the index of value 0 (if the table has one); activations past K are
  zero in the int8 path and never multiplied in the float path, so padding
  never changes a result. Groups are multiples of 16 k, hence whole chunks.
*/
#include "qk_avx2_common.h"
#include "qk_avx2_gemm_s8_tiles.h"
#include "qk_avx2_layout.h"

#include <immintrin.h>
#include <string.h>

/** Largest frame block of the float kernels (array bound). */
#define QK_MAX_NF 6
/**
   Int8 GEMM register block for long frame runs: QK_S8_RT 8-row tiles x
   QK_S8_NF frames (6 int32 + 6 int16 accumulators fit the 16 ymm). Picked by
   timing M=32 K=96 N=256; overridable with -D for experiments.
*/
#ifndef QK_S8_RT
#define QK_S8_RT 1
#endif
#ifndef QK_S8_NF
#define QK_S8_NF 6
#endif

/* ------------------------------------------------------------------------
   Pack
   ------------------------------------------------------------------------ */

/** The index padding slots get: one that decodes to 0 when the table has it. */
static int zero_index(const qk_packed *p, int bits)
{
  int n = 1 << bits;
  for (int i = 0; i < n; ++i)
    if (p->table[i] == 0)
      return i;
  return 0;
}

static int avx2_pack(qk_packed *p, const qk_weights *w)
{
  const int M = p->rows, K = p->cols, MT = row_tiles(p);
  if (p->format == QK_F32) {
    size_t bytes = (size_t)MT * (size_t)K * 8 * sizeof(float);
    float *d = qk_aligned_calloc(bytes);
    if (!d)
      return -1;
    for (int m = 0; m < M; ++m)
      for (int k = 0; k < K; ++k)
        d[((size_t)(m / 8) * (size_t)K + (size_t)k) * 8 + (size_t)(m % 8)] =
            w->f32[(size_t)m * (size_t)K + (size_t)k];
    p->data = d;
    p->data_bytes = bytes;
    return 0;
  }

  const int bits = fmt_bits(p->format), KSTEP = kstep_of(bits), Kp = kpad_of(K, bits);
  const int ng = p->ngroups;
  const size_t tb = tile_code_bytes(K, bits), soff = scales_offset(p, bits);
  const size_t bytes = soff + (size_t)MT * (size_t)ng * 8 * sizeof(float);
  uint8_t *d = qk_aligned_calloc(bytes);
  if (!d)
    return -1;
  const int zi = bits == 8 ? 0 : zero_index(p, bits);
  for (int m = 0; m < MT * 8; ++m) {
    uint8_t *tile = d + (size_t)(m / 8) * tb;
    const int r = m % 8;
    for (int k = 0; k < Kp; ++k) {
      int c = k / KSTEP, kk = k % KSTEP; /* chunk, k inside chunk */
      int sub = kk / 4, j = kk % 4;      /* sub-tile, byte inside row dword */
      uint8_t *byte = tile + (size_t)c * 32 + (size_t)(4 * r + j);
      bool real = m < M && k < K;
      if (bits == 8) {
        *byte = (uint8_t)(real ? (int8_t)qk_weight_value(w, m, k) : 0);
      } else {
        int idx = real ? qk_weight_index(w, m, k) : zi;
        *byte |= (uint8_t)(idx << (bits * sub));
      }
    }
  }
  float *sc = (float *)(d + soff);
  for (int m = 0; m < M; ++m)
    for (int g = 0; g < ng; ++g)
      sc[((size_t)(m / 8) * (size_t)ng + (size_t)g) * 8 + (size_t)(m % 8)] =
          p->scales[(size_t)m * (size_t)ng + (size_t)g];
  if (p->zp) {
    int32_t *z = qk_aligned_calloc((size_t)MT * (size_t)ng * 8 * sizeof(int32_t));
    if (!z) {
      qk_aligned_free(d);
      return -1;
    }
    for (int m = 0; m < M; ++m)
      for (int g = 0; g < ng; ++g)
        z[((size_t)(m / 8) * (size_t)ng + (size_t)g) * 8 + (size_t)(m % 8)] =
            p->zp[(size_t)m * (size_t)ng + (size_t)g];
    p->fold = z;
  }
  p->data = d;
  p->data_bytes = bytes;
  return 0;
}

int qk_avx2_weight_value(const qk_packed *p, int m, int k)
{
  const int bits = fmt_bits(p->format), KSTEP = kstep_of(bits);
  const uint8_t *tile = (const uint8_t *)p->data + (size_t)(m / 8) * tile_code_bytes(p->cols, bits);
  const int kk = k % KSTEP;
  const uint8_t byte = tile[(size_t)(k / KSTEP) * 32 + (size_t)(4 * (m % 8) + kk % 4)];
  if (bits == 8)
    return (int8_t)byte;
  return p->table[(byte >> (bits * (kk / 4))) & ((1 << bits) - 1)];
}

/* ------------------------------------------------------------------------
   gemm_s8: int8 x int8 -> int32, exact

   vpmaddubsw multiplies u8 by s8 and adds adjacent pairs with int16
   saturation. With a = |w| (vpabsb; |-128| = 0x80 reads as 128 unsigned)
   and b = sign(x, w) (vpsignb: x, -x or 0 as w is >0, <0, 0), a*b = w*x.
   Since x is in [-127, 127], -x is representable, so b is in [-127, 127]
   and a is in [0, 128]: each pair sum is at most 2 * 128 * 127 = 32512
   < 32767 in magnitude, so vpmaddubsw never saturates and is exact. For
   8-bit weights each result goes straight through vpmaddwd with ones into
   int32 (4 k per row dword); small weights sum several in int16 first
   (chunks_per_flush). The register block itself is qk_avx2_gemm_s8_tiles.h,
   shared with AVX-VNNI.
   ------------------------------------------------------------------------ */

/**
   Chunks per int16 flush, or 0 if results must go to int32 after every
   vpmaddubsw. With max |w| = A, a pair sum is at most 2 * A * 127, so
   D = floor(32767 / (2 * A * 127)) results can be added in int16 without
   overflow (s4: A = 8 gives D = 16; s2: A = 2 gives D = 64; s8 and most
   codebooks: D = 1, no int16 accumulation).
*/
static int chunks_per_flush(const qk_packed *W, int bits)
{
  if (bits == 8)
    return 0;
  int amax = 0;
  for (int i = 0; i < (1 << bits); ++i) {
    int a = W->table[i] < 0 ? -W->table[i] : W->table[i];
    amax = a > amax ? a : amax;
  }
  int d = amax ? 32767 / (2 * amax * 127) : 1 << 20;
  int cpf = d / (kstep_of(bits) / 4);
  return cpf >= 2 ? cpf : 0;
}

/**
   All frames: blocks of QK_S8_NF frames x 1 tile (weights reused across
   many frames), then the remaining frames (GEMV included) x 2 tiles, so
   that short frame counts still have independent accumulators.
*/
/** The last N - n (< QK_S8_NF) frames, GEMV included, x 2 tiles where they are few. */
QK_AI void gemm_s8_rest_avx2(const qk_packed *W, const int bits, const int dot, int cpf,
                             const qk_act_s8 *X, xsum_view xs, int n, int N, const float *bias,
                             float *Y, int ldy, unsigned flags)
{
  switch (N - n) {
  case 5: gemm_s8_frames(W, bits, dot, cpf, X, xs, n, 5, 1, 1, bias, Y, ldy, flags); break;
  case 4: gemm_s8_frames(W, bits, dot, cpf, X, xs, n, 4, 1, 1, bias, Y, ldy, flags); break;
  case 3: gemm_s8_frames(W, bits, dot, cpf, X, xs, n, 3, 2, 1, bias, Y, ldy, flags); break;
  case 2: gemm_s8_frames(W, bits, dot, cpf, X, xs, n, 2, 2, 1, bias, Y, ldy, flags); break;
  case 1: gemm_s8_frames(W, bits, dot, cpf, X, xs, n, 1, 2, 1, bias, Y, ldy, flags); break;
  default: break;
  }
}

QK_AI void gemm_s8_bits_avx2(const qk_packed *W, const int bits, const qk_act_s8 *X, int N,
                             const float *bias, float *Y, int ldy, unsigned flags)
{
  const int cpf = chunks_per_flush(W, bits);
  const xsum_view xs = xsum_view_of(W, X);
  int n = 0;
  if (cpf) {
    for (; n + QK_S8_NF <= N; n += QK_S8_NF)
      gemm_s8_frames(W, bits, QK_DOT_SIGN_I16, cpf, X, xs, n, QK_S8_NF, QK_S8_RT, 1, bias, Y, ldy,
                     flags);
    gemm_s8_rest_avx2(W, bits, QK_DOT_SIGN_I16, cpf, X, xs, n, N, bias, Y, ldy, flags);
  } else {
    for (; n + QK_S8_NF <= N; n += QK_S8_NF)
      gemm_s8_frames(W, bits, QK_DOT_SIGN, 0, X, xs, n, QK_S8_NF, QK_S8_RT, 1, bias, Y, ldy, flags);
    gemm_s8_rest_avx2(W, bits, QK_DOT_SIGN, 0, X, xs, n, N, bias, Y, ldy, flags);
  }
}

static void gemm_s8_s8w_avx2(const qk_packed *W, const qk_act_s8 *X, int N, const float *bias,
                             float *Y, int ldy, unsigned flags)
{
  gemm_s8_bits_avx2(W, 8, X, N, bias, Y, ldy, flags);
}

static void gemm_s8_s4w_avx2(const qk_packed *W, const qk_act_s8 *X, int N, const float *bias,
                             float *Y, int ldy, unsigned flags)
{
  gemm_s8_bits_avx2(W, 4, X, N, bias, Y, ldy, flags);
}

static void gemm_s8_s2w_avx2(const qk_packed *W, const qk_act_s8 *X, int N, const float *bias,
                             float *Y, int ldy, unsigned flags)
{
  gemm_s8_bits_avx2(W, 2, X, N, bias, Y, ldy, flags);
}

static void avx2_gemm_s8(const qk_packed *W, const qk_act_s8 *X, int N, const float *bias, float *Y,
                         int ldy, unsigned flags)
{
  switch (fmt_bits(W->format)) {
  case 8: gemm_s8_s8w_avx2(W, X, N, bias, Y, ldy, flags); break;
  case 4: gemm_s8_s4w_avx2(W, X, N, bias, Y, ldy, flags); break;
  case 2: gemm_s8_s2w_avx2(W, X, N, bias, Y, ldy, flags); break;
  default: break; /* QK_F32 has no int8 path */
  }
}

/* ------------------------------------------------------------------------
   gemm_f32, QK_F32 weights: 8-row tiles, RT tiles x NF frames of
   accumulators, one broadcast of x[k] per frame shared by the RT tiles.
   ------------------------------------------------------------------------ */

QK_AI void gemm_f32_8RTxNF_avx2(const qk_packed *W, int t, const int RT, const float *X, int ldx,
                                int n0, const int NF, const float *bias, float *Y, int ldy,
                                unsigned flags)
{
  const int K = W->cols;
  const float *wp[2];
  const float *x[4];
  __m256 acc[2][4];
  for (int r = 0; r < RT; ++r) {
    wp[r] = (const float *)W->data + (size_t)(t + r) * (size_t)K * 8;
    for (int f = 0; f < NF; ++f)
      acc[r][f] = _mm256_setzero_ps();
  }
  for (int f = 0; f < NF; ++f)
    x[f] = X + (size_t)(n0 + f) * (size_t)ldx;
  for (int k = 0; k < K; ++k) {
    __m256 w[2];
    for (int r = 0; r < RT; ++r)
      w[r] = _mm256_load_ps(wp[r] + (size_t)k * 8);
    for (int f = 0; f < NF; ++f) {
      __m256 xb = _mm256_broadcast_ss(x[f] + k);
      for (int r = 0; r < RT; ++r)
        acc[r][f] = _mm256_fmadd_ps(w[r], xb, acc[r][f]);
    }
  }
  for (int r = 0; r < RT; ++r) {
    const int rows = W->rows - 8 * (t + r);
    const __m256 bv = load_bias(bias, 8 * (t + r), rows);
    for (int f = 0; f < NF; ++f)
      store_tile(Y + (size_t)(n0 + f) * (size_t)ldy + (size_t)(8 * (t + r)), rows, bv, flags,
                 acc[r][f], _mm256_setzero_ps(), 0);
  }
}

QK_AI void gemm_f32_frames_avx2(const qk_packed *W, const float *X, int ldx, int n0, const int NF,
                                const float *bias, float *Y, int ldy, unsigned flags)
{
  const int MT = row_tiles(W);
  int t = 0;
  for (; t + 2 <= MT; t += 2)
    gemm_f32_8RTxNF_avx2(W, t, 2, X, ldx, n0, NF, bias, Y, ldy, flags);
  if (t < MT)
    gemm_f32_8RTxNF_avx2(W, t, 1, X, ldx, n0, NF, bias, Y, ldy, flags);
}

static void gemm_f32_f32w_avx2(const qk_packed *W, const float *X, int ldx, int N,
                               const float *bias, float *Y, int ldy, unsigned flags)
{
  int n = 0;
  for (; n + 4 <= N; n += 4)
    gemm_f32_frames_avx2(W, X, ldx, n, 4, bias, Y, ldy, flags);
  switch (N - n) {
  case 3: gemm_f32_frames_avx2(W, X, ldx, n, 3, bias, Y, ldy, flags); break;
  case 2: gemm_f32_frames_avx2(W, X, ldx, n, 2, bias, Y, ldy, flags); break;
  case 1: gemm_f32_frames_avx2(W, X, ldx, n, 1, bias, Y, ldy, flags); break;
  default: break;
  }
}

/* ------------------------------------------------------------------------
   gemm_f32, quantized weights (weight-only path). Each int8 sub-tile
   (8 rows x 4 k, row r in dword r) is split into four "k columns" by
   shifting byte j to the top of each dword and arithmetic-shifting it back
   (sign extension), the zero point subtracted in int32 (exact, like the
   scalar's (float)v - z), converted to float and multiplied by the
   group's scale: the float weight the quantizer defines. Then, as the
   QK_F32 kernel does, acc = fma(w, x[k], acc) in k order for each of NF
   frames, so the weights exported as floats play to the same bits on the
   F32 path (scaling each group's partial sum instead rounded differently:
   ESR up to 6.3e-11 between the two).
   ------------------------------------------------------------------------ */

/** Value of byte J of every dword of w, sign-extended to int32. */
#define SUBTILE_COL(w, J) _mm256_srai_epi32(_mm256_slli_epi32((w), 24 - 8 * (J)), 24)

QK_AI void wq_subtile(__m256i w, __m256i z, __m256 scale, const float *const *x, int k,
                      const int NF, const int guard, int K, __m256 *acc)
{
  __m256 wf[4];
  wf[0] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(SUBTILE_COL(w, 0), z)), scale);
  wf[1] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(SUBTILE_COL(w, 1), z)), scale);
  wf[2] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(SUBTILE_COL(w, 2), z)), scale);
  wf[3] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srai_epi32(w, 24), z)), scale);
  for (int j = 0; j < 4; ++j) {
    if (guard && k + j >= K) /* only K floats of a frame are readable */
      break;
    for (int f = 0; f < NF; ++f)
      acc[f] = _mm256_fmadd_ps(wf[j], _mm256_broadcast_ss(x[f] + k + j), acc[f]);
  }
}

QK_AI void gemm_f32_q_8xNF_avx2(const qk_packed *W, const int bits, int t, const float *X, int ldx,
                                int n0, const int NF, const float *bias, float *Y, int ldy,
                                unsigned flags)
{
  const int K = W->cols, ng = W->ngroups, G = W->group, KSTEP = kstep_of(bits);
  const int NS = KSTEP / 4;
  const uint8_t *wp = (const uint8_t *)W->data + (size_t)t * tile_code_bytes(K, bits);
  const float *sc = (const float *)((const uint8_t *)W->data + scales_offset(W, bits)) +
                    (size_t)t * (size_t)ng * 8;
  const int32_t *zp = W->fold ? W->fold + (size_t)t * (size_t)ng * 8 : NULL;
  const __m256i tbl = load_table(W);
  const float *x[4];
  __m256 acc[4];
  for (int f = 0; f < NF; ++f) {
    x[f] = X + (size_t)(n0 + f) * (size_t)ldx;
    acc[f] = _mm256_setzero_ps();
  }
  for (int g = 0; g < ng; ++g) {
    const int k0 = g * G, k1 = k0 + G < K ? k0 + G : K;
    const int c0 = k0 / KSTEP, cfull = k1 / KSTEP, c1 = (k1 + KSTEP - 1) / KSTEP;
    const __m256i z =
        zp ? _mm256_load_si256((const __m256i *)(zp + (size_t)g * 8)) : _mm256_setzero_si256();
    const __m256 scale = _mm256_load_ps(sc + (size_t)g * 8);
    for (int c = c0; c < cfull; ++c) {
      __m256i w[4];
      decode_chunk(bits, wp + (size_t)c * 32, tbl, w);
      for (int s = 0; s < NS; ++s)
        wq_subtile(w[s], z, scale, x, c * KSTEP + 4 * s, NF, 0, K, acc);
    }
    if (cfull < c1) { /* the chunk holding K: stop at K */
      __m256i w[4];
      decode_chunk(bits, wp + (size_t)cfull * 32, tbl, w);
      for (int s = 0; s < NS && cfull * KSTEP + 4 * s < K; ++s)
        wq_subtile(w[s], z, scale, x, cfull * KSTEP + 4 * s, NF, 1, K, acc);
    }
  }
  const int rows = W->rows - 8 * t;
  const __m256 bv = load_bias(bias, 8 * t, rows);
  for (int f = 0; f < NF; ++f)
    store_tile(Y + (size_t)(n0 + f) * (size_t)ldy + (size_t)(8 * t), rows, bv, flags, acc[f],
               _mm256_setzero_ps(), 0);
}

QK_AI void gemm_f32_q_bits_avx2(const qk_packed *W, const int bits, const float *X, int ldx, int N,
                                const float *bias, float *Y, int ldy, unsigned flags)
{
  const int MT = row_tiles(W);
  int n = 0;
  for (; n + 4 <= N; n += 4)
    for (int t = 0; t < MT; ++t)
      gemm_f32_q_8xNF_avx2(W, bits, t, X, ldx, n, 4, bias, Y, ldy, flags);
  for (int t = 0; t < MT; ++t) {
    switch (N - n) {
    case 3: gemm_f32_q_8xNF_avx2(W, bits, t, X, ldx, n, 3, bias, Y, ldy, flags); break;
    case 2: gemm_f32_q_8xNF_avx2(W, bits, t, X, ldx, n, 2, bias, Y, ldy, flags); break;
    case 1: gemm_f32_q_8xNF_avx2(W, bits, t, X, ldx, n, 1, bias, Y, ldy, flags); break;
    default: break;
    }
  }
}

static void gemm_f32_s8w_avx2(const qk_packed *W, const float *X, int ldx, int N, const float *bias,
                              float *Y, int ldy, unsigned flags)
{
  gemm_f32_q_bits_avx2(W, 8, X, ldx, N, bias, Y, ldy, flags);
}

static void gemm_f32_s4w_avx2(const qk_packed *W, const float *X, int ldx, int N, const float *bias,
                              float *Y, int ldy, unsigned flags)
{
  gemm_f32_q_bits_avx2(W, 4, X, ldx, N, bias, Y, ldy, flags);
}

static void gemm_f32_s2w_avx2(const qk_packed *W, const float *X, int ldx, int N, const float *bias,
                              float *Y, int ldy, unsigned flags)
{
  gemm_f32_q_bits_avx2(W, 2, X, ldx, N, bias, Y, ldy, flags);
}

static void avx2_gemm_f32(const qk_packed *W, const float *X, int ldx, int N, const float *bias,
                          float *Y, int ldy, unsigned flags)
{
  switch (fmt_bits(W->format)) {
  case 8: gemm_f32_s8w_avx2(W, X, ldx, N, bias, Y, ldy, flags); break;
  case 4: gemm_f32_s4w_avx2(W, X, ldx, N, bias, Y, ldy, flags); break;
  case 2: gemm_f32_s2w_avx2(W, X, ldx, N, bias, Y, ldy, flags); break;
  default: gemm_f32_f32w_avx2(W, X, ldx, N, bias, Y, ldy, flags); break;
  }
}

/* ------------------------------------------------------------------------
   Activation quantization. Bit-exact with the scalar: the same float
   multiply, round half to even (vroundps nearest == rintf in the default
   mode), NaN -> 0, clamp to [-127, 127] in float (so the int conversion and
   the saturating packs are exact), the same saturation count.
   ------------------------------------------------------------------------ */

/** Up to 8 floats of x[k..K), zeros past K (masked load: never reads past K). */
static inline __m256 load_upto8(const float *x, int k, int K)
{
  int rem = K - k;
  if (rem >= 8)
    return _mm256_loadu_ps(x + k);
  if (rem <= 0)
    return _mm256_setzero_ps();
  return _mm256_maskload_ps(x + k, lane_mask(rem));
}

/** max_k |x[k]| with fmaxf semantics (a NaN element is ignored). */
static float amax_avx2(const float *x, int K)
{
  const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int k = 0;
  for (; k + 16 <= K; k += 16) {
    /* vmaxps returns its second operand when either is NaN: keep acc second */
    a0 = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x + k), absmask), a0);
    a1 = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x + k + 8), absmask), a1);
  }
  for (; k < K; k += 8)
    a0 = _mm256_max_ps(_mm256_and_ps(load_upto8(x, k, K), absmask), a0);
  a0 = _mm256_max_ps(a0, a1);
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(a0), _mm256_extractf128_ps(a0, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}

/** 8 floats -> 8 int32 codes; adds the saturations of lanes to *clipped. */
static inline __m256i quantize8(__m256 v, __m256 inv, size_t *clipped)
{
  const __m256 hi = _mm256_set1_ps(127.0f), lo = _mm256_set1_ps(-127.0f);
  __m256 q = _mm256_round_ps(_mm256_mul_ps(v, inv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  q = _mm256_and_ps(q, _mm256_cmp_ps(q, q, _CMP_ORD_Q)); /* NaN -> 0 */
  __m256 sat = _mm256_or_ps(_mm256_cmp_ps(q, hi, _CMP_GT_OQ), _mm256_cmp_ps(q, lo, _CMP_LT_OQ));
  *clipped += (size_t)__builtin_popcount((unsigned)_mm256_movemask_ps(sat));
  q = _mm256_min_ps(_mm256_max_ps(q, lo), hi);
  return _mm256_cvtps_epi32(q);
}

/** Sum of the int8 codes c[k0..k1), reading 16-byte blocks (zero padded past K). */
static int32_t code_sum(const int8_t *c, int k0, int k1)
{
  const __m128i bias = _mm_set1_epi8((char)0x80);
  __m128i s = _mm_setzero_si128();
  int k = k0, blocks = 0;
  for (; k + 16 <= k1; k += 16, ++blocks)
    /* psadbw sums unsigned bytes: bias by +128 and take 128 off per byte */
    s = _mm_add_epi64(s,
                      _mm_sad_epu8(_mm_xor_si128(_mm_loadu_si128((const __m128i *)(c + k)), bias),
                                   _mm_setzero_si128()));
  int64_t total = _mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1) - 128 * 16 * (int64_t)blocks;
  for (; k < k1; ++k)
    total += c[k];
  return (int32_t)total;
}

/** Codes of one column, zero padding to ld and group sums; returns saturations. */
static size_t quantize_column_avx2(const float *x, int K, float inv, int8_t *codes, int ld,
                                   int32_t *sums, int group)
{
  const __m256 vinv = _mm256_set1_ps(inv);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  size_t clipped = 0;
  int k = 0;
  for (; k < K; k += 32) {
    __m256i q0 = quantize8(load_upto8(x, k, K), vinv, &clipped);
    __m256i q1 = quantize8(load_upto8(x, k + 8, K), vinv, &clipped);
    __m256i q2 = quantize8(load_upto8(x, k + 16, K), vinv, &clipped);
    __m256i q3 = quantize8(load_upto8(x, k + 24, K), vinv, &clipped);
    /* packs work per 128-bit lane: dwords come out as q0 q1 q2 q3 (lo) then
       q0 q1 q2 q3 (hi) in 4-byte groups; the permute restores k order. */
    __m256i b = _mm256_packs_epi16(_mm256_packs_epi32(q0, q1), _mm256_packs_epi32(q2, q3));
    b = _mm256_permutevar8x32_epi32(b, order);
    if (k + 32 <= ld) {
      _mm256_storeu_si256((__m256i *)(codes + k), b);
    } else {
      int8_t tmp[32];
      _mm256_storeu_si256((__m256i *)tmp, b);
      memcpy(codes + k, tmp, (size_t)(ld - k));
    }
  }
  if (k < ld)
    memset(codes + k, 0, (size_t)(ld - k));
  if (sums) {
    int ng = qk_group_count(K, group), G = qk_group_size(K, group);
    for (int g = 0; g < ng; ++g) {
      int k0 = g * G, k1 = k0 + G < K ? k0 + G : K;
      sums[g] = code_sum(codes, k0, k1);
    }
  }
  return clipped;
}

/*
  The dynamic quantizer for 8 columns at a time of K = 8 or 16 values, or
  fewer than 8 (the WaveNet layers' frames, A2 nano's 3 channels): the 8 column maxima come from one
  transposing reduction (3 shuffle steps for 8 columns instead of 3 per column), the divisions run
  once per 8 columns, and each column's codes are written with their padding in whole vectors. The
  codes, scales and sums are the per-column driver's (qk_act.c): quantize8 is the same arithmetic.
*/

/** r lane c = reduction of the 8 lanes of v[c] (ADD: int32 sums, else float max). */
static inline __m256 op8(__m256 a, __m256 b, const int ADD)
{
  return ADD ? _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(a), _mm256_castps_si256(b)))
             : _mm256_max_ps(a, b);
}

static inline __m256 transpose_reduce8(const __m256 v[8], const int ADD)
{
  __m256 t[4], u[2];
  /* t[i]: 128-bit lane 0 holds 4 partials of column 2i, lane 1 of column 2i+1 */
  for (int i = 0; i < 4; ++i)
    t[i] = op8(_mm256_permute2f128_ps(v[2 * i], v[2 * i + 1], 0x20),
               _mm256_permute2f128_ps(v[2 * i], v[2 * i + 1], 0x31), ADD);
  /* u[j]: lane 0 two partials of columns 4j, 4j+2; lane 1 of 4j+1, 4j+3 */
  for (int j = 0; j < 2; ++j)
    u[j] = op8(_mm256_shuffle_ps(t[2 * j], t[2 * j + 1], 0x88),
               _mm256_shuffle_ps(t[2 * j], t[2 * j + 1], 0xDD), ADD);
  /* lane 0: columns 0 2 4 6, lane 1: columns 1 3 5 7 */
  const __m256 w =
      op8(_mm256_shuffle_ps(u[0], u[1], 0x88), _mm256_shuffle_ps(u[0], u[1], 0xDD), ADD);
  return _mm256_permutevar8x32_ps(w, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/**
   The first 8 floats of a column: all 8 for K >= 8, else the K of a
   short column (A2 nano's 3 channels) with zeros after them, read with a
   mask so nothing past the column is touched. The zeros change neither
   the maximum of |x| nor the codes or sums (they quantize to 0).
*/
static inline __m256 load_column8(const float *xc, const int K, __m256i kmask)
{
  return K >= 8 ? _mm256_loadu_ps(xc) : _mm256_maskload_ps(xc, kmask);
}

/** 8 columns of K = 16, 8 or 1..7 (K_SHORT, kmask its lanes) from x (ldx apart);
    false for a subnormal maximum (nothing written). */
static inline bool quantize_dyn_8(const float *x, int ldx, int8_t *codes, int ld, float *scales,
                                  int32_t *sums, const int K, __m256i kmask)
{
  const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  __m256 v[8];
  for (int c = 0; c < 8; ++c) {
    const float *xc = x + (size_t)c * (size_t)ldx;
    /* vmaxps keeps its second operand when either is NaN: NaN lanes count as 0 */
    __m256 m =
        _mm256_max_ps(_mm256_and_ps(load_column8(xc, K, kmask), absmask), _mm256_setzero_ps());
    if (K == 16)
      m = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(xc + 8), absmask), m);
    v[c] = m;
  }
  const __m256 amax = transpose_reduce8(v, 0);
  const __m256 k127 = _mm256_set1_ps(127.0f), inf = _mm256_set1_ps(__builtin_inff());
  /* qk_act.c: scale = amax / 127, inv = 127 / amax where amax > 0 and finite, else 0 */
  const __m256 ok = _mm256_and_ps(_mm256_cmp_ps(amax, _mm256_setzero_ps(), _CMP_GT_OQ),
                                  _mm256_cmp_ps(amax, inf, _CMP_LT_OQ));
  const __m256 inv = _mm256_and_ps(_mm256_div_ps(k127, amax), ok);
  if (_mm256_movemask_ps(_mm256_cmp_ps(inv, inf, _CMP_EQ_OQ)))
    return false;
  _mm256_storeu_ps(scales, _mm256_and_ps(_mm256_div_ps(amax, k127), ok));
  float invs[8];
  _mm256_storeu_ps(invs, inv);
  __m256 t[8];
  size_t clipped = 0; /* never: |x * inv| <= 127 */
  for (int c = 0; c < 8; ++c) {
    const float *xc = x + (size_t)c * (size_t)ldx;
    const __m256 vinv = _mm256_set1_ps(invs[c]);
    const __m256i q0 = quantize8(load_column8(xc, K, kmask), vinv, &clipped);
    const __m256i q1 =
        K == 16 ? quantize8(_mm256_loadu_ps(xc + 8), vinv, &clipped) : _mm256_setzero_si256();
    /* packs per 128-bit lane: bytes 0-7 = q0's lanes 0-3, q1's 0-3 ... */
    const __m256i w = _mm256_packs_epi32(q0, q1);
    const __m128i b = _mm_packs_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
    /* b: q0[0-3] q1[0-3] q0[4-7] q1[4-7]; dword order 0 2 1 3 gives k order */
    int8_t *cc = codes + (size_t)c * (size_t)ld;
    _mm256_storeu_si256((__m256i *)cc, _mm256_zextsi128_si256(_mm_shuffle_epi32(b, 0xD8)));
    _mm256_storeu_si256((__m256i *)(cc + 32), _mm256_setzero_si256());
    if (ld > 64)
      memset(cc + 64, 0, (size_t)(ld - 64));
    t[c] = _mm256_castsi256_ps(_mm256_add_epi32(q0, q1));
  }
  if (sums)
    _mm256_storeu_si256((__m256i *)sums, _mm256_castps_si256(transpose_reduce8(t, 1)));
  return true;
}

/** K below 8 for quantize_dyn_8: masked loads (any value < 8 compiles the same code). */
#define K_SHORT 1

static bool quantize_dynamic_avx2(const float *x, int ldx, int K, int N, qk_act_s8 *out)
{
  if ((K > 8 && K != 16) || N < 8 || out->ld < 64 || qk_group_count(K, out->group) != 1)
    return false;
  out->per_column = true;
  const int ld = out->ld;
  const __m256i kmask =
      _mm256_cmpgt_epi32(_mm256_set1_epi32(K), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  int n = 0;
  for (; n + 8 <= N; n += 8) {
    const qk_act_s8 part = qk_act_columns_from(out, n, 1);
    const float *xn = x + (size_t)n * (size_t)ldx;
    const bool done =
        K == 16  ? quantize_dyn_8(xn, ldx, part.codes, ld, part.scales, part.sums, 16, kmask)
        : K == 8 ? quantize_dyn_8(xn, ldx, part.codes, ld, part.scales, part.sums, 8, kmask)
                 : quantize_dyn_8(xn, ldx, part.codes, ld, part.scales, part.sums, K_SHORT, kmask);
    for (int c = 0; !done && c < 8; ++c) {
      /* the driver, one column at a time (this function declines N < 8) */
      qk_act_s8 col = qk_act_columns_from(&part, c, 1);
      qk_act_quantize_dynamic(&qk_ops_avx2, xn + (size_t)c * (size_t)ldx, ldx, K, 1, &col);
    }
  }
  if (n < N) {
    qk_act_s8 rest = qk_act_columns_from(out, n, 1);
    qk_act_quantize_dynamic(&qk_ops_avx2, x + (size_t)n * (size_t)ldx, ldx, K, N - n, &rest);
  }
  return true;
}

/* ------------------------------------------------------------------------
   tanh / sigmoid: the exp of qk_internal.h step by step (same constants,
   same fused operations), so results match the scalar path.
   ------------------------------------------------------------------------ */

static inline __m256 exp_approx_avx2(__m256 y)
{
  __m256 n = _mm256_round_ps(_mm256_mul_ps(y, _mm256_set1_ps(QK_LOG2E)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-QK_LN2_HI), y);
  r = _mm256_fmadd_ps(n, _mm256_set1_ps(-QK_LN2_LO), r);
  __m256 p = _mm256_set1_ps(QK_EXP_C7);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(QK_EXP_C6));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(QK_EXP_C5));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(QK_EXP_C4));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(QK_EXP_C3));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(QK_EXP_C2));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  __m256i e =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

static inline __m256 tanh8(__m256 x)
{
  const __m256 one = _mm256_set1_ps(1.0f);
  __m256 v = clamp_ps(x, QK_TANH_CLAMP);
  __m256 e = exp_approx_avx2(_mm256_mul_ps(_mm256_set1_ps(2.0f), v));
  return _mm256_div_ps(_mm256_sub_ps(e, one), _mm256_add_ps(e, one));
}

static inline __m256 sigmoid8(__m256 x)
{
  const __m256 one = _mm256_set1_ps(1.0f);
  __m256 v = clamp_ps(x, QK_SIGMOID_CLAMP);
  __m256 e = exp_approx_avx2(_mm256_xor_ps(v, _mm256_set1_ps(-0.0f))); /* -v */
  return _mm256_div_ps(one, _mm256_add_ps(one, e));
}

/** The activation ACT (QK_ACT_TANH, _SIGMOID, _TANH_INT8) of 8 lanes. */
QK_AI __m256 act8(__m256 v, const int ACT)
{
  return ACT == QK_ACT_SIGMOID ? sigmoid8(v) : ACT == QK_ACT_TANH_INT8 ? tanh_int8_8(v) : tanh8(v);
}

/** y = ACT(x), masked tail. */
QK_AI void act_map_avx2(float *y, const float *x, size_t count, const int ACT)
{
  size_t i = 0;
  for (; i + 8 <= count; i += 8)
    _mm256_storeu_ps(y + i, act8(_mm256_loadu_ps(x + i), ACT));
  if (i < count) {
    const __m256i mk = lane_mask((int)(count - i));
    _mm256_maskstore_ps(y + i, mk, act8(_mm256_maskload_ps(x + i, mk), ACT));
  }
}

static void avx2_tanh(float *y, const float *x, size_t count)
{
  act_map_avx2(y, x, count, QK_ACT_TANH);
}
static void avx2_sigmoid(float *y, const float *x, size_t count)
{
  act_map_avx2(y, x, count, QK_ACT_SIGMOID);
}
static void avx2_tanh_int8(float *y, const float *x, size_t count)
{
  act_map_avx2(y, x, count, QK_ACT_TANH_INT8);
}

const qk_isa_ops qk_ops_avx2 = {
    .isa = QK_ISA_AVX2,
    .pack = avx2_pack,
    .gemm_f32 = avx2_gemm_f32,
    .gemm_s8 = avx2_gemm_s8,
    .column_amax = amax_avx2,
    .quantize_column = quantize_column_avx2,
    .quantize_dynamic = quantize_dynamic_avx2,
    .tanh = avx2_tanh,
    .sigmoid = avx2_sigmoid,
    .tanh_int8 = avx2_tanh_int8,
    .wavenet_layer_fusable = qk_avx2_wavenet_layer_fusable,
    .wavenet_layer_s8 = qk_avx2_wavenet_layer_s8,
    .wavenet_prepared_size = qk_avx2_wavenet_prepared_size,
    .wavenet_history_ld = qk_avx2_wavenet_layer_history_ld,
    .wavenet_chains = qk_avx2_wavenet_layer_chains,
    .wavenet_prepare = qk_avx2_wavenet_prepare,
};
