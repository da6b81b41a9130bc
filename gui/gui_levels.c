/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Monitor (what the player hears: quantized, reference or error) with
  bypass beside it, the error gain and input / output levels as dB scales, input calibration and
  the output mode (with why they do nothing for a model without the
  metadata they need).
*/
#include "gui_internal.h"
#include "levels_status.h"

/* ---- Scales and bypass ---------------------------------------------------------- */

static void on_scale(GtkRange *r, gpointer user)
{
  qg_gui *g = user;
  if (g->updating)
    return;
  for (uint32_t p = 0; p < QT_PORT_COUNT; ++p)
    if (g->scale[p] == GTK_WIDGET(r))
      qg_gui_write_float(g, p, (float)gtk_range_get_value(r));
}

static gchar *format_db(GtkScale *s, gdouble v, gpointer user)
{
  (void)s;
  (void)user;
  return g_strdup_printf("%+.1f dB", v);
}

static GtkWidget *db_scale(qg_gui *g, uint32_t port, double lo, double hi, double def,
                           const char *tip)
{
  GtkWidget *s = gtk_scale_new_with_range(GTK_ORIENTATION_HORIZONTAL, lo, hi, 0.5);
  gtk_range_set_value(GTK_RANGE(s), def);
  gtk_scale_set_value_pos(GTK_SCALE(s), GTK_POS_RIGHT);
  gtk_scale_add_mark(GTK_SCALE(s), 0, GTK_POS_BOTTOM, NULL);
  gtk_widget_set_tooltip_text(s, tip);
  gtk_widget_set_hexpand(s, TRUE);
  g_signal_connect(s, "format-value", G_CALLBACK(format_db), NULL);
  g_signal_connect(s, "value-changed", G_CALLBACK(on_scale), g);
  g->scale[port] = s;
  return s;
}

static gchar *format_dbu(GtkScale *s, gdouble v, gpointer user)
{
  (void)s;
  (void)user;
  return g_strdup_printf("%+.1f dBu", v);
}

static void on_calibrate(GtkToggleButton *b, gpointer user)
{
  qg_gui *g = user;
  if (!g->updating)
    qg_gui_write_float(g, QT_PORT_CALIBRATE, gtk_toggle_button_get_active(b) ? 1.0f : 0.0f);
}

void qg_gui_show_levels(qg_gui *g)
{
  if (g->widgets_gone || !g->levels_text)
    return;
  char buf[400];
  qg_levels_describe(&g->data, buf, sizeof buf);
  gtk_label_set_text(GTK_LABEL(g->levels_text), buf);
}

/** The interface level, the calibration switch, the output mode and what
    they do for this model. */
static void pack_calibration(qg_gui *g, GtkWidget *c, GtkWidget *grid, int row)
{
  const qt_port_info *dbu = qt_port_info_get(QT_PORT_INPUT_DBU);
  g->calibrate = gtk_check_button_new_with_mnemonic("_Calibrate input");
  gtk_widget_set_tooltip_text(g->calibrate, qt_port_info_get(QT_PORT_CALIBRATE)->comment);
  gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(g->calibrate),
                               qt_port_info_get(QT_PORT_CALIBRATE)->def > 0.5f);
  g_signal_connect(g->calibrate, "toggled", G_CALLBACK(on_calibrate), g);
  GtkWidget *s = gtk_scale_new_with_range(GTK_ORIENTATION_HORIZONTAL, dbu->min, dbu->max, 0.5);
  gtk_range_set_value(GTK_RANGE(s), dbu->def);
  gtk_scale_set_value_pos(GTK_SCALE(s), GTK_POS_RIGHT);
  gtk_scale_add_mark(GTK_SCALE(s), dbu->def, GTK_POS_BOTTOM, NULL);
  gtk_widget_set_tooltip_text(s, dbu->comment);
  gtk_widget_set_hexpand(s, TRUE);
  g_signal_connect(s, "format-value", G_CALLBACK(format_dbu), NULL);
  g_signal_connect(s, "value-changed", G_CALLBACK(on_scale), g);
  g->scale[QT_PORT_INPUT_DBU] = s;
  GtkWidget *l = gtk_label_new("Interface");
  gtk_widget_set_halign(l, GTK_ALIGN_START);
  gtk_widget_set_tooltip_text(l, dbu->comment);
  gtk_grid_attach(GTK_GRID(grid), l, 0, row, 1, 1);
  gtk_grid_attach(GTK_GRID(grid), s, 1, row, 1, 1);
  gtk_box_pack_start(GTK_BOX(c), grid, FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(c), g->calibrate, FALSE, FALSE, 0);

  /** Values and labels from the port table's scale points. */
  const qt_port_info *om = qt_port_info_get(QT_PORT_OUTPUT_MODE);
  float values[3];
  const char *labels[3];
  static const char *const tips[3] = {
      "The model's output as it is.",
      "Every model at -18 dB loudness: from the file's loudness, or measured once on the "
      "built-in guitar clip. Quantized settings keep the float model's gain.",
      "The capture's output level (output_level_dbu) on your interface's scale."};
  for (int i = 0; i < 3 && i < om->n_points; ++i) {
    values[i] = om->points[i].value;
    labels[i] = om->points[i].label;
  }
  gtk_box_pack_start(GTK_BOX(c),
                     qg_gui_segmented(g, QT_PORT_OUTPUT_MODE, 3, values, labels, tips, NULL), FALSE,
                     FALSE, 0);
  g->levels_text = gtk_label_new("");
  gtk_widget_set_halign(g->levels_text, GTK_ALIGN_START);
  gtk_label_set_line_wrap(GTK_LABEL(g->levels_text), TRUE);
  gtk_label_set_xalign(GTK_LABEL(g->levels_text), 0.0f);
  gtk_style_context_add_class(gtk_widget_get_style_context(g->levels_text), "dim-label");
  gtk_box_pack_start(GTK_BOX(c), g->levels_text, FALSE, FALSE, 0);
}

