/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The lilv host (see host.h). The allocation / lock counters are not here:
  they are interpose.c, which only the tests link. This file just marks
  the stretches that run audio-thread code (qh_in_run) for them.
*/
#include "host.h"
#include "host_run.h"

#include <lv2/atom/util.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/log/log.h>
#include <lv2/options/options.h>
#include <lv2/parameters/parameters.h>
#include <lv2/patch/patch.h>

#include <stdarg.h>
#include <stdatomic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

_Thread_local int qh_in_run;

/* ---- URID map ----------------------------------------------------------------- */

static char *uris[4096];
static uint32_t n_uris;

static LV2_URID map_uri(LV2_URID_Map_Handle h, const char *uri)
{
  (void)h;
  for (uint32_t i = 0; i < n_uris; ++i)
    if (!strcmp(uris[i], uri))
      return i + 1;
  if (n_uris == 4096)
    return 0;
  uris[n_uris] = strdup(uri);
  return ++n_uris;
}

static const char *unmap_uri(LV2_URID_Unmap_Handle h, LV2_URID id)
{
  (void)h;
  return id >= 1 && id <= n_uris ? uris[id - 1] : NULL;
}

static LV2_URID_Map map = {NULL, map_uri};
static LV2_URID_Unmap unmap = {NULL, unmap_uri};
LV2_URID_Map *qh_map(void) { return &map; }
LV2_URID_Unmap *qh_unmap(void) { return &unmap; }

static struct {
  LV2_URID atom_Object, atom_Path, atom_String, atom_URID, atom_Int, atom_Bool, atom_Chunk,
      atom_Sequence, atom_Float, atom_Double;
  LV2_URID patch_Set, patch_Get, patch_property, patch_value;
  LV2_URID qt_model, qt_error, qt_message, qt_modelInfo, qt_frames, qt_layerSqnr, qt_histogram,
      qt_histogramLayer, qt_resampling, qt_latency, qt_counts, qt_values, qt_variant, qt_uiAlive,
      qt_exportModel, qt_exported, qt_path;
  LV2_URID qt_layerName, qt_sizeLabel, qt_weightFormat, qt_levels, qt_linearNames,
      qt_weightBytesFp32, qt_sizeWeightBytesFp32, qt_weightBytes, atom_Long, atom_Tuple;
  LV2_URID qt_modelStep, qt_modelAB;
  LV2_URID qt_prepare, qt_stage, qt_progress, qt_cpuSeconds, qt_cached;
  LV2_URID bufsz_max, bufsz_nominal, param_sampleRate;
} U;

/* ---- Log ------------------------------------------------------------------------ */

static LV2_URID log_Note, log_Trace;

long qh_loads_logged;

static int log_vprintf(LV2_Log_Handle h, LV2_URID type, const char *fmt, va_list ap)
{
  (void)h;
  if (type == log_Note && !strncmp(fmt, "Quantone: loaded ", 17))
    __atomic_fetch_add(&qh_loads_logged, 1, __ATOMIC_RELAXED);
  if (type == log_Note || type == log_Trace)
    return 0; /* keep the test output to what matters */
  fprintf(stderr, "  [plugin log] ");
  return vfprintf(stderr, fmt, ap);
}

static int log_printf(LV2_Log_Handle h, LV2_URID type, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int r = log_vprintf(h, type, fmt, ap);
  va_end(ap);
  return r;
}

static LV2_Log_Log log_feature = {NULL, log_printf, log_vprintf};

