/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
#include "tr_qat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool tr_fake_quant(const tr_model *m, const qz_scheme *s, const float *p, float *pe,
                   size_t *saturated, char *err, size_t errlen)
{
  memcpy(pe, p, m->n_params * sizeof *pe);
  size_t sat = 0;
  for (int i = 0; i < m->n_tensors; ++i) {
    const tr_tensor *t = &m->tensors[i];
    const size_t n = (size_t)t->rows * (size_t)t->cols;
    float *w = malloc(n * sizeof *w), *wq = malloc(n * sizeof *wq);
    if (!w || !wq) {
      free(w);
      free(wq);
      snprintf(err, errlen, "out of memory");
      return false;
    }
    tr_tensor_get(t, p, w);
    qz_tensor q;
    if (!qz_quantize(w, t->rows, t->cols, s, &q, err, errlen)) {
      free(w);
      free(wq);
      qz_tensor_free(&q);
      return false;
    }
    qz_dequantize(&q, wq);
    sat += q.saturated;
    qz_tensor_free(&q);
    tr_tensor_set(t, pe, wq);
    free(w);
    free(wq);
  }
  if (saturated)
    *saturated = sat;
  return true;
}

bool tr_scheme_parse(const char *spec, qz_scheme *s, char *err, size_t errlen)
{
  *s = qz_scheme_default();
  s->granularity = QZ_PER_CHANNEL;
  char buf[128];
  snprintf(buf, sizeof buf, "%s", spec);
  char *save = NULL;
  int first = 1;
  for (char *tok = strtok_r(buf, ":,", &save); tok; tok = strtok_r(NULL, ":,", &save)) {
    if (first) {
      s->bits = atoi(tok);
      first = 0;
    } else if (strcmp(tok, "sym") == 0) {
      s->asymmetric = false;
    } else if (strcmp(tok, "asym") == 0) {
      s->asymmetric = true;
    } else if (strncmp(tok, "group", 5) == 0) {
      s->granularity = QZ_PER_GROUP;
      s->group = tok[5] ? atoi(tok + 5) : QZ_DEFAULT_GROUP;
    } else if (!qz_mapping_from_name(tok, &s->mapping) &&
               !qz_granularity_from_name(tok, &s->granularity)) {
      snprintf(err, errlen,
               "scheme '%s': unknown word '%s' (bits:linear|pow2|kmeans:sym|asym:"
               "tensor|channel|groupN)",
               spec, tok);
      return false;
    }
  }
  const char *why = qz_scheme_check(s);
  if (why) {
    snprintf(err, errlen, "scheme '%s': %s", spec, why);
    return false;
  }
  return true;
}

void tr_scheme_name(const qz_scheme *s, char *buf, size_t len)
{
  if (s->granularity == QZ_PER_GROUP)
    snprintf(buf, len, "%d-bit %s %s group%d", s->bits, qz_mapping_name(s->mapping),
             s->asymmetric ? "asym" : "sym", s->group);
  else
    snprintf(buf, len, "%d-bit %s %s %s", s->bits, qz_mapping_name(s->mapping),
             s->asymmetric ? "asym" : "sym", qz_granularity_name(s->granularity));
}
