/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
#include "tr_data.h"

#include "fx.h"
#include "tr_synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool make_signal(tr_signal *s, const char *effect, size_t n, uint64_t seed)
{
  s->n = n;
  s->x = malloc(n * sizeof *s->x);
  s->y = malloc(n * sizeof *s->y);
  if (!s->x || !s->y)
    return false;
  tr_synth_guitar(s->x, n, seed);
  return fx_render(effect, s->x, s->y, n) != 0;
}

bool tr_dataset_builtin(tr_dataset *d, const char *effect, double train_seconds, double val_seconds,
                        uint64_t seed, char *err, size_t errlen)
{
  memset(d, 0, sizeof *d);
  if (!make_signal(&d->train, effect, (size_t)(train_seconds * FX_RATE), seed) ||
      !make_signal(&d->val, effect, (size_t)(val_seconds * FX_RATE), seed ^ 0x5eedfaceULL)) {
    snprintf(err, errlen, "unknown effect '%s' (overdrive, diode) or out of memory", effect);
    tr_dataset_free(d);
    return false;
  }
  snprintf(d->desc, sizeof d->desc, "built-in %s, %.0f s train + %.0f s held-out, seed %llu",
           effect, train_seconds, val_seconds, (unsigned long long)seed);
  return true;
}

bool tr_dataset_from_pair(tr_dataset *d, const tr_wav_pair *p, double val_fraction, char *err,
                          size_t errlen)
{
  memset(d, 0, sizeof *d);
  const size_t nv = (size_t)((double)p->n * val_fraction);
  const size_t nt = p->n - nv;
  if (nv < 48000 || nt < 48000) {
    snprintf(err, errlen, "capture too short: need at least 1 s of training and of validation");
    return false;
  }
  d->train.n = nt;
  d->val.n = nv;
  d->train.x = malloc(nt * sizeof(float));
  d->train.y = malloc(nt * sizeof(float));
  d->val.x = malloc(nv * sizeof(float));
  d->val.y = malloc(nv * sizeof(float));
  if (!d->train.x || !d->train.y || !d->val.x || !d->val.y) {
    tr_dataset_free(d);
    snprintf(err, errlen, "out of memory");
    return false;
  }
  memcpy(d->train.x, p->x, nt * sizeof(float));
  memcpy(d->train.y, p->y, nt * sizeof(float));
  memcpy(d->val.x, p->x + nt, nv * sizeof(float));
  memcpy(d->val.y, p->y + nt, nv * sizeof(float));
  snprintf(d->desc, sizeof d->desc,
           "WAV pair, %.1f s train + %.1f s held-out (last %.0f%%), "
           "latency %ld applied",
           nt / 48000.0, nv / 48000.0, 100.0 * val_fraction, p->applied_latency);
  return true;
}

void tr_dataset_free(tr_dataset *d)
{
  free(d->train.x);
  free(d->train.y);
  free(d->val.x);
  free(d->val.y);
  memset(d, 0, sizeof *d);
}
