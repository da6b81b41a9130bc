/*
  The Quantone window (see gui_window.h).

  Feedback loops: a port event from the host sets widgets inside an
  "updating" section, and widget callbacks ignore changes made there, so a
  host or preset change is shown but never written back. User changes are
  written immediately (no apply button): the point is to hear the switch.

  Redraw: port events and notify messages only update plain data and mark
  views dirty; one GLib timeout at 30 Hz queues redraws of dirty views, so
  a burst of messages costs one redraw, never more than 30 per second.

  No GObject types are defined here: the module may be unloaded and
  reloaded by a host, and a registered type cannot be unregistered.
*/
#include "gui_window.h"

#include "gui_data.h"
#include "gui_style.h"
#include "model_status.h"
#include "protocol.h"
#include "quantone_ports.h"
#include "spectrum.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QT_REDRAW_MS 33 /**< 30 Hz */
#define QT_MSG_BUF 8192

enum { V_ESR, V_SPEC, V_SCOPE, V_SQNR, V_HIST, V_COST, V_COUNT };

typedef struct {
  qt_gui *gui;
  uint32_t port;
  float value;
  GtkWidget *button;
} seg_item;

#define QT_MAX_SEG 24

struct qt_gui {
  LV2_URID_Map *map;
  qt_gui_write_fn write;
  void *controller;
  qt_proto proto;
  qt_gui_data data;
  qt_model_status model_status; /**< "model missing: PATH" in the name label */
  qt_spectrum *spec;
  uint8_t msg[QT_MSG_BUF];

  GtkWidget *root;
  GtkCssProvider *css;
  seg_item seg[QT_MAX_SEG];
  int n_seg;
  GtkWidget *scale[QT_PORT_COUNT]; /**< error gain, input, output */
  GtkWidget *bypass;
  GtkWidget *model_name, *model_info, *model_var, *error_box, *error_label;
  GtkWidget *hist_combo;
  GtkWidget *act_cost; /**< what the chosen activations cost, under their buttons */
  GtkWidget *view[V_COUNT];
  bool dirty[V_COUNT];
  guint timer;
  /** The root widget was destroyed (its toplevel went first, as hosts may
      do before cleanup()): every child widget pointer above is dangling. */
  bool widgets_gone;
  int updating;
  bool selftest, force_redraw, reported;
  int reported_x, reported_y;
  char hist_auto_for[4096]; /**< model path the histogram layer was picked for */
  unsigned long draws;
};

/* ---- Small helpers ------------------------------------------------------------ */

static double now_s(void)
{
  return (double)g_get_monotonic_time() / 1e6;
}

static void write_float(qt_gui *g, uint32_t port, float v)
{
  g->data.port[port] = v;
  g->data.port_known[port] = true;
  g->write(g->controller, port, sizeof v, 0, &v);
  if (g->selftest) {
    fprintf(stderr, "quantone-gui: wrote port %u = %g at %.3f\n", port, v, now_s());
    fflush(stderr);
  }
}

static void write_atom(qt_gui *g, uint32_t size)
{
  if (size)
    g->write(g->controller, QT_PORT_CONTROL, size, g->proto.uris.atom_eventTransfer, g->msg);
}

static void mark(qt_gui *g, int v)
{
  g->dirty[v] = true;
}

static GtkWidget *section(const char *text)
{
  GtkWidget *l = gtk_label_new(text);
  gtk_widget_set_halign(l, GTK_ALIGN_START);
  gtk_style_context_add_class(gtk_widget_get_style_context(l), "qt-section");
  return l;
}

/* ---- Segmented buttons ---------------------------------------------------------- */

/** One line on what the chosen activations cost, so the price of the
    weight-only path is visible without hovering. Each fits one line of
    the controls column, so switching never changes the window's height. */
static const char *act_cost_text(const qt_gui *g)
{
  if (g->data.port[QT_PORT_PRECISION] > 16)
    return "FP32 plays: activations apply to 8, 4 and 2 bits.";
  switch ((int)lrintf(g->data.port[QT_PORT_ACTIVATIONS])) {
  case QT_ACT_FLOAT: return "Weight-only: about FP32's CPU; saves memory only.";
  case QT_ACT_DYNAMIC: return "Int8 SIMD kernels: less CPU than FP32.";
  default: return "Int8 SIMD kernels, calibrated: less CPU than FP32.";
  }
}

static void show_act_cost(qt_gui *g)
{
  if (g->act_cost && !g->widgets_gone)
    gtk_label_set_text(GTK_LABEL(g->act_cost), act_cost_text(g));
}

static void on_seg_toggled(GtkToggleButton *b, gpointer user)
{
  seg_item *it = user;
  qt_gui *g = it->gui;
  if (g->updating || !gtk_toggle_button_get_active(b))
    return;
  write_float(g, it->port, it->value);
  if (it->port == QT_PORT_ACTIVATIONS || it->port == QT_PORT_PRECISION)
    show_act_cost(g);
  if (it->port == QT_PORT_PRECISION) {
    g->data.esr.reference = it->value > 16;
    mark(g, V_ESR);
  }
}

