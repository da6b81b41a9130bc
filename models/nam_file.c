/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Loader for Neural Amp Modeler `.nam` files, versions 0.5.0 to 0.7.x:
  WaveNet (nam_wavenet.c), LSTM and Linear. The weight layouts follow
  NeuralAmpModelerCore, as described in ../shared/reference/nam/README.md:

  LSTM, per layer: W[4H][I+H] row-major (gates i, f, g, o), b[4H], h0[H],
  c0[H]; then the head weight[H] and head bias.
  Linear: receptive_field weights, weights[k] multiplying x[t-k], then the
  bias if "bias" is true.
*/
#include "arch_registry.h"
#include "scheme_record.h"
#include "qk.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** Upper bound on the engine's internal batch, for the state-memory estimate. */
#define QM_STATE_FRAMES 4096

/** The .nam file versions this build reads fully: 0.5.0 (the first with
    this layout) to 0.7.0 (A2, SlimmableContainer). A later patch release of
    0.7 loads with a warning (NeuralAmpModelerCore's "partial support"); a
    later minor or major version is refused, since its fields may change
    what the weights mean. */
#define QM_NAM_VERSION_EARLIEST 500 /* 0.5.0, as major*10000 + minor*100 + patch */
#define QM_NAM_VERSION_LATEST 700   /* 0.7.0 */

static bool parse_version(qm_ctx *c, qm_desc *d, json_t *root)
{
  json_t *v = qm_get(c, root, "the file", "version", true);
  if (!v)
    return false;
  if (!json_is_string(v))
    return qm_fail(c, "\"version\" must be a string like \"0.5.4\"");
  const char *s = json_string_value(v);
  int major, minor, patch, used = 0;
  /* Real versions are a few characters: a long one is not stored (nor
     parsed by sscanf, whose %d is undefined past INT_MAX). */
  if (strlen(s) > 32)
    return qm_fail(c, "unreadable file version (a string of %zu bytes)", strlen(s));
  char shown[QM_SHOWN_BYTES];
  if (sscanf(s, "%d.%d.%d%n", &major, &minor, &patch, &used) != 3 || s[used] != '\0' || major < 0 ||
      minor < 0 || patch < 0 || major > 99 || minor > 99 || patch > 99)
    return qm_fail(c, "unreadable file version %s (expected MAJOR.MINOR.PATCH)",
                   qm_shown(s, shown, sizeof shown));
  const int code = major * 10000 + minor * 100 + patch;
  const int latest_minor = QM_NAM_VERSION_LATEST / 100;
  if (code < QM_NAM_VERSION_EARLIEST || major * 100 + minor > latest_minor)
    return qm_fail(c, "unsupported file version %s (this build reads 0.5.0 to 0.7.x)",
                   qm_shown(s, shown, sizeof shown));
  d->version = qm_desc_strdup(d, s);
  if (!d->version)
    return qm_fail(c, "out of memory");
  if (code > QM_NAM_VERSION_LATEST) {
    char w[160];
    snprintf(w, sizeof w,
             "file version %s is newer than 0.7.0, the newest this build knows: loaded, but "
             "fields added since are ignored",
             d->version);
    if (!(d->warning = qm_desc_strdup(d, w)))
      return qm_fail(c, "out of memory");
  }
  return true;
}

/**
   The file's weights, checked against the count the config implies: the
   floats the splitter read, or (a "weights" key it did not recognise) the
   DOM array converted into the same buffer. They live in `doc` until the
   load ends; the description keeps only the copies the layers take.
*/
const float *qm_nam_read_weights(qm_ctx *c, qm_desc *d, qm_doc *doc, json_t *weights,
                                 uint64_t expected)
{
  if (expected > QM_MAX_WEIGHTS) {
    qm_fail(c, "model too large: %llu weights (the limit is %d)", (unsigned long long)expected,
            QM_MAX_WEIGHTS);
    return NULL;
  }
  size_t found = doc->have_weights ? doc->n_w : json_array_size(weights);
  if ((uint64_t)found != expected) {
    qm_fail(c, "weight count mismatch: expected %llu weights, found %zu",
            (unsigned long long)expected, found);
    return NULL;
  }
  if (!doc->have_weights) {
    free(doc->w);
    doc->w = malloc(found * sizeof(float));
    if (!doc->w) {
      qm_fail(c, "out of memory for %zu weights", found);
      return NULL;
    }
    if (!qm_json_floats(c, weights, "weight", 0, found, doc->w))
      return NULL;
  }
  d->n_weights = found;
  return doc->w;
}

/** An LSTM's weights in the file's order: per layer W[4H][I+H] (split
    into the input part, batched over a block, and the recurrent part, one
    GEMV per sample), b[4H], h0[H], c0[H]; then the head's weight[H] and
    bias. */
