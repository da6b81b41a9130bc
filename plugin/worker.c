/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Everything slow happens here, off the audio thread: reading and parsing
  model files, building the float reference, quantizing and packing
  variants (and calibrating them), analysing per-layer SQNR, building
  weight histograms, and freeing whatever run() hands back.

  A host with the LV2 worker runs these jobs on its worker thread, one at a
  time in the order scheduled. A host without one (a plain lilv host,
  lv2apply, the LADSPA entry point) gets a thread of the plugin's own that
  does the same (bgworker.c); only if that thread cannot be started do jobs
  run synchronously from qt_schedule().
*/
#include "qt_plugin.h"

#include "calib_clip.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- Progress of a preparation ------------------------------------------------- */

static double clock_s(clockid_t c)
{
  struct timespec ts;
  clock_gettime(c, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void progress_start(qt_progress *p, LV2_Worker_Respond_Function respond,
                           LV2_Worker_Respond_Handle rh)
{
  memset(p, 0, sizeof *p);
  p->respond = respond;
  p->rh = rh;
  p->t0 = clock_s(CLOCK_MONOTONIC);
  p->cpu0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
  p->last_sent = -1e300;
}

static void progress_times(qt_progress *p)
{
  p->st.seconds = (float)(clock_s(CLOCK_MONOTONIC) - p->t0);
  p->st.cpu_seconds = (float)(clock_s(CLOCK_THREAD_CPUTIME_ID) - p->cpu0);
}

/** The numbers of a status into an answer (qt_resp says why not all). */
static void prep_numbers(qt_resp *r, const qt_prepare_status *st)
{
  r->has_prep = true;
  r->prep_cached = st->cached;
  r->prep_progress = st->progress;
  r->prep_seconds = st->seconds;
  r->prep_cpu_seconds = st->cpu_seconds;
}

/** The engine's progress hook (variant.h): a QT_RESP_PROGRESS at most
    every QT_PROGRESS_INTERVAL_S, which the audio thread may drop when its
    inbox is busy; the variant's own answer carries the final status. */
static void on_progress(void *user, const char *stage, double fraction)
{
  qt_progress *p = user;
  snprintf(p->st.stage, sizeof p->st.stage, "%s", stage);
  p->st.progress = (float)fraction;
  double now = clock_s(CLOCK_MONOTONIC);
  if (!p->respond || now - p->last_sent < QT_PROGRESS_INTERVAL_S)
    return;
  p->last_sent = now;
  progress_times(p);
  qt_resp r;
  memset(&r, 0, sizeof r);
  r.type = QT_RESP_PROGRESS;
  snprintf(r.msg, sizeof r.msg, "%s\n%s", p->st.describe, p->st.stage);
  prep_numbers(&r, &p->st);
  p->respond(p->rh, sizeof r, &r);
}

/* ---- Models and variants ----------------------------------------------------- */

/**
   A quantized engine of description d at `set`, on the calibration clip
   when the setting needs one, reporting its progress to prog (NULL: to
   nobody). NULL with a message on failure. *fp32_bytes gets the weight
   bytes the engine had in float, before it was quantized: what the
   memory meter compares with, without a float engine of its own.
*/
static qm_model *variant_model(const qm_desc *d, const qm_setting *set, double rate,
                               qt_progress *prog, size_t *fp32_bytes, char *err, size_t errlen)
{
  qm_options o;
  qm_options_default(&o);
  /** The clip is made when a variant needs it, not kept with the model:
      1 s of floats per loaded model was 10% of an instance's memory. */
  int n_calib = 0;
  float *calib =
      qm_setting_needs_calibration(set) ? qm_calib_clip(rate, QT_CALIB_S, &n_calib) : NULL;
  qm_model *m = qm_model_create(d, &o, err, errlen);
  if (m && prog && calib) {
    qm_setting_describe(set, prog->st.describe, sizeof prog->st.describe);
    qm_model_set_progress(m, on_progress, prog);
    on_progress(prog, "starting", 0.0);
  }
  if (m)
    *fp32_bytes = qm_model_weight_bytes(m);
  if (m && !qm_model_quantize(m, set, calib, n_calib, err, errlen)) {
    qm_model_free(m);
    m = NULL;
  }
  if (m && prog && calib) {
    qm_model_set_progress(m, NULL, NULL);
    snprintf(prog->st.stage, sizeof prog->st.stage, "ready");
    prog->st.progress = 1.0f;
    progress_times(prog);
  }
  free(calib);
  return m;
}

static int warm_len(const qm_model *m, double rate)
{
  int cap = (int)(QT_WARM_MAX_S * rate), pw = qm_model_prewarm_samples(m);
  return pw < cap ? pw : cap;
}

void qt_variant_destroy(qt_variant *v)
{
  if (!v)
    return;
  if (v->m)
    qm_model_free(v->m);
  free(v->layer_sqnr);
  free(v->linear_bits);
  free(v->layer_bits);
  free(v);
}

void qt_slot_destroy(qt_slot *m)
{
  if (!m)
    return;
  qt_variant_destroy(m->var);
  qt_variant_destroy(m->var_old);
  qt_variant_destroy(m->var_pending);
  if (m->ref)
    qm_model_free(m->ref);
  qt_mixed_cache_free(m->mixed);
  qm_desc_free(m->desc);
  qt_resampler_free(m->rs);
  free(m->x);
  free(m->q);
  free(m->r);
  free(m->qo);
  free(m->mix);
  free(m->path);
  free(m);
}

/**
   Per-layer SQNR of a setting against the float model of its size over
   the model's calibration clip: builds and runs a private copy of the
   variant (built NULL), so it is slow (it never delays a switch: see
   QT_JOB_VARIANT), or runs `built`, a variant not handed to run() yet
   (then reset again), which costs two renders of the clip. NULL on
   failure.
*/
static float *variant_sqnr(const qt_slot *mo, const qm_setting *set, qm_model *built, int slim_step,
                           int *n_out)
{
  char e[QT_MSG_MAX];
  const qm_desc *d = mo->desc;
  if (slim_step >= 0 && slim_step < mo->full_step) /* built already: the cached size */
    d = qm_desc_at_slim(mo->desc, mo->steps[slim_step].lo, e, sizeof e);
  if (!d)
    return NULL;
  qm_analysis an;
  memset(&an, 0, sizeof an);
  float *sqnr = NULL;
  int n_calib = 0;
  float *calib = qm_calib_clip(mo->rate, QT_CALIB_S, &n_calib);
  if (calib &&
      (built ? qm_analyze_model(d, built, calib, n_calib, QM_DEFAULT_CHUNK, &an, e, sizeof e)
             : qm_analyze(d, set, calib, n_calib, QM_DEFAULT_CHUNK, &an, e, sizeof e))) {
    if (an.n_layers > 0 && (sqnr = malloc(sizeof(float) * an.n_layers))) {
      *n_out = an.n_layers;
      for (int i = 0; i < an.n_layers; ++i)
        sqnr[i] = (float)an.layer_sqnr_db[i];
    }
    qm_analysis_free(&an);
  }
  free(calib);
  return sqnr;
}

static float *qt_variant_sqnr(const qt_slot *mo, const qm_setting *set, int slim_step, int *n_out)
{
  return variant_sqnr(mo, set, NULL, slim_step, n_out);
}

int qt_slot_slim_step(const qt_slot *M, float s)
{
  for (int i = 0; i < M->full_step; ++i)
    if (s < M->steps[i].hi)
      return i;
  return M->full_step;
}

/**
   A variant at a smaller size than the reference's: the description that
   plays at the step's lower slim value (built once per size and kept in
   the slot's description, so coming back to a size only quantizes), as
   its own engine even at FP32. Its per-layer SQNR is measured against
   the float model of its own size, layer for layer of that size
   (messages.c names them from its engine).
*/
static qt_variant *slimmed_build(const qt_slot *mo, qt_variant *v, bool analyze, qt_progress *prog,
                                 char *err, size_t errlen)
{
  char e[QT_MSG_MAX];
  e[0] = 0;
  const qm_slim_step *st = &mo->steps[v->slim_step];
  const qm_desc *d = qm_desc_at_slim(mo->desc, st->lo, e, sizeof e);
  if (d) {
    qm_options o;
    qm_options_default(&o);
    if (v->set.bits == QM_BITS_FP32) {
      v->m = qm_model_create(d, &o, e, sizeof e);
    } else {
      v->m = variant_model(d, &v->set, mo->rate, prog, &v->fp32_weight_bytes, e, sizeof e);
    }
  }
  if (!v->m) {
    snprintf(err, errlen, "%s: cannot build %s at %s: %s", mo->path, v->describe, st->label, e);
    free(v);
    return NULL;
  }
  v->weight_bytes = qm_model_weight_bytes(v->m);
  if (v->set.bits == QM_BITS_FP32)
    v->fp32_weight_bytes = v->weight_bytes;
  v->warm_len = warm_len(v->m, mo->rate);
  snprintf(v->describe + strlen(v->describe), sizeof v->describe - strlen(v->describe), ", %s",
           st->label);
  v->n_layers = qm_model_layer_count(v->m);
  /** A float size has no error to analyse: its figures cost nothing, so
      they are there whether or not a UI listens. */
  if (v->set.bits == QM_BITS_FP32 && v->n_layers > 0 &&
      (v->layer_sqnr = malloc(sizeof(float) * (size_t)v->n_layers)))
    for (int i = 0; i < v->n_layers; ++i)
      v->layer_sqnr[i] = INFINITY;
  else if (analyze && v->set.bits != QM_BITS_FP32)
    v->layer_sqnr = qt_variant_sqnr(mo, &v->set, v->slim_step, &v->n_layers);
  return v;
}

qm_model *qt_variant_shape(const qt_slot *M, const qt_variant *v)
{
  return v->slim_step != M->full_step && v->m ? v->m : M->ref;
}

/** What the names of v's weight matrices add to a modelInfo (the 16
    bytes an atom:String header and its padding take, and the name). */
static size_t linear_names_bytes(const qt_slot *mo, const qt_variant *v)
{
  qm_model *shape = qt_variant_shape(mo, v);
  size_t b = 0;
  for (int i = 0, n = qm_model_linear_count(shape); i < n; ++i)
    b += 16 + strlen(qm_model_linear(shape, i)->name);
  return b;
}

static qt_variant *variant_build(const qt_slot *mo, const qm_setting *set, int slim_step,
                                 bool analyze, qt_progress *prog, char *err, size_t errlen)
{
  qt_variant *v = calloc(1, sizeof *v);
  if (!v) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  static atomic_uint serials;
  v->set = *set;
  v->slim_step = slim_step;
  v->model_id = mo->id;
  v->serial = atomic_fetch_add(&serials, 1) + 1;
  qm_setting_describe(set, v->describe, sizeof v->describe);
  v->n_layers = mo->n_layers;
  if (slim_step >= 0 && slim_step < mo->full_step)
    return slimmed_build(mo, v, analyze, prog, err, errlen);
  v->slim_step = mo->full_step;
  v->fp32_weight_bytes = mo->ref_weight_bytes;
  if (set->bits == QM_BITS_FP32) {
    v->weight_bytes = mo->ref_weight_bytes;
    if (mo->n_layers > 0 && (v->layer_sqnr = malloc(sizeof(float) * mo->n_layers)))
      for (int i = 0; i < mo->n_layers; ++i)
        v->layer_sqnr[i] = INFINITY;
    return v;
  }
  char e[QT_MSG_MAX];
  e[0] = 0;
  v->m = variant_model(mo->desc, set, mo->rate, prog, &v->fp32_weight_bytes, e, sizeof e);
  if (!v->m) {
    snprintf(err, errlen, "%s: cannot build %s: %s", mo->path, v->describe, e);
    free(v);
    return NULL;
  }
  v->weight_bytes = qm_model_weight_bytes(v->m);
  v->warm_len = warm_len(v->m, mo->rate);
  v->layer_bits = qt_mixed_layer_bits(v->m, set->linear_bits, set->bits);
  if (analyze)
    v->layer_sqnr = qt_variant_sqnr(mo, set, v->slim_step, &v->n_layers);
  return v;
}

qt_variant *qt_variant_build(const qt_slot *mo, const qm_setting *set, int slim_step, bool analyze,
                             qt_progress *prog, char *err, size_t errlen)
{
  qt_variant *v = variant_build(mo, set, slim_step, analyze, prog, err, errlen);
  if (v)
    v->linear_names_bytes = linear_names_bytes(mo, v);
  return v;
}

qt_slot *qt_slot_load(qt_plugin *self, const char *path, const qm_setting *set, float slim,
                      bool analyze, qt_progress *prog, char *err, size_t errlen)
{
  err[0] = 0;
  qm_desc *d = qm_load_file(path, err, errlen);
  if (!d)
    return NULL;
  qt_slot *mo = calloc(1, sizeof *mo);
  if (!mo) {
    qm_desc_free(d);
    snprintf(err, errlen, "%s: out of memory", path);
    return NULL;
  }
  mo->id = atomic_fetch_add(&self->next_model_id, 1) + 1;
  mo->desc = d;
  mo->path = strdup(path);
  mo->rate = d->sample_rate;
  qm_options o;
  qm_options_default(&o);
  mo->ref = qm_model_create(d, &o, err, errlen);
  if (!mo->ref || !mo->path)
    goto fail;
  mo->ref_weight_bytes = qm_model_weight_bytes(mo->ref);
  mo->ref_warm_len = warm_len(mo->ref, mo->rate);
  mo->n_layers = qm_model_layer_count(mo->ref);
  mo->n_linears = qm_model_linear_count(mo->ref);
  mo->n_steps = qm_desc_slim_steps(d, mo->steps, QT_SLIM_MAX);
  if (mo->n_steps > QT_SLIM_MAX)
    mo->n_steps = QT_SLIM_MAX;
  if (mo->n_steps < 1) { /* cannot happen for a loaded file; a plain model's one size */
    mo->n_steps = 1;
    memset(&mo->steps[0], 0, sizeof mo->steps[0]);
    mo->steps[0].hi = 1.0;
  }
  mo->full_step = mo->n_steps - 1;
  /** Once per file and process, here in the worker, never in run(): a
      file without a loudness is measured so Normalized can play it at the
      level of the others (loudness_cache.c keeps the value for the next
      instance). A model that cannot be measured (silent) plays raw. */
  if (!d->meta.has_loudness)
    mo->has_measured_loudness = qt_measured_loudness_db(path, mo->ref, &mo->measured_loudness_db);
  mo->mcap = QT_HOST_CHUNK;
  if (mo->rate != self->host_rate) {
    char e[256];
    mo->rs = qt_resampler_create(self->host_rate, mo->rate, &mo->mcap, e, sizeof e);
    if (!mo->rs) {
      snprintf(err, errlen, "%s: %s", path, e);
      goto fail;
    }
  }
  mo->x = calloc((size_t)mo->mcap, sizeof(float));
  mo->q = calloc((size_t)mo->mcap, sizeof(float));
  mo->r = calloc((size_t)mo->mcap, sizeof(float));
  mo->qo = calloc((size_t)mo->mcap, sizeof(float));
  mo->mix = calloc((size_t)mo->mcap, sizeof(float));
  if (!mo->x || !mo->q || !mo->r || !mo->qo || !mo->mix) {
    snprintf(err, errlen, "%s: out of memory", path);
    goto fail;
  }
  /** Every length a modelInfo message needs, summed here once: the name
      and the linear names may be long, and run() retries a message that
      does not fit yet on every block. */
  mo->path_len = strlen(mo->path);
  mo->info_bytes = 512 + mo->path_len + (d->meta.name ? strlen(d->meta.name) : 0);
  mo->info_bytes += 32; /* qt:sizeWeightBytesFp32: key, atom:Long */
  mo->info_bytes += 64 + (size_t)mo->n_steps * (96 + sizeof mo->steps[0].label);
  mo->info_bytes += 4 * 32; /* the levels' keys: input / output dBu, loudness, measured */
  mo->fade_len = (int)lround(QT_FADE_S * mo->rate);
  if (mo->fade_len < 1)
    mo->fade_len = 1;
  mo->var = qt_variant_build(mo, set, qt_slot_slim_step(mo, slim), analyze, prog, err, errlen);
  if (!mo->var) {
    /** The file is fine, only the requested scheme failed: play the
        reference and say why (err keeps the message for the caller). */
    qm_setting fp;
    qm_setting_default(&fp);
    qm_setting_normalise(&fp);
    char e2[64];
    mo->var = qt_variant_build(mo, &fp, mo->full_step, analyze, NULL, e2, sizeof e2);
    if (!mo->var)
      goto fail;
  }
  /* A file that loaded with a reservation (a newer patch version) plays,
     and the player is told, as for a scheme that failed. */
  if (!err[0] && d->warning)
    snprintf(err, errlen, "%s: %s", path, d->warning);
  return mo;
fail:
  if (!err[0])
    snprintf(err, errlen, "%s: cannot build the model", path);
  qt_slot_destroy(mo);
  return NULL;
}

/* ---- Histograms --------------------------------------------------------------- */

/** What a histogram of float weights says it shows ("" for quantized
    weights: their levels say it): read off the matrix the engine
    multiplies with, so precision 16 names the form half_form chose, a
    matrix a bit budget gave 16 bits says so, and FP32 is said only where
    the weights are FP32. */
static const char *float_format_label(const qm_linear *L)
{
  if (!L->W)
    return "";
  switch (qk_packed_format(L->W)) {
  case QK_F32: return "FP32";
  case QK_F16: return qm_half_label(QM_HALF_FP16);
  case QK_BF16: return qm_half_label(QM_HALF_BF16);
  default: return "";
  }
}

/**
   The histogram of weight matrix `linear` of the variant v plays (NULL:
   the reference): the weights of the size that plays, as its engine
   multiplies with them (float at FP32, dequantized otherwise), and its
   quantizer's levels. A smaller size has an engine and matrices of its
   own, and modelInfo's qt:linearNames lists them while it plays
   (qt_variant_shape), so the float and the quantized histograms a player
   flips between are one model's, the one heard.
*/
static qt_hist *hist_build(const qt_slot *mo, const qt_variant *v, int linear)
{
  qm_model *src = v && v->m ? v->m : mo->ref; /* below the full size v->m is never NULL */
  int n_linears = qm_model_linear_count(src);
  if (n_linears <= 0)
    return NULL;
  if (linear < 0)
    linear = 0;
  if (linear >= n_linears)
    linear = n_linears - 1;
  qt_hist *h = calloc(1, sizeof *h);
  if (!h)
    return NULL;
  h->model_id = mo->id;
  h->linear = linear;
  if (mo->n_steps > 1)
    snprintf(h->size, sizeof h->size, "%s", mo->steps[v ? v->slim_step : mo->full_step].label);
  const qm_linear *L = qm_model_linear(src, linear);
  snprintf(h->name, sizeof h->name, "%s", L->name);
  snprintf(h->format, sizeof h->format, "%s", float_format_label(L));
  int n = L->in * L->out;
  float *w = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
  if (!w) {
    free(h);
    return NULL;
  }
  n = qm_model_linear_used_weights(src, linear, w, n);
  if (v && v->m) {
    h->n_levels = qm_model_linear_levels(src, linear, 0, h->levels, QT_MAX_LEVELS);
    if (h->n_levels < 0)
      h->n_levels = 0;
  }
  float lo = INFINITY, hi = -INFINITY;
  for (int i = 0; i < n; ++i) {
    if (w[i] < lo)
      lo = w[i];
    if (w[i] > hi)
      hi = w[i];
  }
  if (n <= 0 || !(hi >= lo))
    lo = hi = 0;
  /* symmetric range so zero sits on a bin edge and the shape reads at once */
  float a = fmaxf(fabsf(lo), fabsf(hi));
  if (a == 0)
    a = 1;
  h->lo = -a;
  h->hi = a;
  for (int i = 0; i < n; ++i) {
    int b = (int)((w[i] + a) / (2 * a) * QUANTONE_HIST_BINS);
    if (b < 0)
      b = 0;
    if (b >= QUANTONE_HIST_BINS)
      b = QUANTONE_HIST_BINS - 1;
    ++h->counts[b];
  }
  free(w);
  return h;
}

/* ---- Kept variants --------------------------------------------------------------- */

/** Worth keeping: its preparation ran the calibration clip (optimized
    rounding: seconds of work; static activations). */
static bool worth_keeping(const qt_variant *v)
{
  /* mixed widths are not in v->set: such a variant could answer another budget */
  return v->m && !v->linear_bits && qm_setting_needs_calibration(&v->set);
}

/** Keep only the kept variants of model `id` (keep true) or only the
    others (false), freeing the rest. */
static void cache_filter(qt_plugin *self, unsigned id, bool keep)
{
  int n = 0;
  for (int i = 0; i < self->n_cache; ++i) {
    if ((self->cache[i]->model_id == id) == keep)
      self->cache[n++] = self->cache[i];
    else
      qt_variant_destroy(self->cache[i]);
  }
  self->n_cache = n;
}

void qt_variant_cache_clear(qt_plugin *self)
{
  for (int i = 0; i < self->n_cache; ++i)
    qt_variant_destroy(self->cache[i]);
  self->n_cache = 0;
}

/** A variant the audio thread handed back: first in the cache, the
    oldest out when full. The cache holds one model's variants: one of
    another model means that model plays now. */
static void cache_put(qt_plugin *self, qt_variant *v)
{
  cache_filter(self, v->model_id, true);
  if (self->n_cache == QT_VARIANT_CACHE)
    qt_variant_destroy(self->cache[--self->n_cache]);
  memmove(self->cache + 1, self->cache, sizeof *self->cache * (size_t)self->n_cache);
  self->cache[0] = v;
  ++self->n_cache;
}

/** The kept variant of mo at set and size, taken out of the cache and
    back in its prewarmed state (it stopped mid-stream), or NULL. A
    request for another model frees the old model's. */
static qt_variant *cache_take(qt_plugin *self, const qt_slot *mo, const qm_setting *set,
                              int slim_step)
{
  cache_filter(self, mo->id, true);
  int step = slim_step >= 0 && slim_step < mo->full_step ? slim_step : mo->full_step;
  for (int i = 0; i < self->n_cache; ++i) {
    qt_variant *v = self->cache[i];
    if (!qm_setting_eq(&v->set, set) || v->slim_step != step)
      continue;
    memmove(self->cache + i, self->cache + i + 1,
            sizeof *self->cache * (size_t)(self->n_cache - i - 1));
    --self->n_cache;
    qm_model_restore_prewarm(v->m);
    qm_model_take_clipped(v->m);
    /** Its analysis, if one was under way when it stopped playing, was
        sent to a variant no longer there: a UI may ask again. */
    if (!v->layer_sqnr)
      v->sqnr_coming = false;
    return v;
  }
  return NULL;
}

/* ---- The worker interface ------------------------------------------------------ */

static LV2_Worker_Status respond_error(qt_plugin *self, LV2_Worker_Respond_Function respond,
                                       LV2_Worker_Respond_Handle rh, bool variant_job, uint32_t gen,
                                       const char *msg)
{
  qt_resp r;
  memset(&r, 0, sizeof r);
  r.type = QT_RESP_ERROR;
  r.variant_job = variant_job;
  r.gen = gen;
  snprintf(r.msg, sizeof r.msg, "%s", msg);
  lv2_log_error(&self->logger, "Quantone: %s\n", r.msg);
  return respond(rh, sizeof r, &r);
}

LV2_Worker_Status qt_work(LV2_Handle h, LV2_Worker_Respond_Function respond,
                          LV2_Worker_Respond_Handle rh, uint32_t size, const void *data)
{
  qt_plugin *self = h;
  if (size < sizeof(qt_job))
    return LV2_WORKER_ERR_UNKNOWN;
  const qt_job *job = data;
  /** Only a host that can carry atoms shows it, and only to a UI that
      listened when the job was scheduled (QT_JOB_SQNR for the others). */
  bool analyze = self->map != NULL && job->analyze;
  char err[QT_MSG_MAX];
  err[0] = 0;
  qt_resp r;
  memset(&r, 0, sizeof r);
  switch (job->type) {
  case QT_JOB_LOAD: {
    /** Coalescing: the job names a generation, the instance holds the
        newest path. A job whose generation is no longer the newest is
        dropped here, before the file is opened, and the audio thread then
        schedules the newest one (at most one load is ever in flight). */
    char *path = malloc(QT_PATH_MAX);
    if (!path)
      return respond_error(self, respond, rh, false, job->gen, "out of memory");
    unsigned gen = qt_seqstr_read(&self->load_req, path, QT_PATH_MAX);
    if (gen != job->gen) {
      free(path);
      r.type = QT_RESP_SUPERSEDED;
      r.gen = job->gen;
      return respond(rh, sizeof r, &r);
    }
    qt_progress prog;
    progress_start(&prog, respond, rh);
    qt_slot *m =
        job->step ? qt_slot_load_step(self, path, job->step, &job->set, job->slim, analyze, &prog,
                                      err, sizeof err)
                  : qt_slot_load(self, path, &job->set, job->slim, analyze, &prog, err, sizeof err);
    if (!m) {
      free(path);
      return respond_error(self, respond, rh, false, job->gen, err);
    }
    if (err[0])
      lv2_log_warning(&self->logger, "Quantone: %s\n", err);
    else
      lv2_log_note(&self->logger, "Quantone: loaded %s\n", m->path);
    free(path);
    r.type = QT_RESP_MODEL;
    r.gen = job->gen;
    r.model = m;
    snprintf(r.msg, sizeof r.msg, "%s", err);
    return respond(rh, sizeof r, &r);
  }
  case QT_JOB_VARIANT: {
    /** The player is waiting to hear this setting: deliver the variant
        first, then spend the time on its per-layer SQNR, which follows in
        a second response. The variant cannot be freed before that
        response is written (frees are jobs, and this worker is busy), and
        the audio thread matches the result by serial, never by pointer. */
    bool later = analyze && job->set.bits != QM_BITS_FP32;
    /** bit_budget: widths per linear from the model's sensitivity (the
        first time for a scheme, seconds of work; then only the
        allocator and its guard). The variant keeps the setting asked
        for, so the audio thread compares it as any other, and the
        widths it plays apart (so it is never taken from the cache). */
    qm_setting set = job->set;
    int *widths = NULL;
    const bool full = job->slim_step < 0 || job->slim_step >= job->model->full_step;
    if (job->budget >= 2.0f && set.bits != QM_BITS_FP32 && full) {
      char e[QT_MSG_MAX / 2];
      widths = qt_mixed_widths(job->model, &set, job->budget, e, sizeof e);
      if (!widths) {
        snprintf(err, sizeof err, "bit budget %.2f: %s", job->budget, e);
        return respond_error(self, respond, rh, true, 0, err);
      }
      set.linear_bits = widths;
      set.n_linear_bits = job->model->n_linears;
    }
    qt_variant *v = widths ? NULL : cache_take(self, job->model, &job->set, job->slim_step);
    if (v) {
      qt_prepare_status st = {.progress = 1.0f, .cached = true};
      prep_numbers(&r, &st);
    } else {
      qt_progress prog;
      progress_start(&prog, respond, rh);
      v = qt_variant_build(job->model, &set, job->slim_step, analyze && !later, &prog, err,
                           sizeof err);
      if (!v) {
        free(widths);
        return respond_error(self, respond, rh, true, 0, err);
      }
      v->set = job->set;
      v->linear_bits = widths;
      if (widths) {
        v->budget = job->budget;
        size_t len = strlen(v->describe);
        snprintf(v->describe + len, sizeof v->describe - len, ", budget %.2f bits", job->budget);
      }
      if (qm_setting_needs_calibration(&job->set)) {
        /** Its analysis on the engine just built, before delivery (two
            renders of the clip, 0.04 s on wavenet_a1_standard), instead
            of after it on a second copy, which repeated the whole
            preparation (quantone-bench prepare: 0.26 s). */
        if (later && v->m)
          v->layer_sqnr = variant_sqnr(job->model, &set, v->m, v->slim_step, &v->n_layers);
        progress_times(&prog);
        prep_numbers(&r, &prog.st);
        lv2_log_note(&self->logger, "Quantone: prepared %s in %.2f s (%.2f s CPU)\n", v->describe,
                     prog.st.seconds, prog.st.cpu_seconds);
      }
    }
    /** Figures measured before for this variant (it was built again),
        or the ones just measured, kept for the next time. */
    if (!v->layer_sqnr)
      v->layer_sqnr = qt_sqnr_memo_get(self, v, &v->n_layers);
    else
      qt_sqnr_memo_put(self, v, v->layer_sqnr, v->n_layers);
    r.type = QT_RESP_VARIANT;
    r.variant_job = true;
    r.var = v;
    if (later && !v->layer_sqnr)
      v->sqnr_coming = true; /* the answer below: run() does not ask again */
    LV2_Worker_Status st = respond(rh, sizeof r, &r);
    if (later && !v->layer_sqnr && st == LV2_WORKER_SUCCESS) {
      qt_resp s;
      memset(&s, 0, sizeof s);
      s.type = QT_RESP_SQNR;
      s.serial = v->serial;
      s.sqnr = qt_variant_sqnr(job->model, &set, v->slim_step, &s.n_sqnr);
      qt_sqnr_memo_put(self, v, s.sqnr, s.n_sqnr); /* v's keys are immutable */
      if (s.sqnr && respond(rh, sizeof s, &s) != LV2_WORKER_SUCCESS)
        free(s.sqnr);
    }
    return st;
  }
  case QT_JOB_HIST: {
    qt_hist *hs = hist_build(job->model, job->var, job->linear);
    if (!hs)
      return LV2_WORKER_SUCCESS;
    r.type = QT_RESP_HIST;
    r.hist = hs;
    return respond(rh, sizeof r, &r);
  }
  case QT_JOB_EXPORT: return qt_export_job(self, job, respond, rh);
  case QT_JOB_SQNR: {
    /** A UI opened on a variant built while none listened: analysed now,
        on a private copy (the playing one belongs to the audio thread; it
        only reads v's immutable setting and widths here, and the FREE job
        that could free v comes after this one). */
    const qt_variant *v = job->var;
    qm_setting set = v->set;
    if (v->linear_bits) {
      set.linear_bits = v->linear_bits;
      set.n_linear_bits = job->model->n_linears;
    }
    r.type = QT_RESP_SQNR;
    r.serial = v->serial;
    r.sqnr = qt_variant_sqnr(job->model, &set, v->slim_step, &r.n_sqnr);
    if (!r.sqnr)
      return LV2_WORKER_SUCCESS;
    qt_sqnr_memo_put(self, v, r.sqnr, r.n_sqnr);
    LV2_Worker_Status st = respond(rh, sizeof r, &r);
    if (st != LV2_WORKER_SUCCESS)
      free(r.sqnr);
    return st;
  }
  case QT_JOB_FREE:
    if (job->free_kind == QT_FREE_MODEL) {
      cache_filter(self, ((qt_slot *)job->ptr)->id, false); /* its variants go with it */
      qt_slot_destroy(job->ptr);
    } else if (job->free_kind == QT_FREE_VARIANT) {
      qt_variant *v = job->ptr;
      if (worth_keeping(v))
        cache_put(self, v);
      else
        qt_variant_destroy(v);
    } else if (job->free_kind == QT_FREE_HIST || job->free_kind == QT_FREE_BUFFER)
      free(job->ptr);
    return LV2_WORKER_SUCCESS;
  default: return LV2_WORKER_ERR_UNKNOWN;
  }
}

/** Runs in the audio thread (between or inside run() calls): only queue. */
LV2_Worker_Status qt_work_response(LV2_Handle h, uint32_t size, const void *data)
{
  qt_plugin *self = h;
  if (size != sizeof(qt_resp))
    return LV2_WORKER_ERR_UNKNOWN;
  const qt_resp *r = data;
  /** Progress is news, not an object: dropped while the inbox is busy, so
      it never takes the room of an answer that carries one. */
  if (r->type == QT_RESP_PROGRESS && self->n_inbox >= QT_INBOX / 2)
    return LV2_WORKER_SUCCESS;
  if (self->n_inbox < QT_INBOX) {
    memcpy(&self->inbox[self->n_inbox++], r, sizeof *r);
    return LV2_WORKER_SUCCESS;
  }
  /* No room: give the objects straight back to be freed. */
  if (r->model)
    qt_garbage(self, QT_FREE_MODEL, r->model);
  if (r->var)
    qt_garbage(self, QT_FREE_VARIANT, r->var);
  if (r->hist)
    qt_garbage(self, QT_FREE_HIST, r->hist);
  if (r->sqnr) {
    qt_garbage(self, QT_FREE_BUFFER, r->sqnr);
    qt_sqnr_dropped(self, r->serial); /* asked for again while a UI listens */
  }
  if (r->variant_job)
    self->var_inflight = false;
  /** A load's answer must always free the load slot, or no file could be
      loaded again; a model dropped here is loaded again if still wanted. */
  if (r->type == QT_RESP_MODEL || r->type == QT_RESP_SUPERSEDED ||
      (r->type == QT_RESP_ERROR && !r->variant_job)) {
    self->load_inflight = false;
    if (r->type == QT_RESP_MODEL && r->gen == self->load_gen)
      self->load_pending = true;
  }
  return LV2_WORKER_ERR_NO_SPACE;
}

static LV2_Worker_Status sync_respond(LV2_Worker_Respond_Handle rh, uint32_t size, const void *data)
{
  return qt_work_response((LV2_Handle)rh, size, data);
}

bool qt_schedule(qt_plugin *self, const qt_job *job, uint32_t size)
{
  if (self->schedule)
    return self->schedule->schedule_work(self->schedule->handle, size, job) == LV2_WORKER_SUCCESS;
  qt_work(self, sync_respond, self, size, job);
  return true;
}