/** A row of radio buttons drawn as one segmented control ("linked"):
    keyboard focusable, arrow keys move within the group. */
static GtkWidget *segmented(qt_gui *g, uint32_t port, int n, const float *values,
                            const char *const *labels, const char *const *tips,
                            const char *css_class)
{
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_style_context_add_class(gtk_widget_get_style_context(box), "linked");
  if (css_class)
    gtk_style_context_add_class(gtk_widget_get_style_context(box), css_class);
  GSList *group = NULL;
  for (int i = 0; i < n && g->n_seg < QT_MAX_SEG; ++i) {
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

static void show_port_value(qt_gui *g, uint32_t port, float v)
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
  if (port == QT_PORT_ACTIVATIONS || port == QT_PORT_PRECISION)
    show_act_cost(g);
  g->updating--;
}

/* ---- Scales and bypass ---------------------------------------------------------- */

static void on_scale(GtkRange *r, gpointer user)
{
  qt_gui *g = user;
  if (g->updating)
    return;
  for (uint32_t p = 0; p < QT_PORT_COUNT; ++p)
    if (g->scale[p] == GTK_WIDGET(r))
      write_float(g, p, (float)gtk_range_get_value(r));
}

static gchar *format_db(GtkScale *s, gdouble v, gpointer user)
{
  (void)s;
  (void)user;
  return g_strdup_printf("%+.1f dB", v);
}

static GtkWidget *db_scale(qt_gui *g, uint32_t port, double lo, double hi, double def,
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

static void on_bypass(GtkToggleButton *b, gpointer user)
{
  qt_gui *g = user;
  if (!g->updating)
    write_float(g, QT_PORT_ENABLED, gtk_toggle_button_get_active(b) ? 0.0f : 1.0f);
}

/* ---- Model file ------------------------------------------------------------------- */

static void show_error(qt_gui *g)
{
  if (g->widgets_gone)
    return;
  if (g->data.have_error) {
    gtk_label_set_text(GTK_LABEL(g->error_label), g->data.error);
    gtk_widget_show(g->error_box);
  } else {
    gtk_widget_hide(g->error_box);
  }
  /** Test hook: lets a script check the label's text without OCR. */
  if (g->selftest) {
    fprintf(stderr, "quantone-gui: error label: %s\n",
            g->data.have_error ? gtk_label_get_text(GTK_LABEL(g->error_label)) : "");
    fflush(stderr);
  }
}

static void show_info(qt_gui *g);

static void load_model(qt_gui *g, const char *path)
{
  g->data.have_error = false; /* a new attempt: the old complaint is moot */
  show_error(g);
  qt_model_status_on_user_load(&g->model_status);
  show_info(g);
  write_atom(g, qt_proto_set_model(&g->proto, g->msg, sizeof g->msg, path));
}

static void on_load(GtkButton *b, gpointer user)
{
  qt_gui *g = user;
  GtkWidget *top = gtk_widget_get_toplevel(GTK_WIDGET(b));
  GtkFileChooserNative *fc = gtk_file_chooser_native_new(
      "Load a model capture", gtk_widget_is_toplevel(top) ? GTK_WINDOW(top) : NULL,
      GTK_FILE_CHOOSER_ACTION_OPEN, "_Load", "_Cancel");
  GtkFileFilter *f = gtk_file_filter_new();
  gtk_file_filter_set_name(f, "Models (.nam, .json, .aidax)");
  gtk_file_filter_add_pattern(f, "*.nam");
  gtk_file_filter_add_pattern(f, "*.json");
  gtk_file_filter_add_pattern(f, "*.aidax");
  gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(fc), f);
  GtkFileFilter *all = gtk_file_filter_new();
  gtk_file_filter_set_name(all, "All files");
  gtk_file_filter_add_pattern(all, "*");
  gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(fc), all);
  if (g->data.model_path[0]) {
    char *dir = g_path_get_dirname(g->data.model_path);
    gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(fc), dir);
    g_free(dir);
  }
  if (gtk_native_dialog_run(GTK_NATIVE_DIALOG(fc)) == GTK_RESPONSE_ACCEPT) {
    char *path = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(fc));
    if (path)
      load_model(g, path);
    g_free(path);
  }
  g_object_unref(fc);
}

static void on_dismiss(GtkButton *b, gpointer user)
{
  (void)b;
  qt_gui *g = user;
  g->data.have_error = false;
  show_error(g);
}

static void on_hist_layer(GtkComboBox *c, gpointer user)
{
  qt_gui *g = user;
  int i = gtk_combo_box_get_active(c);
  if (g->updating || i < 0)
    return;
  write_atom(g, qt_proto_set_hist_layer(&g->proto, g->msg, sizeof g->msg, i));
}

