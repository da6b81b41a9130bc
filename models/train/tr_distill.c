/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
#include "tr_distill.h"

#include "fx.h"
#include "slim.h"
#include "tr_synth.h"
#include "tr_wav.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool tr_teacher_open(tr_teacher *t, const char *path, char *err, size_t errlen)
{
  memset(t, 0, sizeof *t);
  if (!(t->file = qm_load_file(path, err, errlen)))
    return false;
  qm_options opt;
  qm_options_default(&opt);
  t->model = qm_model_create(qm_desc_full_size(t->file), &opt, err, errlen);
  if (!t->model) {
    tr_teacher_close(t);
    return false;
  }
  t->sample_rate = qm_model_sample_rate(t->model);
  if (t->sample_rate != FX_RATE) {
    snprintf(err, errlen, "%s: the teacher runs at %.0f Hz; the training audio is %.0f Hz", path,
             t->sample_rate, FX_RATE);
    tr_teacher_close(t);
    return false;
  }
  return true;
}

void tr_teacher_close(tr_teacher *t)
{
  if (t->model)
    qm_model_free(t->model);
  if (t->file)
    qm_desc_free(t->file);
  memset(t, 0, sizeof *t);
}

void tr_teacher_render(tr_teacher *t, const float *x, float *y, size_t n)
{
  qm_model_restore_prewarm(t->model);
  /** Blocks of a few thousand frames: the engine accepts any length, this
      just keeps each call's int argument far from overflow. */
  enum { BLOCK = 4096 };
  for (size_t i = 0; i < n; i += BLOCK) {
    const int k = (int)(n - i < BLOCK ? n - i : BLOCK);
    qm_model_process(t->model, x + i, y + i, k);
  }
}

/** Append len samples of dry input w to d's training part (its target
    is rendered afterwards, over the whole joined input); `what` names
    them in d's description. */
static bool append_input(tr_dataset *d, const float *w, size_t len, const char *what, char *err,
                         size_t errlen)
{
  const size_t old = d->train.n, total = old + len;
  float *x = realloc(d->train.x, total * sizeof *x);
  if (x)
    d->train.x = x;
  float *y = x ? realloc(d->train.y, total * sizeof *y) : NULL;
  if (y)
    d->train.y = y;
  if (!x || !y) {
    snprintf(err, errlen, "out of memory");
    return false;
  }
  memcpy(d->train.x + old, w, len * sizeof *w);
  d->train.n = total;
  size_t dl = strlen(d->desc);
  snprintf(d->desc + dl, sizeof d->desc - dl, " + %s (%.1f s)", what, len / FX_RATE);
  return true;
}

/** The effect over the whole joined input, so its state runs on across
    the joins just as the teacher's does. */
static bool render_effect(tr_dataset *d, const char *effect, char *err, size_t errlen)
{
  if (!fx_render(effect, d->train.x, d->train.y, d->train.n)) {
    snprintf(err, errlen, "unknown effect '%s'", effect);
    return false;
  }
  return true;
}

bool tr_dataset_append_wavs(tr_dataset *d, const char *effect, const char *const *paths, int n,
                            char *err, size_t errlen)
{
  for (int i = 0; i < n; ++i) {
    size_t len = 0;
    int rate = 0;
    float *w = tr_wav_read(paths[i], &len, &rate, NULL, err, errlen);
    if (!w)
      return false;
    if (rate != (int)FX_RATE) {
      snprintf(err, errlen, "%s: %d Hz, want %.0f", paths[i], rate, FX_RATE);
      free(w);
      return false;
    }
    const bool ok = append_input(d, w, len, paths[i], err, errlen);
    free(w);
    if (!ok)
      return false;
  }
  return n == 0 || render_effect(d, effect, err, errlen);
}

bool tr_dataset_append_tones(tr_dataset *d, const char *effect, double seconds, uint64_t seed,
                             char *err, size_t errlen)
{
  const size_t len = (size_t)(seconds * FX_RATE);
  if (len == 0)
    return true;
  float *w = malloc(len * sizeof *w);
  if (!w) {
    snprintf(err, errlen, "out of memory");
    return false;
  }
  tr_synth_tones(w, len, seed);
  const bool ok = append_input(d, w, len, "held tones", err, errlen);
  free(w);
  return ok && render_effect(d, effect, err, errlen);
}

static void mix(float *target, const float *teacher, size_t n, double alpha)
{
  for (size_t i = 0; i < n; ++i)
    target[i] = (float)(alpha * teacher[i] + (1.0 - alpha) * target[i]);
}

bool tr_distill_targets(tr_dataset *d, tr_teacher *t, double alpha, float **teacher_val,
                        float **effect_val, char *err, size_t errlen)
{
  float *tt = malloc(d->train.n * sizeof *tt);
  float *tv = malloc(d->val.n * sizeof *tv), *ev = malloc(d->val.n * sizeof *ev);
  if (!tt || !tv || !ev) {
    free(tt);
    free(tv);
    free(ev);
    snprintf(err, errlen, "out of memory");
    return false;
  }
  tr_teacher_render(t, d->train.x, tt, d->train.n);
  tr_teacher_render(t, d->val.x, tv, d->val.n);
  memcpy(ev, d->val.y, d->val.n * sizeof *ev);
  mix(d->train.y, tt, d->train.n, alpha);
  mix(d->val.y, tv, d->val.n, alpha);
  free(tt);
  *teacher_val = tv;
  *effect_val = ev;
  return true;
}
