/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The in-process ui:Gtk3UI (quantone_ui_gtk3.so): native in jalv.gtk3,
  bridged by Carla. A thin LV2 wrapper around gui_window.c; the host owns
  the GTK main loop and embeds the returned widget.
*/
#include "gui_window.h"
#include "quantone_ports.h"

#include <lv2/core/lv2.h>
#include <lv2/ui/ui.h>
#include <lv2/urid/urid.h>

#include <string.h>

static LV2UI_Handle instantiate(const LV2UI_Descriptor *desc, const char *plugin_uri,
                                const char *bundle_path, LV2UI_Write_Function write,
                                LV2UI_Controller controller, LV2UI_Widget *widget,
                                const LV2_Feature *const *features)
{
  (void)desc;
  (void)bundle_path;
  if (strcmp(plugin_uri, QUANTONE_URI) != 0)
    return NULL;
  LV2_URID_Map *map = NULL;
  for (int i = 0; features && features[i]; ++i)
    if (!strcmp(features[i]->URI, LV2_URID__map))
      map = features[i]->data;
  if (!map)
    return NULL; /* required in the Turtle: no atoms without it */
  qg_gui *g = qg_gui_new(map, (qg_gui_write_fn)write, controller);
  if (!g)
    return NULL;
  *widget = qg_gui_widget(g);
  return g;
}

static void cleanup(LV2UI_Handle h) { qg_gui_free(h); }

static void port_event(LV2UI_Handle h, uint32_t port, uint32_t size, uint32_t format,
                       const void *buffer)
{
  qg_gui_port_event(h, port, size, format, buffer);
}

static const void *extension_data(const char *uri)
{
  (void)uri;
  return NULL;
}

static const LV2UI_Descriptor descriptor = {QUANTONE_UI_GTK3_URI, instantiate, cleanup, port_event,
                                            extension_data};

LV2_SYMBOL_EXPORT const LV2UI_Descriptor *lv2ui_descriptor(uint32_t index)
{
  return index == 0 ? &descriptor : NULL;
}
