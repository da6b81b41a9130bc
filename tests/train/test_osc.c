/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  QAT weight oscillation (models/train/tr_osc.h): the epoch-to-epoch code
  counter counts changes and flips back exactly; the codes on their steps
  are the QAT forward's weights bit for bit; rows whose codes miss the
  top code are counted; the dampening
  regulariser's gradient matches central finite differences of its value
  (LSQ steps and the engine's max-abs scales) and is zero beyond the
  grid; and in a short QAT run, dampening brings the latent weights
  measurably closer to their bins' centres than the same run without it.
*/
#include "tr_data.h"
#include "tr_lsq.h"
#include "tr_osc.h"
#include "tr_qat.h"
#include "tr_train.h"
#include "tr_wavenet.h"

#define TEST_CHECK_STREAM stdout
#include "test_asan.h"
#include "test_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** A small A1-style WaveNet: 4 channels, 3 Tanh layers, a 1x1 head with bias. */
static tr_model *small_wavenet(unsigned long long seed)
{
  tr_wn_config c;
  memset(&c, 0, sizeof c);
  c.n_arrays = 1;
  c.arrays[0] = (tr_wn_array_cfg){.input_size = 1,
                                  .channels = 4,
                                  .head_size = 1,
                                  .head_bias = true,
                                  .kernel_size = 3,
                                  .n_layers = 3,
                                  .dilations = {1, 2, 4},
                                  .activation = TR_WN_TANH};
  c.head_scale = 0.5f;
  return tr_wavenet_new(&c, seed, 1);
}

static void test_counter(void)
{
  tr_osc o;
  CHECK(tr_osc_init(&o, 4), "tr_osc_init");
  const int8_t e0[4] = {0, 1, 2, 3}, e1[4] = {0, 2, 2, -3}, e2[4] = {0, 1, 3, -3},
               e3[4] = {0, 2, 3, -3};
  size_t ch = 99, bk = 99;
  tr_osc_epoch(&o, e0, &ch, &bk);
  CHECK(ch == 0 && bk == 0, "first epoch: %zu changed, %zu back (want 0, 0)", ch, bk);
  tr_osc_epoch(&o, e1, &ch, &bk);
  CHECK(ch == 2 && bk == 0, "second epoch: %zu changed, %zu back (want 2, 0)", ch, bk);
  /* weight 1 goes back to epoch 0's code, weight 2 moves on */
  tr_osc_epoch(&o, e2, &ch, &bk);
  CHECK(ch == 2 && bk == 1, "third epoch: %zu changed, %zu back (want 2, 1)", ch, bk);
  /* weight 1 flips again (back to epoch 1's code) */
  tr_osc_epoch(&o, e3, &ch, &bk);
  CHECK(ch == 1 && bk == 1, "fourth epoch: %zu changed, %zu back (want 1, 1)", ch, bk);
  tr_osc_free(&o);
}

/**
   Central differences of R(p) = tr_dampen's value, codes and steps
   recomputed at p +- h, against its gradient. The regulariser takes each
   bin's centre as a constant, so a difference is compared only where
   neither the weight's code nor its row's step moved between p - h and
   p + h (the engine's max-abs step moves with the row's largest weight:
   that weight, at its centre, is skipped). lsq NULL: the engine's scales.
*/
static void check_dampen_grad(tr_model *m, const qz_scheme *sc, const tr_lsq *lsq, const char *what)
{
  const size_t np = m->n_params, nw = tr_qat_weight_count(m), nr = tr_qat_row_count(m);
  const int qp = (1 << (sc->bits - 1)) - 1;
  const double lambda = 3.0;
  int8_t *codes = malloc(nw), *c_lo = malloc(nw), *c_hi = malloc(nw);
  float *steps = malloc(nr * sizeof *steps), *s_lo = malloc(nr * sizeof *s_lo),
        *s_hi = malloc(nr * sizeof *s_hi);
  float *g = calloc(np, sizeof *g), *scratch = calloc(np, sizeof *scratch),
        *p = malloc(np * sizeof *p);
  char err[256];
  CHECK(tr_qat_codes(m, sc, lsq, m->p, codes, steps, err, sizeof err), "%s", err);
  /* codes on their steps are the QAT forward's weights, bit for bit */
  {
    float *pe = malloc(np * sizeof *pe), *pc = malloc(np * sizeof *pc);
    if (lsq)
      tr_lsq_forward(lsq, m, m->p, pe);
    else
      CHECK(tr_fake_quant(m, sc, m->p, pe, NULL, err, sizeof err), "%s", err);
    memcpy(pc, m->p, np * sizeof *pc);
    tr_qat_dequant_codes(m, codes, steps, pc);
    CHECK(memcmp(pe, pc, np * sizeof *pe) == 0,
          "%s: steps x codes differ from the QAT forward's weights", what);
    free(pe);
    free(pc);
  }
  const double r0 = tr_dampen(m, m->p, codes, steps, qp, lambda, g);
  /* the gradient lands on the weights only: biases and the rest keep 0 */
  double gmax = 0.0;
  for (size_t k = 0; k < np; ++k)
    gmax = fmax(gmax, fabs(g[k]));
  int compared = 0, bad = 0, beyond = 0, beyond_bad = 0;
  double worst = 0.0;
  for (int ti = 0; ti < m->n_tensors; ++ti) {
    const tr_tensor *t = &m->tensors[ti];
    for (int r = 0; r < t->rows; ++r)
      for (int c = 0; c < t->cols; ++c) {
        /* the flat index of engine element (r, c), found by marking it */
        const size_t cells = (size_t)t->rows * t->cols;
        float *mark = calloc(cells, sizeof *mark), *flat = calloc(np, sizeof *flat);
        mark[(size_t)r * t->cols + c] = 1.0f;
        tr_tensor_set(t, flat, mark);
        size_t k = 0;
        while (flat[k] == 0.0f)
          ++k;
        free(mark);
        free(flat);
        const float h = 1e-3f * fmaxf(fabsf(m->p[k]), 1e-3f);
        memcpy(p, m->p, np * sizeof *p);
        p[k] = m->p[k] - h;
        CHECK(tr_qat_codes(m, sc, lsq, p, c_lo, s_lo, err, sizeof err), "%s", err);
        const double r_lo = tr_dampen(m, p, c_lo, s_lo, qp, lambda, scratch);
        p[k] = m->p[k] + h;
        CHECK(tr_qat_codes(m, sc, lsq, p, c_hi, s_hi, err, sizeof err), "%s", err);
        const double r_hi = tr_dampen(m, p, c_hi, s_hi, qp, lambda, scratch);
        if (memcmp(c_lo, c_hi, nw) != 0 || memcmp(s_lo, s_hi, nr * sizeof *s_lo) != 0 ||
            memcmp(s_lo, steps, nr * sizeof *s_lo) != 0)
          continue;
        const double fd = (r_hi - r_lo) / (2.0 * (double)h);
        /* beyond the grid (LSQ's clipped weights): no pull at all */
        size_t rb = 0;
        for (int u = 0; u < ti; ++u)
          rb += (size_t)m->tensors[u].rows;
        const float v = m->p[k] / steps[rb + (size_t)r];
        if (v <= (float)-qp || v >= (float)qp) {
          beyond++;
          beyond_bad += g[k] != 0.0f || fd != 0.0;
          continue;
        }
        compared++;
        const double e = fabs(fd - g[k]) / (fmax(fabs(fd), fabs(g[k])) + 1e-3 * gmax);
        worst = fmax(worst, e);
        if (e > 1e-2) {
          if (bad < 5)
            printf("  %s weight %zu: gradient %.6g, finite difference %.6g\n", what, k, g[k], fd);
          bad++;
        }
      }
  }
  printf("dampen gradient (%s): R %.4g, %d weights compared, worst relative error %.3g, "
         "%d beyond the grid\n",
         what, r0, compared, worst, beyond);
  CHECK(r0 > 0.0 && gmax > 0.0, "%s: the regulariser is zero on random weights", what);
  CHECK(compared > 20, "%s: only %d weights compared", what, compared);
  CHECK(bad == 0, "%s: %d gradients disagree with finite differences", what, bad);
  CHECK(beyond_bad == 0, "%s: %d weights beyond the grid pulled", what, beyond_bad);
  free(codes);
  free(c_lo);
  free(c_hi);
  free(steps);
  free(s_lo);
  free(s_hi);
  free(g);
  free(scratch);
  free(p);
}

static void test_dampen_grad(void)
{
  tr_model *m = small_wavenet(5);
  CHECK(m != NULL, "small WaveNet");
  if (!m)
    return;
  char err[256];
  qz_scheme s4;
  CHECK(tr_scheme_parse("4", &s4, err, sizeof err), "%s", err);
  check_dampen_grad(m, &s4, NULL, "4-bit, engine scales");
  tr_lsq q;
  CHECK(tr_lsq_init(&q, m, &s4, m->p, err, sizeof err), "%s", err);
  /* the engine's own steps put every row's largest weight on the top code;
     a grown step leaves rows below it, on a grid the engine cannot re-encode */
  {
    const size_t nw = tr_qat_weight_count(m), nr = tr_qat_row_count(m);
    int8_t *codes = malloc(nw);
    float *steps = malloc(nr * sizeof *steps);
    CHECK(tr_qat_codes(m, &s4, &q, m->p, codes, steps, err, sizeof err), "%s", err);
    const size_t at_start = tr_qat_rows_below_top(m, codes, q.qp);
    for (size_t i = 0; i < q.n; ++i)
      q.s[i] *= 1.5f;
    CHECK(tr_qat_codes(m, &s4, &q, m->p, codes, steps, err, sizeof err), "%s", err);
    const size_t grown = tr_qat_rows_below_top(m, codes, q.qp);
    for (size_t i = 0; i < q.n; ++i)
      q.s[i] /= 1.5f;
    printf("rows below the top code: %zu of %zu at the engine's steps, %zu with steps x 1.5\n",
           at_start, nr, grown);
    CHECK(at_start == 0 && grown == nr, "rows below the top code: %zu and %zu (want 0 and %zu)",
          at_start, grown, nr);
    free(codes);
    free(steps);
  }
  /* smaller steps: some weights beyond the grid */
  for (size_t i = 0; i < q.n; ++i)
    q.s[i] *= 0.7f;
  check_dampen_grad(m, &s4, &q, "4-bit, LSQ steps");
  tr_lsq_free(&q);
  tr_model_free(m);
}

/** Mean distance of the latent weights to their bins' centres, in steps. */
static double mean_bin_distance(tr_model *m, const qz_scheme *sc)
{
  const size_t nw = tr_qat_weight_count(m), nr = tr_qat_row_count(m);
  int8_t *codes = malloc(nw);
  float *steps = malloc(nr * sizeof *steps);
  char err[256];
  CHECK(tr_qat_codes(m, sc, NULL, m->p, codes, steps, err, sizeof err), "%s", err);
  double sum = 0.0;
  size_t at = 0, row = 0;
  for (int ti = 0; ti < m->n_tensors; ++ti) {
    const tr_tensor *t = &m->tensors[ti];
    float *w = malloc((size_t)t->rows * t->cols * sizeof *w);
    tr_tensor_get(t, m->p, w);
    for (int r = 0; r < t->rows; ++r)
      for (int c = 0; c < t->cols; ++c) {
        const size_t k = (size_t)r * t->cols + c;
        sum += fabs(w[k] / steps[row + (size_t)r] - codes[at + k]);
      }
    free(w);
    at += (size_t)t->rows * t->cols;
    row += (size_t)t->rows;
  }
  free(codes);
  free(steps);
  return sum / (double)nw;
}

/**
   The option reaches the training loop: two short straight-through QAT
   runs from the same start on the same data, one with strong dampening
   from the first epoch. Without it the weights stay spread over their
   bins (random weights: about a quarter step from the centre on
   average); with it they must end under half that distance. The counter
   must have seen codes change in the undamped run.
*/
static void test_dampen_training(void)
{
  char err[256];
  tr_dataset d;
  CHECK(tr_dataset_builtin(&d, "overdrive", ASAN_BUILD ? 0.5 : 1.0, 0.25, 9, err, sizeof err), "%s",
        err);
  qz_scheme s4;
  CHECK(tr_scheme_parse("4", &s4, err, sizeof err), "%s", err);
  double dist[2];
  size_t changed[2];
  for (int damped = 0; damped < 2; ++damped) {
    tr_model *m = small_wavenet(7);
    tr_train_opts o;
    tr_train_opts_default(&o);
    o.epochs = 3;
    o.batch = 4;
    o.segment = 512;
    o.steps_per_epoch = ASAN_BUILD ? 10 : 20;
    o.lr = 3e-3;
    o.val_skip = 100;
    o.quiet = 1;
    o.qat = &s4;
    o.qat_dampen = damped ? 30.0 : 0.0;
    o.qat_dampen_ramp = 1;
    tr_train_result r;
    CHECK(tr_train(m, &d, &o, &r, err, sizeof err), "%s", err);
    dist[damped] = mean_bin_distance(m, &s4);
    changed[damped] = r.codes_changed;
    tr_model_free(m);
  }
  printf("dampen in training: mean distance to the bin centre %.3f steps without, %.3f with; "
         "codes changed in the last epoch %zu without, %zu with\n",
         dist[0], dist[1], changed[0], changed[1]);
  CHECK(dist[1] < 0.5 * dist[0], "dampening did not pull the weights to their centres");
  CHECK(changed[0] > 0, "the counter saw no code change in an undamped QAT run");
  tr_dataset_free(&d);
}

int main(void)
{
  test_counter();
  test_dampen_grad();
  test_dampen_training();
  if (failures) {
    printf("%d check(s) failed\n", failures);
    return 1;
  }
  printf("all oscillation tests passed\n");
  return 0;
}
