/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Structured pruning (models/train/tr_prune.h, tr_prune_fit.h), on two
  small random WaveNets, an A1 pair of chained arrays and an A2 array with
  a bottleneck and a 4-tap head:
  - a random reordering of every channel space computes the same function
    (ESR < 1e-12 against the original);
  - cutting to the full width is the identity, and cutting to k channels
    computes what the full model does with the other channels zeroed;
  - both criteria rank a deliberately dead channel (no outgoing weights)
    last in its space, and the output-change criterion also one whose
    incoming weights are dead;
  - quantone-train prune's files (a slimmable WaveNet and a container)
    load through the engine's loader, and at every slim step the engine
    plays what the pruner reported for that width; nested fine-tuning
    leaves the narrower widths exactly as their own fine-tunes left them.
*/
#include "engine.h"
#include "model_file.h"
#include "slim.h"
#include "tr_data.h"
#include "tr_loss.h"
#include "tr_prune.h"
#include "tr_prune_fit.h"
#include "tr_rng.h"
#include "tr_wavenet.h"

#define TEST_CHECK_STREAM stdout
#include "test_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { N_SIGNAL = 6000 };

static tr_model *a1_pair(unsigned long long seed)
{
  tr_wn_config c;
  memset(&c, 0, sizeof c);
  c.n_arrays = 2;
  c.arrays[0] = (tr_wn_array_cfg){.input_size = 1,
                                  .channels = 6,
                                  .head_size = 4,
                                  .kernel_size = 3,
                                  .n_layers = 4,
                                  .dilations = {1, 2, 4, 8}};
  c.arrays[1] = (tr_wn_array_cfg){.input_size = 6,
                                  .channels = 4,
                                  .head_size = 1,
                                  .kernel_size = 3,
                                  .n_layers = 3,
                                  .head_bias = true,
                                  .dilations = {1, 3, 9}};
  c.head_scale = 0.3f;
  return tr_wavenet_new(&c, seed, 1);
}

static tr_model *a2_single(unsigned long long seed)
{
  tr_wn_config c;
  memset(&c, 0, sizeof c);
  c.n_arrays = 1;
  c.arrays[0] = (tr_wn_array_cfg){.input_size = 1,
                                  .channels = 6,
                                  .bottleneck = 4,
                                  .head_size = 1,
                                  .head_bias = true,
                                  .head_kernel = 4,
                                  .kernel_size = 3,
                                  .kernel_sizes = {3, 5, 2, 3},
                                  .n_layers = 4,
                                  .dilations = {1, 2, 5, 11},
                                  .activation = TR_WN_LEAKY_RELU,
                                  .negative_slope = 0.1f};
  c.head_scale = 0.3f;
  return tr_wavenet_new(&c, seed, 1);
}

static void test_signal(float *x, size_t n)
{
  tr_rng r;
  tr_rng_seed(&r, 5);
  for (size_t i = 0; i < n; ++i)
    x[i] = (float)(0.5 * sin(0.021 * (double)i) + 0.3 * sin(0.29 * (double)i + 0.4) +
                   tr_rng_range(&r, -0.2, 0.2));
}

/** ESR of model sub (parameters q) against m's output y0 over the test signal. */
static double esr_vs(tr_model *sub, const float *q, const float *x, const float *y0)
{
  float *y = malloc(N_SIGNAL * sizeof *y);
  sub->predict(sub, q, x, N_SIGNAL, y);
  const double e = tr_esr(y, y0, N_SIGNAL);
  free(y);
  return e;
}

/** The model keeping pick's channels of m, with its parameters. */
static tr_model *cut(tr_model *m, const tr_prune_pick *pick)
{
  tr_wn_config sub;
  size_t *map = malloc(m->n_params * sizeof *map);
  tr_prune_subset(tr_wavenet_config(m), pick, &sub, map);
  tr_model *s = tr_wavenet_new(&sub, 0, 1);
  CHECK(s != NULL, "the cut model's config is refused");
  if (s)
    tr_prune_gather(m->p, map, s->n_params, s->p);
  free(map);
  return s;
}