bool qm_nam_walk_lstm(qm_walk *w, qm_desc *d)
{
  qm_sequential_desc *s = &d->seq;
  for (int l = 0; l + 1 < s->n_layers; ++l) {
    qm_seq_layer *L = &s->layers[l];
    const int H = L->out;
    if (!qm_walk_split_rows(w, &L->wx, L->in, &L->wh, H, 4 * H) ||
        !qm_walk_floats(w, &L->b, 4 * (size_t)H) || !qm_walk_floats(w, &L->h0, (size_t)H) ||
        !qm_walk_floats(w, &L->c0, (size_t)H))
      return false;
  }
  qm_seq_layer *head = &s->layers[s->n_layers - 1];
  return qm_walk_floats(w, &head->wx, (size_t)head->in) && qm_walk_floats(w, &head->b, 1);
}

/** A Linear's: file weight k multiplies x[t-k], the engine's column j
    x[t-(taps-1)+j]; then the bias, if any. */
bool qm_nam_walk_linear(qm_walk *w, qm_desc *d)
{
  qm_seq_layer *L = &d->seq.layers[0];
  return qm_walk_reversed(w, &L->wx, L->taps) && (!L->b || qm_walk_floats(w, &L->b, 1));
}

bool qm_nam_load_lstm(qm_ctx *c, qm_desc *d, json_t *config, qm_doc *doc, json_t *weights)
{
  int input_size, hidden, num_layers;
  if (!qm_get_int(c, config, "config", "input_size", false, 1, QM_MAX_CHANNELS, 1, &input_size) ||
      !qm_get_int(c, config, "config", "hidden_size", true, 1, QM_MAX_CHANNELS, 0, &hidden) ||
      !qm_get_int(c, config, "config", "num_layers", true, 1, QM_MAX_LAYERS, 0, &num_layers))
    return false;
  if (input_size != 1)
    return qm_fail(c, "LSTM input_size %d: only 1 (the mono input) is supported", input_size);
  uint64_t H = (uint64_t)hidden, expected = H + 1;
  for (int l = 0; l < num_layers; ++l) {
    uint64_t I = l == 0 ? (uint64_t)input_size : H;
    expected += 4 * H * (I + H) + 4 * H + 2 * H;
  }
  uint64_t state = (uint64_t)num_layers * QM_STATE_FRAMES * 5 * H;
  if ((expected + state) * sizeof(float) > QM_MAX_MODEL_BYTES)
    return qm_fail(c, "model too large: %llu MiB of weights and state (limit %zu MiB)",
                   (unsigned long long)(((expected + state) * sizeof(float)) >> 20),
                   QM_MAX_MODEL_BYTES >> 20);
  const float *w = qm_nam_read_weights(c, d, doc, weights, expected);
  if (!w)
    return false;

  qm_sequential_desc *s = &d->seq;
  s->n_layers = num_layers + 1;
  s->layers = qm_desc_alloc(d, (size_t)s->n_layers * sizeof *s->layers);
  if (!s->layers)
    return qm_fail(c, "out of memory");
  for (int l = 0; l < num_layers; ++l) {
    qm_seq_layer *L = &s->layers[l];
    L->kind = QM_LAYER_LSTM;
    L->in = l == 0 ? input_size : hidden;
    L->out = hidden;
  }
  qm_seq_layer *head = &s->layers[num_layers];
  head->kind = QM_LAYER_DENSE;
  head->in = hidden;
  head->out = 1;
  head->activation = QM_NONLIN_NONE;
  qm_walk walk = {.d = d, .src = w};
  if (!qm_nam_walk_lstm(&walk, d))
    return qm_fail(c, "out of memory");
  d->arch = QM_ARCH_SEQUENTIAL;
  /* NeuralAmpModelerCore prewarms an LSTM for half a second of zeros. */
  int pw = (int)(0.5 * d->sample_rate);
  d->prewarm_samples = pw > 0 ? pw : 1;
  return true;
}

bool qm_nam_load_linear(qm_ctx *c, qm_desc *d, json_t *config, qm_doc *doc, json_t *weights)
{
  int rf, in_ch, out_ch;
  bool bias;
  if (!qm_get_int(c, config, "config", "receptive_field", true, 1, QM_MAX_LINEAR_TAPS, 0, &rf) ||
      !qm_get_bool(c, config, "config", "bias", true, false, &bias) ||
      !qm_get_int(c, config, "config", "in_channels", false, 1, 1, 1, &in_ch) ||
      !qm_get_int(c, config, "config", "out_channels", false, 1, 1, 1, &out_ch))
    return false;
  const float *w = qm_nam_read_weights(c, d, doc, weights, (uint64_t)rf + (bias ? 1 : 0));
  if (!w)
    return false;
  qm_sequential_desc *s = &d->seq;
  s->n_layers = 1;
  s->layers = qm_desc_alloc(d, sizeof *s->layers);
  if (!s->layers)
    return qm_fail(c, "out of memory");
  qm_seq_layer *L = &s->layers[0];
  L->kind = QM_LAYER_FIR;
  L->in = L->out = 1;
  L->taps = rf;
  /* The walk reads a bias where the layer has one: mark it (reading
     replaces the pointer with the bias it allocates). */
  float marker = 0.0f;
  L->b = bias ? &marker : NULL;
  qm_walk walk = {.d = d, .src = w};
  if (!qm_nam_walk_linear(&walk, d))
    return qm_fail(c, "out of memory");
  d->arch = QM_ARCH_SEQUENTIAL;
  d->prewarm_samples = 0;
  return true;
}

