/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  What the GUI test hosts share (test_ui_lifetime.c, test_ui_close.c,
  test_shim.c, test_shim_alive.c): a URID map, the kx external-UI structs
  as a host sees them, counting this process's children, and a monotonic
  clock.
*/
#ifndef QUANTONE_TESTS_GUI_UI_TEST_HOST_H
#define QUANTONE_TESTS_GUI_UI_TEST_HOST_H

#include <lv2/ui/ui.h>
#include <lv2/urid/urid.h>

/**
  The kx external-UI widget and host feature (three functions + two fields).
  Declared here on purpose, not taken from gui/ui_external.c (whose own
  copy is private to the shim): this is the layout a host compiles against,
  written from the extension's published header, so a shim that reorders
  or retypes its fields makes the tests call the wrong function and fail.
  The only host-side copy in the tests (test_shim.c, test_shim_alive.c and
  test_ui_close.c use it).
*/
typedef struct qg_test_kx_widget {
  void (*run)(struct qg_test_kx_widget *);
  void (*show)(struct qg_test_kx_widget *);
  void (*hide)(struct qg_test_kx_widget *);
} qg_test_kx_widget;

typedef struct {
  void (*ui_closed)(void *controller);
  const char *plugin_human_id;
} qg_test_kx_host;

#define QG_TEST_KX_HOST_URI "http://kxstudio.sf.net/ns/lv2ext/external-ui#Host"

/** A process-wide URI table (ids from 1 unless qg_test_map_first_id() says
    otherwise; 0 when full). */
LV2_URID qg_test_map(LV2_URID_Map_Handle h, const char *uri);
/**
  Make qg_test_map() number its URIs from `first` on (call before mapping
  anything). A host's ids are its own business: a test that gives the shim
  ids unlike the helper's catches a URI the shim forwards without mapping
  it through the host's map (it would arrive under the wrong id).
*/
void qg_test_map_first_id(LV2_URID first);
void qg_test_map_free(void);
/**
  Instantiate the external UI `desc` as a kx host does: urid:map through
  qg_test_map() and the kx host feature `kh` (the shim keeps both pointers
  for its lifetime: the map is static here, kh stays the caller's). The kx
  widget goes to *widget (NULL when instantiate gave none).
*/
LV2UI_Handle qg_test_instantiate_kx(const LV2UI_Descriptor *desc, LV2UI_Write_Function write,
                                    const qg_test_kx_host *kh, qg_test_kx_widget **widget);
/** Children of this process in any state, a zombie included. */
int qg_test_count_children(void);
double qg_test_now(void);
void qg_test_sleep_ms(int ms);

#endif
