/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The WaveNet of `.nam` files 0.5 to 0.7: A1 and every option of
  NeuralAmpModelerCore's WaveNet (NAM/wavenet/model.cpp, parse_config_json
  and the set_weights_ functions, are the specification): per-layer kernel
  sizes, activations and gating modes, bottleneck, grouped convolutions,
  layer1x1 / head1x1, the eight FiLM points, the array head conv, the
  post-stack head, condition_dsp and slimmable layer arrays.

  The config is read first into the description's shapes; the weight count
  and the memory estimate follow from those shapes alone, so a hostile file
  is refused before a weight is copied. Then the weights are taken in the
  file's order:
    per array: rechannel [C][in];
      per layer: conv (per group g, out i, in j, tap k; then bias [Z]),
        input_mixin (per group, out, in), layer1x1 (+ bias), head1x1
        (+ bias), then each active FiLM in qm_film_point order
        (per group, out, in; then bias);
      the array head conv (per out, in, tap; bias if head.bias);
    the post-stack head convs (per out, in, tap; bias);
    head_scale.
  Grouped matrices are stored dense and block-diagonal (model_file.h).
*/
#include "activation.h"
#include "loader_internal.h"
#include "slim_internal.h"
#include "qk.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** Upper bound on the engine's internal batch, for the state-memory estimate
    (the same bound models/nam_file.c uses for the other architectures). */
#define QM_STATE_FRAMES 4096

/** condition_dsp models nested in condition_dsp models: real files have
    one; the limit keeps a hostile file from recursing the loader and the
    engine without end. */
#define QM_MAX_CONDITION_DEPTH 4

/** How deep in condition_dsp models this thread's load is (0: loading the
    file's own model). */
static _Thread_local int condition_depth;

/** The file's names of the FiLM points, in qm_film_point order. */
static const char *const film_keys[QM_FILM_COUNT] = {
    "conv_pre_film",       "conv_post_film",       "input_mixin_pre_film", "input_mixin_post_film",
    "activation_pre_film", "activation_post_film", "layer1x1_post_film",   "head1x1_post_film"};

/* ---- activations ---------------------------------------------------------- */

static const struct {
  const char *name;
  qm_nonlinearity type;
} activation_names[] = {
    {"Tanh", QM_NONLIN_TANH},
    {"Hardtanh", QM_NONLIN_HARDTANH},
    {"Fasttanh", QM_NONLIN_FASTTANH},
    {"ReLU", QM_NONLIN_RELU},
    {"LeakyReLU", QM_NONLIN_LEAKY_RELU},
    {"PReLU", QM_NONLIN_PRELU},
    {"Sigmoid", QM_NONLIN_SIGMOID},
    {"SiLU", QM_NONLIN_SILU},
    {"Hardswish", QM_NONLIN_HARDSWISH},
    {"LeakyHardtanh", QM_NONLIN_LEAKY_HARDTANH},
    {"LeakyHardTanh", QM_NONLIN_LEAKY_HARDTANH},
    {"Softsign", QM_NONLIN_SOFTSIGN},
    /* not a NeuralAmpModelerCore name; earlier Quantone builds read it */
    {"Identity", QM_NONLIN_NONE},
};

/** A float parameter of an activation object: optional with a default. */
static bool act_param(qm_ctx *c, json_t *obj, const char *what, const char *key, float dflt,
                      float *out)
{
  double v;
  if (!qm_get_double(c, obj, what, key, false, dflt, &v))
    return false;
  *out = (float)v;
  if (!isfinite(*out))
    return qm_fail(c, "\"%s\" in %s is out of float range", key, what);
  return true;
}

/**
   An activation as NeuralAmpModelerCore's ActivationConfig::from_json reads
   it: a name, or an object with "type" and the parameters of that type.
*/
bool qm_nam_activation(qm_ctx *c, qm_desc *d, json_t *v, const char *what, qm_activation *out)
{
  json_t *type = v;
  if (json_is_object(v)) {
    if (!(type = qm_get(c, v, what, "type", true)))
      return false;
  } else if (!json_is_string(v)) {
    return qm_fail(c, "%s must be an activation name or an object with \"type\"", what);
  }
  if (!json_is_string(type))
    return qm_fail(c, "the activation type in %s must be a string", what);
  const char *s = json_string_value(type);
  size_t i = 0, n = sizeof activation_names / sizeof activation_names[0];
  while (i < n && strcmp(s, activation_names[i].name) != 0)
    ++i;
  if (i == n) {
    char shown[QM_SHOWN_BYTES];
    return qm_fail(c,
                   "unsupported activation %s in %s (supported: Tanh, Hardtanh, Fasttanh, ReLU, "
                   "LeakyReLU, PReLU, Sigmoid, SiLU, Hardswish, LeakyHardtanh, Softsign)",
                   qm_shown(s, shown, sizeof shown), what);
  }
  *out = qm_activation_default(activation_names[i].type);
  if (!json_is_object(v))
    return true;
  switch (out->type) {
  case QM_NONLIN_LEAKY_RELU:
    return act_param(c, v, what, "negative_slope", 0.01f, &out->negative_slope);
  case QM_NONLIN_PRELU: {
    if (json_object_get(v, "negative_slope"))
      return act_param(c, v, what, "negative_slope", 0.01f, &out->negative_slope);
    json_t *slopes = json_object_get(v, "negative_slopes");
    if (!slopes)
      return true;
    size_t count = json_array_size(slopes);
    if (!json_is_array(slopes) || count == 0 || count > QM_MAX_CHANNELS)
      return qm_fail(c, "\"negative_slopes\" in %s must be an array of 1 to %d numbers", what,
                     QM_MAX_CHANNELS);
    if (!(out->slopes = qm_desc_alloc(d, count * sizeof(float))))
      return qm_fail(c, "out of memory");
    out->n_slopes = (int)count;
    char slope_what[200];
    snprintf(slope_what, sizeof slope_what, "negative slope of %s", what);
    return qm_json_floats(c, slopes, slope_what, 0, count, out->slopes);
  }
  case QM_NONLIN_LEAKY_HARDTANH:
    return act_param(c, v, what, "min_val", -1.0f, &out->min_val) &&
           act_param(c, v, what, "max_val", 1.0f, &out->max_val) &&
           act_param(c, v, what, "min_slope", 0.01f, &out->min_slope) &&
           act_param(c, v, what, "max_slope", 0.01f, &out->max_slope);
  default: return true;
  }
}

