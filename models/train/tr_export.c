/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
#include "tr_export.h"

#include "model_file.h"
#include "nam_export.h"
#include "setting.h"
#include "tr_distill.h"
#include "tr_loss.h"
#include "tr_train.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool tr_export_scheme_ok(const qz_scheme *s, char *err, size_t errlen)
{
  /* a setting string names no group size: the one the settings offer */
  if ((s->bits == 8 || s->bits == 4 || s->bits == 2) && s->mapping == QZ_LINEAR &&
      !qz_scheme_check(s) && (s->granularity != QZ_PER_GROUP || s->group == QZ_DEFAULT_GROUP))
    return true;
  snprintf(err, errlen,
           "--export writes 8, 4 or 2 bits with linear levels, symmetric or not, per tensor, "
           "channel or group of %d (a setting of the engine that plays exactly the QAT "
           "forward); not this scheme",
           QZ_DEFAULT_GROUP);
  return false;
}

/** A temporary file name next to `beside` (same directory), created empty;
    false when none can be made. */
static bool temp_beside(const char *beside, char *path, size_t len)
{
  if (snprintf(path, len, "%s.tmp-XXXXXX", beside) >= (int)len)
    return false;
  const int fd = mkstemp(path);
  if (fd < 0)
    return false;
  close(fd);
  return true;
}

/**
   Replace source's weights by those of the trainer's file `student` and
   write the result to `merged`. False (nothing written) when source is
   not a .nam with the same architecture and as many top-level weights.
*/
static bool carry_source(const char *student, const char *source, const char *merged)
{
  json_error_t je;
  json_t *st = json_load_file(student, 0, &je);
  json_t *src = json_load_file(source, 0, &je);
  json_t *sw = st ? json_object_get(st, "weights") : NULL;
  json_t *cw = src ? json_object_get(src, "weights") : NULL;
  const char *sa = st ? json_string_value(json_object_get(st, "architecture")) : NULL;
  const char *ca = src ? json_string_value(json_object_get(src, "architecture")) : NULL;
  bool ok = json_is_array(sw) && json_is_array(cw) && json_array_size(sw) == json_array_size(cw) &&
            sa && ca && strcmp(sa, ca) == 0;
  /* a scheme the source was exported with would re-encode on its own scales */
  json_t *meta = src ? json_object_get(src, "metadata") : NULL;
  if (ok && json_is_object(meta))
    json_object_del(meta, "quantone");
  /* jansson writes reals with 17 significant digits: the floats read back exactly */
  ok = ok && json_object_set(src, "weights", sw) == 0 && json_dump_file(src, merged, 0) == 0;
  json_decref(st);
  json_decref(src);
  return ok;
}

bool tr_export_quantized(const tr_model *m, const float *p, const qz_scheme *s, const char *source,
                         const tr_nam_meta *meta, const char *out, char *err, size_t errlen)
{
  if (!tr_export_scheme_ok(s, err, errlen))
    return false;
  char student[4096], merged[4096];
  if (!temp_beside(out, student, sizeof student)) {
    snprintf(err, errlen, "cannot create a temporary file beside %s", out);
    return false;
  }
  if (!tr_nam_write(student, m, p, meta)) {
    snprintf(err, errlen, "cannot write %s", student);
    remove(student);
    return false;
  }
  bool merged_made = source && temp_beside(out, merged, sizeof merged);
  if (merged_made && !carry_source(student, source, merged)) {
    remove(merged);
    merged_made = false;
  }
  qm_desc *d = qm_load_file(merged_made ? merged : student, err, errlen);
  bool ok = d != NULL;
  if (ok) {
    qm_setting spec;
    qm_setting_default(&spec);
    spec.bits = s->bits;
    spec.mapping = QZ_LINEAR;
    spec.asymmetric = s->asymmetric;
    spec.granularity = s->granularity;
    spec.group = s->group;
    qm_setting_normalise(&spec);
    ok = qm_export_nam(d, &spec, NULL, NULL, 0, out, err, errlen);
    qm_desc_free(d);
  }
  remove(student);
  if (merged_made)
    remove(merged);
  return ok;
}

bool tr_export_guarded(tr_model *tuned, tr_model *start, const qz_scheme *s, const tr_signal *val,
                       int skip, const char *source, const tr_nam_meta *meta, const char *out,
                       tr_export_report *rep, char *err, size_t errlen)
{
  rep->start_esr = tr_evaluate(start, start->p, s, val, skip, NULL, NULL, NULL);
  rep->tuned_esr = tr_evaluate(tuned, tuned->p, s, val, skip, NULL, NULL, NULL);
  rep->tuned_kept = rep->tuned_esr < rep->start_esr;
  const tr_model *m = rep->tuned_kept ? tuned : start;
  if (!tr_export_quantized(m, m->p, s, source, meta, out, err, errlen))
    return false;
  tr_teacher played;
  if (!tr_teacher_open(&played, out, err, errlen))
    return false;
  float *y = malloc(val->n * sizeof *y);
  if (!y) {
    tr_teacher_close(&played);
    snprintf(err, errlen, "out of memory");
    return false;
  }
  tr_teacher_render(&played, val->x, y, val->n);
  tr_teacher_close(&played);
  const size_t from = (size_t)skip < val->n ? (size_t)skip : 0;
  rep->played_esr = tr_esr(y + from, val->y + from, val->n - from);
  free(y);
  return true;
}
