/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
#include "tr_nam.h"

#include "model_file.h"
#include "slim.h"

#include <errno.h>
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

/** The "metadata" object's members (date, names, training ESR, quantone). */
static void write_metadata(FILE *f, const tr_nam_meta *meta, const char *in)
{
  time_t now = time(NULL);
  struct tm tmv;
  gmtime_r(&now, &tmv);
  fprintf(f,
          "%s\"metadata\": {\n%s  \"date\": {\"year\": %d, \"month\": %d, \"day\": %d, "
          "\"hour\": %d, \"minute\": %d, \"second\": %d},\n",
          in, in, tmv.tm_year + 1900, tmv.tm_mon + 1, tmv.tm_mday, tmv.tm_hour, tmv.tm_min,
          tmv.tm_sec);
  fprintf(f, "%s  \"name\": ", in);
  json_str(f, meta && meta->name ? meta->name : "Quantone model");
  fprintf(f, ",\n%s  \"modeled_by\": ", in);
  json_str(f, meta && meta->modeled_by ? meta->modeled_by : "quantone-train");
  /* gear and tone type only when known (a WAV pair's gear is the user's to say) */
  if (meta && meta->gear_type) {
    fprintf(f, ",\n%s  \"gear_type\": ", in);
    json_str(f, meta->gear_type);
  }
  if (meta && meta->tone_type) {
    fprintf(f, ",\n%s  \"tone_type\": ", in);
    json_str(f, meta->tone_type);
  }
  fprintf(f, ",\n%s  \"training\": {\"validation_esr\": ", in);
  if (meta && meta->validation_esr >= 0.0)
    fprintf(f, "%.9g", meta->validation_esr);
  else
    fprintf(f, "null");
  fprintf(f, "}");
  /* NAM's exporter puts validation_esr under training; the top-level copy is for readers
     that look there (our engine's loader accepts both). */
  if (meta && meta->validation_esr >= 0.0)
    fprintf(f, ",\n%s  \"validation_esr\": %.9g", in, meta->validation_esr);
  if (meta && meta->quantone)
    fprintf(f, ",\n%s  \"quantone\": %s", in, meta->quantone);
  fprintf(f, "\n%s},\n", in);
}

static void write_int_list(FILE *f, const char *key, const int *v, int n)
{
  fprintf(f, "\"%s\": [", key);
  for (int i = 0; i < n; ++i)
    fprintf(f, "%s%d", i ? ", " : "", v[i]);
  fprintf(f, "]");
}

/** n copies of text as a JSON list. */
static void write_repeated(FILE *f, const char *key, const char *text, int n)
{
  fprintf(f, "\"%s\": [", key);
  for (int i = 0; i < n; ++i)
    fprintf(f, "%s%s", i ? ", " : "", text);
  fprintf(f, "]");
}

/** The "slimmable" member's value: null, or NAM's slice_channels_uniform with A's sizes. */
static void write_slimmable(FILE *f, const tr_wn_array_cfg *A)
{
  if (A->n_slim_allowed <= 0) {
    fprintf(f, "null");
    return;
  }
  fprintf(f, "{\"method\": \"slice_channels_uniform\", \"kwargs\": {");
  write_int_list(f, "allowed_channels", A->slim_allowed, A->n_slim_allowed);
  fprintf(f, "}}");
}

static bool any_slimmable(const tr_wn_config *c)
{
  for (int a = 0; a < c->n_arrays; ++a)
    if (c->arrays[a].n_slim_allowed > 0)
      return true;
  return false;
}

/** An A1 layer array as NAM 0.5 writes it (and, when slimmable, as NAM 0.7 does: the A1 members
    and "slimmable", like ../shared/reference/nam/current/slimmable_wavenet.nam). */
static void write_a1_array(FILE *f, const tr_wn_array_cfg *A)
{
  fprintf(f,
          "{\"input_size\": %d, \"condition_size\": 1, \"head_size\": %d, "
          "\"channels\": %d, \"kernel_size\": %d, ",
          A->input_size, A->head_size, A->channels, A->kernel_size);
  write_int_list(f, "dilations", A->dilations, A->n_layers);
  fprintf(f, ", \"activation\": \"Tanh\", \"gated\": false, \"head_bias\": %s",
          A->head_bias ? "true" : "false");
  if (A->n_slim_allowed > 0) {
    fprintf(f, ", \"slimmable\": ");
    write_slimmable(f, A);
  }
  fprintf(f, "}");
}

/** An A2-form layer array with every field NAM 0.7 writes (the ones
    this trainer does not use written inactive, as NAM's exporter does). */