/** PReLU's per-channel slopes must match the vector they activate (NAM
    indexes them by channel in one place and by position modulo their
    count in another: the two agree only then). */
static bool check_slopes(qm_ctx *c, const qm_activation *a, int width, const char *what)
{
  if (a->type == QM_NONLIN_PRELU && a->n_slopes > 0 && a->n_slopes != width)
    return qm_fail(c, "%s has %d negative_slopes for %d channels", what, a->n_slopes, width);
  return true;
}

/**
   A per-layer option: an array with one entry per layer, or one value for
   every layer (NAM's "activation", "gating_mode", "secondary_activation").
   Returns the entry of layer l.
*/
static json_t *per_layer(json_t *v, int l) { return json_is_array(v) ? json_array_get(v, l) : v; }

static bool check_per_layer_count(qm_ctx *c, json_t *v, const char *where, const char *key,
                                  int n_layers)
{
  if (json_is_array(v) && json_array_size(v) != (size_t)n_layers)
    return qm_fail(c, "%s.%s has %zu entries, dilations %d", where, key, json_array_size(v),
                   n_layers);
  return true;
}

static bool parse_gating(qm_ctx *c, json_t *v, const char *what, qm_gating *out)
{
  if (!json_is_string(v))
    return qm_fail(c, "%s must be \"none\", \"gated\" or \"blended\"", what);
  const char *s = json_string_value(v);
  if (!strcmp(s, "none"))
    *out = QM_GATING_NONE;
  else if (!strcmp(s, "gated"))
    *out = QM_GATING_GATED;
  else if (!strcmp(s, "blended"))
    *out = QM_GATING_BLENDED;
  else {
    char shown[QM_SHOWN_BYTES];
    return qm_fail(c, "%s is %s, not \"none\", \"gated\" or \"blended\"", what,
                   qm_shown(s, shown, sizeof shown));
  }
  return true;
}

/* ---- one layer array's config ---------------------------------------------- */

/** The vector a FiLM point modulates, in channels. */
static int film_dim(const qm_wn_array *A, const qm_wn_layer *L, qm_film_point p)
{
  const int Z = L->gating != QM_GATING_NONE ? 2 * A->bottleneck : A->bottleneck;
  switch (p) {
  case QM_FILM_CONV_PRE: return A->channels;
  case QM_FILM_MIXIN_PRE: return A->condition_size;
  case QM_FILM_ACTIVATION_POST: return A->bottleneck;
  case QM_FILM_LAYER1X1_POST: return A->channels;
  case QM_FILM_HEAD1X1_POST: return A->head1x1_out;
  default: return Z;
  }
}

static bool check_groups(qm_ctx *c, const char *what, int groups, int in, int out)
{
  if (in % groups || out % groups)
    return qm_fail(c, "%s: groups %d does not divide %d inputs and %d outputs", what, groups, in,
                   out);
  return true;
}

/** An optional object option with required members ("layer1x1", "head1x1"). */
static json_t *option_object(qm_ctx *c, json_t *cfg, const char *where, const char *key, bool *ok)
{
  json_t *v = json_object_get(cfg, key);
  *ok = true;
  if (v && !json_is_object(v)) {
    *ok = qm_fail(c, "%s.%s must be an object", where, key);
    return NULL;
  }
  return v;
}

static bool parse_film_configs(qm_ctx *c, json_t *cfg, const char *where, qm_wn_array *A)
{
  for (int p = 0; p < QM_FILM_COUNT; ++p) {
    qm_film_config *F = &A->film[p];
    json_t *v = json_object_get(cfg, film_keys[p]);
    F->groups = 1;
    if (!v || json_is_false(v))
      continue;
    char what[96];
    snprintf(what, sizeof what, "%s.%s", where, film_keys[p]);
    if (!json_is_object(v))
      return qm_fail(c, "%s must be false or an object {active, shift, groups}", what);
    if (!qm_get_bool(c, v, what, "active", false, true, &F->active) ||
        !qm_get_bool(c, v, what, "shift", false, true, &F->shift) ||
        !qm_get_int(c, v, what, "groups", false, 1, QM_MAX_CHANNELS, 1, &F->groups))
      return false;
  }
  if (A->film[QM_FILM_LAYER1X1_POST].active && !A->layer1x1)
    return qm_fail(c, "%s.layer1x1_post_film is active but layer1x1 is not", where);
  if (A->film[QM_FILM_HEAD1X1_POST].active && !A->head1x1)
    return qm_fail(c, "%s.head1x1_post_film is active but head1x1 is not", where);
  return true;
}

