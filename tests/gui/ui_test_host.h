/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  What the GUI test hosts share (test_ui_lifetime.c, test_ui_close.c): a
  URID map, the kx external-UI structs as a host sees them, counting this
  process's children, and a monotonic clock.
*/
#ifndef QUANTONE_TESTS_GUI_UI_TEST_HOST_H
#define QUANTONE_TESTS_GUI_UI_TEST_HOST_H

#include <lv2/urid/urid.h>

/** The kx external-UI widget and host feature (three functions + two fields). */
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

/** A process-wide URI table (ids from 1; 0 when full). */
LV2_URID qg_test_map(LV2_URID_Map_Handle h, const char *uri);
void qg_test_map_free(void);
/** Children of this process in any state, a zombie included. */
int qg_test_count_children(void);
double qg_test_now(void);
void qg_test_sleep_ms(int ms);

#endif
