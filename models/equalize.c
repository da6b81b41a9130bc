/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Cross-layer equalization; see equalize.h for where it applies, the
  scale rules and why powers of two.
*/
#include "equalize.h"

#include "arch_registry.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void qm_eq_groups_free(qm_eq_group *groups, int n)
{
  for (int i = 0; i < n; ++i) {
    free(groups[i].writers);
    free(groups[i].readers);
  }
  free(groups);
}

qm_eq_group *qm_eq_group_new(qm_eq_group **groups, int *count, int n, int max_writers,
                             int max_readers)
{
  qm_eq_group *g = realloc(*groups, (size_t)(*count + 1) * sizeof *g);
  if (!g)
    return NULL;
  *groups = g;
  g = &g[(*count)++];
  memset(g, 0, sizeof *g);
  g->n = n;
  g->writers = malloc((size_t)max_writers * sizeof *g->writers);
  g->readers = malloc((size_t)max_readers * sizeof *g->readers);
  return g->writers && g->readers ? g : NULL;
}

bool qm_eq_groups(const qm_model *m, qm_eq_group **groups, int *n)
{
  *groups = NULL;
  *n = 0;
  if (!m->ops->equalization_groups)
    return true;
  if (m->ops->equalization_groups(m, groups, n))
    return true;
  qm_eq_groups_free(*groups, *n);
  *groups = NULL;
  *n = 0;
  return false;
}

void qm_equalization_free(qm_equalization *eq)
{
  for (int i = 0; eq->w && i < eq->n_linears; ++i) {
    free(eq->w[i]);
    free(eq->bias[i]);
  }
  free(eq->w);
  free(eq->bias);
  memset(eq, 0, sizeof *eq);
}

const float *qm_eq_weights(const qm_model *m, const qm_equalization *eq, int i)
{
  return eq && eq->w && eq->w[i] ? eq->w[i] : m->linears[i]->w;
}

/** Linear i's equalized copy, made on first use. */
static bool touch(const qm_model *m, qm_equalization *eq, int i)
{
  if (eq->w[i])
    return true;
  const qm_linear *L = m->linears[i];
  const size_t nw = (size_t)L->out * (size_t)L->in;
  eq->w[i] = malloc(nw * sizeof(float));
  eq->bias[i] = malloc((size_t)L->out * sizeof(float));
  if (!eq->w[i] || !eq->bias[i])
    return false;
  memcpy(eq->w[i], L->w, nw * sizeof(float));
  /* the file's bias: a corrected one of an earlier variant is not it */
  const float *b = L->bias_file ? L->bias_file : L->bias;
  for (int o = 0; o < L->out; ++o)
    eq->bias[i][o] = b ? b[o] : 0.0f;
  return true;
}

/** Largest |w| of channel c's writer rows (*r_w) and reader columns (*r_r). */
static void channel_ranges(const qm_model *m, const qm_equalization *eq, const qm_eq_group *g,
                           int c, double *r_w, double *r_r)
{
  double w_max = 0.0, r_max = 0.0;
  for (int j = 0; j < g->n_writers; ++j) {
    const qm_linear *L = m->linears[g->writers[j].linear];
    const float *row = qm_eq_weights(m, eq, g->writers[j].linear) +
                       (size_t)(g->writers[j].offset + c) * (size_t)L->in;
    for (int k = 0; k < L->in; ++k)
      w_max = fmax(w_max, fabs(row[k]));
  }
  for (int j = 0; j < g->n_readers; ++j) {
    const qm_eq_reader *rd = &g->readers[j];
    const qm_linear *L = m->linears[rd->linear];
    const float *w = qm_eq_weights(m, eq, rd->linear);
    for (int o = 0; o < L->out; ++o)
      for (int t = 0; t < rd->taps; ++t)
        r_max = fmax(r_max, fabs(w[(size_t)o * L->in + (size_t)t * rd->stride + rd->offset + c]));
  }
  *r_w = w_max;
  *r_r = r_max;
}

/** x_c -> x_c / s: writer rows and biases divided by s, reader columns
    times s (both exact for s = 2^e: ldexpf). */
