/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The controls column: precision and scheme as segmented buttons (mapping,
  range, granularity, rounding, activations and what they cost) at the
  top, where a player reaches them without scrolling; then
  the bit budget (folded), the Slim slider, the levels of gui_levels.c and
  the histogram layer chooser, in the scroller of gui_column.c, with the
  monitor and bypass pinned under it (gui_levels.c); also the
  one place a port's value is shown in its widget.
*/
#include "gui_internal.h"
#include "rounding_status.h"
#include "setting_ports.h" /* the scheme buttons' labels */
#include "slim_status.h"

#include <math.h>

/** One line on what the chosen activations cost, so the price of the
    weight-only path is visible without hovering. Each fits one line of
    the controls column, so switching never changes the window's height. */
static const char *act_cost_text(const qg_gui *g)
{
  if (g->data.port[QT_PORT_PRECISION] > 20)
    return "FP32 plays: activations apply to 8, 4 and 2 bits.";
  if (g->data.port[QT_PORT_PRECISION] > 12)
    return lrintf(g->data.port[QT_PORT_HALF_FORM]) == QT_HALF_BF16
               ? "BF16 compute: bf16 activations, half the memory."
               : "FP16 weights: float activations, half the memory.";
  switch ((int)lrintf(g->data.port[QT_PORT_ACTIVATIONS])) {
  case QT_ACT_FLOAT: return "Weight-only: about FP32's CPU; saves memory only.";
  case QT_ACT_DYNAMIC: return "Int8 SIMD kernels: less CPU than FP32.";
  default: return "Int8 SIMD kernels, calibrated: less CPU than FP32.";
  }
}

static void show_act_cost(qg_gui *g)
{
  if (g->act_cost && !g->widgets_gone)
    gtk_label_set_text(GTK_LABEL(g->act_cost), act_cost_text(g));
}

/** FP16 weights / BF16 compute choose how 16 bits play: at any other
    precision the row stays in place (no jump) but cannot be pressed. */
static void show_half_form(qg_gui *g)
{
  if (!g->half_form_row || g->widgets_gone)
    return;
  const float bits = g->data.port[QT_PORT_PRECISION];
  gtk_widget_set_sensitive(g->half_form_row, bits > 12 && bits <= 20);
}

static void on_seg_toggled(GtkToggleButton *b, gpointer user)
{
  seg_item *it = user;
  qg_gui *g = it->gui;
  if (g->updating || !gtk_toggle_button_get_active(b))
    return;
  qg_gui_write_float(g, it->port, it->value);
  if (it->port == QT_PORT_ACTIVATIONS || it->port == QT_PORT_PRECISION ||
      it->port == QT_PORT_HALF_FORM)
    show_act_cost(g);
  if (it->port == QT_PORT_PRECISION) {
    show_half_form(g);
    g->data.esr.reference = it->value > 20;
    qg_gui_mark(g, V_ESR);
  }
  if (it->port == QT_PORT_ROUNDING || it->port == QT_PORT_PRECISION)
    qg_gui_show_rounding(g);
}

/* ---- Rounding --------------------------------------------------------------------- */

void qg_gui_show_rounding(qg_gui *g)
{
  if (!g->rounding_text || g->widgets_gone)
    return;
  char buf[160];
  qg_rounding_describe(&g->data, buf, sizeof buf);
  gtk_label_set_text(GTK_LABEL(g->rounding_text), buf);
  if (g->data.prepare.valid)
    gtk_widget_set_tooltip_text(g->rounding_text, g->data.prepare.variant);
}

/** Nearest / Optimized (the port table's scale points) and the worker's
    progress under them: Optimized takes about a second of background work
    the first time, and the player should see it happen. */
