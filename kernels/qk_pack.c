/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The ISA-independent half of packing: validate a weight description, copy
  its scales, zero points and value table, then let the chosen ISA lay out
  the codes in its tiles. Runs at model-prepare time (allocates).
*/
#include "qk_half.h"

#include <stdlib.h>
#include <string.h>

void *qk_aligned_calloc(size_t bytes)
{
  size_t rounded = (bytes + QK_ALIGN - 1) / QK_ALIGN * QK_ALIGN;
  if (rounded == 0)
    rounded = QK_ALIGN;
  void *p = aligned_alloc(QK_ALIGN, rounded);
  if (p)
    memset(p, 0, rounded);
  return p;
}

void qk_aligned_free(void *p) { free(p); }

/** Largest matrix side accepted: far beyond any audio model, small enough
    that rows * cols and every padded size stay well inside size_t / int. */
#define QK_MAX_DIM (1 << 16)

static const char *validate(const qk_weights *w)
{
  if (!w)
    return "no weights";
  if ((unsigned)w->format >= QK_FORMAT_COUNT)
    return "unknown weight format";
  if (w->rows <= 0 || w->cols <= 0 || w->rows > QK_MAX_DIM || w->cols > QK_MAX_DIM)
    return "matrix size out of range";
  if (qk_format_is_float(w->format)) {
    if (!w->f32)
      return "float weights missing";
    return NULL;
  }
  if (!w->codes || !w->scales)
    return "codes or scales missing";
  if (w->group < 0 || (w->group > 0 && w->group < w->cols && w->group % 16 != 0))
    return "group size must be 0 or a multiple of 16";
  if (qk_format_is_codebook(w->format)) {
    if (!w->codebook)
      return "codebook missing";
    if (w->zero_points)
      return "codebook formats take no zero point";
  }
  int lo = qk_format_min(w->format), hi = qk_format_max(w->format);
  size_t n = (size_t)w->rows * (size_t)w->cols;
  for (size_t i = 0; i < n; ++i) {
    if (w->codes[i] < lo || w->codes[i] > hi)
      return "weight code outside the format's range";
  }
  int ng = qk_group_count(w->cols, w->group);
  for (size_t i = 0; i < (size_t)w->rows * (size_t)ng; ++i) {
    if (!isfinite(w->scales[i]))
      return "non-finite scale";
  }
  if (w->zero_points && w->format != QK_S8) {
    for (size_t i = 0; i < (size_t)w->rows * (size_t)ng; ++i) {
      /* s4/s2 zero points live in the code range, like the codes */
      if (w->zero_points[i] < lo || w->zero_points[i] > hi)
        return "zero point outside the format's range";
    }
  } else if (w->zero_points) {
    for (size_t i = 0; i < (size_t)w->rows * (size_t)ng; ++i) {
      if (w->zero_points[i] < -128 || w->zero_points[i] > 127)
        return "zero point outside the format's range";
    }
  }
  return NULL;
}

static void fill_table(qk_packed *p, const qk_weights *w)
{
  memset(p->table, 0, sizeof p->table);
  switch (w->format) {
  case QK_S4:
    for (int i = 0; i < 16; ++i)
      p->table[i] = (int8_t)(i - 8);
    break;
  case QK_S2:
    for (int i = 0; i < 4; ++i)
      p->table[i] = (int8_t)(i - 2);
    break;
  case QK_CB4: memcpy(p->table, w->codebook, 16); break;
  case QK_CB2: memcpy(p->table, w->codebook, 4); break;
  default: break;
  }
}

qk_packed *qk_pack(const qk_weights *w, qk_isa isa, const char **err)
{
  const char *msg = validate(w);
  const qk_isa_ops *ops = qk_ops_for(isa);
  if (!msg && !ops)
    msg = "instruction set not available on this machine";
  qk_packed *p = NULL;
  if (!msg) {
    p = calloc(1, sizeof *p);
    if (!p)
      msg = "out of memory";
  }
  if (!msg) {
    p->format = w->format;
    p->isa = isa;
    p->rows = w->rows;
    p->cols = w->cols;
    p->group = qk_group_size(w->cols, w->group);
    p->ngroups = qk_group_count(w->cols, w->group);
    fill_table(p, w);
    if (!qk_format_is_float(w->format)) {
      size_t ns = (size_t)p->rows * (size_t)p->ngroups;
      p->scales = qk_aligned_calloc(ns * sizeof *p->scales);
      if (p->scales)
        memcpy(p->scales, w->scales, ns * sizeof *p->scales);
      if (w->zero_points) {
        p->zp = qk_aligned_calloc(ns * sizeof *p->zp);
        if (p->zp)
          memcpy(p->zp, w->zero_points, ns * sizeof *p->zp);
      }
      if (!p->scales || (w->zero_points && !p->zp))
        msg = "out of memory";
    }
    const bool half = w->format == QK_F16 || w->format == QK_BF16;
    if (!msg && (half ? qk_half_pack(p, w) : ops->pack(p, w)) != 0)
      msg = "out of memory";
  }
  if (msg) {
    qk_packed_free(p);
    p = NULL;
  }
  if (err)
    *err = msg;
  return p;
}

void qk_packed_free(qk_packed *p)
{
  if (!p)
    return;
  qk_aligned_free(p->scales);
  qk_aligned_free(p->zp);
  qk_aligned_free(p->data);
  qk_aligned_free(p->fold);
  free(p);
}

size_t qk_packed_alloc_bytes(const qk_packed *p)
{
  if (!p)
    return 0;
  const size_t slots = (size_t)p->rows * (size_t)p->ngroups;
  return sizeof *p + p->data_bytes + slots * sizeof(float) + (p->zp ? slots * sizeof(int32_t) : 0) +
         (p->fold ? slots * sizeof(int32_t) : 0);
}

qk_isa qk_packed_isa(const qk_packed *p) { return p->isa; }
qk_format qk_packed_format(const qk_packed *p) { return p->format; }
int qk_packed_rows(const qk_packed *p) { return p->rows; }
int qk_packed_cols(const qk_packed *p) { return p->cols; }
int qk_packed_group(const qk_packed *p) { return p->group; }
bool qk_packed_has_zero_points(const qk_packed *p) { return p->zp != NULL; }

size_t qk_packed_weight_bytes(const qk_packed *p)
{
  size_t n = (size_t)p->rows * (size_t)p->cols;
  if (p->format == QK_F32)
    return n * sizeof(float);
  if (p->format == QK_F16 || p->format == QK_BF16)
    return n * sizeof(uint16_t);
  size_t bytes = (n * (size_t)qk_format_bits(p->format) + 7) / 8;
  size_t ns = (size_t)p->rows * (size_t)p->ngroups;
  bytes += ns * sizeof(float);
  if (p->zp)
    bytes += ns; /* a zero point fits the code width; count a byte each */
  if (qk_format_is_codebook(p->format))
    bytes += (size_t)1 << qk_format_bits(p->format);
  return bytes;
}
