/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The int8 WaveNet layer on AVX-512 for layers of 1 to 3 channels (A2
  nano's 3), 16 frames to a vector (qk.h: qk_wavenet_layer_s8), and for
  blocks of 1 or 2 frames one frame per vector (frame_one below, also
  qk.h's qk_wavenet_layer_s8_frame_form), the same bits.

  A frame of 3 channels fills 3 of a vector's 16 lanes, so the one-frame-
  per-vector loop (the AVX2 form) leaves most of every instruction idle,
  and a 3-value frame costs more to quantize than its int8 products save:
  measured 2.7x slower than the float path on A2 nano. Here lane v of every
  vector is frame n + v, and channel c or output m is a vector of its own
  (structure of arrays): one vector of maxima, one division and a few
  conversions quantize 16 frames, and the integer sums of a tap are
  computed in float lanes, exactly. The float weight table holds each
  weight's value less its row's zero point, w = v - zp (v itself without
  zero points): qk.h's i_t = sum_c v[c] q[c] - zp * sum_c q[c] is the same
  integer as sum_c (v[c] - zp) q[c], so the zero point costs nothing here.
  That is exact because |w| <= 255 (S8: v and zp in [-128, 127]; S4 15, S2
  3; 128 without zero points) and |q| <= 127, so every product is an
  integer of at most 255 * 127 in magnitude, and a tap's sum of C <= 3 of
  them (the 1x1's too) at most 97155 < 2^24: each float multiply and add
  on them is exact (every partial sum is an integer below 2^24) and gives
  the int32 sum of qk.h, which converts to float exactly too. The float
  steps after it are qk.h's, in its order, lane by lane:

    z   = fma(fma(i_0, ws, 0), s[f_0], bias + 0), then per tap
          fma(fma(i_t, ws, 0), s[f_t], z)  (qk.h's 0 + z is an identity:
          z is never -0, see nonzero_sum in qk_wavenet_avx512vnni.c)
    z  += fl(mixin * cond); a = act(z); head += a
    a quantized per frame (qk.h's dynamic formula, clamp and NaN included)
    next = fma(fma(i, ws1, 0), scale of a, bias1x1 + x)

  so the result is the composition's, bit for bit. Weights with or without
  zero points, any conv scale groups: w keeps the zero point of each
  column's group, and a tap has its group's scale, or where its columns
  straddle two groups (qk.h's pieces: A2 nano's kernel 15 at groups of
  32) p = fma(i_1, ws_1, fma(i_0, ws_0, 0)) over the two pieces' sums
  (small_weights' split); taps * C <= SMALL_MAX_K. Frames enter and leave the frame-major buffers (x,
  head, next) by whole loads and stores and permutes (load_channels,
  store_channels), and the narrow int8 history's columns (4 bytes, the
  engine's) by plain loads and stores (a gather and a scatter on a wider
  one); the history gets each frame's codes (bytes 0 .. C-1 of its column,
  byte 3 of the dword written stays zero padding), scale and code sum.
*/
#include "qk_avx512vnni_common.h"

/** Most conv columns (taps * C) the float copy of the weights holds. */
#define SMALL_MAX_K 64
/** Most channels. */
#define SMALL_MAX_C 3

/** Most lane vectors of the frame form's older taps: (taps - 1) * C < SMALL_MAX_K
    lanes, 16 / C taps to a vector (4 for every C <= 3). */
#define FRAME_MAX_V 4

/**
   The frame form's weights (one frame per vector, see frame_one): the
   older taps t = 0 .. taps-2 in lane vectors of P = 16 / C taps, lane
   j*C + m of vector v holding tap t = P*v + j, row m; the newest tap in
   lanes m of its own.
*/
typedef struct {
  int32_t wt[FRAME_MAX_V][16];   /**< bytes c < C: w[m][t*C + c] (s8), others 0; r if halves */
  int32_t wth[FRAME_MAX_V][16];  /**< if halves: bytes c < C: h = floor(w[m][t*C + c] / 2) */
  int32_t wt0[FRAME_MAX_V][16];  /**< -128 * sum_c w[m][t*C + c]: takes the u = q + 128 offset out */
  float ws_lanes[FRAME_MAX_V][16]; /**< lane j*C + m: ws of tap t's (first piece's) group */
  /** Taps of two pieces (qk.h; small_weights' split): wt, wth, wt0 hold the
      first piece's channels (the others' bytes 0), these the second's, in
      the same lanes (0 in the lanes of whole taps, whose p they leave as
      it is); only vectors with pieces[v] are run. */
  int32_t wtb[FRAME_MAX_V][16], wthb[FRAME_MAX_V][16], wt0b[FRAME_MAX_V][16];
  float wsb_lanes[FRAME_MAX_V][16];
  float wnew[SMALL_MAX_C][16];    /**< the newest tap's column c in lanes m (first piece's) */
  float wnewb[SMALL_MAX_C][16];   /**< its second piece's columns (if split) */
  float wsnew[16], wsnewb[16];    /**< lanes m: the newest tap's pieces' ws */
  float w1col[SMALL_MAX_C][16];  /**< column m of the 1x1 in lanes c */
  int pieces[FRAME_MAX_V]; /**< vector v holds a tap of two pieces */
  int halves; /**< some older tap's w outside [-128, 127] (tap_dword); last: the arrays above are
                   loaded aligned */
} __attribute__((aligned(64))) frame_weights;

/**
   The weights as float codes (exact small integers) and scales per tap:
   a tap is one piece, or two where its columns straddle a scale group
   boundary (qk.h): split[t] of its C columns in group g_t, the rest in
   g_t + 1 (0: one piece).
*/
typedef struct {
  float w[SMALL_MAX_C][SMALL_MAX_K];  /**< conv row m, column k: v - zp of k's group */
  float w1[SMALL_MAX_C][SMALL_MAX_C]; /**< 1x1 row c, column m */
  float ws[SMALL_MAX_C][SMALL_MAX_K];  /**< [m][t]: tap t's (first piece's) group scale */
  float wsb[SMALL_MAX_C][SMALL_MAX_K]; /**< [m][t]: its second piece's (if split) */
  float ws1[SMALL_MAX_C];
  uint8_t split[SMALL_MAX_K];
  /** The conv has more than one scale group per row (a scale per tap, and
      maybe split taps). Without (per channel), the loops are compiled
      with each row's one scale kept in a register, as before groups (the
      per-tap loads and tests measured 10% slower at blocks 1 and 16). */
  int grouped;
  frame_weights fw;
} small_weights;

/**
   Rows x cols weight values less their row's zero point, v - zp (as
   floats), and row scales of a packed integer matrix of one scale group
   per row. The pack keeps zc = zp + 128 per row (128 without zero points)
   and decodes every code to u = v + 128, so v - zp = u - zc: in [-255,
   255] for S8 (v and zp in [-128, 127]), [-15, 15] for S4, [-3, 3] for S2.
*/
static void decode_rows(const qk_packed *p, int rows, int cols, float *w, int ldw, float *scales)
{
  const int_view *v = int_view_of(p);
  const __m512i tbl = v->bits == 8 ? _mm512_setzero_si512() : table_u_zmm(p);
  const int32_t *zc = (const int32_t *)(const void *)(v->par + 16); /* tile 0, group 0 */
  uint8_t quad[64] __attribute__((aligned(64)));
  for (int q = 0; q * 4 < cols; ++q) {
    /* lane m: row m's 4 codes of columns 4q .. 4q+3, as u = code + 128 */
    _mm512_store_si512(quad, quad_u(v, tbl, q));
    for (int m = 0; m < rows; ++m)
      for (int j = 0; j < 4 && 4 * q + j < cols; ++j)
        w[(size_t)m * (size_t)ldw + (size_t)(4 * q + j)] = (float)((int)quad[4 * m + j] - zc[m]);
  }
  for (int m = 0; m < rows; ++m)
    scales[m] = v->par[m];
}

/**
   The conv's values less the zero point of their column's scale group,
   w[m][k] = v - zp[m][k / G] (qk.h: i = sum_c (v - zp) q over a piece,
   the piece lying in one group), and the scales of each tap's pieces.
   |w| <= 255 as for decode_rows.
*/
static void decode_conv(const qk_wavenet_layer *L, small_weights *sw)
{
  const qk_packed *p = L->conv;
  const int C = L->C, K = L->taps * C, G = p->group;
  for (int m = 0; m < C; ++m) {
    const size_t row = (size_t)m * (size_t)p->ngroups;
    for (int k = 0; k < K; ++k)
      sw->w[m][k] = (float)(qk_avx512vnni_weight_value(p, m, k) -
                            (p->zp ? p->zp[row + (size_t)(k / G)] : 0));
    for (int t = 0; t < L->taps; ++t) {
      const int g = qk_wavenet_tap_group(L, t), split = qk_wavenet_tap_split(L, t);
      sw->ws[m][t] = p->scales[row + (size_t)g];
      sw->wsb[m][t] = split ? p->scales[row + (size_t)g + 1] : 0.0f;
    }
  }
  for (int t = 0; t < L->taps; ++t)
    sw->split[t] = (uint8_t)qk_wavenet_tap_split(L, t);
  sw->grouped = p->ngroups > 1;
}

/**
   Tap t's values w = v - zp of row m at channels [c0, c1) as vpdpbusd
   weight dwords (bytes c in [c0, c1), the others 0), and -128 times their
   sum. Values in [-128, 127] (every format
   without zero points, S4 and S2 with them) go whole into *word (*half
   zero); an S8 row with a zero point can reach +-255, which no signed
   byte holds, so such a layer (fw->halves) splits every value as
   w = 2h + r with h = floor(w / 2) in [-128, 127] (*half) and r in {0, 1}
   (*word): two vpdpbusd, the first's sum doubled, the same int32.
*/
static void tap_dword(const small_weights *sw, int C, int t, int m, int c0, int c1, bool halves,
                      int32_t *word, int32_t *half, int32_t *off)
{
  uint32_t u = 0, uh = 0;
  int sum = 0;
  for (int c = c0; c < c1; ++c) {
    const int w = (int)sw->w[m][t * C + c];
    const int h = halves ? (w - (w & 1)) / 2 : 0; /* floor(w / 2), exactly */
    u |= (uint32_t)(uint8_t)(int8_t)(w - 2 * h) << (8 * c);
    uh |= (uint32_t)(uint8_t)(int8_t)h << (8 * c);
    sum += w;
  }
  memcpy(word, &u, sizeof u);
  memcpy(half, &uh, sizeof uh);
  *off = -128 * sum;
}

/** small_weights' frame form from its decoded codes (frame_weights). */
static void prepare_frame_weights(small_weights *sw, int C, int taps)
{
  frame_weights *fw = &sw->fw;
  const int P = 16 / C;
  fw->halves = 0;
  for (int m = 0; m < C; ++m)
    for (int k = 0; k + C < taps * C; ++k)
      fw->halves |= sw->w[m][k] < -128.0f || sw->w[m][k] > 127.0f;
  for (int t = 0; t + 1 < taps; ++t) {
    const int v = t / P, j = t % P, split = sw->split[t];
    fw->pieces[v] |= split != 0;
    for (int m = 0; m < C; ++m) {
      const int l = j * C + m;
      tap_dword(sw, C, t, m, 0, split ? split : C, fw->halves, &fw->wt[v][l], &fw->wth[v][l],
                &fw->wt0[v][l]);
      fw->ws_lanes[v][l] = sw->ws[m][t];
      if (split)
        tap_dword(sw, C, t, m, split, C, fw->halves, &fw->wtb[v][l], &fw->wthb[v][l],
                  &fw->wt0b[v][l]);
      fw->wsb_lanes[v][l] = sw->wsb[m][t];
    }
  }
  const int tn = taps - 1, split = sw->split[tn];
  for (int c = 0; c < C; ++c)
    for (int m = 0; m < C; ++m) {
      const float w = sw->w[m][tn * C + c];
      fw->wnew[c][m] = split && c >= split ? 0.0f : w;
      fw->wnewb[c][m] = split && c >= split ? w : 0.0f;
    }
  for (int m = 0; m < C; ++m) {
    fw->wsnew[m] = sw->ws[m][tn];
    fw->wsnewb[m] = sw->wsb[m][tn];
  }
  for (int m = 0; m < C; ++m)
    for (int c = 0; c < C; ++c)
      fw->w1col[m][c] = sw->w1[c][m];
}

bool qk_avx512vnni_small_layer_shape(const qk_wavenet_layer *L)
{
  /* taps of two pieces at most (small_weights' split): every C <= 3 at qk_pack's groups */
  return L->C <= SMALL_MAX_C && qk_wavenet_bottleneck(L) == L->C && L->taps * L->C <= SMALL_MAX_K &&
         qk_packed_isa(L->conv) == QK_ISA_AVX512VNNI && qk_wavenet_two_pieces(L);
}

size_t qk_avx512vnni_small_layer_bytes(void) { return (sizeof(small_weights) + 63) / 64 * 64; }

void qk_avx512vnni_small_layer_prepare(const qk_wavenet_layer *L, void *mem)
{
  small_weights *sw = mem;
  memset(sw, 0, sizeof *sw);
  decode_conv(L, sw);
  decode_rows(L->w1x1, L->C, L->C, &sw->w1[0][0], SMALL_MAX_C, sw->ws1);
  prepare_frame_weights(sw, L->C, L->taps);
}

/** Lanes of the frames n0 .. n0 + cnt - 1. */
ALWAYS_INLINE __mmask16 frames_mask(int cnt) { return lanes_mask(cnt); }

/**
   qk.h's dynamic scales of 16 frames from their maxima: scale = amax / 127
   and inv = 127 / amax where amax > 0 and finite, else 0 (inv is infinite
   for a subnormal amax, as in the scalar formula).
*/
ALWAYS_INLINE void frame_scales(__m512 amax, __m512 *scale, __m512 *inv)
{
  const __mmask16 ok = _mm512_cmp_ps_mask(amax, _mm512_setzero_ps(), _CMP_GT_OQ) &
                       _mm512_cmp_ps_mask(amax, _mm512_set1_ps(__builtin_inff()), _CMP_LT_OQ);
  *scale = _mm512_maskz_div_ps(ok, amax, _mm512_set1_ps(127.0f));
  *inv = _mm512_maskz_div_ps(ok, _mm512_set1_ps(127.0f), amax);
}

/** qk.h's code of v * inv: rint, clamp to +-127, NaN -> 0. */
ALWAYS_INLINE __m512i code_of(__m512 v, __m512 inv)
{
  const __m512 r =
      _mm512_roundscale_ps(_mm512_mul_ps(v, inv), _MM_FROUND_CUR_DIRECTION | _MM_FROUND_NO_EXC);
  const __m512 c = _mm512_min_ps(_mm512_max_ps(r, _mm512_set1_ps(-127.0f)), _mm512_set1_ps(127.0f));
  return _mm512_maskz_cvtps_epi32(_mm512_cmp_ps_mask(r, r, _CMP_ORD_Q), c);
}

/** max(|v|, m), keeping m where v is NaN (qk.h's maximum ignores NaN). */
ALWAYS_INLINE __m512 max_abs(__m512 v, __m512 m) { return _mm512_max_ps(_mm512_abs_ps(v), m); }

/* Frame-major buffers (x, head, next: C floats a frame) to and from
   channel vectors by whole loads, stores and permutes: a gather or scatter
   of 16 lanes per channel cost more than the layer's arithmetic. */
/** Channel c of 16 frames in a frame-major buffer of C floats a frame: element v*C + c of its
    C vectors (permutex2var takes the low 5 bits, permutexvar the low 4) ([C - 2][c]). */
static const int32_t channel_elems[2][3][16] = {
    {{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30}, {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
    {{0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39, 42, 45}, {1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31, 34, 37, 40, 43, 46}, {2, 5, 8, 11, 14, 17, 20, 23, 26, 29, 32, 35, 38, 41, 44, 47}},
};
/** Vector k of the frame-major buffer from C channel vectors: lane j is element e = 16k + j,
    channel e % C of frame e / C; as a permutex2var index over channels 0 and 1 (+16 for 1),
    channel 2's lanes overwritten ([C - 2][k]). */
static const int32_t frame_elems[2][3][16] = {
    {{0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23}, {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
    {{0, 16, 0, 1, 17, 1, 2, 18, 2, 3, 19, 3, 4, 20, 4, 5}, {21, 5, 6, 22, 6, 7, 23, 7, 8, 24, 8, 9, 25, 9, 10, 26}, {10, 11, 27, 11, 12, 28, 12, 13, 29, 13, 14, 30, 14, 15, 31, 15}},
};
/** Lanes of frame_elems' vectors that channel 2 fills. */
static const __mmask16 frame_elems_ch2[2][3] = {{0x0000, 0x0000, 0x0000}, {0x4924, 0x2492, 0x9249}};

/** channel[c] lane v = p[v*C + c] for frames v < cnt (0 beyond). */
ALWAYS_INLINE void load_channels(const float *p, int cnt, __m512 *channel, const int C)
{
  __m512 r[SMALL_MAX_C];
#pragma GCC unroll 3
  for (int k = 0; k < C; ++k)
    r[k] = loadu_mask_ps(lanes_mask(cnt * C - 16 * k), p + 16 * k);
  if (C == 1) {
    channel[0] = r[0];
    return;
  }
#pragma GCC unroll 3
  for (int c = 0; c < C; ++c) {
    const __m512i e = _mm512_loadu_si512(channel_elems[C - 2][c]);
    channel[c] = _mm512_permutex2var_ps(r[0], e, r[1]);
    if (C == 3)
      channel[c] = _mm512_mask_permutexvar_ps(
          channel[c], _mm512_cmpge_epi32_mask(e, _mm512_set1_epi32(32)), e, r[2]);
  }
}

/** p[v*C + c] = channel[c] lane v for frames v < cnt (load_channels' inverse). */
ALWAYS_INLINE void store_channels(float *p, int cnt, const __m512 *channel, const int C)
{
  if (C == 1) {
    storeu_mask_ps(p, lanes_mask(cnt), channel[0]);
    return;
  }
#pragma GCC unroll 3
  for (int k = 0; k < C; ++k) {
    const __m512i e = _mm512_loadu_si512(frame_elems[C - 2][k]);
    __m512 r = _mm512_permutex2var_ps(channel[0], e, channel[1]);
    if (C == 3)
      r = _mm512_mask_permutexvar_ps(r, frame_elems_ch2[C - 2][k], e, channel[2]);
    storeu_mask_ps(p + 16 * k, lanes_mask(cnt * C - 16 * k), r);
  }
}

/** Column byte offsets v * ld of 16 frames. */
ALWAYS_INLINE __m512i column_offsets(int ld)
{
  return _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                            _mm512_set1_epi32(ld));
}

/**
   Step 1 for frames n0 .. n0 + cnt - 1: x's frames into the int8 history
   (codes, scale, code sum per column).
*/
ALWAYS_INLINE void quantize_inputs(const float *x, const qk_act_s8 *xq, int n0, int cnt,
                                   const int C)
{
  const __mmask16 mk = frames_mask(cnt);
  __m512 v[SMALL_MAX_C], amax = _mm512_setzero_ps();
  load_channels(x + (size_t)n0 * (size_t)C, cnt, v, C);
#pragma GCC unroll 3
  for (int c = 0; c < C; ++c)
    amax = max_abs(v[c], amax);
  __m512 scale, inv;
  frame_scales(amax, &scale, &inv);
  __m512i word = _mm512_setzero_si512(), sum = _mm512_setzero_si512();
#pragma GCC unroll 3
  for (int c = 0; c < C; ++c) {
    const __m512i q = code_of(v[c], inv);
    sum = _mm512_add_epi32(sum, q);
    word = _mm512_or_si512(
        word, _mm512_slli_epi32(_mm512_and_si512(q, _mm512_set1_epi32(0xFF)), (unsigned)(8 * c)));
  }
  if (xq->ld == 4) /* the narrow history: the columns are consecutive dwords */
    _mm512_mask_storeu_epi32(xq->codes + (ptrdiff_t)n0 * 4, mk, word);
  else
    _mm512_mask_i32scatter_epi32(xq->codes + (ptrdiff_t)n0 * xq->ld, mk, column_offsets(xq->ld),
                                 word, 1);
  storeu_mask_ps(xq->scales + n0, mk, scale);
  _mm512_mask_storeu_epi32(xq->sums + n0, mk, sum);
}

/** Code c of 16 columns' dwords, as a float. */
ALWAYS_INLINE __m512 code_float(__m512i word, int c)
{
  return _mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(word, (unsigned)(24 - 8 * c)), 24));
}

/** A piecewise-linear nonlinearity, lane by lane (qk_wavenet_avx512vnni.c's
    act16); prelu: PReLU's slope of each lane's output (unused otherwise). */
ALWAYS_INLINE __m512 act_small(__m512 z, const qk_wavenet_act *act, __m512 prelu, const int TANH)
{
  if (TANH)
    return tanh_int8_16(z);
  const __m512 zero = _mm512_setzero_ps();
  switch (act->kind) {
  case QK_WN_RELU: return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(z, zero, _CMP_GT_OQ), z);
  case QK_WN_LEAKY_RELU:
  case QK_WN_PRELU: {
    const __m512 slope = act->kind == QK_WN_PRELU ? prelu : _mm512_set1_ps(act->slope);
    return _mm512_mask_mov_ps(_mm512_mul_ps(slope, z), _mm512_cmp_ps_mask(z, zero, _CMP_GT_OQ), z);
  }
  case QK_WN_HARDTANH: {
    const __m512 one = _mm512_set1_ps(1.0f), minus_one = _mm512_set1_ps(-1.0f);
    const __m512 t = _mm512_mask_mov_ps(z, _mm512_cmp_ps_mask(z, minus_one, _CMP_LT_OQ), minus_one);
    return _mm512_mask_mov_ps(t, _mm512_cmp_ps_mask(t, one, _CMP_GT_OQ), one);
  }
  case QK_WN_LEAKY_HARDTANH: {
    const __m512 lo = _mm512_set1_ps(act->min_val), hi = _mm512_set1_ps(act->max_val);
    const __m512 below =
        _mm512_add_ps(_mm512_mul_ps(_mm512_sub_ps(z, lo), _mm512_set1_ps(act->min_slope)), lo);
    const __m512 above =
        _mm512_add_ps(_mm512_mul_ps(_mm512_sub_ps(z, hi), _mm512_set1_ps(act->max_slope)), hi);
    /* the scalar tests z < min_val first: below wins where both hold */
    const __m512 a = _mm512_mask_mov_ps(z, _mm512_cmp_ps_mask(z, hi, _CMP_GT_OQ), above);
    return _mm512_mask_mov_ps(a, _mm512_cmp_ps_mask(z, lo, _CMP_LT_OQ), below);
  }
  default: return z; /* QK_WN_IDENTITY */
  }
}

/** Steps 2 to 4 for frames n0 .. n0 + cnt - 1 (their inputs already in the history). */
ALWAYS_INLINE void frames16(const qk_wavenet_layer *L, const small_weights *sw, const float *x,
                            const qk_act_s8 *xq, const float *cond, int n0, int cnt, float *head,
                            float *next, const int C, const int TANH, const int GROUPED)
{
  const int taps = L->taps;
  const ptrdiff_t ld = xq->ld;
  const __mmask16 mk = frames_mask(cnt);
  const __m512i offsets = column_offsets((int)ld);
  __m512 z[SMALL_MAX_C];
#pragma GCC unroll 3
  for (int m = 0; m < C; ++m) /* qk.h: bias + 0 (a -0 bias becomes +0) */
    z[m] = _mm512_set1_ps((L->conv_bias ? L->conv_bias[m] : 0.0f) + 0.0f);
  for (int t = 0; t < taps; ++t) {
    const ptrdiff_t f = n0 - (ptrdiff_t)L->dilation * (taps - 1 - t);
    const __m512i word =
        ld == 4 ? _mm512_maskz_loadu_epi32(mk, xq->codes + f * 4)
                : _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), mk, offsets,
                                              xq->codes + f * ld, 1);
    const __m512 s = loadu_mask_ps(mk, xq->scales + f);
    __m512 q[SMALL_MAX_C];
#pragma GCC unroll 3
    for (int c = 0; c < C; ++c)
      q[c] = code_float(word, c);
    const int split = GROUPED ? sw->split[t] : 0;
    if (GROUPED && __builtin_expect(split != 0, 0)) {
      /* qk.h's pieces: p = fma(i_1, ws[g_t + 1], fma(i_0, ws[g_t], 0)) */
#pragma GCC unroll 3
      for (int m = 0; m < C; ++m) {
        const float *w = &sw->w[m][t * C];
        __m512 i0 = _mm512_setzero_ps(), i1 = _mm512_setzero_ps(); /* exact: small integers */
#pragma GCC unroll 3
        for (int c = 0; c < C; ++c) {
          if (c < split)
            i0 = _mm512_fmadd_ps(_mm512_set1_ps(w[c]), q[c], i0);
          else
            i1 = _mm512_fmadd_ps(_mm512_set1_ps(w[c]), q[c], i1);
        }
        const __m512 p0 = _mm512_fmadd_ps(i0, _mm512_set1_ps(sw->ws[m][t]), _mm512_setzero_ps());
        const __m512 p = _mm512_fmadd_ps(i1, _mm512_set1_ps(sw->wsb[m][t]), p0);
        z[m] = _mm512_fmadd_ps(p, s, z[m]);
      }
      continue;
    }
#pragma GCC unroll 3
    for (int m = 0; m < C; ++m) {
      const float *w = &sw->w[m][t * C];
      __m512 i = _mm512_mul_ps(_mm512_set1_ps(w[0]), q[0]); /* exact: small integers */
#pragma GCC unroll 3
      for (int c = 1; c < C; ++c)
        i = _mm512_fmadd_ps(_mm512_set1_ps(w[c]), q[c], i);
      const __m512 p =
          _mm512_fmadd_ps(i, _mm512_set1_ps(sw->ws[m][GROUPED ? t : 0]), _mm512_setzero_ps());
      z[m] = _mm512_fmadd_ps(p, s, z[m]);
    }
  }
  const __m512 cv = loadu_mask_ps(mk, cond + n0);
  __m512 a[SMALL_MAX_C], h[SMALL_MAX_C], amax = _mm512_setzero_ps();
  float *hn = head + (size_t)n0 * (size_t)C;
  load_channels(hn, cnt, h, C);
#pragma GCC unroll 3
  for (int m = 0; m < C; ++m) {
    const __m512 prelu =
        L->act.kind == QK_WN_PRELU ? _mm512_set1_ps(L->act.slopes[m]) : _mm512_setzero_ps();
    a[m] = act_small(_mm512_add_ps(z[m], _mm512_mul_ps(_mm512_set1_ps(L->mixin[m]), cv)), &L->act,
                     prelu, TANH);
    h[m] = _mm512_add_ps(h[m], a[m]);
    amax = max_abs(a[m], amax);
  }
  store_channels(hn, cnt, h, C);
  __m512 scale, inv;
  frame_scales(amax, &scale, &inv);
  __m512 qa[SMALL_MAX_C];
#pragma GCC unroll 3
  for (int m = 0; m < C; ++m)
    qa[m] = _mm512_cvtepi32_ps(code_of(a[m], inv));
  __m512 xv[SMALL_MAX_C], out[SMALL_MAX_C];
  load_channels(x + (size_t)n0 * (size_t)C, cnt, xv, C);
#pragma GCC unroll 3
  for (int c = 0; c < C; ++c) {
    __m512 i = _mm512_mul_ps(_mm512_set1_ps(sw->w1[c][0]), qa[0]);
#pragma GCC unroll 3
    for (int m = 1; m < C; ++m)
      i = _mm512_fmadd_ps(_mm512_set1_ps(sw->w1[c][m]), qa[m], i);
    const __m512 p = _mm512_fmadd_ps(i, _mm512_set1_ps(sw->ws1[c]), _mm512_setzero_ps());
    const __m512 base = _mm512_add_ps(_mm512_set1_ps(L->bias1x1 ? L->bias1x1[c] : 0.0f), xv[c]);
    out[c] = _mm512_fmadd_ps(p, scale, base);
  }
  store_channels(next + (size_t)n0 * (size_t)C, cnt, out, C);
}

