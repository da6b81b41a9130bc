/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  quantone-render: render a WAV file through the real quantone.lv2 plugin
  (loaded with lilv, driven by the project's lilv host lv2host/host.c)
  for a list of settings, and report what each costs and saves.

  Why through the plugin and not the engine: the report is meant to be
  what a player hears in a host, so it includes everything the plugin
  does (resampling to the model rate, levels, variant preparation and
  calibration exactly as the worker does it), and it measures DSP time
  where the plugin measures it (its dsp_ratio output port).

  For every setting the file is rendered by a fresh instance (so no render
  starts with another's state), in blocks of --block frames. The error of a
  setting is its output against the FP32 reference render of the same input
  (always rendered first), ESR = sum((y - y_fp32)^2) / sum(y_fp32^2), in dB.
  DSP ratio is the mean of the plugin's dsp_ratio port (its smoothed time
  of the quantized path over the float reference's, both running in the
  same run() calls) over the blocks after the first 10 % of the file, so
  the meter's start-up smoothing does not count. Weight memory is the
  weight_bytes port of the active variant.

  Outputs in --out-dir: one 32-bit float WAV per setting, report.csv,
  report.json (a list of objects), report.png (ESR and weight memory per
  setting, drawn with cairo).
*/
#include "host.h"
#include "quantone_ports.h"
#include "setting_ports.h"

#include <cairo.h>
#include <lilv/lilv.h>
#include <sndfile.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- Settings ----------------------------------------------------------------- */

/** The file name of a setting's render: "fp32.wav", else the LIST form
    with '_' for ':' after "int" ("int4_kmeans_sym_channel_dynamic.wav"),
    and "_slimS" below the full size ("fp32_slim0.5.wav"). */
static void setting_file(const qm_setting *s, char *buf, size_t len)
{
  char str[96], *to = str;
  qm_setting_format(s, str, sizeof str);
  for (const char *c = str; *c; ++c)
    if (*c != '=')
      *to++ = *c == ':' ? '_' : *c;
  *to = '\0';
  if (s->bits == QM_BITS_FP32)
    snprintf(buf, len, "fp32%s.wav", str + 2); /* after "32" */
  else if (s->bits == QM_BITS_HALF)
    snprintf(buf, len, "%s.wav", str); /* "fp16", "bf16_slim0.5" */
  else
    snprintf(buf, len, "int%s.wav", str);
}

static int add_setting(qm_setting **list, int *n, const qm_setting *s)
{
  for (int i = 0; i < *n; ++i)
    if (qm_setting_eq(&(*list)[i], s))
      return 0; /* duplicates render once */
  qm_setting *p = realloc(*list, sizeof **list * (size_t)(*n + 1));
  if (!p)
    return -1;
  *list = p;
  p[(*n)++] = *s;
  return 0;
}

/** "all": FP32, FP16, BF16 and every scheme of every bit width (1 + 2 + 3*3*2*3*3 = 165);
    "bits": FP32, 8, 4, 2 with the default scheme; else a LIST. */
static bool parse_settings(const char *spec, qm_setting **list, int *n, char *err, size_t errlen)
{
  *list = NULL;
  *n = 0;
  if (!strcmp(spec, "all")) {
    qm_setting all[QM_SETTING_ALL_COUNT];
    const int n_all = qm_setting_all(all, QM_SETTING_ALL_COUNT);
    for (int i = 0; i < n_all; ++i)
      if (add_setting(list, n, &all[i]))
        return false;
    return true;
  }
  if (!strcmp(spec, "bits"))
    spec = "32,8,4,2";
  char *copy = strdup(spec);
  if (!copy)
    return false;
  char *save = NULL;
  for (char *e = strtok_r(copy, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
    qm_setting s;
    if (!qm_setting_parse(e, &s, err, errlen) || add_setting(list, n, &s)) {
      free(copy);
      return false;
    }
    /** The plugin's rounding control has two values, so a LIST entry
        with rounding words must be one of them: nearest, or what
        Optimized plays (qm_setting_set_optimized: gptq:bc today).
        Anything else would render another rounding under its name;
        quantone-run applies every combination. */
    if ((s.rounding != QZ_ROUND_NEAREST || s.bias_correction || s.equalize) &&
        !qm_setting_is_optimized(&s)) {
      qm_setting opt = s;
      qm_setting_set_optimized(&opt, true);
      char want[96];
      qm_setting_format(&opt, want, sizeof want);
      snprintf(
          err, errlen,
          "'%s': the plugin's rounding control plays nearest or Optimized ('%s' here); "
          "use quantone-run --rounding, --bias-correction and --equalize for other combinations",
          e, want);
      free(copy);
      return false;
    }
  }
  free(copy);
  if (*n == 0) {
    snprintf(err, errlen, "no settings in '%s'", spec);
    return false;
  }
  return true;
}

/* ---- Results ----------------------------------------------------------------------- */

typedef struct {
  qm_setting set;
  char name[64];    /**< LIST form */
  char file[128];   /**< relative to out-dir, "" when refused */
  char error[1100]; /**< why the plugin refused the setting, "" when fine */
  double esr_db;    /**< vs the FP32 render; -inf for FP32 itself */
  double dsp_ratio;
  double weight_bytes;
  double seconds; /**< wall time of the render */
  /** The worker's CPU seconds preparing the variant (its qt:prepare),
      NAN when it reported none (no calibration work). */
  double prepare_cpu_s;
  double peak, rms;
} rs_result;

/* ---- Progress ------------------------------------------------------------------------ */

typedef struct {
  bool tty;
  double t_last;
  size_t total, done;
  int index, count;
  const char *label;
} rs_progress;

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void progress_show(rs_progress *p, size_t pos, size_t n, bool force)
{
  if (!p->tty)
    return;
  double t = now_s();
  if (!force && t - p->t_last < 0.2)
    return;
  p->t_last = t;
  double all = p->total ? 100.0 * (double)(p->done + pos) / (double)p->total : 100.0;
  fprintf(stderr, "\r[%3d/%d] %-30.30s %5.1f%%  (all: %5.1f%%)", p->index, p->count, p->label,
          n ? 100.0 * (double)pos / (double)n : 100.0, all);
  fflush(stderr);
}

/* ---- Rendering ------------------------------------------------------------------------- */

typedef struct {
  const LilvPlugin *plugin;
  double rate;
  const char *model; /**< NULL: the bundle's default model */
  int block;
  float output_mode; /**< the output_mode port (Raw unless --output-mode) */
  float input_dbu;   /**< the input_dbu port; NAN: no input calibration */
} rs_ctx;

/** The output_mode value whose scale point label is `name` (any case:
    raw, normalized, calibrated), from the port table; -1 for none. */
static int output_mode_from_name(const char *name)
{
  const qt_port_info *p = qt_port_info_get(QT_PORT_OUTPUT_MODE);
  for (int i = 0; i < p->n_points; ++i)
    if (!strcasecmp(name, p->points[i].label))
      return (int)p->points[i].value;
  return -1;
}

/** The plugin's control input named "slim" (the size a slimmable model
    plays at), or -1 when this build has none. */
static int slim_port(void)
{
  for (int p = 0; p < QT_PORT_COUNT; ++p)
    if (qt_port_info_get(p)->kind == QT_KIND_CONTROL_IN &&
        !strcmp(qt_port_info_get(p)->symbol, "slim"))
      return p;
  return -1;
}

/** Render x[n] through a fresh instance with setting s into y. */
static bool render_one(const rs_ctx *c, const qm_setting *s, const float *x, float *y, size_t n,
                       rs_result *res, rs_progress *pg)
{
  qhost *h = qh_new(c->plugin, c->rate);
  if (!h) {
    snprintf(res->error, sizeof res->error, "cannot instantiate the plugin");
    return false;
  }
  if (c->model) {
    qh_set_model(h, c->model);
    qh_settle(h);
    if (h->n_errors > 0) {
      snprintf(res->error, sizeof res->error, "model not loaded: %s", h->last_error);
      qh_free(h);
      return false;
    }
  }
  int errors0 = h->n_errors;
  /** Every control at the port table's default (levels, enabled), then
      the setting; the monitor on the quantized path whatever its
      default, since that is what the report measures. */
  for (int p = 0; p < QT_PORT_COUNT; ++p)
    if (qt_port_info_get(p)->kind == QT_KIND_CONTROL_IN)
      h->ctl[p] = qt_port_info_get(p)->def;
  qt_setting_to_controls(s, h->ctl);
  h->ctl[QT_PORT_MONITOR] = (float)QT_MONITOR_QUANTIZED;
  /** Raw unless asked: the report measures the model, and the gain of a
      mode is the same for every setting of a file (ESR does not move). */
  h->ctl[QT_PORT_OUTPUT_MODE] = c->output_mode;
  if (!isnan(c->input_dbu)) {
    h->ctl[QT_PORT_CALIBRATE] = 1;
    h->ctl[QT_PORT_INPUT_DBU] = c->input_dbu;
  }
  const int slim = slim_port();
  if (slim >= 0) {
    h->ctl[slim] = (float)s->slim;
  } else if (s->slim < 1.0) {
    snprintf(res->error, sizeof res->error,
             "this plugin has no slim control: it plays the full size only");
    qh_free(h);
    return false;
  }
  /** run(0) a few times: the control change becomes a worker job, its
      answer is installed before any audio (nothing played: no fade). */
  qh_settle(h);
  if (h->n_errors > errors0) {
    snprintf(res->error, sizeof res->error, "%s", h->last_error);
    qh_free(h);
    return false;
  }
  res->prepare_cpu_s = h->n_prep_ready ? h->prep_cpu_s : NAN;
  double t0 = now_s();
  double ratio_sum = 0;
  long ratio_n = 0;
  size_t skip = n / 10;
  for (size_t pos = 0; pos < n;) {
    uint32_t k = (uint32_t)(n - pos < (size_t)c->block ? n - pos : (size_t)c->block);
    qh_run(h, x + pos, y + pos, k);
    pos += k;
    if (pos > skip) {
      ratio_sum += h->ctl[QT_PORT_DSP_RATIO];
      ++ratio_n;
    }
    progress_show(pg, pos, n, false);
  }
  res->seconds = now_s() - t0;
  res->dsp_ratio = ratio_n ? ratio_sum / (double)ratio_n : h->ctl[QT_PORT_DSP_RATIO];
  res->weight_bytes = h->ctl[QT_PORT_WEIGHT_BYTES];
  if (h->n_errors > errors0) { /* refused while playing (should not happen) */
    snprintf(res->error, sizeof res->error, "%s", h->last_error);
    qh_free(h);
    return false;
  }
  qh_free(h);
  return true;
}

/* ---- Files ------------------------------------------------------------------------------- */

static float *read_wav(const char *path, size_t *n, double *rate)
{
  SF_INFO info;
  memset(&info, 0, sizeof info);
  SNDFILE *f = sf_open(path, SFM_READ, &info);
  if (!f) {
    fprintf(stderr, "quantone-render: %s: %s\n", path, sf_strerror(NULL));
    return NULL;
  }
  if (info.frames <= 0 || info.channels <= 0) {
    fprintf(stderr, "quantone-render: %s: no audio\n", path);
    sf_close(f);
    return NULL;
  }
  size_t frames = (size_t)info.frames, ch = (size_t)info.channels;
  float *inter = malloc(sizeof(float) * frames * ch);
  float *x = malloc(sizeof(float) * frames);
  if (!inter || !x) {
    free(inter);
    free(x);
    sf_close(f);
    return NULL;
  }
  sf_count_t got = sf_readf_float(f, inter, info.frames);
  sf_close(f);
  if (got <= 0) {
    free(inter);
    free(x);
    return NULL;
  }
  frames = (size_t)got;
  /** The plugin is mono: several channels are mixed down (mean). */
  if (ch > 1)
    fprintf(stderr, "quantone-render: %s has %zu channels; rendering their mean\n", path, ch);
  for (size_t i = 0; i < frames; ++i) {
    double s = 0;
    for (size_t c = 0; c < ch; ++c)
      s += inter[i * ch + c];
    x[i] = (float)(s / (double)ch);
  }
  free(inter);
  *n = frames;
  *rate = info.samplerate;
  return x;
}

static bool write_wav(const char *path, const float *y, size_t n, double rate)
{
  SF_INFO info;
  memset(&info, 0, sizeof info);
  info.samplerate = (int)rate;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
  SNDFILE *f = sf_open(path, SFM_WRITE, &info);
  if (!f) {
    fprintf(stderr, "quantone-render: %s: %s\n", path, sf_strerror(NULL));
    return false;
  }
  bool ok = sf_writef_float(f, y, (sf_count_t)n) == (sf_count_t)n;
  sf_close(f);
  return ok;
}

static void json_string(FILE *f, const char *s)
{
  fputc('"', f);
  for (; *s; ++s) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c < 0x20)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
  fputc('"', f);
}

/** JSON has no infinities: the FP32 row's ESR (no error at all) is null. */
static void json_number(FILE *f, double v, const char *fmt)
{
  if (isfinite(v))
    fprintf(f, fmt, v);
  else
    fputs("null", f);
}

static bool write_reports(const char *dir, const rs_result *r, int n)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/report.csv", dir);
  FILE *f = fopen(path, "w");
  if (!f)
    return false;
  fprintf(f, "setting,precision,mapping,asymmetric,granularity,activations,slim,esr_db,"
             "dsp_ratio,weight_bytes,seconds,file,error\n");
  for (int i = 0; i < n; ++i) {
    const qm_setting *s = &r[i].set;
    /* the scheme fields do not apply to FP32 and the 16-bit forms: left empty */
    if (s->bits == QM_BITS_FP32 || s->bits == QM_BITS_HALF)
      fprintf(f, "%s,%d,,,,,%g,", r[i].name, s->bits, s->slim);
    else
      fprintf(f, "%s,%d,%s,%d,%s,%s,%g,", r[i].name, s->bits, qz_mapping_name(s->mapping),
              s->asymmetric, qz_granularity_name(s->granularity), qm_actq_name(s->activations),
              s->slim);
    if (r[i].error[0]) {
      fprintf(f, ",,,,,\"");
      for (const char *c = r[i].error; *c; ++c) { /* CSV quoting: "" inside "..." */
        if (*c == '"')
          fputc('"', f);
        fputc(*c, f);
      }
      fprintf(f, "\"\n");
      continue;
    }
    if (isfinite(r[i].esr_db))
      fprintf(f, "%.4f,", r[i].esr_db);
    else
      fprintf(f, "-inf,");
    fprintf(f, "%.4f,%.0f,%.3f,%s,\n", r[i].dsp_ratio, r[i].weight_bytes, r[i].seconds, r[i].file);
  }
  fclose(f);

  snprintf(path, sizeof path, "%s/report.json", dir);
  f = fopen(path, "w");
  if (!f)
    return false;
  fprintf(f, "[\n");
  for (int i = 0; i < n; ++i) {
    const qm_setting *s = &r[i].set;
    fprintf(f, "  {\"setting\": ");
    json_string(f, r[i].name);
    /* the scheme fields do not apply to the FP32 reference and the 16-bit
       forms (the setting's name says which: "fp16", "bf16"): null */
    if (s->bits == QM_BITS_FP32 || s->bits == QM_BITS_HALF)
      fprintf(f,
              ", \"precision\": %d, \"mapping\": null, \"asymmetric\": null, "
              "\"granularity\": null, \"activations\": null, ",
              s->bits);
    else
      fprintf(f,
              ", \"precision\": %d, \"mapping\": \"%s\", \"asymmetric\": %s, "
              "\"granularity\": \"%s\", \"activations\": \"%s\", ",
              s->bits, qz_mapping_name(s->mapping), s->asymmetric ? "true" : "false",
              qz_granularity_name(s->granularity), qm_actq_name(s->activations));
    fprintf(f, "\"slim\": ");
    json_number(f, s->slim, "%.15g");
    fprintf(f, ", \"esr_db\": ");
    json_number(f, r[i].error[0] ? NAN : r[i].esr_db, "%.4f");
    fprintf(f, ", \"dsp_ratio\": ");
    json_number(f, r[i].error[0] ? NAN : r[i].dsp_ratio, "%.4f");
    fprintf(f, ", \"weight_bytes\": ");
    json_number(f, r[i].error[0] ? NAN : r[i].weight_bytes, "%.0f");
    fprintf(f, ", \"seconds\": ");
    json_number(f, r[i].error[0] ? NAN : r[i].seconds, "%.3f");
    fprintf(f, ", \"prepare_cpu_s\": ");
    json_number(f, r[i].error[0] ? NAN : r[i].prepare_cpu_s, "%.3f");
    fprintf(f, ", \"file\": ");
    if (r[i].file[0])
      json_string(f, r[i].file);
    else
      fputs("null", f);
    if (r[i].error[0]) {
      fprintf(f, ", \"error\": ");
      json_string(f, r[i].error);
    }
    fprintf(f, "}%s\n", i + 1 < n ? "," : "");
  }
  fprintf(f, "]\n");
  return fclose(f) == 0;
}

