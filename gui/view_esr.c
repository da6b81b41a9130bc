/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  ESR meter: the current error-to-signal ratio as a number and a bar, and
  its last seconds as a graph, both over colour bands that say what the
  number means to a player (the NAM bands). Bands are drawn in dB because
  ESR spans decades: 8 bits sit around -40 dB, 2 bits near 0 dB.
  Two states are not numbers: at FP32 the reference itself plays, so the
  error is "exact" (zero), not unknown; and when the reference is silent
  (below QG_ESR_SILENCE_DBFS) the ratio means nothing, the plugin holds
  the last value and the meter says "silence" over it, dimmed.
*/
#include "views.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const double qg_band_limit[QG_BAND_COUNT - 1] = {0.01, 0.035, 0.1};

int qg_esr_band(double esr)
{
  for (int b = 0; b < QG_BAND_COUNT - 1; ++b)
    if (esr < qg_band_limit[b])
      return b;
  return QG_BAND_AUDIBLE;
}

qg_rgb qg_band_colour(int band)
{
  static const qg_rgb c[QG_BAND_COUNT] = {
      {0.243, 0.812, 0.431}, /* great: green */
      {0.651, 0.851, 0.290}, /* not bad: yellow-green */
      {0.949, 0.698, 0.200}, /* might be OK: orange */
      {0.910, 0.282, 0.310}, /* audible: red */
  };
  return c[band < 0 ? 0 : band >= QG_BAND_COUNT ? QG_BAND_COUNT - 1 : band];
}

const char *qg_band_label(int band)
{
  static const char *l[QG_BAND_COUNT] = {"great", "not bad", "might be OK", "audible"};
  return l[band < 0 ? 0 : band >= QG_BAND_COUNT ? QG_BAND_COUNT - 1 : band];
}

void qg_esr_push(qg_esr_view *v, float db)
{
  if (v->n_history == QG_ESR_HISTORY) {
    memmove(v->history, v->history + 1, (QG_ESR_HISTORY - 1) * sizeof(float));
    v->n_history--;
  }
  v->history[v->n_history++] = db;
}

void qg_esr_note_reference(qg_esr_view *v, const float *ref, int n)
{
  if (n <= 0)
    return;
  double sum = 0;
  for (int i = 0; i < n; ++i)
    sum += (double)ref[i] * ref[i];
  double rms = sqrt(sum / n);
  v->silent = !(rms > 0) || 20.0 * log10(rms) < QG_ESR_SILENCE_DBFS;
}

const char *qg_esr_headline(const qg_esr_view *v, char *buf, size_t len)
{
  if (v->reference)
    snprintf(buf, len, "exact");
  else if (v->silent)
    snprintf(buf, len, "silence");
  else if (!v->valid)
    snprintf(buf, len, "-- dB");
  else if (v->esr_db <= QG_ESR_DB_MIN - 30)
    snprintf(buf, len, "< %.0f dB", QG_ESR_DB_MIN - 30);
  else
    snprintf(buf, len, "%.1f dB", v->esr_db);
  return buf;
}

double qg_esr_y(qg_rect p, double db)
{
  if (!(db > QG_ESR_DB_MIN)) /* also catches NaN and -inf */
    db = QG_ESR_DB_MIN;
  if (db > QG_ESR_DB_MAX)
    db = QG_ESR_DB_MAX;
  return p.y + p.h * (QG_ESR_DB_MAX - db) / (QG_ESR_DB_MAX - QG_ESR_DB_MIN);
}

static double band_db(int b) /* upper edge of band b in dB */
{
  return b < QG_BAND_COUNT - 1 ? 10.0 * log10(qg_band_limit[b]) : QG_ESR_DB_MAX;
}

