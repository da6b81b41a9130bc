/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
#include "tr_train.h"

#include "tr_adam.h"
#include "tr_lsq.h"
#include "tr_osc.h"
#include "tr_qat.h"
#include "tr_rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/** CPU seconds of every thread of this process so far: on a shared machine a
    run's wall time says more about the other jobs than about the training,
    so the progress line reports both. */
static double process_cpu_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void tr_train_opts_default(tr_train_opts *o)
{
  memset(o, 0, sizeof *o);
  o->epochs = 20;
  o->batch = 16;
  o->segment = 8192;
  o->lr = 4e-3;
  o->lr_decay = 0.97;
  o->clip = 0.0;
  o->seed = 1;
  tr_loss_default(&o->loss);
  o->val_skip = 4800;
  o->qat_dampen_ramp = 10;
}

double tr_evaluate(tr_model *m, const float *p, const qz_scheme *s, const tr_signal *v, int skip,
                   const float *ref, double *esr_vs_ref, float *out)
{
  float *pe = malloc(m->n_params * sizeof *pe);
  float *y = out ? out : malloc(v->n * sizeof *y);
  if (!pe || !y)
    abort();
  if (s) {
    char err[256];
    if (!tr_fake_quant(m, s, p, pe, NULL, err, sizeof err)) {
      fprintf(stderr, "quantize: %s\n", err);
      memcpy(pe, p, m->n_params * sizeof *pe);
    }
  } else {
    memcpy(pe, p, m->n_params * sizeof *pe);
  }
  m->predict(m, pe, v->x, v->n, y);
  const size_t k = (size_t)skip < v->n ? (size_t)skip : 0;
  const double e = tr_esr(y + k, v->y + k, v->n - k);
  if (ref && esr_vs_ref)
    *esr_vs_ref = tr_esr(y + k, ref + k, v->n - k);
  if (!out)
    free(y);
  free(pe);
  return e;
}

/* ---- checkpoints: raw binary, the whole optimizer state ---------------- */

#define CK_MAGIC 0x4b435451u /* "QTCK" */

typedef struct {
  uint32_t magic, version;
  uint64_t n_params;
  int32_t epoch, best_epoch;
  double lr, best_val;
  int64_t adam_t;
  uint64_t rng[4];
} ck_header;

/** LSQ's extra state: the steps, their Adam moments and the best epoch's steps. */
typedef struct {
  tr_lsq *q;
  tr_adam *adam;
  float *best;
} ck_lsq;

static bool ck_write(const char *path, const ck_header *h, const float *p, const tr_adam *a,
                     const float *best, const ck_lsq *lsq, const float *avg)
{
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "wb");
  if (!f)
    return false;
  const size_t n = h->n_params;
  bool ok = fwrite(h, sizeof *h, 1, f) == 1 && fwrite(p, sizeof *p, n, f) == n &&
            fwrite(a->m, sizeof *p, n, f) == n && fwrite(a->v, sizeof *p, n, f) == n &&
            fwrite(best, sizeof *p, n, f) == n;
  if (lsq) {
    const size_t ns = lsq->q->n;
    ok = ok && fwrite(lsq->q->s, sizeof *p, ns, f) == ns &&
         fwrite(lsq->adam->m, sizeof *p, ns, f) == ns &&
         fwrite(lsq->adam->v, sizeof *p, ns, f) == ns && fwrite(lsq->best, sizeof *p, ns, f) == ns;
  }
  if (avg)
    ok = ok && fwrite(avg, sizeof *p, n, f) == n;
  ok = (fclose(f) == 0) && ok;
  return ok && rename(tmp, path) == 0;
}

/** Checkpoint versions: 1 float or straight-through QAT, 2 with LSQ's state
    after, 3 with the weight average after (tr_train_opts.ema). */
enum { CK_VERSION = 1, CK_VERSION_LSQ = 2, CK_VERSION_EMA = 3 };

/** Read a checkpoint; with avg (a weight-averaging run) a version 1 file
    is taken too, its parameters starting the average (*avg_read false). */