/** The array head: {out_channels, kernel_size, bias, head_dilation} or the
    legacy head_size / head_bias (kernel 1). */
static bool parse_array_head(qm_ctx *c, json_t *cfg, const char *where, qm_wn_array *A)
{
  json_t *head = json_object_get(cfg, "head");
  A->head_kernel = A->head_dilation = 1;
  if (head && !json_is_null(head)) {
    char what[96];
    snprintf(what, sizeof what, "%s.head", where);
    if (!json_is_object(head))
      return qm_fail(c, "%s must be an object {out_channels, kernel_size, bias}", what);
    return qm_get_int(c, head, what, "out_channels", true, 1, QM_MAX_CHANNELS, 0, &A->head_size) &&
           qm_get_int(c, head, what, "kernel_size", true, 1, QM_MAX_KERNEL, 0, &A->head_kernel) &&
           qm_get_int(c, head, what, "head_dilation", false, 1, QM_MAX_DILATION, 1,
                      &A->head_dilation) &&
           qm_get_bool(c, head, what, "bias", true, false, &A->head_bias);
  }
  if (!json_object_get(cfg, "head_size"))
    return qm_fail(c, "%s needs a \"head\" object or the legacy \"head_size\" and \"head_bias\"",
                   where);
  return qm_get_int(c, cfg, where, "head_size", true, 1, QM_MAX_CHANNELS, 0, &A->head_size) &&
         qm_get_bool(c, cfg, where, "head_bias", true, false, &A->head_bias);
}

static bool parse_slimmable(qm_ctx *c, qm_desc *d, json_t *cfg, const char *where, qm_wn_array *A)
{
  json_t *s = json_object_get(cfg, "slimmable");
  if (!json_is_object(s))
    return true; /* NAM ignores anything else */
  json_t *method = json_object_get(s, "method");
  const char *m = json_is_string(method) ? json_string_value(method) : "";
  if (!*m)
    return true;
  if (strcmp(m, "slice_channels_uniform") != 0) {
    char shown[QM_SHOWN_BYTES];
    return qm_fail(c, "%s.slimmable.method %s is not supported (only \"slice_channels_uniform\")",
                   where, qm_shown(m, shown, sizeof shown));
  }
  json_t *kwargs = json_object_get(s, "kwargs");
  json_t *allowed = json_is_object(kwargs) ? json_object_get(kwargs, "allowed_channels") : NULL;
  size_t n = json_array_size(allowed);
  if (!json_is_array(allowed) || n == 0 || n > QM_MAX_CHANNELS)
    return qm_fail(c, "%s.slimmable.kwargs.allowed_channels must be an array of 1 to %d counts",
                   where, QM_MAX_CHANNELS);
  if (!(A->slim.allowed_channels = qm_desc_alloc(d, n * sizeof(int))))
    return qm_fail(c, "out of memory");
  A->slim.n_allowed = (int)n;
  for (size_t i = 0; i < n; ++i) {
    char what[128];
    snprintf(what, sizeof what, "%s.slimmable.kwargs.allowed_channels[%zu]", where, i);
    int *v = &A->slim.allowed_channels[i];
    if (!qm_json_int(c, json_array_get(allowed, i), what, 1, QM_MAX_CHANNELS, v))
      return false;
    if (i > 0 && *v <= v[-1])
      return qm_fail(c, "%s.slimmable.kwargs.allowed_channels must be ascending (%d after %d)",
                     where, *v, v[-1]);
  }
  if (A->slim.allowed_channels[n - 1] != A->channels)
    return qm_fail(c,
                   "%s.slimmable.kwargs.allowed_channels ends at %d, not at the %d channels of "
                   "the array",
                   where, A->slim.allowed_channels[n - 1], A->channels);
  return true;
}

