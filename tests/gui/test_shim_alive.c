/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The external-UI shim and the UI keep-alive (issue 11, defect 2): while
  the GUI helper runs, its qt:uiAlive true messages reach the host (under
  the host's URID for qt:uiAlive, so the shim's URI table carries it); when
  the host hides the UI, or cleans it up with the helper running, the shim
  writes qt:uiAlive false, and nothing says "alive" after that.

  usage: test_shim_alive SHIM.so HELPER_LOG   (run by run_shim_test.sh,
  which provides the Xvfb display and QUANTONE_GUI_HELPER)
*/
#include "quantone_ports.h"
#include "ui_test_host.h"

#include <lv2/atom/atom.h>
#include <lv2/atom/util.h>
#include <lv2/core/lv2.h>
#include <lv2/patch/patch.h>
#include <lv2/ui/ui.h>
#include <lv2/urid/urid.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static LV2_URID u_transfer, u_set, u_property, u_value, u_alive, u_bool;
static int n_true, n_false;

static void ui_write(LV2UI_Controller c, uint32_t port, uint32_t size, uint32_t format,
                     const void *buf)
{
  (void)c;
  if (format != u_transfer || port != QT_PORT_CONTROL || size < sizeof(LV2_Atom_Object))
    return;
  const LV2_Atom_Object *o = buf;
  if (o->body.otype != u_set)
    return;
  const LV2_Atom *prop = NULL, *val = NULL;
  lv2_atom_object_get(o, u_property, &prop, u_value, &val, 0);
  if (prop && ((const LV2_Atom_URID *)prop)->body == u_alive && val && val->type == u_bool)
    ++*(((const LV2_Atom_Bool *)val)->body ? &n_true : &n_false);
}

static void ui_closed(LV2UI_Controller c) { (void)c; }

static void pump_for(qg_test_kx_widget *kw, double seconds, bool until_true)
{
  struct timespec t0, t, nap = {0, 20 * 1000000L};
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int start = n_true;
  do {
    kw->run(kw);
    nanosleep(&nap, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t);
  } while ((t.tv_sec - t0.tv_sec) + 1e-9 * (t.tv_nsec - t0.tv_nsec) < seconds &&
           !(until_true && n_true > start));
}

static int failures;
static void check(bool ok, const char *what, int a, int b)
{
  printf("%s %s (%d, %d)\n", ok ? "  ok  " : "  FAIL", what, a, b);
  failures += !ok;
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: %s SHIM.so [HELPER_LOG]\n", argv[0]);
    return 2;
  }
  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  LV2UI_DescriptorFunction df =
      lib ? (LV2UI_DescriptorFunction)dlsym(lib, "lv2ui_descriptor") : NULL;
  const LV2UI_Descriptor *desc = df ? df(0) : NULL;
  if (!desc) {
    printf("FAIL: no UI descriptor in %s\n", argv[1]);
    return 1;
  }
  /* Ids from 7: unlike the helper's own, so a URI the shim did not map with
     the host's map would arrive under another id and not count. */
  qg_test_map_first_id(7);
  u_transfer = qg_test_map(NULL, LV2_ATOM__eventTransfer);
  u_set = qg_test_map(NULL, LV2_PATCH__Set);
  u_property = qg_test_map(NULL, LV2_PATCH__property);
  u_value = qg_test_map(NULL, LV2_PATCH__value);
  u_alive = qg_test_map(NULL, QUANTONE__uiAlive);
  u_bool = qg_test_map(NULL, LV2_ATOM__Bool);
  qg_test_kx_host kh = {ui_closed, "Quantone (keep-alive test)"};
  qg_test_kx_widget *kw = NULL;
  LV2UI_Handle ui = qg_test_instantiate_kx(desc, ui_write, &kh, &kw);
  if (!ui) {
    printf("FAIL: instantiate\n");
    return 1;
  }

  printf("kx show, run, hide\n");
  kw->show(kw);
  pump_for(kw, 15.0, true); /* the window's first keep-alive */
  pump_for(kw, 1.2, false); /* and the ones after it */
  int t_open = n_true;
  check(t_open >= 3, "keep-alives relayed from the helper while open (>= 3 in ~1.2 s)", t_open, 0);
  kw->hide(kw);
  int f_hide = n_false;
  pump_for(kw, 0.5, false);
  check(f_hide == 1 && n_true == t_open, "hide writes uiAlive false once, then no keep-alive",
        f_hide, n_true - t_open);

  printf("show, then cleanup with the helper running\n");
  kw->show(kw);
  pump_for(kw, 15.0, true);
  int t_again = n_true - t_open;
  desc->cleanup(ui);
  check(t_again > 0 && n_false == f_hide + 1, "alive again after show; cleanup writes false",
        t_again, n_false - f_hide);
  dlclose(lib);
  qg_test_map_free();
  printf("%s\n", failures ? "FAILED" : "shim keep-alive test passed");
  return failures ? 1 : 0;
}