static void show_info(qt_gui *g)
{
  if (g->widgets_gone)
    return;
  const qt_gui_data *d = &g->data;
  char buf[1024];
  const char *base = strrchr(d->model_path, '/');
  base = base ? base + 1 : d->model_path;
  qt_model_status_title(&g->model_status, d->model_name, d->model_path, buf, sizeof buf);
  gtk_label_set_text(GTK_LABEL(g->model_name), buf);
  /** A missing model is said where the model is chosen, in the error
      colour, until a model loads; the tooltip has the whole path. */
  GtkStyleContext *sc = gtk_widget_get_style_context(g->model_name);
  if (g->model_status.missing) {
    gtk_style_context_add_class(sc, "qt-missing");
    gtk_widget_set_tooltip_text(g->model_name, g->model_status.path);
  } else {
    gtk_style_context_remove_class(sc, "qt-missing");
    gtk_widget_set_tooltip_text(g->model_name, d->model_path);
  }
  if (g->selftest) {
    fprintf(stderr, "quantone-gui: model label: %s\n", buf);
    fflush(stderr);
  }
  if (!d->have_info) {
    gtk_label_set_text(GTK_LABEL(g->model_info), "");
    return;
  }
  char params[32];
  if (d->weight_count >= 1000000)
    snprintf(params, sizeof params, "%.2fM", (double)d->weight_count / 1e6);
  else if (d->weight_count >= 1000)
    snprintf(params, sizeof params, "%.1fk", (double)d->weight_count / 1e3);
  else
    snprintf(params, sizeof params, "%lld", (long long)d->weight_count);
  char rate[128];
  if (d->host_rate > 0 && fabs(d->host_rate - d->model_rate) > 0.5)
    snprintf(rate, sizeof rate, "%g kHz model, %g kHz host: %s", d->model_rate / 1000,
             d->host_rate / 1000, d->resampling ? "resampled" : "NOT resampled");
  else
    snprintf(rate, sizeof rate, "%g kHz", d->model_rate / 1000);
  snprintf(buf, sizeof buf, "%s  ·  %s parameters  ·  %s  ·  latency %d  ·  %.300s", d->architecture,
           params, rate, d->latency, base);
  gtk_label_set_text(GTK_LABEL(g->model_info), buf);
  gtk_label_set_text(GTK_LABEL(g->model_var), d->variant);

  g->updating++;
  gtk_combo_box_text_remove_all(GTK_COMBO_BOX_TEXT(g->hist_combo));
  for (int i = 0; i < d->n_linears; ++i) {
    char item[64];
    snprintf(item, sizeof item, "%d  %s", i + 1, d->linear_names[i]);
    gtk_combo_box_text_append_text(GTK_COMBO_BOX_TEXT(g->hist_combo), item);
  }
  if (d->hist.valid)
    for (int i = 0; i < d->n_linears; ++i)
      if (!strcmp(d->linear_names[i], d->hist.layer))
        gtk_combo_box_set_active(GTK_COMBO_BOX(g->hist_combo), i);
  g->updating--;
}

/* ---- Views -------------------------------------------------------------------------- */

static gboolean on_draw(GtkWidget *w, cairo_t *cr, gpointer user)
{
  qt_gui *g = user;
  double W = gtk_widget_get_allocated_width(w), H = gtk_widget_get_allocated_height(w);
  const qt_gui_data *d = &g->data;
  int v = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(w), "qt-view"));
  switch (v) {
  case V_ESR: qt_view_esr(cr, W, H, &d->esr); break;
  case V_SPEC: qt_view_spectrum(cr, W, H, &d->spectrum); break;
  case V_SCOPE: qt_view_scope(cr, W, H, &d->scope); break;
  case V_SQNR: qt_view_sqnr(cr, W, H, &d->sqnr); break;
  case V_HIST: qt_view_hist(cr, W, H, &d->hist); break;
  default: qt_view_cost(cr, W, H, &d->cost); break;
  }
  g->draws++;
  return TRUE;
}

static GtkWidget *view_area(qt_gui *g, int v, int min_w, int min_h)
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

/** Test hook: where the precision buttons are in the toplevel, printed
    again whenever the layout moves them (e.g. the error bar appears). */
static void report_geometry(qt_gui *g)
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
    fprintf(stderr, "quantone-gui: button precision=%g at %d %d size %d %d\n",
            g->seg[i].value, x, y, a.width, a.height);
  }
  fflush(stderr);
}