static GtkWidget *build_rounding(qg_gui *g)
{
  const qt_port_info *info = qt_port_info_get(QT_PORT_ROUNDING);
  float v[2];
  const char *l[2];
  static const char *const t[] = {
      "Each weight to its nearest level: instant.",
      "Error-compensating rounding and bias correction against how each layer responds to a "
      "built-in guitar clip: less error at 4 and 2 bits. About a second of background work "
      "the first time (shown below); the result is kept, so switching back is instant."};
  for (int i = 0; i < 2 && i < info->n_points; ++i) {
    v[i] = info->points[i].value;
    l[i] = info->points[i].label;
  }
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
  gtk_box_pack_start(GTK_BOX(box), qg_gui_section("ROUNDING"), FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(box), qg_gui_segmented(g, QT_PORT_ROUNDING, 2, v, l, t, NULL), FALSE,
                     FALSE, 0);
  g->rounding_text = gtk_label_new("");
  gtk_style_context_add_class(gtk_widget_get_style_context(g->rounding_text), "qt-note");
  gtk_label_set_xalign(GTK_LABEL(g->rounding_text), 0);
  gtk_label_set_ellipsize(GTK_LABEL(g->rounding_text), PANGO_ELLIPSIZE_END);
  gtk_label_set_max_width_chars(GTK_LABEL(g->rounding_text), 34);
  gtk_box_pack_start(GTK_BOX(box), g->rounding_text, FALSE, FALSE, 0);
  qg_gui_show_rounding(g);
  return box;
}

/** A row of radio buttons drawn as one segmented control ("linked"):
    keyboard focusable, arrow keys move within the group. */
GtkWidget *qg_gui_segmented(qg_gui *g, uint32_t port, int n, const float *values,
                            const char *const *labels, const char *const *tips,
                            const char *css_class)
{
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_style_context_add_class(gtk_widget_get_style_context(box), "linked");
  if (css_class)
    gtk_style_context_add_class(gtk_widget_get_style_context(box), css_class);
  GSList *group = NULL;
  /** A full table drops buttons: said where the GUI tests look. */
  if (g->n_seg + n > QG_MAX_SEG)
    g_warning("quantone-gui: port %u shows %d of its %d buttons: QG_MAX_SEG is too small", port,
              QG_MAX_SEG - g->n_seg, n);
  for (int i = 0; i < n && g->n_seg < QG_MAX_SEG; ++i) {
    seg_item *it = &g->seg[g->n_seg++];
    it->gui = g;
    it->port = port;
    it->value = values[i];
    it->button = gtk_radio_button_new_with_label(group, labels[i]);
    group = gtk_radio_button_get_group(GTK_RADIO_BUTTON(it->button));
    gtk_toggle_button_set_mode(GTK_TOGGLE_BUTTON(it->button), FALSE);
    gtk_widget_set_tooltip_text(it->button, tips[i]);
    gtk_widget_set_hexpand(it->button, TRUE);
    gtk_box_pack_start(GTK_BOX(box), it->button, TRUE, TRUE, 0);
    g_signal_connect(it->button, "toggled", G_CALLBACK(on_seg_toggled), it);
  }
  return box;
}

/* ---- Bit budget -------------------------------------------------------------------- */

/** Below 2 the control is off: the slider says so rather than a number. */
static gchar *budget_text(GtkScale *s, gdouble v, gpointer user)
{
  (void)s, (void)user;
  return v < 2.0 ? g_strdup("off") : g_strdup_printf("%.2f", qt_bit_budget((float)v));
}

/** The section is folded at first: its title says whether the budget is
    on, so a folded section never hides a setting that plays. */
static void show_budget_title(qg_gui *g, float v)
{
  if (!g->budget_title || g->widgets_gone)
    return;
  gchar *value = budget_text(NULL, v, NULL);
  gchar *title = g_strdup_printf("BIT BUDGET (MIXED PRECISION): %s", value);
  gtk_label_set_text(GTK_LABEL(g->budget_title), title);
  g_free(title);
  g_free(value);
}

static void on_budget(GtkRange *r, gpointer user)
{
  qg_gui *g = user;
  const float v = (float)gtk_range_get_value(r);
  show_budget_title(g, v);
  if (!g->updating)
    qg_gui_write_float(g, QT_PORT_BIT_BUDGET, v);
}