/** Per layer: dilation, kernel size, activation, gating and secondary. */
static bool parse_layers(qm_ctx *c, qm_desc *d, json_t *cfg, const char *where, qm_wn_array *A,
                         int *total_layers)
{
  json_t *dil = qm_get(c, cfg, where, "dilations", true);
  if (!dil)
    return false;
  if (!json_is_array(dil) || json_array_size(dil) == 0)
    return qm_fail(c, "%s.dilations must be a non-empty array", where);
  if (json_array_size(dil) > QM_MAX_LAYERS ||
      (*total_layers += (int)json_array_size(dil)) > QM_MAX_LAYERS)
    return qm_fail(c, "too many layers (limit %d)", QM_MAX_LAYERS);
  const int n = (int)json_array_size(dil);
  A->n_layers = n;
  if (!(A->layers = qm_desc_alloc(d, (size_t)n * sizeof *A->layers)))
    return qm_fail(c, "out of memory");

  json_t *ks = json_object_get(cfg, "kernel_size"), *kss = json_object_get(cfg, "kernel_sizes");
  if (ks && kss)
    return qm_fail(c, "%s has both kernel_size and kernel_sizes (only one may be given)", where);
  if (!ks && !kss)
    return qm_fail(c, "%s needs kernel_size or kernel_sizes", where);
  if (kss && !json_is_array(kss))
    return qm_fail(c, "%s.kernel_sizes must be an array", where);
  if (kss && json_array_size(kss) != (size_t)n)
    return qm_fail(c, "%s.kernel_sizes has %zu entries, dilations %d", where, json_array_size(kss),
                   n);

  json_t *act = qm_get(c, cfg, where, "activation", true);
  if (!act || !check_per_layer_count(c, act, where, "activation", n))
    return false;
  /* gating: "gating_mode" (one or per layer), else the legacy "gated" */
  json_t *gm = json_object_get(cfg, "gating_mode"),
         *sec = json_object_get(cfg, "secondary_activation");
  bool legacy_gated = false;
  if (!gm && !qm_get_bool(c, cfg, where, "gated", false, false, &legacy_gated))
    return false;
  if (gm &&
      (!check_per_layer_count(c, gm, where, "gating_mode", n) ||
       (json_is_array(gm) && !check_per_layer_count(c, sec, where, "secondary_activation", n))))
    return false;

  for (int l = 0; l < n; ++l) {
    qm_wn_layer *L = &A->layers[l];
    char what[128];
    snprintf(what, sizeof what, "%s.dilations[%d]", where, l);
    if (!qm_json_int(c, json_array_get(dil, (size_t)l), what, 1, QM_MAX_DILATION, &L->dilation))
      return false;
    if (kss) {
      snprintf(what, sizeof what, "%s.kernel_sizes[%d]", where, l);
      if (!qm_json_int(c, json_array_get(kss, (size_t)l), what, 1, QM_MAX_KERNEL, &L->kernel_size))
        return false;
    } else {
      snprintf(what, sizeof what, "%s.kernel_size", where);
      if (!qm_json_int(c, ks, what, 1, QM_MAX_KERNEL, &L->kernel_size))
        return false;
    }
    if (json_is_array(act))
      snprintf(what, sizeof what, "%s.activation[%d]", where, l);
    else
      snprintf(what, sizeof what, "%s.activation", where);
    if (!qm_nam_activation(c, d, per_layer(act, l), what, &L->activation) ||
        !check_slopes(c, &L->activation, A->bottleneck, what))
      return false;
    if (gm) {
      if (json_is_array(gm))
        snprintf(what, sizeof what, "%s.gating_mode[%d]", where, l);
      else
        snprintf(what, sizeof what, "%s.gating_mode", where);
      if (!parse_gating(c, per_layer(gm, l), what, &L->gating))
        return false;
    } else {
      L->gating = legacy_gated ? QM_GATING_GATED : QM_GATING_NONE;
    }
    L->secondary = qm_activation_default(QM_NONLIN_SIGMOID);
    if (L->gating != QM_GATING_NONE && gm && sec) {
      if (json_is_array(sec))
        snprintf(what, sizeof what, "%s.secondary_activation[%d]", where, l);
      else
        snprintf(what, sizeof what, "%s.secondary_activation", where);
      if (!qm_nam_activation(c, d, per_layer(sec, l), what, &L->secondary) ||
          !check_slopes(c, &L->secondary, A->bottleneck, what))
        return false;
    }
  }
  return true;
}