static gboolean on_tick(gpointer user)
{
  qt_gui *g = user;
  qt_gui_data *d = &g->data;
  /** The history advances with time, not with messages, so its x axis
      is seconds even when the host sends meter values irregularly. */
  if (d->esr.valid) {
    qt_esr_push(&d->esr, d->esr.esr_db);
    mark(g, V_ESR);
  }
  for (int v = 0; v < V_COUNT; ++v) {
    if ((g->dirty[v] || g->force_redraw) && g->view[v] && gtk_widget_get_mapped(g->view[v]))
      gtk_widget_queue_draw(g->view[v]);
    g->dirty[v] = false;
  }
  if (g->selftest && gtk_widget_get_mapped(g->root))
    report_geometry(g);
  write_atom(g, qt_proto_alive_tick(&g->proto, g->msg, sizeof g->msg));
  return G_SOURCE_CONTINUE;
}

/* ---- Keyboard ----------------------------------------------------------------------- */

/** Shortcuts a player can hit without aiming: f / 8 / 4 / 2 pick the
    precision, m cycles the monitor. Only keys the focused widget did not
    use reach here (the event bubbles up from the focus widget). */
static gboolean on_key(GtkWidget *w, GdkEventKey *ev, gpointer user)
{
  (void)w;
  qt_gui *g = user;
  if (ev->state & (GDK_CONTROL_MASK | GDK_MOD1_MASK))
    return FALSE;
  float prec = 0;
  switch (ev->keyval) {
  case GDK_KEY_f: prec = 32; break;
  case GDK_KEY_8: prec = 8; break;
  case GDK_KEY_4: prec = 4; break;
  case GDK_KEY_2: prec = 2; break;
  case GDK_KEY_m: {
    float m = g->data.port[QT_PORT_MONITOR];
    float next = (float)(((int)m + 1) % 3);
    for (int i = 0; i < g->n_seg; ++i)
      if (g->seg[i].port == QT_PORT_MONITOR && g->seg[i].value == next)
        gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(g->seg[i].button), TRUE);
    return TRUE;
  }
  default: return FALSE;
  }
  for (int i = 0; i < g->n_seg; ++i)
    if (g->seg[i].port == QT_PORT_PRECISION && g->seg[i].value == prec)
      gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(g->seg[i].button), TRUE);
  return TRUE;
}

/* ---- Construction -------------------------------------------------------------------- */

