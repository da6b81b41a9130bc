/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The exporter (nam_export.h): quantize, then write the description back
  through the architecture's weight walk (nam_walk.c) with the weights
  that play in place of the file's.
*/
#include "nam_export.h"

#include "arch_registry.h"
#include "scheme_record.h"
#include "slim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** What to write for each description array a linear was built from. */
typedef struct {
  int n, n_owned;
  const float **src;
  const float **val;
  float **owned; /**< dequantized weights, freed with the map */
} value_map;

static void map_free(value_map *v)
{
  for (int i = 0; i < v->n_owned; ++i)
    free(v->owned[i]);
  free(v->owned);
  free(v->src);
  free(v->val);
}

static const float *map_lookup(void *user, const float *p)
{
  const value_map *v = user;
  for (int i = 0; i < v->n; ++i)
    if (v->src[i] == p)
      return v->val[i];
  return NULL;
}

/** Every linear of m: its source weights -> the dequantized weights, its
    source bias -> the bias it plays. */
static bool map_build(const qm_model *cm, value_map *v, char *err, size_t errlen)
{
  qm_model *m = (qm_model *)cm;
  const int n = qm_model_linear_count(m);
  memset(v, 0, sizeof *v);
  v->src = calloc(2 * (size_t)n + 1, sizeof *v->src);
  v->val = calloc(2 * (size_t)n + 1, sizeof *v->val);
  v->owned = calloc(2 * (size_t)n + 1, sizeof *v->owned);
  if (!v->src || !v->val || !v->owned) {
    snprintf(err, errlen, "out of memory");
    return false;
  }
  for (int i = 0; i < n; ++i) {
    const qm_linear *L = qm_model_linear(m, i);
    const size_t count = (size_t)L->out * (size_t)L->in;
    float *w = malloc(count * sizeof *w);
    if (w)
      v->owned[v->n_owned++] = w;
    if (!w || qm_model_linear_used_weights(m, i, w, (int)count) != (int)count) {
      snprintf(err, errlen, "out of memory");
      return false;
    }
    v->src[v->n] = L->src_w;
    v->val[v->n++] = w;
    if (L->src_b) {
      v->src[v->n] = L->src_b;
      v->val[v->n++] = L->bias;
    } else if (L->bias_added) {
      snprintf(err, errlen,
               "%s: bias correction gave it a bias, and the file has no place for one (export "
               "without bc)",
               L->name);
      return false;
    }
  }
  return true;
}

/** obj["weights"] = d's weights through its walk, with map's values
    (a condition_dsp's in its own nested object). */
static bool write_weights(json_t *obj, qm_desc *d, value_map *map, char *err, size_t errlen)
{
  const qm_arch_entry *e = d->architecture ? qm_arch_find_nam(d->architecture) : NULL;
  if (!e || !e->walk) {
    snprintf(err, errlen, "no .nam weight layout for a %s",
             d->architecture ? d->architecture : "?");
    return false;
  }
  qm_walk count = {.writing = true, .values = map_lookup, .user = map};
  if (!e->walk(&count, d)) {
    snprintf(err, errlen, "%s", count.problem ? count.problem : "cannot write the weights");
    return false;
  }
  float *buf = malloc((count.count ? count.count : 1) * sizeof *buf);
  qm_walk walk = {.writing = true, .dst = buf, .values = map_lookup, .user = map};
  json_t *arr = NULL;
  bool ok = buf && e->walk(&walk, d) && (arr = qm_json_float_array(buf, walk.count)) &&
            json_object_set_new(obj, "weights", arr) == 0;
  free(buf);
  if (!ok) {
    snprintf(err, errlen, "out of memory");
    return false;
  }
  const qm_desc *cond = d->arch == QM_ARCH_WAVENET ? d->wavenet.condition_dsp : NULL;
  json_t *nested = json_object_get(json_object_get(obj, "config"), "condition_dsp");
  if (cond && json_is_object(nested))
    return write_weights(nested, (qm_desc *)cond, map, err, errlen);
  return true;
}

