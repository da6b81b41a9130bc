/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Notify-message decoding and control-message forging (see protocol.h and
  the protocol comment in quantone_ports.h). Every read is bounds-checked
  against the atom's size: a malformed or truncated message (a bridged
  host, a newer plugin) is ignored field by field, never trusted.
*/
#include "protocol.h"

#include <lv2/atom/util.h>
#include <lv2/patch/patch.h>

#include <math.h>
#include <string.h>
#include <time.h>

void qg_proto_init(qg_proto *p, LV2_URID_Map *map)
{
  qt_uris_map(&p->uris, map);
  p->alive_last_s = -1.0;
  lv2_atom_forge_init(&p->forge, map);
}

/* ---- Typed field readers: false (and nothing written) on a type mismatch. */

static void get_str(const qg_proto *p, const LV2_Atom *a, char *out, size_t cap)
{
  if (!a || (a->type != p->uris.atom_String && a->type != p->uris.atom_Path) || cap == 0)
    return;
  size_t n = strnlen((const char *)LV2_ATOM_BODY_CONST(a), a->size);
  if (n >= cap)
    n = cap - 1;
  memcpy(out, LV2_ATOM_BODY_CONST(a), n);
  out[n] = '\0';
}

static bool get_num(const qg_proto *p, const LV2_Atom *a, double *out)
{
  if (!a)
    return false;
  if (a->type == p->uris.atom_Float && a->size >= 4)
    *out = ((const LV2_Atom_Float *)a)->body;
  else if (a->type == p->uris.atom_Double && a->size >= 8)
    *out = ((const LV2_Atom_Double *)a)->body;
  else if ((a->type == p->uris.atom_Int || a->type == p->uris.atom_Bool) && a->size >= 4)
    *out = ((const LV2_Atom_Int *)a)->body;
  else if (a->type == p->uris.atom_Long && a->size >= 8)
    *out = (double)((const LV2_Atom_Long *)a)->body;
  else
    return false;
  return true;
}

/** Elements of a Vector of child type t (child size 4); NULL if not one. */
static const void *get_vec(const qg_proto *p, const LV2_Atom *a, LV2_URID t, int *n)
{
  *n = 0;
  if (!a || a->type != p->uris.atom_Vector || a->size < sizeof(LV2_Atom_Vector_Body))
    return NULL;
  const LV2_Atom_Vector *v = (const LV2_Atom_Vector *)a;
  if (v->body.child_type != t || v->body.child_size != 4)
    return NULL;
  *n = (int)((a->size - sizeof(LV2_Atom_Vector_Body)) / 4);
  return v + 1;
}

static int get_strings(const qg_proto *p, const LV2_Atom *a, char (*out)[48], int cap, size_t width)
{
  if (!a || a->type != p->uris.atom_Tuple)
    return 0;
  int n = 0;
  LV2_ATOM_TUPLE_FOREACH ((const LV2_Atom_Tuple *)a, it) {
    if (n >= cap)
      break;
    out[n][0] = '\0';
    get_str(p, it, out[n], width);
    ++n;
  }
  return n;
}

/** qt:slimSteps: a Tuple of (lo, hi, label, weights, MACs) Tuples. A
    malformed step ends the list there. */
static int get_slim_steps(const qg_proto *p, const LV2_Atom *a, qg_slim_step *out, int cap)
{
  if (!a || a->type != p->uris.atom_Tuple)
    return 0;
  int n = 0;
  LV2_ATOM_TUPLE_FOREACH ((const LV2_Atom_Tuple *)a, it) {
    if (n >= cap || it->type != p->uris.atom_Tuple)
      break;
    const LV2_Atom *f[5] = {NULL};
    int k = 0;
    LV2_ATOM_TUPLE_FOREACH ((const LV2_Atom_Tuple *)it, e) {
      if (k < 5)
        f[k++] = e;
    }
    qg_slim_step *s = &out[n];
    double w = 0;
    s->label[0] = '\0';
    if (k < 5 || !get_num(p, f[0], &s->lo) || !get_num(p, f[1], &s->hi) || !get_num(p, f[3], &w) ||
        !get_num(p, f[4], &s->macs))
      break;
    get_str(p, f[2], s->label, sizeof s->label);
    s->weights = (int64_t)w;
    ++n;
  }
  return n;
}