static GtkWidget *build_controls(qt_gui *g)
{
  GtkWidget *c = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
  gtk_style_context_add_class(gtk_widget_get_style_context(c), "qt-controls");
  gtk_widget_set_size_request(c, 290, -1);

  static const float prec_v[] = {32, 8, 4, 2};
  static const char *const prec_l[] = {"FP32", "8", "4", "2"};
  static const char *const prec_t[] = {
      "The float reference: every weight as trained, the sound the others are measured against.",
      "8-bit weights: 255 levels, usually indistinguishable from the reference. Each weight "
      "takes 1 byte, a quarter of float32's 4; the cost panel's weight memory also counts the "
      "float scale per channel and the float biases.",
      "4-bit weights: 15 levels; the error becomes measurable. Each weight takes half a byte, "
      "an eighth of float32's 4; the cost panel's weight memory also counts the float scale "
      "per channel and the float biases, so it shows more than an eighth.",
      "2-bit weights: 3 levels, audible unless the model was trained for it. Each weight takes "
      "a quarter byte, a sixteenth of float32's 4; the cost panel's weight memory also counts "
      "the float scales and biases."};
  gtk_box_pack_start(GTK_BOX(c), section("PRECISION (BITS PER WEIGHT)"), FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(c), segmented(g, QT_PORT_PRECISION, 4, prec_v, prec_l, prec_t,
                                           "qt-prec"),
                     FALSE, FALSE, 0);

  static const float map_v[] = {QT_MAPPING_LINEAR, QT_MAPPING_POW2, QT_MAPPING_KMEANS};
  static const char *const map_l[] = {"Linear", "Power of 2", "K-means"};
  static const char *const map_t[] = {
      "Evenly spaced levels: what integer kernels multiply directly.",
      "Levels at powers of two: dense near zero where most weights are, coarse at the extremes.",
      "Levels learned from this layer's weights (2^bits centroids), so they sit where the "
      "weights are."};
  gtk_box_pack_start(GTK_BOX(c), section("MAPPING"), FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(c),
                     segmented(g, QT_PORT_MAPPING, 3, map_v, map_l, map_t, NULL), FALSE,
                     FALSE, 0);

  static const float sym_v[] = {0, 1};
  static const char *const sym_l[] = {"Symmetric", "Asymmetric"};
  static const char *const sym_t[] = {
      "Levels symmetric around zero, no zero point: cheapest, wastes range on lopsided weights.",
      "Levels fitted to [min, max] with a zero point, so lopsided weights use every level."};
  gtk_box_pack_start(GTK_BOX(c), section("RANGE"), FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(c),
                     segmented(g, QT_PORT_ASYMMETRIC, 2, sym_v, sym_l, sym_t, NULL), FALSE,
                     FALSE, 0);

  static const float gran_v[] = {QT_GRAN_TENSOR, QT_GRAN_CHANNEL, QT_GRAN_GROUP};
  static const char *const gran_l[] = {"Tensor", "Channel", "Group 32"};
  static const char *const gran_t[] = {
      "One scale for the whole matrix: least overhead, one outlier costs every channel.",
      "One scale per output channel: the usual best trade-off.",
      "One scale per 32 inputs of a channel: the finest fit for a little more memory."};
  gtk_box_pack_start(GTK_BOX(c), section("SCALE GRANULARITY"), FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(c),
                     segmented(g, QT_PORT_GRANULARITY, 3, gran_v, gran_l, gran_t, NULL), FALSE,
                     FALSE, 0);

  static const float act_v[] = {QT_ACT_FLOAT, QT_ACT_DYNAMIC, QT_ACT_STATIC};
  static const char *const act_l[] = {"Float", "Int8 dyn", "Int8 cal"};
  static const char *const act_t[] = {
      "Weight-only: activations stay float, so the weight codes are decoded and multiplied "
      "in float. Saves weight memory, not CPU: about FP32's DSP time.",
      "Int8 dynamic (default): activations rounded to int8 with a scale computed at every "
      "time step, so the integer SIMD kernels run: less DSP time than FP32.",
      "Int8 calibrated: int8 activations with fixed scales from a calibration pass; the "
      "integer kernels as with dynamic, and loud input can clip."};
  gtk_box_pack_start(GTK_BOX(c), section("ACTIVATIONS"), FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(c),
                     segmented(g, QT_PORT_ACTIVATIONS, 3, act_v, act_l, act_t, NULL), FALSE,
                     FALSE, 0);
  g->act_cost = gtk_label_new("");
  gtk_style_context_add_class(gtk_widget_get_style_context(g->act_cost), "qt-note");
  gtk_label_set_xalign(GTK_LABEL(g->act_cost), 0);
  gtk_label_set_line_wrap(GTK_LABEL(g->act_cost), TRUE);
  gtk_label_set_max_width_chars(GTK_LABEL(g->act_cost), 34);
  gtk_box_pack_start(GTK_BOX(c), g->act_cost, FALSE, FALSE, 0);

  static const float mon_v[] = {QT_MONITOR_QUANTIZED, QT_MONITOR_REFERENCE, QT_MONITOR_ERROR};
  static const char *const mon_l[] = {"Quantized", "Reference", "Error"};
  static const char *const mon_t[] = {
      "Hear the quantized model: what this setting sounds like.",
      "Hear the float reference, for A/B comparison.",
      "Hear only the difference (quantized minus reference), raised by the error gain."};
  gtk_box_pack_start(GTK_BOX(c), section("MONITOR"), FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(c),
                     segmented(g, QT_PORT_MONITOR, 3, mon_v, mon_l, mon_t, NULL), FALSE,
                     FALSE, 0);

  GtkWidget *grid = gtk_grid_new();
  gtk_grid_set_row_spacing(GTK_GRID(grid), 0);
  gtk_grid_set_column_spacing(GTK_GRID(grid), 8);
  const struct {
    const char *label;
    uint32_t port;
    double lo, hi, def;
    const char *tip;
  } sc[] = {
      {"Error gain", QT_PORT_ERROR_GAIN, 0, 60, 20,
       "Gain applied to the error signal when the monitor plays the error."},
      {"Input", QT_PORT_INPUT_LEVEL, -24, 24, 0, "Level into the model (drives the capture)."},
      {"Output", QT_PORT_OUTPUT_LEVEL, -40, 12, 0, "Level after the model."},
  };
  for (int i = 0; i < 3; ++i) {
    GtkWidget *l = gtk_label_new(sc[i].label);
    gtk_widget_set_halign(l, GTK_ALIGN_START);
    gtk_grid_attach(GTK_GRID(grid), l, 0, i, 1, 1);
    gtk_grid_attach(GTK_GRID(grid), db_scale(g, sc[i].port, sc[i].lo, sc[i].hi, sc[i].def,
                                             sc[i].tip),
                    1, i, 1, 1);
  }
  gtk_box_pack_start(GTK_BOX(c), section("LEVELS"), FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(c), grid, FALSE, FALSE, 0);

  gtk_box_pack_start(GTK_BOX(c), section("HISTOGRAM LAYER"), FALSE, FALSE, 0);
  g->hist_combo = gtk_combo_box_text_new();
  gtk_widget_set_tooltip_text(g->hist_combo,
                              "The weight matrix whose histogram and levels are shown.");
  g_signal_connect(g->hist_combo, "changed", G_CALLBACK(on_hist_layer), g);
  gtk_box_pack_start(GTK_BOX(c), g->hist_combo, FALSE, FALSE, 0);

  GtkWidget *spacer = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
  gtk_box_pack_start(GTK_BOX(c), spacer, TRUE, TRUE, 0);
  g->bypass = gtk_toggle_button_new_with_mnemonic("_Bypass");
  gtk_style_context_add_class(gtk_widget_get_style_context(g->bypass), "qt-bypass");
  gtk_widget_set_tooltip_text(g->bypass, "Pass the input through untouched (latency kept).");
  g_signal_connect(g->bypass, "toggled", G_CALLBACK(on_bypass), g);
  gtk_box_pack_start(GTK_BOX(c), g->bypass, FALSE, FALSE, 4);
  return c;
}

