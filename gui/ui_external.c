/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  quantone_ui_ext.so: the external-UI shim. It links no GTK (a GTK2 host
  like Ardour cannot have GTK3 in its process); it starts the GUI helper
  (quantone_gui, in the bundle) and relays port events and atom messages
  over a socket pair using pipe_proto.h.

  Two ways in, same code: the kx external UI (the host calls the widget's
  run/show/hide; Ardour) and ui:showInterface + ui:idleInterface (LV2 1.6+
  hosts). Hiding ends the helper; showing again starts a fresh one and
  replays the last value of every control port, and the GUI's patch:Get
  brings the rest. The helper's window sends the qt:uiAlive keep-alives
  (relayed like any message); the shim itself sends qt:uiAlive false when
  the helper goes away (hidden, closed by the user, or cleanup), so the
  plugin stops streaming to a host that no longer drains the ring.
*/
#include "pipe_proto.h"
#include "quantone_ports.h"
#include "quantone_uris.h"

#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/core/lv2.h>
#include <lv2/patch/patch.h>
#include <lv2/ui/ui.h>
#include <lv2/urid/urid.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* ---- The kx external-UI extension (written from its published header
        shape: three function pointers the host calls). ---------------- */
#define QG_KX_EXTERNAL_UI_WIDGET "http://kxstudio.sf.net/ns/lv2ext/external-ui#Widget"
#define QG_KX_EXTERNAL_UI_HOST "http://kxstudio.sf.net/ns/lv2ext/external-ui#Host"
#define QG_LV2_EXTERNAL_UI_DEPRECATED "http://lv2plug.in/ns/extensions/ui#external"

typedef struct qg_external_ui_widget {
  void (*run)(struct qg_external_ui_widget *w);
  void (*show)(struct qg_external_ui_widget *w);
  void (*hide)(struct qg_external_ui_widget *w);
} qg_external_ui_widget;

typedef struct {
  void (*ui_closed)(LV2UI_Controller controller);
  const char *plugin_human_id;
} qg_external_ui_host;

typedef struct {
  qg_external_ui_widget widget; /**< first: the host's pointer is ours */
  LV2UI_Write_Function write;
  LV2UI_Controller controller;
  const qg_external_ui_host *kx;
  LV2_URID_Map *map;
  qt_uris uris; /**< mapped with the host's map: the helper's URIDs too */
  LV2_Atom_Forge forge;
  char *helper;
  char title[256];
  pid_t pid;
  int fd;
  qg_pipe_buf in, out;
  float port[QT_PORT_COUNT];
  bool port_known[QT_PORT_COUNT];
  bool closed; /**< the helper went away by itself (window closed) */
} qg_shim;

/** Reap the helper: wait up to ~1 s for it to exit after QUIT / EOF, then
    TERM, then KILL. Never leaves a zombie, never blocks forever. */