static unsigned on_info(const qg_proto *p, const LV2_Atom_Object *o, qg_gui_data *d)
{
  const LV2_Atom *path = NULL, *name = NULL, *arch = NULL, *mrate = NULL, *hrate = NULL, *rs = NULL,
                 *lat = NULL, *wc = NULL, *wb32 = NULL, *swb32 = NULL, *wb = NULL, *var = NULL,
                 *lin = NULL, *slimmable = NULL, *steps = NULL, *in_dbu = NULL, *out_dbu = NULL,
                 *loud = NULL, *loud_measured = NULL;
  lv2_atom_object_get(
      o, p->uris.qt_path, &path, p->uris.qt_name, &name, p->uris.qt_architecture, &arch,
      p->uris.qt_modelRate, &mrate, p->uris.qt_hostRate, &hrate, p->uris.qt_resampling, &rs,
      p->uris.qt_latency, &lat, p->uris.qt_weightCount, &wc, p->uris.qt_weightBytesFp32, &wb32,
      p->uris.qt_sizeWeightBytesFp32, &swb32, p->uris.qt_weightBytes, &wb, p->uris.qt_variant, &var,
      p->uris.qt_linearNames, &lin, p->uris.qt_slimmable, &slimmable, p->uris.qt_slimSteps, &steps,
      p->uris.qt_inputLevelDbu, &in_dbu, p->uris.qt_outputLevelDbu, &out_dbu, p->uris.qt_loudness,
      &loud, p->uris.qt_loudnessMeasured, &loud_measured, 0);
  double x;
  get_str(p, path, d->model_path, sizeof d->model_path);
  d->model_name[0] = d->architecture[0] = d->variant[0] = '\0';
  get_str(p, name, d->model_name, sizeof d->model_name);
  get_str(p, arch, d->architecture, sizeof d->architecture);
  get_str(p, var, d->variant, sizeof d->variant);
  if (get_num(p, mrate, &x))
    d->model_rate = x;
  if (get_num(p, hrate, &x))
    d->host_rate = x;
  if (get_num(p, rs, &x))
    d->resampling = x != 0;
  if (get_num(p, lat, &x))
    d->latency = (int)x;
  if (get_num(p, wc, &x))
    d->weight_count = (int64_t)x;
  if (get_num(p, wb32, &x))
    d->weight_bytes_fp32 = (int64_t)x;
  const bool has_wb = get_num(p, wb, &x);
  if (has_wb)
    d->weight_bytes = (int64_t)x;
  /** A plugin that does not say the size's bytes has one size. */
  d->size_weight_bytes_fp32 = get_num(p, swb32, &x) ? (int64_t)x : d->weight_bytes_fp32;
  d->n_linears = get_strings(p, lin, d->linear_names, QG_GUI_MAX_LINEARS, 48);
  /** A plugin without slim (or a malformed list) is a model of one size. */
  d->n_slim = get_slim_steps(p, steps, d->slim, QG_GUI_MAX_SLIM);
  d->slimmable = get_num(p, slimmable, &x) && x != 0 && d->n_slim > 1;
  /** Absent keys mean the model lacks the field: never keep a previous
      model's. */
  d->has_input_level_dbu = get_num(p, in_dbu, &d->input_level_dbu);
  d->has_output_level_dbu = get_num(p, out_dbu, &d->output_level_dbu);
  d->has_loudness = get_num(p, loud, &d->loudness);
  d->loudness_measured = d->has_loudness && get_num(p, loud_measured, &x) && x != 0;
  d->have_info = true;
  /** The meter's three figures from one message: the variant's bytes with
      the float bytes of its own size. The weight_bytes port may still
      hold the previous model's until the host's next port update (seen:
      a new model's "15.1 kB of 520 B (0% saved)"); it updates the figure
      again when the playing variant changes. */
  d->cost.valid = true;
  d->cost.weight_bytes_fp32 = (double)d->size_weight_bytes_fp32;
  d->cost.weight_bytes_full_fp32 = (double)d->weight_bytes_fp32;
  if (has_wb)
    d->cost.weight_bytes = (double)d->weight_bytes;
  return QG_CHG_INFO;
}

