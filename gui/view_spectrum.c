/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Error spectrum against signal spectrum: where in frequency the
  quantization error lives. Log frequency axis (how we hear pitch), dB
  magnitude; the signal is a filled area, the error a line over it, so
  "error close to the signal" reads as the red line touching the blue.
*/
#include "views.h"

#include <math.h>
#include <stdio.h>

static double f_max(double rate) { return rate > 2 * QG_SPEC_F_MIN ? rate / 2 : 24000.0; }

double qg_spec_x(qg_rect p, double f, double rate)
{
  double lo = log10(QG_SPEC_F_MIN), hi = log10(f_max(rate));
  if (f < QG_SPEC_F_MIN)
    f = QG_SPEC_F_MIN;
  return p.x + p.w * (log10(f) - lo) / (hi - lo);
}

static double spec_y(qg_rect p, double db)
{
  if (!(db > QG_SPEC_DB_MIN))
    db = QG_SPEC_DB_MIN;
  if (db > QG_SPEC_DB_MAX)
    db = QG_SPEC_DB_MAX;
  return p.y + p.h * (QG_SPEC_DB_MAX - db) / (QG_SPEC_DB_MAX - QG_SPEC_DB_MIN);
}

static void trace(cairo_t *cr, qg_rect p, const qg_spectrum_view *v, const float *db, bool close)
{
  double df = v->rate / (2.0 * (v->n_bins - 1));
  bool first = true;
  double last_x = p.x;
  for (int k = 1; k < v->n_bins; ++k) {
    double f = k * df;
    if (f < QG_SPEC_F_MIN)
      continue;
    double x = qg_spec_x(p, f, v->rate), y = spec_y(p, db[k]);
    if (first) {
      if (close)
        cairo_move_to(cr, x, p.y + p.h);
      else
        cairo_move_to(cr, x, y);
      first = false;
    }
    cairo_line_to(cr, x, y);
    last_x = x;
  }
  if (close && !first) {
    cairo_line_to(cr, last_x, p.y + p.h);
    cairo_close_path(cr);
  }
}

void qg_view_spectrum(cairo_t *cr, double w, double h, const qg_spectrum_view *v)
{
  qg_panel(cr, w, h, "SPECTRUM");
  qg_rect p = qg_plot_rect(w, h);
  double rate = v->valid ? v->rate : 48000.0;

  cairo_set_line_width(cr, 1);
  static const double grid_f[] = {50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000};
  for (size_t i = 0; i < sizeof grid_f / sizeof *grid_f; ++i) {
    if (grid_f[i] > f_max(rate))
      break;
    double x = floor(qg_spec_x(p, grid_f[i], rate)) + 0.5;
    qg_set_rgb(cr, QG_COL_GRID);
    cairo_move_to(cr, x, p.y);
    cairo_line_to(cr, x, p.y + p.h);
    cairo_stroke(cr);
    char s[16];
    if (grid_f[i] >= 1000)
      snprintf(s, sizeof s, "%gk", grid_f[i] / 1000);
    else
      snprintf(s, sizeof s, "%g", grid_f[i]);
    qg_text(cr, x, p.y + p.h + 14, 10, 0.5, QG_COL_DIM, s);
  }
  for (int db = (int)QG_SPEC_DB_MIN; db <= (int)QG_SPEC_DB_MAX; db += 20) {
    double y = floor(spec_y(p, db)) + 0.5;
    qg_set_rgb(cr, QG_COL_GRID);
    cairo_move_to(cr, p.x, y);
    cairo_line_to(cr, p.x + p.w, y);
    cairo_stroke(cr);
    char s[16];
    snprintf(s, sizeof s, "%d", db);
    qg_text(cr, p.x - 6, y + 3.5, 10, 1, QG_COL_DIM, s);
  }
  qg_text(cr, p.x - 6, p.y + p.h + 14, 10, 1, QG_COL_DIM, "Hz");

  /* Legend, top right. */
  qg_legend_entry(cr, w - 150, 10, 8, QG_COL_REF, "signal");
  qg_legend_entry(cr, w - 86, 13, 2.5, QG_COL_ERR, "error");

  if (!v->valid || v->n_bins < 2) {
    qg_no_data(cr, p, "waiting for audio");
    return;
  }
  cairo_save(cr);
  cairo_rectangle(cr, p.x, p.y, p.w, p.h);
  cairo_clip(cr);
  trace(cr, p, v, v->signal_db, true);
  qg_set_rgba(cr, QG_COL_REF, 0.35);
  cairo_fill_preserve(cr);
  qg_set_rgb(cr, QG_COL_REF);
  cairo_set_line_width(cr, 1.2);
  cairo_stroke(cr);
  trace(cr, p, v, v->error_db, false);
  qg_set_rgb(cr, QG_COL_ERR);
  cairo_set_line_width(cr, 1.8);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_stroke(cr);
  cairo_restore(cr);
}
