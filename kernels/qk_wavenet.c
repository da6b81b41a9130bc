/*
  The int8 WaveNet layer's entry points (qk.h): the step-by-step
  composition that defines the result, and the dispatch to an ISA's fused
  form when it has one for the layer.
*/
#include "qk_internal.h"

#include <string.h>

/** The ISA the layer's weights were packed for (scalar if it cannot run here). */
static const qk_isa_ops *layer_ops(const qk_wavenet_layer *L)
{
  const qk_isa_ops *ops = qk_ops_for(qk_packed_isa(L->conv));
  return ops ? ops : &qk_ops_scalar;
}

bool qk_wavenet_layer_s8_valid(const qk_wavenet_layer *L)
{
  const qk_packed *cv = L->conv, *w1 = L->w1x1;
  const int C = L->C;
  return C >= 1 && L->taps >= 1 && L->dilation >= 0 && L->taps * C <= QK_TAPS_MAX_K && cv &&
         w1 && L->mixin && qk_packed_format(cv) != QK_F32 && qk_packed_format(w1) != QK_F32 &&
         qk_packed_isa(cv) == qk_packed_isa(w1) && qk_packed_rows(cv) == C &&
         qk_packed_cols(cv) == L->taps * C && qk_packed_rows(w1) == C &&
         qk_packed_cols(w1) == C && qk_packed_group(cv) == L->taps * C &&
         qk_packed_group(w1) == C;
}

void qk_wavenet_layer_s8_steps(const qk_wavenet_layer *L, const float *x, const qk_act_s8 *xq,
                               const float *cond, int N, float *head, float *next,
                               const qk_wavenet_scratch *scratch)
{
  if (N <= 0)
    return;
  const qk_isa_ops *ops = layer_ops(L);
  const int C = L->C, taps = L->taps;
  const size_t nc = (size_t)N * (size_t)C;
  float *z = scratch->z;
  qk_act_s8 *col = scratch->conv_act;
  qk_act_s8 frames = *xq;

  /* this call's frames into the int8 history */
  qk_act_quantize_dynamic(ops, x, C, C, N, &frames);

  /* the conv, one tap at a time: columns holding that tap's codes only */
  col->per_column = true;
  for (int t = 0; t < taps; ++t) {
    const ptrdiff_t back = (ptrdiff_t)L->dilation * (taps - 1 - t);
    for (int n = 0; n < N; ++n) {
      const ptrdiff_t f = n - back;
      int8_t *c = col->codes + (size_t)n * (size_t)col->ld;
      memset(c, 0, (size_t)col->ld);
      memcpy(c + (size_t)t * (size_t)C, xq->codes + f * xq->ld, (size_t)C);
      col->scales[n] = xq->scales[f];
      col->sums[n] = xq->sums[f];
    }
    ops->gemm_s8(L->conv, col, N, t ? NULL : L->conv_bias, z, C, t ? QK_ACCUMULATE : 0);
  }
  for (int n = 0; n < N; ++n) {
    const float c = cond[n];
    float *zn = z + (size_t)n * (size_t)C;
    for (int i = 0; i < C; ++i)
      zn[i] += L->mixin[i] * c;
  }
  ops->tanh(z, z, nc);
  for (size_t i = 0; i < nc; ++i)
    head[i] += z[i];
  memcpy(next, x, nc * sizeof(float));
  qk_act_quantize_dynamic(ops, z, C, C, N, scratch->act_1x1);
  ops->gemm_s8(L->w1x1, scratch->act_1x1, N, L->bias1x1, next, C, QK_ACCUMULATE);
}

bool qk_wavenet_layer_s8_fused(const qk_wavenet_layer *L)
{
  const qk_isa_ops *ops = layer_ops(L);
  return ops->wavenet_layer_fusable && qk_wavenet_layer_s8_valid(L) &&
         ops->wavenet_layer_fusable(L);
}

void qk_wavenet_layer_s8(const qk_wavenet_layer *L, const float *x, const qk_act_s8 *xq,
                         const float *cond, int N, float *head, float *next,
                         const qk_wavenet_scratch *scratch)
{
  if (N <= 0)
    return;
  if (qk_wavenet_layer_s8_fused(L))
    layer_ops(L)->wavenet_layer_s8(L, x, xq, cond, N, head, next, scratch);
  else
    qk_wavenet_layer_s8_steps(L, x, xq, cond, N, head, next, scratch);
}
