/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Architecture-independent half of the engine: options, the model object,
  block splitting, gains, reset and prewarm, taps and registries.
*/
#include "arch_registry.h"
#include "scheme_record.h"
#include "slim.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

float *qm_falloc(size_t n)
{
  size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
  if (bytes == 0)
    bytes = 64;
  float *p = aligned_alloc(64, bytes);
  if (p)
    memset(p, 0, bytes);
  return p;
}

void qm_options_default(qm_options *o)
{
  o->chunk = QM_DEFAULT_CHUNK;
  o->fast_activations = true;
  o->isa = -1;
}

int qm_model_add_layer(qm_model *m, const char *name, int channels)
{
  if (m->n_layers == m->cap_layers) {
    int cap = m->cap_layers ? 2 * m->cap_layers : 16;
    qm_layer_info *l = realloc(m->layers, (size_t)cap * sizeof *l);
    if (!l)
      return -1;
    m->layers = l;
    m->cap_layers = cap;
  }
  qm_layer_info *info = &m->layers[m->n_layers];
  snprintf(info->name, sizeof info->name, "%s", name);
  info->channels = channels;
  return m->n_layers++;
}

bool qm_model_add_linear(qm_model *m, qm_linear *L)
{
  if (m->n_linears == m->cap_linears) {
    int cap = m->cap_linears ? 2 * m->cap_linears : 16;
    qm_linear **l = realloc(m->linears, (size_t)cap * sizeof *l);
    if (!l)
      return false;
    m->linears = l;
    m->cap_linears = cap;
  }
  m->linears[m->n_linears++] = L;
  return true;
}

bool qm_model_linear_init(qm_model *m, qm_linear *L, const char *name, int out, int in,
                          const float *w, const float *bias, char *err, size_t errlen)
{
  if (!qm_linear_init(L, name, out, in, w, bias, m->isa, m->chunk, err, errlen))
    return false;
  if (!qm_model_add_linear(m, L)) {
    qm_linear_release(L);
    snprintf(err, errlen, "out of memory");
    return false;
  }
  return true;
}

qm_model *qm_model_create(const qm_desc *d, const qm_options *opt, char *err, size_t errlen)
{
  qm_options o;
  if (opt)
    o = *opt;
  else
    qm_options_default(&o);
  if (o.chunk == 0)
    o.chunk = QM_DEFAULT_CHUNK;
  const char *path = d && d->path ? d->path : "(model)";
  if (!d) {
    snprintf(err, errlen, "%s: no model description", path);
    return NULL;
  }
  if (o.chunk < 1 || o.chunk > QM_MAX_CHUNK) {
    snprintf(err, errlen, "%s: chunk %d outside 1..%d", path, o.chunk, QM_MAX_CHUNK);
    return NULL;
  }
  qk_isa isa = o.isa < 0 ? qk_active_isa() : (qk_isa)o.isa;
  if (!qk_isa_supported(isa)) {
    snprintf(err, errlen, "%s: instruction set %s is not available", path, qk_isa_name(isa));
    return NULL;
  }
  qm_model *m = calloc(1, sizeof *m);
  if (!m) {
    snprintf(err, errlen, "%s: out of memory", path);
    return NULL;
  }
  m->arch = d->arch;
  m->ops = qm_arch_ops_of(d->arch);
  m->chunk = o.chunk;
  m->fast = o.fast_activations;
  m->isa = isa;
  m->sample_rate = d->sample_rate;
  m->prewarm = d->prewarm_samples;
  m->in_gain = (float)pow(10.0, d->in_gain_db / 20.0);
  m->out_gain = (float)pow(10.0, d->out_gain_db / 20.0);
  m->in_skip = d->in_skip;
  m->tap_on = true;
  const struct qm_scheme_record *record = qm_desc_full_size(d)->scheme_record;
  m->scheme_record = qm_scheme_record_clone(record);
  m->xin = qm_falloc((size_t)m->chunk);
  m->yout = qm_falloc((size_t)m->chunk);
  char why[256] = "";
  bool ok = m->xin && m->yout && (m->scheme_record || !record);
  if (!ok)
    snprintf(why, sizeof why, "out of memory");
  else if (!m->ops)
    ok = false, snprintf(why, sizeof why, "no engine for this architecture");
  else
    ok = m->ops->build(m, d, why, sizeof why);
  if (!ok) {
    snprintf(err, errlen, "%s: %s", path, why);
    qm_model_free(m);
    return NULL;
  }
  if (!qm_model_save_prewarm(m)) {
    snprintf(err, errlen, "%s: out of memory", path);
    qm_model_free(m);
    return NULL;
  }
  /** Refused here, where the worker builds it: a model whose output on
      silence is already NaN or Inf (weights near FLT_MAX) would play
      silence and be reset on every audio block. */
  if (!m->warm_finite) {
    snprintf(err, errlen,
             "%s: the model's output on silence is not finite (NaN or Inf after the %d-sample "
             "prewarm): its weights are out of range",
             path, m->prewarm);
    qm_model_free(m);
    return NULL;
  }
  return m;
}