static GtkWidget *build_header(qt_gui *g)
{
  GtkWidget *h = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 14);
  GtkWidget *brand = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *title = gtk_label_new("QUANTONE");
  gtk_style_context_add_class(gtk_widget_get_style_context(title), "qt-title");
  gtk_widget_set_halign(title, GTK_ALIGN_START);
  GtkWidget *sub = gtk_label_new("neural amp captures at low precision");
  gtk_style_context_add_class(gtk_widget_get_style_context(sub), "qt-subtitle");
  gtk_widget_set_halign(sub, GTK_ALIGN_START);
  gtk_box_pack_start(GTK_BOX(brand), title, FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(brand), sub, FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(h), brand, FALSE, FALSE, 0);

  GtkWidget *load = gtk_button_new_with_mnemonic("_Load model…");
  gtk_style_context_add_class(gtk_widget_get_style_context(load), "qt-load");
  gtk_widget_set_tooltip_text(load, "Open a .nam capture or an AIDA-X / RTNeural .json model.");
  gtk_widget_set_valign(load, GTK_ALIGN_CENTER);
  g_signal_connect(load, "clicked", G_CALLBACK(on_load), g);
  gtk_box_pack_start(GTK_BOX(h), load, FALSE, FALSE, 10);

  GtkWidget *info = gtk_box_new(GTK_ORIENTATION_VERTICAL, 1);
  g->model_name = gtk_label_new("No model");
  gtk_style_context_add_class(gtk_widget_get_style_context(g->model_name), "qt-model-name");
  g->model_info = gtk_label_new("");
  gtk_style_context_add_class(gtk_widget_get_style_context(g->model_info), "qt-model-info");
  g->model_var = gtk_label_new("");
  gtk_style_context_add_class(gtk_widget_get_style_context(g->model_var), "qt-variant");
  GtkWidget *labels[] = {g->model_name, g->model_info, g->model_var};
  for (int i = 0; i < 3; ++i) {
    gtk_widget_set_halign(labels[i], GTK_ALIGN_START);
    gtk_label_set_ellipsize(GTK_LABEL(labels[i]), PANGO_ELLIPSIZE_MIDDLE);
    gtk_label_set_xalign(GTK_LABEL(labels[i]), 0);
    gtk_box_pack_start(GTK_BOX(info), labels[i], FALSE, FALSE, 0);
  }
  gtk_widget_set_hexpand(info, TRUE);
  gtk_box_pack_start(GTK_BOX(h), info, TRUE, TRUE, 0);
  return h;
}

static GtkWidget *build_error(qt_gui *g)
{
  g->error_box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
  gtk_style_context_add_class(gtk_widget_get_style_context(g->error_box), "qt-error");
  GtkWidget *icon = gtk_label_new("⚠");
  g->error_label = gtk_label_new("");
  gtk_label_set_line_wrap(GTK_LABEL(g->error_label), TRUE);
  gtk_label_set_xalign(GTK_LABEL(g->error_label), 0);
  gtk_label_set_selectable(GTK_LABEL(g->error_label), TRUE);
  gtk_widget_set_hexpand(g->error_label, TRUE);
  GtkWidget *x = gtk_button_new_with_label("Dismiss");
  gtk_widget_set_valign(x, GTK_ALIGN_CENTER);
  g_signal_connect(x, "clicked", G_CALLBACK(on_dismiss), g);
  gtk_box_pack_start(GTK_BOX(g->error_box), icon, FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(g->error_box), g->error_label, TRUE, TRUE, 0);
  gtk_box_pack_start(GTK_BOX(g->error_box), x, FALSE, FALSE, 0);
  /** Hidden until there is an error: show_all of the window must skip the
      box, so its children are shown here and the box alone toggles. */
  gtk_widget_show(icon);
  gtk_widget_show(g->error_label);
  gtk_widget_show(x);
  gtk_widget_set_no_show_all(g->error_box, TRUE);
  return g->error_box;
}

/** The host destroyed our widget tree before cleanup() (jalv.gtk3 and
    Carla's bridge destroy the window first, which the LV2 UI spec allows).
    GTK has finalized every child by the time the container's "destroy"
    returns, while g->root itself survives on our reference: from here on
    only plain data may be touched, and nothing may run on a timer. */
