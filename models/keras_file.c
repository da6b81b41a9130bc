/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Loader for RTNeural / AIDA-X keras-style JSON (.json, .aidax):
    {"in_shape": [null, null, 1], "in_skip": 0|1, "in_gain": dB, "out_gain": dB,
     "metadata": {"samplerate": 48000, ...},
     "layers": [{"type": "lstm"|"gru"|"dense"|"activation",
                 "activation": "tanh"|"relu"|"sigmoid"|""|"linear",
                 "shape": [null, null, units], "weights": [...]}, ...]}
  Weight layouts (I inputs, H units, O outputs), as RTNeural reads them:
    dense: [kernel[I][O], bias[O]]
    lstm:  [kernel[I][4H], recurrent[H][4H], bias[4H]], gate columns i, f, c, o
    gru:   [kernel[I][3H], recurrent[H][3H], bias[2][3H]], columns z, r, h;
           bias[0] input bias, bias[1] recurrent bias (reset_after=True)
  Kernels are transposed here to the engine's [outputs][inputs] rows.
*/
#include "loader_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QM_STATE_FRAMES 4096
/** Zero samples AIDA-X plays through a keras model before its first block. */
#define QM_KERAS_PREWARM 2048

/**
   Read a JSON matrix m[rows][cols] and store its transpose: out[j*rows + i]
   = m[i][j]. Any mismatch names the layer and what was expected.
*/
static bool read_matrix_t(qm_ctx *c, json_t *m, size_t rows, size_t cols, const char *what,
                          float *out)
{
  if (!json_is_array(m))
    return qm_fail(c, "%s must be an array of %zu rows", what, rows);
  if (json_array_size(m) != rows)
    return qm_fail(c, "%s has %zu rows, expected %zu", what, json_array_size(m), rows);
  char item[160];
  snprintf(item, sizeof item, "%s: value", what);
  for (size_t i = 0; i < rows; ++i) {
    json_t *row = json_array_get(m, i);
    if (!json_is_array(row))
      return qm_fail(c, "row %zu of %s must be an array of %zu numbers", i, what, cols);
    if (json_array_size(row) != cols)
      return qm_fail(c, "row %zu of %s has %zu values, expected %zu", i, what, json_array_size(row),
                     cols);
    for (size_t j = 0; j < cols; ++j) {
      float v;
      if (!qm_json_float(c, json_array_get(row, j), item, i * cols + j, &v))
        return false;
      out[j * rows + i] = v;
    }
  }
  return true;
}

static bool read_vector(qm_ctx *c, json_t *v, size_t n, const char *what, float *out)
{
  if (!json_is_array(v))
    return qm_fail(c, "%s must be an array of %zu numbers", what, n);
  if (json_array_size(v) != n)
    return qm_fail(c, "%s has %zu values, expected %zu", what, json_array_size(v), n);
  char item[160];
  snprintf(item, sizeof item, "%s: value", what);
  return qm_json_floats(c, v, item, 0, n, out);
}

static bool parse_act(qm_ctx *c, json_t *layer, const char *where, qm_nonlinearity *out)
{
  json_t *v = json_object_get(layer, "activation");
  *out = QM_NONLIN_NONE;
  if (!v || json_is_null(v))
    return true;
  if (!json_is_string(v))
    return qm_fail(c, "\"activation\" in %s must be a string", where);
  const char *s = json_string_value(v);
  if (!*s || !strcmp(s, "linear"))
    *out = QM_NONLIN_NONE;
  else if (!strcmp(s, "tanh"))
    *out = QM_NONLIN_TANH;
  else if (!strcmp(s, "relu"))
    *out = QM_NONLIN_RELU;
  else if (!strcmp(s, "sigmoid"))
    *out = QM_NONLIN_SIGMOID;
  else {
    char shown[QM_SHOWN_BYTES];
    return qm_fail(c, "unsupported activation %s in %s (supported: tanh, relu, sigmoid, none)",
                   qm_shown(s, shown, sizeof shown), where);
  }
  return true;
}