/* ------------------------------------------------------------------------
   One frame per vector (blocks of a few frames)

   frames16 computes 16 frames whatever N is: at a block of one frame 15
   of its lanes are idle, and its gathers and scatters (x, head and next
   are frame-major) were most of the 5.5 us a nano frame took. Here a
   frame's C channels or outputs are lanes 0 .. C-1 of one vector. The
   older taps' integer sums run with taps and outputs in the lanes: lane
   j*C + m of vector v is tap t = P*v + j (P = 16 / C), row m, whose sum
   sum_c w[m][t*C + c] * q[f_t][c] is one vpdpbusd of the tap's code
   dword (u = q + 128, exact in int32: wt0 takes the 128 * sum_c w out)
   with the row's weight dword (w = v - zp; two when some w of an S8 row
   with zero points leaves the signed byte, see tap_dword). The newest
   tap (this frame's codes, just made) is summed in float lanes from the
   float codes and float w, exact as in frames16. The float steps after the sums are qk.h's and frames16's, in
   the same order: p = fma((float)i, ws, 0), then z = fma(p, s[f_t], z)
   tap after tap from bias + 0, each older tap's C lanes moved to lanes
   0 .. C-1 for its step. The older taps read only the history, so their
   chain runs ahead of the frame's input; the newest comes last, as in
   qk.h. The rest (mixin, act, head, quantizing a, the 1x1 in float lanes,
   next) is frames16's lane by lane. At one frame a layer is a chain of
   dependent steps, two of them quantizations (a maximum, a division, a
   rounding): quantize_lanes keeps those short.
   ------------------------------------------------------------------------ */

