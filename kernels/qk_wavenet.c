/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
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

/** An integer matrix of rows x cols packed for isa, scale groups of a multiple of `unit` k. */
static bool int_groups_of(const qk_packed *W, int rows, int cols, int unit, qk_isa isa)
{
  return W && !qk_format_is_float(qk_packed_format(W)) && qk_packed_isa(W) == isa &&
         qk_packed_rows(W) == rows && qk_packed_cols(W) == cols && qk_packed_group(W) % unit == 0;
}

/** An integer matrix of rows x cols, one scale group per row, packed for isa. */
static bool one_group_int(const qk_packed *W, int rows, int cols, qk_isa isa)
{
  return int_groups_of(W, rows, cols, cols, isa);
}

/** A nonlinearity qk.h defines, with what its kind needs. */
static bool act_valid(const qk_wavenet_act *act)
{
  return act->kind >= QK_WN_TANH && act->kind < QK_WN_ACT_COUNT &&
         (act->kind != QK_WN_PRELU || act->slopes);
}

bool qk_wavenet_layer_s8_valid(const qk_wavenet_layer *L)
{
  const int C = L->C, B = qk_wavenet_bottleneck(L);
  if (C < 1 || L->bottleneck < 0 || L->taps < 1 || L->dilation < 0 || L->taps > QK_TAPS_MAX_K / C ||
      !L->mixin || !L->conv || !act_valid(&L->act))
    return false;
  const qk_isa isa = qk_packed_isa(L->conv);
  /* conv groups of any size (qk.h: a tap is one piece or more) */
  if (!int_groups_of(L->conv, B, L->taps * C, 1, isa) || !one_group_int(L->w1x1, C, B, isa))
    return false;
  /* per-tap slices hold one group per row: a tap of two pieces has none */
  if (L->conv_taps && qk_wavenet_straddles(L))
    return false;
  for (int t = 0; L->conv_taps && t < L->taps; ++t)
    if (!one_group_int(L->conv_taps[t], B, C, isa) ||
        qk_packed_has_zero_points(L->conv_taps[t]) != qk_packed_has_zero_points(L->conv))
      return false;
  return true;
}

/** z (+)= W_t x_t for tap t: the slice on the history itself, or padded columns. */
static void conv_tap(const qk_isa_ops *ops, const qk_wavenet_layer *L, int t, const qk_act_s8 *xq,
                     int N, qk_act_s8 *col, float *z)
{
  const int C = L->C, B = qk_wavenet_bottleneck(L);
  const ptrdiff_t back = (ptrdiff_t)L->dilation * (L->taps - 1 - t);
  const float *bias = t ? NULL : L->conv_bias;
  const unsigned flags = t ? QK_ACCUMULATE : 0;
  if (L->conv_taps) {
    const qk_act_s8 view = qk_act_columns_from(xq, -back, 1);
    ops->gemm_s8(L->conv_taps[t], &view, N, bias, z, B, flags);
    return;
  }
  /* the column's group sums: the tap's code sum in its group, 0 in the
     others; a tap of pieces (qk.h) gets each piece's code sum in its group */
  const int ng = qk_group_count(L->taps * C, qk_packed_group(L->conv));
  const int g = qk_wavenet_tap_group(L, t), G = qk_packed_group(L->conv);
  const bool pieces = qk_wavenet_tap_pieces(L, t) > 1;
  for (int n = 0; n < N; ++n) {
    const ptrdiff_t f = n - back;
    int8_t *c = col->codes + (size_t)n * (size_t)col->ld;
    memset(c, 0, (size_t)col->ld);
    memcpy(c + (size_t)t * (size_t)C, xq->codes + f * xq->ld, (size_t)C);
    col->scales[n] = xq->scales[f];
    int32_t *sums = col->sums + (size_t)n * (size_t)ng;
    memset(sums, 0, (size_t)ng * sizeof *sums);
    if (!pieces)
      sums[g] = xq->sums[f];
    for (int k = t * C; pieces && k < t * C + C; ++k)
      sums[k / G] += c[k];
  }
  col->per_column = true;
  col->group = ng > 1 ? qk_packed_group(L->conv) : 0;
  ops->gemm_s8(L->conv, col, N, bias, z, B, flags);
}

/*
  The piecewise-linear kinds, written as NAM writes them (qk.h). The
  kernels are built with -ffp-contract=off, so (z - lo) * slope + lo stays
  two roundings here as in every SIMD form.
*/
static float act_value(const qk_wavenet_act *act, float z, int m)
{
  switch (act->kind) {
  case QK_WN_RELU: return z > 0.0f ? z : 0.0f;
  case QK_WN_LEAKY_RELU: return z > 0.0f ? z : act->slope * z;
  case QK_WN_PRELU: return z > 0.0f ? z : act->slopes[m] * z;
  case QK_WN_HARDTANH: {
    const float t = z < -1.0f ? -1.0f : z;
    return t > 1.0f ? 1.0f : t;
  }
  case QK_WN_LEAKY_HARDTANH:
    if (z < act->min_val)
      return (z - act->min_val) * act->min_slope + act->min_val;
    if (z > act->max_val)
      return (z - act->max_val) * act->max_slope + act->max_val;
    return z;
  default: return z; /* QK_WN_IDENTITY */
  }
}

