/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Quantone GUI views: pure cairo drawing from plain data.

  Every view is a function (cairo_t, width, height, const data *) that
  draws into whatever surface the caller gives it: a GtkDrawingArea in the
  plugin window, or an image surface in the unit tests. Nothing here knows
  GTK, LV2 or where the data came from, so a regression in a plot is caught
  by rendering a fixed input without a display. Sizes are in logical
  pixels; HiDPI comes for free because GTK scales the cairo_t it hands us.
*/
#ifndef QUANTONE_GUI_VIEWS_H
#define QUANTONE_GUI_VIEWS_H

#include <cairo.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
  double r, g, b;
} qg_rgb;

/** The palette, shared with the GTK CSS so widgets and plots match. */
extern const qg_rgb QG_COL_BG, QG_COL_PANEL, QG_COL_GRID, QG_COL_TEXT, QG_COL_DIM, QG_COL_REF,
    QG_COL_QUANT, QG_COL_ERR, QG_COL_ACCENT;

/* ---- ESR meter ------------------------------------------------------------ */

/** The NAM community's reading of ESR (linear): < 0.01 great, < 0.035 not
    bad, < 0.1 might be OK, above: audible. */
enum { QG_BAND_GREAT = 0, QG_BAND_NOT_BAD, QG_BAND_MAYBE, QG_BAND_AUDIBLE, QG_BAND_COUNT };
extern const double qg_band_limit[QG_BAND_COUNT - 1]; /**< linear ESR upper bounds */
int qg_esr_band(double esr_linear);
qg_rgb qg_band_colour(int band);
const char *qg_band_label(int band);

#define QG_ESR_DB_MIN (-60.0) /**< bottom of the ESR axis, dB */
#define QG_ESR_DB_MAX 10.0    /**< top of the ESR axis, dB */
#define QG_ESR_HISTORY 300    /**< history points (10 s at 30 Hz) */

/** Below this level (RMS of the reference over a qt:frames vector) there
    is nothing to measure: the plugin holds the last ESR, the GUI says
    "silence" (a ratio of two near-zero signals is noise, or DC). */
#define QG_ESR_SILENCE_DBFS (-70.0)

typedef struct {
  bool valid;                    /**< a measurement exists (audio has played) */
  float esr_db;                  /**< current value */
  float history[QG_ESR_HISTORY]; /**< oldest first */
  int n_history;
  float clipped_per_s; /**< saturated int8 activations per second */
  bool reference;      /**< FP32 is playing: the error is zero by definition */
  bool silent;         /**< the reference is below QG_ESR_SILENCE_DBFS */
} qg_esr_view;

/** Append a value to the history (drops the oldest when full). */
void qg_esr_push(qg_esr_view *v, float esr_db);
/** Note the level of the latest reference samples (from qt:frames). */
void qg_esr_note_reference(qg_esr_view *v, const float *ref, int n);
/** The meter's headline: "exact" at FP32, "silence", "-31.2 dB", or
    "-- dB" before any measurement. Returns buf. */
const char *qg_esr_headline(const qg_esr_view *v, char *buf, size_t len);
void qg_view_esr(cairo_t *cr, double w, double h, const qg_esr_view *v);

/* ---- Spectrum ------------------------------------------------------------- */

#define QG_SPEC_MAX_BINS 1025

typedef struct {
  bool valid;
  int n_bins;                        /**< bin k is at k * rate / (2 * (n_bins - 1)) Hz */
  double rate;                       /**< Hz */
  float signal_db[QG_SPEC_MAX_BINS]; /**< dBFS, averaged */
  float error_db[QG_SPEC_MAX_BINS];
} qg_spectrum_view;

#define QG_SPEC_DB_MIN (-120.0)
#define QG_SPEC_DB_MAX 0.0
#define QG_SPEC_F_MIN 20.0
void qg_view_spectrum(cairo_t *cr, double w, double h, const qg_spectrum_view *v);

/* ---- Scope ---------------------------------------------------------------- */

#define QG_SCOPE_MAX 1024

typedef struct {
  bool valid;
  int n;
  float rate;
  float ref[QG_SCOPE_MAX], quant[QG_SCOPE_MAX], diff[QG_SCOPE_MAX];
} qg_scope_view;

void qg_view_scope(cairo_t *cr, double w, double h, const qg_scope_view *v);

/* ---- Per-layer SQNR ------------------------------------------------------- */

#define QG_MAX_LAYERS 64
#define QG_SQNR_DB_TOP 60.0 /**< bar scale: 60 dB fills the plot; +inf (FP32) too */

typedef struct {
  int n;
  char names[QG_MAX_LAYERS][32];
  float sqnr_db[QG_MAX_LAYERS];
  /** Each layer's average bits per weight (qt:layerBits: mixed with the
      bit budget, else the precision); NAN where unknown. */
  bool has_bits;
  float bits[QG_MAX_LAYERS];
} qg_sqnr_view;

void qg_view_sqnr(cairo_t *cr, double w, double h, const qg_sqnr_view *v);

/* ---- Weight histogram ----------------------------------------------------- */