static bool parse_array(qm_ctx *c, qm_desc *d, json_t *cfg, const char *where, qm_wn_array *A,
                        int *total_layers)
{
  if (!json_is_object(cfg))
    return qm_fail(c, "%s must be an object", where);
  bool ok;
  if (!qm_get_int(c, cfg, where, "input_size", true, 1, QM_MAX_CHANNELS, 0, &A->input_size) ||
      !qm_get_int(c, cfg, where, "condition_size", true, 1, QM_MAX_CHANNELS, 0,
                  &A->condition_size) ||
      !qm_get_int(c, cfg, where, "channels", true, 1, QM_MAX_CHANNELS, 0, &A->channels) ||
      !qm_get_int(c, cfg, where, "bottleneck", false, 1, QM_MAX_CHANNELS, A->channels,
                  &A->bottleneck) ||
      !qm_get_int(c, cfg, where, "groups_input", false, 1, QM_MAX_CHANNELS, 1, &A->groups_input) ||
      !qm_get_int(c, cfg, where, "groups_input_mixin", false, 1, QM_MAX_CHANNELS, 1,
                  &A->groups_input_mixin) ||
      !parse_array_head(c, cfg, where, A))
    return false;

  char what[96];
  json_t *l1 = option_object(c, cfg, where, "layer1x1", &ok);
  A->layer1x1 = true;
  A->layer1x1_groups = 1;
  snprintf(what, sizeof what, "%s.layer1x1", where);
  if (!ok || (l1 && (!qm_get_bool(c, l1, what, "active", true, true, &A->layer1x1) ||
                     !qm_get_int(c, l1, what, "groups", true, 1, QM_MAX_CHANNELS, 1,
                                 &A->layer1x1_groups))))
    return false;
  if (!A->layer1x1 && A->bottleneck != A->channels)
    return qm_fail(c, "%s.layer1x1 is inactive, so bottleneck (%d) must equal channels (%d)", where,
                   A->bottleneck, A->channels);
  json_t *h1 = option_object(c, cfg, where, "head1x1", &ok);
  A->head1x1_out = A->channels;
  A->head1x1_groups = 1;
  snprintf(what, sizeof what, "%s.head1x1", where);
  if (!ok ||
      (h1 &&
       (!qm_get_bool(c, h1, what, "active", true, false, &A->head1x1) ||
        !qm_get_int(c, h1, what, "out_channels", true, 1, QM_MAX_CHANNELS, 1, &A->head1x1_out) ||
        !qm_get_int(c, h1, what, "groups", true, 1, QM_MAX_CHANNELS, 1, &A->head1x1_groups))))
    return false;
  if (!parse_film_configs(c, cfg, where, A) || !parse_layers(c, d, cfg, where, A, total_layers) ||
      !parse_slimmable(c, d, cfg, where, A))
    return false;

  /* every convolution's groups must split its inputs and outputs */
  const int B = A->bottleneck, C = A->channels, Q = A->condition_size;
  for (int l = 0; l < A->n_layers; ++l) {
    const qm_wn_layer *L = &A->layers[l];
    const int Z = L->gating != QM_GATING_NONE ? 2 * B : B;
    snprintf(what, sizeof what, "%s.groups_input", where);
    if (!check_groups(c, what, A->groups_input, C, Z))
      return false;
    snprintf(what, sizeof what, "%s.groups_input_mixin", where);
    if (!check_groups(c, what, A->groups_input_mixin, Q, Z))
      return false;
    for (int p = 0; p < QM_FILM_COUNT; ++p) {
      const qm_film_config *F = &A->film[p];
      snprintf(what, sizeof what, "%s.%s.groups", where, film_keys[p]);
      if (F->active && !check_groups(c, what, F->groups, Q,
                                     (F->shift ? 2 : 1) * film_dim(A, L, (qm_film_point)p)))
        return false;
    }
  }
  snprintf(what, sizeof what, "%s.layer1x1.groups", where);
  if (A->layer1x1 && !check_groups(c, what, A->layer1x1_groups, B, C))
    return false;
  snprintf(what, sizeof what, "%s.head1x1.groups", where);
  if (A->head1x1 && !check_groups(c, what, A->head1x1_groups, B, A->head1x1_out))
    return false;
  return true;
}

/* ---- the whole config ------------------------------------------------------- */

static int head_input_size(const qm_wn_array *A)
{
  return A->head1x1 ? A->head1x1_out : A->bottleneck;
}

/** How arrays connect (NAM's WaveNet::WaveNet and LayerArray::Process):
    array 0 reads the input, array a+1 array a's residual stream and
    continues its head accumulator; every array reads the condition. */
static bool check_connections(qm_ctx *c, const qm_wavenet_desc *wn, int condition_channels)
{
  for (int a = 0; a < wn->n_arrays; ++a) {
    const qm_wn_array *A = &wn->arrays[a];
    if (A->condition_size != condition_channels)
      return qm_fail(c,
                     "config.layers[%d].condition_size is %d, but the condition has %d channels "
                     "(%s)",
                     a, A->condition_size, condition_channels,
                     wn->condition_dsp ? "the outputs of config.condition_dsp" : "the input");
    if (a == 0 && A->input_size != wn->in_channels)
      return qm_fail(c, "config.layers[0].input_size is %d, the input has %d channel(s)",
                     A->input_size, wn->in_channels);
    if (a == 0)
      continue;
    const qm_wn_array *P = &wn->arrays[a - 1];
    if (A->input_size != P->channels)
      return qm_fail(c, "config.layers[%d].input_size is %d, the array before it has %d channels",
                     a, A->input_size, P->channels);
    if (P->head_size != A->channels)
      return qm_fail(c,
                     "config.layers[%d] head size %d does not match the %d channels of "
                     "config.layers[%d]",
                     a - 1, P->head_size, A->channels, a);
    if (P->head_size != head_input_size(A))
      return qm_fail(c,
                     "config.layers[%d] head size %d does not match the %d head channels "
                     "config.layers[%d] accumulates",
                     a - 1, P->head_size, head_input_size(A), a);
  }
  return true;
}