/**
   Codes q[c] of the C lanes of v (the others zero) with qk.h's dynamic
   formula: float codes in lanes c, *scale broadcast, *word the codes'
   dword (bytes c < C, the rest 0) broadcast, *sum their sum.

   Two paths with the same codes. Where every v is finite and the maximum
   is finite with a finite inverse (the audio's case), |v * inv| <=
   127 (1 + 2^-23)^2 < 127.5 and no value is NaN, so rint(v * inv) is the
   code: no clamp and no NaN test after the rounding, which sit on a block
   of one frame's critical path twice per layer. Elsewhere (a NaN, an
   infinity, silence, a maximum below about 3.7e-37) the whole formula.
*/
ALWAYS_INLINE __m512 quantize_lanes(__m512 v, __m512 *scale, __m512i *word, int32_t *sum)
{
  const __m512 inf = _mm512_set1_ps(__builtin_inff()), c127 = _mm512_set1_ps(127.0f);
  /* lanes 0 .. 3 get the maximum of lanes 0 .. C-1 <= 3, as integers: |v|
     as int32 orders like the float (1-cycle vpmaxsd; a NaN lane is the
     largest and sends the frame to the other path) */
  __m512i mi = _mm512_castps_si512(_mm512_abs_ps(v));
  mi = _mm512_max_epi32(mi, _mm512_shuffle_epi32(mi, _MM_PERM_CDAB));
  mi = _mm512_max_epi32(mi, _mm512_shuffle_epi32(mi, _MM_PERM_BADC));
  __m512 m = _mm512_castsi512_ps(mi);
  __m512 inv = _mm512_zextps128_ps512(
      _mm_div_ps(_mm_set1_ps(127.0f), _mm512_castps512_ps128(m)));
  __m512 q =
      _mm512_roundscale_ps(_mm512_mul_ps(v, inv), _MM_FROUND_CUR_DIRECTION | _MM_FROUND_NO_EXC);
  *scale = _mm512_zextps128_ps512(_mm_div_ps(_mm512_castps512_ps128(m), _mm_set1_ps(127.0f)));
  const __mmask16 finite = _mm512_cmp_ps_mask(_mm512_abs_ps(v), inf, _CMP_LT_OQ) &
                           _mm512_cmp_ps_mask(inv, inf, _CMP_LT_OQ);
  if (__builtin_expect((finite & 0xF) != 0xF, 0)) {
    /* the whole formula: NaN ignored by the maximum, inv 0 where the
       maximum is 0 or infinite, codes clamped, NaN codes 0 */
    m = _mm512_max_ps(_mm512_abs_ps(v), _mm512_setzero_ps());
    m = _mm512_max_ps(m, _mm512_shuffle_ps(m, m, _MM_SHUFFLE(2, 3, 0, 1)));
    m = _mm512_max_ps(m, _mm512_shuffle_ps(m, m, _MM_SHUFFLE(1, 0, 3, 2)));
    frame_scales(m, scale, &inv);
    const __m512 r =
        _mm512_roundscale_ps(_mm512_mul_ps(v, inv), _MM_FROUND_CUR_DIRECTION | _MM_FROUND_NO_EXC);
    q = _mm512_maskz_min_ps(_mm512_cmp_ps_mask(r, r, _CMP_ORD_Q),
                            _mm512_max_ps(r, _mm512_set1_ps(-127.0f)), c127);
  }
  const __m512i qi = _mm512_cvtps_epi32(q);
  *word = _mm512_broadcastd_epi32(_mm512_cvtepi32_epi8(qi));
  *sum = _mm512_reduce_add_epi32(qi);
  return q;
}