static bool set_int(json_t *o, const char *key, int v)
{
  return json_object_set_new(o, key, json_integer(v)) == 0;
}

/** The config of a WaveNet that plays at other sizes than its file's (a
    slimmable one): each array's sizes as they play, not slimmable. */
static bool patch_wavenet(json_t *config, const qm_desc *plays)
{
  json_t *arrays = json_object_get(config, "layers");
  const qm_wavenet_desc *wn = &plays->wavenet;
  if (json_array_size(arrays) != (size_t)wn->n_arrays)
    return false;
  for (int a = 0; a < wn->n_arrays; ++a) {
    json_t *o = json_array_get(arrays, (size_t)a), *head = json_object_get(o, "head");
    const qm_wn_array *A = &wn->arrays[a];
    json_object_del(o, "slimmable");
    if (!set_int(o, "channels", A->channels) || !set_int(o, "input_size", A->input_size) ||
        (json_object_get(o, "bottleneck") && !set_int(o, "bottleneck", A->bottleneck)))
      return false;
    if (json_is_object(head) ? !set_int(head, "out_channels", A->head_size)
                             : !set_int(o, "head_size", A->head_size))
      return false;
  }
  return true;
}

/** A model object (not a container) for `plays`, quantized as m, its
    JSON from `source` (the file's object it was loaded from). */
static json_t *model_object(const qm_desc *plays, json_t *source, const qm_model *m,
                            const qm_setting *spec, char *err, size_t errlen)
{
  json_t *obj = json_deep_copy(source);
  json_t *config = json_object_get(obj, "config");
  value_map map = {0};
  bool ok = obj && json_is_object(config) && map_build(m, &map, err, errlen);
  if (!ok && !err[0])
    snprintf(err, errlen, "out of memory");
  if (ok && plays->arch == QM_ARCH_CONVNET)
    ok = json_object_set_new(config, "batchnorm", json_false()) == 0;
  if (ok && plays->arch == QM_ARCH_WAVENET && !patch_wavenet(config, plays)) {
    ok = false;
    snprintf(err, errlen, "out of memory");
  }
  if (ok)
    ok = write_weights(obj, (qm_desc *)plays, &map, err, errlen);
  if (ok) {
    json_t *meta = json_object_get(obj, "metadata");
    if (!json_is_object(meta)) {
      meta = json_object();
      ok = meta && json_object_set_new(obj, "metadata", meta) == 0;
    }
    ok = ok && json_object_set_new(meta, "quantone", qm_scheme_record_json(m, spec, false)) == 0;
    if (!ok)
      snprintf(err, errlen, "out of memory");
  }
  map_free(&map);
  if (!ok) {
    json_decref(obj);
    return NULL;
  }
  return obj;
}

/** The setting a file exported at spec plays at: spec at its full size
    (the written file is the size that played). */
static qm_setting written_setting(const qm_setting *spec)
{
  qm_setting s = *spec;
  s.slim = 1.0;
  return s;
}

/** What `write` makes of one quantized model (its .nam object, or its codes). */
typedef json_t *(*object_fn)(const qm_desc *plays, json_t *source, const qm_model *m,
                             const qm_setting *spec, char *err, size_t errlen);

