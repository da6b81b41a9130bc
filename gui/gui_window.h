/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The Quantone window contents: every widget, its CSS and the plumbing
  between widgets, views and the plugin. Used by both UI binaries: the
  in-process ui:Gtk3UI (ui_gtk3.c) and the external UI's helper process
  (gui_helper.c). It talks to the plugin only through the write function
  (port writes and atom messages) and qg_gui_port_event.
*/
#ifndef QUANTONE_GUI_GUI_WINDOW_H
#define QUANTONE_GUI_GUI_WINDOW_H

#include <gtk/gtk.h>
#include <lv2/urid/urid.h>
#include <stdint.h>

typedef struct qg_gui qg_gui;

/** Same shape as LV2UI_Write_Function (format 0 = float control value). */
typedef void (*qg_gui_write_fn)(void *controller, uint32_t port, uint32_t size, uint32_t format,
                                const void *buffer);

/** Build the widget tree and send patch:Get (the plugin answers with
    model path, info, SQNR and histogram). */
qg_gui *qg_gui_new(LV2_URID_Map *map, qg_gui_write_fn write, void *controller);
GtkWidget *qg_gui_widget(qg_gui *g);
void qg_gui_port_event(qg_gui *g, uint32_t port, uint32_t size, uint32_t format,
                       const void *buffer);
void qg_gui_free(qg_gui *g);

#endif