void qh_world_init(LilvWorld *world)
{
  (void)world;
  log_Note = map_uri(NULL, LV2_LOG__Note);
  log_Trace = map_uri(NULL, LV2_LOG__Trace);
  U.atom_Object = map_uri(NULL, LV2_ATOM__Object);
  U.atom_Path = map_uri(NULL, LV2_ATOM__Path);
  U.atom_String = map_uri(NULL, LV2_ATOM__String);
  U.atom_URID = map_uri(NULL, LV2_ATOM__URID);
  U.atom_Int = map_uri(NULL, LV2_ATOM__Int);
  U.atom_Bool = map_uri(NULL, LV2_ATOM__Bool);
  U.atom_Chunk = map_uri(NULL, LV2_ATOM__Chunk);
  U.atom_Sequence = map_uri(NULL, LV2_ATOM__Sequence);
  U.atom_Float = map_uri(NULL, LV2_ATOM__Float);
  U.atom_Double = map_uri(NULL, LV2_ATOM__Double);
  U.patch_Set = map_uri(NULL, LV2_PATCH__Set);
  U.patch_Get = map_uri(NULL, LV2_PATCH__Get);
  U.patch_property = map_uri(NULL, LV2_PATCH__property);
  U.patch_value = map_uri(NULL, LV2_PATCH__value);
  U.qt_model = map_uri(NULL, QUANTONE__model);
  U.qt_exportModel = map_uri(NULL, QUANTONE__exportModel);
  U.qt_exported = map_uri(NULL, QUANTONE__exported);
  U.qt_path = map_uri(NULL, QUANTONE__path);
  U.qt_modelStep = map_uri(NULL, QUANTONE__modelStep);
  U.qt_modelAB = map_uri(NULL, QUANTONE__modelAB);
  U.qt_error = map_uri(NULL, QUANTONE__error);
  U.qt_message = map_uri(NULL, QUANTONE__message);
  U.qt_modelInfo = map_uri(NULL, QUANTONE__modelInfo);
  U.qt_frames = map_uri(NULL, QUANTONE__frames);
  U.qt_layerSqnr = map_uri(NULL, QUANTONE__layerSqnr);
  U.qt_histogram = map_uri(NULL, QUANTONE__histogram);
  U.qt_histogramLayer = map_uri(NULL, QUANTONE__histogramLayer);
  U.qt_resampling = map_uri(NULL, QUANTONE__resampling);
  U.qt_latency = map_uri(NULL, QUANTONE__latency);
  U.qt_counts = map_uri(NULL, QUANTONE__counts);
  U.qt_values = map_uri(NULL, QUANTONE__values);
  U.qt_variant = map_uri(NULL, QUANTONE__variant);
  U.qt_uiAlive = map_uri(NULL, QUANTONE__uiAlive);
  U.qt_prepare = map_uri(NULL, QUANTONE__prepare);
  U.qt_stage = map_uri(NULL, QUANTONE__stage);
  U.qt_progress = map_uri(NULL, QUANTONE__progress);
  U.qt_cpuSeconds = map_uri(NULL, QUANTONE__cpuSeconds);
  U.qt_cached = map_uri(NULL, QUANTONE__cached);
  U.qt_layerName = map_uri(NULL, QUANTONE__layerName);
  U.qt_sizeLabel = map_uri(NULL, QUANTONE__sizeLabel);
  U.qt_weightFormat = map_uri(NULL, QUANTONE__weightFormat);
  U.qt_levels = map_uri(NULL, QUANTONE__levels);
  U.qt_linearNames = map_uri(NULL, QUANTONE__linearNames);
  U.qt_weightBytesFp32 = map_uri(NULL, QUANTONE__weightBytesFp32);
  U.qt_sizeWeightBytesFp32 = map_uri(NULL, QUANTONE__sizeWeightBytesFp32);
  U.qt_weightBytes = map_uri(NULL, QUANTONE__weightBytes);
  U.atom_Long = map_uri(NULL, LV2_ATOM__Long);
  U.atom_Tuple = map_uri(NULL, LV2_ATOM__Tuple);
  U.bufsz_max = map_uri(NULL, LV2_BUF_SIZE__maxBlockLength);
  U.bufsz_nominal = map_uri(NULL, LV2_BUF_SIZE__nominalBlockLength);
  U.param_sampleRate = map_uri(NULL, LV2_PARAMETERS__sampleRate);
}

int qh_failures;

void qh_check(bool ok, const char *fmt, ...)
{
  printf("%s ", ok ? "  ok  " : "  FAIL");
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  if (!ok)
    ++qh_failures;
}

const LilvPlugin *qh_find_plugin(LilvWorld *world, const char *bundle_dir)
{
  char uri[4096];
  char *abs = realpath(bundle_dir, NULL);
  snprintf(uri, sizeof uri, "file://%s/", abs ? abs : bundle_dir);
  free(abs);
  LilvNode *bundle = lilv_new_uri(world, uri);
  lilv_world_load_bundle(world, bundle);
  lilv_node_free(bundle);
  LilvNode *puri = lilv_new_uri(world, QUANTONE_URI);
  const LilvPlugin *p = lilv_plugins_get_by_uri(lilv_world_get_all_plugins(world), puri);
  lilv_node_free(puri);
  if (!p)
    printf("FAIL: %s not found in %s\n", QUANTONE_URI, uri);
  return p;
}