static void on_bypass(GtkToggleButton *b, gpointer user)
{
  qg_gui *g = user;
  if (!g->updating)
    qg_gui_write_float(g, QT_PORT_ENABLED, gtk_toggle_button_get_active(b) ? 0.0f : 1.0f);
}

static GtkWidget *build_bypass(qg_gui *g)
{
  g->bypass = gtk_toggle_button_new_with_mnemonic("_Bypass");
  gtk_style_context_add_class(gtk_widget_get_style_context(g->bypass), "qt-bypass");
  gtk_widget_set_tooltip_text(g->bypass, "Pass the input through untouched (latency kept).");
  g_signal_connect(g->bypass, "toggled", G_CALLBACK(on_bypass), g);
  return g->bypass;
}

/** What the player hears (monitor) and Bypass, on one row pinned under
    the column's scroller: the switches of a listening test stay in reach
    wherever the column is scrolled. */
GtkWidget *qg_gui_build_listen(qg_gui *g)
{
  static const float mon_v[] = {QT_MONITOR_QUANTIZED, QT_MONITOR_REFERENCE, QT_MONITOR_ERROR};
  static const char *const mon_l[] = {"Quantized", "Reference", "Error"};
  static const char *const mon_t[] = {
      "Hear the quantized model: what this setting sounds like.",
      "Hear the float reference, for A/B comparison.",
      "Hear only the difference (quantized minus reference), raised by the error gain (LEVELS)."};
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 3);
  GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_pack_start(GTK_BOX(row),
                     qg_gui_segmented(g, QT_PORT_MONITOR, 3, mon_v, mon_l, mon_t, NULL), TRUE, TRUE,
                     0);
  gtk_box_pack_start(GTK_BOX(row), build_bypass(g), FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(box), qg_gui_section("MONITOR"), FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(box), row, FALSE, FALSE, 0);
  return box;
}

/** Open at first: the input and output levels are what a player sets
    first; folding them away leaves room for the scheme's sections. */
GtkWidget *qg_gui_build_levels(qg_gui *g)
{
  GtkWidget *c = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *grid = gtk_grid_new();
  gtk_grid_set_row_spacing(GTK_GRID(grid), 0);
  gtk_grid_set_column_spacing(GTK_GRID(grid), 8);
  /** Ranges and defaults come from the port table (quantone_ports.h),
      the one the plugin clamps with and the Turtle is checked against. */
  const struct {
    const char *label;
    uint32_t port;
    const char *tip;
  } sc[] = {
      {"Error gain", QT_PORT_ERROR_GAIN,
       "Gain applied to the error signal when the monitor plays the error."},
      {"Input", QT_PORT_INPUT_LEVEL, "Level into the model (drives the capture)."},
      {"Output", QT_PORT_OUTPUT_LEVEL, "Level after the model."},
  };
  for (int i = 0; i < 3; ++i) {
    const qt_port_info *info = qt_port_info_get((int)sc[i].port);
    GtkWidget *l = gtk_label_new(sc[i].label);
    gtk_widget_set_halign(l, GTK_ALIGN_START);
    gtk_grid_attach(GTK_GRID(grid), l, 0, i, 1, 1);
    gtk_grid_attach(GTK_GRID(grid),
                    db_scale(g, sc[i].port, info->min, info->max, info->def, sc[i].tip), 1, i, 1,
                    1);
  }
  pack_calibration(g, c, grid, 3);
  return qg_gui_expander(qg_gui_section("LEVELS"), c, true);
}
