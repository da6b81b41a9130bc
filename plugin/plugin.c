/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Quantone LV2 plugin: lifecycle and the audio callback.

  run() order, per block:
    1. denormals off; open the notify sequence;
    2. controls -> wanted setting, monitor, levels; patch:Set / patch:Get;
    3. ask the worker for what is missing (variant, histogram);
    4. take the worker's answers (swap pointers, start crossfades);
    5. audio in steps of at most QT_HOST_CHUNK frames;
    6. meters to the output ports; messages; hand garbage to the worker.
  Nothing in it allocates, frees, locks, logs or touches files: a host
  without a worker gets one of our own (bgworker.c).
*/
#include "qt_plugin.h"

#include <lv2/core/lv2_util.h>
#include <lv2/options/options.h>
#include <lv2/state/state.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef QT_DEFAULT_MODEL_FILE
#define QT_DEFAULT_MODEL_FILE "overdrive_a2.nam"
#endif

/** A control as the plugin plays it: the port table's default while the
    port is unconnected (lv2apply and other hosts may leave any of them
    so) or NaN, else the value clamped to its declared range. Hosts and
    automation can write anything into a control port (1e30 dB of output
    level made every sample +Inf), and the table is the Turtle's. */
static float control(const qt_plugin *self, int port)
{
  const float *p = self->ctl[port];
  return p ? qt_port_clamp(port, *p) : qt_port_info_get(port)->def;
}

static void cleanup(LV2_Handle h);

static LV2_Handle instantiate(const LV2_Descriptor *desc, double rate, const char *bundle_path,
                              const LV2_Feature *const *features)
{
  (void)desc;
  qt_plugin *self = calloc(1, sizeof *self);
  if (!self)
    return NULL;
  LV2_Log_Log *log = NULL;
  lv2_features_query(features, LV2_URID__map, &self->map, false, LV2_WORKER__schedule,
                     &self->schedule, false, LV2_LOG__log, &log, false, NULL);
  lv2_log_logger_init(&self->logger, self->map, log);
  if (self->map) {
    qt_uris_map(&self->uris, self->map);
    lv2_atom_forge_init(&self->forge, self->map);
  }
  self->host_rate = rate;
  self->bundle_path = strdup(bundle_path ? bundle_path : ".");
  self->xbuf = calloc(QT_HOST_CHUNK, sizeof(float));
  self->dry = calloc(QT_HOST_CHUNK, sizeof(float));
  self->wet_buf = calloc(QT_HOST_CHUNK, sizeof(float));
  self->wet_old = calloc(QT_HOST_CHUNK, sizeof(float));
  self->delay = calloc(QT_MAX_LATENCY, sizeof(float));
  if (!self->bundle_path || !self->xbuf || !self->dry || !self->wet_buf || !self->wet_old ||
      !self->delay) {
    cleanup(self);
    return NULL;
  }
  size_t bl = strlen(self->bundle_path);
  snprintf(self->default_model, sizeof self->default_model, "%s%s%s", self->bundle_path,
           bl && self->bundle_path[bl - 1] == '/' ? "" : "/", QT_DEFAULT_MODEL_FILE);

  qt_gain_init(&self->in_gain, rate, 0.01);
  qt_gain_init(&self->out_gain, rate, 0.01);
  qt_gain_init(&self->wet, rate, QT_FADE_S / 3);
  qt_monitor_init(&self->monitor, rate);
  qt_dcblock_init(&self->dcblock, rate);
  qt_meters_reset(&self->meters, rate);
  self->mfade_len = (int)lround(QT_FADE_S * rate);
  if (self->mfade_len < 1)
    self->mfade_len = 1;
  qm_setting_default(&self->want); /* the reference, until the controls are read */
  qm_setting_normalise(&self->want);
  self->want_slim = qt_port_info_get(QT_PORT_SLIM)->def;

  /** Instantiation may block, so the built-in default model is loaded
      right here for every host: a host without a worker or URID map
      (lv2apply) plays it, and one with them starts with sound too. If even
      that fails the plugin still instantiates (a NULL instance crashes some
      hosts) and passes audio through, saying why in the log and the UI. */
  char err[QT_MSG_MAX];
  qt_slot *m = qt_slot_load(self, self->default_model, &self->want, self->want_slim,
                            self->map != NULL, NULL, err, sizeof err);
  if (m) {
    qt_install_model(self, m, false);
  } else {
    char msg[QT_MSG_MAX];
    snprintf(msg, sizeof msg, "default model not loaded (%.400s); audio passes through", err);
    lv2_log_error(&self->logger, "Quantone: %s\n", msg);
    qt_set_error(self, msg);
  }
  /** No host worker: a thread of our own, so run() never prepares
      anything (only if that fails do jobs run synchronously in run()). */
  if (!self->schedule && (self->bg = qt_bgworker_new(self))) {
    self->bg_schedule.handle = self->bg;
    self->bg_schedule.schedule_work = qt_bgworker_schedule;
    self->schedule = &self->bg_schedule;
  }
  return self;
}