static void write_a2_array(FILE *f, const tr_wn_array_cfg *A, const char *in)
{
  static const char *const films[] = {"conv_pre_film",        "conv_post_film",
                                      "input_mixin_pre_film", "input_mixin_post_film",
                                      "activation_pre_film",  "activation_post_film",
                                      "layer1x1_post_film",   "head1x1_post_film"};
  int kernels[TR_WN_MAX_LAYERS];
  for (int l = 0; l < A->n_layers; ++l)
    kernels[l] = tr_wn_kernel(A, l);
  char act[96];
  if (A->activation == TR_WN_LEAKY_RELU)
    snprintf(act, sizeof act, "{\"type\": \"LeakyReLU\", \"negative_slope\": %.9g}",
             A->negative_slope);
  else
    snprintf(act, sizeof act, "\"Tanh\"");
  fprintf(
      f,
      "{\n%s  \"input_size\": %d, \"condition_size\": 1, \"channels\": %d, \"bottleneck\": %d,\n"
      "%s  \"head\": {\"out_channels\": %d, \"kernel_size\": %d, \"bias\": %s},\n%s  ",
      in, A->input_size, A->channels, tr_wn_bottleneck(A), in, A->head_size, tr_wn_head_kernel(A),
      A->head_bias ? "true" : "false", in);
  write_int_list(f, "kernel_sizes", kernels, A->n_layers);
  fprintf(f, ",\n%s  ", in);
  write_int_list(f, "dilations", A->dilations, A->n_layers);
  fprintf(f, ",\n%s  ", in);
  write_repeated(f, "activation", act, A->n_layers);
  fprintf(f, ",\n%s  ", in);
  write_repeated(f, "gating_mode", "\"none\"", A->n_layers);
  fprintf(f, ",\n%s  ", in);
  write_repeated(f, "secondary_activation", "null", A->n_layers);
  fprintf(f,
          ",\n%s  \"head1x1\": {\"active\": false, \"out_channels\": %d, \"groups\": 1}, "
          "\"layer1x1\": {\"active\": true, \"groups\": 1},\n"
          "%s  \"groups_input\": 1, \"groups_input_mixin\": 1, \"slimmable\": ",
          in, A->head_size, in);
  write_slimmable(f, A);
  for (size_t i = 0; i < sizeof films / sizeof films[0]; ++i)
    fprintf(f, ",\n%s  \"%s\": {\"active\": false, \"shift\": true, \"groups\": 1}", in, films[i]);
  fprintf(f, "\n%s}", in);
}

/** A model's members: version, metadata, architecture, config, weights,
    sample_rate; each line starts with in. */
static void write_model_members(FILE *f, const tr_model *m, const float *p, const tr_nam_meta *meta,
                                const char *in)
{
  const bool a1 = m->arch != TR_WAVENET || tr_wavenet_is_a1(tr_wavenet_config(m));
  const bool slimmable = m->arch == TR_WAVENET && any_slimmable(tr_wavenet_config(m));
  fprintf(f, "%s\"version\": \"%s\",\n", in, a1 && !slimmable ? TR_NAM_VERSION : TR_NAM_VERSION_A2);
  write_metadata(f, meta, in);
  if (m->arch == TR_WAVENET) {
    const tr_wn_config *c = tr_wavenet_config(m);
    fprintf(f, "%s\"architecture\": \"WaveNet\",\n%s\"config\": {\n%s  \"layers\": [\n", in, in,
            in);
    char in2[64];
    snprintf(in2, sizeof in2, "%s    ", in);
    for (int a = 0; a < c->n_arrays; ++a) {
      fputs(in2, f);
      if (a1)
        write_a1_array(f, &c->arrays[a]);
      else
        write_a2_array(f, &c->arrays[a], in2);
      fprintf(f, "%s\n", a + 1 < c->n_arrays ? "," : "");
    }
    fprintf(f, "%s  ],\n%s  \"head\": null,\n%s  \"head_scale\": %.9g\n%s},\n", in, in, in,
            c->head_scale, in);
  } else {
    const tr_lstm_config *c = tr_lstm_cfg(m);
    fprintf(f,
            "%s\"architecture\": \"LSTM\",\n%s\"config\": {\"input_size\": 1, \"hidden_size\": "
            "%d, \"num_layers\": %d},\n",
            in, in, c->hidden, c->layers);
  }
  fprintf(f, "%s\"weights\": [", in);
  for (size_t i = 0; i < m->n_params; ++i)
    fprintf(f, "%s%.9g", i ? (i % 8 ? ", " : ",\n  ") : "\n  ", p[i]);
  if (m->arch == TR_WAVENET)
    fprintf(f, ",\n  %.9g", tr_wavenet_config(m)->head_scale);
  fprintf(f, "\n%s],\n%s\"sample_rate\": 48000\n", in, in);
}

bool tr_nam_write(const char *path, const tr_model *m, const float *p, const tr_nam_meta *meta)
{
  FILE *f = fopen(path, "w");
  if (!f)
    return false;
  fprintf(f, "{\n");
  write_model_members(f, m, p, meta, "  ");
  fprintf(f, "}\n");
  const bool ok = !ferror(f);
  return (fclose(f) == 0) && ok;
}

