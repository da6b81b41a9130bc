/*
  The int8 WaveNet layer on AVX-512 VNNI (qk.h: qk_wavenet_layer_s8),
  fused. The composition in qk_wavenet.c runs `taps` GEMMs over columns
  that are mostly zeros, then passes over z for the mixin, tanh and head;
  here each frame reads its taps' codes straight from the int8 history and
  keeps z and a in registers:

    1. this call's input frames into the int8 history (the ISA's batched
       dynamic quantizer, as in the composition);
    2. per frame: per tap, C/4 vpdpbusd from that frame's codes, scaled by
       its own scale; mixin, tanh, head; a to scratch;
    3. a quantized per frame (batched quantizer again);
    4. per frame: the 1x1, added to x, into next.

  Shapes: one tile (C <= 16 rows), C a multiple of 4 (a 4-k quad never
  straddles two taps), taps * C <= 64.

  Bit-exactness with the composition: the integer sums are exact (split
  into chains freely: integer addition is associative), and the operands
  are swapped relative to gemm_s8: activations are the unsigned operand
  (code + 128, one xor on the broadcast) and the weights the signed one,
  decoded once per call, so the +128 comes back out as a per-row, per-tap
  constant (-128 * row sum over the tap's columns) instead of through the
  frame's code sum. Zero points still use the frame's code sum, as in
  qk.h. The float operations are those of qk.h, in its order:
  fma((float)i, ws, 0), fma(., frame scale, base) with base = bias + 0 for
  the first tap and 0 + z after it; fl(mixin * cond) then the add; act16
  for tanh; fma(fma((float)i, ws, 0), scale of a, bias + x) for the 1x1.
*/
#include "qk_avx512vnni_common.h"

/** Most 4-k quads of a conv row (taps * C <= 64). */
#define MAX_QUADS 16

bool qk_avx512vnni_wavenet_layer_fusable(const qk_wavenet_layer *L)
{
  return L->C <= TILE_ROWS && L->C % 4 == 0 && L->taps * L->C <= 4 * MAX_QUADS &&
         qk_packed_isa(L->conv) == QK_ISA_AVX512VNNI;
}

/**
   One matrix ready for the frame loop: signed weights per quad, the
   per-tap constants that take the activations' +128 back out, the row
   scales and zero points.
*/
typedef struct {
  __m512i w[MAX_QUADS];     /**< quad q: 16 rows x 4 k as signed bytes */
  __m512i start[MAX_QUADS]; /**< per tap: -128 * row sum of v over the tap's columns */
  __m512i zp;               /**< zero points (0 when symmetric) */
  __m512 scale;
  int has_zp;
} fused_matrix;

/** Quad q of a packed integer matrix as u = v + 128 (decode_quad wants constant bits, j). */
static __m512i quad_u(const int_view *v, __m512i tbl, int q)
{
  const int per = 8 / v->bits;
  const __m512i blk = _mm512_load_si512(v->codes + (size_t)(q / per) * 64);
  switch (v->bits) {
  case 8: return decode_quad(blk, 8, 0, tbl);
  case 4: return q % 2 ? decode_quad(blk, 4, 1, tbl) : decode_quad(blk, 4, 0, tbl);
  default:
    switch (q % 4) {
    case 0: return decode_quad(blk, 2, 0, tbl);
    case 1: return decode_quad(blk, 2, 1, tbl);
    case 2: return decode_quad(blk, 2, 2, tbl);
    default: return decode_quad(blk, 2, 3, tbl);
    }
  }
}

/** quads_per_tap: C / 4 (the taps split the row into equal parts). */
static void prepare_matrix(const qk_packed *p, int quads_per_tap, fused_matrix *fm)
{
  const int_view *v = int_view_of(p);
  const __m512i tbl = v->bits == 8 ? _mm512_setzero_si512() : table_u_zmm(p);
  const __m512i flip = _mm512_set1_epi8((char)0x80), ones = _mm512_set1_epi8(1);
  const int quads = v->K / 4;
  for (int t = 0; t * quads_per_tap < quads; ++t) {
    __m512i usum = _mm512_setzero_si512();
    for (int q = t * quads_per_tap; q < (t + 1) * quads_per_tap; ++q) {
      const __m512i u = quad_u(v, tbl, q);
      usum = dpbusd(usum, u, ones); /* sum of u = v + 128 per row */
      fm->w[q] = _mm512_xor_si512(u, flip);
    }
    /* row sum of v = usum - 128 * 4 * quads_per_tap; start = -128 * that */
    const __m512i rowsum = _mm512_sub_epi32(usum, _mm512_set1_epi32(512 * quads_per_tap));
    fm->start[t] = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(rowsum, 7));
  }
  fm->scale = _mm512_load_ps(v->par);
  fm->has_zp = v->has_zp;
  fm->zp = v->has_zp ? _mm512_sub_epi32(_mm512_load_si512(v->par + 16), _mm512_set1_epi32(128))
                     : _mm512_setzero_si512();
}

/** acc += u8(the 4 codes at c, + 128) . s8(w), the codes broadcast to every lane. */
ALWAYS_INLINE __m512i dot_quad(__m512i acc, const int8_t *c, const __m512i *w)
{
  const __m512i u = _mm512_xor_si512(_mm512_set1_epi32(load4(c)), _mm512_set1_epi8((char)0x80));
  __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "m"(*w));
  return acc;
}

