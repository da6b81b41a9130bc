/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  quantone_gui: the GUI helper process of the external UI. The shim
  (ui_external.c) starts it from the bundle with one end of a socket pair
  as fd 3 (--fd N), and it runs the same window as the in-process UI in
  its own GTK3 process, which is what lets a GTK2 host (Ardour) show it.

  URIDs: the shim maps every URI the GUI uses (quantone_uris.h) with the
  host's map and sends the table first, so this process's URIDs equal the
  host's and atoms pass through both ways unchanged.
*/
#include "gui_window.h"
#include "pipe_proto.h"
#include "protocol.h"

#include <gtk/gtk.h>
#include <glib-unix.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char *uri;
  LV2_URID id;
} urid_entry;

typedef struct {
  int fd;
  qg_pipe_buf in, out;
  guint out_watch, in_watch;
  urid_entry *urids;
  int n_urids;
  LV2_URID next_private;
  LV2_URID_Map map;
  LV2_URID event_transfer;
  qg_gui *gui;
  GtkWidget *window;
  char title[256];
} helper;

/** Lookup in the shim's table; a URI the host never saw gets a private
    id above any the host hands out in practice, which is harmless since
    the GUI only sends atoms built from the table's URIs. */
static LV2_URID map_uri(LV2_URID_Map_Handle h, const char *uri)
{
  helper *hp = h;
  for (int i = 0; i < hp->n_urids; ++i)
    if (!strcmp(hp->urids[i].uri, uri))
      return hp->urids[i].id;
  urid_entry *e = realloc(hp->urids, (size_t)(hp->n_urids + 1) * sizeof *e);
  if (!e)
    return 0;
  hp->urids = e;
  hp->urids[hp->n_urids].uri = strdup(uri);
  hp->urids[hp->n_urids].id = hp->next_private++;
  return hp->urids[hp->n_urids++].id;
}

static gboolean on_writable(gint fd, GIOCondition c, gpointer user);

static void flush_out(helper *h)
{
  if (qg_pipe_flush(h->fd, &h->out) < 0) {
    gtk_main_quit();
    return;
  }
  if (h->out.len && !h->out_watch)
    h->out_watch = g_unix_fd_add(h->fd, G_IO_OUT, on_writable, h);
}

static gboolean on_writable(gint fd, GIOCondition c, gpointer user)
{
  (void)fd;
  (void)c;
  helper *h = user;
  h->out_watch = 0;
  flush_out(h);
  return G_SOURCE_REMOVE;
}

static void gui_write(void *controller, uint32_t port, uint32_t size, uint32_t format,
                      const void *buf)
{
  helper *h = controller;
  uint32_t fmt = format == 0 ? QG_PIPE_FMT_FLOAT : QG_PIPE_FMT_ATOM;
  if (format != 0 && format != h->event_transfer)
    return;
  qg_pipe_queue(&h->out, QG_PIPE_PORT, port, fmt, buf, size);
  flush_out(h);
}

static gboolean on_delete(GtkWidget *w, GdkEvent *e, gpointer user)
{
  (void)w;
  (void)e;
  (void)user;
  gtk_main_quit();
  return TRUE;
}

static void read_urids(helper *h, const uint8_t *p, uint32_t size)
{
  uint32_t off = 0;
  while (off + 5 <= size) {
    uint32_t id;
    memcpy(&id, p + off, 4);
    off += 4;
    size_t n = strnlen((const char *)p + off, size - off);
    if (off + n >= size)
      break;
    urid_entry *e = realloc(h->urids, (size_t)(h->n_urids + 1) * sizeof *e);
    if (!e)
      break;
    h->urids = e;
    h->urids[h->n_urids].uri = strndup((const char *)p + off, n);
    h->urids[h->n_urids++].id = id;
    if (id >= h->next_private)
      h->next_private = id + 1;
    off += (uint32_t)n + 1;
  }
  if (h->next_private < 0x40000000u)
    h->next_private = 0x40000000u;
}

static void create_window(helper *h)
{
  h->event_transfer = map_uri(h, LV2_ATOM__eventTransfer);
  h->gui = qg_gui_new(&h->map, gui_write, h);
  if (!h->gui) {
    gtk_main_quit();
    return;
  }
  h->window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
  gtk_window_set_title(GTK_WINDOW(h->window), h->title[0] ? h->title : "Quantone");
  /* No default size: the widget's natural size, as in-process hosts give it. */
  gtk_container_add(GTK_CONTAINER(h->window), qg_gui_widget(h->gui));
  g_signal_connect(h->window, "delete-event", G_CALLBACK(on_delete), h);
  gtk_widget_show_all(h->window);
}

static gboolean on_readable(gint fd, GIOCondition c, gpointer user)
{
  (void)c;
  helper *h = user;
  int rc = qg_pipe_fill(fd, &h->in);
  qg_pipe_hdr hd;
  const uint8_t *pl;
  bool bad = false;
  while (qg_pipe_peek(&h->in, &hd, &pl, &bad)) {
    switch (hd.type) {
    case QG_PIPE_URIDS:
      if (!h->gui) {
        read_urids(h, pl, hd.size);
        create_window(h);
      }
      break;
    case QG_PIPE_TITLE:
      snprintf(h->title, sizeof h->title, "%.*s", (int)hd.size, (const char *)pl);
      if (h->window)
        gtk_window_set_title(GTK_WINDOW(h->window), h->title);
      break;
    case QG_PIPE_PORT:
      if (h->gui)
        qg_gui_port_event(h->gui, hd.port, hd.size,
                          hd.format == QG_PIPE_FMT_FLOAT ? 0 : h->event_transfer, pl);
      break;
    case QG_PIPE_SHOW:
      if (h->window)
        gtk_window_present(GTK_WINDOW(h->window));
      break;
    case QG_PIPE_QUIT: gtk_main_quit(); break;
    }
    qg_pipe_pop(&h->in, &hd);
  }
  if (rc < 0 || bad) {
    h->in_watch = 0;
    gtk_main_quit();
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
  helper h;
  memset(&h, 0, sizeof h);
  h.fd = 3;
  h.next_private = 0x40000000u;
  for (int i = 1; i + 1 < argc; ++i)
    if (!strcmp(argv[i], "--fd"))
      h.fd = atoi(argv[i + 1]);
  /** The shim may go away first; a write to a closed socket must be an
      error code here, not a signal. */
  signal(SIGPIPE, SIG_IGN);
  if (!gtk_init_check(&argc, &argv)) {
    fprintf(stderr, "quantone_gui: cannot open a display\n");
    return 1;
  }
  h.map.handle = &h;
  h.map.map = map_uri;
  h.in_watch = g_unix_fd_add(h.fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, &h);
  gtk_main();
  if (h.in_watch)
    g_source_remove(h.in_watch);
  if (h.out_watch)
    g_source_remove(h.out_watch);
  if (h.gui) {
    gtk_widget_hide(h.window);
    gtk_container_remove(GTK_CONTAINER(h.window), qg_gui_widget(h.gui));
    qg_gui_free(h.gui);
    gtk_widget_destroy(h.window);
  }
  for (int i = 0; i < h.n_urids; ++i)
    free(h.urids[i].uri);
  free(h.urids);
  qg_pipe_buf_free(&h.in);
  qg_pipe_buf_free(&h.out);
  close(h.fd);
  return 0;
}