bool tr_nam_write_container(const char *path, int n, const tr_model *const *models,
                            const float *const *params, const double *max_values,
                            const tr_nam_meta *meta)
{
  for (int i = 1; i < n; ++i)
    if (!(max_values[i] > max_values[i - 1])) {
      errno = EINVAL;
      return false;
    }
  FILE *f = fopen(path, "w");
  if (!f)
    return false;
  fprintf(f, "{\n  \"version\": \"%s\",\n", TR_NAM_VERSION_A2);
  write_metadata(f, meta, "  ");
  fprintf(f, "  \"architecture\": \"SlimmableContainer\",\n  \"config\": {\"submodels\": [\n");
  for (int i = 0; i < n; ++i) {
    fprintf(f, "    {\"max_value\": %.9g, \"model\": {\n", max_values[i]);
    write_model_members(f, models[i], params[i], meta, "      ");
    fprintf(f, "    }}%s\n", i + 1 < n ? "," : "");
  }
  fprintf(f, "  ]},\n  \"weights\": [],\n  \"sample_rate\": 48000\n}\n");
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

/** Whether the trainer's WaveNet (tr_wavenet.c) has array A's form: A1 or A2. */
static bool trainable_array(const qm_wn_array *A, bool single_array)
{
  for (int p = 0; p < QM_FILM_COUNT; ++p)
    if (A->film[p].active)
      return false;
  const qm_activation *act0 = &A->layers[0].activation;
  if (act0->type != QM_NONLIN_TANH &&
      !(act0->type == QM_NONLIN_LEAKY_RELU && act0->negative_slope >= 0.0f))
    return false;
  for (int l = 0; l < A->n_layers; ++l) {
    const qm_wn_layer *L = &A->layers[l];
    if (L->gating != QM_GATING_NONE || L->activation.type != act0->type ||
        L->activation.negative_slope != act0->negative_slope || L->kernel_size > TR_WN_MAX_KERNEL)
      return false;
  }
  return A->condition_size == 1 && A->layer1x1 && A->layer1x1_groups == 1 && !A->head1x1 &&
         A->groups_input == 1 && A->groups_input_mixin == 1 && A->head_dilation == 1 &&
         A->head_kernel <= TR_WN_MAX_KERNEL && (A->head_kernel == 1 || single_array);
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
    if (!trainable_array(A, wn->n_arrays == 1) || wn->condition_dsp || wn->head.n_convs) {
      snprintf(err, errlen,
               "%s: config.layers[%d]: only A1 and A2 arrays (Tanh or LeakyReLU alike in every "
               "layer, non-gated, condition_size 1, layer1x1, no FiLM, groups, head1x1, "
               "condition_dsp or post-stack head; a head conv only in a single array) are "
               "trainable",
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
    T->bottleneck = A->bottleneck;
    T->head_size = A->head_size;
    T->kernel_size = A->layers[0].kernel_size;
    T->head_bias = A->head_bias;
    T->head_kernel = A->head_kernel;
    T->n_layers = A->n_layers;
    if (A->layers[0].activation.type == QM_NONLIN_LEAKY_RELU) {
      T->activation = TR_WN_LEAKY_RELU;
      T->negative_slope = A->layers[0].activation.negative_slope;
    }
    for (int l = 0; l < A->n_layers; ++l) {
      T->dilations[l] = A->layers[l].dilation;
      T->kernel_sizes[l] = A->layers[l].kernel_size;
    }
    /* kept so that a slimmable file is written back slimmable */
    if (A->slim.n_allowed <= TR_WN_MAX_SLIM) {
      T->n_slim_allowed = A->slim.n_allowed;
      for (int i = 0; i < A->slim.n_allowed; ++i)
        T->slim_allowed[i] = A->slim.allowed_channels[i];
    }
  }
  return true;
}

static float *put(float *p, const float *src, size_t n)
{
  memcpy(p, src, n * sizeof(float));
  return p + n;
}

/** A conv the loader holds as [out][tap*in + i], in the file's order (out, in, tap). */
static float *put_conv(float *p, const float *w, size_t out, size_t in, size_t taps)
{
  for (size_t o = 0; o < out; ++o)
    for (size_t i = 0; i < in; ++i)
      for (size_t k = 0; k < taps; ++k)
        *p++ = w[o * taps * in + k * in + i];
  return p;
}

/** The description's weights in the file's order (without head_scale). */
static float *wavenet_params(const qm_desc *d, float *p)
{
  for (int a = 0; a < d->wavenet.n_arrays; ++a) {
    const qm_wn_array *A = &d->wavenet.arrays[a];
    const size_t C = (size_t)A->channels, B = (size_t)A->bottleneck;
    p = put(p, A->rechannel_w, C * (size_t)A->input_size);
    for (int l = 0; l < A->n_layers; ++l) {
      const qm_wn_layer *L = &A->layers[l];
      p = put_conv(p, L->conv_w, B, C, (size_t)L->kernel_size);
      p = put(p, L->conv_b, B);
      p = put(p, L->mixin_w, B);
      p = put(p, L->w1x1, C * B);
      p = put(p, L->b1x1, C);
    }
    p = put_conv(p, A->head_w, (size_t)A->head_size, B, (size_t)A->head_kernel);
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
  qm_desc *file = qm_load_file(path, err, errlen);
  if (!file)
    return NULL;
  /* a SlimmableContainer trains (and fine-tunes) its full-size submodel */
  const qm_desc *d = qm_desc_full_size(file);
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
  qm_desc_free(file);
  return m;
}
