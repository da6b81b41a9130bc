/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The atom side of the plugin: patch:Set / patch:Get from the UI, and
  every message to it (model path and info, errors, scope frames,
  per-layer SQNR, histograms). The layouts are documented in
  quantone_ports.h and the URIDs are quantone_uris.h's: the only things
  the GUI shares with this code.

  Messages are flags and data kept in the instance and written at the end
  of run() only when the notify buffer has room for the whole message, so
  a small host buffer delays a message instead of truncating it.
*/
#include "qt_plugin.h"

#include <lv2/atom/util.h>
#include <lv2/patch/patch.h>

#include <math.h>
#include <string.h>

/* ---- Incoming ------------------------------------------------------------------- */

/** A UI's keep-alive (true) or goodbye (false): see qt:uiAlive in
    quantone_ports.h. False also drops a snapshot waiting to be sent, so
    nothing streams after it, not even the frame already taken. */
static void ui_alive(qt_plugin *self, bool alive)
{
  if (alive) {
    double n = QUANTONE_UI_ALIVE_TIMEOUT_S * self->host_rate;
    self->ui_alive_left = n > 1.0 ? (uint32_t)n : 1u;
  } else {
    self->ui_alive_left = 0;
    self->frame_ready = false;
  }
}

static void on_object(qt_plugin *self, const LV2_Atom_Object *obj)
{
  const qt_uris *u = &self->uris;
  if (obj->body.otype == u->patch_Set) {
    const LV2_Atom *prop = NULL, *value = NULL;
    lv2_atom_object_get(obj, u->patch_property, &prop, u->patch_value, &value, 0);
    if (!prop || prop->type != u->atom_URID || !value)
      return;
    LV2_URID key = ((const LV2_Atom_URID *)prop)->body;
    if (key == u->qt_model) {
      if (value->type != u->atom_Path && value->type != u->atom_String) {
        qt_set_error(self, "patch:Set of the model needs an atom:Path value");
        return;
      }
      const char *path = (const char *)LV2_ATOM_BODY_CONST(value);
      qt_request_load(self, path, (uint32_t)strnlen(path, value->size));
    } else if (key == u->qt_exportModel &&
               (value->type == u->atom_Path || value->type == u->atom_String)) {
      const char *path = (const char *)LV2_ATOM_BODY_CONST(value);
      qt_request_export(self, path, (uint32_t)strnlen(path, value->size));
    } else if (key == u->qt_modelStep && value->type == u->atom_Int) {
      qt_request_model_step(self, ((const LV2_Atom_Int *)value)->body);
    } else if (key == u->qt_modelAB &&
               (value->type == u->atom_Bool || value->type == u->atom_Int)) {
      if (((const LV2_Atom_Int *)value)->body != 0)
        qt_request_model_ab(self);
    } else if (key == u->qt_histogramLayer && value->type == u->atom_Int) {
      self->hist_layer = ((const LV2_Atom_Int *)value)->body;
      self->hist_requested = true;
    } else if (key == u->qt_uiAlive &&
               (value->type == u->atom_Bool || value->type == u->atom_Int)) {
      ui_alive(self, ((const LV2_Atom_Int *)value)->body != 0);
    }
  } else if (obj->body.otype == u->patch_Get) {
    self->send_path = self->send_info = self->send_sqnr = true;
    if (self->missing_msg[0]) {
      memcpy(self->error_msg, self->missing_msg, sizeof self->error_msg);
      self->send_error = true;
    }
    if (self->hist)
      self->send_hist = true;
    else
      self->hist_requested = true;
    self->send_prep = self->have_prep;
  }
}

void qt_read_control_port(qt_plugin *self)
{
  if (!self->map || !self->control)
    return;
  LV2_ATOM_SEQUENCE_FOREACH (self->control, ev) {
    if (ev->body.type == self->uris.atom_Object)
      on_object(self, (const LV2_Atom_Object *)&ev->body);
  }
}

/* ---- Outgoing -------------------------------------------------------------------- */

