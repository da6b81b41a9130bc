/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
#include "tr_nam.h"

#include "model_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void json_str(FILE *f, const char *s)
{
  fputc('"', f);
  for (; s && *s; ++s) {
    if (*s == '"' || *s == '\\')
      fprintf(f, "\\%c", *s);
    else if ((unsigned char)*s < 0x20)
      fprintf(f, "\\u%04x", *s);
    else
      fputc(*s, f);
  }
  fputc('"', f);
}

bool tr_nam_write(const char *path, const tr_model *m, const float *p, const tr_nam_meta *meta)
{
  FILE *f = fopen(path, "w");
  if (!f)
    return false;
  time_t now = time(NULL);
  struct tm tmv;
  gmtime_r(&now, &tmv);
  fprintf(f,
          "{\n  \"version\": \"%s\",\n  \"metadata\": {\n    \"date\": {\"year\": %d, "
          "\"month\": %d, \"day\": %d, \"hour\": %d, \"minute\": %d, \"second\": %d},\n",
          TR_NAM_VERSION, tmv.tm_year + 1900, tmv.tm_mon + 1, tmv.tm_mday, tmv.tm_hour, tmv.tm_min,
          tmv.tm_sec);
  fprintf(f, "    \"name\": ");
  json_str(f, meta && meta->name ? meta->name : "Quantone model");
  fprintf(f, ",\n    \"modeled_by\": ");
  json_str(f, meta && meta->modeled_by ? meta->modeled_by : "quantone-train");
  /* gear and tone type only when known (a WAV pair's gear is the user's to say) */
  if (meta && meta->gear_type) {
    fprintf(f, ",\n    \"gear_type\": ");
    json_str(f, meta->gear_type);
  }
  if (meta && meta->tone_type) {
    fprintf(f, ",\n    \"tone_type\": ");
    json_str(f, meta->tone_type);
  }
  fprintf(f, ",\n    \"training\": {\"validation_esr\": ");
  if (meta && meta->validation_esr >= 0.0)
    fprintf(f, "%.9g", meta->validation_esr);
  else
    fprintf(f, "null");
  fprintf(f, "}");
  /* NAM's exporter puts validation_esr under training; the top-level copy is for readers
     that look there (our engine's loader accepts both). */
  if (meta && meta->validation_esr >= 0.0)
    fprintf(f, ",\n    \"validation_esr\": %.9g", meta->validation_esr);
  if (meta && meta->quantone)
    fprintf(f, ",\n    \"quantone\": %s", meta->quantone);
  fprintf(f, "\n  },\n");
  if (m->arch == TR_WAVENET) {
    const tr_wn_config *c = tr_wavenet_config(m);
    fprintf(f, "  \"architecture\": \"WaveNet\",\n  \"config\": {\n    \"layers\": [\n");
    for (int a = 0; a < c->n_arrays; ++a) {
      const tr_wn_array_cfg *A = &c->arrays[a];
      fprintf(f,
              "      {\"input_size\": %d, \"condition_size\": 1, \"head_size\": %d, "
              "\"channels\": %d, \"kernel_size\": %d, \"dilations\": [",
              A->input_size, A->head_size, A->channels, A->kernel_size);
      for (int l = 0; l < A->n_layers; ++l)
        fprintf(f, "%s%d", l ? ", " : "", A->dilations[l]);
      fprintf(f, "], \"activation\": \"Tanh\", \"gated\": false, \"head_bias\": %s}%s\n",
              A->head_bias ? "true" : "false", a + 1 < c->n_arrays ? "," : "");
    }
    fprintf(f, "    ],\n    \"head\": null,\n    \"head_scale\": %.9g\n  },\n", c->head_scale);
  } else {
    const tr_lstm_config *c = tr_lstm_cfg(m);
    fprintf(f,
            "  \"architecture\": \"LSTM\",\n  \"config\": {\"input_size\": 1, \"hidden_size\": %d, "
            "\"num_layers\": %d},\n",
            c->hidden, c->layers);
  }
  fprintf(f, "  \"weights\": [");
  for (size_t i = 0; i < m->n_params; ++i)
    fprintf(f, "%s%.9g", i ? (i % 8 ? ", " : ",\n    ") : "\n    ", p[i]);
  if (m->arch == TR_WAVENET)
    fprintf(f, ",\n    %.9g", tr_wavenet_config(m)->head_scale);
  fprintf(f, "\n  ],\n  \"sample_rate\": 48000\n}\n");
  const bool ok = !ferror(f);
  return (fclose(f) == 0) && ok;
}