/* ---- Worker ---------------------------------------------------------------------- */

static bool queue_push(uint8_t *q, size_t *len, uint32_t size, const void *data)
{
  size_t need = sizeof(uint32_t) + ((size + 7u) & ~7u);
  if (*len + need + 8 > QH_QUEUE_BYTES)
    return false;
  memcpy(q + *len, &size, sizeof size);
  memcpy(q + *len + 8, data, size); /* 8: keep the payload aligned */
  *len += 8 + ((size + 7u) & ~7u);
  return true;
}

static LV2_Worker_Status schedule_work(LV2_Worker_Schedule_Handle hd, uint32_t size,
                                       const void *data)
{
  qhost *h = hd;
  size_t need = 8 + ((size + 7u) & ~7u);
  if ((h->queue_limit && h->jobs_len + need > h->queue_limit) ||
      !queue_push(h->jobs, &h->jobs_len, size, data)) {
    ++h->n_sched_fail;
    return LV2_WORKER_ERR_NO_SPACE;
  }
  return LV2_WORKER_SUCCESS;
}

static LV2_Worker_Status respond(LV2_Worker_Respond_Handle hd, uint32_t size, const void *data)
{
  qhost *h = hd;
  return queue_push(h->resps, &h->resps_len, size, data) ? LV2_WORKER_SUCCESS
                                                         : LV2_WORKER_ERR_NO_SPACE;
}

static void worker_round(qhost *h)
{
  LV2_Handle handle = lilv_instance_get_handle(h->inst);
  /* jobs may be scheduled while we run them (not by this plugin, but
     allow it): take a snapshot */
  static _Alignas(8) uint8_t snap[QH_QUEUE_BYTES];
  size_t len = h->jobs_len;
  if (h->jobs_per_round > 0) { /* a slow worker: the first few, the rest wait */
    size_t off = 0;
    for (int j = 0; j < h->jobs_per_round && off < len; ++j) {
      uint32_t size;
      memcpy(&size, h->jobs + off, sizeof size);
      off += 8 + ((size + 7u) & ~7u);
    }
    len = off;
  }
  memcpy(snap, h->jobs, len);
  memmove(h->jobs, h->jobs + len, h->jobs_len - len);
  h->jobs_len -= len;
  for (size_t off = 0; off < len;) {
    uint32_t size;
    memcpy(&size, snap + off, sizeof size);
    h->worker->work(handle, respond, h, size, snap + off + 8);
    ++h->n_jobs;
    off += 8 + ((size + 7u) & ~7u);
  }
  for (size_t off = 0; off < h->resps_len;) {
    uint32_t size;
    memcpy(&size, h->resps + off, sizeof size);
    qh_in_run = 1; /* work_response is audio-thread code: held to the same rules */
    h->worker->work_response(handle, size, h->resps + off + 8);
    qh_in_run = 0;
    off += 8 + ((size + 7u) & ~7u);
  }
  h->resps_len = 0;
}

/* ---- Instances ---------------------------------------------------------------------- */

static void clear_control(qhost *h)
{
  LV2_Atom_Sequence *s = (LV2_Atom_Sequence *)h->control;
  s->atom.type = U.atom_Sequence;
  s->atom.size = sizeof(LV2_Atom_Sequence_Body);
  s->body.unit = 0;
  s->body.pad = 0;
}

qhost *qh_new(const LilvPlugin *p, double rate) { return qh_new_opts(p, rate, NULL); }

