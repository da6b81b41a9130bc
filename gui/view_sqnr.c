/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Per-layer SQNR bars: each observed layer's output against the float
  model's same layer, in network order, so error accumulating through the
  network reads as bars getting shorter from left to right. Bars share one
  linear dB scale (height proportional to SQNR) and are coloured with the
  same bands as the ESR meter (SQNR dB = -ESR dB of that layer). Under a
  quantized variant each bar's foot says its layer's bits (the average
  per weight over its matrices: mixed precision shows here) as a strip,
  10 px at 8 bits, with the number above it.
*/
#include "views.h"

#include <math.h>
#include <stdio.h>

qg_rect qg_sqnr_bar_rect(double w, double h, int n, int i)
{
  qg_rect p = qg_plot_rect(w, h);
  double slot = p.w / (n > 0 ? n : 1);
  double bw = fmax(2.0, fmin(slot * 0.72, 40.0));
  qg_rect r = {p.x + slot * i + (slot - bw) / 2, p.y, bw, p.h};
  return r;
}

void qg_view_sqnr(cairo_t *cr, double w, double h, const qg_sqnr_view *v)
{
  qg_panel(cr, w, h, "PER-LAYER SQNR");
  qg_rect p = qg_plot_rect(w, h);
  cairo_set_line_width(cr, 1);
  for (int db = 0; db <= (int)QG_SQNR_DB_TOP; db += 10) {
    double y = floor(p.y + p.h - p.h * db / QG_SQNR_DB_TOP) + 0.5;
    qg_set_rgb(cr, QG_COL_GRID);
    cairo_move_to(cr, p.x, y);
    cairo_line_to(cr, p.x + p.w, y);
    cairo_stroke(cr);
    char s[16];
    snprintf(s, sizeof s, "%d", db);
    qg_text(cr, p.x - 6, y + 3.5, 10, 1, QG_COL_DIM, s);
  }
  qg_text(cr, p.x - 6, p.y + p.h + 15, 10, 1, QG_COL_DIM, "dB");
  if (v->n <= 0) {
    qg_no_data(cr, p, "no layer data");
    return;
  }
  int n = v->n > QG_MAX_LAYERS ? QG_MAX_LAYERS : v->n;
  int label_every = 1;
  double slot = p.w / n;
  while (slot * label_every < 18)
    ++label_every;
  for (int i = 0; i < n; ++i) {
    qg_rect r = qg_sqnr_bar_rect(w, h, n, i);
    double s = v->sqnr_db[i];
    bool inf = isinf(s) && s > 0;
    double frac = inf ? 1.0 : isfinite(s) ? fmax(0.0, fmin(1.0, s / QG_SQNR_DB_TOP)) : 0.0;
    double bh = frac * r.h;
    qg_rgb c = inf ? QG_COL_ACCENT : qg_band_colour(qg_esr_band(pow(10.0, -s / 10.0)));
    qg_set_rgb(cr, c);
    cairo_rectangle(cr, r.x, r.y + r.h - bh, r.w, bh);
    cairo_fill(cr);
    if (v->has_bits && isfinite(v->bits[i])) {
      double bh8 = fmin(1.0, v->bits[i] / 8.0) * 10.0;
      qg_set_rgb(cr, QG_COL_DIM);
      cairo_rectangle(cr, r.x, p.y + p.h - bh8, r.w, bh8);
      cairo_fill(cr);
      if (r.w >= 12) {
        char bl[16];
        snprintf(bl, sizeof bl, v->bits[i] == floorf(v->bits[i]) ? "%.0f" : "%.1f",
                 (double)v->bits[i]);
        qg_text(cr, r.x + r.w / 2, p.y + p.h - 12, 9, 0.5, QG_COL_TEXT, bl);
      }
    }
    if (i % label_every == 0) {
      char lab[16];
      snprintf(lab, sizeof lab, "%d", i + 1);
      qg_text(cr, r.x + r.w / 2, p.y + p.h + 15, 10, 0.5, QG_COL_DIM, lab);
    }
    if (r.w >= 22) {
      char val[16];
      if (inf)
        snprintf(val, sizeof val, "inf");
      else
        snprintf(val, sizeof val, "%.0f", s);
      double ty = r.y + r.h - bh - 4;
      qg_text(cr, r.x + r.w / 2, ty < p.y + 10 ? p.y + 10 : ty, 9.5, 0.5, QG_COL_TEXT, val);
    }
  }
  char first_last[96];
  snprintf(first_last, sizeof first_last, "%s ... %s", v->names[0], v->names[n - 1]);
  qg_text(cr, w - 12, 18, 10, 1, QG_COL_DIM, first_last);
}
