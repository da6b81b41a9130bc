/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The sizes of a WaveNet whose layer arrays are "slimmable"
  ({"method": "slice_channels_uniform", "kwargs": {"allowed_channels":
  [...]}}), as NeuralAmpModelerCore's NAM/wavenet/slimmable.cpp makes them:
  an array cut to C' of its C channels keeps the top-left block of every
  matrix (the first rows, the first inputs, per tap for a convolution)
  and the first entries of every bias, with

    bottleneck B' = max(1, B * C' / C) with layer1x1 (integer division),
                    else C'
    input_size'   = the previous array's C' (the first array's is kept)
    head_size'    = the next array's C' (the last array's is kept)

  and each FiLM point cut to the new size of the vector it modulates.
  Where several arrays are slimmable, each takes its own count from the
  same S.
*/
#include "slim_internal.h"

#include "loader_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool qm_wavenet_slimmable(const qm_wavenet_desc *wn)
{
  for (int a = 0; a < wn->n_arrays; ++a)
    if (wn->arrays[a].slim.n_allowed > 1)
      return true;
  return false;
}

bool qm_wavenet_check_slimmable(qm_ctx *c, const qm_wavenet_desc *wn)
{
  if (!qm_wavenet_slimmable(wn))
    return true;
  for (int a = 0; a < wn->n_arrays; ++a) {
    const qm_wn_array *A = &wn->arrays[a];
    const struct {
      const char *key;
      int groups;
    } grouped[] = {{"groups_input", A->groups_input},
                   {"groups_input_mixin", A->groups_input_mixin},
                   {"layer1x1.groups", A->layer1x1 ? A->layer1x1_groups : 1},
                   {"head1x1.groups", A->head1x1 ? A->head1x1_groups : 1}};
    for (size_t i = 0; i < sizeof grouped / sizeof grouped[0]; ++i)
      if (grouped[i].groups != 1)
        return qm_fail(c,
                       "config.layers[%d].%s is %d in a slimmable WaveNet: only ungrouped arrays "
                       "can be slimmed (as in NeuralAmpModelerCore)",
                       a, grouped[i].key, grouped[i].groups);
    if (A->head_kernel != 1)
      return qm_fail(c,
                     "config.layers[%d].head.kernel_size is %d in a slimmable WaveNet: only a "
                     "head over one tap can be slimmed (as in NeuralAmpModelerCore)",
                     a, A->head_kernel);
  }
  return true;
}

static int by_value(const void *pa, const void *pb)
{
  const double a = *(const double *)pa, b = *(const double *)pb;
  return (a > b) - (a < b);
}

int qm_wavenet_breakpoints(const qm_wavenet_desc *wn, double **out)
{
  *out = NULL;
  size_t n = 0;
  for (int a = 0; a < wn->n_arrays; ++a)
    if (wn->arrays[a].slim.n_allowed > 1)
      n += (size_t)wn->arrays[a].slim.n_allowed - 1;
  if (n == 0)
    return 0;
  double *bp = malloc(n * sizeof *bp);
  if (!bp)
    return -1;
  size_t k = 0;
  for (int a = 0; a < wn->n_arrays; ++a) {
    const int count = wn->arrays[a].slim.n_allowed;
    for (int i = 1; i < count; ++i)
      bp[k++] = (double)i / (double)count;
  }
  qsort(bp, n, sizeof *bp, by_value);
  size_t unique = 0;
  for (size_t i = 0; i < n; ++i)
    if (unique == 0 || bp[i] != bp[unique - 1])
      bp[unique++] = bp[i];
  *out = bp;
  return (int)unique;
}

void qm_wavenet_channels_at(const qm_wavenet_desc *wn, double s, int *channels)
{
  for (int a = 0; a < wn->n_arrays; ++a) {
    const qm_wn_slim *sl = &wn->arrays[a].slim;
    if (sl->n_allowed == 0) {
      channels[a] = wn->arrays[a].channels;
      continue;
    }
    const double at = floor(s * (double)sl->n_allowed);
    const int i = at < 0 ? 0 : at > sl->n_allowed - 1 ? sl->n_allowed - 1 : (int)at;
    channels[a] = sl->allowed_channels[i];
  }
}

/* ---- Cutting ------------------------------------------------------------------ */

