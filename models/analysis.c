/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Offline analysis of a variant against the float model (variant.h,
  qm_analyze): both models run side by side over the same signal, block by
  block, and every observed layer's output of the variant is compared with
  the float model's same layer at the same frames.

      ESR          = sum_t (y_q[t] - y_ref[t])^2 / sum_t y_ref[t]^2
      esr_db       = 10 log10(ESR)
      SQNR(layer)  = 10 log10( sum ref^2 / sum (q - ref)^2 )  over all its
                     channels and frames (+inf when identical)
*/
#include "variant.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/** Largest block analysed at once; longer blocks are cut (the engine cuts
    them into chunks anyway, so results do not depend on it). */
#define QM_ANALYSIS_MAX_BLOCK 8192

typedef struct {
  int n_layers;
  int *channels;
  float **ref;     /**< per layer: block frames x channels of the float model */
  int *ref_off;    /**< frames written this block */
  int *q_off;      /**< frames compared this block */
  double *sum_ref; /**< per layer: sum ref^2 */
  double *sum_err; /**< per layer: sum (q - ref)^2 */
  int block;
} tap_acc;

/** Float model's tap: remember the layer's output for this block. */
static void tap_ref(void *user, int layer, const float *y, int ld, int ch, int frames)
{
  tap_acc *a = user;
  if (layer < 0 || layer >= a->n_layers || ch != a->channels[layer])
    return;
  for (int f = 0; f < frames && a->ref_off[layer] < a->block; ++f, ++a->ref_off[layer])
    memcpy(a->ref[layer] + (size_t)a->ref_off[layer] * (size_t)ch, y + (size_t)f * (size_t)ld,
           (size_t)ch * sizeof(float));
}

/** Variant's tap: compare with the float model's same layer, same frames. */
static void tap_q(void *user, int layer, const float *y, int ld, int ch, int frames)
{
  tap_acc *a = user;
  if (layer < 0 || layer >= a->n_layers || ch != a->channels[layer])
    return;
  double sr = 0.0, se = 0.0;
  for (int f = 0; f < frames && a->q_off[layer] < a->ref_off[layer]; ++f, ++a->q_off[layer]) {
    const float *r = a->ref[layer] + (size_t)a->q_off[layer] * (size_t)ch;
    const float *q = y + (size_t)f * (size_t)ld;
    for (int c = 0; c < ch; ++c) {
      double d = (double)q[c] - (double)r[c];
      sr += (double)r[c] * (double)r[c];
      se += d * d;
    }
  }
  a->sum_ref[layer] += sr;
  a->sum_err[layer] += se;
}

static void tap_acc_free(tap_acc *a)
{
  for (int l = 0; a->ref && l < a->n_layers; ++l)
    free(a->ref[l]);
  free(a->ref);
  free(a->channels);
  free(a->ref_off);
  free(a->q_off);
  free(a->sum_ref);
  free(a->sum_err);
}

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

void qm_analysis_free(qm_analysis *a)
{
  if (!a)
    return;
  free(a->layer_sqnr_db);
  a->layer_sqnr_db = NULL;
  a->n_layers = 0;
}

/** 10 log10(num / den) for den > 0 (-inf when num is 0). */
static double ratio_db(double num, double den)
{
  return num > 0.0 ? 10.0 * log10(num / den) : -INFINITY;
}

/**
   The signal is also the calibration audio for static activations (the
   analysis asks how the variant does on this input; a caller wanting a
   held-out calibration builds the variant itself).
*/
bool qm_analyze(const qm_desc *d, const qm_setting *spec, const float *in, int n, int block,
                qm_analysis *out, char *err, size_t errlen)
{
  char dummy[8];
  if (!err || errlen == 0) {
    err = dummy;
    errlen = sizeof dummy;
  }
  if (!d || !spec) {
    snprintf(err, errlen, "analysis needs a model and a spec");
    if (out)
      memset(out, 0, sizeof *out);
    return false;
  }
  qm_options o;
  qm_options_default(&o);
  qm_model *q = qm_model_create(d, &o, err, errlen);
  if (!q)
    return false;
  double t0 = now_ms();
  char why[256] = "";
  bool ok = qm_model_quantize(q, spec, in, n, why, sizeof why);
  if (!ok)
    snprintf(err, errlen, "%s: %s", d->path ? d->path : "(model)", why);
  double prepare_ms = now_ms() - t0;
  ok = ok && qm_analyze_model(d, q, in, n, block, out, err, errlen);
  if (ok)
    out->prepare_ms = prepare_ms;
  qm_model_free(q);
  return ok;
}