/** Frame n's column of an int8 history: the word's codes, scale and sum. */
ALWAYS_INLINE void store_column(const qk_act_s8 *hq, int n, __m512i word, __m512 scale,
                                int32_t sum)
{
  const int32_t w = _mm_cvtsi128_si32(_mm512_castsi512_si128(word));
  memcpy(hq->codes + (ptrdiff_t)n * hq->ld, &w, sizeof w);
  hq->scales[n] = _mm512_cvtss_f32(scale);
  hq->sums[n] = sum;
}

/** Lane 0 .. 3 of v in every lane (in-lane shuffles: lanes 0 .. 3 are the first 128 bits). */
ALWAYS_INLINE __m512 lane_bcast(__m512 v, const int c)
{
  switch (c) {
  case 0: return _mm512_permute_ps(v, 0x00);
  case 1: return _mm512_permute_ps(v, 0x55);
  default: return _mm512_permute_ps(v, 0xAA);
  }
}

/** sum_c col[c] * q[c] over float codes q in lanes c < C: exact (small
    integers), so summed as a tree (the products at once, then two adds). */
ALWAYS_INLINE __m512 lanes_times_columns(__m512 q, const float (*col)[16], const int C)
{
  const __m512 p0 = _mm512_mul_ps(_mm512_load_ps(col[0]), lane_bcast(q, 0));
  if (C == 1)
    return p0;
  const __m512 p01 = _mm512_add_ps(p0, _mm512_mul_ps(_mm512_load_ps(col[1]), lane_bcast(q, 1)));
  if (C == 2)
    return p01;
  return _mm512_add_ps(p01, _mm512_mul_ps(_mm512_load_ps(col[2]), lane_bcast(q, 2)));
}