/** Where cut blocks go (none when only counting), how many floats they
    hold, and whether one failed. */
typedef struct {
  qm_desc *d;
  bool weights;
  size_t floats;
  bool failed;
} cutter;

/**
   The top-left block of src [rows][taps * cols] (column k*cols + c is
   input c of tap k): [new_rows][taps * new_cols], column k*new_cols + c.
   A bias is the case cols = taps = 1. NULL in, NULL out.
*/
static float *cut(cutter *ct, const float *src, int cols, int new_rows, int new_cols, int taps)
{
  if (!src)
    return NULL;
  const size_t n = (size_t)new_rows * (size_t)taps * (size_t)new_cols;
  ct->floats += n;
  if (!ct->weights)
    return NULL;
  float *dst = qm_desc_alloc(ct->d, n * sizeof *dst);
  if (!dst) {
    ct->failed = true;
    return NULL;
  }
  for (int r = 0; r < new_rows; ++r)
    for (int k = 0; k < taps; ++k)
      memcpy(dst + ((size_t)r * taps + k) * new_cols, src + ((size_t)r * taps + k) * cols,
             (size_t)new_cols * sizeof *dst);
  return dst;
}

/** The size of the vector a FiLM point modulates, in an array of C
    channels, bottleneck B, Z = gating ? 2B : B, condition Q, head1x1 H1. */
static int film_dim(qm_film_point p, int C, int B, int Z, int Q, int H1)
{
  switch (p) {
  case QM_FILM_CONV_PRE:
  case QM_FILM_LAYER1X1_POST: return C;
  case QM_FILM_CONV_POST:
  case QM_FILM_MIXIN_POST:
  case QM_FILM_ACTIVATION_PRE: return Z;
  case QM_FILM_ACTIVATION_POST: return B;
  case QM_FILM_MIXIN_PRE: return Q;
  case QM_FILM_HEAD1X1_POST: return H1;
  case QM_FILM_COUNT: break;
  }
  return 0;
}

static void cut_layer(cutter *ct, const qm_wn_array *A, const qm_wn_layer *L, qm_wn_layer *M,
                      int C2, int B2)
{
  *M = *L;
  const int C = A->channels, B = A->bottleneck, Q = A->condition_size, H1 = A->head1x1_out;
  const int two = L->gating != QM_GATING_NONE ? 2 : 1, Z = two * B, Z2 = two * B2;
  (void)Z;
  M->conv_w = cut(ct, L->conv_w, C, Z2, C2, L->kernel_size);
  M->conv_b = cut(ct, L->conv_b, 1, Z2, 1, 1);
  M->mixin_w = cut(ct, L->mixin_w, Q, Z2, Q, 1);
  M->w1x1 = cut(ct, L->w1x1, B, C2, B2, 1);
  M->b1x1 = cut(ct, L->b1x1, 1, C2, 1, 1);
  M->head1x1_w = cut(ct, L->head1x1_w, B, H1, B2, 1);
  M->head1x1_b = cut(ct, L->head1x1_b, 1, H1, 1, 1);
  for (int p = 0; p < QM_FILM_COUNT; ++p) {
    const qm_wn_film *F = &L->film[p];
    if (!F->w)
      continue;
    const int per_dim = A->film[p].shift ? 2 : 1;
    const int dim2 = film_dim((qm_film_point)p, C2, B2, Z2, Q, H1);
    M->film[p].dim = dim2;
    M->film[p].w = cut(ct, F->w, Q, per_dim * dim2, Q, 1);
    M->film[p].b = cut(ct, F->b, 1, per_dim * dim2, 1, 1);
  }
}