static bool parse_post_head(qm_ctx *c, qm_desc *d, json_t *config, qm_wavenet_desc *wn)
{
  json_t *h = json_object_get(config, "head");
  if (!h || json_is_null(h))
    return true;
  const char *where = "config.head";
  if (!json_is_object(h))
    return qm_fail(c, "config.head must be an object or null");
  qm_wn_post_head *H = &wn->head;
  const int in = wn->arrays[wn->n_arrays - 1].head_size;
  int legacy_in = in;
  if (!qm_get_int(c, h, where, "in_channels", false, 1, QM_MAX_CHANNELS, in, &legacy_in) ||
      !qm_get_int(c, h, where, "channels", true, 1, QM_MAX_CHANNELS, 0, &H->channels) ||
      !qm_get_int(c, h, where, "out_channels", true, 1, QM_MAX_CHANNELS, 0, &H->out_channels))
    return false;
  if (legacy_in != in)
    return qm_fail(c, "config.head.in_channels is %d, the last layer array's head size %d",
                   legacy_in, in);
  json_t *act = qm_get(c, h, where, "activation", true);
  if (!act || !qm_nam_activation(c, d, act, "config.head.activation", &H->activation))
    return false;
  json_t *ks = qm_get(c, h, where, "kernel_sizes", true);
  if (!ks)
    return false;
  size_t n = json_array_size(ks);
  if (!json_is_array(ks) || n == 0 || n > QM_MAX_LAYERS)
    return qm_fail(c, "config.head.kernel_sizes must be an array of 1 to %d kernel sizes",
                   QM_MAX_LAYERS);
  if (!(H->convs = qm_desc_alloc(d, n * sizeof *H->convs)))
    return qm_fail(c, "out of memory");
  H->n_convs = (int)n;
  for (size_t i = 0; i < n; ++i) {
    qm_wn_head_conv *K = &H->convs[i];
    char what[64];
    snprintf(what, sizeof what, "config.head.kernel_sizes[%zu]", i);
    if (!qm_json_int(c, json_array_get(ks, i), what, 1, QM_MAX_KERNEL, &K->kernel_size))
      return false;
    K->in = i == 0 ? in : H->channels;
    K->out = i + 1 == n ? H->out_channels : H->channels;
    if (!check_slopes(c, &H->activation, K->in, "config.head.activation"))
      return false;
  }
  return true;
}

/**
   config.condition_dsp: a whole .nam model whose outputs are the
   condition. Only a WaveNet is run as one (every file seen uses one); it
   must take the same input at the same sample rate.
*/
static bool load_condition_dsp(qm_ctx *c, qm_desc *d, json_t *config, qm_wavenet_desc *wn)
{
  json_t *obj = json_object_get(config, "condition_dsp");
  if (!obj || json_is_null(obj))
    return true;
  if (condition_depth >= QM_MAX_CONDITION_DEPTH)
    return qm_fail(c, "config.condition_dsp nested more than %d deep", QM_MAX_CONDITION_DEPTH);
  ++condition_depth;
  qm_desc *sub = qm_nam_from_object(c, obj, "config.condition_dsp");
  --condition_depth;
  if (!sub)
    return false;
  bool ok = true;
  if (sub->arch != QM_ARCH_WAVENET)
    ok = qm_fail(c, "config.condition_dsp is a %s: only a WaveNet is supported as a condition_dsp",
                 sub->architecture);
  else if (sub->wavenet.in_channels != wn->in_channels)
    ok = qm_fail(c, "config.condition_dsp takes %d input channels, the model %d",
                 sub->wavenet.in_channels, wn->in_channels);
  else if (sub->sample_rate_in_file != d->sample_rate_in_file || sub->sample_rate != d->sample_rate)
    ok = qm_fail(c, "config.condition_dsp's sample rate (%g) is not the model's (%g)",
                 sub->sample_rate_in_file ? sub->sample_rate : -1.0,
                 d->sample_rate_in_file ? d->sample_rate : -1.0);
  if (ok && !qm_desc_adopt(d, sub))
    ok = qm_fail(c, "out of memory");
  if (!ok) {
    qm_desc_free(sub);
    return false;
  }
  wn->condition_dsp = sub;
  return true;
}

/* ---- sizes ----------------------------------------------------------------- */

/** Floats of a grouped [out][in] matrix as the file stores it. */
static uint64_t grouped(uint64_t out, uint64_t in, int groups)
{
  return out * in / (uint64_t)groups;
}

/** The zeros a grouped matrix adds when stored dense (block-diagonal):
    groups_input 1024 would make 131,072 weights of a file 134 million
    floats, so they count against the memory cap. */
static uint64_t zeros(uint64_t out, uint64_t in, int groups)
{
  return out * in - grouped(out, in, groups);
}

static uint64_t film_rows(const qm_wn_array *A, const qm_wn_layer *L, int p)
{
  return (uint64_t)(A->film[p].shift ? 2 : 1) * (uint64_t)film_dim(A, L, (qm_film_point)p);
}

/** The weights the config implies, and the other floats it takes: the
    zeros of grouped matrices stored dense, and the engine's run-time floats
    (models/wavenet.c: histories of lookback + max(batch, room x lookback)
    frames with an int8 copy, and per-batch scratch), condition_dsp
    included. */
