/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
#include "tr_prune.h"

#include "tr_loss.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool tr_prune_supported(const tr_wn_config *cfg, char *err, size_t errlen)
{
  for (int a = 0; a < cfg->n_arrays; ++a) {
    const tr_wn_array_cfg *A = &cfg->arrays[a];
    const int dims[] = {A->channels, tr_wn_bottleneck(A), A->input_size, A->head_size};
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; ++i)
      if (dims[i] > TR_PRUNE_MAX_CHANNELS) {
        snprintf(err, errlen, "layer array %d: %d channels, the pruner handles at most %d", a,
                 dims[i], TR_PRUNE_MAX_CHANNELS);
        return false;
      }
  }
  return true;
}

void tr_prune_identity(const tr_wn_config *cfg, tr_prune_pick *pick)
{
  memset(pick, 0, sizeof *pick);
  pick->n_arrays = cfg->n_arrays;
  for (int a = 0; a < cfg->n_arrays; ++a) {
    pick->n_res[a] = cfg->arrays[a].channels;
    pick->n_bot[a] = tr_wn_bottleneck(&cfg->arrays[a]);
    for (int c = 0; c < TR_PRUNE_MAX_CHANNELS; ++c)
      pick->res[a][c] = pick->bot[a][c] = c;
  }
}

/** Bottleneck channels array A keeps at C' residual ones (NAM's rule with layer1x1). */
static int slim_bottleneck(const tr_wn_array_cfg *A, int channels)
{
  const int b = tr_wn_bottleneck(A) * channels / A->channels;
  return b > 1 ? b : 1;
}

void tr_prune_uniform_channels(const tr_wn_config *cfg, int w, int *channels)
{
  for (int a = 0; a < cfg->n_arrays; ++a) {
    const int c = cfg->arrays[a].channels * w / cfg->arrays[0].channels;
    channels[a] = c > 1 ? c : 1;
  }
}

void tr_prune_first(const tr_wn_config *cfg, const tr_prune_pick *order, const int *channels,
                    tr_prune_pick *pick)
{
  *pick = *order;
  for (int a = 0; a < cfg->n_arrays; ++a) {
    pick->n_res[a] = channels[a];
    pick->n_bot[a] = slim_bottleneck(&cfg->arrays[a], channels[a]);
  }
}

/* The walk below follows the file's order (tr_wavenet.c's layout, NAM's
   set_weights_): per array the rechannel [C][I], per layer the conv
   [B][C][K] and its bias [B], the input mixin [B], layer1x1 [C][B] and
   its bias [C], then the head [HS][B][KH] and its bias [HS] if any. */
void tr_prune_subset(const tr_wn_config *full, const tr_prune_pick *pick, tr_wn_config *sub,
                     size_t *map)
{
  int ident[TR_PRUNE_MAX_CHANNELS];
  for (int i = 0; i < TR_PRUNE_MAX_CHANNELS; ++i)
    ident[i] = i;
  *sub = *full;
  const int last = full->n_arrays - 1;
  size_t o = 0, n = 0;
  for (int a = 0; a < full->n_arrays; ++a) {
    const tr_wn_array_cfg *A = &full->arrays[a];
    tr_wn_array_cfg *S = &sub->arrays[a];
    const size_t C = (size_t)A->channels, B = (size_t)tr_wn_bottleneck(A);
    const size_t I = (size_t)A->input_size, HS = (size_t)A->head_size;
    const size_t KH = (size_t)tr_wn_head_kernel(A);
    const int *res = pick->res[a], *bot = pick->bot[a];
    const int nr = pick->n_res[a], nb = pick->n_bot[a];
    /* the inputs are the previous array's residual channels, the head's
       rows the next array's bottleneck channels */
    const int *in = a > 0 ? pick->res[a - 1] : ident;
    const int ni = a > 0 ? pick->n_res[a - 1] : A->input_size;
    const int *rows = a < last ? pick->bot[a + 1] : ident;
    const int nh = a < last ? pick->n_bot[a + 1] : A->head_size;
    S->channels = nr;
    S->bottleneck = A->bottleneck == 0 && nb == nr ? 0 : nb;
    S->input_size = ni;
    S->head_size = nh;
    for (int r = 0; r < nr; ++r)
      for (int i = 0; i < ni; ++i)
        map[n++] = o + (size_t)res[r] * I + (size_t)in[i];
    o += C * I;
    for (int l = 0; l < A->n_layers; ++l) {
      const size_t K = (size_t)tr_wn_kernel(A, l);
      for (int r = 0; r < nb; ++r)
        for (int i = 0; i < nr; ++i)
          for (size_t k = 0; k < K; ++k)
            map[n++] = o + ((size_t)bot[r] * C + (size_t)res[i]) * K + k;
      o += B * C * K;
      for (int r = 0; r < nb; ++r) /* conv bias */
        map[n++] = o + (size_t)bot[r];
      o += B;
      for (int r = 0; r < nb; ++r) /* input mixin */
        map[n++] = o + (size_t)bot[r];
      o += B;
      for (int r = 0; r < nr; ++r)
        for (int j = 0; j < nb; ++j)
          map[n++] = o + (size_t)res[r] * B + (size_t)bot[j];
      o += C * B;
      for (int r = 0; r < nr; ++r)
        map[n++] = o + (size_t)res[r];
      o += C;
    }
    for (int r = 0; r < nh; ++r)
      for (int j = 0; j < nb; ++j)
        for (size_t k = 0; k < KH; ++k)
          map[n++] = o + ((size_t)rows[r] * B + (size_t)bot[j]) * KH + k;
    o += HS * B * KH;
    if (A->head_bias) {
      for (int r = 0; r < nh; ++r)
        map[n++] = o + (size_t)rows[r];
      o += HS;
    }
  }
}