/** p = fma((float)i, ws, add) of i = u8(word ^ 0x80) . s8(w) + w0, or with
    halves 2 * (u . s8(wh)) + u . s8(w) + w0 (exact int32: |i| < 2^17). */
ALWAYS_INLINE __m512 tap_products(__m512i word, const int32_t *w, const int32_t *wh,
                                  const int32_t *w0, __m512 ws, bool halves, __m512 add)
{
  const __m512i u = _mm512_xor_si512(word, _mm512_set1_epi32((int)0x80808080u));
  __m512i acc = _mm512_load_si512(w0);
  if (halves)
    acc = _mm512_add_epi32(
        acc, _mm512_slli_epi32(dpbusd(_mm512_setzero_si512(), u, _mm512_load_si512(wh)), 1));
  const __m512i i = dpbusd(acc, u, _mm512_load_si512(w));
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), ws, add);
}

/**
   Frame n: its input into the history (unless x_quantized), conv, mixin,
   act, head, next, and next into nq's column n when nq is given.
*/
ALWAYS_INLINE void frame_one(const qk_wavenet_layer *L, const small_weights *sw, const float *x,
                             const qk_act_s8 *xq, const float *cond, int n, float *head,
                             float *next, const int C, const int TANH, const int GROUPED)
{
  const frame_weights *fw = &sw->fw;
  const int P = 16 / C, taps = L->taps, older = taps - 1;
  const __mmask16 mc = lanes_mask(C);
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const ptrdiff_t ld = xq->ld, step = (ptrdiff_t)L->dilation;
  const float *xn = x + (size_t)n * (size_t)C;

  /* step 1: this frame's codes (stored first: with dilation 0 every tap reads them) */
  __m512i word;
  __m512 s_new;
  int32_t sum;
  const __m512 q_new = quantize_lanes(load_few(xn, C), &s_new, &word, &sum);
  store_column(xq, n, word, s_new, sum);

  /* the older taps: each tap's code dword broadcast from memory into its
     C lanes (a gather of them was slower) */
  const __m512 ws0 = _mm512_load_ps(fw->ws_lanes[0]); /* every older vector's without GROUPED */
  __m512 z = _mm512_add_ps(L->conv_bias ? loadu_mask_ps(mc, L->conv_bias) : _mm512_setzero_ps(),
                           _mm512_setzero_ps()); /* qk.h: bias + 0 */
  const int8_t *col0 = xq->codes + (ptrdiff_t)n * ld;
  for (int v = 0, t = 0; t < older; ++v) {
    __m512i w = _mm512_setzero_si512();
#pragma GCC unroll 16
    for (int j = 0; j < P; ++j)
      if (t + j < older)
        w = _mm512_mask_set1_epi32(w, (__mmask16)(lanes_mask(C) << (j * C)),
                                   load4(col0 - step * (older - t - j) * ld));
    __m512 p = tap_products(w, fw->wt[v], fw->wth[v], fw->wt0[v],
                            GROUPED ? _mm512_load_ps(fw->ws_lanes[v]) : ws0, fw->halves,
                            _mm512_setzero_ps());
    if (GROUPED && __builtin_expect(fw->pieces[v], 0)) /* qk.h's second pieces: fma(i_1, ws[g_t + 1], p) */
      p = tap_products(w, fw->wtb[v], fw->wthb[v], fw->wt0b[v], _mm512_load_ps(fw->wsb_lanes[v]),
                       fw->halves, p);
#pragma GCC unroll 16
    for (int j = 0; j < P; ++j, ++t) {
      if (t >= older)
        break;
      const __m512 pt =
          _mm512_maskz_permutexvar_ps(mc, _mm512_add_epi32(iota, _mm512_set1_epi32(j * C)), p);
      const float s = xq->scales[n - step * (older - t)];
      z = _mm512_fmadd_ps(pt, _mm512_set1_ps(s), z);
    }
  }
  const __m512 i_new = lanes_times_columns(q_new, fw->wnew, C);
  __m512 p_new = _mm512_fmadd_ps(i_new, _mm512_load_ps(fw->wsnew), _mm512_setzero_ps());
  if (GROUPED && __builtin_expect(sw->split[older] != 0, 0))
    p_new = _mm512_fmadd_ps(lanes_times_columns(q_new, fw->wnewb, C), _mm512_load_ps(fw->wsnewb),
                            p_new);
  z = _mm512_fmadd_ps(p_new, s_new, z);

  /* steps 2 to 4 */
  const __m512 mix = loadu_mask_ps(mc, L->mixin);
  z = _mm512_add_ps(z, _mm512_mul_ps(mix, _mm512_set1_ps(cond[n])));
  const __m512 prelu =
      L->act.kind == QK_WN_PRELU ? loadu_mask_ps(mc, L->act.slopes) : _mm512_setzero_ps();
  const __m512 a = _mm512_maskz_mov_ps(mc, act_small(z, &L->act, prelu, TANH));
  float *h = head + (size_t)n * (size_t)C;
  store_few(h, _mm512_add_ps(load_few(h, C), a), C);
  __m512 scale;
  __m512i aword;
  int32_t asum;
  const __m512 qa = quantize_lanes(a, &scale, &aword, &asum); /* (word and sum unused) */
  const __m512 i1 = lanes_times_columns(qa, fw->w1col, C);
  __m512 ws1 = _mm512_setzero_ps();
  ws1 = _mm512_mask_loadu_ps(ws1, mc, sw->ws1);
  const __m512 p1 = _mm512_fmadd_ps(i1, ws1, _mm512_setzero_ps());
  const __m512 b1 = L->bias1x1 ? loadu_mask_ps(mc, L->bias1x1) : _mm512_setzero_ps();
  const __m512 out = _mm512_fmadd_ps(p1, scale, _mm512_add_ps(b1, load_few(xn, C)));
  store_few(next + (size_t)n * (size_t)C, out, C);
}

