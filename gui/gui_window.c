/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The Quantone window (see gui_window.h): construction, port events and
  notify messages in, the redraw timer, keyboard shortcuts, teardown. The
  widgets of each area are built in their own file (gui_internal.h).

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
#include "gui_internal.h"

#include "gui_style.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QG_REDRAW_MS 33 /**< 30 Hz */

/* ---- Small helpers ------------------------------------------------------------ */

double qg_gui_now_s(void) { return (double)g_get_monotonic_time() / 1e6; }

void qg_gui_write_float(qg_gui *g, uint32_t port, float v)
{
  g->data.port[port] = v;
  g->data.port_known[port] = true;
  g->write(g->controller, port, sizeof v, 0, &v);
  if (port == QT_PORT_CALIBRATE || port == QT_PORT_INPUT_DBU || port == QT_PORT_OUTPUT_MODE)
    qg_gui_show_levels(g);
  qg_hook_log(g, "quantone-gui: wrote port %u = %g at %.3f\n", port, v, qg_gui_now_s());
}

void qg_gui_write_atom(qg_gui *g, uint32_t size)
{
  if (size)
    g->write(g->controller, QT_PORT_CONTROL, size, g->proto.uris.atom_eventTransfer, g->msg);
}

void qg_gui_mark(qg_gui *g, int v) { g->dirty[v] = true; }

GtkWidget *qg_gui_section(const char *text)
{
  GtkWidget *l = gtk_label_new(text);
  gtk_widget_set_halign(l, GTK_ALIGN_START);
  gtk_style_context_add_class(gtk_widget_get_style_context(l), "qt-section");
  return l;
}

static gboolean on_tick(gpointer user)
{
  qg_gui *g = user;
  qg_gui_data *d = &g->data;
  /** The history advances with time, not with messages, so its x axis
      is seconds even when the host sends meter values irregularly. */
  if (d->esr.valid) {
    qg_esr_push(&d->esr, d->esr.esr_db);
    qg_gui_mark(g, V_ESR);
  }
  for (int v = 0; v < V_COUNT; ++v) {
    if ((g->dirty[v] || g->force_redraw) && g->view[v] && gtk_widget_get_mapped(g->view[v]))
      gtk_widget_queue_draw(g->view[v]);
    g->dirty[v] = false;
  }
  qg_hooks_tick(g);
  qg_gui_write_atom(g, qg_proto_alive_tick(&g->proto, g->msg, sizeof g->msg));
  return G_SOURCE_CONTINUE;
}

/* ---- Keyboard ----------------------------------------------------------------------- */

/** Shortcuts a player can hit without aiming: f / 8 / 4 / 2 pick the
    precision, m cycles the monitor. Only keys the focused widget did not
    use reach here (the event bubbles up from the focus widget). */
static gboolean on_key(GtkWidget *w, GdkEventKey *ev, gpointer user)
{
  (void)w;
  qg_gui *g = user;
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

/** The host destroyed our widget tree before cleanup() (jalv.gtk3 and
    Carla's bridge destroy the window first, which the LV2 UI spec allows).
    GTK has finalized every child by the time the container's "destroy"
    returns, while g->root itself survives on our reference: from here on
    only plain data may be touched, and nothing may run on a timer. */
static void on_root_destroy(GtkWidget *w, gpointer user)
{
  (void)w;
  qg_gui *g = user;
  g->widgets_gone = true;
  if (g->timer) {
    g_source_remove(g->timer);
    g->timer = 0;
  }
}

qg_gui *qg_gui_new(LV2_URID_Map *map, qg_gui_write_fn write, void *controller)
{
  qg_gui *g = calloc(1, sizeof *g);
  if (!g)
    return NULL;
  g->map = map;
  g->write = write;
  g->controller = controller;
  qg_proto_init(&g->proto, map);
  g->spec = qg_spectrum_new(1024);
  qg_hooks_init(g);
  g->data.cost.dsp_ratio = 1.0f;

  g->root = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
  g_object_ref_sink(g->root);
  gtk_style_context_add_class(gtk_widget_get_style_context(g->root), "qt-root");
  gtk_container_set_border_width(GTK_CONTAINER(g->root), 10);
  gtk_box_pack_start(GTK_BOX(g->root), qg_gui_build_header(g), FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(g->root), qg_gui_build_error(g), FALSE, FALSE, 0);

  GtkWidget *body = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 10);
  gtk_box_pack_start(GTK_BOX(body), qg_gui_build_controls(g), FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(body), qg_gui_build_views(g), TRUE, TRUE, 0);
  gtk_box_pack_start(GTK_BOX(g->root), body, TRUE, TRUE, 0);

  gtk_widget_add_events(g->root, GDK_KEY_PRESS_MASK);
  g_signal_connect(g->root, "key-press-event", G_CALLBACK(on_key), g);
  g_signal_connect(g->root, "destroy", G_CALLBACK(on_root_destroy), g);

  g->css = qg_gui_style(g->root);

  /** Every control shows the port table's default until the host tells
      the real value (a host may never send one for a port at its
      default), so the GUI cannot disagree with the Turtle or the plugin. */
  for (int p = 0; p < QT_PORT_COUNT; ++p) {
    const qt_port_info *info = qt_port_info_get(p);
    if (info->kind != QT_KIND_CONTROL_IN)
      continue;
    g->data.port[p] = info->def;
    qg_gui_show_port_value(g, (uint32_t)p, info->def);
  }
  gtk_widget_show_all(g->root);

  g->timer = g_timeout_add(QG_REDRAW_MS, on_tick, g);

  qg_gui_write_atom(g, qg_proto_get(&g->proto, g->msg, sizeof g->msg));
  /* alive before the first tick, so the answer to patch:Get is complete */
  qg_gui_write_atom(g, qg_proto_alive_tick(&g->proto, g->msg, sizeof g->msg));
  qg_hooks_started(g);
  return g;
}

