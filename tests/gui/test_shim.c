/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Test host for the external-UI shim (quantone_ui_ext.so): loads it
  through its LV2UI_Descriptor with urid:map and the kx external-UI host
  feature, shows it (the shim starts the GUI helper), relays a port event
  each way through the helper, hides it, shows it again, cleans up. Then:
  no child process left (running or zombie) and no file descriptor leaked
  (/proc/self/fd before vs after).

  usage: test_gui_shim SHIM.so HELPER_LOG
  The helper's stderr (QUANTONE_GUI_SELFTEST lines) must go to HELPER_LOG,
  which is how the host-to-helper direction is observed.
*/
#include "quantone_ports.h"
#include "ui_test_host.h"

#include <lv2/atom/atom.h>
#include <lv2/core/lv2.h>
#include <lv2/patch/patch.h>
#include <lv2/ui/ui.h>
#include <lv2/urid/urid.h>

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;
#define CHECK(c, ...)                                                                              \
  do {                                                                                             \
    if (!(c)) {                                                                                    \
      printf("FAIL %s:%d: ", __FILE__, __LINE__);                                                  \
      printf(__VA_ARGS__);                                                                         \
      printf("\n");                                                                                \
      failures++;                                                                                  \
    }                                                                                              \
  } while (0)

static int got_float_port = -1;
static float got_float;
static int got_gets, closed_calls;
static LV2_URID urid_event_transfer, urid_patch_get;

static void ui_write(LV2UI_Controller c, uint32_t port, uint32_t size, uint32_t format,
                     const void *buf)
{
  (void)c;
  if (format == 0 && size == 4) {
    got_float_port = (int)port;
    memcpy(&got_float, buf, 4);
  } else if (format == urid_event_transfer && port == QT_PORT_CONTROL) {
    const LV2_Atom_Object *o = buf;
    if (size >= sizeof(LV2_Atom_Object) && o->body.otype == urid_patch_get)
      ++got_gets;
  }
}

static void ui_closed(LV2UI_Controller c)
{
  (void)c;
  ++closed_calls;
}

static int list_fds(int *fds, int cap)
{
  DIR *d = opendir("/proc/self/fd");
  int n = 0, dfd = dirfd(d);
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.' && atoi(e->d_name) != dfd && n < cap)
      fds[n++] = atoi(e->d_name);
  closedir(d);
  return n;
}

static bool log_has(const char *path, const char *needle)
{
  FILE *f = fopen(path, "r");
  if (!f)
    return false;
  char line[1024];
  bool found = false;
  while (!found && fgets(line, sizeof line, f))
    found = strstr(line, needle) != NULL;
  fclose(f);
  return found;
}

int main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: %s SHIM.so HELPER_LOG\n", argv[0]);
    return 2;
  }
  const char *log = argv[2];
  setenv("QUANTONE_GUI_SELFTEST", "1", 1);
  setenv("QUANTONE_GUI_TEST_SET", "4=2", 1); /* the helper writes precision = 2 at start */

  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    printf("FAIL dlopen: %s\n", dlerror());
    return 1;
  }
  LV2UI_DescriptorFunction df = (LV2UI_DescriptorFunction)dlsym(lib, "lv2ui_descriptor");
  const LV2UI_Descriptor *desc = df ? df(0) : NULL;
  CHECK(desc && !strcmp(desc->URI, QUANTONE_UI_EXTERNAL_URI), "descriptor");
  if (!desc)
    return 1;

  int fds_before[256], fds_after[256];
  int nb = list_fds(fds_before, 256);
  int children_before = qg_test_count_children();

  qg_test_map_first_id(100); /* catch a helper that assumes 1-based ids */
  urid_event_transfer = qg_test_map(NULL, LV2_ATOM__eventTransfer);
  urid_patch_get = qg_test_map(NULL, LV2_PATCH__Get);
  qg_test_kx_host kh = {ui_closed, "Quantone (shim test)"};
  qg_test_kx_widget *kw = NULL;
  LV2UI_Handle ui = qg_test_instantiate_kx(desc, ui_write, &kh, &kw);
  CHECK(ui && kw, "instantiate");
  if (!ui)
    return 1;
  const LV2UI_Idle_Interface *idle = desc->extension_data(LV2_UI__idleInterface);
  const LV2UI_Show_Interface *show = desc->extension_data(LV2_UI__showInterface);
  CHECK(idle && show, "idle/show interfaces");

  for (int round = 0; round < 2; ++round) {
    got_float_port = -1;
    got_gets = 0;
    /* Round 0 through the kx widget, round 1 through ui:showInterface. */
    float mapping = round == 0 ? 2.0f : 1.0f;
    desc->port_event(ui, QT_PORT_MAPPING, 4, 0, &mapping); /* cached before show */
    if (round == 0)
      kw->show(kw);
    else
      show->show(ui);
    double t0 = qg_test_now();
    char want[64];
    snprintf(want, sizeof want, "quantone-gui: port %d = %g", QT_PORT_MAPPING, mapping);
    float esr = -42.0f;
    bool seen = false;
    while (qg_test_now() - t0 < 15 && !(seen && got_float_port >= 0 && got_gets > 0)) {
      if (round == 0)
        kw->run(kw);
      else
        idle->idle(ui);
      desc->port_event(ui, QT_PORT_ESR_DB, 4, 0, &esr);
      seen = log_has(log, want);
      qg_test_sleep_ms(20);
    }
    printf("round %d: host->helper %s, helper->host float port %d = %g, patch:Get x%d "
           "(%.2f s)\n",
           round, seen ? "seen" : "NOT seen", got_float_port, got_float, got_gets,
           qg_test_now() - t0);
    CHECK(seen, "round %d: port event did not reach the helper", round);
    CHECK(got_float_port == QT_PORT_PRECISION && got_float == 2.0f,
          "round %d: helper's port write did not reach the host", round);
    CHECK(got_gets > 0, "round %d: helper's patch:Get did not reach the host", round);
    CHECK(qg_test_count_children() == children_before + 1, "round %d: helper not running", round);
    if (round == 0)
      kw->hide(kw);
    else
      show->hide(ui);
    CHECK(qg_test_count_children() == children_before, "round %d: child left after hide", round);
    if (truncate(log, 0) != 0)
      perror("truncate");
  }
  /* Cleanup with the helper running must end it too. */
  show->show(ui);
  qg_test_sleep_ms(300);
  desc->cleanup(ui);
  CHECK(qg_test_count_children() == children_before, "child left after cleanup");
  CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD, "an unreaped child exists");
  CHECK(closed_calls == 0, "ui_closed called although the host hid the UI");

  int na = list_fds(fds_after, 256);
  CHECK(na == nb, "fd leak: %d open before, %d after", nb, na);
  for (int i = 0; i < na && na == nb; ++i) {
    bool found = false;
    for (int j = 0; j < nb; ++j)
      found |= fds_after[i] == fds_before[j];
    CHECK(found, "fd %d open after but not before", fds_after[i]);
  }
  printf("fds before %d after %d, children %d\n", nb, na, qg_test_count_children());
  dlclose(lib);
  qg_test_map_free();
  if (failures)
    printf("%d failure(s)\n", failures);
  else
    printf("shim test passed\n");
  return failures ? 1 : 0;
}
