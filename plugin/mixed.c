/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The bit_budget control in the worker: the sensitivity table of the
  playing model under the asked scheme (models/sensitivity.h), measured
  once per model and scheme and kept with the model, and the widths the
  allocator picks from it for a budget; and each observed layer's bits for
  the GUI's per-layer view.

  Only the worker thread runs this and only it touches a slot's cache (the
  audio thread never reads it; the slot is freed by a FREE job, in the
  same worker, after every job that reads it).
*/
#include "qt_plugin.h"

#include "sensitivity.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** Tables kept per model: one per scheme a player tried; the oldest goes
    when more are asked for (a table is a few hundred bytes, the time to
    measure it is what is saved). */
#define QT_MIXED_CACHE 8

struct qt_mixed_cache {
  qm_sensitivity table[QT_MIXED_CACHE];
  int n, next;
};

void qt_mixed_cache_free(qt_mixed_cache *c)
{
  if (!c)
    return;
  for (int i = 0; i < c->n; ++i)
    qm_sensitivity_free(&c->table[i]);
  free(c);
}

/** The fields of the scheme a table depends on (not the width or the
    size; the rounding, which the table measures with). */
static bool same_scheme(const qm_setting *a, const qm_setting *b)
{
  return a->mapping == b->mapping && a->asymmetric == b->asymmetric &&
         a->granularity == b->granularity && a->group == b->group &&
         a->activations == b->activations && a->observer == b->observer &&
         a->rounding == b->rounding && a->bias_correction == b->bias_correction;
}

int *qt_mixed_widths(const qt_slot *mo, const qm_setting *set, float budget, char *err,
                     size_t errlen)
{
  /** The cache is the worker's: see the top of this file. */
  qt_slot *slot = (qt_slot *)mo;
  if (!slot->mixed && !(slot->mixed = calloc(1, sizeof *slot->mixed))) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  qt_mixed_cache *c = slot->mixed;
  int n_calib = 0;
  float *calib = qm_mixed_clip(&n_calib);
  if (!calib) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  const qm_sensitivity *s = NULL;
  for (int i = 0; i < c->n && !s; ++i)
    if (same_scheme(&c->table[i].scheme, set))
      s = &c->table[i];
  if (!s) {
    int k = c->n < QT_MIXED_CACHE ? c->n++ : c->next;
    c->next = (k + 1) % QT_MIXED_CACHE;
    qm_sensitivity_free(&c->table[k]);
    if (!qm_sensitivity_measure(mo->desc, set, calib, n_calib, &c->table[k], err, errlen)) {
      c->table[k].n = 0;
      free(calib);
      return NULL;
    }
    s = &c->table[k];
  }
  int *bits = malloc((size_t)(s->n > 0 ? s->n : 1) * sizeof *bits);
  if (!bits) {
    snprintf(err, errlen, "out of memory");
  } else if (!qm_mixed_choose(mo->desc, s, budget, calib, n_calib, bits, NULL, err, errlen)) {
    free(bits);
    bits = NULL;
  }
  free(calib);
  return bits;
}

float *qt_mixed_layer_bits(const qm_model *m, const int *widths, int uniform)
{
  const int nl = qm_model_layer_count(m), nw = qm_model_linear_count(m);
  float *out = nl > 0 ? malloc((size_t)nl * sizeof *out) : NULL;
  for (int l = 0; out && l < nl; ++l) {
    const char *name = qm_model_layer_name(m, l);
    const size_t len = strlen(name);
    double bits = 0.0, weights = 0.0;
    for (int i = 0; i < nw; ++i) {
      const qm_linear *L = qm_model_linear((qm_model *)m, i);
      if (strncmp(L->name, name, len) || L->name[len] != '.')
        continue;
      const double w = (double)L->out * (double)L->in;
      bits += w * (widths ? widths[i] : uniform);
      weights += w;
    }
    out[l] = weights > 0.0 ? (float)(bits / weights) : NAN;
  }
  return out;
}