GtkWidget *qg_gui_widget(qg_gui *g) { return g->root; }

void qg_gui_port_event(qg_gui *g, uint32_t port, uint32_t size, uint32_t format, const void *buffer)
{
  qg_gui_data *d = &g->data;
  if (format == 0 && size == sizeof(float) && port < QT_PORT_COUNT) {
    float v = *(const float *)buffer;
    bool changed = !d->port_known[port] || d->port[port] != v;
    d->port[port] = v;
    d->port_known[port] = true;
    switch (port) {
    case QT_PORT_ESR_DB:
      d->esr.esr_db = v;
      d->esr.valid = v > -119.5f;
      qg_gui_mark(g, V_ESR);
      break;
    case QT_PORT_CLIPPED:
      d->esr.clipped_per_s = d->cost.clipped_per_s = v;
      qg_gui_mark(g, V_COST);
      break;
    case QT_PORT_DSP_RATIO:
      d->cost.dsp_ratio = v;
      qg_gui_mark(g, V_COST);
      break;
    case QT_PORT_WEIGHT_BYTES:
      d->cost.weight_bytes = v;
      qg_gui_mark(g, V_COST);
      /* Test hook: when the plugin's active variant changed, and when. */
      if (changed) {
        qg_hook_log(g, "quantone-gui: port %u = %g at %.3f\n", port, v, qg_gui_now_s());
        qg_hooks_views(g, false, true);
      }
      break;
    case QT_PORT_LATENCY:
      d->cost.latency = (int)v;
      qg_gui_mark(g, V_COST);
      break;
    default:
      if (changed)
        qg_hook_log(g, "quantone-gui: port %u = %g\n", port, v);
      if (port == QT_PORT_PRECISION) {
        d->esr.reference = v > 20;
        qg_gui_mark(g, V_ESR);
      }
      qg_gui_show_port_value(g, port, v);
      break;
    }
    return;
  }
  if (format != g->proto.uris.atom_eventTransfer || port != QT_PORT_NOTIFY)
    return;
  unsigned chg = qg_proto_decode(&g->proto, buffer, size, d);
  if (chg & QG_CHG_ERROR) {
    qg_model_status_on_error(&g->model_status, d->error, d->have_info ? d->model_path : NULL);
    chg |= QG_CHG_PATH; /* the name label may change */
  }
  if (chg & QG_CHG_INFO) {
    qg_model_status_on_info(&g->model_status, d->model_path);
    qg_gui_show_slim(g);
    qg_gui_show_levels(g);
    qg_gui_show_recent(g);
  }
  if (chg & (QG_CHG_PATH | QG_CHG_INFO)) {
    qg_gui_show_info(g);
    qg_gui_mark(g, V_COST);
  }
  /** A new model: show a convolution's weights rather than the first
      matrix (often a tiny 1 x N input mix with nothing to see). */
  if ((chg & QG_CHG_INFO) && d->n_linears > 0 && strcmp(g->hist_auto_for, d->model_path)) {
    snprintf(g->hist_auto_for, sizeof g->hist_auto_for, "%s", d->model_path);
    for (int i = 0; i < d->n_linears; ++i)
      if (strstr(d->linear_names[i], "conv")) {
        if (!(d->hist.valid && !strcmp(d->hist.layer, d->linear_names[i])))
          qg_gui_write_atom(g, qg_proto_set_hist_layer(&g->proto, g->msg, sizeof g->msg, i));
        break;
      }
  }
  if (chg & QG_CHG_ERROR)
    qg_gui_show_error(g);
  if (chg & QG_CHG_EXPORTED)
    qg_gui_show_exported(g);
  if (chg & QG_CHG_FRAMES) {
    qg_esr_note_reference(&d->esr, d->scope.ref, d->scope.n);
    qg_gui_mark(g, V_ESR);
    if (g->spec)
      qg_spectrum_feed(g->spec, d->scope.ref, d->scope.diff, d->scope.n, d->scope.rate,
                       &d->spectrum);
    qg_gui_mark(g, V_SCOPE);
    qg_gui_mark(g, V_SPEC);
  }
  if (chg & QG_CHG_SQNR)
    qg_gui_mark(g, V_SQNR);
  if (chg & QG_CHG_PREPARE)
    qg_gui_show_rounding(g);
  if (chg & QG_CHG_HIST) {
    qg_gui_mark(g, V_HIST);
    qg_gui_show_info(g); /* selects the layer in the combo */
  }
  qg_hooks_views(g, chg & QG_CHG_HIST, chg & QG_CHG_INFO);
}

void qg_gui_free(qg_gui *g)
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
  qg_spectrum_free(g->spec);
  qg_hook_log(g, "quantone-gui: %lu view redraws\n", g->draws);
  free(g);
}
