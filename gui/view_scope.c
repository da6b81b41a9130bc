/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Scope: the float reference and the quantized output overlaid (upper
  part, shared scale so a level difference shows), and their difference
  in its own strip below with its own scale, because at 8 bits the error
  is far too small to see on the signal's scale. The magnification is
  printed so the picture never lies about size.
*/
#include "views.h"

#include <math.h>
#include <stdio.h>

static void wave(cairo_t *cr, qg_rect r, const float *x, int n, double scale)
{
  double mid = r.y + r.h / 2;
  for (int i = 0; i < n; ++i) {
    double px = r.x + r.w * i / (double)(n > 1 ? n - 1 : 1);
    double v = x[i] * scale;
    if (v > 1)
      v = 1;
    if (v < -1)
      v = -1;
    double py = mid - v * r.h / 2;
    if (i == 0)
      cairo_move_to(cr, px, py);
    else
      cairo_line_to(cr, px, py);
  }
}

static void strip_frame(cairo_t *cr, qg_rect r)
{
  qg_set_rgb(cr, QG_COL_GRID);
  cairo_set_line_width(cr, 1);
  double mid = floor(r.y + r.h / 2) + 0.5;
  cairo_move_to(cr, r.x, mid);
  cairo_line_to(cr, r.x + r.w, mid);
  cairo_stroke(cr);
  cairo_rectangle(cr, r.x + 0.5, r.y + 0.5, r.w - 1, r.h - 1);
  cairo_stroke(cr);
}

/** Round a peak up to 1, 2 or 5 times a power of ten: stable scales. */
static double nice_ceiling(double x)
{
  if (!(x > 1e-9))
    return 1e-9;
  double e = pow(10, floor(log10(x)));
  double m = x / e;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * e;
}

void qg_view_scope(cairo_t *cr, double w, double h, const qg_scope_view *v)
{
  qg_panel(cr, w, h, "SCOPE");
  qg_rect p = qg_plot_rect(w, h);
  p.x = 12;
  p.w = w - 24;
  qg_rect top = p, bot = p;
  top.h = floor(p.h * 0.64);
  bot.y = top.y + top.h + 6;
  bot.h = p.h - top.h - 6;
  strip_frame(cr, top);
  strip_frame(cr, bot);

  qg_legend_entry(cr, w - 232, 13, 2.5, QG_COL_REF, "reference");
  qg_legend_entry(cr, w - 150, 13, 2.5, QG_COL_QUANT, "quantized");
  qg_legend_entry(cr, w - 70, 13, 2.5, QG_COL_ERR, "error");

  if (!v->valid || v->n < 2) {
    qg_no_data(cr, top, "waiting for audio");
    return;
  }
  double peak = 0, epeak = 0;
  for (int i = 0; i < v->n; ++i) {
    peak = fmax(peak, fmax(fabs(v->ref[i]), fabs(v->quant[i])));
    epeak = fmax(epeak, fabs(v->diff[i]));
  }
  double full = nice_ceiling(fmax(peak, 1e-3));
  double efull = nice_ceiling(fmax(epeak, 1e-6));

  cairo_save(cr);
  cairo_rectangle(cr, top.x, top.y, top.w, top.h);
  cairo_clip(cr);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  wave(cr, top, v->ref, v->n, 1.0 / full);
  qg_set_rgb(cr, QG_COL_REF);
  cairo_set_line_width(cr, 2.6);
  cairo_stroke(cr);
  wave(cr, top, v->quant, v->n, 1.0 / full);
  qg_set_rgb(cr, QG_COL_QUANT);
  cairo_set_line_width(cr, 1.3);
  cairo_stroke(cr);
  cairo_restore(cr);

  cairo_save(cr);
  cairo_rectangle(cr, bot.x, bot.y, bot.w, bot.h);
  cairo_clip(cr);
  wave(cr, bot, v->diff, v->n, 1.0 / efull);
  qg_set_rgb(cr, QG_COL_ERR);
  cairo_set_line_width(cr, 1.3);
  cairo_stroke(cr);
  cairo_restore(cr);

  char s[64];
  snprintf(s, sizeof s, "±%.3g", full);
  qg_text(cr, top.x + 5, top.y + 12, 10, 0, QG_COL_DIM, s);
  snprintf(s, sizeof s, "error ±%.2g  (×%.0f)", efull, full / efull);
  qg_text(cr, bot.x + 5, bot.y + 12, 10, 0, QG_COL_DIM, s);
  snprintf(s, sizeof s, "%.1f ms", 1000.0 * v->n / (v->rate > 0 ? v->rate : 48000.0));
  qg_text(cr, p.x + p.w, p.y + p.h + 15, 10, 1, QG_COL_DIM, s);
}