static void cut_array(cutter *ct, const qm_wn_array *A, qm_wn_array *N, int C2, int in2, int head2)
{
  *N = *A;
  const int C = A->channels, B = A->bottleneck;
  /* compute_slim_bottleneck: without layer1x1 the bottleneck is the channels */
  int B2 = A->layer1x1 ? B * C2 / C : C2;
  if (B2 < 1)
    B2 = 1;
  N->channels = C2;
  N->bottleneck = B2;
  N->input_size = in2;
  N->head_size = head2;
  N->slim.n_allowed = 0;
  N->slim.allowed_channels = NULL;
  N->rechannel_w = cut(ct, A->rechannel_w, A->input_size, C2, in2, 1);
  N->layers = qm_desc_alloc(ct->d, (size_t)A->n_layers * sizeof *N->layers);
  if (!N->layers) {
    ct->failed = true;
    return;
  }
  for (int l = 0; l < A->n_layers; ++l)
    cut_layer(ct, A, &A->layers[l], &N->layers[l], C2, B2);
  const int head_in = A->head1x1 ? A->head1x1_out : B, head_in2 = A->head1x1 ? A->head1x1_out : B2;
  N->head_w = cut(ct, A->head_w, head_in, head2, head_in2, A->head_kernel);
  N->head_b = A->head_bias ? cut(ct, A->head_b, 1, head2, 1, 1) : NULL;
}

qm_desc *qm_wavenet_slice(const qm_desc *d, const int *channels, bool weights)
{
  const qm_wavenet_desc *wn = &d->wavenet;
  qm_desc *s = qm_desc_new(d->path);
  if (!s)
    return NULL;
  /* what slimming leaves alone is shared with d (strings, metadata, the
     post-stack head, condition_dsp): s never frees it */
  s->kind = d->kind;
  s->arch = d->arch;
  s->version = d->version;
  s->architecture = d->architecture;
  s->sample_rate = d->sample_rate;
  s->sample_rate_in_file = d->sample_rate_in_file;
  s->meta = d->meta;
  s->prewarm_samples = d->prewarm_samples; /* the same kernels and dilations */
  s->wavenet = *wn;
  cutter ct = {s, weights, 1 /* head_scale */, false};
  qm_wn_array *arrays = qm_desc_alloc(s, (size_t)wn->n_arrays * sizeof *arrays);
  ct.failed = !arrays;
  for (int a = 0; a < wn->n_arrays && !ct.failed; ++a) {
    const qm_wn_array *A = &wn->arrays[a];
    const int in2 = a == 0 ? A->input_size : channels[a - 1];
    const int head2 = a + 1 < wn->n_arrays ? channels[a + 1] : A->head_size;
    cut_array(&ct, A, &arrays[a], channels[a], in2, head2);
  }
  if (ct.failed) {
    qm_desc_free(s);
    return NULL;
  }
  s->wavenet.arrays = arrays;
  for (int i = 0; i < wn->head.n_convs; ++i) {
    const qm_wn_head_conv *hc = &wn->head.convs[i];
    ct.floats += (size_t)hc->out * ((size_t)hc->kernel_size * (size_t)hc->in + 1);
  }
  /* the loader counts a condition_dsp's weights in its model's */
  s->n_weights = ct.floats + (wn->condition_dsp ? wn->condition_dsp->n_weights : 0);
  return s;
}

/* ---- Cost ------------------------------------------------------------------------ */

double qm_wavenet_macs(const qm_desc *d)
{
  const qm_wavenet_desc *wn = &d->wavenet;
  double macs = 0;
  for (int a = 0; a < wn->n_arrays; ++a) {
    const qm_wn_array *A = &wn->arrays[a];
    const double C = A->channels, B = A->bottleneck, Q = A->condition_size, H1 = A->head1x1_out;
    macs += C * A->input_size; /* rechannel */
    for (int l = 0; l < A->n_layers; ++l) {
      const qm_wn_layer *L = &A->layers[l];
      const double Z = (L->gating != QM_GATING_NONE ? 2.0 : 1.0) * B;
      macs += Z * L->kernel_size * C + Z * Q; /* dilated conv, input mixin */
      if (A->layer1x1)
        macs += C * B;
      if (A->head1x1)
        macs += H1 * B;
      for (int p = 0; p < QM_FILM_COUNT; ++p)
        if (A->film[p].active)
          macs += (A->film[p].shift ? 2.0 : 1.0) * L->film[p].dim * Q;
    }
    macs += (double)A->head_size * A->head_kernel * (A->head1x1 ? H1 : B); /* array head */
  }
  for (int i = 0; i < wn->head.n_convs; ++i)
    macs += (double)wn->head.convs[i].out * wn->head.convs[i].kernel_size * wn->head.convs[i].in;
  if (wn->condition_dsp)
    macs += qm_wavenet_macs(wn->condition_dsp);
  return macs;
}