/* ---- reading: through the engine's loader ---------------------------- */

/**
   The trainer reads .nam files with the same loader the plugin uses
   (models/model_file.h), so a file it accepts has been validated field by
   field, and a file the plugin refuses is refused here with the same
   message. What remains is mapping the loader's description back onto
   the trainer's parameter vector, which is in the file's order (the order
   tr_nam_write writes): the loader stores a conv as [out][tap*C + in],
   the file as out, in, tap; everything else is copied as it is.
*/

/** WaveNet description -> trainer config; false (with a message) if the
    trainer cannot train this form. */
/** Whether the trainer's A1 WaveNet (tr_wavenet.c) has A's form. */
static bool trainable_array(const qm_wn_array *A)
{
  for (int p = 0; p < QM_FILM_COUNT; ++p)
    if (A->film[p].active)
      return false;
  for (int l = 0; l < A->n_layers; ++l) {
    const qm_wn_layer *L = &A->layers[l];
    if (L->gating != QM_GATING_NONE || L->activation.type != QM_NONLIN_TANH ||
        L->kernel_size != A->layers[0].kernel_size)
      return false;
  }
  return A->condition_size == 1 && A->bottleneck == A->channels && A->layer1x1 &&
         A->layer1x1_groups == 1 && !A->head1x1 && A->groups_input == 1 &&
         A->groups_input_mixin == 1 && A->head_kernel == 1;
}

static bool wavenet_config(const qm_desc *d, tr_wn_config *c, char *err, size_t errlen)
{
  memset(c, 0, sizeof *c);
  const qm_wavenet_desc *wn = &d->wavenet;
  if (wn->n_arrays > TR_WN_MAX_ARRAYS) {
    snprintf(err, errlen, "%s: %d layer arrays, the trainer builds at most %d", d->path,
             wn->n_arrays, TR_WN_MAX_ARRAYS);
    return false;
  }
  c->n_arrays = wn->n_arrays;
  c->head_scale = wn->head_scale;
  for (int a = 0; a < wn->n_arrays; ++a) {
    const qm_wn_array *A = &wn->arrays[a];
    tr_wn_array_cfg *T = &c->arrays[a];
    if (!trainable_array(A) || wn->condition_dsp || wn->head.n_convs) {
      snprintf(err, errlen,
               "%s: config.layers[%d]: only A1 arrays (Tanh, non-gated, one kernel size, "
               "condition_size 1, no FiLM, groups, bottleneck, head1x1, head conv, "
               "condition_dsp or post-stack head) are trainable",
               d->path, a);
      return false;
    }
    if (A->n_layers > TR_WN_MAX_LAYERS) {
      snprintf(err, errlen, "%s: config.layers[%d]: %d layers, the trainer builds at most %d",
               d->path, a, A->n_layers, TR_WN_MAX_LAYERS);
      return false;
    }
    T->input_size = A->input_size;
    T->channels = A->channels;
    T->head_size = A->head_size;
    T->kernel_size = A->layers[0].kernel_size;
    T->head_bias = A->head_bias;
    T->n_layers = A->n_layers;
    for (int l = 0; l < A->n_layers; ++l)
      T->dilations[l] = A->layers[l].dilation;
  }
  return true;
}