void qg_view_esr(cairo_t *cr, double w, double h, const qg_esr_view *v)
{
  double title_end = qg_panel(cr, w, h, "ESR VS FP32");
  qg_rect p = qg_plot_rect(w, h);
  const double meter_w = 16, gap = 10;
  qg_rect g = p; /* history graph; the bar meter sits right of it */
  g.w -= meter_w + gap;
  qg_rect m = {g.x + g.w + gap, p.y, meter_w, p.h};

  /* Band stripes behind graph, solid (dimmed) under the meter. */
  double lo = QG_ESR_DB_MIN;
  for (int b = 0; b < QG_BAND_COUNT; ++b) {
    double hi = band_db(b);
    double y0 = qg_esr_y(g, hi), y1 = qg_esr_y(g, lo);
    qg_set_rgba(cr, qg_band_colour(b), 0.16);
    cairo_rectangle(cr, g.x, y0, g.w, y1 - y0);
    cairo_fill(cr);
    qg_set_rgba(cr, qg_band_colour(b), 0.28);
    cairo_rectangle(cr, m.x, y0, m.w, y1 - y0);
    cairo_fill(cr);
    if (y1 - y0 > 11)
      qg_text(cr, g.x + g.w - 6, y1 - 4, 10, 1, qg_band_colour(b), qg_band_label(b));
    lo = hi;
  }

  /* dB grid and labels. */
  cairo_set_line_width(cr, 1);
  for (int db = (int)QG_ESR_DB_MIN; db <= (int)QG_ESR_DB_MAX; db += 10) {
    double y = floor(qg_esr_y(g, db)) + 0.5;
    qg_set_rgba(cr, QG_COL_GRID, 0.9);
    cairo_move_to(cr, g.x, y);
    cairo_line_to(cr, g.x + g.w, y);
    cairo_stroke(cr);
    char s[16];
    snprintf(s, sizeof s, "%d", db);
    qg_text(cr, g.x - 6, y + 3.5, 10, 1, QG_COL_DIM, s);
  }
  qg_text(cr, g.x - 6, g.y + g.h + 16, 10, 1, QG_COL_DIM, "dB");
  qg_text(cr, g.x + g.w, g.y + g.h + 16, 10, 1, QG_COL_DIM, "last 10 s");

  char big[48];
  qg_esr_headline(v, big, sizeof big);
  if (v->reference) {
    /** FP32 plays the reference itself: the error is zero, not unknown. */
    qg_no_data(cr, g, "FP32 is the reference: no error");
    qg_text_bold(cr, w - 12, 19, 15, 1, qg_band_colour(QG_BAND_GREAT), big);
    return;
  }
  if (!v->valid) {
    qg_no_data(cr, g, v->silent ? "silence: nothing to measure" : "no signal yet");
    qg_text_bold(cr, w - 12, 19, 15, 1, QG_COL_DIM, big);
    return;
  }
  double esr_lin = pow(10.0, v->esr_db / 10.0);
  int band = qg_esr_band(esr_lin);
  qg_rgb bc = qg_band_colour(band);

  /* History line. */
  if (v->n_history > 1) {
    cairo_save(cr);
    cairo_rectangle(cr, g.x, g.y, g.w, g.h);
    cairo_clip(cr);
    double dx = g.w / (QG_ESR_HISTORY - 1);
    double x0 = g.x + g.w - (v->n_history - 1) * dx;
    for (int i = 0; i < v->n_history; ++i) {
      double x = x0 + i * dx, y = qg_esr_y(g, v->history[i]);
      if (i == 0)
        cairo_move_to(cr, x, y);
      else
        cairo_line_to(cr, x, y);
    }
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_width(cr, 2);
    qg_set_rgb(cr, QG_COL_TEXT);
    cairo_stroke(cr);
    cairo_restore(cr);
  }

  /* Bar meter: filled from the bottom to the current value, in its band
     (dimmed while silence holds the last value). */
  double y = qg_esr_y(m, v->esr_db);
  qg_set_rgba(cr, bc, v->silent ? 0.45 : 1.0);
  cairo_rectangle(cr, m.x, y, m.w, m.y + m.h - y);
  cairo_fill(cr);
  qg_set_rgb(cr, QG_COL_TEXT);
  cairo_rectangle(cr, m.x - 3, floor(y) - 1, m.w + 6, 2);
  cairo_fill(cr);

  qg_rgb hc = v->silent ? QG_COL_DIM : bc;
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size(cr, 15);
  cairo_text_extents_t e;
  cairo_text_extents(cr, big, &e);
  qg_text_bold(cr, w - 12, 19, 15, 1, hc, big);
  char lab[64];
  if (v->silent)
    snprintf(lab, sizeof lab, "held %.1f dB", v->esr_db);
  else
    snprintf(lab, sizeof lab, "%s  ·  %.3g", qg_band_label(band), esr_lin);
  double right = w - 12 - e.x_advance - 10;
  cairo_set_font_size(cr, 11);
  cairo_text_extents(cr, lab, &e);
  if (right - e.x_advance > title_end + 8)
    qg_text(cr, right, 18, 11, 1, v->silent ? QG_COL_DIM : bc, lab);
}