static void connect_port(LV2_Handle h, uint32_t port, void *data)
{
  qt_plugin *self = h;
  switch (port) {
  case QT_PORT_IN: self->in = data; break;
  case QT_PORT_OUT: self->out = data; break;
  case QT_PORT_CONTROL: self->control = data; break;
  case QT_PORT_NOTIFY: self->notify = data; break;
  default: {
    /** Control ports by their kind in the table: a new control needs no
        case here. */
    const qt_port_info *p = qt_port_info_get((int)port);
    if (p && p->kind == QT_KIND_CONTROL_OUT)
      self->meter[port] = data;
    else if (p && p->kind == QT_KIND_CONTROL_IN)
      self->ctl[port] = data;
    break;
  }
  }
}

static void read_controls(qt_plugin *self);

static void activate(LV2_Handle h)
{
  qt_plugin *self = h;
  if (self->bg)
    qt_bgworker_quiesce(self->bg); /* nothing of the thread's is still on its way */
  if (self->model) {
    qt_slot_reset_all(self->model);
    qt_meters_reset(&self->meters, self->model->rate);
  }
  qt_dcblock_reset(&self->dcblock);
  memset(self->delay, 0, QT_MAX_LATENCY * sizeof(float));
  self->delay_pos = 0;
  self->played = false;
  if (self->bg) {
    /** Offline hosts without a worker (lv2apply, LADSPA's applyplugin and
        sox) set the controls first and then render as fast as they can:
        prepare what they ask for now, synchronously, so the first sample
        already plays it (activate() is not real-time). Later changes go
        through the thread. */
    qt_bgworker_set_sync(self->bg, true);
    read_controls(self);
    for (int i = 0; i < 2; ++i) { /* an answer may free the request slot */
      qt_request_variant(self);
      qt_take_inbox(self);
    }
    qt_flush_garbage(self);
    qt_bgworker_set_sync(self->bg, false);
  }
}

static void read_controls(qt_plugin *self)
{
  qt_setting_from_controls_half(
      &self->want, control(self, QT_PORT_PRECISION), control(self, QT_PORT_MAPPING),
      control(self, QT_PORT_ASYMMETRIC), control(self, QT_PORT_GRANULARITY),
      control(self, QT_PORT_ACTIVATIONS), control(self, QT_PORT_HALF_FORM));
  qt_setting_apply_rounding(&self->want, control(self, QT_PORT_ROUNDING));
  self->want_slim = control(self, QT_PORT_SLIM);
  /** The reference has no widths to mix: turning the budget at FP32 asks
      for nothing. */
  self->want_budget =
      self->want.bits == QM_BITS_FP32 ? 0.0f : qt_bit_budget(control(self, QT_PORT_BIT_BUDGET));
  qt_monitor_set(&self->monitor, (int)lrintf(control(self, QT_PORT_MONITOR)),
                 control(self, QT_PORT_ERROR_GAIN));
  /** The playing model's calibration and output mode join the levels,
      so a model load or a mode change glides like a level change. */
  qt_model_gains mg;
  qt_model_gains_get(self->model, control(self, QT_PORT_CALIBRATE) > 0.5f,
                     control(self, QT_PORT_INPUT_DBU),
                     (int)lrintf(control(self, QT_PORT_OUTPUT_MODE)), &mg);
  qt_gain_set_db(&self->in_gain, control(self, QT_PORT_INPUT_LEVEL) + mg.input_db);
  qt_gain_set_db(&self->out_gain, control(self, QT_PORT_OUTPUT_LEVEL) + mg.output_db);
  qt_gain_set_lin(&self->wet, control(self, QT_PORT_ENABLED) > 0.5f ? 1.0f : 0.0f);
  /** The reference runs whenever its output is used: measured (the ESR
      port is connected, or a UI may be listening on notify) or heard. */
  self->ref_live = self->meter[QT_PORT_ESR_DB] != NULL || (self->map && self->notify) ||
                   qt_monitor_needs_ref(&self->monitor);
}

