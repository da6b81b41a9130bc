/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The external UI's close path: the user closes the helper's window (a
  window manager's WM_DELETE_WINDOW, sent here with Xlib as a WM would),
  the helper tears its GUI down and exits, the shim notices on its next
  run() and tells the host through the kx ui_closed callback; the host
  then calls cleanup(). Checked: ui_closed called once, the helper exited
  by itself (before cleanup() could end it), no child left. run_lifetime_test.sh runs the helper
  under valgrind (through QUANTONE_GUI_HELPER) and checks its log and stderr.

  usage: test_ui_close SHIM.so
*/
#include "quantone_ports.h"
#include "ui_test_host.h"

#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <lv2/atom/atom.h>
#include <lv2/core/lv2.h>
#include <lv2/patch/patch.h>
#include <lv2/ui/ui.h>
#include <lv2/urid/urid.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TITLE "Quantone close-path test"

static int gets, closed_calls;
static LV2_URID urid_event_transfer, urid_patch_get;

static void ui_write(LV2UI_Controller c, uint32_t port, uint32_t size, uint32_t format,
                     const void *buf)
{
  (void)c;
  const LV2_Atom_Object *o = buf;
  if (format == urid_event_transfer && port == QT_PORT_CONTROL && size >= sizeof(LV2_Atom_Object) &&
      o->body.otype == urid_patch_get)
    ++gets;
}

static void ui_closed(void *c)
{
  (void)c;
  ++closed_calls;
}

/** A mapped top-level window whose WM_NAME is name, or None. */
static Window find_window(Display *dpy, const char *name)
{
  Window root = DefaultRootWindow(dpy), r, p, *kids = NULL, found = None;
  unsigned n = 0;
  if (!XQueryTree(dpy, root, &r, &p, &kids, &n))
    return None;
  for (unsigned i = 0; i < n && found == None; ++i) {
    char *title = NULL;
    XWindowAttributes a;
    if (XFetchName(dpy, kids[i], &title) && title) {
      if (!strcmp(title, name) && XGetWindowAttributes(dpy, kids[i], &a) &&
          a.map_state == IsViewable)
        found = kids[i];
      XFree(title);
    }
  }
  if (kids)
    XFree(kids);
  return found;
}

/** What a window manager sends when the user clicks the close button. */
static void send_delete(Display *dpy, Window w)
{
  XEvent ev;
  memset(&ev, 0, sizeof ev);
  ev.xclient.type = ClientMessage;
  ev.xclient.window = w;
  ev.xclient.message_type = XInternAtom(dpy, "WM_PROTOCOLS", False);
  ev.xclient.format = 32;
  ev.xclient.data.l[0] = (long)XInternAtom(dpy, "WM_DELETE_WINDOW", False);
  ev.xclient.data.l[1] = CurrentTime;
  XSendEvent(dpy, w, False, NoEventMask, &ev);
  XFlush(dpy);
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: %s SHIM.so\n", argv[0]);
    return 2;
  }
  Display *dpy = XOpenDisplay(NULL);
  if (!dpy) {
    printf("FAIL: cannot open the display\n");
    return 1;
  }
  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  LV2UI_DescriptorFunction df =
      lib ? (LV2UI_DescriptorFunction)dlsym(lib, "lv2ui_descriptor") : NULL;
  const LV2UI_Descriptor *d = df ? df(0) : NULL;
  if (!d) {
    printf("FAIL: no descriptor in %s (%s)\n", argv[1], lib ? "" : dlerror());
    return 1;
  }
  urid_event_transfer = qg_test_map(NULL, LV2_ATOM__eventTransfer);
  urid_patch_get = qg_test_map(NULL, LV2_PATCH__Get);
  qg_test_kx_host kh = {ui_closed, TITLE};
  qg_test_kx_widget *kw = NULL;
  LV2UI_Handle ui = qg_test_instantiate_kx(d, ui_write, &kh, &kw);
  if (!ui || !kw) {
    printf("FAIL: instantiate\n");
    return 1;
  }
  int failures = 0;
  int children_before = qg_test_count_children();

  kw->show(kw);
  /* Valgrind makes the helper's start slow: allow a minute. */
  double t0 = qg_test_now();
  Window win = None;
  float esr = -40.0f;
  while (qg_test_now() - t0 < 60 && (win == None || gets == 0)) {
    kw->run(kw);
    d->port_event(ui, QT_PORT_ESR_DB, sizeof esr, 0, &esr);
    win = find_window(dpy, TITLE);
    qg_test_sleep_ms(50);
  }
  printf("helper window %s after %.1f s, patch:Get x%d\n", win != None ? "up" : "NOT up",
         qg_test_now() - t0, gets);
  if (win == None || gets == 0) {
    printf("FAIL: the helper's window did not come up\n");
    d->cleanup(ui);
    return 1;
  }
  qg_test_sleep_ms(500); /* let it draw a few frames with data */
  XWindowAttributes wa;
  if (XGetWindowAttributes(dpy, win, &wa))
    printf("helper window %dx%d\n", wa.width, wa.height);
  kw->run(kw);

  send_delete(dpy, win);
  t0 = qg_test_now();
  while (qg_test_now() - t0 < 60 && closed_calls == 0) {
    kw->run(kw);
    qg_test_sleep_ms(50);
  }
  printf("ui_closed x%d after %.1f s; children %d (before show %d)\n", closed_calls,
         qg_test_now() - t0, qg_test_count_children(), children_before);
  if (closed_calls != 1) {
    printf("FAIL: ui_closed called %d times after the window was closed\n", closed_calls);
    ++failures;
  }
  if (qg_test_count_children() != children_before) {
    printf("FAIL: the helper is still there after closing its window\n");
    ++failures;
  }
  kw->run(kw); /* a host may call run() again before it notices */
  d->cleanup(ui);
  if (qg_test_count_children() != children_before) {
    printf("FAIL: a child is left after cleanup()\n");
    ++failures;
  }
  XCloseDisplay(dpy);
  dlclose(lib);
  qg_test_map_free();
  printf(failures ? "close test FAILED\n" : "close test passed\n");
  return failures ? 1 : 0;
}