static void on_root_destroy(GtkWidget *w, gpointer user)
{
  (void)w;
  qt_gui *g = user;
  g->widgets_gone = true;
  if (g->timer) {
    g_source_remove(g->timer);
    g->timer = 0;
  }
}

qt_gui *qt_gui_new(LV2_URID_Map *map, qt_gui_write_fn write, void *controller)
{
  qt_gui *g = calloc(1, sizeof *g);
  if (!g)
    return NULL;
  g->map = map;
  g->write = write;
  g->controller = controller;
  qt_proto_init(&g->proto, map);
  g->spec = qt_spectrum_new(1024);
  g->selftest = getenv("QUANTONE_GUI_SELFTEST") != NULL;
  g->force_redraw = getenv("QUANTONE_GUI_FORCE_REDRAW") != NULL;
  g->data.cost.dsp_ratio = 1.0f;

  g->root = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
  g_object_ref_sink(g->root);
  gtk_style_context_add_class(gtk_widget_get_style_context(g->root), "qt-root");
  gtk_container_set_border_width(GTK_CONTAINER(g->root), 10);
  gtk_box_pack_start(GTK_BOX(g->root), build_header(g), FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(g->root), build_error(g), FALSE, FALSE, 0);

  GtkWidget *body = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 10);
  gtk_box_pack_start(GTK_BOX(body), build_controls(g), FALSE, FALSE, 0);
  GtkWidget *grid = gtk_grid_new();
  gtk_grid_set_row_spacing(GTK_GRID(grid), 8);
  gtk_grid_set_column_spacing(GTK_GRID(grid), 8);
  gtk_grid_set_column_homogeneous(GTK_GRID(grid), TRUE);
  /** These sizes are the window's natural size in every host (the
      in-process UI and the external UI's helper both open at it): room
      for each plot's axes and legend, not more. */
  gtk_grid_attach(GTK_GRID(grid), view_area(g, V_ESR, 350, 200), 0, 0, 1, 1);
  gtk_grid_attach(GTK_GRID(grid), view_area(g, V_SPEC, 350, 200), 1, 0, 1, 1);
  gtk_grid_attach(GTK_GRID(grid), view_area(g, V_SCOPE, 350, 200), 0, 1, 1, 1);
  gtk_grid_attach(GTK_GRID(grid), view_area(g, V_SQNR, 350, 200), 1, 1, 1, 1);
  gtk_grid_attach(GTK_GRID(grid), view_area(g, V_HIST, 350, 180), 0, 2, 1, 1);
  gtk_grid_attach(GTK_GRID(grid), view_area(g, V_COST, 350, 180), 1, 2, 1, 1);
  gtk_widget_set_hexpand(grid, TRUE);
  gtk_box_pack_start(GTK_BOX(body), grid, TRUE, TRUE, 0);
  gtk_box_pack_start(GTK_BOX(g->root), body, TRUE, TRUE, 0);

  gtk_widget_add_events(g->root, GDK_KEY_PRESS_MASK);
  g_signal_connect(g->root, "key-press-event", G_CALLBACK(on_key), g);
  g_signal_connect(g->root, "destroy", G_CALLBACK(on_root_destroy), g);

  g->css = qt_gui_style(g->root);

  /* Defaults shown until the host tells us the real values. */
  static const float defaults[][2] = {{QT_PORT_PRECISION, 8}, {QT_PORT_GRANULARITY, 1},
                                      {QT_PORT_MAPPING, 0},   {QT_PORT_ASYMMETRIC, 0},
                                      {QT_PORT_ACTIVATIONS, QT_ACT_DYNAMIC},
                                      {QT_PORT_MONITOR, 0},
                                      {QT_PORT_ENABLED, 1}};
  for (size_t i = 0; i < sizeof defaults / sizeof *defaults; ++i) {
    g->data.port[(int)defaults[i][0]] = defaults[i][1];
    show_port_value(g, (uint32_t)defaults[i][0], defaults[i][1]);
  }
  gtk_widget_show_all(g->root);

  g->timer = g_timeout_add(QT_REDRAW_MS, on_tick, g);

  write_atom(g, qt_proto_get(&g->proto, g->msg, sizeof g->msg));
  /* alive before the first tick, so the answer to patch:Get is complete */
  write_atom(g, qt_proto_alive_tick(&g->proto, g->msg, sizeof g->msg));
  /** Test hooks for scripted checks (tests/gui): load a file as if
      chosen in the dialog, or write one control as if clicked. */
  const char *load = getenv("QUANTONE_GUI_TEST_LOAD");
  if (load && *load)
    load_model(g, load);
  const char *set = getenv("QUANTONE_GUI_TEST_SET");
  unsigned port;
  float val;
  if (set && sscanf(set, "%u=%f", &port, &val) == 2 && port < QT_PORT_COUNT)
    write_float(g, port, val);
  return g;
}

GtkWidget *qt_gui_widget(qt_gui *g)
{
  return g->root;
}