static GtkWidget *build_budget(qg_gui *g)
{
  const qt_port_info *info = qt_port_info_get(QT_PORT_BIT_BUDGET);
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *s = gtk_scale_new_with_range(GTK_ORIENTATION_HORIZONTAL, info->min, info->max, 0.25);
  gtk_range_set_value(GTK_RANGE(s), info->def);
  gtk_scale_set_value_pos(GTK_SCALE(s), GTK_POS_RIGHT);
  gtk_scale_add_mark(GTK_SCALE(s), 2.0, GTK_POS_BOTTOM, NULL);
  gtk_scale_add_mark(GTK_SCALE(s), 4.0, GTK_POS_BOTTOM, NULL);
  gtk_widget_set_hexpand(s, TRUE);
  gtk_widget_set_tooltip_text(s, "Mixed precision: 2 to 8 average bits per weight, each weight "
                                 "matrix at 8, 4 or 2 bits by how much output error it adds "
                                 "(measured once per model and scheme: a few seconds the "
                                 "first time). Left of 2: off, every matrix at the precision "
                                 "above. The per-layer view shows each layer's bits.");
  g_signal_connect(s, "format-value", G_CALLBACK(budget_text), NULL);
  g_signal_connect(s, "value-changed", G_CALLBACK(on_budget), g);
  g->scale[QT_PORT_BIT_BUDGET] = s;
  gtk_box_pack_start(GTK_BOX(box), s, FALSE, FALSE, 0);
  g->budget_title = qg_gui_section("");
  show_budget_title(g, info->def);
  return qg_gui_expander(g->budget_title, box, false);
}

/* ---- Slim ------------------------------------------------------------------------ */

static void show_slim_text(qg_gui *g)
{
  if (!g->slim_text || g->widgets_gone)
    return;
  char buf[160];
  qg_slim_describe(&g->data, g->data.port[QT_PORT_SLIM], buf, sizeof buf);
  gtk_label_set_text(GTK_LABEL(g->slim_text), buf);
}

static void on_slim(GtkRange *r, gpointer user)
{
  qg_gui *g = user;
  if (g->updating)
    return;
  qg_gui_write_float(g, QT_PORT_SLIM, (float)gtk_range_get_value(r));
  show_slim_text(g);
}

void qg_gui_show_slim(qg_gui *g)
{
  if (g->widgets_gone || !g->slim_box)
    return;
  const qg_gui_data *d = &g->data;
  GtkScale *s = GTK_SCALE(g->scale[QT_PORT_SLIM]);
  gtk_scale_clear_marks(s);
  if (!d->slimmable) {
    gtk_widget_hide(g->slim_box);
    return;
  }
  /** A mark where each smaller size ends: the breakpoints the player
      hears, between which moving the slider changes nothing. */
  for (int i = 1; i < d->n_slim; ++i)
    gtk_scale_add_mark(s, d->slim[i].lo, GTK_POS_BOTTOM, NULL);
  show_slim_text(g);
  gtk_widget_show(g->slim_box);
}

static GtkWidget *build_slim(qg_gui *g)
{
  const qt_port_info *info = qt_port_info_get(QT_PORT_SLIM);
  g->slim_box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *sec = qg_gui_section("SLIM (MODEL SIZE)");
  GtkWidget *s = gtk_scale_new_with_range(GTK_ORIENTATION_HORIZONTAL, info->min, info->max, 0.01);
  gtk_range_set_value(GTK_RANGE(s), info->def);
  gtk_scale_set_digits(GTK_SCALE(s), 2);
  gtk_scale_set_value_pos(GTK_SCALE(s), GTK_POS_RIGHT);
  gtk_widget_set_hexpand(s, TRUE);
  gtk_widget_set_tooltip_text(s, "Play a smaller size of this slimmable model: less CPU and "
                                 "memory, more error against the full model (the ESR meter "
                                 "and monitor compare with the full-size float model). The "
                                 "marks are where the size changes.");
  g_signal_connect(s, "value-changed", G_CALLBACK(on_slim), g);
  g->scale[QT_PORT_SLIM] = s;
  g->slim_text = gtk_label_new("");
  gtk_style_context_add_class(gtk_widget_get_style_context(g->slim_text), "qt-note");
  gtk_label_set_xalign(GTK_LABEL(g->slim_text), 0);
  gtk_label_set_line_wrap(GTK_LABEL(g->slim_text), TRUE);
  gtk_label_set_max_width_chars(GTK_LABEL(g->slim_text), 34);
  gtk_box_pack_start(GTK_BOX(g->slim_box), sec, FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(g->slim_box), s, FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(g->slim_box), g->slim_text, FALSE, FALSE, 0);
  /** Hidden until a slimmable model's modelInfo arrives; the window's
      show_all must not reveal it. */
  gtk_widget_show_all(g->slim_box);
  gtk_widget_hide(g->slim_box);
  gtk_widget_set_no_show_all(g->slim_box, TRUE);
  return g->slim_box;
}