static json_t *codes_object(const qm_desc *plays, json_t *source, const qm_model *m,
                            const qm_setting *spec, char *err, size_t errlen)
{
  (void)source;
  json_t *o = qm_scheme_record_json(m, spec, true);
  if (!o || json_object_set_new(o, "architecture", json_string(plays->architecture)) != 0) {
    json_decref(o);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  return o;
}

/** Quantize one non-container description and make its object. */
static json_t *quantized_object(const qm_desc *plays, json_t *source, const qm_setting *spec,
                                const qm_options *opt, const float *calib, int n_calib,
                                object_fn make, char *err, size_t errlen)
{
  qm_model *m = qm_variant_create(plays, spec, opt, calib, n_calib, err, errlen);
  if (!m)
    return NULL;
  err[0] = 0;
  json_t *o = make(plays, source, m, spec, err, errlen);
  qm_model_free(m);
  return o;
}

static json_t *export_json(qm_desc *d, const qm_setting *asked, const qm_options *opt,
                           const float *calib, int n_calib, object_fn make, char *err,
                           size_t errlen)
{
  const qm_setting spec = written_setting(asked);
  if (d->kind != QM_FILE_NAM || !d->source_json) {
    snprintf(err, errlen,
             "%s: only .nam models can be exported (a keras / AIDA-X model's input and output "
             "gains and skip have no place in a .nam file)",
             d->path ? d->path : "(model)");
    return NULL;
  }
  if (d->arch != QM_ARCH_CONTAINER) {
    const qm_desc *plays = qm_desc_at_slim(d, asked->slim, err, errlen);
    return plays ? quantized_object(plays, d->source_json, &spec, opt, calib, n_calib, make, err,
                                    errlen)
                 : NULL;
  }
  /* every submodel, each as it plays when the slim value selects it */
  const bool nam = make != codes_object;
  json_t *root = nam ? json_deep_copy(d->source_json) : qm_scheme_record_json(NULL, &spec, false);
  json_t *list = nam ? json_object_get(json_object_get(root, "config"), "submodels") : json_array();
  bool ok = root && list && (nam || json_object_set_new(root, "submodels", list) == 0);
  for (int i = 0; ok && i < d->container.n_submodels; ++i) {
    const qm_submodel *s = &d->container.submodels[i];
    json_t *o = quantized_object(s->model, s->model->source_json, &spec, opt, calib, n_calib, make,
                                 err, errlen);
    if (!o) {
      ok = false;
      break;
    }
    if (nam)
      ok = json_object_set_new(json_array_get(list, (size_t)i), "model", o) == 0;
    else
      ok = json_object_set_new(o, "max_value", json_real(s->max_value)) == 0 &&
           json_array_append_new(list, o) == 0;
  }
  if (ok && nam) {
    json_t *meta = json_object_get(root, "metadata");
    if (!json_is_object(meta) && (meta = json_object()))
      json_object_set_new(root, "metadata", meta);
    ok = meta &&
         json_object_set_new(meta, "quantone", qm_scheme_record_json(NULL, &spec, false)) == 0;
  }
  if (!ok) {
    if (!err[0])
      snprintf(err, errlen, "out of memory");
    json_decref(root);
    return NULL;
  }
  return root;
}

/** Dump to PATH.tmp, then rename: a reader never sees half a file. */
static bool write_file(json_t *o, const char *path, char *err, size_t errlen)
{
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
    snprintf(err, errlen, "%s: path too long", path);
    return false;
  }
  /* 9 significant digits give every float back exactly */
  if (json_dump_file(o, tmp, JSON_INDENT(2) | JSON_REAL_PRECISION(9)) != 0) {
    remove(tmp);
    snprintf(err, errlen, "%s: cannot write", tmp);
    return false;
  }
  if (rename(tmp, path) != 0) {
    remove(tmp);
    snprintf(err, errlen, "%s: cannot rename the written file into place", path);
    return false;
  }
  return true;
}

static bool export_to(qm_desc *d, const qm_setting *spec, const qm_options *opt, const float *calib,
                      int n_calib, object_fn make, const char *path, char *err, size_t errlen)
{
  err[0] = 0;
  json_t *o = export_json(d, spec, opt, calib, n_calib, make, err, errlen);
  if (!o)
    return false;
  bool ok = write_file(o, path, err, errlen);
  json_decref(o);
  return ok;
}

bool qm_export_nam(qm_desc *d, const qm_setting *spec, const qm_options *opt, const float *calib,
                   int n_calib, const char *path, char *err, size_t errlen)
{
  return export_to(d, spec, opt, calib, n_calib, model_object, path, err, errlen);
}

bool qm_export_codes(qm_desc *d, const qm_setting *spec, const qm_options *opt, const float *calib,
                     int n_calib, const char *path, char *err, size_t errlen)
{
  return export_to(d, spec, opt, calib, n_calib, codes_object, path, err, errlen);
}