/**
   i = sum over the Q quads of one C-code column (codes c, code sum csum)
   against weights w[0..Q) - zp * csum, starting from `start`. Two chains.
*/
ALWAYS_INLINE __m512i dot_column(const fused_matrix *fm, const __m512i *w, __m512i start,
                                 const int8_t *c, int32_t csum, const int Q)
{
  __m512i a0 = start, a1 = _mm512_setzero_si512();
  if (fm->has_zp)
    a0 = _mm512_sub_epi32(a0, _mm512_mullo_epi32(fm->zp, _mm512_set1_epi32(csum)));
#pragma GCC unroll 4
  for (int j = 0; j < Q; ++j) {
    if (j % 2)
      a1 = dot_quad(a1, c + 4 * j, w + j);
    else
      a0 = dot_quad(a0, c + 4 * j, w + j);
  }
  return _mm512_add_epi32(a0, a1);
}

/** Step 2 for every frame: Q = C / 4 quads per tap. */
ALWAYS_INLINE void conv_frames(const qk_wavenet_layer *L, const fused_matrix *cv,
                               const qk_act_s8 *xq, const float *cond, int N, float *head,
                               float *a_out, const int Q)
{
  const int C = 4 * Q, taps = L->taps;
  const __mmask16 mk = lanes_mask(C);
  const ptrdiff_t ld = xq->ld;
  /* qk.h: base = bias + 0.0f for the first tap (a -0 bias becomes +0) */
  const __m512 bconv = L->conv_bias
                           ? _mm512_add_ps(_mm512_maskz_loadu_ps(mk, L->conv_bias), _mm512_setzero_ps())
                           : _mm512_setzero_ps();
  const __m512 mixin = _mm512_maskz_loadu_ps(mk, L->mixin);
  for (int n = 0; n < N; ++n) {
    __m512 z = bconv;
    for (int t = 0; t < taps; ++t) {
      const ptrdiff_t f = n - (ptrdiff_t)L->dilation * (taps - 1 - t);
      const __m512i i = dot_column(cv, cv->w + t * Q, cv->start[t], xq->codes + f * ld,
                                   cv->has_zp ? xq->sums[f] : 0, Q);
      const __m512 s = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), cv->scale, _mm512_setzero_ps());
      z = _mm512_fmadd_ps(s, _mm512_set1_ps(xq->scales[f]),
                          t ? _mm512_add_ps(_mm512_setzero_ps(), z) : z);
    }
    z = _mm512_add_ps(z, _mm512_mul_ps(mixin, _mm512_set1_ps(cond[n])));
    const __m512 a = act16(z, 0);
    float *hn = head + (size_t)n * (size_t)C;
    _mm512_mask_storeu_ps(hn, mk, _mm512_add_ps(_mm512_maskz_loadu_ps(mk, hn), a));
    _mm512_mask_storeu_ps(a_out + (size_t)n * (size_t)C, mk, a);
  }
}

/** Step 4 for every frame. */
ALWAYS_INLINE void mix_frames(const qk_wavenet_layer *L, const fused_matrix *w1,
                              const qk_act_s8 *aq, const float *x, int N, float *next, const int Q)
{
  const int C = 4 * Q;
  const __mmask16 mk = lanes_mask(C);
  const __m512 b1x1 = L->bias1x1 ? _mm512_maskz_loadu_ps(mk, L->bias1x1) : _mm512_setzero_ps();
  for (int n = 0; n < N; ++n) {
    const __m512i i = dot_column(w1, w1->w, w1->start[0], aq->codes + (size_t)n * (size_t)aq->ld,
                                 w1->has_zp ? aq->sums[n] : 0, Q);
    const __m512 s = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), w1->scale, _mm512_setzero_ps());
    const __m512 base = _mm512_add_ps(b1x1, _mm512_maskz_loadu_ps(mk, x + (size_t)n * (size_t)C));
    _mm512_mask_storeu_ps(next + (size_t)n * (size_t)C, mk,
                          _mm512_fmadd_ps(s, _mm512_set1_ps(aq->scales[n]), base));
  }
}

/** Steps 1 and 3: the dynamic quantizer, as the composition calls it. */
static void quantize_frames(const float *x, int C, int N, const qk_act_s8 *dst)
{
  qk_act_s8 out = *dst;
  qk_act_quantize_dynamic(&qk_ops_avx512vnni, x, C, C, N, &out);
}

ALWAYS_INLINE void layer_q(const qk_wavenet_layer *L, const float *x, const qk_act_s8 *xq,
                           const float *cond, int N, float *head, float *next,
                           const qk_wavenet_scratch *scratch, const int Q)
{
  fused_matrix cv, w1;
  prepare_matrix(L->conv, Q, &cv);
  prepare_matrix(L->w1x1, Q, &w1);
  quantize_frames(x, 4 * Q, N, xq);
  conv_frames(L, &cv, xq, cond, N, head, scratch->z, Q);
  quantize_frames(scratch->z, 4 * Q, N, scratch->act_1x1);
  mix_frames(L, &w1, scratch->act_1x1, x, N, next, Q);
}

void qk_avx512vnni_wavenet_layer_s8(const qk_wavenet_layer *L, const float *x, const qk_act_s8 *xq,
                                    const float *cond, int N, float *head, float *next,
                                    const qk_wavenet_scratch *scratch)
{
  switch (L->C / 4) {
  case 1: layer_q(L, x, xq, cond, N, head, next, scratch, 1); break;
  case 2: layer_q(L, x, xq, cond, N, head, next, scratch, 2); break;
  case 3: layer_q(L, x, xq, cond, N, head, next, scratch, 3); break;
  default: layer_q(L, x, xq, cond, N, head, next, scratch, 4); break;
  }
}
