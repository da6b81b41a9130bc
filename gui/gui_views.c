/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The views grid: six cairo views (views.h) in drawing areas, redrawn
  by the window's timer when marked dirty, and the chooser of the layer
  the histogram view shows.
*/
#include "gui_internal.h"

static void on_hist_layer(GtkComboBox *c, gpointer user)
{
  qg_gui *g = user;
  int i = gtk_combo_box_get_active(c);
  if (g->updating || i < 0)
    return;
  qg_gui_write_atom(g, qg_proto_set_hist_layer(&g->proto, g->msg, sizeof g->msg, i));
}

/* ---- Views -------------------------------------------------------------------------- */

static gboolean on_draw(GtkWidget *w, cairo_t *cr, gpointer user)
{
  qg_gui *g = user;
  double W = gtk_widget_get_allocated_width(w), H = gtk_widget_get_allocated_height(w);
  const qg_gui_data *d = &g->data;
  int v = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(w), "qt-view"));
  switch (v) {
  case V_ESR: qg_view_esr(cr, W, H, &d->esr); break;
  case V_SPEC: qg_view_spectrum(cr, W, H, &d->spectrum); break;
  case V_SCOPE: qg_view_scope(cr, W, H, &d->scope); break;
  case V_SQNR: qg_view_sqnr(cr, W, H, &d->sqnr); break;
  case V_HIST: qg_view_hist(cr, W, H, &d->hist); break;
  default: qg_view_cost(cr, W, H, &d->cost); break;
  }
  g->draws++;
  return TRUE;
}

static GtkWidget *view_area(qg_gui *g, int v, int min_w, int min_h)
{
  GtkWidget *a = gtk_drawing_area_new();
  gtk_widget_set_size_request(a, min_w, min_h);
  gtk_widget_set_hexpand(a, TRUE);
  gtk_widget_set_vexpand(a, TRUE);
  g_object_set_data(G_OBJECT(a), "qt-view", GINT_TO_POINTER(v));
  g_signal_connect(a, "draw", G_CALLBACK(on_draw), g);
  g->view[v] = a;
  return a;
}

GtkWidget *qg_gui_build_views(qg_gui *g)
{
  GtkWidget *grid = gtk_grid_new();
  gtk_grid_set_row_spacing(GTK_GRID(grid), 8);
  gtk_grid_set_column_spacing(GTK_GRID(grid), 8);
  gtk_grid_set_column_homogeneous(GTK_GRID(grid), TRUE);
  /** These sizes are the window's natural size in every host (the
      in-process UI and the external UI's helper both open at it), and
      the controls column scrolls beside them: room for each plot's axes
      and legend, not more, so the window opens inside a 1024x768 screen
      with a title bar, a panel and the host's menu (checked by gui-jalv-slim). */
  gtk_grid_attach(GTK_GRID(grid), view_area(g, V_ESR, 340, 175), 0, 0, 1, 1);
  gtk_grid_attach(GTK_GRID(grid), view_area(g, V_SPEC, 340, 175), 1, 0, 1, 1);
  gtk_grid_attach(GTK_GRID(grid), view_area(g, V_SCOPE, 340, 175), 0, 1, 1, 1);
  gtk_grid_attach(GTK_GRID(grid), view_area(g, V_SQNR, 340, 175), 1, 1, 1, 1);
  gtk_grid_attach(GTK_GRID(grid), view_area(g, V_HIST, 340, 155), 0, 2, 1, 1);
  gtk_grid_attach(GTK_GRID(grid), view_area(g, V_COST, 340, 155), 1, 2, 1, 1);
  /** What the two numbers a slimmable model changes are measured against. */
  gtk_widget_set_tooltip_text(g->view[V_HIST],
                              "The weights of the size that plays (Slim): its float weights at "
                              "FP32, the ones it multiplies with otherwise, with the levels.");
  gtk_widget_set_tooltip_text(g->view[V_COST],
                              "Weight memory: the playing variant's weights against the float "
                              "(FP32) model of the same size, so the saving is the "
                              "quantization's; at a smaller size of a slimmable model the line "
                              "under the bar also gives the full size's float bytes. DSP time: "
                              "against the full-size FP32 reference, whatever size plays "
                              "(\"full-size FP32\" while a smaller one does).");
  gtk_widget_set_hexpand(grid, TRUE);
  return grid;
}

GtkWidget *qg_gui_build_hist_combo(qg_gui *g)
{
  g->hist_combo = gtk_combo_box_text_new();
  gtk_widget_set_tooltip_text(g->hist_combo,
                              "The weight matrix whose histogram and levels are shown.");
  g_signal_connect(g->hist_combo, "changed", G_CALLBACK(on_hist_layer), g);
  return g->hist_combo;
}
