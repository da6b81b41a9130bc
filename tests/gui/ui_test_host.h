/*
  What the GUI test hosts share (test_ui_lifetime.c, test_ui_close.c): a
  URID map, the kx external-UI structs as a host sees them, counting this
  process's children, and a monotonic clock.
*/
#ifndef QUANTONE_TESTS_GUI_UI_TEST_HOST_H
#define QUANTONE_TESTS_GUI_UI_TEST_HOST_H

#include <lv2/urid/urid.h>

/** The kx external-UI widget and host feature (three functions + two fields). */
typedef struct qt_test_kx_widget {
  void (*run)(struct qt_test_kx_widget *);
  void (*show)(struct qt_test_kx_widget *);
  void (*hide)(struct qt_test_kx_widget *);
} qt_test_kx_widget;

typedef struct {
  void (*ui_closed)(void *controller);
  const char *plugin_human_id;
} qt_test_kx_host;

#define QT_TEST_KX_HOST_URI "http://kxstudio.sf.net/ns/lv2ext/external-ui#Host"

/** A process-wide URI table (ids from 1; 0 when full). */
LV2_URID qt_test_map(LV2_URID_Map_Handle h, const char *uri);
void qt_test_map_free(void);
/** Children of this process in any state, a zombie included. */
int qt_test_count_children(void);
double qt_test_now(void);
void qt_test_sleep_ms(int ms);

#endif