/** Units from "shape": [..., units]; 0 when the layer gives no shape. */
static bool parse_units(qm_ctx *c, json_t *layer, const char *where, int *units)
{
  json_t *shape = json_object_get(layer, "shape");
  *units = 0;
  if (!shape || json_is_null(shape))
    return true;
  if (!json_is_array(shape) || json_array_size(shape) == 0)
    return qm_fail(c, "\"shape\" in %s must be a non-empty array", where);
  char what[96];
  snprintf(what, sizeof what, "the last \"shape\" entry of %s", where);
  return qm_json_int(c, json_array_get(shape, json_array_size(shape) - 1), what, 1, QM_MAX_CHANNELS,
                     units);
}

/** Units of a recurrent / dense layer from its bias or kernel width. */
static bool weights_array(qm_ctx *c, json_t *layer, const char *where, size_t min, size_t max,
                          json_t **w)
{
  *w = qm_get(c, layer, where, "weights", true);
  if (!*w)
    return false;
  if (!json_is_array(*w) || json_array_size(*w) < min || json_array_size(*w) > max) {
    if (min == max)
      return qm_fail(c, "\"weights\" of %s must be an array of %zu arrays", where, min);
    return qm_fail(c, "\"weights\" of %s must be an array of %zu to %zu arrays", where, min, max);
  }
  return true;
}

/** Width of the first row of a matrix (checked properly when read). */
static size_t first_row_width(json_t *m)
{
  json_t *row = json_array_get(m, 0);
  return json_is_array(row) ? json_array_size(row) : 0;
}