/** Frames fewer than this run one per vector (frame_one), more 16 to a vector
    (measured on A2 nano, Zen 5: frame_one is faster at 1 and 2 frames, the
    16-frame form from 3). */
#define FRAME_FORM_MAX 3

ALWAYS_INLINE void small_layer_g(const qk_wavenet_layer *L, const small_weights *sw,
                                 const float *x, const qk_act_s8 *xq, const float *cond, int N,
                                 float *head, float *next, const int C, const int TANH,
                                 const int GROUPED)
{
  if (N < FRAME_FORM_MAX) {
    for (int n = 0; n < N; ++n)
      frame_one(L, sw, x, xq, cond, n, head, next, C, TANH, GROUPED);
    return;
  }
  for (int n0 = 0; n0 < N; n0 += 16)
    quantize_inputs(x, xq, n0, N - n0 < 16 ? N - n0 : 16, C);
  for (int n0 = 0; n0 < N; n0 += 16)
    frames16(L, sw, x, xq, cond, n0, N - n0 < 16 ? N - n0 : 16, head, next, C, TANH, GROUPED);
}

/** small_layer_g compiled for one scale group per row or more (small_weights' grouped). */
ALWAYS_INLINE void small_layer(const qk_wavenet_layer *L, const small_weights *sw, const float *x,
                               const qk_act_s8 *xq, const float *cond, int N, float *head,
                               float *next, const int C, const int TANH)
{
  if (sw->grouped)
    small_layer_g(L, sw, x, xq, cond, N, head, next, C, TANH, 1);
  else
    small_layer_g(L, sw, x, xq, cond, N, head, next, C, TANH, 0);
}