static void reap(qg_shim *s)
{
  if (s->pid <= 0)
    return;
  for (int i = 0; i < 200; ++i) {
    pid_t r = waitpid(s->pid, NULL, WNOHANG);
    if (r == s->pid || (r < 0 && errno == ECHILD)) {
      s->pid = 0;
      return;
    }
    if (i == 100)
      kill(s->pid, SIGTERM);
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  kill(s->pid, SIGKILL);
  while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
    ;
  s->pid = 0;
}

/** Tell the plugin that no UI is listening any more (qt:uiAlive false in
    quantone_ports.h), so it stops streaming at once instead of after the
    keep-alive timeout: a host that keeps the notify ring connected but
    stops draining it once the UI is hidden (Ardour) then receives nothing
    more to queue. */
static void say_goodbye(qg_shim *s)
{
  _Alignas(8) uint8_t buf[128];
  LV2_Atom_Forge *f = &s->forge;
  LV2_Atom_Forge_Frame fr;
  lv2_atom_forge_set_buffer(f, buf, sizeof buf);
  LV2_Atom_Forge_Ref ok = lv2_atom_forge_object(f, &fr, 0, s->uris.patch_Set);
  ok = ok && lv2_atom_forge_key(f, s->uris.patch_property);
  ok = ok && lv2_atom_forge_urid(f, s->uris.qt_uiAlive);
  ok = ok && lv2_atom_forge_key(f, s->uris.patch_value);
  ok = ok && lv2_atom_forge_bool(f, false);
  if (!ok)
    return;
  lv2_atom_forge_pop(f, &fr);
  const LV2_Atom *a = (const LV2_Atom *)buf;
  s->write(s->controller, QT_PORT_CONTROL, (uint32_t)sizeof *a + a->size,
           s->uris.atom_eventTransfer, a);
}

static void stop_helper(qg_shim *s)
{
  if (s->fd >= 0) {
    say_goodbye(s);
    qg_pipe_queue(&s->out, QG_PIPE_QUIT, 0, 0, NULL, 0);
    qg_pipe_flush(s->fd, &s->out);
    /** Closing our end is the helper's EOF, in case QUIT did not fit. */
    close(s->fd);
    s->fd = -1;
  }
  reap(s);
  s->in.len = s->out.len = 0;
}

/** The URID table the helper gets first: every URI of quantone_uris.h
    with the id the host's map gave it (already in s->uris), so the
    helper's URIDs are the host's and atoms pass through unchanged. */
static const struct {
  const char *uri;
  size_t offset;
} uri_table[] = {
#define QG_URI_ENTRY_(field, uri) {uri, offsetof(qt_uris, field)},
    QUANTONE_URIS(QG_URI_ENTRY_)
#undef QG_URI_ENTRY_
};

static bool start_helper(qg_shim *s)
{
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return false;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  /** dup2 onto 3 clears close-on-exec for the child's copy only; every
      other descriptor of the host is closed in the child, so it holds
      none of the host's files, sockets or devices open. */
  posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
  posix_spawn_file_actions_addclosefrom_np(&fa, 4);
  posix_spawnattr_t at;
  posix_spawnattr_init(&at);
  sigset_t none, def;
  sigemptyset(&none);
  sigemptyset(&def);
  sigaddset(&def, SIGPIPE);
  sigaddset(&def, SIGCHLD);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &def);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  char *argv[] = {s->helper, "--fd", "3", NULL};
  pid_t pid;
  int rc = posix_spawn(&pid, s->helper, &fa, &at, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close(sv[1]);
  if (rc != 0) {
    fprintf(stderr, "Quantone UI: cannot start %s: %s\n", s->helper, strerror(rc));
    close(sv[0]);
    return false;
  }
  s->pid = pid;
  s->fd = sv[0];
  s->closed = false;

  /* URID table, title, then the last value of every control port. */
  qg_pipe_buf t = {0};
  for (size_t i = 0; i < sizeof uri_table / sizeof *uri_table; ++i) {
    const char *u = uri_table[i].uri;
    uint32_t id = *(const LV2_URID *)((const char *)&s->uris + uri_table[i].offset);
    size_t n = strlen(u) + 1;
    if (t.len + 4 + n > t.cap) {
      size_t cap = t.cap ? t.cap * 2 : 4096;
      uint8_t *d = realloc(t.data, cap);
      if (!d)
        break;
      t.data = d;
      t.cap = cap;
    }
    memcpy(t.data + t.len, &id, 4);
    memcpy(t.data + t.len + 4, u, n);
    t.len += 4 + n;
  }
  qg_pipe_queue(&s->out, QG_PIPE_URIDS, 0, 0, t.data, (uint32_t)t.len);
  qg_pipe_buf_free(&t);
  qg_pipe_queue(&s->out, QG_PIPE_TITLE, 0, 0, s->title, (uint32_t)strlen(s->title));
  for (uint32_t p = 0; p < QT_PORT_COUNT; ++p)
    if (s->port_known[p])
      qg_pipe_queue(&s->out, QG_PIPE_PORT, p, QG_PIPE_FMT_FLOAT, &s->port[p], sizeof(float));
  qg_pipe_flush(s->fd, &s->out);
  return true;
}

/** Relay what the helper wrote to the host; 1 when the helper is gone. */
static int pump(qg_shim *s)
{
  if (s->fd < 0)
    return s->closed ? 1 : 0;
  int rc = qg_pipe_flush(s->fd, &s->out);
  if (rc == 0)
    rc = qg_pipe_fill(s->fd, &s->in);
  qg_pipe_hdr h;
  const uint8_t *pl;
  bool bad = false;
  while (qg_pipe_peek(&s->in, &h, &pl, &bad)) {
    if (h.type == QG_PIPE_PORT && h.port < QT_PORT_COUNT) {
      if (h.format == QG_PIPE_FMT_FLOAT && h.size == sizeof(float)) {
        memcpy(&s->port[h.port], pl, sizeof(float));
        s->port_known[h.port] = true;
        s->write(s->controller, h.port, sizeof(float), 0, &s->port[h.port]);
      } else if (h.format == QG_PIPE_FMT_ATOM && h.size >= sizeof(LV2_Atom)) {
        s->write(s->controller, h.port, h.size, s->uris.atom_eventTransfer, pl);
      }
    }
    qg_pipe_pop(&s->in, &h);
  }
  if (rc < 0 || bad) {
    /* Window closed (or helper died): tidy up and tell the host. */
    close(s->fd);
    s->fd = -1;
    reap(s);
    s->in.len = s->out.len = 0;
    s->closed = true;
    say_goodbye(s);
    if (s->kx && s->kx->ui_closed)
      s->kx->ui_closed(s->controller);
    return 1;
  }
  return 0;
}

static int do_show(qg_shim *s)
{
  if (s->fd >= 0) {
    qg_pipe_queue(&s->out, QG_PIPE_SHOW, 0, 0, NULL, 0);
    qg_pipe_flush(s->fd, &s->out);
    return 0;
  }
  return start_helper(s) ? 0 : 1;
}

static void kx_run(qg_external_ui_widget *w) { pump((qg_shim *)w); }

static void kx_show(qg_external_ui_widget *w) { do_show((qg_shim *)w); }

static void kx_hide(qg_external_ui_widget *w) { stop_helper((qg_shim *)w); }

static LV2UI_Handle instantiate(const LV2UI_Descriptor *desc, const char *plugin_uri,
                                const char *bundle_path, LV2UI_Write_Function write,
                                LV2UI_Controller controller, LV2UI_Widget *widget,
                                const LV2_Feature *const *features)
{
  (void)desc;
  if (strcmp(plugin_uri, QUANTONE_URI) != 0)
    return NULL;
  qg_shim *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->fd = -1;
  for (int i = 0; features && features[i]; ++i) {
    if (!strcmp(features[i]->URI, LV2_URID__map))
      s->map = features[i]->data;
    else if (!strcmp(features[i]->URI, QG_KX_EXTERNAL_UI_HOST) ||
             !strcmp(features[i]->URI, QG_LV2_EXTERNAL_UI_DEPRECATED))
      s->kx = features[i]->data;
  }
  if (!s->map) {
    free(s);
    return NULL;
  }
  qt_uris_map(&s->uris, s->map);
  lv2_atom_forge_init(&s->forge, s->map);
  s->write = write;
  s->controller = controller;
  snprintf(s->title, sizeof s->title, "%s",
           s->kx && s->kx->plugin_human_id ? s->kx->plugin_human_id : "Quantone");
  const char *override = getenv("QUANTONE_GUI_HELPER");
  if (override && *override) {
    s->helper = strdup(override);
  } else {
    size_t n = strlen(bundle_path ? bundle_path : ".");
    s->helper = malloc(n + 32);
    if (s->helper)
      snprintf(s->helper, n + 32, "%s%s%s", bundle_path ? bundle_path : ".",
               n && bundle_path[n - 1] == '/' ? "" : "/", "quantone_gui");
  }
  if (!s->helper) {
    free(s);
    return NULL;
  }
  s->widget.run = kx_run;
  s->widget.show = kx_show;
  s->widget.hide = kx_hide;
  *widget = &s->widget;
  return s;
}

static void cleanup(LV2UI_Handle h)
{
  qg_shim *s = h;
  stop_helper(s);
  qg_pipe_buf_free(&s->in);
  qg_pipe_buf_free(&s->out);
  free(s->helper);
  free(s);
}

static void port_event(LV2UI_Handle h, uint32_t port, uint32_t size, uint32_t format,
                       const void *buffer)
{
  qg_shim *s = h;
  if (port >= QT_PORT_COUNT)
    return;
  if (format == 0 && size == sizeof(float)) {
    memcpy(&s->port[port], buffer, sizeof(float));
    s->port_known[port] = true;
    if (s->fd >= 0)
      qg_pipe_queue(&s->out, QG_PIPE_PORT, port, QG_PIPE_FMT_FLOAT, buffer, size);
  } else if (format == s->uris.atom_eventTransfer && s->fd >= 0) {
    /** A full queue (helper stalled) drops messages: scope frames are
        replaced 25 times a second, and state comes back on patch:Get. */
    qg_pipe_queue(&s->out, QG_PIPE_PORT, port, QG_PIPE_FMT_ATOM, buffer, size);
  }
  if (s->fd >= 0 && qg_pipe_flush(s->fd, &s->out) < 0)
    pump(s);
}

static int ui_idle(LV2UI_Handle h) { return pump(h); }

static int ui_show(LV2UI_Handle h) { return do_show(h); }

static int ui_hide(LV2UI_Handle h)
{
  stop_helper(h);
  return 0;
}

static const void *extension_data(const char *uri)
{
  static const LV2UI_Idle_Interface idle = {ui_idle};
  static const LV2UI_Show_Interface show = {ui_show, ui_hide};
  if (!strcmp(uri, LV2_UI__idleInterface))
    return &idle;
  if (!strcmp(uri, LV2_UI__showInterface))
    return &show;
  return NULL;
}

static const LV2UI_Descriptor descriptor = {QUANTONE_UI_EXTERNAL_URI, instantiate, cleanup,
                                            port_event, extension_data};

LV2_SYMBOL_EXPORT const LV2UI_Descriptor *lv2ui_descriptor(uint32_t index)
{
  return index == 0 ? &descriptor : NULL;
}