static unsigned on_frames(const qg_proto *p, const LV2_Atom_Object *o, qg_gui_data *d)
{
  const LV2_Atom *sr = NULL, *ref = NULL, *q = NULL, *diff = NULL;
  lv2_atom_object_get(o, p->uris.qt_sampleRate, &sr, p->uris.qt_reference, &ref,
                      p->uris.qt_quantized, &q, p->uris.qt_difference, &diff, 0);
  int nr, nq, nd;
  const float *r = get_vec(p, ref, p->uris.atom_Float, &nr);
  const float *qq = get_vec(p, q, p->uris.atom_Float, &nq);
  const float *dd = get_vec(p, diff, p->uris.atom_Float, &nd);
  if (!r || !qq || !dd)
    return 0;
  int n = nr < nq ? nr : nq;
  n = n < nd ? n : nd;
  if (n > QG_SCOPE_MAX)
    n = QG_SCOPE_MAX;
  double rate = 48000;
  get_num(p, sr, &rate);
  memcpy(d->scope.ref, r, (size_t)n * sizeof(float));
  memcpy(d->scope.quant, qq, (size_t)n * sizeof(float));
  memcpy(d->scope.diff, dd, (size_t)n * sizeof(float));
  d->scope.n = n;
  d->scope.rate = (float)rate;
  d->scope.valid = n > 1;
  return QG_CHG_FRAMES;
}

static unsigned on_sqnr(const qg_proto *p, const LV2_Atom_Object *o, qg_gui_data *d)
{
  const LV2_Atom *names = NULL, *vals = NULL, *bits = NULL;
  lv2_atom_object_get(o, p->uris.qt_layerNames, &names, p->uris.qt_values, &vals,
                      p->uris.qt_layerBits, &bits, 0);
  int nv, nb = 0;
  const float *v = get_vec(p, vals, p->uris.atom_Float, &nv);
  if (!v)
    return 0;
  const float *b = bits ? get_vec(p, bits, p->uris.atom_Float, &nb) : NULL;
  d->sqnr.has_bits = b != NULL;
  static char tmp[QG_MAX_LAYERS][48];
  int nn = get_strings(p, names, tmp, QG_MAX_LAYERS, 32);
  int n = nv < QG_MAX_LAYERS ? nv : QG_MAX_LAYERS;
  for (int i = 0; i < n; ++i) {
    d->sqnr.sqnr_db[i] = v[i];
    d->sqnr.bits[i] = b && i < nb ? b[i] : NAN;
    if (i < nn)
      memcpy(d->sqnr.names[i], tmp[i], 32);
    else
      d->sqnr.names[i][0] = '\0';
    d->sqnr.names[i][31] = '\0';
  }
  d->sqnr.n = n;
  return QG_CHG_SQNR;
}

static unsigned on_hist(const qg_proto *p, const LV2_Atom_Object *o, qg_gui_data *d)
{
  const LV2_Atom *layer = NULL, *name = NULL, *mn = NULL, *mx = NULL, *counts = NULL,
                 *levels = NULL, *size = NULL, *format = NULL;
  lv2_atom_object_get(o, p->uris.qt_histogramLayer, &layer, p->uris.qt_layerName, &name,
                      p->uris.qt_min, &mn, p->uris.qt_max, &mx, p->uris.qt_counts, &counts,
                      p->uris.qt_levels, &levels, p->uris.qt_sizeLabel, &size,
                      p->uris.qt_weightFormat, &format, 0);
  int nc, nl;
  const int32_t *c = get_vec(p, counts, p->uris.atom_Int, &nc);
  const float *l = get_vec(p, levels, p->uris.atom_Float, &nl);
  double lo, hi;
  if (!c || !get_num(p, mn, &lo) || !get_num(p, mx, &hi))
    return 0;
  qg_hist_view *h = &d->hist;
  h->n_bins = nc < QG_HIST_MAX_BINS ? nc : QG_HIST_MAX_BINS;
  for (int i = 0; i < h->n_bins; ++i)
    h->counts[i] = c[i];
  h->n_levels = l ? (nl < QG_HIST_MAX_LEVELS ? nl : QG_HIST_MAX_LEVELS) : 0;
  for (int i = 0; i < h->n_levels; ++i)
    h->levels[i] = l[i];
  h->min = (float)lo;
  h->max = (float)hi;
  h->layer[0] = h->size[0] = h->format[0] = '\0';
  get_str(p, name, h->layer, sizeof h->layer);
  get_str(p, size, h->size, sizeof h->size);
  get_str(p, format, h->format, sizeof h->format);
  h->valid = true;
  return QG_CHG_HIST;
}

