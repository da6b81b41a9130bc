/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Weight histogram of one layer with the active scheme's quantization
  levels drawn over it: the player sees whether the levels sit where the
  weights are (k-means), are spaced evenly across the range (linear) or
  crowd near zero (power of two), and how coarse 2 bits really is.
  A slimmable model's weights are those of the size that plays, named
  under the caption: its float weights at FP32, its quantized ones
  otherwise, so flipping the precision compares one model with itself.
  Float weights (FP32, and FP16 or BF16 at precision 16) have no levels;
  the caption names their format as the histogram's message gives it.
*/
#include "views.h"

#include <math.h>
#include <stdio.h>

void qg_hist_caption(const qg_hist_view *v, char *caption, size_t cap, char *size_line,
                     size_t size_cap)
{
  int nl = v->n_levels > QG_HIST_MAX_LEVELS ? QG_HIST_MAX_LEVELS : v->n_levels;
  /** No levels is not FP32: precision 16 has none either, so the
      format is the plugin's word for these weights. */
  if (nl > 0)
    snprintf(caption, cap, "%s  ·  %d levels", v->layer, nl);
  else
    snprintf(caption, cap, "%s  ·  %s", v->layer, v->format[0] ? v->format : "no levels");
  if (v->size[0])
    snprintf(size_line, size_cap, "size: %s", v->size);
  else if (size_cap > 0)
    size_line[0] = '\0';
}

void qg_view_hist(cairo_t *cr, double w, double h, const qg_hist_view *v)
{
  qg_panel(cr, w, h, "WEIGHTS AND LEVELS");
  qg_rect p = qg_plot_rect(w, h);
  p.x = 14;
  p.w = w - 28;
  char caption[96], size_line[96];
  qg_hist_caption(v, caption, sizeof caption, size_line, sizeof size_line);
  /** The size's line sits under the caption: the plot starts below it. */
  if (v->valid && size_line[0] && p.h > 40) {
    p.y += 12;
    p.h -= 12;
  }
  qg_set_rgb(cr, QG_COL_GRID);
  cairo_set_line_width(cr, 1);
  cairo_move_to(cr, p.x, floor(p.y + p.h) + 0.5);
  cairo_line_to(cr, p.x + p.w, floor(p.y + p.h) + 0.5);
  cairo_stroke(cr);
  if (!v->valid || v->n_bins <= 0 || !(v->max > v->min)) {
    qg_no_data(cr, p, "no histogram");
    return;
  }
  int n = v->n_bins > QG_HIST_MAX_BINS ? QG_HIST_MAX_BINS : v->n_bins;
  int peak = 1;
  for (int i = 0; i < n; ++i)
    if (v->counts[i] > peak)
      peak = v->counts[i];
  double bw = p.w / n;
  for (int i = 0; i < n; ++i) {
    double bh = p.h * 0.92 * v->counts[i] / peak;
    qg_set_rgba(cr, QG_COL_REF, 0.75);
    cairo_rectangle(cr, p.x + i * bw + 0.5, p.y + p.h - bh, fmax(bw - 1, 1), bh);
    cairo_fill(cr);
  }
  /* Levels: dense sets (8 bits) become a faint comb, sparse ones bold. */
  int nl = v->n_levels > QG_HIST_MAX_LEVELS ? QG_HIST_MAX_LEVELS : v->n_levels;
  double alpha = nl > 32 ? 0.35 : 0.95, lw = nl > 32 ? 1.0 : 2.0;
  for (int i = 0; i < nl; ++i) {
    double f = (v->levels[i] - v->min) / (v->max - v->min);
    if (!(f >= -0.001 && f <= 1.001))
      continue;
    double x = p.x + f * p.w;
    qg_set_rgba(cr, QG_COL_QUANT, alpha);
    cairo_set_line_width(cr, lw);
    cairo_move_to(cr, x, p.y + 2);
    cairo_line_to(cr, x, p.y + p.h);
    cairo_stroke(cr);
  }
  char s[96];
  snprintf(s, sizeof s, "%.3g", v->min);
  qg_text(cr, p.x, p.y + p.h + 15, 10, 0, QG_COL_DIM, s);
  snprintf(s, sizeof s, "%.3g", v->max);
  qg_text(cr, p.x + p.w, p.y + p.h + 15, 10, 1, QG_COL_DIM, s);
  if (v->min < 0 && v->max > 0) {
    double x0 = p.x + p.w * (0 - v->min) / (v->max - v->min);
    qg_text(cr, x0, p.y + p.h + 15, 10, 0.5, QG_COL_DIM, "0");
  }
  qg_text(cr, w - 12, 18, 10, 1, QG_COL_DIM, caption);
  qg_text(cr, w - 12, 31, 10, 1, QG_COL_DIM, size_line);
}