static void read_metadata(qm_desc *d, json_t *root)
{
  json_t *m = json_object_get(root, "metadata");
  if (!json_is_object(m))
    return; /* informational only: a malformed block never blocks loading */
  qm_metadata *md = &d->meta;
  qm_meta_string(d, m, "name", &md->name);
  qm_meta_string(d, m, "modeled_by", &md->modeled_by);
  qm_meta_string(d, m, "gear_type", &md->gear_type);
  qm_meta_string(d, m, "gear_make", &md->gear_make);
  qm_meta_string(d, m, "gear_model", &md->gear_model);
  qm_meta_string(d, m, "tone_type", &md->tone_type);
  qm_meta_number(m, "loudness", &md->has_loudness, &md->loudness);
  qm_meta_number(m, "gain", &md->has_gain, &md->gain);
  qm_meta_number(m, "input_level_dbu", &md->has_input_level, &md->input_level_dbu);
  qm_meta_number(m, "output_level_dbu", &md->has_output_level, &md->output_level_dbu);
  qm_meta_number(m, "validation_esr", &md->has_validation_esr, &md->validation_esr);
  qm_meta_number(json_object_get(m, "training"), "validation_esr", &md->has_validation_esr,
                 &md->validation_esr);
  /* an export's scheme (scheme_record.h): used whole or not at all */
  d->scheme_record = qm_scheme_record_read(json_object_get(m, "quantone"));
}

qm_desc *qm_nam_from_object(qm_ctx *c, json_t *obj, const char *where)
{
  char name[512];
  snprintf(name, sizeof name, "%s: %s", c->name, where);
  qm_ctx sub = {name, c->err, c->errlen};
  if (!json_is_object(obj)) {
    qm_fail(&sub, "must be a .nam model object");
    return NULL;
  }
  qm_doc doc = {.root = obj};
  qm_desc *d = qm_nam_from_doc(&sub, &doc);
  free(doc.w);
  /* messages and the GUI name the file the player chose */
  if (d && !(d->path = qm_desc_strdup(d, c->name))) {
    qm_desc_free(d);
    qm_fail(c, "out of memory");
    return NULL;
  }
  return d;
}

qm_desc *qm_nam_from_doc(qm_ctx *c, qm_doc *doc)
{
  json_t *root = doc->root;
  qm_desc *d = qm_desc_new(c->name);
  bool ok = d != NULL || qm_fail(c, "out of memory");
  json_t *arch = NULL, *config = NULL, *weights = NULL;
  if (ok)
    ok = parse_version(c, d, root);
  if (ok && !(arch = qm_get(c, root, "the file", "architecture", true)))
    ok = false;
  if (ok && !json_is_string(arch))
    ok = qm_fail(c, "\"architecture\" must be a string");
  if (ok && !(config = qm_get(c, root, "the file", "config", true)))
    ok = false;
  if (ok && !json_is_object(config))
    ok = qm_fail(c, "\"config\" must be an object");
  if (ok && !(weights = qm_get(c, root, "the file", "weights", true)))
    ok = false;
  if (ok && !json_is_array(weights))
    ok = qm_fail(c, "\"weights\" must be an array of numbers");
  if (ok) {
    json_t *sr = json_object_get(root, "sample_rate");
    if (sr && !json_is_null(sr)) {
      double v;
      ok = qm_get_double(c, root, "the file", "sample_rate", true, 0, &v);
      if (ok && !(v >= 1000.0 && v <= 1536000.0))
        ok = qm_fail(c, "sample_rate %g is out of range", v);
      if (ok) {
        d->sample_rate = v;
        d->sample_rate_in_file = true;
      }
    }
  }
  if (ok) {
    d->kind = QM_FILE_NAM;
    const char *a = json_string_value(arch);
    /* Stored only once it is a known name (never a file's arbitrary text). */
    const qm_arch_entry *entry = qm_arch_find_nam(a);
    if (!entry) {
      char shown[QM_SHOWN_BYTES], names[256];
      qm_arch_nam_names(names, sizeof names);
      ok = qm_fail(c, "unknown architecture %s (supported: %s)", qm_shown(a, shown, sizeof shown),
                   names);
    } else if (!(d->architecture = qm_desc_strdup(d, entry->name)))
      ok = qm_fail(c, "out of memory");
    else
      ok = entry->load(c, d, config, doc, weights);
  }
  if (ok)
    read_metadata(d, root);
  /* Kept for the exporter (nam_export.c): the parsed object itself, its
     weights (read by now) dropped in place, so keeping it costs no copy and
     the load's peak does not grow; a nested model's object is its parent's
     too, so a container keeps its submodels' config once. */
  if (ok && json_object_set_new(root, "weights", json_array()) != 0)
    ok = qm_fail(c, "out of memory");
  if (ok)
    d->source_json = json_incref(root);
  if (!ok) {
    qm_desc_free(d);
    return NULL;
  }
  return d;
}