void qk_wavenet_act_apply(const qk_wavenet_act *act, float *a, const float *z, int B, int N)
{
  for (int n = 0; n < N; ++n)
    for (int m = 0; m < B; ++m)
      a[(size_t)n * (size_t)B + (size_t)m] =
          act_value(act, z[(size_t)n * (size_t)B + (size_t)m], m);
}

void qk_wavenet_layer_s8_steps(const qk_wavenet_layer *L, const float *x, const qk_act_s8 *xq,
                               const float *cond, int N, float *head, float *next,
                               const qk_wavenet_scratch *scratch)
{
  if (N <= 0)
    return;
  const qk_isa_ops *ops = layer_ops(L);
  const int C = L->C, B = qk_wavenet_bottleneck(L), taps = L->taps;
  const size_t nc = (size_t)N * (size_t)C, nb = (size_t)N * (size_t)B;
  float *z = scratch->z;
  qk_act_s8 frames = *xq;

  /* this call's frames into the int8 history */
  qk_act_quantize_dynamic(ops, x, C, C, N, &frames);

  /* the conv, one tap at a time (columns holding that tap's codes only) */
  for (int t = 0; t < taps; ++t)
    conv_tap(ops, L, t, xq, N, scratch->conv_act, z);
  for (int n = 0; n < N; ++n) {
    const float c = cond[n];
    float *zn = z + (size_t)n * (size_t)B;
    for (int i = 0; i < B; ++i)
      zn[i] += L->mixin[i] * c;
  }
  if (L->act.kind == QK_WN_TANH)
    ops->tanh_int8(z, z, nb);
  else
    qk_wavenet_act_apply(&L->act, z, z, B, N);
  for (size_t i = 0; i < nb; ++i)
    head[i] += z[i];
  memcpy(next, x, nc * sizeof(float));
  qk_act_quantize_dynamic(ops, z, B, B, N, scratch->act_1x1);
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
  if (scratch->next_quantized)
    *scratch->next_quantized = false; /* unless a fused form says otherwise */
  if (N <= 0)
    return;
  /* prepared weights exist only for a layer prepare() found fusable: skip
     checking that again on every call */
  if (L->prepared || qk_wavenet_layer_s8_fused(L))
    layer_ops(L)->wavenet_layer_s8(L, x, xq, cond, N, head, next, scratch);
  else
    qk_wavenet_layer_s8_steps(L, x, xq, cond, N, head, next, scratch);
}

bool qk_wavenet_layer_s8_chains(const qk_wavenet_layer *L)
{
  const qk_isa_ops *ops = layer_ops(L);
  return ops->wavenet_chains && qk_wavenet_layer_s8_fused(L) && ops->wavenet_chains(L);
}

size_t qk_wavenet_layer_s8_prepared_size(const qk_wavenet_layer *L)
{
  return qk_wavenet_layer_s8_fused(L) ? layer_ops(L)->wavenet_prepared_size(L) : 0;
}

int qk_wavenet_layer_s8_history_ld(const qk_wavenet_layer *L)
{
  const qk_isa_ops *ops = layer_ops(L);
  if (!ops->wavenet_history_ld || !qk_wavenet_layer_s8_fused(L))
    return qk_act_ld(L->C);
  return ops->wavenet_history_ld(L);
}

bool qk_wavenet_layer_s8_history_paired(const qk_wavenet_layer *L)
{
  const qk_isa_ops *ops = layer_ops(L);
  return ops->wavenet_history_paired && qk_wavenet_layer_s8_fused(L) &&
         ops->wavenet_history_paired(L);
}

void qk_wavenet_layer_s8_prepare(const qk_wavenet_layer *L, void *mem)
{
  if (qk_wavenet_layer_s8_fused(L))
    layer_ops(L)->wavenet_prepare(L, mem);
}

qk_wavenet_s8_frame_fn qk_wavenet_layer_s8_frame_form(const qk_wavenet_layer *L)
{
  if (!L->prepared || !qk_wavenet_layer_s8_fused(L))
    return NULL;
  const qk_isa_ops *ops = layer_ops(L);
  return ops->wavenet_layer_s8_frame_form ? ops->wavenet_layer_s8_frame_form(L) : NULL;
}

qk_wavenet_f32_frame_fn qk_wavenet_layer_f32_frame_form(const qk_wavenet_layer *L)
{
  const qk_isa_ops *ops = L->conv ? qk_ops_for(qk_packed_isa(L->conv)) : NULL;
  return ops && ops->wavenet_layer_f32_frame && ops->wavenet_layer_f32_frame_fits(L)
             ? ops->wavenet_layer_f32_frame
             : NULL;
}
