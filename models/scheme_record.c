/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  metadata.quantone, read and written (scheme_record.h).
*/
#include "scheme_record.h"

#include "engine_internal.h"
#include "variant.h"

#include <stdlib.h>
#include <string.h>

void qm_scheme_record_free(qm_scheme_record *r)
{
  if (!r)
    return;
  for (int i = 0; i < r->n; ++i) {
    free(r->linears[i].scales);
    free(r->linears[i].zero_points);
  }
  free(r->linears);
  free(r);
}

static bool get_int(json_t *o, const char *key, int lo, int hi, int *out)
{
  json_t *v = json_object_get(o, key);
  if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
    return false;
  *out = (int)json_integer_value(v);
  return true;
}

static bool get_mapping(json_t *o, const char *key, qz_mapping *out)
{
  json_t *v = json_object_get(o, key);
  return json_is_string(v) && qz_mapping_from_name(json_string_value(v), out);
}

/** One linear's record; false if anything is missing or out of range. */
static bool read_linear(json_t *o, qm_linear_record *L)
{
  json_t *name = json_object_get(o, "name");
  if (!json_is_string(name) || strlen(json_string_value(name)) >= sizeof L->name)
    return false;
  snprintf(L->name, sizeof L->name, "%s", json_string_value(name));
  if (!get_int(o, "rows", 1, QM_MAX_WEIGHTS, &L->rows) ||
      !get_int(o, "cols", 1, QM_MAX_WEIGHTS, &L->cols) || !get_int(o, "bits", 2, 32, &L->bits))
    return false;
  if (L->bits == QM_BITS_FP32)
    return true;
  json_t *gran = json_object_get(o, "granularity");
  qz_scheme *s = &L->scheme;
  s->bits = L->bits;
  if (!get_mapping(o, "mapping", &s->mapping) || !get_mapping(o, "levels", &L->levels) ||
      !json_is_boolean(json_object_get(o, "asymmetric")) || !json_is_string(gran) ||
      !qz_granularity_from_name(json_string_value(gran), &s->granularity) ||
      !get_int(o, "group", 0, QM_MAX_WEIGHTS, &s->group))
    return false;
  s->asymmetric = json_is_true(json_object_get(o, "asymmetric"));
  if (qz_scheme_check(s))
    return false;
  L->ngroups = s->granularity == QZ_PER_GROUP ? (L->cols + s->group - 1) / s->group : 1;
  const size_t slots = (size_t)L->rows * (size_t)L->ngroups;
  json_t *sc = json_object_get(o, "scales"), *zp = json_object_get(o, "zero_points"),
         *cb = json_object_get(o, "codebook");
  if (json_array_size(sc) != slots || (zp && json_array_size(zp) != slots) ||
      (cb && json_array_size(cb) != 16))
    return false;
  if (!(L->scales = malloc(slots * sizeof *L->scales)) ||
      (zp && !(L->zero_points = malloc(slots * sizeof *L->zero_points))))
    return false;
  for (size_t i = 0; i < slots; ++i) {
    json_t *v = json_array_get(sc, i);
    if (!json_is_number(v))
      return false;
    L->scales[i] = (float)json_number_value(v);
    if (zp) {
      v = json_array_get(zp, i);
      if (!json_is_integer(v) || json_integer_value(v) < -255 || json_integer_value(v) > 255)
        return false;
      L->zero_points[i] = (int32_t)json_integer_value(v);
    }
  }
  L->has_codebook = cb != NULL;
  for (size_t i = 0; cb && i < 16; ++i) {
    json_t *v = json_array_get(cb, i);
    if (!json_is_integer(v) || json_integer_value(v) < -128 || json_integer_value(v) > 127)
      return false;
    L->codebook[i] = (int8_t)json_integer_value(v);
  }
  /* the levels decide the kernel format: a codebook exactly for codebook levels */
  return (L->levels == QZ_LINEAR) != L->has_codebook &&
         (L->zero_points != NULL) == (L->levels == QZ_LINEAR && s->asymmetric);
}

qm_scheme_record *qm_scheme_record_read(json_t *q)
{
  int format = 0;
  json_t *list = json_object_get(q, "linears"), *setting = json_object_get(q, "setting");
  if (!json_is_object(q) || !get_int(q, "format", 1, 1000, &format) ||
      format != QM_SCHEME_RECORD_FORMAT || !json_is_array(list) || !json_is_string(setting) ||
      json_array_size(list) > QM_MAX_LAYERS * 16)
    return NULL;
  qm_scheme_record *r = calloc(1, sizeof *r);
  const size_t n = json_array_size(list);
  if (!r || !(r->linears = calloc(n ? n : 1, sizeof *r->linears))) {
    free(r);
    return NULL;
  }
  snprintf(r->setting, sizeof r->setting, "%s", json_string_value(setting));
  for (size_t i = 0; i < n; ++i) {
    r->n = (int)i + 1;
    if (!read_linear(json_array_get(list, i), &r->linears[i])) {
      qm_scheme_record_free(r);
      return NULL;
    }
  }
  return r;
}