#define QG_HIST_MAX_BINS 256
#define QG_HIST_MAX_LEVELS 256

typedef struct {
  bool valid;
  char layer[48];
  float min, max;
  int n_bins;
  int counts[QG_HIST_MAX_BINS];
  int n_levels; /**< 0: float weights, nothing to draw over the histogram */
  float levels[QG_HIST_MAX_LEVELS];
  /** The size of a slimmable model the weights are of (qt:sizeLabel,
      "" for a model of one size): the size that plays. */
  char size[64];
  /** The float format of weights without levels (qt:weightFormat: "FP32",
      "FP16", "BF16"; "" when the plugin did not say). It comes in the
      histogram's own message, not from the precision port, so the caption
      never names a precision the plugin has not yet built these weights
      for. */
  char format[16];
} qg_hist_view;

void qg_view_hist(cairo_t *cr, double w, double h, const qg_hist_view *v);
/** What the histogram's corner says: "LAYER · N levels", or for float
    weights their format, "LAYER · FP16" ("LAYER · no levels" when the
    plugin did not name one) (caption), and for a slimmable model
    "size: LABEL" (size_line, "" for a model of one size), so the player
    sees whose weights they are. */
void qg_hist_caption(const qg_hist_view *v, char *caption, size_t cap, char *size_line,
                     size_t size_cap);

/* ---- Cost ------------------------------------------------------------------- */

typedef struct {
  /** modelInfo has given the byte counts (until then the panel waits:
      the plugin's weight_bytes port alone has nothing to compare with). */
  bool valid;
  /** DSP time of the active path / the FP32 reference's, which is always
      the full-size float model (plugin/switching.c): at a smaller size of
      a slimmable model it includes the size's saving. */
  float dsp_ratio;
  double weight_bytes; /**< active variant */
  /** The float model of the size that plays (qt:sizeWeightBytesFp32):
      what weight_bytes saves against, the quantization's saving alone. */
  double weight_bytes_fp32;
  int latency; /**< frames */
  float clipped_per_s;
  /** The full-size float model (qt:weightBytesFp32): more than
      weight_bytes_fp32 while a smaller size of a slimmable model plays,
      and then said apart; 0 when unknown. */
  double weight_bytes_full_fp32;
} qg_cost_view;

void qg_view_cost(cairo_t *cr, double w, double h, const qg_cost_view *v);
/** The memory meter's words: "A of B (N% saved)" (line), B the float
    model of the same size, and what B is (against): "vs FP32 of this
    size · full size C FP32" while a smaller size plays, else "vs the FP32
    model"; before modelInfo (not valid) "—" and "waiting for the plugin",
    never a figure. Returns the fraction the bar shows, weight_bytes / B
    (0 while waiting). */
double qg_cost_memory_text(const qg_cost_view *v, char *line, size_t line_cap, char *against,
                           size_t against_cap);
/** The DSP time's words: "0.62x FP32 (-38%)", and while a smaller size of
    a slimmable model plays "0.23x full-size FP32 (-77%)": the ratio is
    against the full-size reference whatever size plays, so the label says
    so rather than passing the size's saving off as the quantization's;
    "—" before modelInfo. Returns the ratio the bar shows. */
double qg_cost_dsp_text(const qg_cost_view *v, char *line, size_t line_cap);

/* ---- Shared layout (also used by the tests to find things) ------------------- */

typedef struct {
  double x, y, w, h;
} qg_rect;

/** The plot rectangle inside a panel of w x h (axes labels around it). */
qg_rect qg_plot_rect(double w, double h);
/** Bar i of n in the SQNR plot (full height rect the bar grows in). */
qg_rect qg_sqnr_bar_rect(double w, double h, int n, int i);
/** y in plot coordinates of an ESR value in dB. */
double qg_esr_y(qg_rect plot, double db);
/** x of a frequency on the spectrum's log axis. */
double qg_spec_x(qg_rect plot, double f, double rate);

/* Drawing helpers (view_common.c). */
void qg_set_rgb(cairo_t *cr, qg_rgb c);
void qg_set_rgba(cairo_t *cr, qg_rgb c, double a);
/** Returns the x where the title ends (for headers that must not overlap it). */
double qg_panel(cairo_t *cr, double w, double h, const char *title);
/** align: 0 left, 0.5 centre, 1 right of x; y is the baseline. */
/** One legend entry: a swatch (a line if h is small, a block otherwise) at
    (x, y) and its label 14 px to the right, on the baseline of the title row. */
void qg_legend_entry(cairo_t *cr, double x, double y, double h, qg_rgb c, const char *label);
void qg_text(cairo_t *cr, double x, double y, double size, double align, qg_rgb c,
             const char *text);
void qg_text_bold(cairo_t *cr, double x, double y, double size, double align, qg_rgb c,
                  const char *text);
void qg_rounded_rect(cairo_t *cr, double x, double y, double w, double h, double r);
void qg_format_bytes(double bytes, char *buf, size_t len);
void qg_no_data(cairo_t *cr, qg_rect r, const char *msg);

#endif