static void shuffle(tr_rng *r, int *v, int n)
{
  for (int i = n - 1; i > 0; --i) {
    const int j = (int)(tr_rng_uniform(r) * (i + 1)) % (i + 1), t = v[i];
    v[i] = v[j];
    v[j] = t;
  }
}

static void test_permute_and_cut(const char *what, tr_model *m)
{
  const tr_wn_config *cfg = tr_wavenet_config(m);
  float *x = malloc(N_SIGNAL * sizeof *x), *y0 = malloc(N_SIGNAL * sizeof *y0);
  test_signal(x, N_SIGNAL);
  m->predict(m, m->p, x, N_SIGNAL, y0);

  /* a random reordering of every space */
  tr_rng r;
  tr_rng_seed(&r, 21);
  tr_prune_pick perm;
  tr_prune_identity(cfg, &perm);
  for (int a = 0; a < cfg->n_arrays; ++a) {
    shuffle(&r, perm.res[a], perm.n_res[a]);
    shuffle(&r, perm.bot[a], perm.n_bot[a]);
  }
  tr_model *pm = cut(m, &perm);
  if (pm) {
    const double e = esr_vs(pm, pm->p, x, y0);
    printf("%s: reordered channels vs original ESR %.3g\n", what, e);
    CHECK(e < 1e-12, "%s: the reordered model computes something else (ESR %.3g)", what, e);
    CHECK(pm->n_params == m->n_params && memcmp(pm->p, m->p, m->n_params * sizeof *m->p) != 0,
          "%s: the reordering did not move the weights", what);
  }

  /* the full width of the identity order is the model itself */
  int full[TR_WN_MAX_ARRAYS], k[TR_WN_MAX_ARRAYS];
  for (int a = 0; a < cfg->n_arrays; ++a)
    full[a] = cfg->arrays[a].channels;
  tr_prune_pick id, pick;
  tr_prune_identity(cfg, &id);
  tr_prune_first(cfg, &id, full, &pick);
  tr_model *same = cut(m, &pick);
  if (same) {
    CHECK(same->n_params == m->n_params && !memcmp(same->p, m->p, m->n_params * sizeof *m->p),
          "%s: cut to the full width is not the model", what);
    CHECK(esr_vs(same, same->p, x, y0) == 0.0, "%s: full width plays differently", what);
  }
  /* and of the reordered model, the reordered one */
  tr_prune_first(cfg, &perm, full, &pick);
  tr_model *pf = cut(m, &pick);
  if (pf && pm)
    CHECK(!memcmp(pf->p, pm->p, m->n_params * sizeof *m->p),
          "%s: the reordered model cut to its full width changed", what);

  /* a narrower width computes the full model with the other channels zeroed */
  tr_prune_uniform_channels(cfg, cfg->arrays[0].channels / 2, k);
  tr_prune_first(cfg, &perm, k, &pick);
  tr_model *half = cut(m, &pick);
  float *pz = malloc(m->n_params * sizeof *pz), *yz = malloc(N_SIGNAL * sizeof *yz);
  tr_prune_zero_outside(cfg, &pick, m->p, pz);
  m->predict(m, pz, x, N_SIGNAL, yz);
  if (half) {
    const double e = esr_vs(half, half->p, x, yz), moved = tr_esr(yz, y0, N_SIGNAL);
    printf("%s: cut to %d channels vs zeroed full model ESR %.3g (vs the full output %.3g)\n", what,
           k[0], e, moved);
    CHECK(e < 1e-12 && moved > 1e-4,
          "%s: cut to %d channels is not the zeroed model (ESR %.3g; zeroing moved it %.3g)", what,
          k[0], e, moved);
    CHECK(half->n_params < m->n_params, "%s: the cut model is not smaller", what);
  }
  free(pz);
  free(yz);
  tr_model_free(pm);
  tr_model_free(same);
  tr_model_free(pf);
  tr_model_free(half);
  free(x);
  free(y0);
}

/** Kill residual channel rc and bottleneck channel bc of the first array. outgoing: zero the
    weights they feed (conv inputs, next rechannel / layer1x1 inputs, head inputs); else the
    weights into them. */
