/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The sizes of slimmable models (slim.h): which description plays at a
  slim value, the steps a player can choose from, and what each costs.
*/
#include "slim.h"

#include "arch_registry.h"
#include "loader_internal.h"
#include "slim_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- Slimmable WaveNets -------------------------------------------------------- */

/**
   Step k of a slimmable WaveNet is [bp[k-1], bp[k]) over its breakpoints
   (0 and 1 at the ends). Its description is built the first time it is
   asked for and kept in d->slim_sizes[k] (d itself for the full size),
   the built ones owned by d as children.
*/
typedef struct {
  double *bp;
  int n_steps;
} wavenet_plan;

static bool wavenet_plan_of(const qm_desc *d, wavenet_plan *p)
{
  const int n = qm_wavenet_breakpoints(&d->wavenet, &p->bp);
  p->n_steps = n + 1;
  return n >= 0;
}

static double step_lo(const wavenet_plan *p, int k) { return k == 0 ? 0.0 : p->bp[k - 1]; }
static double step_hi(const wavenet_plan *p, int k) { return k + 1 == p->n_steps ? 1.0 : p->bp[k]; }

/** The channels step k plays: those at the middle of its range, clear of
    the rounding of S * n right at a breakpoint. */
static void step_channels(const qm_desc *d, const wavenet_plan *p, int k, int *channels)
{
  qm_wavenet_channels_at(&d->wavenet, 0.5 * (step_lo(p, k) + step_hi(p, k)), channels);
}

static const qm_desc *wavenet_size(qm_desc *d, const wavenet_plan *p, int k, const int *channels)
{
  if (!d->slim_sizes && !(d->slim_sizes = qm_desc_alloc(d, (size_t)p->n_steps * sizeof(void *))))
    return NULL;
  if (d->slim_sizes[k])
    return d->slim_sizes[k];
  bool full = true;
  for (int a = 0; a < d->wavenet.n_arrays; ++a)
    full = full && channels[a] == d->wavenet.arrays[a].channels;
  qm_desc *size = full ? d : qm_wavenet_slice(d, channels, true);
  if (!size)
    return NULL;
  if (size != d && !qm_desc_adopt(d, size)) {
    qm_desc_free(size);
    return NULL;
  }
  return d->slim_sizes[k] = size;
}

/** "3 of 8 channels"; several arrays "2+1 of 3+2 channels". */
static void wavenet_label(const qm_desc *d, const int *channels, char *buf, size_t n)
{
  size_t used = 0;
  for (int pass = 0; pass < 2; ++pass)
    for (int a = 0; a < d->wavenet.n_arrays && used < n; ++a) {
      const int c = pass == 0 ? channels[a] : d->wavenet.arrays[a].channels;
      const int w = snprintf(buf + used, n - used, "%s%d", a ? "+" : pass ? " of " : "", c);
      used = w < 0 ? n : used + (size_t)w;
    }
  if (used < n)
    snprintf(buf + used, n - used, " channels");
}

static int wavenet_steps(qm_desc *d, qm_slim_step *steps, int max)
{
  wavenet_plan p;
  int channels[QM_MAX_LAYERS];
  if (!wavenet_plan_of(d, &p) || d->wavenet.n_arrays > QM_MAX_LAYERS)
    return 0;
  int count = 0;
  for (int k = 0; k < p.n_steps && count < max; ++k) {
    step_channels(d, &p, k, channels);
    /* a size already built, else its shapes only (freed at once) */
    const qm_desc *built = d->slim_sizes ? d->slim_sizes[k] : NULL;
    qm_desc *shapes = built ? NULL : qm_wavenet_slice(d, channels, false);
    if (!built && !shapes)
      break;
    fill_step(&steps[count], step_lo(&p, k), step_hi(&p, k), built ? built : shapes);
    qm_desc_free(shapes);
    wavenet_label(d, channels, steps[count].label, sizeof steps[count].label);
    ++count;
  }
  free(p.bp);
  return count;
}

/** NeuralAmpModelerCore's channels at S; the step whose channels those
    are (the step holding S unless S * n rounds across a breakpoint). */
static const qm_desc *wavenet_at(qm_desc *d, double s)
{
  wavenet_plan p;
  int want[QM_MAX_LAYERS], have[QM_MAX_LAYERS];
  if (!wavenet_plan_of(d, &p) || d->wavenet.n_arrays > QM_MAX_LAYERS)
    return NULL;
  qm_wavenet_channels_at(&d->wavenet, s, want);
  int k = 0;
  while (k + 1 < p.n_steps && s >= step_hi(&p, k))
    ++k;
  for (int j = k > 0 ? k - 1 : 0; j < p.n_steps && j <= k + 1; ++j) {
    step_channels(d, &p, j, have);
    if (!memcmp(want, have, (size_t)d->wavenet.n_arrays * sizeof *want)) {
      k = j;
      break;
    }
  }
  step_channels(d, &p, k, have);
  const qm_desc *size = wavenet_size(d, &p, k, have);
  free(p.bp);
  return size;
}

/* ---- The API ----------------------------------------------------------------- */

bool qm_desc_slimmable(const qm_desc *d)
{
  if (d->arch == QM_ARCH_CONTAINER)
    return d->container.n_submodels > 1 &&
           container_index(&d->container, 0.0) != container_index(&d->container, 1.0);
  return d->arch == QM_ARCH_WAVENET && qm_wavenet_slimmable(&d->wavenet);
}

int qm_desc_slim_steps(qm_desc *d, qm_slim_step *steps, int max)
{
  if (max <= 0)
    return 0;
  if (d->arch == QM_ARCH_CONTAINER)
    return container_steps(d, steps, max);
  if (qm_desc_slimmable(d))
    return wavenet_steps(d, steps, max);
  fill_step(&steps[0], 0.0, 1.0, d);
  describe(d, steps[0].label, sizeof steps[0].label);
  return 1;
}

const qm_desc *qm_desc_at_slim(qm_desc *d, double s, char *err, size_t errlen)
{
  s = clamp_slim(s);
  if (d->arch == QM_ARCH_CONTAINER)
    return d->container.submodels[container_index(&d->container, s)].model;
  if (!qm_desc_slimmable(d))
    return d;
  const qm_desc *size = wavenet_at(d, s);
  if (!size) {
    qm_ctx c = {d->path, err, errlen};
    qm_fail(&c, "out of memory for the model at slim %g", s);
  }
  return size;
}

int qm_slim_step_index(const qm_slim_step *steps, int n, double s)
{
  s = clamp_slim(s);
  for (int i = 0; i + 1 < n; ++i)
    if (s < steps[i].hi)
      return i;
  return n - 1;
}

const qm_desc *qm_desc_full_size(const qm_desc *d)
{
  if (d->arch == QM_ARCH_CONTAINER)
    return d->container.submodels[container_index(&d->container, 1.0)].model;
  return d;
}

/* ---- Cost ---------------------------------------------------------------------- */

double qm_desc_macs_per_sample(const qm_desc *d)
{
  const qm_arch_ops *ops = qm_arch_ops_of(d->arch);
  return ops ? ops->macs_per_sample(d) : 0.0;
}
