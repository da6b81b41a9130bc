/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Activation quantization drivers, the same for every instruction set: the
  per-column scale logic of qk.h written once, on top of the two per-ISA
  primitives of qk_isa_ops (column_amax, quantize_column). The drivers run
  once per column; the primitives carry the per-element work.
*/
#include "qk_internal.h"

int qk_act_ld(int K)
{
  /* 64-byte columns: one zmm of codes, whole VNNI/sdot steps, no tails. */
  return (K + 63) / 64 * 64;
}

/** Group sums of column n, or NULL when the caller wants none. */
static inline int32_t *column_sums(const qk_act_s8 *out, int n, int ng)
{
  return out->sums ? out->sums + (size_t)n * (size_t)ng : NULL;
}

static inline int8_t *column_codes(const qk_act_s8 *out, int n)
{
  return out->codes + (size_t)n * (size_t)out->ld;
}

void qk_act_quantize_dynamic(const qk_isa_ops *ops, const float *x, int ldx, int K, int N,
                             qk_act_s8 *out)
{
  if (ops->quantize_dynamic && ops->quantize_dynamic(x, ldx, K, N, out))
    return;
  const int ng = qk_group_count(K, out->group);
  out->per_column = true;
  for (int n = 0; n < N; ++n) {
    const float *col = x + (size_t)n * (size_t)ldx;
    const float amax = ops->column_amax(col, K);
    float scale = 0.0f, inv = 0.0f;
    if (amax > 0.0f && isfinite(amax)) {
      scale = amax / 127.0f;
      inv = 127.0f / amax;
    }
    out->scales[n] = scale;
    ops->quantize_column(col, K, inv, column_codes(out, n), out->ld, column_sums(out, n, ng),
                         out->group);
  }
}

void qk_act_quantize_dynamic_taps(const qk_isa_ops *ops, const float *x, int ldx, int C, int taps,
                                  ptrdiff_t tap_stride, int N, qk_act_s8 *out)
{
  if (ops->quantize_dynamic_taps && ops->quantize_dynamic_taps(x, ldx, C, taps, tap_stride, N, out))
    return;
  /* Generic: gather as many columns as the buffer holds, then the dynamic
     driver (and the ISA's block quantizer) on them; per column, so the
     chunking changes nothing. */
  const int K = taps * C, ng = qk_group_count(K, out->group);
  float buf[QK_TAPS_MAX_K];
  const int per = QK_TAPS_MAX_K / K;
  out->per_column = true;
  for (int n0 = 0; n0 < N; n0 += per) {
    const int cnt = N - n0 < per ? N - n0 : per;
    for (int n = 0; n < cnt; ++n) {
      const float *xn = x + (size_t)(n0 + n) * (size_t)ldx;
      float *dst = buf + (size_t)n * (size_t)K;
      /* plain loop, not memcpy: pieces are a few floats, a libc call each
         would cost more than the copy */
      for (int t = 0; t < taps; ++t) {
        const float *src = xn + (ptrdiff_t)t * tap_stride;
        for (int c = 0; c < C; ++c)
          dst[t * C + c] = src[c];
      }
    }
    qk_act_s8 view = qk_act_columns_from(out, n0, ng);
    qk_act_quantize_dynamic(ops, buf, K, K, cnt, &view);
  }
}

size_t qk_act_quantize_static(const qk_isa_ops *ops, const float *x, int ldx, int K, int N,
                              float scale, qk_act_s8 *out)
{
  const int ng = qk_group_count(K, out->group);
  const float inv = 1.0f / scale;
  size_t clipped = 0;
  out->per_column = false;
  out->scales[0] = scale;
  for (int n = 0; n < N; ++n)
    clipped += ops->quantize_column(x + (size_t)n * (size_t)ldx, K, inv, column_codes(out, n),
                                    out->ld, column_sums(out, n, ng), out->group);
  return clipped;
}

void qk_act_group_sums(const int8_t *codes, int K, int group, int32_t *sums)
{
  const int ng = qk_group_count(K, group), G = qk_group_size(K, group);
  for (int g = 0; g < ng; ++g) {
    int32_t s = 0;
    for (int k = g * G; k < K && k < (g + 1) * G; ++k)
      s += codes[k];
    sums[g] = s;
  }
}

void qk_dequantize_act(const qk_act_s8 *q, int K, int N, float *x, int ldx)
{
  for (int n = 0; n < N; ++n) {
    float s = q->per_column ? q->scales[n] : q->scales[0];
    const int8_t *c = q->codes + (size_t)n * (size_t)q->ld;
    for (int k = 0; k < K; ++k)
      x[(size_t)n * (size_t)ldx + (size_t)k] = (float)c[k] * s;
  }
}
