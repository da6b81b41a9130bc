/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The one place where the engine multiplies by a weight matrix. See linear.h.
*/
#include "linear.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void release_act(qm_linear *L)
{
  if (!L->act_shared) {
    free(L->act.codes);
    free(L->act.scales);
    free(L->act.sums);
  }
  memset(&L->act, 0, sizeof L->act);
  L->act_shared = false;
}

bool qm_linear_init(qm_linear *L, const char *name, int out, int in, const float *w,
                    const float *bias, qk_isa isa, int max_n, char *err, size_t errlen)
{
  memset(L, 0, sizeof *L);
  snprintf(L->name, sizeof L->name, "%s", name);
  L->in = in;
  L->out = out;
  L->max_n = max_n;
  L->src_w = w;
  L->src_b = bias;
  size_t n = (size_t)in * (size_t)out;
  L->w = malloc(n * sizeof(float));
  if (bias)
    L->bias = malloc((size_t)out * sizeof(float));
  if (!L->w || (bias && !L->bias)) {
    snprintf(err, errlen, "out of memory for %s", name);
    qm_linear_release(L);
    return false;
  }
  memcpy(L->w, w, n * sizeof(float));
  if (bias)
    memcpy(L->bias, bias, (size_t)out * sizeof(float));
  qk_weights qw = {.format = QK_F32, .rows = out, .cols = in, .f32 = L->w};
  const char *why = NULL;
  L->W = qk_pack(&qw, isa, &why);
  if (!L->W) {
    snprintf(err, errlen, "cannot pack %s (%dx%d): %s", name, out, in, why ? why : "?");
    qm_linear_release(L);
    return false;
  }
  return true;
}

void qm_linear_release(qm_linear *L)
{
  qk_packed_free(L->W);
  free(L->w);
  free(L->bias);
  free(L->bias_file);
  release_act(L);
  L->W = NULL;
  L->w = L->bias = L->bias_file = NULL;
}

void qm_linear_apply(qm_linear *L, const float *X, int ldx, int N, float *Y, int ldy,
                     unsigned flags)
{
  if (L->observe)
    L->observe(L->observe_user, L, X, ldx, N);
  switch (L->act_mode) {
  case QM_LINEAR_ACT_F32: qk_gemm_f32(L->W, X, ldx, N, L->bias, Y, ldy, flags); return;
  case QM_LINEAR_ACT_S8_DYNAMIC: qk_quantize_act_dynamic(X, ldx, L->in, N, &L->act); break;
  case QM_LINEAR_ACT_S8_STATIC:
    L->clipped += qk_quantize_act_static(X, ldx, L->in, N, L->act_scale, &L->act);
    break;
  }
  qk_gemm_s8(L->W, &L->act, N, L->bias, Y, ldy, flags);
}

void qm_linear_apply_taps(qm_linear *L, const float *x, int C, int taps, ptrdiff_t tap_stride,
                          int N, float *gather, float *Y, int ldy, unsigned flags)
{
  if (L->act_mode == QM_LINEAR_ACT_S8_DYNAMIC && !L->observe && L->in == taps * C &&
      L->in <= QK_TAPS_MAX_K) {
    qk_quantize_act_dynamic_taps(x, C, C, taps, tap_stride, N, &L->act);
    qk_gemm_s8(L->W, &L->act, N, L->bias, Y, ldy, flags);
    return;
  }
  if (L->act_mode == QM_LINEAR_ACT_F32 && !L->observe && L->in == taps * C) {
    qk_gemm_f32_taps(L->W, x, C, C, taps, tap_stride, N, gather, L->bias, Y, ldy, flags);
    return;
  }
  const size_t K = (size_t)taps * (size_t)C;
  for (int n = 0; n < N; ++n)
    for (int t = 0; t < taps; ++t)
      memcpy(gather + (size_t)n * K + (size_t)t * (size_t)C,
             x + (size_t)n * (size_t)C + (ptrdiff_t)t * tap_stride, (size_t)C * sizeof(float));
  qm_linear_apply(L, gather, (int)K, N, Y, ldy, flags);
}