/* ---- Plot ----------------------------------------------------------------------------------- */

static double nice_step(double range, int ticks)
{
  double raw = range / ticks, mag = pow(10, floor(log10(raw)));
  double f = raw / mag;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

/** Two panels sharing the x axis (one bar per setting): ESR in dB against
    the FP32 render (bars hang down from 0 dB: longer is better), and
    weight memory in KiB. Refused settings show an empty slot marked x. */
static bool write_plot(const char *dir, const rs_result *r, int n, const char *title)
{
  const double left = 80, right = 30, top = 50, panel = 240, gap = 40;
  /* a few settings get wide bars with their values printed; many get 14 px */
  const double bw = n > 40 ? 14 : fmin(90, fmax(14, (640 - left - right) / n));
  double label_h = 0;
  for (int i = 0; i < n; ++i)
    label_h = fmax(label_h, 6.2 * (double)strlen(r[i].name));
  label_h = label_h * 0.87 + 20;
  /* slanted names reach right of their bar by about half their length */
  const int W = (int)fmax(640, left + right + bw * n + 0.5 * label_h),
            H = (int)(top + 2 * panel + gap + label_h);
  cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
  cairo_t *cr = cairo_create(sf);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);

  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_font_size(cr, 14);
  cairo_move_to(cr, left, 22);
  cairo_show_text(cr, title);

  double emin = 0, emax = 0, wmax = 0;
  for (int i = 0; i < n; ++i) {
    if (r[i].error[0])
      continue;
    if (isfinite(r[i].esr_db)) {
      emin = fmin(emin, r[i].esr_db);
      emax = fmax(emax, r[i].esr_db); /* above 0 dB: the error is louder than the signal */
    }
    wmax = fmax(wmax, r[i].weight_bytes / 1024.0);
  }
  double estep = nice_step(fmax(emax - emin, 1), 5);
  emin = -estep * ceil(-emin / estep);
  if (emin > -estep)
    emin = -estep;
  emax = estep * ceil(emax / estep);
  double wstep = nice_step(fmax(wmax, 1), 5);
  wmax = wstep * ceil(wmax / wstep);
  if (wmax < wstep)
    wmax = wstep;

  const double x0 = left, x1 = left + bw * n;
  for (int p = 0; p < 2; ++p) {
    double py = top + p * (panel + gap), ph = panel;
    cairo_set_font_size(cr, 11);
    cairo_set_line_width(cr, 1);
    /* grid and axis labels */
    double lo = p == 0 ? emin : 0, hi = p == 0 ? emax : wmax, step = p == 0 ? estep : wstep;
    for (double v = lo; v <= hi + 1e-9; v += step) {
      double y = py + ph * (hi - v) / (hi - lo);
      cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
      cairo_move_to(cr, x0, y + 0.5);
      cairo_line_to(cr, x1, y + 0.5);
      cairo_stroke(cr);
      char lab[32];
      snprintf(lab, sizeof lab, "%g", v);
      cairo_text_extents_t te;
      cairo_text_extents(cr, lab, &te);
      cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
      cairo_move_to(cr, x0 - 6 - te.x_advance, y + 4);
      cairo_show_text(cr, lab);
    }
    cairo_save(cr);
    cairo_move_to(cr, 18, py + ph / 2 + 50);
    cairo_rotate(cr, -M_PI / 2);
    cairo_show_text(cr, p == 0 ? "ESR vs FP32 (dB)" : "weight memory (KiB)");
    cairo_restore(cr);
    for (int i = 0; i < n; ++i) {
      double bx = x0 + i * bw + 2, w = bw - 4;
      if (r[i].error[0]) {
        cairo_set_source_rgb(cr, 0.8, 0.1, 0.1);
        cairo_move_to(cr, bx, py + ph - w);
        cairo_line_to(cr, bx + w, py + ph);
        cairo_move_to(cr, bx + w, py + ph - w);
        cairo_line_to(cr, bx, py + ph);
        cairo_stroke(cr);
        continue;
      }
      double v = p == 0 ? r[i].esr_db : r[i].weight_bytes / 1024.0;
      if (!isfinite(v))
        continue; /* FP32's ESR: no error, no bar */
      double ya = py + ph * (hi - 0) / (hi - lo), yb = py + ph * (hi - v) / (hi - lo);
      int b = r[i].set.bits;
      /* one colour per bit width */
      double cr_ = b == 32 ? 0.3 : b == 8 ? 0.15 : b == 4 ? 0.95 : 0.85;
      double cg = b == 32 ? 0.3 : b == 8 ? 0.45 : b == 4 ? 0.6 : 0.2;
      double cb = b == 32 ? 0.3 : b == 8 ? 0.8 : b == 4 ? 0.1 : 0.2;
      cairo_set_source_rgb(cr, cr_, cg, cb);
      cairo_rectangle(cr, bx, fmin(ya, yb), w, fabs(yb - ya));
      cairo_fill(cr);
      if (bw >= 30) { /* the value at the bar's end */
        char lab[32];
        snprintf(lab, sizeof lab, "%.1f", v);
        cairo_text_extents_t te;
        cairo_set_font_size(cr, 10);
        cairo_text_extents(cr, lab, &te);
        double ty = yb < ya ? yb - 3 : yb + 12;
        bool inside = ty > py + ph - 2 || ty < py + 10; /* no room outside the bar */
        if (inside)
          ty = yb < ya ? yb + 12 : yb - 3;
        cairo_set_source_rgb(cr, inside, inside, inside);
        cairo_move_to(cr, bx + (w - te.x_advance) / 2, ty);
        cairo_show_text(cr, lab);
      }
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, x0 + 0.5, py + 0.5, x1 - x0, ph);
    cairo_stroke(cr);
  }
  /* setting names under the lower panel, slanted */
  cairo_set_font_size(cr, 10);
  double ly = top + 2 * panel + gap + 8;
  for (int i = 0; i < n; ++i) {
    cairo_save(cr);
    cairo_move_to(cr, x0 + i * bw + bw / 2 - 3, ly);
    cairo_rotate(cr, M_PI / 3);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_show_text(cr, r[i].name);
    cairo_restore(cr);
  }
  cairo_destroy(cr);
  char path[4096];
  snprintf(path, sizeof path, "%s/report.png", dir);
  bool ok = cairo_surface_write_to_png(sf, path) == CAIRO_STATUS_SUCCESS;
  cairo_surface_destroy(sf);
  return ok;
}

