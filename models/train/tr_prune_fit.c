/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
#include "tr_prune_fit.h"

#include "tr_loss.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/** Whether NAM can slice cfg as a slimmable WaveNet: 1-tap heads only, and where an array
    follows another, its bottleneck equals its channels (NAM cuts the previous head to the
    next array's channel count). */
static bool sliceable(const tr_wn_config *cfg, char *err, size_t errlen)
{
  for (int a = 0; a < cfg->n_arrays; ++a) {
    const tr_wn_array_cfg *A = &cfg->arrays[a];
    if (tr_wn_head_kernel(A) != 1) {
      snprintf(err, errlen,
               "layer array %d has a %d-tap head: NAM slices only 1-tap heads, write a "
               "container instead (--format container)",
               a, tr_wn_head_kernel(A));
      return false;
    }
    if (a > 0 && tr_wn_bottleneck(A) != A->channels) {
      snprintf(err, errlen,
               "layer array %d: bottleneck != channels cannot be sliced; use a container", a);
      return false;
    }
  }
  return true;
}

/** o's checkpoint or resume path for width w ("" when o has none, or a resume file is absent). */
static void width_path(char *dst, size_t len, const char *base, int w, bool must_exist)
{
  dst[0] = '\0';
  if (!base)
    return;
  snprintf(dst, len, "%s.w%d", base, w);
  if (must_exist && access(dst, R_OK) != 0)
    dst[0] = '\0';
}

/** Build the model of pick's channels with its parameters gathered from full params p; its
    parameter map in *map (caller frees). */
static tr_model *cut(const tr_wn_config *full, const tr_prune_pick *pick, const float *p,
                     int threads, size_t **map)
{
  tr_wn_config sub;
  *map = malloc(tr_wavenet_param_count(full) * sizeof **map);
  if (!*map)
    abort();
  tr_prune_subset(full, pick, &sub, *map);
  tr_model *s = tr_wavenet_new(&sub, 0, threads);
  if (s)
    tr_prune_gather(p, *map, s->n_params, s->p);
  return s;
}

static bool check_widths(const tr_wn_config *cfg, const tr_prune_opts *po, tr_prune_report *rep,
                         char *err, size_t errlen)
{
  const int C0 = cfg->arrays[0].channels;
  if (po->n_widths < 1 || po->n_widths + 1 > TR_WN_MAX_SLIM) {
    snprintf(err, errlen, "1 to %d widths", TR_WN_MAX_SLIM - 1);
    return false;
  }
  for (int i = 0; i < po->n_widths; ++i)
    if (po->widths[i] < 1 || po->widths[i] >= C0 || (i > 0 && po->widths[i] <= po->widths[i - 1])) {
      snprintf(err, errlen, "widths must rise from 1 and stay below the model's %d channels", C0);
      return false;
    }
  rep->n_sizes = po->n_widths + 1;
  for (int i = 0; i < rep->n_sizes; ++i) {
    tr_prune_uniform_channels(cfg, i < po->n_widths ? po->widths[i] : C0, rep->channels[i]);
    for (int a = 0; i > 0 && a < cfg->n_arrays; ++a)
      if (rep->channels[i][a] <= rep->channels[i - 1][a]) {
        snprintf(err, errlen,
                 "width %d gives layer array %d %d channels, as many as the narrower width: "
                 "every array's sizes must rise",
                 rep->channels[i][0], a, rep->channels[i][a]);
        return false;
      }
  }
  return true;
}

/** The reordered full model with every array's sizes as allowed_channels, written to path. */
static bool write_slimmable(const char *path, const tr_wn_config *cfg, const tr_prune_pick *order,
                            const float *work, const tr_prune_report *rep, const tr_nam_meta *meta)
{
  tr_wn_config pc;
  size_t *map = malloc(tr_wavenet_param_count(cfg) * sizeof *map);
  if (!map)
    abort();
  tr_prune_subset(cfg, order, &pc, map);
  for (int a = 0; a < pc.n_arrays; ++a) {
    pc.arrays[a].n_slim_allowed = rep->n_sizes;
    for (int i = 0; i < rep->n_sizes; ++i)
      pc.arrays[a].slim_allowed[i] = rep->channels[i][a];
  }
  tr_model *perm = tr_wavenet_new(&pc, 0, 1);
  bool ok = perm != NULL;
  if (ok) {
    tr_prune_gather(work, map, perm->n_params, perm->p);
    ok = tr_nam_write(path, perm, perm->p, meta);
  }
  free(map);
  tr_model_free(perm);
  return ok;
}

bool tr_prune_run(tr_model *m, const tr_dataset *d, const tr_prune_opts *po, const tr_train_opts *o,
                  tr_prune_report *rep, char *err, size_t errlen)
{
  memset(rep, 0, sizeof *rep);
  if (m->arch != TR_WAVENET) {
    snprintf(err, errlen, "structured pruning needs a WaveNet");
    return false;
  }
  const tr_wn_config *cfg = tr_wavenet_config(m);
  if (!check_widths(cfg, po, rep, err, errlen) ||
      (po->format == TR_PRUNE_SLIMMABLE && !sliceable(cfg, err, errlen)))
    return false;
  size_t nc = (size_t)(po->calib_seconds * 48000.0);
  nc = nc < d->train.n ? nc : d->train.n;
  if (!tr_prune_rank(m, po->criterion, d->train.x, nc, &rep->ranking, err, errlen))
    return false;
  const tr_prune_pick *order = &rep->ranking.order;
  if (!o->quiet)
    for (int a = 0; a < cfg->n_arrays; ++a)
      for (int space = 0; space < 2; ++space) {
        const int n = space ? order->n_bot[a] : order->n_res[a];
        const int *ch = space ? order->bot[a] : order->res[a];
        const double *sc = space ? rep->ranking.bot_score[a] : rep->ranking.res_score[a];
        printf("array %d %s channels, most important first (score):", a,
               space ? "bottleneck" : "residual");
        for (int i = 0; i < n; ++i)
          printf(" %d (%.3g)", ch[i], sc[ch[i]]);
        printf("\n");
      }
  const size_t np = m->n_params;
  float *work = malloc(np * sizeof *work);
  unsigned char *inner = calloc(np, 1); /* the previous width's parameters (slimmable) */
  tr_model *sub[TR_WN_MAX_SLIM] = {0};
  if (!work || !inner)
    abort();
  memcpy(work, m->p, np * sizeof *work);
  bool ok = true;
  for (int i = 0; i < rep->n_sizes && ok; ++i) {
    const bool full = i + 1 == rep->n_sizes;
    tr_prune_pick pick;
    tr_prune_first(cfg, order, rep->channels[i], &pick);
    size_t *map;
    sub[i] = cut(cfg, &pick, work, m->threads, &map);
    if (!sub[i]) {
      snprintf(err, errlen, "cannot build the model of width %d", rep->channels[i][0]);
      free(map);
      ok = false;
      break;
    }
    tr_model *s = sub[i];
    rep->params[i] = s->n_params + 1;
    rep->esr_cut[i] = tr_evaluate(s, s->p, NULL, &d->val, o->val_skip, NULL, NULL, NULL);
    rep->esr_tuned[i] = rep->esr_own[i] = -1.0;
    /* a container keeps the full model as given; a slimmable one re-fits its outer weights
       around the tuned narrower widths */
    const bool tune = o->epochs > 0 && (!full || po->format == TR_PRUNE_SLIMMABLE);
    if (!o->quiet) {
      printf("width");
      for (int a = 0; a < cfg->n_arrays; ++a)
        printf("%s%d", a ? "/" : " ", rep->channels[i][a]);
      printf(": %zu parameters, held-out ESR cut from the full model %.6f%s\n", rep->params[i],
             rep->esr_cut[i], tune ? "; fine-tuning" : "");
    }
    if (tune) {
      tr_train_opts wo = *o;
      char ck[4096], rs[4096];
      width_path(ck, sizeof ck, o->checkpoint, rep->channels[i][0], false);
      width_path(rs, sizeof rs, o->resume, rep->channels[i][0], true);
      wo.checkpoint = ck[0] ? ck : NULL;
      wo.resume = rs[0] ? rs : NULL;
      unsigned char *frozen = NULL;
      if (po->format == TR_PRUNE_SLIMMABLE && i > 0) {
        frozen = malloc(s->n_params);
        if (!frozen)
          abort();
        for (size_t k = 0; k < s->n_params; ++k)
          frozen[k] = inner[map[k]];
        wo.frozen = frozen;
      }
      tr_train_result r;
      ok = tr_train(s, d, &wo, &r, err, errlen);
      free(frozen);
      if (ok)
        rep->esr_tuned[i] = rep->esr_own[i] = r.best_val_esr;
    }
    if (ok && po->format == TR_PRUNE_SLIMMABLE) {
      memset(inner, 0, np);
      for (size_t k = 0; k < s->n_params; ++k) {
        work[map[k]] = s->p[k];
        inner[map[k]] = 1;
      }
    }
    free(map);
  }
  if (ok && po->format == TR_PRUNE_SLIMMABLE && o->epochs > 0) {
    /* what the file plays at each width: cut from the final weights (a narrower width's
       weights are frozen inside every wider one, so this is its tuned model) */
    for (int i = 0; i < rep->n_sizes; ++i) {
      tr_prune_pick pick;
      tr_prune_first(cfg, order, rep->channels[i], &pick);
      size_t *map;
      tr_model *s = cut(cfg, &pick, work, m->threads, &map);
      free(map);
      rep->esr_tuned[i] = tr_evaluate(s, s->p, NULL, &d->val, o->val_skip, NULL, NULL, NULL);
      tr_model_free(s);
    }
  }
  if (ok && po->out) {
    if (po->format == TR_PRUNE_SLIMMABLE) {
      ok = write_slimmable(po->out, cfg, order, work, rep, po->meta);
    } else {
      const tr_model *models[TR_WN_MAX_SLIM];
      const float *params[TR_WN_MAX_SLIM];
      double max_values[TR_WN_MAX_SLIM];
      for (int i = 0; i < rep->n_sizes; ++i) {
        models[i] = sub[i];
        params[i] = sub[i]->p;
        max_values[i] = (double)(i + 1) / rep->n_sizes;
      }
      ok = tr_nam_write_container(po->out, rep->n_sizes, models, params, max_values, po->meta);
    }
    if (!ok)
      snprintf(err, errlen, "cannot write %s", po->out);
  }
  for (int i = 0; i < rep->n_sizes; ++i)
    tr_model_free(sub[i]);
  free(work);
  free(inner);
  return ok;
}