static float *put(float *p, const float *src, size_t n)
{
  memcpy(p, src, n * sizeof(float));
  return p + n;
}

/** The description's weights in the file's order (without head_scale). */
static float *wavenet_params(const qm_desc *d, float *p)
{
  for (int a = 0; a < d->wavenet.n_arrays; ++a) {
    const qm_wn_array *A = &d->wavenet.arrays[a];
    const size_t C = (size_t)A->channels, K = (size_t)A->layers[0].kernel_size, Z = C;
    p = put(p, A->rechannel_w, C * (size_t)A->input_size);
    for (int l = 0; l < A->n_layers; ++l) {
      const qm_wn_layer *L = &A->layers[l];
      for (size_t o = 0; o < Z; ++o)
        for (size_t i = 0; i < C; ++i)
          for (size_t k = 0; k < K; ++k)
            *p++ = L->conv_w[o * K * C + k * C + i];
      p = put(p, L->conv_b, Z);
      p = put(p, L->mixin_w, Z);
      p = put(p, L->w1x1, C * C);
      p = put(p, L->b1x1, C);
    }
    p = put(p, A->head_w, (size_t)A->head_size * C);
    if (A->head_bias)
      p = put(p, A->head_b, (size_t)A->head_size);
  }
  return p;
}

static float *lstm_params(const qm_desc *d, float *p)
{
  for (int l = 0; l < d->seq.n_layers; ++l) {
    const qm_seq_layer *L = &d->seq.layers[l];
    const size_t H = (size_t)L->out, I = (size_t)L->in;
    if (L->kind == QM_LAYER_DENSE) { /* the head: weight[H], bias */
      p = put(p, L->wx, I);
      p = put(p, L->b, 1);
      continue;
    }
    for (size_t r = 0; r < 4 * H; ++r) {
      p = put(p, L->wx + r * I, I);
      p = put(p, L->wh + r * H, H);
    }
    p = put(p, L->b, 4 * H);
    p = put(p, L->h0, H);
    p = put(p, L->c0, H);
  }
  return p;
}

tr_model *tr_nam_read(const char *path, int threads, int lstm_prewarm, char *err, size_t errlen)
{
  if (errlen)
    err[0] = '\0';
  qm_desc *d = qm_load_file(path, err, errlen);
  if (!d)
    return NULL;
  tr_model *m = NULL;
  const bool wavenet = d->arch == QM_ARCH_WAVENET;
  if (wavenet) {
    tr_wn_config c;
    if (wavenet_config(d, &c, err, errlen))
      m = tr_wavenet_new(&c, 0, threads);
  } else if (d->architecture && strcmp(d->architecture, "LSTM") == 0) {
    tr_lstm_config c = {0};
    c.hidden = d->seq.layers[0].out;
    c.layers = d->seq.n_layers - 1; /* the last is the head */
    c.prewarm = lstm_prewarm;
    m = tr_lstm_new(&c, 0, threads);
  } else {
    snprintf(err, errlen, "%s: the trainer trains WaveNet and LSTM models, not %s", path,
             d->architecture ? d->architecture : "this architecture");
  }
  /* The loader checked the file's count against its config, the trainer
     counts its own from the same config: equal unless the layouts differ,
     which is checked before a float is written. */
  const size_t file_params = d->n_weights - (wavenet ? 1 : 0); /* without head_scale */
  if (m && file_params != m->n_params) {
    snprintf(err, errlen, "%s: %zu weights, the trainer's model has %zu", path, file_params,
             m->n_params);
    tr_model_free(m);
    m = NULL;
  } else if (m) {
    if (wavenet)
      wavenet_params(d, m->p);
    else
      lstm_params(d, m->p);
  } else if (!err[0]) {
    snprintf(err, errlen, "%s: unsupported configuration", path);
  }
  qm_desc_free(d);
  return m;
}