qhost *qh_new_opts(const LilvPlugin *p, double rate, const qh_opts *o)
{
  qhost *h = calloc(1, sizeof *h);
  if (o) {
    h->no_worker = o->no_worker;
    h->queue_limit = o->queue_limit;
    h->worker_every = o->worker_every;
    h->jobs_per_round = o->jobs_per_round;
  }
  h->plugin = p;
  h->rate = rate;
  static LV2_Feature map_f = {LV2_URID__map, &map}, unmap_f = {LV2_URID__unmap, &unmap},
                     log_f = {LV2_LOG__log, &log_feature},
                     bounded_f = {LV2_BUF_SIZE__boundedBlockLength, NULL};
  static int32_t max_block = QH_MAX_BLOCK, nominal = 256;
  static float srate;
  srate = (float)rate;
  static LV2_Options_Option opts[4];
  opts[0] = (LV2_Options_Option){LV2_OPTIONS_INSTANCE, 0,          U.bufsz_max,
                                 sizeof(int32_t),      U.atom_Int, &max_block};
  opts[1] = (LV2_Options_Option){LV2_OPTIONS_INSTANCE, 0,          U.bufsz_nominal,
                                 sizeof(int32_t),      U.atom_Int, &nominal};
  opts[2] = (LV2_Options_Option){LV2_OPTIONS_INSTANCE, 0,     U.param_sampleRate, sizeof(float),
                                 U.atom_Float,         &srate};
  static LV2_Feature opts_f = {LV2_OPTIONS__options, opts};
  h->sched.handle = h;
  h->sched.schedule_work = schedule_work;
  LV2_Feature *sched_f = malloc(sizeof *sched_f);
  sched_f->URI = LV2_WORKER__schedule;
  sched_f->data = &h->sched;
  int k = 0;
  h->features[k++] = &map_f;
  h->features[k++] = &unmap_f;
  h->features[k++] = &log_f;
  h->features[k++] = &opts_f;
  h->features[k++] = &bounded_f;
  if (!h->no_worker)
    h->features[k++] = sched_f;
  h->features[k] = NULL;
  h->sched_feature = sched_f;

  h->inst = lilv_plugin_instantiate(p, rate, h->features);
  if (!h->inst) {
    free(sched_f);
    free(h);
    return NULL;
  }
  h->worker = lilv_instance_get_extension_data(h->inst, LV2_WORKER__interface);
  float mins[QT_PORT_COUNT], maxs[QT_PORT_COUNT], defs[QT_PORT_COUNT];
  lilv_plugin_get_port_ranges_float(p, mins, maxs, defs);
  for (int i = 0; i < QT_PORT_COUNT; ++i)
    h->ctl[i] = defs[i] == defs[i] ? defs[i] : 0.0f;
  /** The tests compare the plugin with the engine sample for sample: the
      model's own output, not the Normalized default's gain. A program
      that wants a mode sets the port (quantone-render --output-mode). */
  h->ctl[QT_PORT_OUTPUT_MODE] = (float)QT_OUTPUT_RAW;
  lilv_instance_connect_port(h->inst, QT_PORT_IN, h->in);
  lilv_instance_connect_port(h->inst, QT_PORT_OUT, h->out);
  lilv_instance_connect_port(h->inst, QT_PORT_CONTROL, h->control);
  lilv_instance_connect_port(h->inst, QT_PORT_NOTIFY, h->notify);
  for (int i = QT_PORT_PRECISION; i < QT_PORT_COUNT; ++i)
    lilv_instance_connect_port(h->inst, (uint32_t)i, &h->ctl[i]);
  clear_control(h);
  lilv_instance_activate(h->inst);
  return h;
}

void qh_free(qhost *h)
{
  if (!h)
    return;
  lilv_instance_deactivate(h->inst);
  /* answers still queued carry objects: let the plugin take them so
     cleanup() frees them */
  h->jobs_per_round = 0;
  worker_round(h);
  const LV2_Feature *sched_f = h->sched_feature;
  lilv_instance_free(h->inst);
  free((void *)sched_f);
  free(h);
}

/* ---- Messages ------------------------------------------------------------------------ */

static void append(qhost *h, LV2_Atom_Forge_Ref (*build)(LV2_Atom_Forge *, const void *),
                   const void *arg)
{
  _Alignas(8) uint8_t buf[8192];
  LV2_Atom_Event *ev = (LV2_Atom_Event *)buf;
  ev->time.frames = 0;
  LV2_Atom_Forge f;
  lv2_atom_forge_init(&f, &map);
  lv2_atom_forge_set_buffer(&f, (uint8_t *)&ev->body, sizeof buf - sizeof ev->time);
  build(&f, arg);
  lv2_atom_sequence_append_event((LV2_Atom_Sequence *)h->control, sizeof h->control, ev);
}