void qt_gui_port_event(qt_gui *g, uint32_t port, uint32_t size, uint32_t format,
                       const void *buffer)
{
  qt_gui_data *d = &g->data;
  if (format == 0 && size == sizeof(float) && port < QT_PORT_COUNT) {
    float v = *(const float *)buffer;
    bool changed = !d->port_known[port] || d->port[port] != v;
    d->port[port] = v;
    d->port_known[port] = true;
    switch (port) {
    case QT_PORT_ESR_DB:
      d->esr.esr_db = v;
      d->esr.valid = v > -119.5f;
      mark(g, V_ESR);
      break;
    case QT_PORT_CLIPPED:
      d->esr.clipped_per_s = d->cost.clipped_per_s = v;
      mark(g, V_COST);
      break;
    case QT_PORT_DSP_RATIO:
      d->cost.dsp_ratio = v;
      mark(g, V_COST);
      break;
    case QT_PORT_WEIGHT_BYTES:
      d->cost.weight_bytes = v;
      mark(g, V_COST);
      /* Test hook: when the plugin's active variant changed, and when. */
      if (changed && g->selftest) {
        fprintf(stderr, "quantone-gui: port %u = %g at %.3f\n", port, v, now_s());
        fflush(stderr);
      }
      break;
    case QT_PORT_LATENCY:
      d->cost.latency = (int)v;
      mark(g, V_COST);
      break;
    default:
      if (changed && g->selftest) {
        fprintf(stderr, "quantone-gui: port %u = %g\n", port, v);
        fflush(stderr);
      }
      if (port == QT_PORT_PRECISION) {
        d->esr.reference = v > 16;
        mark(g, V_ESR);
      }
      show_port_value(g, port, v);
      break;
    }
    return;
  }
  if (format != g->proto.uris.atom_eventTransfer || port != QT_PORT_NOTIFY)
    return;
  unsigned chg = qt_proto_decode(&g->proto, buffer, size, d);
  if (chg & QT_CHG_ERROR) {
    qt_model_status_on_error(&g->model_status, d->error, d->have_info ? d->model_path : NULL);
    chg |= QT_CHG_PATH; /* the name label may change */
  }
  if (chg & QT_CHG_INFO)
    qt_model_status_on_info(&g->model_status, d->model_path);
  if (chg & (QT_CHG_PATH | QT_CHG_INFO)) {
    show_info(g);
    mark(g, V_COST);
  }
  /** A new model: show a convolution's weights rather than the first
      matrix (often a tiny 1 x N input mix with nothing to see). */
  if ((chg & QT_CHG_INFO) && d->n_linears > 0 && strcmp(g->hist_auto_for, d->model_path)) {
    snprintf(g->hist_auto_for, sizeof g->hist_auto_for, "%s", d->model_path);
    for (int i = 0; i < d->n_linears; ++i)
      if (strstr(d->linear_names[i], "conv")) {
        if (!(d->hist.valid && !strcmp(d->hist.layer, d->linear_names[i])))
          write_atom(g, qt_proto_set_hist_layer(&g->proto, g->msg, sizeof g->msg, i));
        break;
      }
  }
  if (chg & QT_CHG_ERROR)
    show_error(g);
  if (chg & QT_CHG_FRAMES) {
    qt_esr_note_reference(&d->esr, d->scope.ref, d->scope.n);
    mark(g, V_ESR);
    if (g->spec)
      qt_spectrum_feed(g->spec, d->scope.ref, d->scope.diff, d->scope.n, d->scope.rate,
                       &d->spectrum);
    mark(g, V_SCOPE);
    mark(g, V_SPEC);
  }
  if (chg & QT_CHG_SQNR)
    mark(g, V_SQNR);
  if (chg & QT_CHG_HIST) {
    mark(g, V_HIST);
    show_info(g); /* selects the layer in the combo */
  }
}

void qt_gui_free(qt_gui *g)
{
  if (!g)
    return;
  if (g->timer)
    g_source_remove(g->timer);
  /** Disconnect everything that points at g before it goes: the host may
      keep the widgets alive a little longer than us. Once the root was
      destroyed the children are finalized and there is nothing left to
      disconnect from them (only the root, which our reference keeps). */
  g_signal_handlers_disconnect_by_data(g->root, g);
  if (!g->widgets_gone) {
    for (int v = 0; v < V_COUNT; ++v)
      if (g->view[v])
        g_signal_handlers_disconnect_by_data(g->view[v], g);
    for (int i = 0; i < g->n_seg; ++i)
      g_signal_handlers_disconnect_by_data(g->seg[i].button, &g->seg[i]);
    gtk_widget_destroy(g->root);
  }
  g_object_unref(g->root);
  g_object_unref(g->css);
  qt_spectrum_free(g->spec);
  if (g->selftest)
    fprintf(stderr, "quantone-gui: %lu view redraws\n", g->draws);
  free(g);
}