static bool load_layer(qm_ctx *c, qm_desc *d, json_t *layer, const char *where, int in,
                       qm_seq_layer *L, uint64_t *bytes)
{
  if (!json_is_object(layer))
    return qm_fail(c, "%s must be an object", where);
  json_t *t = qm_get(c, layer, where, "type", true);
  if (!t)
    return false;
  if (!json_is_string(t))
    return qm_fail(c, "\"type\" in %s must be a string", where);
  const char *type = json_string_value(t);
  int units;
  if (!parse_units(c, layer, where, &units))
    return false;
  size_t I = (size_t)in;
  char what[128];
  json_t *w;
  L->in = in;

  if (!strcmp(type, "activation")) {
    L->kind = QM_LAYER_ACTIVATION;
    L->out = in;
    return parse_act(c, layer, where, &L->activation);
  }
  if (!strcmp(type, "dense") || !strcmp(type, "time-distributed-dense")) {
    L->kind = QM_LAYER_DENSE;
    if (!parse_act(c, layer, where, &L->activation) || !weights_array(c, layer, where, 1, 2, &w))
      return false;
    size_t O = first_row_width(json_array_get(w, 0));
    if (O == 0 || O > QM_MAX_CHANNELS)
      return qm_fail(c, "kernel of %s must be a [%zu][outputs] matrix with 1 to %d outputs", where,
                     I, QM_MAX_CHANNELS);
    if (units && (size_t)units != O)
      return qm_fail(c, "%s: kernel has %zu outputs but \"shape\" says %d", where, O, units);
    L->out = (int)O;
    L->wx = qm_desc_alloc(d, O * I * sizeof(float));
    if (!L->wx)
      return qm_fail(c, "out of memory");
    snprintf(what, sizeof what, "kernel of %s (dense)", where);
    if (!read_matrix_t(c, json_array_get(w, 0), I, O, what, L->wx))
      return false;
    if (json_array_size(w) == 2) {
      L->b = qm_desc_alloc(d, O * sizeof(float));
      snprintf(what, sizeof what, "bias of %s (dense)", where);
      if (!L->b)
        return qm_fail(c, "out of memory");
      if (!read_vector(c, json_array_get(w, 1), O, what, L->b))
        return false;
    }
    *bytes += (O * I + O + QM_STATE_FRAMES * O) * sizeof(float);
    d->n_weights += O * I + (L->b ? O : 0);
    return true;
  }
  bool lstm = !strcmp(type, "lstm");
  if (lstm || !strcmp(type, "gru")) {
    size_t gates = lstm ? 4 : 3;
    L->kind = lstm ? QM_LAYER_LSTM : QM_LAYER_GRU;
    if (!weights_array(c, layer, where, 3, 3, &w))
      return false;
    size_t G = first_row_width(json_array_get(w, 0));
    if (G == 0 || G % gates != 0 || G / gates > QM_MAX_CHANNELS)
      return qm_fail(c, "kernel of %s must be a [%zu][%zu*units] matrix with 1 to %d units", where,
                     I, gates, QM_MAX_CHANNELS);
    size_t H = G / gates;
    if (units && (size_t)units != H)
      return qm_fail(c, "%s: weights have %zu units but \"shape\" says %d", where, H, units);
    L->out = (int)H;
    uint64_t need = (uint64_t)G * (I + H + 2) + QM_STATE_FRAMES * (G + H);
    if (*bytes + need * sizeof(float) > QM_MAX_MODEL_BYTES)
      return qm_fail(c, "model too large: more than %zu MiB of weights and state",
                     QM_MAX_MODEL_BYTES >> 20);
    *bytes += need * sizeof(float);
    L->wx = qm_desc_alloc(d, G * I * sizeof(float));
    L->wh = qm_desc_alloc(d, G * H * sizeof(float));
    L->b = qm_desc_alloc(d, G * sizeof(float));
    if (!L->wx || !L->wh || !L->b)
      return qm_fail(c, "out of memory");
    snprintf(what, sizeof what, "kernel of %s (%s)", where, type);
    if (!read_matrix_t(c, json_array_get(w, 0), I, G, what, L->wx))
      return false;
    snprintf(what, sizeof what, "recurrent kernel of %s (%s)", where, type);
    if (!read_matrix_t(c, json_array_get(w, 1), H, G, what, L->wh))
      return false;
    json_t *bias = json_array_get(w, 2);
    snprintf(what, sizeof what, "bias of %s (%s)", where, type);
    if (lstm) {
      if (!read_vector(c, bias, G, what, L->b))
        return false;
      d->n_weights += G * (I + H + 1);
    } else {
      /* reset_after=True keeps separate input and recurrent biases; the
         equations of a single-bias GRU differ, so refuse rather than guess. */
      if (!json_is_array(bias) || json_array_size(bias) != 2 ||
          !json_is_array(json_array_get(bias, 0)))
        return qm_fail(c,
                       "%s must be [2][%zu] (input and recurrent bias, keras "
                       "reset_after=True)",
                       what, G);
      L->bh = qm_desc_alloc(d, G * sizeof(float));
      if (!L->bh)
        return qm_fail(c, "out of memory");
      if (!read_vector(c, json_array_get(bias, 0), G, what, L->b) ||
          !read_vector(c, json_array_get(bias, 1), G, what, L->bh))
        return false;
      d->n_weights += G * (I + H + 2);
    }
    return true;
  }
  char shown[QM_SHOWN_BYTES];
  return qm_fail(c, "unsupported layer type %s in %s (supported: lstm, gru, dense, activation)",
                 qm_shown(type, shown, sizeof shown), where);
}