/** patch:Set of a property to an atom:Path. */
typedef struct {
  LV2_URID key;
  const char *path;
} set_path_arg;

static LV2_Atom_Forge_Ref build_set_path(LV2_Atom_Forge *f, const void *arg)
{
  const set_path_arg *a = arg;
  LV2_Atom_Forge_Frame fr;
  LV2_Atom_Forge_Ref r = lv2_atom_forge_object(f, &fr, 0, U.patch_Set);
  lv2_atom_forge_key(f, U.patch_property);
  lv2_atom_forge_urid(f, a->key);
  lv2_atom_forge_key(f, U.patch_value);
  lv2_atom_forge_path(f, a->path, (uint32_t)strlen(a->path));
  lv2_atom_forge_pop(f, &fr);
  return r;
}

/** patch:Set of a property to a 32-bit atom (Int or Bool: the same body). */
typedef struct {
  LV2_URID key, type;
  int32_t value;
} set_int32_arg;

static LV2_Atom_Forge_Ref build_set_int32(LV2_Atom_Forge *f, const void *arg)
{
  const set_int32_arg *a = arg;
  LV2_Atom_Forge_Frame fr;
  LV2_Atom_Forge_Ref r = lv2_atom_forge_object(f, &fr, 0, U.patch_Set);
  lv2_atom_forge_key(f, U.patch_property);
  lv2_atom_forge_urid(f, a->key);
  lv2_atom_forge_key(f, U.patch_value);
  lv2_atom_forge_atom(f, sizeof a->value, a->type);
  lv2_atom_forge_write(f, &a->value, sizeof a->value);
  lv2_atom_forge_pop(f, &fr);
  return r;
}

static LV2_Atom_Forge_Ref build_get(LV2_Atom_Forge *f, const void *arg)
{
  (void)arg;
  LV2_Atom_Forge_Frame fr;
  LV2_Atom_Forge_Ref r = lv2_atom_forge_object(f, &fr, 0, U.patch_Get);
  lv2_atom_forge_pop(f, &fr);
  return r;
}

void qh_set_model(qhost *h, const char *path)
{
  set_path_arg a = {U.qt_model, path};
  append(h, build_set_path, &a);
}
void qh_export_model(qhost *h, const char *path)
{
  set_path_arg a = {U.qt_exportModel, path};
  append(h, build_set_path, &a);
}
void qh_set_hist_layer(qhost *h, int layer)
{
  set_int32_arg a = {U.qt_histogramLayer, U.atom_Int, layer};
  append(h, build_set_int32, &a);
}
void qh_ui_alive(qhost *h, bool alive)
{
  set_int32_arg a = {U.qt_uiAlive, U.atom_Bool, alive ? 1 : 0};
  append(h, build_set_int32, &a);
}
void qh_step_model(qhost *h, int step)
{
  set_int32_arg a = {U.qt_modelStep, U.atom_Int, step};
  append(h, build_set_int32, &a);
}
void qh_ab_model(qhost *h)
{
  set_int32_arg a = {U.qt_modelAB, U.atom_Bool, 1};
  append(h, build_set_int32, &a);
}
void qh_get(qhost *h) { append(h, build_get, NULL); }

/** An atom:Long's value, -1 for anything else (absent). */
static long long long_of(const LV2_Atom *a)
{
  return a && a->type == U.atom_Long ? (long long)((const LV2_Atom_Long *)a)->body : -1;
}

