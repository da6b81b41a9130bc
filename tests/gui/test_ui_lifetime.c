/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Host-lifetime test of the in-process ui:Gtk3UI (quantone_ui_gtk3.so),
  in the order jalv.gtk3 and Carla's gtk3 bridge use when a window is
  closed: the widget is packed into a GtkWindow, the window is destroyed
  (which finalizes every child widget), the host keeps its main loop and
  port events going for a moment, and only then calls cleanup(). The LV2
  UI spec allows this order, so the UI must not touch its children after
  the window went.

  Memory errors are what valgrind reports (run_lifetime_test.sh runs this
  under it); GLib warnings (a signal disconnect on a finalized instance
  is one) are caught here with a log handler and counted as failures.

  usage: test_ui_lifetime UI.so BUNDLE_DIR [variant]
    variant "destroy-first" (default): window destroyed before cleanup()
    variant "cleanup-first": cleanup() while the window still exists, then
      the window is destroyed (the order of hosts that clean up first)
*/
#include "quantone_ports.h"
#include "ui_test_host.h"

#include <gtk/gtk.h>
#include <lv2/atom/atom.h>
#include <lv2/core/lv2.h>
#include <lv2/ui/ui.h>
#include <lv2/urid/urid.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int writes, warnings;

static void ui_write(LV2UI_Controller c, uint32_t port, uint32_t size, uint32_t format,
                     const void *buf)
{
  (void)c;
  (void)port;
  (void)size;
  (void)format;
  (void)buf;
  ++writes;
}

/** Every GLib warning or critical, from any domain, is a failure. */
static void on_log(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer user)
{
  (void)user;
  if (level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR)) {
    ++warnings;
    printf("GLib %s: %s\n", domain ? domain : "(none)", msg);
  }
}

/** Run the main loop for about ms milliseconds (the UI's 30 Hz timer and
    redraws get their turns). */
static void spin(int ms)
{
  gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
  while (g_get_monotonic_time() < end) {
    while (gtk_events_pending())
      gtk_main_iteration_do(FALSE);
    g_usleep(5000);
  }
}

/** Control values and meter readings a running plugin would send. */
static void feed(const LV2UI_Descriptor *d, LV2UI_Handle ui)
{
  const float v[][2] = {{QT_PORT_PRECISION, 4},    {QT_PORT_MAPPING, 2}, {QT_PORT_ESR_DB, -31},
                        {QT_PORT_DSP_RATIO, 0.5f}, {QT_PORT_ENABLED, 1}, {QT_PORT_ERROR_GAIN, 12}};
  for (size_t i = 0; i < sizeof v / sizeof *v; ++i)
    d->port_event(ui, (uint32_t)v[i][0], sizeof(float), 0, &v[i][1]);
}

int main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: %s UI.so BUNDLE_DIR [destroy-first|cleanup-first]\n", argv[0]);
    return 2;
  }
  bool destroy_first = argc < 4 || strcmp(argv[3], "cleanup-first") != 0;
  if (!gtk_init_check(&argc, &argv)) {
    printf("FAIL: cannot open a display\n");
    return 1;
  }
  g_log_set_default_handler(on_log, NULL);

  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    printf("FAIL dlopen: %s\n", dlerror());
    return 1;
  }
  LV2UI_DescriptorFunction df = (LV2UI_DescriptorFunction)dlsym(lib, "lv2ui_descriptor");
  const LV2UI_Descriptor *d = df ? df(0) : NULL;
  if (!d || strcmp(d->URI, QUANTONE_UI_GTK3_URI)) {
    printf("FAIL: no %s descriptor in %s\n", QUANTONE_UI_GTK3_URI, argv[1]);
    return 1;
  }

  LV2_URID_Map m = {NULL, qg_test_map};
  LV2_Feature f_map = {LV2_URID__map, &m};
  const LV2_Feature *features[] = {&f_map, NULL};
  LV2UI_Widget w = NULL;
  LV2UI_Handle ui = d->instantiate(d, QUANTONE_URI, argv[2], ui_write, NULL, &w, features);
  if (!ui || !w) {
    printf("FAIL: instantiate\n");
    return 1;
  }
  GtkWidget *win = gtk_window_new(GTK_WINDOW_TOPLEVEL);
  gtk_container_add(GTK_CONTAINER(win), GTK_WIDGET(w));
  gtk_widget_show_all(win);
  feed(d, ui);
  spin(400);
  /** The size the host's window takes: the widget's natural size (the
      script compares it with the external UI's helper window). */
  int ww = 0, wh = 0;
  gtk_window_get_size(GTK_WINDOW(win), &ww, &wh);
  printf("window %dx%d\n", ww, wh);
  const char *shot = getenv("QT_LIFETIME_SCREENSHOT");
  if (shot && *shot) {
    GdkPixbuf *pb = gdk_pixbuf_get_from_window(gtk_widget_get_window(win), 0, 0, ww, wh);
    if (pb) {
      gdk_pixbuf_save(pb, shot, "png", NULL, NULL);
      g_object_unref(pb);
    }
  }

  if (destroy_first) {
    gtk_widget_destroy(win);
    /* The host's loop goes on, and its port events may still arrive,
       before it gets round to cleanup(). */
    spin(150);
    feed(d, ui);
    spin(100);
    d->cleanup(ui);
  } else {
    d->cleanup(ui);
    spin(100);
    gtk_widget_destroy(win);
  }
  spin(100);

  printf("%s: %d port writes from the UI, %d GLib warnings\n",
         destroy_first ? "destroy-first" : "cleanup-first", writes, warnings);
  int failures = 0;
  if (writes < 1) {
    printf("FAIL: the UI wrote nothing (its patch:Get at least)\n");
    ++failures;
  }
  if (warnings) {
    printf("FAIL: %d GLib warnings\n", warnings);
    ++failures;
  }
  qg_test_map_free();
  /* The module stays loaded: GTK may hold pointers into it (the host
     that dlcloses a GTK UI must not do so before the main loop ends). */
  printf(failures ? "lifetime test FAILED\n" : "lifetime test passed\n");
  return failures ? 1 : 0;
}