static unsigned on_prepare(const qg_proto *p, const LV2_Atom_Object *o, qg_gui_data *d)
{
  const LV2_Atom *var = NULL, *stage = NULL, *prog = NULL, *sec = NULL, *cpu = NULL, *cached = NULL;
  lv2_atom_object_get(o, p->uris.qt_variant, &var, p->uris.qt_stage, &stage, p->uris.qt_progress,
                      &prog, p->uris.qt_seconds, &sec, p->uris.qt_cpuSeconds, &cpu,
                      p->uris.qt_cached, &cached, 0);
  qg_prepare *q = &d->prepare;
  double x = 0;
  if (!get_num(p, prog, &x))
    return 0; /* nothing to show without the share done */
  q->progress = (float)x;
  q->variant[0] = q->stage[0] = '\0';
  get_str(p, var, q->variant, sizeof q->variant);
  get_str(p, stage, q->stage, sizeof q->stage);
  q->seconds = get_num(p, sec, &x) ? (float)x : 0.0f;
  q->cpu_seconds = get_num(p, cpu, &x) ? (float)x : 0.0f;
  q->cached = get_num(p, cached, &x) && x != 0;
  q->valid = true;
  return QG_CHG_PREPARE;
}

unsigned qg_proto_decode(const qg_proto *p, const LV2_Atom *a, uint32_t size, qg_gui_data *d)
{
  if (!a || size < sizeof(LV2_Atom) || a->size > size - sizeof(LV2_Atom) ||
      a->type != p->uris.atom_Object || a->size < sizeof(LV2_Atom_Object_Body))
    return 0;
  const LV2_Atom_Object *o = (const LV2_Atom_Object *)a;
  LV2_URID t = o->body.otype;
  if (t == p->uris.patch_Set) {
    const LV2_Atom *prop = NULL, *val = NULL;
    lv2_atom_object_get(o, p->uris.patch_property, &prop, p->uris.patch_value, &val, 0);
    if (prop && prop->type == p->uris.atom_URID &&
        ((const LV2_Atom_URID *)prop)->body == p->uris.qt_model) {
      get_str(p, val, d->model_path, sizeof d->model_path);
      return QG_CHG_PATH;
    }
    return 0;
  }
  if (t == p->uris.qt_modelInfo)
    return on_info(p, o, d);
  if (t == p->uris.qt_error) {
    const LV2_Atom *msg = NULL;
    lv2_atom_object_get(o, p->uris.qt_message, &msg, 0);
    d->error[0] = '\0';
    get_str(p, msg, d->error, sizeof d->error);
    d->have_error = d->error[0] != '\0';
    return QG_CHG_ERROR;
  }
  if (t == p->uris.qt_exported) {
    const LV2_Atom *path = NULL;
    lv2_atom_object_get(o, p->uris.qt_path, &path, 0);
    d->exported[0] = '\0';
    get_str(p, path, d->exported, sizeof d->exported);
    return d->exported[0] ? QG_CHG_EXPORTED : 0;
  }
  if (t == p->uris.qt_frames)
    return on_frames(p, o, d);
  if (t == p->uris.qt_layerSqnr)
    return on_sqnr(p, o, d);
  if (t == p->uris.qt_histogram)
    return on_hist(p, o, d);
  if (t == p->uris.qt_prepare)
    return on_prepare(p, o, d);
  return 0;
}

/* ---- Forging --------------------------------------------------------------- */

static uint32_t finish(qg_proto *p, void *buf, LV2_Atom_Forge_Ref ok)
{
  (void)p;
  if (!ok)
    return 0;
  const LV2_Atom *a = buf;
  return (uint32_t)sizeof(LV2_Atom) + a->size;
}

uint32_t qg_proto_get(qg_proto *p, void *buf, uint32_t cap)
{
  LV2_Atom_Forge_Frame fr;
  lv2_atom_forge_set_buffer(&p->forge, buf, cap);
  LV2_Atom_Forge_Ref ok = lv2_atom_forge_object(&p->forge, &fr, 0, p->uris.patch_Get);
  if (ok)
    lv2_atom_forge_pop(&p->forge, &fr);
  return finish(p, buf, ok);
}