qm_scheme_record *qm_scheme_record_clone(const qm_scheme_record *r)
{
  if (!r)
    return NULL;
  qm_scheme_record *c = calloc(1, sizeof *c);
  if (!c || !(c->linears = calloc(r->n ? (size_t)r->n : 1, sizeof *c->linears))) {
    free(c);
    return NULL;
  }
  memcpy(c->setting, r->setting, sizeof c->setting);
  for (int i = 0; i < r->n; ++i) {
    const qm_linear_record *s = &r->linears[i];
    qm_linear_record *d = &c->linears[i];
    c->n = i + 1;
    *d = *s;
    d->scales = NULL;
    d->zero_points = NULL;
    const size_t slots = (size_t)s->rows * (size_t)s->ngroups;
    if ((s->scales && !(d->scales = malloc(slots * sizeof *d->scales))) ||
        (s->zero_points && !(d->zero_points = malloc(slots * sizeof *d->zero_points)))) {
      qm_scheme_record_free(c);
      return NULL;
    }
    if (s->scales)
      memcpy(d->scales, s->scales, slots * sizeof *d->scales);
    if (s->zero_points)
      memcpy(d->zero_points, s->zero_points, slots * sizeof *d->zero_points);
  }
  return c;
}

const qm_linear_record *qm_scheme_record_match(const qm_scheme_record *r, const qm_linear *L,
                                               const qz_scheme *s)
{
  for (int i = 0; r && i < r->n; ++i) {
    const qm_linear_record *R = &r->linears[i];
    if (strcmp(R->name, L->name) != 0)
      continue;
    const qz_scheme *q = &R->scheme;
    const bool same = R->bits == s->bits && R->rows == L->out && R->cols == L->in &&
                      q->mapping == s->mapping && q->asymmetric == s->asymmetric &&
                      q->granularity == s->granularity &&
                      (s->granularity != QZ_PER_GROUP || q->group == s->group);
    return same ? R : NULL;
  }
  return NULL;
}

/* ---- Writing ------------------------------------------------------------------ */

json_t *qm_json_float_array(const float *v, size_t n)
{
  json_t *a = json_array();
  for (size_t i = 0; a && i < n; ++i)
    if (json_array_append_new(a, json_real((double)v[i])) != 0) {
      json_decref(a);
      return NULL;
    }
  return a;
}

static json_t *ints8(const int8_t *v, size_t n)
{
  json_t *a = json_array();
  for (size_t i = 0; a && i < n; ++i)
    if (json_array_append_new(a, json_integer(v[i])) != 0) {
      json_decref(a);
      return NULL;
    }
  return a;
}

static json_t *linear_json(const qm_linear *L, const qz_tensor *t, bool codes)
{
  json_t *o = json_pack("{s:s, s:i, s:i, s:i}", "name", L->name, "rows", L->out, "cols", L->in,
                        "bits", t ? t->scheme.bits : QM_BITS_FP32);
  if (!o)
    return NULL;
  bool ok = true;
  if (t) {
    const size_t slots = (size_t)t->w.rows * (size_t)t->ngroups;
    ok = json_object_set_new(o, "mapping", json_string(qz_mapping_name(t->scheme.mapping))) == 0 &&
         json_object_set_new(o, "levels", json_string(qz_mapping_name(t->levels))) == 0 &&
         json_object_set_new(o, "asymmetric", json_boolean(t->scheme.asymmetric)) == 0 &&
         json_object_set_new(o, "granularity",
                             json_string(qz_granularity_name(t->scheme.granularity))) == 0 &&
         json_object_set_new(o, "group", json_integer(t->scheme.group)) == 0 &&
         json_object_set_new(o, "format", json_string(qk_format_name(t->w.format))) == 0 &&
         json_object_set_new(o, "scales", qm_json_float_array(t->scales, slots)) == 0;
    if (ok && t->zero_points) {
      json_t *zp = json_array();
      for (size_t i = 0; zp && i < slots; ++i)
        json_array_append_new(zp, json_integer(t->zero_points[i]));
      ok = json_object_set_new(o, "zero_points", zp) == 0;
    }
    if (ok && t->codebook)
      ok = json_object_set_new(o, "codebook", ints8(t->codebook, 16)) == 0;
    if (ok && codes)
      ok = json_object_set_new(o, "codes", ints8(t->codes, (size_t)L->out * (size_t)L->in)) == 0;
  }
  if (ok && codes && L->bias)
    ok = json_object_set_new(o, "bias", qm_json_float_array(L->bias, (size_t)L->out)) == 0;
  if (!ok) {
    json_decref(o);
    return NULL;
  }
  return o;
}

json_t *qm_scheme_record_json(const qm_model *m, const qm_setting *spec, bool codes)
{
  char setting[128], label[160];
  qm_setting_format(spec, setting, sizeof setting);
  qm_setting_describe(spec, label, sizeof label);
  json_t *list = json_array();
  json_t *o = json_pack("{s:i, s:s, s:s}", "format", QM_SCHEME_RECORD_FORMAT, "setting", setting,
                        "label", label);
  bool ok = list && o;
  for (int i = 0; ok && m && i < m->n_linears; ++i)
    ok = json_array_append_new(
             list, linear_json(m->linears[i], qm_model_linear_tensor(m, i), codes)) == 0;
  if (!ok) {
    json_decref(o);
    json_decref(list);
    return NULL;
  }
  if (json_object_set_new(o, "linears", list) != 0) {
    json_decref(o);
    return NULL;
  }
  return o;
}