void tr_prune_gather(const float *p, const size_t *map, size_t n, float *sub_p)
{
  for (size_t i = 0; i < n; ++i)
    sub_p[i] = p[map[i]];
}

void tr_prune_zero_outside(const tr_wn_config *full, const tr_prune_pick *pick, const float *p,
                           float *out)
{
  tr_wn_config sub;
  const size_t n_full = tr_wavenet_param_count(full);
  size_t *map = malloc(n_full * sizeof *map);
  if (!map)
    abort();
  tr_prune_subset(full, pick, &sub, map);
  const size_t n = tr_wavenet_param_count(&sub);
  memset(out, 0, n_full * sizeof *out);
  for (size_t i = 0; i < n; ++i)
    out[map[i]] = p[map[i]];
  free(map);
}

/** L1 norm of input column i of tensor t: every row and tap. */
static double column_l1(const tr_tensor *t, const float *p, int i)
{
  const int in = t->cols / t->taps;
  double s = 0.0;
  for (int r = 0; r < t->rows; ++r)
    for (int k = 0; k < t->taps; ++k) {
      const float v = p[t->off + ((size_t)r * in + (size_t)i) * t->taps + (size_t)k];
      s += v < 0.0f ? -v : v;
    }
  return s;
}

/** Outgoing weights: a residual channel feeds every conv of its array and the next array's
    rechannel; a bottleneck channel every layer1x1 and its array's head (tr_model tensors:
    per array rechannel, then conv / input mixin / layer1x1 per layer, then the head). */
static void score_l1(const tr_model *m, tr_prune_ranking *r)
{
  const tr_wn_config *cfg = tr_wavenet_config(m);
  int base = 0;
  for (int a = 0; a < cfg->n_arrays; ++a) {
    const tr_wn_array_cfg *A = &cfg->arrays[a];
    const int next = base + 2 + 3 * A->n_layers, head = next - 1;
    for (int c = 0; c < A->channels; ++c) {
      double s = 0.0;
      for (int l = 0; l < A->n_layers; ++l)
        s += column_l1(&m->tensors[base + 1 + 3 * l], m->p, c);
      if (a + 1 < cfg->n_arrays)
        s += column_l1(&m->tensors[next], m->p, c);
      r->res_score[a][c] = s;
    }
    for (int j = 0; j < tr_wn_bottleneck(A); ++j) {
      double s = column_l1(&m->tensors[head], m->p, j);
      for (int l = 0; l < A->n_layers; ++l)
        s += column_l1(&m->tensors[base + 3 + 3 * l], m->p, j);
      r->bot_score[a][j] = s;
    }
    base = next;
  }
}

/** The output change of removing each channel alone. */
static void score_output(tr_model *m, const float *x, size_t n, tr_prune_ranking *r)
{
  const tr_wn_config *cfg = tr_wavenet_config(m);
  float *pz = malloc(m->n_params * sizeof *pz), *y0 = malloc(n * sizeof *y0),
        *y = malloc(n * sizeof *y);
  if (!pz || !y0 || !y)
    abort();
  m->predict(m, m->p, x, n, y0);
  tr_prune_pick all;
  tr_prune_identity(cfg, &all);
  for (int a = 0; a < cfg->n_arrays; ++a)
    for (int space = 0; space < 2; ++space) {
      const int count = space == 0 ? all.n_res[a] : all.n_bot[a];
      for (int c = 0; c < count; ++c) {
        tr_prune_pick without = all;
        int *list = space == 0 ? without.res[a] : without.bot[a];
        int *len = space == 0 ? &without.n_res[a] : &without.n_bot[a];
        memmove(list + c, list + c + 1, (size_t)(count - 1 - c) * sizeof *list);
        --*len;
        tr_prune_zero_outside(cfg, &without, m->p, pz);
        m->predict(m, pz, x, n, y);
        (space == 0 ? r->res_score : r->bot_score)[a][c] = tr_esr(y, y0, n);
      }
    }
  free(pz);
  free(y0);
  free(y);
}

/** order[0..n): channel indices by score, highest first, ties by index (a stable insertion sort:
    n is at most TR_PRUNE_MAX_CHANNELS). */
static void sort_by_score(const double *score, int n, int *order)
{
  for (int i = 0; i < n; ++i) {
    int j = i;
    while (j > 0 && score[order[j - 1]] < score[i]) {
      order[j] = order[j - 1];
      --j;
    }
    order[j] = i;
  }
}

bool tr_prune_rank(tr_model *m, tr_prune_criterion c, const float *x, size_t n, tr_prune_ranking *r,
                   char *err, size_t errlen)
{
  if (m->arch != TR_WAVENET) {
    snprintf(err, errlen, "structured pruning needs a WaveNet");
    return false;
  }
  const tr_wn_config *cfg = tr_wavenet_config(m);
  if (!tr_prune_supported(cfg, err, errlen))
    return false;
  if (c == TR_PRUNE_OUTPUT_CHANGE && (size_t)m->context + 1 > n) {
    snprintf(err, errlen, "calibration audio (%zu samples) shorter than the receptive field", n);
    return false;
  }
  memset(r, 0, sizeof *r);
  if (c == TR_PRUNE_L1)
    score_l1(m, r);
  else
    score_output(m, x, n, r);
  tr_prune_identity(cfg, &r->order);
  for (int a = 0; a < cfg->n_arrays; ++a) {
    sort_by_score(r->res_score[a], r->order.n_res[a], r->order.res[a]);
    sort_by_score(r->bot_score[a], r->order.n_bot[a], r->order.bot[a]);
  }
  return true;
}
