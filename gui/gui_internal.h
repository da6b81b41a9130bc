/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  What the window's files share (gui_window.c and the per-area files
  gui_header.c, gui_controls.c, gui_levels.c, gui_views.c): the window
  struct and the functions one area calls in another. Private to
  libqg_gui_window; the UIs see only gui_window.h.
*/
#ifndef QUANTONE_GUI_GUI_INTERNAL_H
#define QUANTONE_GUI_GUI_INTERNAL_H

#include "gui_window.h"

#include "gui_data.h"
#include "recent_models.h"
#include "model_status.h"
#include "protocol.h"
#include "quantone_ports.h"
#include "spectrum.h"

#include <stdbool.h>

#define QG_MSG_BUF 8192

enum { V_ESR, V_SPEC, V_SCOPE, V_SQNR, V_HIST, V_COST, V_COUNT };

typedef struct {
  qg_gui *gui;
  uint32_t port;
  float value;
  GtkWidget *button;
} seg_item;

/** Every segmented button of the window (30 today: precision 5, 16-bit form 2, mapping 3,
    range 2, granularity 3, rounding 2, activations 3, output mode 3, monitor 3, and room). */
#define QG_MAX_SEG 32

struct qg_gui {
  LV2_URID_Map *map;
  qg_gui_write_fn write;
  void *controller;
  qg_proto proto;
  qg_gui_data data;
  qg_model_status model_status; /**< "model missing: PATH" in the name label */
  qg_spectrum *spec;
  uint8_t msg[QG_MSG_BUF];

  GtkWidget *root;
  GtkCssProvider *css;
  seg_item seg[QG_MAX_SEG];
  int n_seg;
  GtkWidget *scale[QT_PORT_COUNT]; /**< error gain, input, output */
  GtkWidget *bypass;
  GtkWidget *model_name, *model_info, *model_var, *error_box, *error_label;
  GtkWidget *save_quantized; /**< Save quantized model… */
  GtkWidget *hist_combo;
  GtkWidget *act_cost;      /**< what the chosen activations cost, under their buttons */
  GtkWidget *half_form_row; /**< FP16 weights / BF16 compute: sensitive at 16 bits only */
  GtkWidget *budget_title;  /**< the Bit budget section's title, with its value */
  /** The controls column's scroller and what scrolls in it (gui_column.c). */
  GtkWidget *column_scroller, *column_content;
  GtkWidget *rounding_text; /**< the worker's progress with Optimized rounding */
  /** The Slim section: shown only while a slimmable model plays. */
  GtkWidget *slim_box, *slim_text;
  /** Input calibration's switch and what the levels do for this model. */
  GtkWidget *calibrate, *levels_text;
  GtkWidget *recent_combo;          /**< recently played model files (gui_header.c) */
  char played[QG_RECENT_MAX][4096]; /**< models this window saw play, newest first */
  GtkWidget *view[V_COUNT];
  bool dirty[V_COUNT];
  guint timer;
  /** The root widget was destroyed (its toplevel went first, as hosts may
      do before cleanup()): every child widget pointer above is dangling. */
  bool widgets_gone;
  int updating;
  /** Test hooks' state (gui_hooks.c); stays false without them. */
  bool selftest, force_redraw, reported;
  int reported_x, reported_y;
  bool slim_reported, slim_reported_mapped;
  int slim_reported_steps;
  int half_reported; /**< 0 not yet, 1 insensitive, 2 sensitive */
  char layout_reported[256];
  char hist_auto_for[4096]; /**< model path the histogram layer was picked for */
  unsigned long draws;
};

/* gui_window.c: plumbing every area uses */
double qg_gui_now_s(void);
/** Write a control port (and remember the value as the host's). */
void qg_gui_write_float(qg_gui *g, uint32_t port, float v);
/** Send the atom forged into g->msg (size 0: nothing was forged). */
void qg_gui_write_atom(qg_gui *g, uint32_t size);
/** Queue a redraw of view v at the next tick. */
void qg_gui_mark(qg_gui *g, int v);
GtkWidget *qg_gui_section(const char *text);

