/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
#include "tr_lsq.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** Index in the flat vector of element (r, c) of t (engine orientation). */
static size_t elem(const tr_tensor *t, int r, int c)
{
  if (t->taps > 1) {
    const int in = t->cols / t->taps;
    return t->off + ((size_t)r * in + (size_t)(c % in)) * t->taps + (size_t)(c / in);
  }
  return t->off + (size_t)r * t->stride + (size_t)c;
}

bool tr_lsq_init(tr_lsq *q, const tr_model *m, const qz_scheme *scheme, const float *p, char *err,
                 size_t errlen)
{
  memset(q, 0, sizeof *q);
  if (scheme->mapping != QZ_LINEAR || scheme->asymmetric || scheme->granularity != QZ_PER_CHANNEL) {
    snprintf(err, errlen,
             "LSQ learns one step per output channel on linear symmetric codes: "
             "use a scheme like 4 or 2:linear:sym:channel");
    return false;
  }
  q->qp = (1 << (scheme->bits - 1)) - 1;
  q->n_tensors = m->n_tensors;
  q->first = malloc(((size_t)m->n_tensors + 1) * sizeof *q->first);
  if (!q->first)
    abort();
  for (int i = 0; i < m->n_tensors; ++i) {
    q->first[i] = q->n;
    q->n += (size_t)m->tensors[i].rows;
  }
  q->first[m->n_tensors] = q->n;
  q->s = malloc(q->n * sizeof *q->s);
  if (!q->s)
    abort();
  for (int i = 0; i < m->n_tensors; ++i) {
    const tr_tensor *t = &m->tensors[i];
    float *w = malloc((size_t)t->rows * t->cols * sizeof *w);
    if (!w)
      abort();
    tr_tensor_get(t, p, w);
    qz_tensor z;
    const bool ok = qz_quantize(w, t->rows, t->cols, scheme, &z, err, errlen);
    free(w);
    if (!ok) {
      qz_tensor_free(&z);
      tr_lsq_free(q);
      return false;
    }
    for (int r = 0; r < t->rows; ++r)
      q->s[q->first[i] + r] = z.scales[r];
    qz_tensor_free(&z);
  }
  tr_lsq_clamp(q);
  return true;
}

void tr_lsq_free(tr_lsq *q)
{
  free(q->s);
  free(q->first);
  memset(q, 0, sizeof *q);
}

void tr_lsq_clamp(tr_lsq *q)
{
  /** An all-zero row gives scale 0; a step must stay positive for w / s. */
  for (size_t i = 0; i < q->n; ++i)
    if (!(q->s[i] > 1e-8f))
      q->s[i] = 1e-8f;
}

void tr_lsq_forward(const tr_lsq *q, const tr_model *m, const float *p, float *pe)
{
  memcpy(pe, p, m->n_params * sizeof *pe);
  for (int i = 0; i < m->n_tensors; ++i) {
    const tr_tensor *t = &m->tensors[i];
    for (int r = 0; r < t->rows; ++r) {
      const float s = q->s[q->first[i] + r];
      for (int c = 0; c < t->cols; ++c) {
        const size_t k = elem(t, r, c);
        pe[k] = s * (float)qz_linear_code(p[k], s, 0, -q->qp, q->qp, NULL);
      }
    }
  }
}

void tr_lsq_backward(const tr_lsq *q, const tr_model *m, const float *p, float *g, float *gs,
                     bool gscale)
{
  for (int i = 0; i < m->n_tensors; ++i) {
    const tr_tensor *t = &m->tensors[i];
    const double scale = gscale ? 1.0 / sqrt((double)t->cols * q->qp) : 1.0;
    for (int r = 0; r < t->rows; ++r) {
      const float s = q->s[q->first[i] + r];
      double sum = 0.0;
      for (int c = 0; c < t->cols; ++c) {
        const size_t k = elem(t, r, c);
        /** v as the encoder computes it (float division), so "clipped"
            here is clipped there. */
        const float v = p[k] / s;
        if (v <= (float)-q->qp) {
          sum -= (double)q->qp * g[k];
          g[k] = 0.0f;
        } else if (v >= (float)q->qp) {
          sum += (double)q->qp * g[k];
          g[k] = 0.0f;
        } else {
          sum += ((double)rintf(v) - (double)v) * g[k];
        }
      }
      gs[q->first[i] + r] = (float)(sum * scale);
    }
  }
}