void qg_gui_show_port_value(qg_gui *g, uint32_t port, float v)
{
  if (g->widgets_gone)
    return;
  g->updating++;
  for (int i = 0; i < g->n_seg; ++i) {
    seg_item *it = &g->seg[i];
    if (it->port == port && fabsf(it->value - v) < 0.5f)
      gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(it->button), TRUE);
  }
  if (g->scale[port])
    gtk_range_set_value(GTK_RANGE(g->scale[port]), v);
  if (port == QT_PORT_ENABLED && g->bypass)
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(g->bypass), v < 0.5f);
  if (port == QT_PORT_ACTIVATIONS || port == QT_PORT_PRECISION || port == QT_PORT_HALF_FORM)
    show_act_cost(g);
  if (port == QT_PORT_PRECISION)
    show_half_form(g);
  if (port == QT_PORT_BIT_BUDGET)
    show_budget_title(g, v);
  if (port == QT_PORT_SLIM)
    show_slim_text(g);
  if (port == QT_PORT_ROUNDING || port == QT_PORT_PRECISION)
    qg_gui_show_rounding(g);
  if (port == QT_PORT_CALIBRATE && g->calibrate)
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(g->calibrate), v > 0.5f);
  if (port == QT_PORT_CALIBRATE || port == QT_PORT_INPUT_DBU || port == QT_PORT_OUTPUT_MODE)
    qg_gui_show_levels(g);
  g->updating--;
}