/* ---- main ------------------------------------------------------------------------------------ */

static void usage(FILE *f)
{
  fprintf(
      f,
      "Usage: quantone-render --in IN.wav --out-dir DIR [--model FILE] [--settings all|bits|LIST]\n"
      "                       [--block N] [--bundle DIR] [--input-dbu DBU] [--output-mode M]\n"
      "\n"
      "Render IN.wav through the Quantone LV2 plugin (found in LV2_PATH, or the bundle\n"
      "directory given with --bundle) once per setting, and write to DIR:\n"
      "  one 32-bit float WAV per setting (fp32.wav, int4_kmeans_sym_channel_dynamic.wav ...),\n"
      "  report.csv, report.json (a list of objects: setting, precision, mapping, asymmetric,\n"
      "  granularity, activations, slim, esr_db, dsp_ratio, weight_bytes, seconds,\n"
      "  prepare_cpu_s (the worker's CPU time for a variant with calibration work), file\n"
      "  [, error])\n"
      "  and report.png (ESR and weight memory per setting).\n"
      "\n"
      "  --model FILE   model (.nam or keras .json) instead of the bundle's default\n"
      "  --settings     'bits' (default): FP32, 8, 4 and 2 bits with the default scheme;\n"
      "                 'all': FP32, fp16, bf16 and every scheme of every bit width\n"
      "                 (165 settings);\n"
      "                 LIST: comma-separated settings, each\n"
      "                   PRECISION[:MAPPING][:SYM][:GRANULARITY][:ACTIVATIONS][:slim=S]\n"
      "                   [:gptq:bc]\n"
      "                 PRECISION 32 (or fp32), 16 (or fp16: FP16 weights, float\n"
      "                 activations), bf16 (BF16 compute), 8, 4, 2; then in any order\n"
      "                   MAPPING linear|pow2|kmeans            (default linear)\n"
      "                   SYM sym|asym                          (default sym)\n"
      "                   GRANULARITY tensor|channel|group      (default channel)\n"
      "                   ACTIVATIONS float|dynamic|static      (default dynamic)\n"
      "                   slim=S  a slimmable model's size, 0..1 (default 1, the full size)\n"
      "                   gptq:bc the plugin's Rounding at Optimized (gptq rounding and\n"
      "                           bias correction on its calibration clip; default nearest)\n"
      "                 e.g. \"32,8:linear:sym:channel:float,4:kmeans,2:pow2:tensor,4:gptq:bc\"\n"
      "  --block N      frames per run() call, 1..%d (default 256)\n"
      "  --bundle DIR   load quantone.lv2 from DIR instead of searching LV2_PATH\n"
      "  --input-dbu DBU  calibrate the input: the plugin's calibrate_input on, input_dbu\n"
      "                 DBU (the interface's dBu at 0 dBFS; NAM's plugin assumes 12)\n"
      "  --output-mode M  raw (default here: the model's own level), normalized (to\n"
      "                 -18 dB loudness, the plugin's default) or calibrated\n"
      "\n"
      "esr_db is 10*log10(sum((y - y_fp32)^2) / sum(y_fp32^2)) against the full-size FP32\n"
      "render of the same input (always rendered; null for it), so a smaller size's error\n"
      "and the quantization's sit on one scale; dsp_ratio is the plugin's\n"
      "dsp_ratio port (quantized path time / FP32 path time, averaged over the render);\n"
      "weight_bytes is its weight_bytes port (weight memory of the active variant).\n",
      QH_MAX_BLOCK);
}

