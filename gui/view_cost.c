/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Cost panel: what the chosen precision buys. DSP time relative to the
  FP32 reference (a marker at 1x, so "faster" is left of it) and weight
  memory against the float model of the same size, with the saving
  spelled out: at a smaller size of a slimmable model the saving is the
  quantization's alone, and the full size's float bytes are said apart
  (slimming and quantizing are two choices; one percentage hid which
  saved what). The DSP time cannot be split the same way (the plugin's
  reference path runs the full model, and a float model of each size
  beside it would cost a third model's time in run()), so at a smaller
  size its label says it is against the full-size FP32.
  Until the plugin's modelInfo gives the byte counts the panel says it is
  waiting: the weight_bytes port alone would read "0% saved".
*/
#include "views.h"

#include <math.h>
#include <stdio.h>

static void bar_row(cairo_t *cr, double x, double y, double w, double frac, qg_rgb c, double mark)
{
  qg_rounded_rect(cr, x, y, w, 12, 3);
  qg_set_rgb(cr, QG_COL_GRID);
  cairo_fill(cr);
  frac = fmax(0.0, fmin(1.0, frac));
  if (frac > 0) {
    qg_rounded_rect(cr, x, y, fmax(w * frac, 6), 12, 3);
    qg_set_rgb(cr, c);
    cairo_fill(cr);
  }
  if (mark >= 0) {
    qg_set_rgb(cr, QG_COL_TEXT);
    cairo_rectangle(cr, x + w * mark - 1, y - 3, 2, 18);
    cairo_fill(cr);
  }
}

/** A smaller size of a slimmable model plays: modelInfo's full-size float
    bytes exceed those of the size that plays. */
static bool smaller_size(const qg_cost_view *v)
{
  return v->weight_bytes_fp32 > 0 && v->weight_bytes_full_fp32 > v->weight_bytes_fp32;
}

double qg_cost_memory_text(const qg_cost_view *v, char *line, size_t line_cap, char *against,
                           size_t against_cap)
{
  if (!v->valid) {
    snprintf(line, line_cap, "—");
    snprintf(against, against_cap, "waiting for the plugin");
    return 0.0;
  }
  char a[32], b[32];
  double fp = v->weight_bytes_fp32 > 0 ? v->weight_bytes_fp32 : v->weight_bytes;
  double frac = fp > 0 ? v->weight_bytes / fp : 1.0;
  qg_format_bytes(v->weight_bytes, a, sizeof a);
  qg_format_bytes(fp, b, sizeof b);
  /** As short as it was: beside "Weight memory" a 340-pixel panel has
      room for no more; what B is says the line under the bar. */
  snprintf(line, line_cap, "%s of %s  (%.0f%% saved)", a, b, fmax(0.0, (1.0 - frac) * 100));
  if (smaller_size(v)) {
    qg_format_bytes(v->weight_bytes_full_fp32, b, sizeof b);
    snprintf(against, against_cap, "vs FP32 of this size  ·  full size %s FP32", b);
  } else {
    snprintf(against, against_cap, "vs the FP32 model");
  }
  return frac;
}

double qg_cost_dsp_text(const qg_cost_view *v, char *line, size_t line_cap)
{
  double ratio = v->dsp_ratio > 0 && isfinite(v->dsp_ratio) ? v->dsp_ratio : 1.0;
  if (!v->valid) {
    snprintf(line, line_cap, "—");
    return ratio;
  }
  const char *ref = smaller_size(v) ? "full-size FP32" : "FP32";
  if (fabs(ratio - 1.0) < 0.005)
    snprintf(line, line_cap, "1.00x %s", ref);
  else
    snprintf(line, line_cap, "%.2fx %s  (%s%.0f%%)", ratio, ref, ratio < 1 ? "-" : "+",
             fabs(ratio - 1.0) * 100);
  return ratio;
}

void qg_view_cost(cairo_t *cr, double w, double h, const qg_cost_view *v)
{
  qg_panel(cr, w, h, "WHAT IT COSTS");
  double x = 12, bw = w - 24;
  char s[128];
  double y = 44;
  if (!v->valid) {
    qg_rect r = {0, 0, w, h};
    qg_no_data(cr, r, "waiting for the plugin");
    return;
  }
  /* DSP time: scale 0..2x FP32, marker at 1x. */
  qg_text(cr, x, y - 6, 11, 0, QG_COL_TEXT, "DSP time");
  double ratio = qg_cost_dsp_text(v, s, sizeof s);
  /* Within 5 %: a wash (measurement noise), shown neutral. */
  qg_rgb rc = ratio < 0.95   ? qg_band_colour(QG_BAND_GREAT)
              : ratio > 1.05 ? QG_COL_ERR
                             : QG_COL_TEXT;
  qg_text_bold(cr, x + bw, y - 6, 11, 1, rc, s);
  bar_row(cr, x, y, bw, ratio / 2.0, QG_COL_ACCENT, 0.5);

  y += 46;
  char against[128];
  double frac = qg_cost_memory_text(v, s, sizeof s, against, sizeof against);
  qg_text(cr, x, y - 6, 11, 0, QG_COL_TEXT, "Weight memory");
  qg_text_bold(cr, x + bw, y - 6, 11, 1, QG_COL_TEXT, s);
  bar_row(cr, x, y, bw, frac, QG_COL_QUANT, -1);

  y += 27;
  if (y < h - 4) {
    qg_text(cr, x, y, 10.5, 0, QG_COL_DIM, against);
    y += 16;
  }
  if (y < h - 4) {
    snprintf(s, sizeof s, "latency %d frames   ·   clipped activations %.0f /s", v->latency,
             v->clipped_per_s);
    qg_text(cr, x, y, 10.5, 0, QG_COL_DIM, s);
  }
}