static bool finite_block(const float *x, uint32_t n)
{
  for (uint32_t i = 0; i < n; ++i)
    if (!isfinite(x[i]))
      return false;
  return true;
}

/** Bypass path delayed by the reported latency, so a resampled model and
    the dry signal line up and toggling bypass does not comb or jump. */
static void delay_dry(qt_plugin *self, float *x, int k)
{
  int L = self->latency;
  if (L <= 0)
    return;
  for (int i = 0; i < k; ++i) {
    int rd = (self->delay_pos - L + QT_MAX_LATENCY) % QT_MAX_LATENCY;
    float y = self->delay[rd];
    self->delay[self->delay_pos] = x[i];
    self->delay_pos = (self->delay_pos + 1) % QT_MAX_LATENCY;
    x[i] = y;
  }
}

static void process(qt_plugin *self, const float *in, float *out, uint32_t n)
{
  for (uint32_t done = 0; done < n;) {
    int k = (int)(n - done < QT_HOST_CHUNK ? n - done : QT_HOST_CHUNK);
    memcpy(self->dry, in + done, (size_t)k * sizeof(float)); /* in may alias out */
    qt_gain_apply(&self->in_gain, self->dry, self->xbuf, k);
    float *wet = self->wet_buf;
    if (self->model) {
      qt_slot_host_step(self, self->model, self->xbuf, k, wet, true);
      if (self->model_old) {
        qt_slot_host_step(self, self->model_old, self->xbuf, k, self->wet_old, false);
        int i = 0;
        for (; i < k && self->mfade_pos < self->mfade_len; ++i) {
          if (self->mfade_hold > 0) { /* the new model's output is not there yet */
            --self->mfade_hold;
            wet[i] = self->wet_old[i];
            continue;
          }
          float g = (float)(self->mfade_pos + 1) / (float)self->mfade_len;
          wet[i] = self->wet_old[i] + g * (wet[i] - self->wet_old[i]);
          ++self->mfade_pos;
        }
        if (self->mfade_pos >= self->mfade_len) {
          qt_garbage(self, QT_FREE_MODEL, self->model_old);
          self->model_old = NULL;
        }
      }
    } else {
      memcpy(wet, self->xbuf, (size_t)k * sizeof(float));
    }
    /** After the crossfades (one filter over the whole output: a switch's
        change of offset becomes a short decay, not a step that stays),
        before the output level (a gain change does not disturb it), and
        never on the dry path, which bypass must return untouched. */
    qt_dcblock_run(&self->dcblock, wet, k);
    qt_gain_apply(&self->out_gain, wet, wet, k);
    delay_dry(self, self->dry, k);
    qt_gain_mix(&self->wet, self->dry, wet, out + done, k);
    done += (uint32_t)k;
  }
}

/** NaN / Inf input: whatever entered the model's histories is poison, so
    restart every model from its steady state and output silence. */
static void recover(qt_plugin *self, float *out, uint32_t n)
{
  if (self->model) {
    qt_slot *M = self->model;
    if (M->var_old) {
      qt_garbage(self, QT_FREE_VARIANT, M->var_old);
      M->var_old = NULL;
    }
    qt_slot_reset_all(M);
    qt_meters_reset(&self->meters, M->rate);
  }
  if (self->model_old) {
    qt_garbage(self, QT_FREE_MODEL, self->model_old);
    self->model_old = NULL;
  }
  /* the models restart from their steady state: so does the blocker */
  qt_dcblock_reset(&self->dcblock);
  memset(self->delay, 0, QT_MAX_LATENCY * sizeof(float));
  memset(out, 0, n * sizeof(float));
}

