/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Palette, panel chrome, text and layout shared by every view. Text uses
  cairo's toy font API ("sans-serif" through fontconfig): enough for short
  axis labels, and it keeps the views free of Pango/GTK so they render in a
  headless unit test exactly as in the window.
*/
#include "views.h"

#include <math.h>
#include <stdio.h>

const qg_rgb QG_COL_BG = {0.086, 0.094, 0.114};
const qg_rgb QG_COL_PANEL = {0.118, 0.129, 0.157};
const qg_rgb QG_COL_GRID = {0.200, 0.220, 0.259};
const qg_rgb QG_COL_TEXT = {0.863, 0.882, 0.918};
const qg_rgb QG_COL_DIM = {0.545, 0.580, 0.643};
const qg_rgb QG_COL_REF = {0.310, 0.639, 1.000};
const qg_rgb QG_COL_QUANT = {1.000, 0.788, 0.263};
const qg_rgb QG_COL_ERR = {1.000, 0.353, 0.431};
const qg_rgb QG_COL_ACCENT = {0.153, 0.753, 0.788};

void qg_set_rgb(cairo_t *cr, qg_rgb c) { cairo_set_source_rgb(cr, c.r, c.g, c.b); }

void qg_set_rgba(cairo_t *cr, qg_rgb c, double a) { cairo_set_source_rgba(cr, c.r, c.g, c.b, a); }

void qg_rounded_rect(cairo_t *cr, double x, double y, double w, double h, double r)
{
  if (r > w / 2)
    r = w / 2;
  if (r > h / 2)
    r = h / 2;
  cairo_new_sub_path(cr);
  cairo_arc(cr, x + w - r, y + r, r, -M_PI / 2, 0);
  cairo_arc(cr, x + w - r, y + h - r, r, 0, M_PI / 2);
  cairo_arc(cr, x + r, y + h - r, r, M_PI / 2, M_PI);
  cairo_arc(cr, x + r, y + r, r, M_PI, 3 * M_PI / 2);
  cairo_close_path(cr);
}

static void text_face(cairo_t *cr, double x, double y, double size, double align, qg_rgb c,
                      const char *text, cairo_font_weight_t weight)
{
  if (!text || !*text)
    return;
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, weight);
  cairo_set_font_size(cr, size);
  cairo_text_extents_t e;
  cairo_text_extents(cr, text, &e);
  qg_set_rgb(cr, c);
  cairo_move_to(cr, x - align * e.x_advance, y);
  cairo_show_text(cr, text);
  cairo_new_path(cr);
}

void qg_legend_entry(cairo_t *cr, double x, double y, double h, qg_rgb c, const char *label)
{
  qg_set_rgb(cr, c);
  cairo_rectangle(cr, x, y, 10, h);
  cairo_fill(cr);
  qg_text(cr, x + 14, 18, 10.5, 0, QG_COL_TEXT, label);
}

void qg_text(cairo_t *cr, double x, double y, double size, double align, qg_rgb c, const char *text)
{
  text_face(cr, x, y, size, align, c, text, CAIRO_FONT_WEIGHT_NORMAL);
}

void qg_text_bold(cairo_t *cr, double x, double y, double size, double align, qg_rgb c,
                  const char *text)
{
  text_face(cr, x, y, size, align, c, text, CAIRO_FONT_WEIGHT_BOLD);
}

/** Panel background and title: every view sits on the same card so the
    window reads as one instrument, not a collection of widgets. */
double qg_panel(cairo_t *cr, double w, double h, const char *title)
{
  qg_set_rgb(cr, QG_COL_BG);
  cairo_paint(cr);
  qg_rounded_rect(cr, 0.5, 0.5, w - 1, h - 1, 6);
  qg_set_rgb(cr, QG_COL_PANEL);
  cairo_fill_preserve(cr);
  qg_set_rgb(cr, QG_COL_GRID);
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
  if (!title)
    return 10;
  qg_text_bold(cr, 10, 17, 11.5, 0, QG_COL_DIM, title);
  cairo_text_extents_t e;
  cairo_text_extents(cr, title, &e); /* font still selected by qg_text_bold */
  return 10 + e.x_advance;
}

qg_rect qg_plot_rect(double w, double h)
{
  qg_rect r = {46, 26, w - 46 - 12, h - 26 - 22};
  if (r.w < 10)
    r.w = 10;
  if (r.h < 10)
    r.h = 10;
  return r;
}

void qg_format_bytes(double bytes, char *buf, size_t len)
{
  if (bytes >= 1048576.0)
    snprintf(buf, len, "%.2f MB", bytes / 1048576.0);
  else if (bytes >= 1024.0)
    snprintf(buf, len, "%.1f kB", bytes / 1024.0);
  else
    snprintf(buf, len, "%.0f B", bytes);
}

void qg_no_data(cairo_t *cr, qg_rect r, const char *msg)
{
  qg_text(cr, r.x + r.w / 2, r.y + r.h / 2 + 4, 12, 0.5, QG_COL_DIM, msg);
}