static void parse_notify(qhost *h)
{
  const LV2_Atom_Sequence *seq = (const LV2_Atom_Sequence *)h->notify;
  if (seq->atom.type != U.atom_Sequence)
    return;
  LV2_ATOM_SEQUENCE_FOREACH (seq, ev) {
    if (ev->body.type != U.atom_Object)
      continue;
    const LV2_Atom_Object *obj = (const LV2_Atom_Object *)&ev->body;
    if (obj->body.otype == U.patch_Set) {
      const LV2_Atom *prop = NULL, *value = NULL;
      lv2_atom_object_get(obj, U.patch_property, &prop, U.patch_value, &value, 0);
      if (prop && ((const LV2_Atom_URID *)prop)->body == U.qt_model && value &&
          value->type == U.atom_Path) {
        snprintf(h->last_path, sizeof h->last_path, "%s", (const char *)LV2_ATOM_BODY_CONST(value));
        ++h->n_paths;
      }
    } else if (obj->body.otype == U.qt_exported) {
      const LV2_Atom *path = NULL;
      lv2_atom_object_get(obj, U.qt_path, &path, 0);
      if (path && path->type == U.atom_Path)
        snprintf(h->last_exported, sizeof h->last_exported, "%s",
                 (const char *)LV2_ATOM_BODY_CONST(path));
      ++h->n_exported;
    } else if (obj->body.otype == U.qt_error) {
      const LV2_Atom *msg = NULL;
      lv2_atom_object_get(obj, U.qt_message, &msg, 0);
      if (msg && msg->type == U.atom_String)
        snprintf(h->last_error, sizeof h->last_error, "%s", (const char *)LV2_ATOM_BODY_CONST(msg));
      ++h->n_errors;
    } else if (obj->body.otype == U.qt_modelInfo) {
      const LV2_Atom *rs = NULL, *lat = NULL;
      lv2_atom_object_get(obj, U.qt_resampling, &rs, U.qt_latency, &lat, 0);
      if (rs && rs->type == U.atom_Bool)
        h->info_resampling = ((const LV2_Atom_Bool *)rs)->body != 0;
      if (lat && lat->type == U.atom_Int)
        h->info_latency = ((const LV2_Atom_Int *)lat)->body;
      const LV2_Atom *var = NULL;
      lv2_atom_object_get(obj, U.qt_variant, &var, 0);
      if (var && var->type == U.atom_String)
        snprintf(h->info_variant, sizeof h->info_variant, "%s",
                 (const char *)LV2_ATOM_BODY_CONST(var));
      const LV2_Atom *lin = NULL, *b32 = NULL, *sb32 = NULL, *b = NULL;
      lv2_atom_object_get(obj, U.qt_linearNames, &lin, U.qt_weightBytesFp32, &b32,
                          U.qt_sizeWeightBytesFp32, &sb32, U.qt_weightBytes, &b, 0);
      h->info_linears = 0;
      h->info_linear0[0] = '\0';
      if (lin && lin->type == U.atom_Tuple)
        LV2_ATOM_TUPLE_FOREACH ((const LV2_Atom_Tuple *)lin, it) {
          if (!h->info_linears++ && it->type == U.atom_String)
            snprintf(h->info_linear0, sizeof h->info_linear0, "%s",
                     (const char *)LV2_ATOM_BODY_CONST(it));
        }
      h->info_bytes_fp32 = long_of(b32);
      h->info_size_bytes_fp32 = long_of(sb32);
      h->info_bytes = long_of(b);
      ++h->n_info;
    } else if (obj->body.otype == U.qt_frames) {
      ++h->n_frames;
    } else if (obj->body.otype == U.qt_layerSqnr) {
      const LV2_Atom *v = NULL;
      lv2_atom_object_get(obj, U.qt_values, &v, 0);
      if (v)
        h->sqnr_layers = (int)((((const LV2_Atom_Vector *)v)->atom.size - 8) / 4);
      ++h->n_sqnr;
    } else if (obj->body.otype == U.qt_histogram) {
      const LV2_Atom *c = NULL;
      lv2_atom_object_get(obj, U.qt_counts, &c, 0);
      if (c) {
        const LV2_Atom_Vector *vec = (const LV2_Atom_Vector *)c;
        const int32_t *cnt = (const int32_t *)(vec + 1);
        int n = (int)((vec->atom.size - sizeof vec->body) / sizeof(int32_t));
        h->hist_bins_total = 0;
        for (int i = 0; i < n; ++i)
          h->hist_bins_total += cnt[i];
      }
      const LV2_Atom *name = NULL, *size = NULL, *lv = NULL, *fmt = NULL;
      lv2_atom_object_get(obj, U.qt_layerName, &name, U.qt_sizeLabel, &size, U.qt_levels, &lv,
                          U.qt_weightFormat, &fmt, 0);
      h->hist_layer[0] = h->hist_size[0] = h->hist_format[0] = '\0';
      if (name && name->type == U.atom_String)
        snprintf(h->hist_layer, sizeof h->hist_layer, "%s",
                 (const char *)LV2_ATOM_BODY_CONST(name));
      if (size && size->type == U.atom_String)
        snprintf(h->hist_size, sizeof h->hist_size, "%s", (const char *)LV2_ATOM_BODY_CONST(size));
      if (fmt && fmt->type == U.atom_String)
        snprintf(h->hist_format, sizeof h->hist_format, "%s",
                 (const char *)LV2_ATOM_BODY_CONST(fmt));
      h->hist_levels =
          lv ? (int)((((const LV2_Atom_Vector *)lv)->atom.size - 8) / sizeof(float)) : 0;
      ++h->n_hist;
    } else if (obj->body.otype == U.qt_prepare) {
      const LV2_Atom *stage = NULL, *progress = NULL, *cpu = NULL, *cached = NULL;
      lv2_atom_object_get(obj, U.qt_stage, &stage, U.qt_progress, &progress, U.qt_cpuSeconds, &cpu,
                          U.qt_cached, &cached, 0);
      if (stage && stage->type == U.atom_String)
        snprintf(h->prep_stage, sizeof h->prep_stage, "%s",
                 (const char *)LV2_ATOM_BODY_CONST(stage));
      bool done = progress && progress->type == U.atom_Float &&
                  ((const LV2_Atom_Float *)progress)->body >= 1.0f;
      bool from_cache =
          cached && cached->type == U.atom_Bool && ((const LV2_Atom_Bool *)cached)->body;
      if (!done)
        ++h->n_prep_progress;
      else if (from_cache)
        ++h->n_prep_cached;
      else
        ++h->n_prep_ready;
      if (done && !from_cache && cpu && cpu->type == U.atom_Float)
        h->prep_cpu_s = ((const LV2_Atom_Float *)cpu)->body;
    }
  }
}

