/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The per-layer SQNR figures the worker has measured for the playing
  model, by the variant they describe (setting, size, bit budget). A
  variant without calibration work is not kept when it stops playing
  (worker.c's cache keeps only those that cost seconds), so coming back to
  it builds it again: with these figures it arrives with its analysis at
  once, whether or not a UI listens, instead of being analysed again (two
  renders of the calibration clip and a quantization). The figures of a
  variant depend only on the model and these keys (every preparation and
  the clip are deterministic). Touched only by the worker (qt_work) and
  cleanup().
*/
#include "qt_plugin.h"

#include <stdlib.h>
#include <string.h>

static bool same_variant(const qt_sqnr_kept *k, const qt_variant *v)
{
  return k->model_id == v->model_id && k->slim_step == v->slim_step && k->budget == v->budget &&
         qm_setting_eq(&k->set, &v->set);
}

float *qt_sqnr_memo_get(const qt_plugin *self, const qt_variant *v, int *n_out)
{
  for (int i = 0; i < self->n_sqnr_kept; ++i) {
    const qt_sqnr_kept *k = &self->sqnr_kept[i];
    if (!same_variant(k, v))
      continue;
    float *copy = malloc(sizeof(float) * (size_t)k->n);
    if (copy) {
      memcpy(copy, k->sqnr, sizeof(float) * (size_t)k->n);
      *n_out = k->n;
    }
    return copy;
  }
  return NULL;
}

void qt_sqnr_memo_put(qt_plugin *self, const qt_variant *v, const float *sqnr, int n)
{
  if (!sqnr || n <= 0 || v->set.bits == QM_BITS_FP32)
    return; /* a float size's figures cost nothing to make */
  /** One model's figures: another model's id means that model plays now
      (as for the kept variants). */
  int kept = 0;
  for (int i = 0; i < self->n_sqnr_kept; ++i) {
    qt_sqnr_kept *k = &self->sqnr_kept[i];
    if (k->model_id == v->model_id)
      self->sqnr_kept[kept++] = *k;
    else
      free(k->sqnr);
  }
  self->n_sqnr_kept = kept;
  for (int i = 0; i < self->n_sqnr_kept; ++i)
    if (same_variant(&self->sqnr_kept[i], v))
      return;
  float *copy = malloc(sizeof(float) * (size_t)n);
  if (!copy)
    return;
  memcpy(copy, sqnr, sizeof(float) * (size_t)n);
  if (self->n_sqnr_kept == QT_SQNR_KEPT) /* the oldest gives way */
    free(self->sqnr_kept[--self->n_sqnr_kept].sqnr);
  memmove(self->sqnr_kept + 1, self->sqnr_kept,
          sizeof *self->sqnr_kept * (size_t)self->n_sqnr_kept);
  self->sqnr_kept[0] = (qt_sqnr_kept){v->model_id, v->set, v->slim_step, v->budget, n, copy};
  ++self->n_sqnr_kept;
}

void qt_sqnr_memo_clear(qt_plugin *self)
{
  for (int i = 0; i < self->n_sqnr_kept; ++i)
    free(self->sqnr_kept[i].sqnr);
  self->n_sqnr_kept = 0;
}