void qm_model_free(qm_model *m)
{
  if (!m)
    return;
  if (m->variant && m->variant_free)
    m->variant_free(m->variant);
  qm_scheme_record_free(m->scheme_record);
  if (m->ops)
    m->ops->free(m);
  free(m->xin);
  free(m->yout);
  for (int p = 0; p < 2; ++p) {
    free(m->act_pool[p].codes);
    free(m->act_pool[p].scales);
    free(m->act_pool[p].sums);
  }
  free(m->layers);
  free(m->linears);
  free(m);
}

/**
   An int8 linear's scratch is max_n columns of codes (qk_act_ld(in) bytes
   each), scales and group sums, and lives only within one apply() call.
   Each linear owning one took 198 KB of a standard A1 at 8 bits (0.8 MB
   at chunk 256), for buffers of which two are in use at any time.
*/
bool qm_model_share_act(qm_model *m)
{
  size_t codes[2] = {0, 0}, cols[2] = {0, 0}, sums[2] = {0, 0};
  for (int i = 0; i < m->n_linears; ++i) {
    const qm_linear *L = m->linears[i];
    if (L->act_mode == QM_LINEAR_ACT_F32 || !L->act.codes)
      continue;
    const int p = L->act_pool ? 1 : 0;
    const size_t n = (size_t)L->max_n;
    const size_t c = n * (size_t)L->act.ld, s = n * (size_t)qk_group_count(L->in, L->act.group);
    codes[p] = codes[p] > c ? codes[p] : c;
    cols[p] = cols[p] > n ? cols[p] : n;
    sums[p] = sums[p] > s ? sums[p] : s;
  }
  m->act_pool_bytes = 0;
  for (int p = 0; p < 2; ++p) {
    qk_act_s8 *a = &m->act_pool[p];
    free(a->codes);
    free(a->scales);
    free(a->sums);
    memset(a, 0, sizeof *a);
    if (!codes[p])
      continue;
    a->codes = aligned_alloc(64, (codes[p] + 63) / 64 * 64);
    a->scales = calloc(cols[p], sizeof(float));
    a->sums = calloc(sums[p], sizeof(int32_t));
    if (!a->codes || !a->scales || !a->sums)
      return false;
    memset(a->codes, 0, (codes[p] + 63) / 64 * 64);
    m->act_pool_bytes +=
        (codes[p] + 63) / 64 * 64 + cols[p] * sizeof(float) + sums[p] * sizeof(int32_t);
  }
  for (int i = 0; i < m->n_linears; ++i) {
    qm_linear *L = m->linears[i];
    qm_linear_share_act(L, &m->act_pool[L->act_pool ? 1 : 0]);
  }
  return true;
}

bool qm_model_prepare_quantized(qm_model *m, const qk_weights *const *w)
{
  return m->ops->prepare ? m->ops->prepare(m, w) : true;
}

/** One internal batch (n <= chunk) through the architecture. */
static void run(qm_model *m, const float *x, float *y, int n) { m->ops->run(m, x, y, n); }

void qm_model_reset_cold(qm_model *m) { m->ops->reset(m); }

void qm_model_reset(qm_model *m)
{
  qm_model_reset_cold(m);
  /* Prewarm: the model sees silence for its prewarm length, so the first
     real sample meets the same state NeuralAmpModelerCore's would. */
  bool tap = m->tap_on, finite = true;
  m->tap_on = false;
  memset(m->xin, 0, (size_t)m->chunk * sizeof(float));
  for (int done = 0; done < m->prewarm;) {
    int n = m->prewarm - done < m->chunk ? m->prewarm - done : m->chunk;
    run(m, m->xin, m->yout, n);
    for (int i = 0; i < n; ++i)
      finite = finite && isfinite(m->yout[i] * m->out_gain);
    done += n;
  }
  m->tap_on = tap;
  m->warm_finite = finite;
}

/**
   What the saved prewarm state depends on besides the description: every
   linear's packed weights and activation path. W_gen counts replacements
   through qm_linear_set_packed(); the pointer catches a direct swap (the
   calibration pass's temporary float weights).
*/
static unsigned weights_sig(const qm_model *m)
{
  unsigned h = 2166136261u;
  for (int i = 0; i < m->n_linears; ++i) {
    const qm_linear *L = m->linears[i];
    uint32_t scale;
    memcpy(&scale, &L->act_scale, sizeof scale);
    const unsigned v[4] = {L->W_gen, (unsigned)L->act_mode, scale,
                           (unsigned)((uintptr_t)L->W >> 4)};
    for (int k = 0; k < 4; ++k)
      h = (h ^ v[k]) * 16777619u;
  }
  return h;
}