qm_desc *qm_keras_from_doc(qm_ctx *cp, qm_doc *doc)
{
  qm_ctx c = *cp;
  json_t *root = doc->root;
  qm_desc *d = qm_desc_new(c.name);
  bool ok = d != NULL || qm_fail(&c, "out of memory");
  json_t *layers = NULL;
  int in = 1;
  if (ok) {
    d->kind = QM_FILE_KERAS;
    d->arch = QM_ARCH_SEQUENTIAL;
    d->architecture = qm_desc_strdup(d, "keras");
    ok = d->architecture || qm_fail(&c, "out of memory");
  }
  if (ok) {
    json_t *shape = json_object_get(root, "in_shape");
    if (shape && !json_is_null(shape)) {
      if (!json_is_array(shape) || json_array_size(shape) == 0)
        ok = qm_fail(&c, "\"in_shape\" must be a non-empty array");
      else
        ok = qm_json_int(&c, json_array_get(shape, json_array_size(shape) - 1),
                         "the last \"in_shape\" entry", 1, QM_MAX_CHANNELS, &in);
      if (ok && in != 1)
        ok = qm_fail(&c, "input size %d: conditioned (multi-input) models are not supported", in);
    }
  }
  if (ok) {
    int skip;
    ok = qm_get_int(&c, root, "the file", "in_skip", false, 0, 1000000, 0, &skip) &&
         qm_get_double(&c, root, "the file", "in_gain", false, 0.0, &d->in_gain_db) &&
         qm_get_double(&c, root, "the file", "out_gain", false, 0.0, &d->out_gain_db);
    if (ok && skip > 1)
      ok = qm_fail(&c, "in_skip %d is not supported (0 or 1)", skip);
    d->in_skip = ok && skip == 1;
    if (ok && (fabs(d->in_gain_db) > 200.0 || fabs(d->out_gain_db) > 200.0))
      ok = qm_fail(&c, "in_gain / out_gain beyond +-200 dB");
  }
  if (ok) {
    json_t *meta = json_object_get(root, "metadata");
    json_t *sr = json_is_object(meta) ? json_object_get(meta, "samplerate") : NULL;
    if (!sr)
      sr = json_object_get(root, "samplerate");
    double rate = 0.0;
    if (json_is_number(sr))
      rate = json_number_value(sr);
    else if (json_is_string(sr))
      rate = strtod(json_string_value(sr), NULL);
    if (sr && !json_is_null(sr)) {
      if (!(rate >= 1000.0 && rate <= 1536000.0))
        ok = qm_fail(&c, "metadata samplerate is not a sample rate");
      else {
        d->sample_rate = rate;
        d->sample_rate_in_file = true;
      }
    }
    if (json_is_object(meta))
      qm_meta_string(d, meta, "name", &d->meta.name);
  }
  if (ok && !(layers = qm_get(&c, root, "the file", "layers", true)))
    ok = false;
  if (ok && (!json_is_array(layers) || json_array_size(layers) == 0))
    ok = qm_fail(&c, "\"layers\" must be a non-empty array");
  if (ok && json_array_size(layers) > QM_MAX_LAYERS)
    ok = qm_fail(&c, "too many layers (limit %d)", QM_MAX_LAYERS);
  if (ok) {
    qm_sequential_desc *s = &d->seq;
    s->n_layers = (int)json_array_size(layers);
    s->layers = qm_desc_alloc(d, (size_t)s->n_layers * sizeof *s->layers);
    ok = s->layers || qm_fail(&c, "out of memory");
    uint64_t bytes = 0;
    for (int i = 0; ok && i < s->n_layers; ++i) {
      char where[32];
      snprintf(where, sizeof where, "layers[%d]", i);
      ok = load_layer(&c, d, json_array_get(layers, (size_t)i), where, in, &s->layers[i], &bytes);
      if (ok && bytes > QM_MAX_MODEL_BYTES)
        ok = qm_fail(&c, "model too large: more than %zu MiB of weights and state",
                     QM_MAX_MODEL_BYTES >> 20);
      if (ok)
        in = s->layers[i].out;
    }
    if (ok && in != 1)
      ok = qm_fail(&c, "the last layer has %d outputs; a mono model needs 1", in);
  }
  if (!ok) {
    qm_desc_free(d);
    return NULL;
  }
  /* AIDA-X runs 2048 zero samples through a model it has just loaded, before
     the first block, so its stream starts from that state rather than from
     RTNeural's zero state: a keras model here starts the same way. */
  d->prewarm_samples = QM_KERAS_PREWARM;
  return d;
}
