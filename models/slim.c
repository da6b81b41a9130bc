/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The sizes of slimmable models (slim.h): which description plays at a
  slim value, the steps a player can choose from, and what each costs.
*/
#include "slim.h"

#include "loader_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/** S as the selection reads it: inside [0, 1], NaN as the full size. */
static double clamp_slim(double s)
{
  if (isnan(s))
    return 1.0;
  return s < 0.0 ? 0.0 : s > 1.0 ? 1.0 : s;
}

/* ---- Containers ------------------------------------------------------------ */

/** NeuralAmpModelerCore's choice: the first submodel whose max_value is
    above S, else the last. */
static int container_index(const qm_container_desc *box, double s)
{
  for (int i = 0; i < box->n_submodels; ++i)
    if (s < box->submodels[i].max_value)
      return i;
  return box->n_submodels - 1;
}

/** "WaveNet, 3 channels" (arrays joined by '+'), "LSTM, 3 hidden", "Linear, 128 taps". */
static void describe(const qm_desc *d, char *buf, size_t n)
{
  int used = snprintf(buf, n, "%s", d->architecture ? d->architecture : "model");
  if (used < 0 || (size_t)used >= n)
    return;
  if (d->arch == QM_ARCH_WAVENET) {
    for (int a = 0; a < d->wavenet.n_arrays && (size_t)used < n; ++a)
      used += snprintf(buf + used, n - (size_t)used, "%s%d", a ? "+" : ", ",
                       d->wavenet.arrays[a].channels);
    if ((size_t)used < n)
      snprintf(buf + used, n - (size_t)used, " channels");
    return;
  }
  if (d->arch != QM_ARCH_SEQUENTIAL || d->seq.n_layers == 0)
    return;
  const qm_seq_layer *first = &d->seq.layers[0];
  if (first->kind == QM_LAYER_LSTM || first->kind == QM_LAYER_GRU)
    snprintf(buf + used, n - (size_t)used, ", %d hidden", first->out);
  else if (first->kind == QM_LAYER_FIR)
    snprintf(buf + used, n - (size_t)used, ", %d taps", first->taps);
  else
    snprintf(buf + used, n - (size_t)used, ", %d layers", d->seq.n_layers);
}

static void fill_step(qm_slim_step *st, double lo, double hi, const qm_desc *plays)
{
  st->lo = lo;
  st->hi = hi;
  st->weights = plays->n_weights;
  st->macs_per_sample = qm_desc_macs_per_sample(plays);
}

/**
   Submodel i plays for S in [max_value[i-1], max_value[i]) (the first from
   -inf, the last to +inf); a step is that range cut to [0, 1], kept when
   it is not empty or when it holds S = 1.0 (then closed there).
*/
static int container_steps(const qm_desc *d, qm_slim_step *steps, int max)
{
  const qm_container_desc *box = &d->container;
  const int at_one = container_index(box, 1.0);
  int count = 0;
  for (int i = 0; i < box->n_submodels; ++i) {
    double lo = i == 0 ? 0.0 : fmax(box->submodels[i - 1].max_value, 0.0);
    double hi = i == box->n_submodels - 1 ? 1.0 : fmin(box->submodels[i].max_value, 1.0);
    if (i == at_one)
      hi = 1.0;
    if (!(lo < hi) && i != at_one)
      continue;
    if (count < max) {
      qm_slim_step *st = &steps[count];
      const qm_desc *sub = box->submodels[i].model;
      fill_step(st, lo, hi, sub);
      int used =
          snprintf(st->label, sizeof st->label, "submodel %d of %d: ", i + 1, box->n_submodels);
      if (used > 0 && (size_t)used < sizeof st->label)
        describe(sub, st->label + used, sizeof st->label - (size_t)used);
    }
    ++count;
    if (i == at_one)
      break;
  }
  return count < max ? count : max;
}

/* ---- The API ----------------------------------------------------------------- */

bool qm_desc_slimmable(const qm_desc *d)
{
  if (d->arch == QM_ARCH_CONTAINER)
    return d->container.n_submodels > 1 &&
           container_index(&d->container, 0.0) != container_index(&d->container, 1.0);
  return false;
}

int qm_desc_slim_steps(qm_desc *d, qm_slim_step *steps, int max)
{
  if (max <= 0)
    return 0;
  if (d->arch == QM_ARCH_CONTAINER)
    return container_steps(d, steps, max);
  fill_step(&steps[0], 0.0, 1.0, d);
  describe(d, steps[0].label, sizeof steps[0].label);
  return 1;
}

const qm_desc *qm_desc_at_slim(qm_desc *d, double s, char *err, size_t errlen)
{
  (void)err;
  (void)errlen;
  s = clamp_slim(s);
  if (d->arch == QM_ARCH_CONTAINER)
    return d->container.submodels[container_index(&d->container, s)].model;
  return d;
}

const qm_desc *qm_desc_full_size(const qm_desc *d)
{
  if (d->arch == QM_ARCH_CONTAINER)
    return d->container.submodels[container_index(&d->container, 1.0)].model;
  return d;
}

/* ---- Cost ---------------------------------------------------------------------- */

static double wavenet_macs(const qm_wavenet_desc *wn)
{
  double macs = 0;
  for (int a = 0; a < wn->n_arrays; ++a) {
    const qm_wn_array *A = &wn->arrays[a];
    const double C = A->channels, Z = A->gated ? 2.0 * C : C, K = A->kernel_size;
    macs += C * A->input_size;                                         /* rechannel */
    macs += A->n_layers * (Z * K * C + Z * A->condition_size + C * C); /* conv, mixin, 1x1 */
    macs += (double)A->head_size * C;                                  /* head rechannel */
  }
  return macs;
}

static double sequential_macs(const qm_sequential_desc *s)
{
  double macs = 0;
  for (int i = 0; i < s->n_layers; ++i) {
    const qm_seq_layer *L = &s->layers[i];
    const double in = L->in, H = L->out;
    switch (L->kind) {
    case QM_LAYER_LSTM: macs += 4 * H * (in + H); break;
    case QM_LAYER_GRU: macs += 3 * H * (in + H); break;
    case QM_LAYER_DENSE: macs += in * H; break;
    case QM_LAYER_FIR: macs += L->taps; break;
    case QM_LAYER_ACTIVATION: break;
    }
  }
  return macs;
}

double qm_desc_macs_per_sample(const qm_desc *d)
{
  d = qm_desc_full_size(d);
  return d->arch == QM_ARCH_WAVENET ? wavenet_macs(&d->wavenet) : sequential_macs(&d->seq);
}
