/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
#include "tr_osc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t tr_qat_weight_count(const tr_model *m)
{
  size_t n = 0;
  for (int i = 0; i < m->n_tensors; ++i)
    n += (size_t)m->tensors[i].rows * (size_t)m->tensors[i].cols;
  return n;
}

size_t tr_qat_row_count(const tr_model *m)
{
  size_t n = 0;
  for (int i = 0; i < m->n_tensors; ++i)
    n += (size_t)m->tensors[i].rows;
  return n;
}

/** The largest tensor's cell count: one scratch buffer serves them all. */
static size_t largest_tensor(const tr_model *m)
{
  size_t n = 0;
  for (int i = 0; i < m->n_tensors; ++i) {
    const size_t c = (size_t)m->tensors[i].rows * (size_t)m->tensors[i].cols;
    n = c > n ? c : n;
  }
  return n;
}

bool tr_qat_codes(const tr_model *m, const qz_scheme *s, const tr_lsq *lsq, const float *p,
                  int8_t *codes, float *steps, char *err, size_t errlen)
{
  if (!lsq && (s->mapping != QZ_LINEAR || s->asymmetric || s->granularity != QZ_PER_CHANNEL)) {
    snprintf(err, errlen, "weight codes are counted for linear symmetric per-channel schemes");
    return false;
  }
  float *w = malloc(largest_tensor(m) * sizeof *w);
  if (!w)
    abort();
  size_t at = 0, row = 0;
  for (int i = 0; i < m->n_tensors; ++i) {
    const tr_tensor *t = &m->tensors[i];
    const size_t cells = (size_t)t->rows * (size_t)t->cols;
    tr_tensor_get(t, p, w);
    if (lsq) {
      for (int r = 0; r < t->rows; ++r) {
        const float st = lsq->s[lsq->first[i] + (size_t)r];
        steps[row + (size_t)r] = st;
        for (int c = 0; c < t->cols; ++c) {
          const size_t k = (size_t)r * t->cols + c;
          codes[at + k] = (int8_t)qz_linear_code(w[k], st, 0, -lsq->qp, lsq->qp, NULL);
        }
      }
    } else {
      qz_tensor z;
      if (!qz_quantize(w, t->rows, t->cols, s, &z, err, errlen)) {
        qz_tensor_free(&z);
        free(w);
        return false;
      }
      memcpy(codes + at, z.codes, cells * sizeof *codes);
      memcpy(steps + row, z.scales, (size_t)t->rows * sizeof *steps);
      qz_tensor_free(&z);
    }
    at += cells;
    row += (size_t)t->rows;
  }
  free(w);
  return true;
}

void tr_qat_dequant_codes(const tr_model *m, const int8_t *codes, const float *steps, float *pe)
{
  float *w = malloc(largest_tensor(m) * sizeof *w);
  if (!w)
    abort();
  size_t at = 0, row = 0;
  for (int i = 0; i < m->n_tensors; ++i) {
    const tr_tensor *t = &m->tensors[i];
    for (int r = 0; r < t->rows; ++r)
      for (int c = 0; c < t->cols; ++c) {
        const size_t k = (size_t)r * t->cols + c;
        w[k] = steps[row + (size_t)r] * (float)codes[at + k];
      }
    tr_tensor_set(t, pe, w);
    at += (size_t)t->rows * t->cols;
    row += (size_t)t->rows;
  }
  free(w);
}

size_t tr_qat_rows_below_top(const tr_model *m, const int8_t *codes, int qp)
{
  size_t below = 0, at = 0;
  for (int i = 0; i < m->n_tensors; ++i) {
    const tr_tensor *t = &m->tensors[i];
    for (int r = 0; r < t->rows; ++r) {
      int top = 0;
      for (int c = 0; c < t->cols; ++c) {
        const int a = abs(codes[at + (size_t)r * t->cols + c]);
        top = a > top ? a : top;
      }
      below += top > 0 && top < qp;
    }
    at += (size_t)t->rows * t->cols;
  }
  return below;
}

bool tr_osc_init(tr_osc *o, size_t n_weights)
{
  memset(o, 0, sizeof *o);
  o->n = n_weights;
  o->prev = malloc(n_weights ? n_weights : 1);
  o->prev2 = malloc(n_weights ? n_weights : 1);
  if (!o->prev || !o->prev2) {
    tr_osc_free(o);
    return false;
  }
  return true;
}

void tr_osc_free(tr_osc *o)
{
  free(o->prev);
  free(o->prev2);
  memset(o, 0, sizeof *o);
}

void tr_osc_epoch(tr_osc *o, const int8_t *codes, size_t *changed, size_t *back)
{
  size_t ch = 0, bk = 0;
  if (o->seen >= 1)
    for (size_t i = 0; i < o->n; ++i)
      if (codes[i] != o->prev[i]) {
        ch++;
        bk += o->seen >= 2 && codes[i] == o->prev2[i];
      }
  /* rotate: prev2 <- prev <- codes */
  int8_t *spare = o->prev2;
  o->prev2 = o->prev;
  o->prev = spare;
  memcpy(o->prev, codes, o->n);
  if (o->seen < 2)
    o->seen++;
  *changed = ch;
  *back = bk;
}

double tr_dampen(const tr_model *m, const float *p, const int8_t *codes, const float *steps, int qp,
                 double lambda, float *g)
{
  const size_t big = largest_tensor(m);
  float *w = malloc(big * sizeof *w), *gw = malloc(big * sizeof *gw);
  if (!w || !gw)
    abort();
  double r_sum = 0.0;
  size_t at = 0, row = 0;
  for (int i = 0; i < m->n_tensors; ++i) {
    const tr_tensor *t = &m->tensors[i];
    tr_tensor_get(t, p, w);
    tr_tensor_get(t, g, gw);
    for (int r = 0; r < t->rows; ++r) {
      const float st = steps[row + (size_t)r];
      for (int c = 0; c < t->cols; ++c) {
        const size_t k = (size_t)r * t->cols + c;
        /** v as the encoder computes it, so "beyond the grid" agrees with
            LSQ's clipped weights; a zero step (an all-zero row) has no bins. */
        const float v = st > 0.0f ? w[k] / st : 0.0f;
        if (!(st > 0.0f) || v <= (float)-qp || v >= (float)qp)
          continue;
        const double d = (double)w[k] - (double)st * codes[at + k];
        r_sum += d * d;
        gw[k] += (float)(2.0 * lambda * d);
      }
    }
    tr_tensor_set(t, g, gw);
    at += (size_t)t->rows * t->cols;
    row += (size_t)t->rows;
  }
  free(w);
  free(gw);
  return lambda * r_sum;
}

double tr_dampen_weight(double w, int ramp, int ep)
{
  if (ramp <= 1)
    return w;
  const double f = (double)(ep + 1) / (double)ramp;
  return w * (f < 1.0 ? f : 1.0);
}