static void write_meters(qt_plugin *self)
{
  const qt_meters *mt = &self->meters;
  float wb = 0;
  if (self->model) {
    const qt_variant *v = self->model->var;
    wb = (float)v->weight_bytes;
  }
  float vals[QT_PORT_COUNT] = {0};
  vals[QT_PORT_ESR_DB] = mt->esr_db;
  vals[QT_PORT_CLIPPED] = mt->clipped;
  vals[QT_PORT_DSP_RATIO] = self->model && self->model->var->m ? mt->dsp_ratio : 1.0f;
  vals[QT_PORT_WEIGHT_BYTES] = wb;
  vals[QT_PORT_LATENCY] = (float)self->latency;
  for (int p = 0; p < QT_PORT_COUNT; ++p)
    if (self->meter[p])
      *self->meter[p] = vals[p];
}

static void run(LV2_Handle h, uint32_t n)
{
  qt_plugin *self = h;
  qt_fpenv env;
  qt_denormals_enter(&env);
  if (self->bg)
    qt_bgworker_deliver(self->bg);
  qt_notify_begin(self, n);

  read_controls(self);
  qt_read_control_port(self);
  qt_request_variant(self);
  qt_take_inbox(self);
  if (self->hist_requested) {
    self->hist_requested = false;
    qt_request_hist(self);
  }
  qt_request_variant(self); /* an answer may have freed the request slot */
  qt_take_inbox(self);      /* hosts without a worker answer at once */
  qt_request_sqnr(self);    /* a UI opened on a variant nobody analysed */

  if (self->in && self->out) {
    if (finite_block(self->in, n))
      process(self, self->in, self->out, n);
    else
      recover(self, self->out, n);
    if (n > 0)
      self->played = true;
  }

  write_meters(self);
  qt_send_messages(self);
  qt_notify_end(self);
  qt_flush_garbage(self);
  qt_denormals_leave(&env);
}

static void cleanup(LV2_Handle h)
{
  qt_plugin *self = h;
  qt_bgworker_free(self->bg); /* first: it may still read the models */
  qt_variant_cache_clear(self);
  qt_sqnr_memo_clear(self);
  for (int i = 0; i < self->n_inbox; ++i) {
    qt_slot_destroy(self->inbox[i].model);
    qt_variant_destroy(self->inbox[i].var);
    free(self->inbox[i].hist);
    free(self->inbox[i].sqnr); /* a late SQNR answer the thread handed back at the end */
  }
  for (int i = 0; i < self->n_garbage; ++i) {
    void *p = self->garbage[i].ptr;
    if (self->garbage[i].kind == QT_FREE_MODEL)
      qt_slot_destroy(p);
    else if (self->garbage[i].kind == QT_FREE_VARIANT)
      qt_variant_destroy(p);
    else
      free(p);
  }
  qt_slot_destroy(self->model);
  qt_slot_destroy(self->model_old);
  free(self->hist);
  free(self->xbuf);
  free(self->dry);
  free(self->wet_buf);
  free(self->wet_old);
  free(self->delay);
  free(self->bundle_path);
  free(self);
}

static const void *extension_data(const char *uri)
{
  static const LV2_Worker_Interface worker = {qt_work, qt_work_response, NULL};
  if (!strcmp(uri, LV2_WORKER__interface))
    return &worker;
  if (!strcmp(uri, LV2_STATE__interface))
    return qt_state_interface();
  return NULL;
}

static const LV2_Descriptor descriptor = {
    QUANTONE_URI, instantiate, connect_port, activate, run, NULL, cleanup, extension_data,
};

LV2_SYMBOL_EXPORT const LV2_Descriptor *lv2_descriptor(uint32_t index)
{
  return index == 0 ? &descriptor : NULL;
}
