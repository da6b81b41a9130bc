/*
  The Quantone window contents: every widget, its CSS and the plumbing
  between widgets, views and the plugin. Used by both UI binaries: the
  in-process ui:Gtk3UI (ui_gtk3.c) and the external UI's helper process
  (gui_helper.c). It talks to the plugin only through the write function
  (port writes and atom messages) and qt_gui_port_event.
*/
#ifndef QUANTONE_GUI_GUI_WINDOW_H
#define QUANTONE_GUI_GUI_WINDOW_H

#include <gtk/gtk.h>
#include <lv2/urid/urid.h>
#include <stdint.h>

typedef struct qt_gui qt_gui;

/** Same shape as LV2UI_Write_Function (format 0 = float control value). */
typedef void (*qt_gui_write_fn)(void *controller, uint32_t port, uint32_t size, uint32_t format,
                                const void *buffer);

/** Build the widget tree and send patch:Get (the plugin answers with
    model path, info, SQNR and histogram). */
qt_gui *qt_gui_new(LV2_URID_Map *map, qt_gui_write_fn write, void *controller);
GtkWidget *qt_gui_widget(qt_gui *g);
void qt_gui_port_event(qt_gui *g, uint32_t port, uint32_t size, uint32_t format,
                       const void *buffer);
void qt_gui_free(qt_gui *g);

#endif