void qt_notify_begin(qt_plugin *self, uint32_t n_samples)
{
  /** The keep-alive clock is the audio itself: no system clock in run(),
      and a host that stops calling run() has nothing to stream anyway. */
  self->ui_alive_left = self->ui_alive_left > n_samples ? self->ui_alive_left - n_samples : 0;
  self->notify_ok = false;
  if (!self->map || !self->notify)
    return;
  uint32_t cap = self->notify->atom.size;
  lv2_atom_forge_set_buffer(&self->forge, (uint8_t *)self->notify, cap);
  self->notify_ok = lv2_atom_forge_sequence_head(&self->forge, &self->notify_frame, 0) != 0;
}

void qt_notify_end(qt_plugin *self)
{
  if (self->notify_ok)
    lv2_atom_forge_pop(&self->forge, &self->notify_frame);
  else if (self->notify && self->map) {
    /* Unusable buffer: leave a valid empty sequence. */
    self->notify->atom.size = 0;
  }
}

static bool room(qt_plugin *self, size_t bytes)
{
  return self->notify_ok && self->forge.offset + bytes + 64 <= self->forge.size;
}

static void key_string(LV2_Atom_Forge *f, LV2_URID key, const char *s)
{
  lv2_atom_forge_key(f, key);
  lv2_atom_forge_string(f, s ? s : "", (uint32_t)strlen(s ? s : ""));
}

static bool send_path(qt_plugin *self)
{
  const qt_uris *u = &self->uris;
  const char *p = self->model->path;
  if (!room(self, self->model->path_len + 96))
    return false;
  LV2_Atom_Forge *f = &self->forge;
  LV2_Atom_Forge_Frame fr;
  lv2_atom_forge_frame_time(f, 0);
  lv2_atom_forge_object(f, &fr, 0, u->patch_Set);
  lv2_atom_forge_key(f, u->patch_property);
  lv2_atom_forge_urid(f, u->qt_model);
  lv2_atom_forge_key(f, u->patch_value);
  lv2_atom_forge_path(f, p, (uint32_t)self->model->path_len);
  lv2_atom_forge_pop(f, &fr);
  return true;
}