static void wavenet_size(const qm_desc *d, uint64_t *weights, uint64_t *state)
{
  const qm_wavenet_desc *wn = &d->wavenet;
  const uint64_t F = QM_STATE_FRAMES, room = 1 + QM_WAVENET_HISTORY_ROOM;
  uint64_t w = 1, s = 0; /* head_scale */
  for (int a = 0; a < wn->n_arrays; ++a) {
    const qm_wn_array *A = &wn->arrays[a];
    const uint64_t C = (uint64_t)A->channels, B = (uint64_t)A->bottleneck,
                   Q = (uint64_t)A->condition_size, HO = (uint64_t)head_input_size(A),
                   HS = (uint64_t)A->head_size, H1 = (uint64_t)A->head1x1_out;
    w += C * (uint64_t)A->input_size;
    for (int l = 0; l < A->n_layers; ++l) {
      const qm_wn_layer *L = &A->layers[l];
      const uint64_t Z = L->gating != QM_GATING_NONE ? 2 * B : B, K = (uint64_t)L->kernel_size;
      w += grouped(Z, C * K, A->groups_input) + Z + grouped(Z, Q, A->groups_input_mixin);
      s += zeros(Z, C * K, A->groups_input) + zeros(Z, Q, A->groups_input_mixin);
      if (A->layer1x1) {
        w += grouped(C, B, A->layer1x1_groups) + C;
        s += zeros(C, B, A->layer1x1_groups);
      }
      if (A->head1x1) {
        w += grouped(H1, B, A->head1x1_groups) + H1;
        s += zeros(H1, B, A->head1x1_groups);
      }
      uint64_t film_floats = 0;
      for (int p = 0; p < QM_FILM_COUNT; ++p)
        if (A->film[p].active) {
          const uint64_t rows = film_rows(A, L, p);
          w += grouped(rows, Q, A->film[p].groups) + rows;
          s += zeros(rows, Q, A->film[p].groups);
          film_floats += rows;
        }
      const uint64_t int8_floats = ((uint64_t)qk_act_ld(A->channels) + 8) / sizeof(float);
      s += (room * (K - 1) * (uint64_t)L->dilation + F) * (C + int8_floats);
      /* per batch: the gathered taps, z, a, mixin, FiLM outputs, 1x1s, a
         pre-FiLM copy of the input */
      s += F * (K * C + 3 * Z + film_floats + 2 * C + H1 + C);
    }
    w += HS * HO * (uint64_t)A->head_kernel + (A->head_bias ? HS : 0);
    s += (room * (uint64_t)(A->head_kernel - 1) * (uint64_t)A->head_dilation + F) * HO;
    s += F * ((uint64_t)A->head_kernel * HO + HS + C + Q);
  }
  for (int i = 0; i < wn->head.n_convs; ++i) {
    const qm_wn_head_conv *K = &wn->head.convs[i];
    w += (uint64_t)K->out * (uint64_t)K->in * (uint64_t)K->kernel_size + (uint64_t)K->out;
    s += (room * (uint64_t)(K->kernel_size - 1) + F) * (uint64_t)K->in;
    s += F * ((uint64_t)K->kernel_size * (uint64_t)K->in + (uint64_t)K->out);
  }
  if (wn->condition_dsp) {
    uint64_t cw, cs;
    wavenet_size(wn->condition_dsp, &cw, &cs);
    s += cw + cs; /* its weights are in its own file object, not this one's */
  }
  *weights = w;
  *state = s;
}

/** Receptive field as NeuralAmpModelerCore's prewarm counts it. */
static uint64_t prewarm_of(const qm_wavenet_desc *wn)
{
  uint64_t pw = wn->condition_dsp ? (uint64_t)wn->condition_dsp->prewarm_samples : 1;
  for (int a = 0; a < wn->n_arrays; ++a) {
    const qm_wn_array *A = &wn->arrays[a];
    for (int l = 0; l < A->n_layers; ++l)
      pw += (uint64_t)(A->layers[l].kernel_size - 1) * (uint64_t)A->layers[l].dilation;
    pw += (uint64_t)(A->head_kernel - 1) * (uint64_t)A->head_dilation;
  }
  for (int i = 0; i < wn->head.n_convs; ++i)
    pw += (uint64_t)(wn->head.convs[i].kernel_size - 1);
  return pw;
}

/* ---- weights ---------------------------------------------------------------- */

static bool walk_layer(qm_walk *w, const qm_wn_array *A, qm_wn_layer *L)
{
  const int C = A->channels, B = A->bottleneck, Q = A->condition_size;
  const int Z = L->gating != QM_GATING_NONE ? 2 * B : B;
  if (!qm_walk_grouped(w, &L->conv_w, Z, C, L->kernel_size, A->groups_input) ||
      !qm_walk_floats(w, &L->conv_b, (size_t)Z) ||
      !qm_walk_grouped(w, &L->mixin_w, Z, Q, 1, A->groups_input_mixin))
    return false;
  if (A->layer1x1 && (!qm_walk_grouped(w, &L->w1x1, C, B, 1, A->layer1x1_groups) ||
                      !qm_walk_floats(w, &L->b1x1, (size_t)C)))
    return false;
  if (A->head1x1 && (!qm_walk_grouped(w, &L->head1x1_w, A->head1x1_out, B, 1, A->head1x1_groups) ||
                     !qm_walk_floats(w, &L->head1x1_b, (size_t)A->head1x1_out)))
    return false;
  for (int p = 0; p < QM_FILM_COUNT; ++p) {
    qm_wn_film *F = &L->film[p];
    F->dim = film_dim(A, L, (qm_film_point)p);
    if (!A->film[p].active)
      continue;
    const int rows = (int)film_rows(A, L, p);
    if (!qm_walk_grouped(w, &F->w, rows, Q, 1, A->film[p].groups) ||
        !qm_walk_floats(w, &F->b, (size_t)rows))
      return false;
  }
  return true;
}