/** patch:Set of `key` to an atom:Path. */
static uint32_t set_path(qg_proto *p, void *buf, uint32_t cap, LV2_URID key, const char *path)
{
  LV2_Atom_Forge_Frame fr;
  lv2_atom_forge_set_buffer(&p->forge, buf, cap);
  LV2_Atom_Forge_Ref ok = lv2_atom_forge_object(&p->forge, &fr, 0, p->uris.patch_Set);
  ok = ok && lv2_atom_forge_key(&p->forge, p->uris.patch_property);
  ok = ok && lv2_atom_forge_urid(&p->forge, key);
  ok = ok && lv2_atom_forge_key(&p->forge, p->uris.patch_value);
  ok = ok && lv2_atom_forge_path(&p->forge, path, (uint32_t)strlen(path));
  if (ok)
    lv2_atom_forge_pop(&p->forge, &fr);
  return finish(p, buf, ok);
}

uint32_t qg_proto_set_model(qg_proto *p, void *buf, uint32_t cap, const char *path)
{
  return set_path(p, buf, cap, p->uris.qt_model, path);
}

uint32_t qg_proto_export_model(qg_proto *p, void *buf, uint32_t cap, const char *path)
{
  return set_path(p, buf, cap, p->uris.qt_exportModel, path);
}

/** patch:Set of `key` to a 32-bit atom (Int or Bool: the same body). */
static uint32_t set_int32(qg_proto *p, void *buf, uint32_t cap, LV2_URID key, LV2_URID type,
                          int32_t v)
{
  LV2_Atom_Forge_Frame fr;
  lv2_atom_forge_set_buffer(&p->forge, buf, cap);
  LV2_Atom_Forge_Ref ok = lv2_atom_forge_object(&p->forge, &fr, 0, p->uris.patch_Set);
  ok = ok && lv2_atom_forge_key(&p->forge, p->uris.patch_property);
  ok = ok && lv2_atom_forge_urid(&p->forge, key);
  ok = ok && lv2_atom_forge_key(&p->forge, p->uris.patch_value);
  ok = ok && lv2_atom_forge_atom(&p->forge, sizeof v, type);
  ok = ok && lv2_atom_forge_write(&p->forge, &v, sizeof v);
  if (ok)
    lv2_atom_forge_pop(&p->forge, &fr);
  return finish(p, buf, ok);
}

uint32_t qg_proto_set_hist_layer(qg_proto *p, void *buf, uint32_t cap, int layer)
{
  return set_int32(p, buf, cap, p->uris.qt_histogramLayer, p->uris.atom_Int, layer);
}

uint32_t qg_proto_model_step(qg_proto *p, void *buf, uint32_t cap, int step)
{
  return set_int32(p, buf, cap, p->uris.qt_modelStep, p->uris.atom_Int, step < 0 ? -1 : 1);
}

uint32_t qg_proto_model_ab(qg_proto *p, void *buf, uint32_t cap)
{
  return set_int32(p, buf, cap, p->uris.qt_modelAB, p->uris.atom_Bool, 1);
}

uint32_t qg_proto_alive(qg_proto *p, void *buf, uint32_t cap, bool alive)
{
  return set_int32(p, buf, cap, p->uris.qt_uiAlive, p->uris.atom_Bool, alive ? 1 : 0);
}

/** Paced by the redraw timer rather than a timer of its own so that one
    code path serves the in-process Gtk3 UI and the external helper alike:
    while the window's main loop runs, the plugin hears from it; when the
    process hangs or dies, the keep-alives stop and so does the stream.
    Measured on the clock, not counted in ticks, because a loaded main
    loop runs its timeouts late. */
uint32_t qg_proto_alive_tick(qg_proto *p, void *buf, uint32_t cap)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  double now = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
  if (p->alive_last_s >= 0 && now - p->alive_last_s < QUANTONE_UI_ALIVE_INTERVAL_S)
    return 0;
  uint32_t n = qg_proto_alive(p, buf, cap, true);
  if (n)
    p->alive_last_s = now;
  return n;
}