static bool send_info(qt_plugin *self)
{
  const qt_uris *u = &self->uris;
  qt_slot *M = self->model;
  const qm_desc *d = M->desc;
  const qt_variant *v = M->var_pending ? M->var_pending : M->var;
  /* summed once in the worker (qt_slot_load, qt_variant_build) */
  if (!room(self, M->info_bytes + v->linear_names_bytes))
    return false;
  LV2_Atom_Forge *f = &self->forge;
  LV2_Atom_Forge_Frame fr, tup;
  lv2_atom_forge_frame_time(f, 0);
  lv2_atom_forge_object(f, &fr, 0, u->qt_modelInfo);
  lv2_atom_forge_key(f, u->qt_path);
  lv2_atom_forge_path(f, M->path, (uint32_t)M->path_len);
  key_string(f, u->qt_name, d->meta.name ? d->meta.name : "");
  key_string(f, u->qt_architecture, d->architecture);
  lv2_atom_forge_key(f, u->qt_modelRate);
  lv2_atom_forge_double(f, M->rate);
  lv2_atom_forge_key(f, u->qt_hostRate);
  lv2_atom_forge_double(f, self->host_rate);
  lv2_atom_forge_key(f, u->qt_resampling);
  lv2_atom_forge_bool(f, M->rs != NULL);
  lv2_atom_forge_key(f, u->qt_latency);
  lv2_atom_forge_int(f, self->latency);
  lv2_atom_forge_key(f, u->qt_weightCount);
  lv2_atom_forge_long(f, (int64_t)d->n_weights);
  lv2_atom_forge_key(f, u->qt_weightBytesFp32);
  lv2_atom_forge_long(f, (int64_t)M->ref_weight_bytes);
  lv2_atom_forge_key(f, u->qt_sizeWeightBytesFp32);
  lv2_atom_forge_long(f, (int64_t)v->fp32_weight_bytes);
  lv2_atom_forge_key(f, u->qt_weightBytes);
  lv2_atom_forge_long(f, (int64_t)v->weight_bytes);
  key_string(f, u->qt_variant, v->describe);
  /** The matrices of the size that plays: what qt:histogramLayer picks
      from and the histogram shows. */
  qm_model *shape = qt_variant_shape(M, v);
  lv2_atom_forge_key(f, u->qt_linearNames);
  lv2_atom_forge_tuple(f, &tup);
  for (int i = 0, n = qm_model_linear_count(shape); i < n; ++i) {
    const char *nm = qm_model_linear(shape, i)->name;
    lv2_atom_forge_string(f, nm, (uint32_t)strlen(nm));
  }
  lv2_atom_forge_pop(f, &tup);
  lv2_atom_forge_key(f, u->qt_slimmable);
  lv2_atom_forge_bool(f, M->n_steps > 1);
  lv2_atom_forge_key(f, u->qt_slimSteps);
  lv2_atom_forge_tuple(f, &tup);
  for (int i = 0; i < M->n_steps; ++i) {
    const qm_slim_step *st = &M->steps[i];
    LV2_Atom_Forge_Frame one;
    lv2_atom_forge_tuple(f, &one);
    lv2_atom_forge_double(f, st->lo);
    lv2_atom_forge_double(f, st->hi);
    lv2_atom_forge_string(f, st->label, (uint32_t)strnlen(st->label, sizeof st->label));
    lv2_atom_forge_long(f, (int64_t)st->weights);
    lv2_atom_forge_double(f, st->macs_per_sample);
    lv2_atom_forge_pop(f, &one);
  }
  lv2_atom_forge_pop(f, &tup);
  /** What the levels work from, so the GUI can say why a control does
      nothing for this model. */
  const qm_metadata *meta = &d->meta;
  if (meta->has_input_level) {
    lv2_atom_forge_key(f, u->qt_inputLevelDbu);
    lv2_atom_forge_double(f, meta->input_level_dbu);
  }
  if (meta->has_output_level) {
    lv2_atom_forge_key(f, u->qt_outputLevelDbu);
    lv2_atom_forge_double(f, meta->output_level_dbu);
  }
  if (meta->has_loudness || M->has_measured_loudness) {
    lv2_atom_forge_key(f, u->qt_loudness);
    lv2_atom_forge_double(f, meta->has_loudness ? meta->loudness : M->measured_loudness_db);
    lv2_atom_forge_key(f, u->qt_loudnessMeasured);
    lv2_atom_forge_bool(f, !meta->has_loudness);
  }
  lv2_atom_forge_pop(f, &fr);
  return true;
}

static bool send_error(qt_plugin *self)
{
  const qt_uris *u = &self->uris;
  if (!room(self, strlen(self->error_msg) + 96))
    return false;
  LV2_Atom_Forge *f = &self->forge;
  LV2_Atom_Forge_Frame fr;
  lv2_atom_forge_frame_time(f, 0);
  lv2_atom_forge_object(f, &fr, 0, u->qt_error);
  key_string(f, u->qt_message, self->error_msg);
  lv2_atom_forge_pop(f, &fr);
  return true;
}

/** qt:exported {qt:path}: the file "Save quantized model" wrote. */
static bool send_exported(qt_plugin *self)
{
  const qt_uris *u = &self->uris;
  if (!room(self, strlen(self->exported_path) + 96))
    return false;
  LV2_Atom_Forge *f = &self->forge;
  LV2_Atom_Forge_Frame fr;
  lv2_atom_forge_frame_time(f, 0);
  lv2_atom_forge_object(f, &fr, 0, u->qt_exported);
  lv2_atom_forge_key(f, u->qt_path);
  lv2_atom_forge_path(f, self->exported_path, (uint32_t)strlen(self->exported_path));
  lv2_atom_forge_pop(f, &fr);
  return true;
}