static int make_dir(const char *d)
{
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", d);
  for (char *p = buf + 1; *p; ++p)
    if (*p == '/') {
      *p = 0;
      if (mkdir(buf, 0777) && errno != EEXIST)
        return -1;
      *p = '/';
    }
  return mkdir(buf, 0777) && errno != EEXIST ? -1 : 0;
}

int main(int argc, char **argv)
{
  const char *in = NULL, *out_dir = NULL, *model = NULL, *spec = "bits", *bundle = NULL;
  int block = 256, output_mode = QT_OUTPUT_RAW;
  float input_dbu = NAN;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    }
#define OPT(name, var)                                                                             \
  if (!strcmp(a, name)) {                                                                          \
    if (!v) {                                                                                      \
      fprintf(stderr, "quantone-render: %s needs a value\n", name);                                \
      return 2;                                                                                    \
    }                                                                                              \
    var = v;                                                                                       \
    ++i;                                                                                           \
    continue;                                                                                      \
  }
    OPT("--in", in)
    OPT("--out-dir", out_dir)
    OPT("--model", model)
    OPT("--settings", spec)
    OPT("--bundle", bundle)
#undef OPT
    if (!strcmp(a, "--output-mode") && v) {
      if ((output_mode = output_mode_from_name(v)) < 0) {
        fprintf(stderr, "quantone-render: --output-mode must be raw, normalized or calibrated\n");
        return 2;
      }
      ++i;
      continue;
    }
    if (!strcmp(a, "--input-dbu") && v) {
      char *end;
      input_dbu = strtof(v, &end);
      const qt_port_info *p = qt_port_info_get(QT_PORT_INPUT_DBU);
      if (*end || end == v || !(input_dbu >= p->min && input_dbu <= p->max)) {
        fprintf(stderr, "quantone-render: --input-dbu must be %g..%g dBu\n", p->min, p->max);
        return 2;
      }
      ++i;
      continue;
    }
    if (!strcmp(a, "--block") && v) {
      char *end;
      long b = strtol(v, &end, 10);
      if (*end || b < 1 || b > QH_MAX_BLOCK) {
        fprintf(stderr, "quantone-render: --block must be 1..%d\n", QH_MAX_BLOCK);
        return 2;
      }
      block = (int)b;
      ++i;
      continue;
    }
    fprintf(stderr, "quantone-render: unknown argument '%s' (see --help)\n", a);
    return 2;
  }
  if (!in || !out_dir) {
    usage(stderr);
    return 2;
  }
  qm_setting *sets;
  int n_sets;
  char err[1024] = "";
  if (!parse_settings(spec, &sets, &n_sets, err, sizeof err)) {
    fprintf(stderr, "quantone-render: --settings: %s\n", err[0] ? err : "out of memory");
    return 2;
  }
  size_t n;
  double rate;
  float *x = read_wav(in, &n, &rate);
  if (!x)
    return 1;
  if (make_dir(out_dir)) {
    fprintf(stderr, "quantone-render: cannot create %s: %s\n", out_dir, strerror(errno));
    return 1;
  }
  char *model_abs = model ? realpath(model, NULL) : NULL;
  if (model && !model_abs) {
    fprintf(stderr, "quantone-render: %s: %s\n", model, strerror(errno));
    return 1;
  }

  LilvWorld *world = lilv_world_new();
  qh_world_init(world);
  if (bundle) {
    char *abs = realpath(bundle, NULL);
    if (!abs) {
      fprintf(stderr, "quantone-render: %s: %s\n", bundle, strerror(errno));
      return 1;
    }
    char uri[4200];
    snprintf(uri, sizeof uri, "file://%s/", abs);
    free(abs);
    LilvNode *b = lilv_new_uri(world, uri);
    lilv_world_load_bundle(world, b);
    lilv_node_free(b);
  } else {
    lilv_world_load_all(world);
  }
  LilvNode *puri = lilv_new_uri(world, QUANTONE_URI);
  const LilvPlugin *plugin = lilv_plugins_get_by_uri(lilv_world_get_all_plugins(world), puri);
  lilv_node_free(puri);
  if (!plugin) {
    fprintf(stderr, "quantone-render: %s not found (%s)\n", QUANTONE_URI,
            bundle ? "in --bundle"
                   : "set LV2_PATH to the directory holding quantone.lv2, "
                     "or use --bundle");
    lilv_world_free(world);
    return 1;
  }

  /** FP32 first: every other setting's error is measured against it. */
  qm_setting fp;
  qm_setting_default(&fp);
  qm_setting_normalise(&fp);
  bool fp_listed = false;
  for (int i = 0; i < n_sets; ++i)
    fp_listed |= qm_setting_eq(&sets[i], &fp);
  int n_jobs = n_sets + (fp_listed ? 0 : 1);
  qm_setting *jobs = malloc(sizeof *jobs * (size_t)n_jobs);
  rs_result *res = calloc((size_t)n_jobs, sizeof *res);
  float *ref = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
  if (!jobs || !res || !ref || !y) {
    fprintf(stderr, "quantone-render: out of memory\n");
    return 1;
  }
  jobs[0] = fp;
  for (int i = 0, k = 1; i < n_sets; ++i)
    if (!qm_setting_eq(&sets[i], &fp))
      jobs[k++] = sets[i];

  rs_ctx ctx = {plugin, rate, model_abs, block, (float)output_mode, input_dbu};
  rs_progress pg = {isatty(2), 0, (size_t)n_jobs * n, 0, 0, n_jobs, ""};
  fprintf(stderr, "quantone-render: %s (%.2f s at %.0f Hz) -> %s, %d setting%s, block %d\n", in,
          (double)n / rate, rate, out_dir, n_jobs, n_jobs == 1 ? "" : "s", block);
  double ref_energy = 0;
  int failed = 0, n_res = 0;
  double t_all = now_s();
  for (int j = 0; j < n_jobs; ++j) {
    rs_result *r = &res[n_res];
    r->set = jobs[j];
    qm_setting_format(&jobs[j], r->name, sizeof r->name);
    pg.index = j + 1;
    pg.label = r->name;
    float *dst = j == 0 ? ref : y;
    bool ok = render_one(&ctx, &jobs[j], x, dst, n, r, &pg);
    pg.done += n;
    if (!ok) {
      if (pg.tty)
        fprintf(stderr, "\r\033[K");
      fprintf(stderr, "[%3d/%d] %s: refused: %s\n", j + 1, n_jobs, r->name, r->error);
      if (j == 0) {
        fprintf(stderr, "quantone-render: the FP32 reference render failed\n");
        return 1;
      }
      ++failed;
      ++n_res;
      continue;
    }
    double num = 0, den = 0, pk = 0, e = 0;
    for (size_t i = 0; i < n; ++i) {
      double d = (double)dst[i] - ref[i];
      num += d * d;
      den += (double)ref[i] * ref[i];
      e += (double)dst[i] * dst[i];
      pk = fmax(pk, fabs(dst[i]));
    }
    if (j == 0)
      ref_energy = den;
    r->esr_db = j == 0 ? -INFINITY : 10.0 * log10(fmax(num, 1e-300) / fmax(ref_energy, 1e-300));
    r->peak = pk;
    r->rms = sqrt(e / (double)n);
    bool keep = j > 0 || fp_listed;
    if (keep) {
      setting_file(&jobs[j], r->file, sizeof r->file);
      char path[4400];
      snprintf(path, sizeof path, "%s/%s", out_dir, r->file);
      if (!write_wav(path, dst, n, rate))
        return 1;
      ++n_res;
    }
    if (pg.tty)
      fprintf(stderr, "\r\033[K");
    fprintf(stderr, "[%3d/%d] %-30s %6.1fx realtime\n", j + 1, n_jobs, r->name,
            (double)n / rate / fmax(r->seconds, 1e-9));
  }
  /** An unlisted reference was only for measuring: its result slot was
      not counted (n_res) and the next setting's took it over, so there
      is nothing to remove here (a memmove here dropped that setting). */

  char title[512];
  snprintf(title, sizeof title, "Quantone: %s, model %s", in, model ? model : "bundle default");
  if (!write_reports(out_dir, res, n_res) || !write_plot(out_dir, res, n_res, title)) {
    fprintf(stderr, "quantone-render: cannot write the report in %s\n", out_dir);
    return 1;
  }

  printf("%-30s %9s %9s %12s  %s\n", "setting", "ESR dB", "DSP x", "weights KiB", "file");
  for (int i = 0; i < n_res; ++i) {
    const rs_result *r = &res[i];
    if (r->error[0]) {
      printf("%-30s %9s %9s %12s  refused: %s\n", r->name, "-", "-", "-", r->error);
      continue;
    }
    char esr[32];
    if (isfinite(r->esr_db))
      snprintf(esr, sizeof esr, "%.1f", r->esr_db);
    else
      snprintf(esr, sizeof esr, "ref");
    printf("%-30s %9s %9.2f %12.1f  %s\n", r->name, esr, r->dsp_ratio, r->weight_bytes / 1024.0,
           r->file);
  }
  printf("report: %s/report.json, report.csv, report.png (%.1f s)\n", out_dir, now_s() - t_all);

  free(model_abs);
  free(sets);
  free(jobs);
  free(res);
  free(ref);
  free(y);
  free(x);
  lilv_world_free(world);
  return failed == n_res && n_res > 0 ? 1 : 0;
}