static bool ck_read(const char *path, ck_header *h, float *p, tr_adam *a, float *best,
                    size_t n_params, const ck_lsq *lsq, float *avg, bool *avg_read)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return false;
  bool ok = fread(h, sizeof *h, 1, f) == 1 && h->magic == CK_MAGIC && h->n_params == n_params &&
            (h->version == (uint32_t)(lsq ? CK_VERSION_LSQ : CK_VERSION) ||
             (avg && h->version == CK_VERSION_EMA));
  const size_t n = n_params;
  ok = ok && fread(p, sizeof *p, n, f) == n && fread(a->m, sizeof *p, n, f) == n &&
       fread(a->v, sizeof *p, n, f) == n && fread(best, sizeof *p, n, f) == n;
  if (ok && lsq) {
    const size_t ns = lsq->q->n;
    ok = fread(lsq->q->s, sizeof *p, ns, f) == ns && fread(lsq->adam->m, sizeof *p, ns, f) == ns &&
         fread(lsq->adam->v, sizeof *p, ns, f) == ns && fread(lsq->best, sizeof *p, ns, f) == ns;
  }
  if (avg) {
    *avg_read = ok && h->version == CK_VERSION_EMA;
    if (*avg_read)
      ok = fread(avg, sizeof *p, n, f) == n;
  }
  fclose(f);
  return ok;
}