bool qm_model_save_prewarm(qm_model *m)
{
  m->warm_ok = false;
  qm_model_reset(m);
  bool state_finite = true;
  bool ok = m->ops->save_warm(m, &state_finite);
  m->warm_finite = m->warm_finite && state_finite;
  if (!ok)
    return false;
  m->warm_sig = weights_sig(m);
  m->warm_ok = true;
  return true;
}

void qm_model_restore_prewarm(qm_model *m)
{
  if (!m->warm_ok || m->warm_sig != weights_sig(m)) {
    qm_model_reset(m);
    return;
  }
  m->ops->load_warm(m);
}

bool qm_model_prewarm_finite(const qm_model *m) { return m->warm_finite; }

void qm_model_process(qm_model *m, const float *in, float *out, int n)
{
  while (n > 0) {
    int k = n < m->chunk ? n : m->chunk;
    /* Copying the input first makes in == out safe and applies in_gain. */
    for (int i = 0; i < k; ++i)
      m->xin[i] = in[i] * m->in_gain;
    run(m, m->xin, m->yout, k);
    if (m->in_skip) {
      for (int i = 0; i < k; ++i)
        out[i] = (m->yout[i] + m->xin[i]) * m->out_gain;
    } else {
      for (int i = 0; i < k; ++i)
        out[i] = m->yout[i] * m->out_gain;
    }
    in += k;
    out += k;
    n -= k;
  }
}

double qm_model_sample_rate(const qm_model *m) { return m->sample_rate; }
int qm_model_prewarm_samples(const qm_model *m) { return m->prewarm; }
qm_arch qm_model_arch(const qm_model *m) { return m->arch; }

size_t qm_model_weight_bytes(const qm_model *m)
{
  size_t b = 0;
  for (int i = 0; i < m->n_linears; ++i)
    b += qm_linear_weight_bytes(m->linears[i]);
  return b;
}

void qm_model_set_tap(qm_model *m, qm_tap_fn fn, void *user)
{
  m->tap = fn;
  m->tap_user = user;
}

int qm_model_layer_count(const qm_model *m) { return m->n_layers; }

const char *qm_model_layer_name(const qm_model *m, int layer)
{
  return layer >= 0 && layer < m->n_layers ? m->layers[layer].name : NULL;
}

int qm_model_layer_channels(const qm_model *m, int layer)
{
  return layer >= 0 && layer < m->n_layers ? m->layers[layer].channels : 0;
}

int qm_model_linear_count(const qm_model *m) { return m->n_linears; }

double qm_model_macs_per_sample(const qm_model *m)
{
  double macs = 0.0;
  for (int i = 0; i < m->n_linears; ++i)
    macs += (double)m->linears[i]->in * (double)m->linears[i]->out;
  return macs;
}

qm_linear *qm_model_linear(qm_model *m, int i)
{
  return i >= 0 && i < m->n_linears ? m->linears[i] : NULL;
}

void qm_linear_memory(const qm_linear *L, qm_memory *mem)
{
  mem->weights_float += (size_t)L->in * (size_t)L->out * sizeof(float) +
                        (L->bias ? (size_t)L->out * sizeof(float) : 0);
  mem->weights_packed += qk_packed_alloc_bytes(L->W);
  if (L->act.codes && !L->act_shared) {
    const size_t n = (size_t)L->max_n;
    mem->act_scratch += n * (size_t)L->act.ld + n * sizeof(float) +
                        n * (size_t)qk_group_count(L->in, L->act.group) * sizeof(int32_t);
  }
}

void qm_model_memory(const qm_model *m, qm_memory *out)
{
  memset(out, 0, sizeof *out);
  out->other = sizeof *m + (size_t)m->cap_layers * sizeof(qm_layer_info) +
               (size_t)m->cap_linears * sizeof(qm_linear *);
  out->scratch = 2 * (size_t)m->chunk * sizeof(float); /* xin, yout */
  out->act_scratch += m->act_pool_bytes;
  m->ops->memory(m, out);
  if (m->variant && m->variant_bytes)
    out->quantizer += m->variant_bytes(m->variant);
  out->total = out->weights_float + out->weights_packed + out->weights_derived + out->act_scratch +
               out->history_float + out->history_int8 + out->scratch + out->prewarm +
               out->quantizer + out->other;
}