static bool send_prepare(qt_plugin *self)
{
  const qt_uris *u = &self->uris;
  const qt_prepare_status *p = &self->prep;
  if (!room(self, sizeof *p + 192))
    return false;
  LV2_Atom_Forge *f = &self->forge;
  LV2_Atom_Forge_Frame fr;
  lv2_atom_forge_frame_time(f, 0);
  lv2_atom_forge_object(f, &fr, 0, u->qt_prepare);
  key_string(f, u->qt_variant, p->describe);
  key_string(f, u->qt_stage, p->stage);
  lv2_atom_forge_key(f, u->qt_progress);
  lv2_atom_forge_float(f, p->progress);
  lv2_atom_forge_key(f, u->qt_seconds);
  lv2_atom_forge_float(f, p->seconds);
  lv2_atom_forge_key(f, u->qt_cpuSeconds);
  lv2_atom_forge_float(f, p->cpu_seconds);
  lv2_atom_forge_key(f, u->qt_cached);
  lv2_atom_forge_bool(f, p->cached);
  lv2_atom_forge_pop(f, &fr);
  return true;
}

static bool send_sqnr(qt_plugin *self)
{
  const qt_uris *u = &self->uris;
  qt_slot *M = self->model;
  const qt_variant *v = M->var_pending ? M->var_pending : M->var;
  if (!v->layer_sqnr)
    return true; /* nothing analysed (no map at build time): nothing to send */
  /** A smaller size of a slimmable model has layers of its own. */
  const qm_model *named = qt_variant_shape(M, v);
  int n_named = named == M->ref ? M->n_layers : qm_model_layer_count(named);
  int n = v->n_layers < n_named ? v->n_layers : n_named;
  const bool bits = v->layer_bits && v->slim_step == M->full_step;
  size_t need = 128 + (size_t)n * (bits ? 8 : 4);
  for (int i = 0; i < n; ++i)
    need += 16 + strlen(qm_model_layer_name(named, i));
  if (!room(self, need))
    return false;
  LV2_Atom_Forge *f = &self->forge;
  LV2_Atom_Forge_Frame fr, tup;
  lv2_atom_forge_frame_time(f, 0);
  lv2_atom_forge_object(f, &fr, 0, u->qt_layerSqnr);
  lv2_atom_forge_key(f, u->qt_layerNames);
  lv2_atom_forge_tuple(f, &tup);
  for (int i = 0; i < n; ++i) {
    const char *nm = qm_model_layer_name(named, i);
    lv2_atom_forge_string(f, nm, (uint32_t)strlen(nm));
  }
  lv2_atom_forge_pop(f, &tup);
  lv2_atom_forge_key(f, u->qt_values);
  lv2_atom_forge_vector(f, sizeof(float), u->atom_Float, (uint32_t)n, v->layer_sqnr);
  if (bits) {
    lv2_atom_forge_key(f, u->qt_layerBits);
    lv2_atom_forge_vector(f, sizeof(float), u->atom_Float, (uint32_t)n, v->layer_bits);
  }
  lv2_atom_forge_pop(f, &fr);
  return true;
}

static bool send_hist(qt_plugin *self)
{
  const qt_uris *u = &self->uris;
  const qt_hist *h = self->hist;
  if (!room(self, 320 + sizeof *h))
    return false;
  LV2_Atom_Forge *f = &self->forge;
  LV2_Atom_Forge_Frame fr;
  lv2_atom_forge_frame_time(f, 0);
  lv2_atom_forge_object(f, &fr, 0, u->qt_histogram);
  lv2_atom_forge_key(f, u->qt_histogramLayer);
  lv2_atom_forge_int(f, h->linear);
  key_string(f, u->qt_layerName, h->name);
  if (h->size[0])
    key_string(f, u->qt_sizeLabel, h->size);
  if (h->format[0])
    key_string(f, u->qt_weightFormat, h->format);
  lv2_atom_forge_key(f, u->qt_min);
  lv2_atom_forge_float(f, h->lo);
  lv2_atom_forge_key(f, u->qt_max);
  lv2_atom_forge_float(f, h->hi);
  lv2_atom_forge_key(f, u->qt_counts);
  lv2_atom_forge_vector(f, sizeof(int32_t), u->atom_Int, QUANTONE_HIST_BINS, h->counts);
  lv2_atom_forge_key(f, u->qt_levels);
  lv2_atom_forge_vector(f, sizeof(float), u->atom_Float, (uint32_t)h->n_levels, h->levels);
  lv2_atom_forge_pop(f, &fr);
  return true;
}