GtkWidget *qg_gui_build_controls(qg_gui *g)
{
  GtkWidget *c = gtk_box_new(GTK_ORIENTATION_VERTICAL, 3);

  static const float prec_v[] = {32, 16, 8, 4, 2};
  static const char *const prec_l[] = {"FP32", "16", "8", "4", "2"};
  static const char *const prec_t[] = {
      "The float reference: every weight as trained, the sound the others are measured against.",
      "16-bit weights, 2 bytes each, half of float32's 4, in the form chosen below: FP16 "
      "weights (IEEE half, float activations: below -60 dB ESR on every shipped model) or "
      "BF16 compute (bfloat16 weights and activations, float sums).",
      "8-bit weights: 255 levels, usually indistinguishable from the reference. Each weight "
      "takes 1 byte, a quarter of float32's 4; the cost panel's weight memory also counts the "
      "float scale per channel and the float biases.",
      "4-bit weights: 15 levels; the error becomes measurable. Each weight takes half a byte, "
      "an eighth of float32's 4; the cost panel's weight memory also counts the float scale "
      "per channel and the float biases, so it shows more than an eighth.",
      "2-bit weights: 3 levels, audible unless the model was trained for it. Each weight takes "
      "a quarter byte, a sixteenth of float32's 4; the cost panel's weight memory also counts "
      "the float scales and biases."};
  gtk_box_pack_start(GTK_BOX(c), qg_gui_section("PRECISION (BITS PER WEIGHT)"), FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(c),
                     qg_gui_segmented(g, QT_PORT_PRECISION, 5, prec_v, prec_l, prec_t, "qt-prec"),
                     FALSE, FALSE, 0);
  static const float half_v[] = {QT_HALF_FP16, QT_HALF_BF16};
  static const char *const half_l[] = {"FP16 weights", "BF16 compute"};
  static const char *const half_t[] = {
      "At 16 bits: IEEE half weights widened to float in registers (F16C / NEON), float "
      "activations: the closest to the reference.",
      "At 16 bits: bfloat16 weights and activations with float accumulation (vdpbf16ps on "
      "CPUs with AVX512_BF16): coarser, about -50 dB."};
  g->half_form_row = qg_gui_segmented(g, QT_PORT_HALF_FORM, 2, half_v, half_l, half_t, NULL);
  gtk_box_pack_start(GTK_BOX(c), g->half_form_row, FALSE, FALSE, 0);

  static const float map_v[] = {QT_MAPPING_LINEAR, QT_MAPPING_POW2, QT_MAPPING_KMEANS};
  const char *const map_l[] = {qz_mapping_label(QZ_LINEAR), qz_mapping_label(QZ_POW2),
                               qz_mapping_label(QZ_KMEANS)};
  static const char *const map_t[] = {
      "Evenly spaced levels: what integer kernels multiply directly.",
      "Levels at powers of two: dense near zero where most weights are, coarse at the extremes.",
      "Levels learned from this layer's weights (2^bits centroids), so they sit where the "
      "weights are."};
  gtk_box_pack_start(GTK_BOX(c), qg_gui_section("MAPPING"), FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(c), qg_gui_segmented(g, QT_PORT_MAPPING, 3, map_v, map_l, map_t, NULL),
                     FALSE, FALSE, 0);

  static const float sym_v[] = {0, 1};
  static const char *const sym_l[] = {"Symmetric", "Asymmetric"};
  static const char *const sym_t[] = {
      "Levels symmetric around zero, no zero point: cheapest, wastes range on lopsided weights.",
      "Levels fitted to [min, max] with a zero point, so lopsided weights use every level."};
  gtk_box_pack_start(GTK_BOX(c), qg_gui_section("RANGE"), FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(c),
                     qg_gui_segmented(g, QT_PORT_ASYMMETRIC, 2, sym_v, sym_l, sym_t, NULL), FALSE,
                     FALSE, 0);

  static const float gran_v[] = {QT_GRAN_TENSOR, QT_GRAN_CHANNEL, QT_GRAN_GROUP};
  const char *const gran_l[] = {qz_granularity_label(QZ_PER_TENSOR),
                                qz_granularity_label(QZ_PER_CHANNEL),
                                qz_granularity_label(QZ_PER_GROUP)};
  static const char *const gran_t[] = {
      "One scale for the whole matrix: least overhead, one outlier costs every channel.",
      "One scale per output channel: the usual best trade-off.",
      "One scale per 32 inputs of a channel: the finest fit for a little more memory."};
  gtk_box_pack_start(GTK_BOX(c), qg_gui_section("SCALE GRANULARITY"), FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(c),
                     qg_gui_segmented(g, QT_PORT_GRANULARITY, 3, gran_v, gran_l, gran_t, NULL),
                     FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(c), build_rounding(g), FALSE, FALSE, 0);

  static const float act_v[] = {QT_ACT_FLOAT, QT_ACT_DYNAMIC, QT_ACT_STATIC};
  const char *const act_l[] = {qm_actq_label(QM_ACTQ_FLOAT), qm_actq_label(QM_ACTQ_DYNAMIC),
                               qm_actq_label(QM_ACTQ_STATIC)};
  static const char *const act_t[] = {
      "Weight-only: activations stay float, so the weight codes are decoded and multiplied "
      "in float. Saves weight memory, not CPU: about FP32's DSP time.",
      "Int8 dynamic (default): activations rounded to int8 with a scale computed at every "
      "time step, so the integer SIMD kernels run: less DSP time than FP32.",
      "Int8 calibrated: int8 activations with fixed scales from a calibration pass; the "
      "integer kernels as with dynamic, and loud input can clip."};
  gtk_box_pack_start(GTK_BOX(c), qg_gui_section("ACTIVATIONS"), FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(c),
                     qg_gui_segmented(g, QT_PORT_ACTIVATIONS, 3, act_v, act_l, act_t, NULL), FALSE,
                     FALSE, 0);
  g->act_cost = gtk_label_new("");
  gtk_style_context_add_class(gtk_widget_get_style_context(g->act_cost), "qt-note");
  gtk_label_set_xalign(GTK_LABEL(g->act_cost), 0);
  gtk_label_set_line_wrap(GTK_LABEL(g->act_cost), TRUE);
  gtk_label_set_max_width_chars(GTK_LABEL(g->act_cost), 34);
  gtk_box_pack_start(GTK_BOX(c), g->act_cost, FALSE, FALSE, 0);

  gtk_box_pack_start(GTK_BOX(c), build_slim(g), FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(c), build_budget(g), FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(c), qg_gui_build_levels(g), FALSE, FALSE, 0);

  gtk_box_pack_start(GTK_BOX(c), qg_gui_section("HISTOGRAM LAYER"), FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(c), qg_gui_build_hist_combo(g), FALSE, FALSE, 0);
  return qg_gui_column(g, c, qg_gui_build_listen(g));
}