/** Make L->bias_file hold the file's bias (zeros if it had none) and
    L->bias a buffer of its own for the bias apply() adds. False when out
    of memory (nothing changed). */
static bool own_bias(qm_linear *L)
{
  if (L->bias_file)
    return true;
  const size_t bytes = (size_t)L->out * sizeof(float);
  float *file = calloc((size_t)L->out, sizeof(float));
  float *bias = L->bias ? L->bias : malloc(bytes);
  if (!file || !bias) {
    free(file);
    if (bias != L->bias)
      free(bias);
    return false;
  }
  if (L->bias)
    memcpy(file, L->bias, bytes);
  L->bias_added = !L->bias;
  L->bias = bias;
  L->bias_file = file;
  return true;
}

bool qm_linear_set_bias_offset(qm_linear *L, const float *delta)
{
  const size_t bytes = (size_t)L->out * sizeof(float);
  if (!delta) {
    if (!L->bias_file)
      return true;
    if (L->bias_added) {
      free(L->bias);
      L->bias = NULL;
    } else {
      memcpy(L->bias, L->bias_file, bytes);
    }
    free(L->bias_file);
    L->bias_file = NULL;
    L->bias_added = false;
    return true;
  }
  if (!own_bias(L))
    return false;
  for (int i = 0; i < L->out; ++i)
    L->bias[i] = L->bias_file[i] + delta[i];
  return true;
}

bool qm_linear_set_bias(qm_linear *L, const float *bias)
{
  if (!bias)
    return qm_linear_set_bias_offset(L, NULL);
  if (!own_bias(L))
    return false;
  memcpy(L->bias, bias, (size_t)L->out * sizeof(float));
  return true;
}

bool qm_linear_set_packed(qm_linear *L, qk_packed *W)
{
  if (!W || qk_packed_rows(W) != L->out || qk_packed_cols(W) != L->in)
    return false;
  if (L->act_mode != QM_LINEAR_ACT_F32 && qk_format_is_float(qk_packed_format(W)))
    return false;
  qk_packed_free(L->W);
  L->W = W;
  ++L->W_gen;
  return true;
}

bool qm_linear_set_activations(qm_linear *L, qm_linear_act mode, float static_scale, int group)
{
  if (mode == QM_LINEAR_ACT_F32) {
    release_act(L);
    L->act_mode = mode;
    return true;
  }
  if (qk_format_is_float(qk_packed_format(L->W)))
    return false;
  if (mode == QM_LINEAR_ACT_S8_STATIC && !(static_scale > 0.0f))
    return false;
  release_act(L);
  int ld = qk_act_ld(L->in), ng = qk_group_count(L->in, group);
  size_t n = (size_t)L->max_n;
  L->act.codes = calloc(n * (size_t)ld, 1);
  L->act.scales = calloc(n, sizeof(float));
  L->act.sums = calloc(n * (size_t)ng, sizeof(int32_t));
  if (!L->act.codes || !L->act.scales || !L->act.sums) {
    release_act(L);
    return false;
  }
  L->act.ld = ld;
  L->act.group = group;
  L->act_mode = mode;
  L->act_scale = static_scale;
  L->clipped = 0;
  return true;
}

bool qm_linear_share_act(qm_linear *L, const qk_act_s8 *pool)
{
  if (L->act_mode == QM_LINEAR_ACT_F32 || !L->act.codes)
    return false;
  if (!L->act_shared) {
    free(L->act.codes);
    free(L->act.scales);
    free(L->act.sums);
  }
  L->act.codes = pool->codes;
  L->act.scales = pool->scales;
  L->act.sums = pool->sums;
  L->act_shared = true;
  return true;
}

size_t qm_linear_weight_bytes(const qm_linear *L)
{
  return qk_packed_weight_bytes(L->W) + (L->bias ? (size_t)L->out * sizeof(float) : 0);
}
