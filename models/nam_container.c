/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Loader for the .nam 0.7 "SlimmableContainer" architecture: several
  complete models of one capture at different sizes, of which one plays,
  chosen by the slim value (slim.h). As NeuralAmpModelerCore reads it
  (NAM/container.cpp):

    config.submodels = [{"max_value": m, "model": {a whole .nam object}}, ...]

  with max_value strictly ascending and the last at least 1.0; submodel i
  plays for slim values below its max_value and at or above the one
  before it. The container carries no weights of its own ("weights": []).
  Submodels may be any version and architecture this build reads, except
  another container.
*/
#include "loader_internal.h"

#include <stdio.h>
#include <string.h>

/** Submodels one container may hold: real ones have 2 or 3 (A2: nano and
    standard), and each is bounded by the model limits on its own. */
#define QM_MAX_SUBMODELS 16

/** Whether the nested object names the container architecture: refused
    before it is loaded, since the loader would otherwise recurse. */
static bool is_container(json_t *model)
{
  json_t *a = json_is_object(model) ? json_object_get(model, "architecture") : NULL;
  return json_is_string(a) && strcmp(json_string_value(a), "SlimmableContainer") == 0;
}

/**
   Every sample rate stated must be the same: the container's, or when it
   states none, the first submodel's that does. A submodel that states none
   plays at the container's rate, as NeuralAmpModelerCore's "unknown" rate
   does.
*/
static bool check_sample_rate(qm_ctx *c, qm_desc *d, const qm_desc *sub, const char *where)
{
  if (!sub->sample_rate_in_file)
    return true;
  if (!d->sample_rate_in_file) {
    d->sample_rate = sub->sample_rate;
    d->sample_rate_in_file = true;
    return true;
  }
  if (sub->sample_rate != d->sample_rate)
    return qm_fail(c, "%s: sample_rate %g differs from the container's %g", where, sub->sample_rate,
                   d->sample_rate);
  return true;
}

bool qm_nam_load_container(qm_ctx *c, qm_desc *d, json_t *config, qm_doc *doc, json_t *weights)
{
  const size_t own = doc->have_weights ? doc->n_w : json_array_size(weights);
  if (own != 0)
    return qm_fail(c,
                   "weights: a SlimmableContainer's own \"weights\" must be [] (its weights are "
                   "its submodels'), found %zu numbers",
                   own);
  json_t *list = qm_get(c, config, "config", "submodels", true);
  if (!list)
    return false;
  if (!json_is_array(list) || json_array_size(list) == 0)
    return qm_fail(c, "config.submodels must be a non-empty array of {max_value, model}");
  const size_t n = json_array_size(list);
  if (n > QM_MAX_SUBMODELS)
    return qm_fail(c, "config.submodels: %zu submodels is too many (limit %d)", n,
                   QM_MAX_SUBMODELS);

  qm_container_desc *box = &d->container;
  box->submodels = qm_desc_alloc(d, n * sizeof *box->submodels);
  if (!box->submodels)
    return qm_fail(c, "out of memory");
  size_t total_weights = 0;
  for (size_t i = 0; i < n; ++i) {
    char where[64], model_where[80];
    snprintf(where, sizeof where, "config.submodels[%zu]", i);
    snprintf(model_where, sizeof model_where, "%s.model", where);
    json_t *entry = json_array_get(list, i);
    if (!json_is_object(entry))
      return qm_fail(c, "%s must be an object {max_value, model}", where);
    qm_submodel *s = &box->submodels[i];
    if (!qm_get_double(c, entry, where, "max_value", true, 0, &s->max_value))
      return false;
    if (i > 0 && !(s->max_value > box->submodels[i - 1].max_value))
      return qm_fail(c,
                     "%s.max_value %g is not above the %g before it (max_values must ascend "
                     "strictly)",
                     where, s->max_value, box->submodels[i - 1].max_value);
    json_t *model = qm_get(c, entry, where, "model", true);
    if (!model)
      return false;
    if (is_container(model))
      return qm_fail(c, "%s: a SlimmableContainer inside a container is not supported",
                     model_where);
    qm_desc *sub = qm_nam_from_object(c, model, model_where);
    if (!sub)
      return false;
    if (!qm_desc_adopt(d, sub)) {
      qm_desc_free(sub);
      return qm_fail(c, "out of memory");
    }
    s->model = sub;
    box->n_submodels = (int)i + 1;
    if (!check_sample_rate(c, d, sub, model_where))
      return false;
    total_weights += sub->n_weights;
    if (total_weights > QM_MAX_WEIGHTS)
      return qm_fail(c, "model too large: over %d weights in the submodels together",
                     QM_MAX_WEIGHTS);
    if (sub->warning && !d->warning && !(d->warning = qm_desc_strdup(d, sub->warning)))
      return qm_fail(c, "out of memory");
  }
  const qm_submodel *last = &box->submodels[n - 1];
  if (!(last->max_value >= 1.0))
    return qm_fail(c,
                   "config.submodels[%zu].max_value %g: the last must be at least 1.0 (it plays "
                   "the full size)",
                   n - 1, last->max_value);
  d->arch = QM_ARCH_CONTAINER;
  d->n_weights = total_weights;
  d->prewarm_samples = last->model->prewarm_samples;
  return true;
}
