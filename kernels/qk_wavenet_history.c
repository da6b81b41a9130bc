/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  A WaveNet layer's int8 history in any of its layouts (qk.h): the
  generic columns of ld >= qk_act_ld(C), a fused form's narrower columns,
  and the paired columns of AVX-512 VNNI's 8-channel form. The model fills
  a history through here when it rebuilds one from floats (a state copy,
  a prewarm restored), reads codes back and clears it, so that it never
  depends on a layout; the layer's own calls write it with their ISA's
  quantizer. Portable C: none of this runs per sample.
*/
#include "qk_internal.h"

#include <string.h>

/** Bytes of a paired column: two quads of two frames. */
#define PAIRED_LD 16

/** Frame f's quad j (codes 4j .. 4j+3) as unsigned operand bytes (code + 128). */
static void quad_u(const int8_t *codes, int j, uint8_t u[4])
{
  for (int i = 0; i < 4; ++i)
    u[i] = (uint8_t)((uint8_t)codes[4 * j + i] ^ 0x80u);
}

void qk_wavenet_history_set_codes(const qk_act_s8 *h, int C, int n, bool complete_previous,
                                  const int8_t *codes)
{
  if (!h->paired) {
    int8_t *col = h->codes + (size_t)n * (size_t)h->ld;
    memcpy(col, codes, (size_t)C);
    memset(col + C, 0, (size_t)(h->ld - C));
    return;
  }
  uint8_t *col = (uint8_t *)h->codes + (size_t)n * PAIRED_LD;
  for (int j = 0; j < 2; ++j) {
    uint8_t u[4];
    quad_u(codes, j, u);
    memcpy(col + 8 * j, u, 4);
    memcpy(col + 8 * j + 4, u, 4);
    if (complete_previous)
      memcpy(col - PAIRED_LD + 8 * j + 4, u, 4);
  }
}

void qk_wavenet_history_quantize(const float *x, int C, int n, const qk_act_s8 *h)
{
  if (!h->paired) {
    /* the scalar quantizer writes exactly ld bytes per column, narrow or
       not, with the bits of every ISA's */
    qk_act_s8 out = *h;
    qk_quantize_act_dynamic_isa(QK_ISA_SCALAR, x, C, C, n, &out);
    return;
  }
  int8_t column[64];
  for (int f = 0; f < n; ++f) {
    qk_act_s8 one = {.codes = column,
                     .ld = qk_act_ld(C),
                     .scales = h->scales + f,
                     .per_column = true,
                     .sums = h->sums ? h->sums + f : NULL,
                     .group = 0};
    qk_quantize_act_dynamic_isa(QK_ISA_SCALAR, x + (size_t)f * (size_t)C, C, C, 1, &one);
    qk_wavenet_history_set_codes(h, C, f, f > 0, column);
  }
}

void qk_wavenet_history_codes(const qk_act_s8 *h, int C, int n, int8_t *codes)
{
  if (!h->paired) {
    memcpy(codes, h->codes + (size_t)n * (size_t)h->ld, (size_t)C);
    return;
  }
  const uint8_t *col = (const uint8_t *)h->codes + (size_t)n * PAIRED_LD;
  for (int j = 0; j < 2; ++j)
    for (int i = 0; i < 4; ++i)
      codes[4 * j + i] = (int8_t)(col[8 * j + i] ^ 0x80u);
}

void qk_wavenet_history_clear(const qk_act_s8 *h, int n)
{
  memset(h->codes, h->paired ? 0x80 : 0, (size_t)n * (size_t)h->ld);
  memset(h->scales, 0, (size_t)n * sizeof(float));
  if (h->sums)
    memset(h->sums, 0, (size_t)n * sizeof(int32_t));
}