/* gui_header.c: title, model chooser, model labels, error bar */
GtkWidget *qg_gui_build_header(qg_gui *g);
GtkWidget *qg_gui_build_error(qg_gui *g);
void qg_gui_show_error(qg_gui *g);
/** Say which file Save quantized model wrote (qt:exported). */
void qg_gui_show_exported(qg_gui *g);
void qg_gui_show_info(qg_gui *g);
/** Ask the plugin to load path, as the file dialog does. */
void qg_gui_load_model(qg_gui *g, const char *path);
/** Record the playing model as recently used and refill the Recent list. */
void qg_gui_show_recent(qg_gui *g);

/* gui_controls.c: precision and scheme (segmented buttons), the controls column */
GtkWidget *qg_gui_segmented(qg_gui *g, uint32_t port, int n, const float *values,
                            const char *const *labels, const char *const *tips,
                            const char *css_class);
/** Show a control port's value in whichever widget shows that port. */
void qg_gui_show_port_value(qg_gui *g, uint32_t port, float v);
GtkWidget *qg_gui_build_controls(qg_gui *g);
/** Show or hide the Slim section and mark its steps, from modelInfo. */
void qg_gui_show_slim(qg_gui *g);

/* gui_column.c: the controls column's scroller, pinned widget and expanders */
/** The column: content in a vertical-only scroller, pinned under it. */
GtkWidget *qg_gui_column(qg_gui *g, GtkWidget *content, GtkWidget *pinned);
/** A collapsible section: title (a qg_gui_section label) over body. */
GtkWidget *qg_gui_expander(GtkWidget *title, GtkWidget *body, bool expanded);

/* gui_levels.c: monitor, error gain and levels, bypass */
/** Monitor and Bypass, pinned under the column's scroller. */
GtkWidget *qg_gui_build_listen(qg_gui *g);
/** The LEVELS section, collapsible. */
GtkWidget *qg_gui_build_levels(qg_gui *g);
/** Say what calibration and the output mode do for the playing model. */
void qg_gui_show_levels(qg_gui *g);
/** The ROUNDING section's status line (rounding_status.h). */
void qg_gui_show_rounding(qg_gui *g);

/* gui_views.c: the views grid and the histogram layer chooser */
GtkWidget *qg_gui_build_views(qg_gui *g);
GtkWidget *qg_gui_build_hist_combo(qg_gui *g);

/* gui_hooks.c: test hooks, only with -Dgui_test_hooks=true (QG_TEST_HOOKS
   1). Without them these are empty inline functions the compiler drops,
   so no code path reads the environment. */
#if QG_TEST_HOOKS
/** Read QUANTONE_GUI_SELFTEST and QUANTONE_GUI_FORCE_REDRAW. */
void qg_hooks_init(qg_gui *g);
/** After the first patch:Get: QUANTONE_GUI_TEST_LOAD, QUANTONE_GUI_TEST_SET. */
void qg_hooks_started(qg_gui *g);
/** Every redraw tick: the precision buttons' geometry when it moved. */
void qg_hooks_tick(qg_gui *g);
/** printf to stderr (flushed) under QUANTONE_GUI_SELFTEST. */
void qg_hook_log(const qg_gui *g, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/** What the weights panel (a histogram came) and the memory meter
    (a modelInfo or its weight_bytes port changed) say now, under
    QUANTONE_GUI_SELFTEST. */
void qg_hooks_views(const qg_gui *g, bool hist, bool meter);
#else
static inline void qg_hooks_init(qg_gui *g) { (void)g; }
static inline void qg_hooks_started(qg_gui *g) { (void)g; }
static inline void qg_hooks_tick(qg_gui *g) { (void)g; }
static inline void qg_hooks_views(const qg_gui *g, bool hist, bool meter)
{
  (void)g;
  (void)hist;
  (void)meter;
}
static inline G_GNUC_PRINTF(2, 3) void qg_hook_log(const qg_gui *g, const char *fmt, ...)
{
  (void)g;
  (void)fmt;
}
#endif

#endif
