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

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void qg_hooks_init(qg_gui *g)
{
  g->selftest = getenv("QUANTONE_GUI_SELFTEST") != NULL;
  g->force_redraw = getenv("QUANTONE_GUI_FORCE_REDRAW") != NULL;
}

void qg_hooks_started(qg_gui *g)
{
  qg_hooks_views(g, false, true); /* the meter as the window opens, before any message */
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

/** Words the views draw with cairo, which a script cannot read off the
    screen: whose weights the histogram shows, what the memory meter
    compares with and what the DSP time is against. */
void qg_hooks_views(const qg_gui *g, bool hist, bool meter)
{
  if (!g->selftest)
    return;
  const qg_gui_data *d = &g->data;
  char a[128], b[128];
  if (hist) {
    long long n = 0;
    for (int i = 0; i < d->hist.n_bins; ++i)
      n += d->hist.counts[i];
    qg_hist_caption(&d->hist, a, sizeof a, b, sizeof b);
    fprintf(stderr, "quantone-gui: weights panel: %s | %s | %lld weights\n", a, b, n);
  }
  if (meter) {
    qg_cost_memory_text(&d->cost, a, sizeof a, b, sizeof b);
    fprintf(stderr, "quantone-gui: memory meter: %s | %s\n", a, b);
    qg_cost_dsp_text(&d->cost, a, sizeof a);
    fprintf(stderr, "quantone-gui: dsp time: %s\n", a);
  }
  fflush(stderr);
}

/** Whether the Slim slider is on screen (mapped, not merely built), said
    again whenever that or the number of sizes changes (another slimmable
    model loaded over a slimmable one), with the text under it. */
static void report_slim(qg_gui *g)
{
  bool mapped = g->slim_box && gtk_widget_get_mapped(g->slim_box);
  if (g->slim_reported && mapped == g->slim_reported_mapped &&
      g->data.n_slim == g->slim_reported_steps)
    return;
  g->slim_reported = true;
  g->slim_reported_mapped = mapped;
  g->slim_reported_steps = g->data.n_slim;
  fprintf(stderr, "quantone-gui: slim slider %s (%d steps): %s\n", mapped ? "shown" : "hidden",
          g->data.n_slim, mapped ? gtk_label_get_text(GTK_LABEL(g->slim_text)) : "");
  fflush(stderr);
}

/** The last widget of the column's content that is on screen: what a
    player must be able to reach (everything above it comes first). */
static GtkWidget *last_control(GtkWidget *content)
{
  GtkWidget *last = NULL;
  GList *kids = gtk_container_get_children(GTK_CONTAINER(content));
  for (GList *l = kids; l; l = l->next)
    if (gtk_widget_get_mapped(l->data))
      last = l->data;
  g_list_free(kids);
  return last;
}

/** What a script needs to judge whether every control can be reached,
    in the toplevel's coordinates, said again whenever it changes:
      window W H natural NW NH   the toplevel's size now, and the size it
                                 asks for (what a host opens it at);
      column natural N view T B scroller 0|1
                                 the controls' natural height, the part of
                                 the toplevel they show in (top, bottom)
                                 and whether they scroll there;
      last Y0 Y1                 the column's last control, where it is now;
      end Y1                     its bottom once the column is scrolled to
                                 the end (Y1 without a scroller);
      bypass Y0 Y1               the pinned Bypass button;
      left X0 X1                 the column's left and right edges. */
static void report_layout(qg_gui *g)
{
  GtkWidget *top = gtk_widget_get_toplevel(g->root);
  GtkWidget *content = g->column_content;
  GtkWidget *last = content ? last_control(content) : NULL;
  if (!content || !last)
    return;
  GtkWidget *view = g->column_scroller ? g->column_scroller : content;
  GtkRequisition nat_top;
  gtk_widget_get_preferred_size(top, NULL, &nat_top);
  int nat_content = 0;
  gtk_widget_get_preferred_height_for_width(content, gtk_widget_get_allocated_width(content), NULL,
                                            &nat_content);
  int vx = 0, vy = 0, ly = 0, by = 0;
  gtk_widget_translate_coordinates(view, top, 0, 0, &vx, &vy);
  gtk_widget_translate_coordinates(last, top, 0, 0, NULL, &ly);
  gtk_widget_translate_coordinates(g->bypass, top, 0, 0, NULL, &by);
  const int lh = gtk_widget_get_allocated_height(last);
  int end = ly + lh;
  bool scrolls = false;
  if (g->column_scroller) {
    GtkScrolledWindow *sw = GTK_SCROLLED_WINDOW(g->column_scroller);
    GtkPolicyType vpolicy;
    gtk_scrolled_window_get_policy(sw, NULL, &vpolicy);
    scrolls = vpolicy != GTK_POLICY_NEVER && vpolicy != GTK_POLICY_EXTERNAL;
    GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment(sw);
    const double max = gtk_adjustment_get_upper(adj) - gtk_adjustment_get_page_size(adj);
    if (scrolls)
      end -= (int)lrint(max - gtk_adjustment_get_value(adj));
  }
  char line[sizeof g->layout_reported];
  snprintf(line, sizeof line,
           "window %d %d natural %d %d column natural %d view %d %d scroller %d last %d %d end %d "
           "bypass %d %d left %d %d",
           gtk_widget_get_allocated_width(top), gtk_widget_get_allocated_height(top), nat_top.width,
           nat_top.height, nat_content, vy, vy + gtk_widget_get_allocated_height(view), scrolls, ly,
           ly + lh, end, by, by + gtk_widget_get_allocated_height(g->bypass), vx,
           vx + gtk_widget_get_allocated_width(view));
  if (!strcmp(line, g->layout_reported))
    return;
  snprintf(g->layout_reported, sizeof g->layout_reported, "%s", line);
  fprintf(stderr, "quantone-gui: layout: %s\n", line);
  fflush(stderr);
}

/** Whether FP16 weights / BF16 compute can be pressed, said when it changes. */
static void report_half_form(qg_gui *g)
{
  const int now = gtk_widget_is_sensitive(g->half_form_row) ? 2 : 1;
  if (now == g->half_reported)
    return;
  g->half_reported = now;
  fprintf(stderr, "quantone-gui: half form row %s at precision %g\n",
          now == 2 ? "sensitive" : "insensitive", g->data.port[QT_PORT_PRECISION]);
  fflush(stderr);
}

void qg_hooks_tick(qg_gui *g)
{
  if (g->selftest && gtk_widget_get_mapped(g->root)) {
    report_geometry(g);
    report_slim(g);
    report_layout(g);
    report_half_form(g);
  }
}