static void scale_channel(const qm_model *m, qm_equalization *eq, const qm_eq_group *g, int c,
                          double s, bool pow2)
{
  const int e = pow2 ? ilogb(s) : 0;
  for (int j = 0; j < g->n_writers; ++j) {
    const int i = g->writers[j].linear;
    const qm_linear *L = m->linears[i];
    const int o = g->writers[j].offset + c;
    float *row = eq->w[i] + (size_t)o * (size_t)L->in;
    for (int k = 0; k < L->in; ++k)
      row[k] = pow2 ? ldexpf(row[k], -e) : (float)(row[k] / s);
    eq->bias[i][o] = pow2 ? ldexpf(eq->bias[i][o], -e) : (float)(eq->bias[i][o] / s);
  }
  for (int j = 0; j < g->n_readers; ++j) {
    const qm_eq_reader *rd = &g->readers[j];
    const qm_linear *L = m->linears[rd->linear];
    float *w = eq->w[rd->linear];
    for (int o = 0; o < L->out; ++o)
      for (int t = 0; t < rd->taps; ++t) {
        float *v = &w[(size_t)o * L->in + (size_t)t * rd->stride + rd->offset + c];
        *v = pow2 ? ldexpf(*v, e) : (float)(*v * s);
      }
  }
}

/** Channel c's scale s = sqrt(r_w / r_r), or its nearest power of two
    (1: leave it). */
static double channel_scale(double r_w, double r_r, bool pow2)
{
  if (!(r_w > 0.0 && r_r > 0.0))
    return 1.0; /* a dead channel: nothing to balance */
  const double s = sqrt(r_w / r_r);
  return pow2 ? ldexp(1.0, (int)lround(log2(s))) : s;
}

/** One round over a group's channels; returns how many it rescaled. */
static int balance_group(const qm_model *m, qm_equalization *eq, const qm_eq_group *g, bool pow2)
{
  int scaled = 0;
  for (int c = 0; c < g->n; ++c) {
    double r_w, r_r;
    channel_ranges(m, eq, g, c, &r_w, &r_r);
    const double s = channel_scale(r_w, r_r, pow2);
    /** a real scale within a rounding of 1 would only add roundings */
    if (fabs(s - 1.0) > 1e-6) {
      scale_channel(m, eq, g, c, s, pow2);
      ++scaled;
    }
  }
  return scaled;
}

bool qm_equalize(const qm_model *m, bool pow2, qm_equalization *eq, char *err, size_t errlen)
{
  memset(eq, 0, sizeof *eq);
  eq->n_linears = m->n_linears;
  eq->pow2 = pow2;
  eq->w = calloc((size_t)m->n_linears, sizeof *eq->w);
  eq->bias = calloc((size_t)m->n_linears, sizeof *eq->bias);
  qm_eq_group *groups = NULL;
  int n = 0;
  bool ok = eq->w && eq->bias && qm_eq_groups(m, &groups, &n);
  for (int gi = 0; ok && gi < n; ++gi) {
    for (int j = 0; ok && j < groups[gi].n_writers; ++j)
      ok = touch(m, eq, groups[gi].writers[j].linear);
    for (int j = 0; ok && j < groups[gi].n_readers; ++j)
      ok = touch(m, eq, groups[gi].readers[j].linear);
  }
  for (int round = 0; ok && round < QM_EQ_ROUNDS; ++round)
    for (int gi = 0; gi < n; ++gi)
      eq->n_scaled += balance_group(m, eq, &groups[gi], pow2);
  eq->n_groups = n;
  qm_eq_groups_free(groups, n);
  if (!ok) {
    qm_equalization_free(eq);
    snprintf(err, errlen, "out of memory equalizing");
  }
  return ok;
}

double qm_eq_worst_ratio(const qm_model *m, const qm_equalization *eq, int *groups)
{
  qm_eq_group *g = NULL;
  int n = 0;
  if (!qm_eq_groups(m, &g, &n))
    return NAN;
  double worst = 1.0;
  for (int gi = 0; gi < n; ++gi) {
    for (int c = 0; c < g[gi].n; ++c) {
      double r_w, r_r;
      channel_ranges(m, eq, &g[gi], c, &r_w, &r_r);
      if (!(r_w > 0.0 && r_r > 0.0))
        continue;
      worst = fmax(worst, fmax(r_w / r_r, r_r / r_w));
    }
  }
  qm_eq_groups_free(g, n);
  if (groups)
    *groups = n;
  return worst;
}