static void kill_channels(tr_model *m, int rc, int bc, bool outgoing)
{
  const tr_wn_config *cfg = tr_wavenet_config(m);
  const tr_wn_array_cfg *A = &cfg->arrays[0];
  const int L = A->n_layers;
  for (int t = 0; t < 2 + 3 * L; ++t) {
    const tr_tensor *T = &m->tensors[t];
    const int in = T->cols / T->taps;
    const bool conv = t >= 1 && t <= 3 * L && (t - 1) % 3 == 0, mix = t >= 1 && (t - 1) % 3 == 1,
               w1 = t >= 1 && t <= 3 * L && (t - 1) % 3 == 2, head = t == 1 + 3 * L;
    for (int r = 0; r < T->rows; ++r)
      for (int i = 0; i < in; ++i)
        for (int k = 0; k < T->taps; ++k) {
          float *v = &m->p[T->off + ((size_t)r * in + (size_t)i) * T->taps + (size_t)k];
          if (outgoing && (((conv) && i == rc) || ((w1 || head) && i == bc)))
            *v = 0.0f;
          if (!outgoing &&
              (((t == 0 || w1) && r == rc) || ((conv || (mix && t <= 3 * L)) && r == bc)))
            *v = 0.0f;
        }
  }
  if (!outgoing) { /* the biases into them: conv bias before the mixin, layer1x1's after it */
    const size_t C = (size_t)A->channels, B = (size_t)tr_wn_bottleneck(A);
    for (int l = 0; l < L; ++l) {
      m->p[m->tensors[2 + 3 * l].off - B + (size_t)bc] = 0.0f;
      m->p[m->tensors[3 + 3 * l].off + C * B + (size_t)rc] = 0.0f;
    }
  }
  if (outgoing && cfg->n_arrays > 1) { /* the next array's rechannel reads the residual */
    const tr_tensor *T = &m->tensors[2 + 3 * L];
    for (int r = 0; r < T->rows; ++r)
      m->p[T->off + (size_t)r * T->stride + (size_t)rc] = 0.0f;
  }
}

static void test_dead_channel(const char *what, tr_model *(*make)(unsigned long long))
{
  float *x = malloc(N_SIGNAL * sizeof *x);
  test_signal(x, N_SIGNAL);
  for (int outgoing = 1; outgoing >= 0; --outgoing) {
    tr_model *m = make(3);
    kill_channels(m, 1, 1, outgoing);
    const tr_wn_config *cfg = tr_wavenet_config(m);
    const int C = cfg->arrays[0].channels, B = tr_wn_bottleneck(&cfg->arrays[0]);
    for (int crit = 0; crit < 2; ++crit) {
      if (!outgoing && crit == TR_PRUNE_L1)
        continue; /* L1 of outgoing weights cannot see dead inputs (why it is not the default) */
      tr_prune_ranking rk;
      char err[256];
      const bool ok = tr_prune_rank(m, (tr_prune_criterion)crit, x, N_SIGNAL, &rk, err, sizeof err);
      CHECK(ok, "%s: rank: %s", what, err);
      if (!ok)
        continue;
      printf("%s, dead %s, criterion %s: residual last %d (score %.3g), bottleneck last %d "
             "(score %.3g)\n",
             what, outgoing ? "outputs" : "inputs", crit ? "l1" : "output", rk.order.res[0][C - 1],
             rk.res_score[0][rk.order.res[0][C - 1]], rk.order.bot[0][B - 1],
             rk.bot_score[0][rk.order.bot[0][B - 1]]);
      CHECK(rk.order.res[0][C - 1] == 1 && rk.res_score[0][1] == 0.0,
            "%s: dead residual channel 1 not ranked last (%d is)", what, rk.order.res[0][C - 1]);
      CHECK(rk.order.bot[0][B - 1] == 1 && rk.bot_score[0][1] == 0.0,
            "%s: dead bottleneck channel 1 not ranked last (%d is)", what, rk.order.bot[0][B - 1]);
      CHECK(rk.res_score[0][rk.order.res[0][C - 2]] > 0.0, "%s: a live channel scores 0", what);
    }
    tr_model_free(m);
  }
  free(x);
}

