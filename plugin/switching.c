/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Switching: turning control changes and loaded files into playing models
  without a click, and the per-step DSP of a model.

  - A control change becomes a VARIANT job (at most one in flight; the
    latest setting wins). When the variant arrives, its streaming state is
    copied from the running reference (qm_model_copy_state: memcpy only), so
    it starts from the same histories, and its output crossfades in from
    the old variant's over QT_FADE_S. A variant that arrives during a fade
    waits (var_pending) and a stale one (setting changed again, or built for
    a model that has been replaced) is handed back unplayed.
  - A loaded file becomes a new qt_slot; both models run for QT_FADE_S
    while their (host-rate) outputs crossfade.
  - Replaced objects go to the garbage list; run() hands them to the worker.
*/
#include "qt_plugin.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- Garbage ----------------------------------------------------------------- */

void qt_garbage(qt_plugin *self, uint32_t kind, void *ptr)
{
  if (!ptr)
    return;
  if (self->n_garbage < QT_GARBAGE) {
    self->garbage[self->n_garbage].kind = kind;
    self->garbage[self->n_garbage].ptr = ptr;
    ++self->n_garbage;
  }
  /* else: leak rather than free on the audio thread; 64 objects waiting
     means the worker is stuck, and freeing here would block too. */
}

void qt_flush_garbage(qt_plugin *self)
{
  int kept = 0;
  for (int i = 0; i < self->n_garbage; ++i) {
    qt_job job;
    memset(&job, 0, sizeof job);
    job.type = QT_JOB_FREE;
    job.free_kind = self->garbage[i].kind;
    job.ptr = self->garbage[i].ptr;
    if (!qt_schedule(self, &job, sizeof job))
      self->garbage[kept++] = self->garbage[i]; /* worker queue full: retry next run */
  }
  self->n_garbage = kept;
}

/* ---- Shared strings --------------------------------------------------------------- */

void qt_set_error(qt_plugin *self, const char *msg)
{
  snprintf(self->error_msg, sizeof self->error_msg, "%s", msg);
  self->send_error = true;
}