bool qm_analyze_model(const qm_desc *d, qm_model *q, const float *in, int n, int block,
                      qm_analysis *out, char *err, size_t errlen)
{
  char dummy[8];
  if (!err || errlen == 0) {
    err = dummy;
    errlen = sizeof dummy;
  }
  if (!out) {
    snprintf(err, errlen, "no result struct");
    return false;
  }
  memset(out, 0, sizeof *out);
  if (!d || !q || !in || n <= 0 || block <= 0) {
    snprintf(err, errlen, "analysis needs a model, a variant, a signal and a block size > 0");
    return false;
  }
  if (block > QM_ANALYSIS_MAX_BLOCK)
    block = QM_ANALYSIS_MAX_BLOCK;
  qm_options o;
  qm_options_default(&o);
  qm_model *ref = qm_model_create(d, &o, err, errlen);
  if (!ref)
    return false;
  tap_acc acc;
  memset(&acc, 0, sizeof acc);
  float *yr = NULL, *yq = NULL;
  bool ok = false;
  qm_model_reset(q);

  const int nl = qm_model_layer_count(ref);
  acc.n_layers = nl;
  acc.block = block;
  acc.channels = calloc((size_t)nl + 1, sizeof(int));
  acc.ref = calloc((size_t)nl + 1, sizeof(float *));
  acc.ref_off = calloc((size_t)nl + 1, sizeof(int));
  acc.q_off = calloc((size_t)nl + 1, sizeof(int));
  acc.sum_ref = calloc((size_t)nl + 1, sizeof(double));
  acc.sum_err = calloc((size_t)nl + 1, sizeof(double));
  out->layer_sqnr_db = calloc((size_t)nl + 1, sizeof(double));
  yr = malloc((size_t)block * sizeof(float));
  yq = malloc((size_t)block * sizeof(float));
  bool mem = acc.channels && acc.ref && acc.ref_off && acc.q_off && acc.sum_ref && acc.sum_err &&
             out->layer_sqnr_db && yr && yq;
  for (int l = 0; mem && l < nl; ++l) {
    acc.channels[l] = qm_model_layer_channels(ref, l);
    acc.ref[l] = malloc((size_t)block * (size_t)acc.channels[l] * sizeof(float));
    mem = acc.ref[l] != NULL;
  }
  if (!mem) {
    snprintf(err, errlen, "out of memory for the analysis");
    goto done;
  }

  qm_model_set_tap(ref, tap_ref, &acc);
  qm_model_set_tap(q, tap_q, &acc);
  qm_model_take_clipped(q);
  double sum_ref = 0.0, sum_err = 0.0;
  for (int done = 0; done < n;) {
    int k = n - done < block ? n - done : block;
    memset(acc.ref_off, 0, (size_t)nl * sizeof(int));
    memset(acc.q_off, 0, (size_t)nl * sizeof(int));
    qm_model_process(ref, in + done, yr, k);
    qm_model_process(q, in + done, yq, k);
    for (int i = 0; i < k; ++i) {
      double e = (double)yq[i] - (double)yr[i];
      sum_ref += (double)yr[i] * (double)yr[i];
      sum_err += e * e;
    }
    done += k;
  }
  qm_model_set_tap(ref, NULL, NULL);
  qm_model_set_tap(q, NULL, NULL);
  qm_model_reset(q);

  out->esr = sum_ref > 0.0 ? sum_err / sum_ref : (sum_err > 0.0 ? INFINITY : 0.0);
  out->esr_db = out->esr > 0.0 ? 10.0 * log10(out->esr) : -INFINITY;
  out->n_layers = nl;
  for (int l = 0; l < nl; ++l)
    out->layer_sqnr_db[l] =
        acc.sum_err[l] > 0.0 ? ratio_db(acc.sum_ref[l], acc.sum_err[l]) : INFINITY;
  out->clipped = qm_model_take_clipped(q);
  out->weight_bytes = qm_model_weight_bytes(q);
  out->weight_bytes_fp32 = qm_model_weight_bytes(ref);
  ok = true;

done:
  if (!ok)
    qm_analysis_free(out);
  free(yr);
  free(yq);
  tap_acc_free(&acc);
  qm_model_free(ref);
  return ok;
}