static bool send_frames(qt_plugin *self)
{
  const qt_uris *u = &self->uris;
  if (!room(self, 3 * (QUANTONE_FRAME_LEN * 4 + 32) + 128))
    return false;
  float d[QUANTONE_FRAME_LEN];
  for (int i = 0; i < QUANTONE_FRAME_LEN; ++i)
    d[i] = self->frame_q[i] - self->frame_r[i];
  LV2_Atom_Forge *f = &self->forge;
  LV2_Atom_Forge_Frame fr;
  lv2_atom_forge_frame_time(f, 0);
  lv2_atom_forge_object(f, &fr, 0, u->qt_frames);
  lv2_atom_forge_key(f, u->qt_sampleRate);
  lv2_atom_forge_float(f, self->frame_rate);
  lv2_atom_forge_key(f, u->qt_reference);
  lv2_atom_forge_vector(f, sizeof(float), u->atom_Float, QUANTONE_FRAME_LEN, self->frame_r);
  lv2_atom_forge_key(f, u->qt_quantized);
  lv2_atom_forge_vector(f, sizeof(float), u->atom_Float, QUANTONE_FRAME_LEN, self->frame_q);
  lv2_atom_forge_key(f, u->qt_difference);
  lv2_atom_forge_vector(f, sizeof(float), u->atom_Float, QUANTONE_FRAME_LEN, d);
  lv2_atom_forge_pop(f, &fr);
  return true;
}

void qt_send_messages(qt_plugin *self)
{
  if (!self->notify_ok)
    return;
  /* Most important first: a full buffer delays the rest to the next run. */
  if (self->send_error && send_error(self))
    self->send_error = false;
  if (self->send_exported && send_exported(self))
    self->send_exported = false;
  if (!self->model)
    return;
  if (self->send_path && send_path(self))
    self->send_path = false;
  if (self->send_info && send_info(self))
    self->send_info = false;
  /** An answer to the player's own switch (and few: the worker sends one
      every QT_PROGRESS_INTERVAL_S at most), so not held for a UI. */
  if (self->send_prep && send_prepare(self))
    self->send_prep = false;
  /** The streamed data only while a UI is alive; SQNR and histogram stay
      pending meanwhile (one message each, the latest), so a UI that comes
      back gets them with its first keep-alive. */
  if (!self->ui_alive_left)
    return;
  if (self->send_sqnr && send_sqnr(self))
    self->send_sqnr = false;
  if (self->send_hist && self->hist && send_hist(self))
    self->send_hist = false;
  if (self->frame_ready && send_frames(self))
    self->frame_ready = false;
}

/** Keep the last QUANTONE_FRAME_LEN samples of both paths; every
    frame_interval samples snapshot them for the next message. */
void qt_frames_feed(qt_plugin *self, const float *q, const float *r, int n)
{
  /** No UI alive: no snapshot (a stale one would go out first when a UI
      comes back) and no copying. The ring is refilled before the next
      snapshot at any model rate from 6.4 kHz up (frame_interval = rate /
      QUANTONE_FRAME_RATE >= QUANTONE_FRAME_LEN). */
  if (!self->ui_alive_left) {
    self->frame_ready = false;
    return;
  }
  for (int i = 0; i < n; ++i) {
    self->frame_ring_q[self->frame_pos] = q[i];
    self->frame_ring_r[self->frame_pos] = r[i];
    self->frame_pos = (self->frame_pos + 1) % QUANTONE_FRAME_LEN;
    if (++self->frame_count >= self->frame_interval) {
      self->frame_count = 0;
      for (int j = 0; j < QUANTONE_FRAME_LEN; ++j) {
        int k = (self->frame_pos + j) % QUANTONE_FRAME_LEN;
        self->frame_q[j] = self->frame_ring_q[k];
        self->frame_r[j] = self->frame_ring_r[k];
      }
      self->frame_ready = true;
    }
  }
}