void qt_seqstr_write(qt_seqstr *s, const char *str, size_t n, unsigned tag)
{
  unsigned q = atomic_load_explicit(&s->seq, memory_order_relaxed);
  atomic_store_explicit(&s->seq, q + 1, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  if (n >= sizeof s->buf)
    n = sizeof s->buf - 1;
  for (size_t i = 0; i < n; ++i) /* byte copies: the reader may race them, then retries */
    ((volatile char *)s->buf)[i] = str[i];
  ((volatile char *)s->buf)[n] = 0;
  atomic_store_explicit(&s->tag, tag, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  atomic_store_explicit(&s->seq, q + 2, memory_order_relaxed);
}

unsigned qt_seqstr_read(qt_seqstr *s, char *out, size_t len)
{
  for (;;) {
    unsigned s1 = atomic_load_explicit(&s->seq, memory_order_acquire);
    if (s1 & 1u)
      continue;
    size_t i = 0;
    for (; i + 1 < len && i < sizeof s->buf; ++i) {
      char c = ((volatile char *)s->buf)[i];
      out[i] = c;
      if (!c)
        break;
    }
    out[i < len ? i : len - 1] = 0;
    unsigned tag = atomic_load_explicit(&s->tag, memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&s->seq, memory_order_relaxed) == s1)
      return tag;
  }
}

void qt_publish_path(qt_plugin *self, const char *path)
{
  qt_seqstr_write(&self->state_path, path, strlen(path), 0);
}

void qt_read_path(qt_plugin *self, char *out, size_t len)
{
  qt_seqstr_read(&self->state_path, out, len);
}

/* ---- Requests ---------------------------------------------------------------------- */

/** The bit budget a variant of M at slim step `step` is built for: the
    control's below the full size is ignored (another size has other
    weight matrices). */
static float budget_at(const qt_plugin *self, const qt_slot *M, int step)
{
  return step >= M->full_step ? self->want_budget : 0.0f;
}

/** The variant the playing model is heading to (pending, else playing). */
static const qt_variant *target_variant(const qt_slot *M)
{
  return M->var_pending ? M->var_pending : M->var;
}

void qt_request_variant(qt_plugin *self)
{
  /** Not held back by a pending load: a variant of the playing model is
      what the player hears until the new file is ready (and one built
      for a model replaced meanwhile is dropped as stale). */
  qt_slot *M = self->model;
  if (!M || self->var_inflight)
    return;
  /** A slim value within the playing step asks for nothing: sizes are
      steps, and a plain model has only one. */
  int step = qt_slot_slim_step(M, self->want_slim);
  const qt_variant *t = target_variant(M);
  const float budget = budget_at(self, M, step);
  if (qm_setting_eq(&self->want, &t->set) && step == t->slim_step && budget == t->budget)
    return;
  if (self->have_failed && qm_setting_eq(&self->want, &self->failed) && step == self->failed_step &&
      budget == self->failed_budget)
    return;
  qt_job job;
  memset(&job, 0, sizeof job);
  job.type = QT_JOB_VARIANT;
  job.set = self->want;
  job.slim_step = step;
  job.budget = budget;
  job.model = M;
  job.analyze = qt_ui_listening(self);
  self->var_inflight = true;
  if (!qt_schedule(self, &job, sizeof job))
    self->var_inflight = false; /* queue full: ask again next run */
}

static void request_load(qt_plugin *self, const char *path, uint32_t len, int step);

void qt_request_load(qt_plugin *self, const char *path, uint32_t len)
{
  request_load(self, path, len, 0);
}

void qt_request_model_step(qt_plugin *self, int step)
{
  if (!self->model) {
    qt_set_error(self, "no model plays: nothing to step from");
    return;
  }
  request_load(self, self->model->path, (uint32_t)self->model->path_len, step < 0 ? -1 : 1);
}

void qt_request_model_ab(qt_plugin *self)
{
  if (self->prev_len == 0) {
    qt_set_error(self, "A/B: no model played before this one");
    return;
  }
  request_load(self, self->prev_path, self->prev_len, 0);
}

static void request_load(qt_plugin *self, const char *path, uint32_t len, int step)
{
  if (len == 0) {
    qt_set_error(self, "model path is empty");
    return;
  }
  if (len >= QT_PATH_MAX) {
    char msg[128];
    snprintf(msg, sizeof msg, "model path is too long (%u bytes; the limit is %d bytes)",
             (unsigned)len, QT_PATH_MAX - 1);
    qt_set_error(self, msg);
    return;
  }
  if (!self->schedule && !self->map) {
    qt_set_error(self, "this host has no worker: cannot load model files");
    return;
  }
  /** The newest request replaces any waiting one; the worker reads the
      path from here when it starts, and drops the job unparsed if the
      generation moved on meanwhile. */
  qt_seqstr_write(&self->load_req, path, len, ++self->load_gen);
  self->load_step = step;
  self->load_pending = true;
  qt_kick_load(self);
}

void qt_kick_load(qt_plugin *self)
{
  if (!self->load_pending || self->load_inflight)
    return;
  qt_job job;
  memset(&job, 0, sizeof job);
  job.type = QT_JOB_LOAD;
  job.set = self->want;
  job.slim = self->want_slim;
  job.gen = self->load_gen;
  job.step = self->load_step;
  job.analyze = qt_ui_listening(self);
  self->load_inflight = true;
  self->load_pending = false;
  if (!qt_schedule(self, &job, sizeof job)) {
    /* worker queue full: the request stays and is retried next run() */
    self->load_inflight = false;
    self->load_pending = true;
  }
}

void qt_request_hist(qt_plugin *self)
{
  if (!self->map || !self->model)
    return;
  qt_job job;
  memset(&job, 0, sizeof job);
  job.type = QT_JOB_HIST;
  job.model = self->model;
  job.var = self->model->var_pending ? self->model->var_pending : self->model->var;
  job.linear = self->hist_layer;
  qt_schedule(self, &job, sizeof job);
}

bool qt_ui_listening(const qt_plugin *self) { return self->map && self->ui_alive_left > 0; }

void qt_request_sqnr(qt_plugin *self)
{
  qt_slot *M = self->model;
  if (!M || !qt_ui_listening(self))
    return;
  qt_variant *t = M->var_pending ? M->var_pending : M->var;
  if (t->layer_sqnr || t->sqnr_coming)
    return;
  qt_job job;
  memset(&job, 0, sizeof job);
  job.type = QT_JOB_SQNR;
  job.model = M;
  job.var = t;
  t->sqnr_coming = qt_schedule(self, &job, sizeof job); /* a full queue: next run() */
}

void qt_sqnr_dropped(qt_plugin *self, unsigned serial)
{
  qt_slot *M = self->model;
  qt_variant *cand[2] = {M ? M->var : NULL, M ? M->var_pending : NULL};
  for (int i = 0; i < 2; ++i)
    if (cand[i] && cand[i]->serial == serial)
      cand[i]->sqnr_coming = false;
}

/* ---- Installing what the worker made --------------------------------------------- */

/**
   Called from run() (NaN input, a model that blew up): every model goes
   back to the prewarmed state the worker computed when it built it, by
   copying it (qm_model_restore_prewarm), so a reset costs about one
   block's work, not a prewarm of 4,093 samples (A1) or half a second
   (LSTM) per model.
*/
void qt_slot_reset_all(qt_slot *M)
{
  qm_model_restore_prewarm(M->ref);
  if (M->var && M->var->m)
    qm_model_restore_prewarm(M->var->m);
  if (M->var_old && M->var_old->m)
    qm_model_restore_prewarm(M->var_old->m);
  if (M->rs)
    qt_resampler_reset(M->rs);
  M->ref_was_live = true;
}

/**
   Seed a new variant's streaming state from an engine of its own size
   that has been running: the reference when it ran in the last step (full
   size), else the playing variant if it has that size. An engine of
   another size has other histories (another submodel, other channels):
   nothing to copy, so the new one starts from its prewarmed state, which
   is silence's. Faded in at once, it clicked (a switch of
   slimmable_wavenet.nam from 1 to 2 channels stepped 1.28 where the
   renders step 0.13 at most): it first runs unheard on the live input
   for the samples this returns (0 when seeded), then fades in.
*/
static int seed_state(qt_slot *M, qt_variant *v)
{
  bool full = v->slim_step == M->full_step;
  bool var_same = M->var->m && M->var->slim_step == v->slim_step;
  if (v->m) {
    if (full && (M->ref_was_live || !M->var->m))
      qm_model_copy_state(v->m, M->ref);
    else if (var_same)
      qm_model_copy_state(v->m, M->var->m);
    else
      return v->warm_len;
    return 0;
  }
  if (M->ref_was_live) /* the reference plays next */
    return 0;
  if (var_same) { /* catch it up */
    qm_model_copy_state(M->ref, M->var->m);
    return 0;
  }
  qm_model_restore_prewarm(M->ref);
  return M->ref_warm_len;
}

static void start_fade(qt_plugin *self, qt_slot *M, qt_variant *v)
{
  M->warm_left = seed_state(M, v);
  M->var_old = M->var;
  M->var = v;
  M->fade_pos = 0;
  if (!self->played) { /* nothing has been heard yet: nothing to fade from */
    M->warm_left = 0;
    qt_garbage(self, QT_FREE_VARIANT, M->var_old);
    M->var_old = NULL;
  }
  self->send_info = true;
  self->send_sqnr = true;
  self->hist_requested = self->map != NULL; /* asked for at the start of the next run() */
}

static void take_variant(qt_plugin *self, qt_variant *v)
{
  qt_slot *M = self->model;
  if (!M || v->model_id != M->id || !qm_setting_eq(&v->set, &self->want) ||
      v->slim_step != qt_slot_slim_step(M, self->want_slim) ||
      v->budget != budget_at(self, M, v->slim_step)) {
    qt_garbage(self, QT_FREE_VARIANT, v); /* stale */
    return;
  }
  self->have_failed = false;
  if (M->var_old) {
    qt_garbage(self, QT_FREE_VARIANT, M->var_pending);
    M->var_pending = v;
    return;
  }
  start_fade(self, M, v);
}

void qt_install_model(qt_plugin *self, qt_slot *m, bool fade)
{
  if (self->model_old) {
    qt_garbage(self, QT_FREE_MODEL, self->model_old);
    self->model_old = NULL;
  }
  /** The model being replaced is what A/B comes back to (a reload of the
      same file keeps the one before). */
  if (self->model && strcmp(self->model->path, m->path) != 0 &&
      self->model->path_len < QT_PATH_MAX) {
    memcpy(self->prev_path, self->model->path, self->model->path_len + 1);
    self->prev_len = (uint32_t)self->model->path_len;
  }
  if (self->model && fade && self->played) {
    self->model_old = self->model;
    self->mfade_pos = 0;
    self->mfade_hold = m->rs ? qt_resampler_latency(m->rs) : 0;
  } else {
    qt_garbage(self, QT_FREE_MODEL, self->model);
  }
  self->model = m;
  m->ref_was_live = true;
  qt_meters_reset(&self->meters, m->rate);
  self->frame_interval = (int)(m->rate / QUANTONE_FRAME_RATE);
  self->frame_rate = (float)m->rate;
  self->frame_count = 0;
  self->latency = m->rs ? qt_resampler_latency(m->rs) : 0;
  qt_publish_path(self, m->path);
  self->missing_msg[0] = '\0'; /* a model plays as asked (restore sets it after) */
  self->send_path = self->send_info = self->send_sqnr = true;
  if (self->map) {
    if (self->hist)
      qt_garbage(self, QT_FREE_HIST, self->hist);
    self->hist = NULL;
    self->hist_requested = true;
  }
}

/** Give a late per-layer SQNR result to the variant it was measured for,
    if that variant is still playing or waiting; otherwise free it. */
static void attach_sqnr(qt_plugin *self, const qt_resp *r)
{
  qt_slot *M = self->model;
  qt_variant *cand[2] = {M ? M->var : NULL, M ? M->var_pending : NULL};
  for (int i = 0; i < 2; ++i) {
    qt_variant *v = cand[i];
    if (v && v->serial == r->serial && !v->layer_sqnr) {
      v->layer_sqnr = r->sqnr;
      v->n_layers = r->n_sqnr;
      self->send_sqnr = true;
      return;
    }
  }
  qt_garbage(self, QT_FREE_BUFFER, r->sqnr);
}

/** The worker's news of a preparation, for the UI (qt:prepare). */
static void take_prepare(qt_plugin *self, const qt_resp *r)
{
  if (!r->has_prep || !self->map)
    return;
  qt_prepare_status *p = &self->prep;
  const char *stage = "ready", *describe = r->var ? r->var->describe : "";
  size_t n_describe = strnlen(describe, sizeof p->describe - 1);
  if (r->type == QT_RESP_PROGRESS) { /* msg is "DESCRIBE\nSTAGE" */
    const char *nl = memchr(r->msg, '\n', strnlen(r->msg, sizeof r->msg));
    describe = r->msg;
    n_describe = nl ? (size_t)(nl - r->msg) : 0;
    stage = nl ? nl + 1 : "";
  }
  if (n_describe >= sizeof p->describe)
    n_describe = sizeof p->describe - 1;
  memcpy(p->describe, describe, n_describe);
  p->describe[n_describe] = '\0';
  size_t n_stage = strnlen(stage, sizeof p->stage - 1);
  memcpy(p->stage, stage, n_stage);
  p->stage[n_stage] = '\0';
  p->progress = r->prep_progress;
  p->seconds = r->prep_seconds;
  p->cpu_seconds = r->prep_cpu_seconds;
  p->cached = r->prep_cached;
  self->have_prep = self->send_prep = true;
}

void qt_take_inbox(qt_plugin *self)
{
  for (int i = 0; i < self->n_inbox; ++i) {
    qt_resp *r = &self->inbox[i];
    take_prepare(self, r);
    switch (r->type) {
    case QT_RESP_MODEL:
      self->load_inflight = false;
      if (r->gen != self->load_gen) {
        qt_garbage(self, QT_FREE_MODEL, r->model); /* superseded while it loaded */
        break;
      }
      qt_install_model(self, r->model, true);
      if (r->msg[0])
        qt_set_error(self, r->msg);
      break;
    case QT_RESP_SUPERSEDED: self->load_inflight = false; break;
    case QT_RESP_VARIANT:
      self->var_inflight = false;
      take_variant(self, r->var);
      break;
    case QT_RESP_SQNR: attach_sqnr(self, r); break;
    case QT_RESP_EXPORTED: qt_take_exported(self, r); break;
    case QT_RESP_HIST:
      if (self->model && r->hist->model_id == self->model->id) {
        qt_garbage(self, QT_FREE_HIST, self->hist);
        self->hist = r->hist;
        self->send_hist = true;
      } else {
        qt_garbage(self, QT_FREE_HIST, r->hist);
      }
      break;
    case QT_RESP_ERROR:
      if (r->variant_job) {
        self->var_inflight = false;
        self->have_failed = true;
        self->failed = self->want;
        self->failed_step = self->model ? qt_slot_slim_step(self->model, self->want_slim) : 0;
        self->failed_budget =
            self->model ? budget_at(self, self->model, self->failed_step) : self->want_budget;
      } else {
        self->load_inflight = false;
        if (r->gen != self->load_gen)
          break; /* about a file the player has since replaced */
      }
      qt_set_error(self, r->msg);
      break;
    default: break;
    }
  }
  self->n_inbox = 0;
  qt_kick_load(self); /* the slot may be free now, or a full queue may have room */
}

/* ---- DSP of one model -------------------------------------------------------------- */

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO: no syscall, no lock */
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static bool all_finite(const float *x, int n)
{
  for (int i = 0; i < n; ++i)
    if (!isfinite(x[i]))
      return false;
  return true;
}

void qt_slot_step(qt_plugin *self, qt_slot *M, const float *x, int n, float *y, bool current)
{
  qt_variant *v = M->var, *vo = M->var_old;
  bool need_ref = self->ref_live || !v->m || (vo && !vo->m);
  if (need_ref && !M->ref_was_live) { /* catch the idle reference up */
    if (v->m && v->slim_step == M->full_step)
      qm_model_copy_state(M->ref, v->m);
    else
      qm_model_restore_prewarm(M->ref); /* a smaller size played: no state of its shape */
  }
  M->ref_was_live = need_ref;

  double t0 = now_s(), tq = 0, tr = 0;
  if (v->m) {
    qm_model_process(v->m, x, M->q, n);
    double t1 = now_s();
    tq = t1 - t0;
    t0 = t1;
  }
  if (need_ref) {
    qm_model_process(M->ref, x, M->r, n);
    tr = now_s() - t0;
  }
  float *q = v->m ? M->q : M->r;
  const float *r = need_ref ? M->r : q;

  if (vo) {
    const float *o = M->r;
    if (vo->m) {
      qm_model_process(vo->m, x, M->qo, n);
      o = M->qo;
    }
    if (q != M->q) {
      memcpy(M->q, q, (size_t)n * sizeof(float));
      q = M->q;
    }
    int i = 0;
    for (; i < n && (M->warm_left > 0 || M->fade_pos < M->fade_len); ++i) {
      if (M->warm_left > 0) { /* the new engine is not warm yet: the old one plays */
        --M->warm_left;
        q[i] = o[i];
        continue;
      }
      float g = (float)(M->fade_pos + 1) / (float)M->fade_len;
      q[i] = o[i] + g * (q[i] - o[i]);
      ++M->fade_pos;
    }
    if (M->fade_pos >= M->fade_len) {
      qt_garbage(self, QT_FREE_VARIANT, vo);
      M->var_old = NULL;
      if (M->var_pending) {
        qt_variant *p = M->var_pending;
        M->var_pending = NULL;
        start_fade(self, M, p);
      }
    }
  }

  if (!all_finite(q, n) || !all_finite(r, n)) {
    /* A model that blew up must not keep playing garbage: restart it. */
    qt_slot_reset_all(M);
    memset(y, 0, (size_t)n * sizeof(float));
    return;
  }

  if (current) {
    size_t clipped = 0;
    if (v->m)
      clipped = qm_model_take_clipped(v->m);
    if (need_ref) {
      qt_meters_feed(&self->meters, q, r, n, clipped);
      if (v->m)
        qt_meters_time(&self->meters, tq, tr);
      else
        self->meters.dsp_ratio = 1.0f;
      if (self->map)
        qt_frames_feed(self, q, r, n);
    }
  }
  qt_monitor_run(&self->monitor, q, r, y, n, current);
}

void qt_slot_host_step(qt_plugin *self, qt_slot *M, const float *x, int k, float *y, bool current)
{
  if (!M->rs) {
    qt_slot_step(self, M, x, k, y, current);
    return;
  }
  int m = qt_resampler_up(M->rs, x, k, M->x, M->mcap);
  if (m > 0) {
    qt_slot_step(self, M, M->x, m, M->mix, current);
    qt_resampler_down(M->rs, M->mix, m);
  }
  qt_resampler_read(M->rs, y, k);
}