/** What the engine plays from a loaded file at slim value s: held-out ESR vs the target. */
static double engine_esr(qm_desc *d, double s, const tr_signal *v, int skip)
{
  char err[512];
  const qm_desc *at = qm_desc_at_slim(d, s, err, sizeof err);
  CHECK(at != NULL, "slim %.2f: %s", s, err);
  if (!at)
    return -1.0;
  qm_model *e = qm_model_create(at, NULL, err, sizeof err);
  CHECK(e != NULL, "engine: %s", err);
  if (!e)
    return -1.0;
  float *y = malloc(v->n * sizeof *y);
  qm_model_process(e, v->x, y, (int)v->n);
  const double r = tr_esr(y + skip, v->y + skip, v->n - (size_t)skip);
  qm_model_free(e);
  free(y);
  return r;
}

static void test_files(const char *what, tr_model *m, tr_prune_format format)
{
  tr_dataset d;
  char err[512];
  CHECK(tr_dataset_builtin(&d, "overdrive", ASAN_BUILD ? 0.5 : 1.0, 0.25, 4, err, sizeof err), "%s",
        err);
  tr_train_opts o;
  tr_train_opts_default(&o);
  o.epochs = 2;
  o.steps_per_epoch = ASAN_BUILD ? 2 : 4;
  o.batch = 4;
  o.segment = 512;
  o.val_skip = 400;
  o.quiet = 1;
  char path[] = "/tmp/qtrain-prune-XXXXXX";
  const int fd = mkstemp(path);
  CHECK(fd >= 0, "mkstemp");
  close(fd);
  tr_nam_meta meta = {"prune test", NULL, NULL, NULL, -1.0, NULL};
  tr_prune_opts po = {TR_PRUNE_OUTPUT_CHANGE, format, 2, {2, 4}, 0.1, path, &meta};
  tr_prune_report rep;
  const bool ok = tr_prune_run(m, &d, &po, &o, &rep, err, sizeof err);
  CHECK(ok, "%s: prune: %s", what, err);
  qm_desc *f = ok ? qm_load_file(path, err, sizeof err) : NULL;
  CHECK(!ok || f, "%s: the engine's loader refused the pruned file: %s", what, err);
  if (f) {
    qm_slim_step steps[8];
    const int n = qm_desc_slim_steps(f, steps, 8);
    CHECK(n == rep.n_sizes, "%s: the file has %d sizes, the pruner made %d", what, n, rep.n_sizes);
    for (int i = 0; i < n && i < rep.n_sizes; ++i) {
      const double e = engine_esr(f, steps[i].lo, &d.val, o.val_skip);
      const double written = rep.esr_tuned[i] >= 0.0 ? rep.esr_tuned[i] : rep.esr_cut[i];
      printf("%s at slim %.2f (%s): engine ESR %.6g, reported %.6g (cut %.6g, own fine-tune "
             "%.6g)\n",
             what, steps[i].lo, steps[i].label, e, written, rep.esr_cut[i], rep.esr_own[i]);
      CHECK(fabs(e - written) <= 1e-6 * written + 1e-12,
            "%s: slim %.2f plays ESR %.9g, the pruner reported %.9g", what, steps[i].lo, e,
            written);
      if (rep.esr_own[i] >= 0.0)
        CHECK(rep.esr_own[i] == rep.esr_tuned[i],
              "%s: width %d's fine-tune gave %.9g, the file plays %.9g: a wider width moved it",
              what, rep.channels[i][0], rep.esr_own[i], rep.esr_tuned[i]);
    }
    qm_desc_free(f);
  }
  unlink(path);
  tr_dataset_free(&d);
}

int main(void)
{
  tr_model *a1 = a1_pair(7), *a2 = a2_single(8);
  test_permute_and_cut("A1 pair", a1);
  test_permute_and_cut("A2", a2);
  test_dead_channel("A1 pair", a1_pair);
  test_dead_channel("A2", a2_single);
  test_files("A1 slimmable", a1, TR_PRUNE_SLIMMABLE);
  test_files("A1 container", a1, TR_PRUNE_CONTAINER);
  test_files("A2 container", a2, TR_PRUNE_CONTAINER);
  tr_model_free(a1);
  tr_model_free(a2);
  if (failures) {
    printf("%d of %d check(s) failed\n", failures, checks);
    return 1;
  }
  printf("all %d pruning checks passed\n", checks);
  return 0;
}
