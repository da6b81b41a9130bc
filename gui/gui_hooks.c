/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Test hooks for scripted checks of the real window in real hosts
  (tests/gui: gui-jalv, gui-shim), compiled only with
  -Dgui_test_hooks=true (the default; see meson_options.txt). Each is
  driven by an environment variable read once when the window is built:

    QUANTONE_GUI_SELFTEST      log to stderr what a script cannot see
                               without OCR: port writes and changes, the
                               model and error labels, where the precision
                               buttons are (for xdotool clicks), whether
                               the Slim slider is on screen, redraws
    QUANTONE_GUI_FORCE_REDRAW  redraw every view on every tick (measures
                               the GUI's worst-case CPU)
    QUANTONE_GUI_TEST_LOAD     load this file as if chosen in the dialog
    QUANTONE_GUI_TEST_SET      "PORT=VALUE": write one control as if clicked
*/
#include "gui_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void qg_hooks_init(qg_gui *g)
{
  g->selftest = getenv("QUANTONE_GUI_SELFTEST") != NULL;
  g->force_redraw = getenv("QUANTONE_GUI_FORCE_REDRAW") != NULL;
}

void qg_hooks_started(qg_gui *g)
{
  const char *load = getenv("QUANTONE_GUI_TEST_LOAD");
  if (load && *load)
    qg_gui_load_model(g, load);
  const char *set = getenv("QUANTONE_GUI_TEST_SET");
  unsigned port;
  float val;
  if (set && sscanf(set, "%u=%f", &port, &val) == 2 && port < QT_PORT_COUNT)
    qg_gui_write_float(g, port, val);
}

void qg_hook_log(const qg_gui *g, const char *fmt, ...)
{
  if (!g->selftest)
    return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fflush(stderr);
}

/** Where the precision buttons are in the toplevel, printed
    again whenever the layout moves them (e.g. the error bar appears). */
static void report_geometry(qg_gui *g)
{
  GtkWidget *top = gtk_widget_get_toplevel(g->root);
  int x0 = 0, y0 = 0;
  gtk_widget_translate_coordinates(g->seg[0].button, top, 0, 0, &x0, &y0);
  if (g->reported && x0 == g->reported_x && y0 == g->reported_y)
    return;
  g->reported = true;
  g->reported_x = x0;
  g->reported_y = y0;
  for (int i = 0; i < g->n_seg; ++i) {
    if (g->seg[i].port != QT_PORT_PRECISION)
      continue;
    int x = 0, y = 0;
    GtkAllocation a;
    gtk_widget_get_allocation(g->seg[i].button, &a);
    gtk_widget_translate_coordinates(g->seg[i].button, top, 0, 0, &x, &y);
    fprintf(stderr, "quantone-gui: button precision=%g at %d %d size %d %d\n", g->seg[i].value, x,
            y, a.width, a.height);
  }
  fflush(stderr);
}

/** Whether the Slim slider is on screen (mapped, not merely built), said
    again whenever that changes, with the text under it. */
static void report_slim(qg_gui *g)
{
  bool mapped = g->slim_box && gtk_widget_get_mapped(g->slim_box);
  if (g->slim_reported && mapped == g->slim_reported_mapped)
    return;
  g->slim_reported = true;
  g->slim_reported_mapped = mapped;
  fprintf(stderr, "quantone-gui: slim slider %s (%d steps): %s\n", mapped ? "shown" : "hidden",
          g->data.n_slim, mapped ? gtk_label_get_text(GTK_LABEL(g->slim_text)) : "");
  fflush(stderr);
}

void qg_hooks_tick(qg_gui *g)
{
  if (g->selftest && gtk_widget_get_mapped(g->root)) {
    report_geometry(g);
    report_slim(g);
  }
}