/** The weights of a WaveNet in the file's order (the top of this file).
    A condition_dsp's are in its own object, walked on their own. */
bool qm_nam_walk_wavenet(qm_walk *w, qm_desc *d)
{
  qm_wavenet_desc *wn = &d->wavenet;
  for (int a = 0; a < wn->n_arrays; ++a) {
    qm_wn_array *A = &wn->arrays[a];
    if (!qm_walk_grouped(w, &A->rechannel_w, A->channels, A->input_size, 1, 1))
      return false;
    for (int l = 0; l < A->n_layers; ++l)
      if (!walk_layer(w, A, &A->layers[l]))
        return false;
    if (!qm_walk_grouped(w, &A->head_w, A->head_size, head_input_size(A), A->head_kernel, 1))
      return false;
    if (A->head_bias && !qm_walk_floats(w, &A->head_b, (size_t)A->head_size))
      return false;
  }
  for (int i = 0; i < wn->head.n_convs; ++i) {
    qm_wn_head_conv *K = &wn->head.convs[i];
    if (!qm_walk_grouped(w, &K->w, K->out, K->in, K->kernel_size, 1) ||
        !qm_walk_floats(w, &K->b, (size_t)K->out))
      return false;
  }
  qm_walk_scalar(w, &wn->head_scale);
  return true;
}

bool qm_nam_load_wavenet(qm_ctx *c, qm_desc *d, json_t *config, qm_doc *doc, json_t *weights)
{
  qm_wavenet_desc *wn = &d->wavenet;
  if (!qm_get_int(c, config, "config", "in_channels", false, 1, QM_MAX_CHANNELS, 1,
                  &wn->in_channels))
    return false;
  if (wn->in_channels != 1)
    return qm_fail(c, "config.in_channels is %d: only mono models (1 input channel) are supported",
                   wn->in_channels);
  if (!load_condition_dsp(c, d, config, wn))
    return false;
  json_t *arrays = qm_get(c, config, "config", "layers", true);
  if (!arrays)
    return false;
  if (!json_is_array(arrays) || json_array_size(arrays) == 0)
    return qm_fail(c, "config.layers must be a non-empty array of layer arrays");
  const size_t na = json_array_size(arrays);
  if (na > 64)
    return qm_fail(c, "config.layers has %zu layer arrays, the limit is 64", na);
  wn->n_arrays = (int)na;
  if (!(wn->arrays = qm_desc_alloc(d, na * sizeof *wn->arrays)))
    return qm_fail(c, "out of memory");
  int total_layers = 0;
  for (size_t a = 0; a < na; ++a) {
    char where[48];
    snprintf(where, sizeof where, "config.layers[%zu]", a);
    if (!parse_array(c, d, json_array_get(arrays, a), where, &wn->arrays[a], &total_layers))
      return false;
  }
  const int condition_channels =
      wn->condition_dsp ? wn->condition_dsp->wavenet.out_channels : wn->in_channels;
  if (!check_connections(c, wn, condition_channels) || !parse_post_head(c, d, config, wn))
    return false;
  wn->out_channels =
      wn->head.n_convs ? wn->head.out_channels : wn->arrays[wn->n_arrays - 1].head_size;
  /* the plugin is mono; a condition_dsp may give the condition several
     channels */
  if (condition_depth == 0 && wn->out_channels != 1)
    return qm_fail(c, "the model has %d output channels: only mono models (1 output) are supported",
                   wn->out_channels);
  for (int a = 0; a < wn->n_arrays; ++a)
    if (wn->arrays[a].slim.n_allowed && wn->head.n_convs)
      return qm_fail(c, "config.head: a post-stack head with a slimmable layer array is not "
                        "supported (NeuralAmpModelerCore refuses it too)");
  if (!qm_wavenet_check_slimmable(c, wn))
    return false;

  const uint64_t pw = prewarm_of(wn);
  if (pw > QM_MAX_RECEPTIVE_FIELD)
    return qm_fail(c, "receptive field over %d samples is too large", QM_MAX_RECEPTIVE_FIELD);
  uint64_t expected, state;
  wavenet_size(d, &expected, &state);
  const uint64_t bytes = (expected + state) * sizeof(float);
  if (expected > QM_MAX_WEIGHTS || bytes > QM_MAX_MODEL_BYTES)
    return qm_fail(c,
                   "model too large: %llu weights, %llu MiB of weights and state (limits %d "
                   "weights, %zu MiB)",
                   (unsigned long long)expected, (unsigned long long)(bytes >> 20), QM_MAX_WEIGHTS,
                   QM_MAX_MODEL_BYTES >> 20);
  const float *w = qm_nam_read_weights(c, d, doc, weights, expected);
  if (!w)
    return false;
  qm_walk walk = {.d = d, .src = w};
  if (!qm_nam_walk_wavenet(&walk, d))
    return qm_fail(c, "out of memory");
  if (wn->condition_dsp)
    d->n_weights += wn->condition_dsp->n_weights;
  d->arch = QM_ARCH_WAVENET;
  d->prewarm_samples = (int)pw;
  return true;
}