bool tr_train(tr_model *m, const tr_dataset *d, const tr_train_opts *o, tr_train_result *r,
              char *err, size_t errlen)
{
  const int B = o->batch, L = o->segment, T = m->context + o->segment;
  if ((size_t)T + 1 > d->train.n) {
    snprintf(err, errlen, "training audio (%zu samples) shorter than one segment (%d)", d->train.n,
             T);
    return false;
  }
  const size_t np = m->n_params;
  float *x = malloc((size_t)B * T * sizeof *x), *t = malloc((size_t)B * L * sizeof *t);
  float *g = malloc(np * sizeof *g), *pe = malloc(np * sizeof *pe),
        *best = malloc(np * sizeof *best);
  tr_adam adam;
  if (!x || !t || !g || !pe || !best || !tr_adam_init(&adam, np))
    abort();
  adam.clip = o->clip;
  /** LSQ: the steps are parameters of their own, with their own Adam. */
  const bool lsq_on = o->qat && o->qat_method == TR_QAT_LSQ;
  tr_lsq lsq;
  tr_adam adam_s;
  memset(&lsq, 0, sizeof lsq);
  memset(&adam_s, 0, sizeof adam_s);
  float *gs = NULL, *best_s = NULL;
  float *avg = NULL; /* weight averaging (o->ema) */
  ck_lsq ckl = {&lsq, &adam_s, NULL};
  int8_t *codes = NULL; /* QAT: weight codes (tr_osc.h) */
  float *steps_q = NULL;
  tr_osc osc;
  memset(&osc, 0, sizeof osc);
  if (lsq_on) {
    if (!tr_lsq_init(&lsq, m, o->qat, m->p, err, errlen))
      goto fail;
    gs = malloc(lsq.n * sizeof *gs);
    best_s = malloc(lsq.n * sizeof *best_s);
    if (!gs || !best_s || !tr_adam_init(&adam_s, lsq.n))
      abort();
    adam_s.clip = o->clip;
    memcpy(best_s, lsq.s, lsq.n * sizeof *best_s);
    ckl.best = best_s;
  }
  if (o->ema > 0.0) {
    if (lsq_on || o->ema >= 1.0) {
      snprintf(err, errlen, "weight averaging: %s",
               lsq_on ? "not with LSQ (its steps are not averaged)" : "the decay must be below 1");
      goto fail;
    }
    avg = malloc(np * sizeof *avg);
    if (!avg)
      abort();
    memcpy(avg, m->p, np * sizeof *avg);
  }
  r->lsq_engine_esr = -1.0;
  r->codes_changed = r->codes_back = 0;
  r->lsq_rows_off_grid = 0;
  /** Oscillation: the codes after every epoch, compared with the two
      epochs before (printed with the epoch line), and, with dampening,
      the codes of every step. Linear symmetric per-channel schemes only. */
  const size_t nw = tr_qat_weight_count(m), nrows = tr_qat_row_count(m);
  bool osc_on = false;
  if (o->qat) {
    codes = malloc(nw ? nw : 1);
    steps_q = malloc((nrows ? nrows : 1) * sizeof *steps_q);
    if (!codes || !steps_q || !tr_osc_init(&osc, nw))
      abort();
    char why[256];
    osc_on = tr_qat_codes(m, o->qat, lsq_on ? &lsq : NULL, m->p, codes, steps_q, why, sizeof why);
    if (o->qat_dampen > 0.0 && !osc_on) {
      snprintf(err, errlen, "--qat-dampen: %s", why);
      goto fail;
    }
  }
  const int qp = o->qat ? (1 << (o->qat->bits - 1)) - 1 : 0;
  tr_rng rng;
  tr_rng_seed(&rng, o->seed * 0x9E3779B97F4A7C15ull + 17);
  tr_loss loss = o->loss;
  double lr = o->lr;
  int epoch0 = 0;
  memcpy(best, m->p, np * sizeof *best);
  r->best_val_esr = INFINITY;
  r->best_epoch = 0;
  if (o->resume) {
    ck_header h;
    bool avg_read = false;
    if (!ck_read(o->resume, &h, m->p, &adam, best, np, lsq_on ? &ckl : NULL, avg, &avg_read)) {
      snprintf(err, errlen, "%s: not a checkpoint of this model", o->resume);
      goto fail;
    }
    epoch0 = h.epoch;
    if (!o->lr_override)
      lr = h.lr;
    /** Continuing from the best weights recovers from a late divergence (e.g. to go
        on with gradient clipping or a lower rate); Adam's moments are kept. */
    if (o->resume_best) {
      memcpy(m->p, best, np * sizeof *best);
      if (lsq_on)
        memcpy(lsq.s, best_s, lsq.n * sizeof *best_s);
    }
    if (avg && (!avg_read || o->resume_best))
      memcpy(avg, m->p, np * sizeof *avg);
    adam.t = h.adam_t;
    adam_s.t = h.adam_t; /* the steps move in lockstep with the weights */
    memcpy(rng.s, h.rng, sizeof rng.s);
    r->best_val_esr = h.best_val;
    r->best_epoch = h.best_epoch;
    if (!o->quiet)
      printf("resumed from %s at epoch %d (best held-out ESR %.5f at epoch %d)\n", o->resume,
             epoch0, h.best_val, h.best_epoch);
  }
  const int steps = o->steps_per_epoch > 0 ? o->steps_per_epoch
                                           : (int)fmax(1.0, (double)d->train.n / ((double)B * L));
  const double t0 = now_s();
  r->epochs_run = 0;
  for (int ep = epoch0; ep < o->epochs; ++ep) {
    const double te = now_s();
    double lsum = 0.0, gsum = 0.0, rsum = 0.0;
    const double damp =
        o->qat ? tr_dampen_weight(o->qat_dampen, o->qat_dampen_ramp, ep - epoch0) : 0.0;
    for (int s = 0; s < steps; ++s) {
      for (int b = 0; b < B; ++b) {
        const size_t start = (size_t)(tr_rng_uniform(&rng) * (double)(d->train.n - (size_t)T));
        memcpy(x + (size_t)b * T, d->train.x + start, (size_t)T * sizeof *x);
        memcpy(t + (size_t)b * L, d->train.y + start + m->context, (size_t)L * sizeof *t);
      }
      if (lsq_on) {
        tr_lsq_forward(&lsq, m, m->p, pe);
      } else if (o->qat) {
        if (!tr_fake_quant(m, o->qat, m->p, pe, NULL, err, errlen))
          goto fail;
      } else {
        memcpy(pe, m->p, np * sizeof *pe);
      }
      const double l = m->batch_grad(m, pe, B, L, x, t, &loss, g);
      if (!isfinite(l)) {
        snprintf(err, errlen, "loss is not finite at epoch %d step %d", ep + 1, s);
        goto fail;
      }
      lsum += l;
      if (o->frozen)
        for (size_t i = 0; i < np; ++i)
          if (o->frozen[i])
            g[i] = 0.0f;
      if (lsq_on) {
        /* the steps' gradients need the latent weights before they move */
        tr_lsq_backward(&lsq, m, m->p, g, gs, true);
        tr_adam_step(&adam_s, lsq.s, gs, lr * (o->lsq_step_lr > 0.0 ? o->lsq_step_lr : 1.0));
        tr_lsq_clamp(&lsq);
      }
      if (damp > 0.0) {
        /* the codes of the weights the step's gradient was taken at */
        if (!tr_qat_codes(m, o->qat, lsq_on ? &lsq : NULL, m->p, codes, steps_q, err, errlen))
          goto fail;
        rsum += tr_dampen(m, m->p, codes, steps_q, qp, damp, g);
        if (o->frozen)
          for (size_t i = 0; i < np; ++i)
            if (o->frozen[i])
              g[i] = 0.0f;
      }
      gsum += tr_adam_step(&adam, m->p, g, lr);
      if (avg && ep < o->ema_start) {
        memcpy(avg, m->p, np * sizeof *avg);
      } else if (avg) {
        const float d = (float)o->ema, e = 1.0f - d;
        for (size_t i = 0; i < np; ++i)
          avg[i] = d * avg[i] + e * m->p[i];
      }
      if (!o->quiet && (s % 10 == 9 || s + 1 == steps)) {
        printf("\r  epoch %d  step %d/%d  loss %.5f  ", ep + 1, s + 1, steps, lsum / (s + 1));
        fflush(stdout);
      }
    }
    double ve;
    if (lsq_on) {
      tr_lsq_forward(&lsq, m, m->p, pe);
      ve = tr_evaluate(m, pe, NULL, &d->val, o->val_skip, NULL, NULL, NULL);
    } else {
      ve = tr_evaluate(m, avg ? avg : m->p, o->qat, &d->val, o->val_skip, NULL, NULL, NULL);
    }
    r->epochs_run++;
    const int is_best = ve < r->best_val_esr;
    if (is_best) {
      r->best_val_esr = ve;
      r->best_epoch = ep + 1;
      memcpy(best, avg ? avg : m->p, np * sizeof *best);
      if (lsq_on)
        memcpy(best_s, lsq.s, lsq.n * sizeof *best_s);
    }
    size_t changed = 0, back = 0;
    double ve_old_codes = -1.0;
    if (osc_on) {
      if (!tr_qat_codes(m, o->qat, lsq_on ? &lsq : NULL, m->p, codes, steps_q, err, errlen))
        goto fail;
      if (o->qat_code_attribution && osc.seen >= 1) {
        /* pe: this epoch's fake-quantized parameters, then last epoch's codes */
        if (lsq_on)
          tr_lsq_forward(&lsq, m, m->p, pe);
        else if (!tr_fake_quant(m, o->qat, m->p, pe, NULL, err, errlen))
          goto fail;
        tr_qat_dequant_codes(m, osc.prev, steps_q, pe);
        ve_old_codes = tr_evaluate(m, pe, NULL, &d->val, o->val_skip, NULL, NULL, NULL);
      }
      tr_osc_epoch(&osc, codes, &changed, &back);
      r->codes_changed = changed;
      r->codes_back = back;
    }
    if (!o->quiet) {
      printf("\repoch %3d/%d  train loss %.5f  held-out ESR %.5f (%.1f dB)%s  lr %.2e  |g| %.3g"
             "  %.1f s  cpu %.0f s",
             ep + 1, o->epochs, lsum / steps, ve, 10.0 * log10(ve > 0 ? ve : 1e-30),
             is_best ? " *" : "  ", lr, gsum / steps, now_s() - te, process_cpu_s());
      if (osc_on)
        printf("  codes changed %zu of %zu (%zu back)", changed, nw, back);
      if (ve_old_codes >= 0.0)
        printf("  ESR with last epoch's codes %.5f", ve_old_codes);
      if (damp > 0.0)
        printf("  dampen %.3g R %.3g", damp, rsum / steps);
      printf("\n");
      fflush(stdout);
    }
    lr *= o->lr_decay;
    if (o->checkpoint) {
      ck_header h = {CK_MAGIC,
                     lsq_on ? CK_VERSION_LSQ : avg ? CK_VERSION_EMA : CK_VERSION,
                     np,
                     ep + 1,
                     r->best_epoch,
                     lr,
                     r->best_val_esr,
                     adam.t,
                     {0}};
      memcpy(h.rng, rng.s, sizeof h.rng);
      if (!ck_write(o->checkpoint, &h, m->p, &adam, best, lsq_on ? &ckl : NULL, avg))
        fprintf(stderr, "warning: cannot write checkpoint %s\n", o->checkpoint);
    }
    if (o->time_limit > 0 && now_s() - t0 > o->time_limit) {
      if (!o->quiet)
        printf("time limit reached after epoch %d\n", ep + 1);
      break;
    }
  }
  r->seconds = now_s() - t0;
  if (lsq_on) {
    /** The file gets the best epoch's fake-quantized weights, and the
        figure the plugin will play: those re-encoded on the engine's
        max-abs scales. */
    memcpy(lsq.s, best_s, lsq.n * sizeof *best_s);
    tr_lsq_forward(&lsq, m, best, m->p);
    if (osc_on && tr_qat_codes(m, o->qat, &lsq, best, codes, steps_q, err, errlen))
      r->lsq_rows_off_grid = tr_qat_rows_below_top(m, codes, qp);
    r->lsq_engine_esr = tr_evaluate(m, m->p, o->qat, &d->val, o->val_skip, NULL, NULL, NULL);
  } else {
    memcpy(m->p, best, np * sizeof *best);
  }
  free(avg);
  free(codes);
  free(steps_q);
  tr_osc_free(&osc);
  free(gs);
  free(best_s);
  tr_lsq_free(&lsq);
  tr_adam_free(&adam_s);
  free(x);
  free(t);
  free(g);
  free(pe);
  free(best);
  tr_adam_free(&adam);
  return true;
fail:
  free(avg);
  free(codes);
  free(steps_q);
  tr_osc_free(&osc);
  free(gs);
  free(best_s);
  tr_lsq_free(&lsq);
  tr_adam_free(&adam_s);
  free(x);
  free(t);
  free(g);
  free(pe);
  free(best);
  tr_adam_free(&adam);
  return false;
}