void qh_run(qhost *h, const float *in, float *out, uint32_t n)
{
  if (h->alive_every) {
    if (h->alive_count == 0)
      qh_ui_alive(h, true);
    h->alive_count += n;
    if (h->alive_count >= h->alive_every)
      h->alive_count = 0; /* the next run sends one */
  }
  if (n)
    memcpy(h->in, in, n * sizeof(float));
  LV2_Atom_Sequence *nt = (LV2_Atom_Sequence *)h->notify;
  nt->atom.type = U.atom_Chunk;
  nt->atom.size = sizeof h->notify - sizeof(LV2_Atom);
  struct timespec t0, t1, c0, c1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
  qh_in_run = 1;
  lilv_instance_run(h->inst, n);
  qh_in_run = 0;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  h->last_run_s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  if (h->last_run_s > h->max_run_s)
    h->max_run_s = h->last_run_s;
  double cpu = (double)(c1.tv_sec - c0.tv_sec) + 1e-9 * (double)(c1.tv_nsec - c0.tv_nsec);
  if (cpu > h->max_run_cpu_s)
    h->max_run_cpu_s = cpu;
  if (n && out)
    memcpy(out, h->out, n * sizeof(float));
  clear_control(h);
  parse_notify(h);
  if (h->worker_every <= 1 || ++h->runs_since_worker >= h->worker_every) {
    h->runs_since_worker = 0;
    worker_round(h);
  }
}

void qh_settle(qhost *h)
{
  for (int i = 0; i < 3; ++i)
    qh_run(h, NULL, NULL, 0);
}

float qh_max_step(const float *y, size_t a, size_t b)
{
  float m = 0;
  for (size_t i = a + 1; i < b; ++i)
    if (fabsf(y[i] - y[i - 1]) > m)
      m = fabsf(y[i] - y[i - 1]);
  return m;
}

void qh_render(qhost *h, const float *x, float *y, size_t n, int block, unsigned seed,
               qh_block_fn cb, void *user)
{
  unsigned s = seed ? seed : 1;
  for (size_t pos = 0; pos < n;) {
    uint32_t k;
    if (block > 0) {
      k = (uint32_t)block;
    } else {
      s = s * 1103515245u + 12345u;
      k = 1 + (s >> 16) % 700;
    }
    if (k > n - pos)
      k = (uint32_t)(n - pos);
    if (cb)
      cb(h, pos, k, user);
    qh_run(h, x + pos, y + pos, k);
    pos += k;
  }
}