void qk_avx512vnni_small_layer_s8(const qk_wavenet_layer *L, const void *prepared, const float *x,
                                  const qk_act_s8 *xq, const float *cond, int N, float *head,
                                  float *next)
{
  small_weights local;
  const small_weights *sw = prepared;
  if (!sw) {
    qk_avx512vnni_small_layer_prepare(L, &local);
    sw = &local;
  }
  const bool tanh = L->act.kind == QK_WN_TANH;
  switch (L->C) {
  case 1:
    tanh ? small_layer(L, sw, x, xq, cond, N, head, next, 1, 1)
         : small_layer(L, sw, x, xq, cond, N, head, next, 1, 0);
    break;
  case 2:
    tanh ? small_layer(L, sw, x, xq, cond, N, head, next, 2, 1)
         : small_layer(L, sw, x, xq, cond, N, head, next, 2, 0);
    break;
  default:
    tanh ? small_layer(L, sw, x, xq, cond, N, head, next, 3, 1)
         : small_layer(L, sw, x, xq, cond, N, head, next, 3, 0);
    break;
  }
}

#define FRAME_FN(C, TANH, G)                                                                       \
  static void frame_c##C##_t##TANH##_g##G(const qk_wavenet_layer *L, const float *x,               \
                                          const qk_act_s8 *xq, float cond, float *head,            \
                                          float *next)                                             \
  {                                                                                                \
    frame_one(L, L->prepared, x, xq, &cond, 0, head, next, C, TANH, G);                            \
  }
/** Both nonlinearity kinds and both groupings of C channels. */
#define FRAME_FNS(C)                                                                               \
  FRAME_FN(C, 0, 0)                                                                                \
  FRAME_FN(C, 1, 0)                                                                                \
  FRAME_FN(C, 0, 1)                                                                                \
  FRAME_FN(C, 1, 1)
FRAME_FNS(1)
FRAME_FNS(2)
FRAME_FNS(3)

/** [grouped][C - 1][tanh] */
static const qk_wavenet_s8_frame_fn frame_forms[2][SMALL_MAX_C][2] = {
    {{frame_c1_t0_g0, frame_c1_t1_g0}, {frame_c2_t0_g0, frame_c2_t1_g0}, {frame_c3_t0_g0, frame_c3_t1_g0}},
    {{frame_c1_t0_g1, frame_c1_t1_g1}, {frame_c2_t0_g1, frame_c2_t1_g1}, {frame_c3_t0_g1, frame_c3_t1_g1}}};

qk_wavenet_s8_frame_fn qk_avx512vnni_small_frame_form(const qk_wavenet_layer *L)
{
  const small_weights *sw = L->prepared;
  return frame_forms[sw->grouped != 0][L->C - 1][L->act.kind == QK_WN_TANH];
}
