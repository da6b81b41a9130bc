/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The window's look (see gui_style.h): one CSS sheet, in the palette of
  the views (views.h), applied to the Quantone widget tree only.
*/
#include "gui_style.h"

static const char qg_css[] =
    ".qt-root { background-color: #16181d; }"
    ".qt-root label { color: #dce1ea; }"
    ".qt-root label.qt-title { font-size: 21px; font-weight: 800; letter-spacing: 4px; color: "
    "#27c0c9; }"
    ".qt-root label.qt-subtitle { font-size: 10px; color: #8b94a4; }"
    ".qt-root label.qt-model-name { font-size: 15px; font-weight: bold; color: #f2f4f8; }"
    ".qt-root label.qt-model-info { font-size: 11px; color: #8b94a4; }"
    ".qt-root label.qt-model-name.qt-missing { color: #ff6b72; }"
    ".qt-root label.qt-variant { font-size: 11px; color: #ffc943; font-weight: bold; }"
    ".qt-root label.qt-note { font-size: 10px; color: #8b94a4; }"
    ".qt-root label.qt-section { font-size: 10px; font-weight: bold; color: #8b94a4; "
    "letter-spacing: 1px;"
    "  margin-top: 4px; }"
    ".qt-controls { background-color: #1e2128; border-radius: 6px; border: 1px solid #333843;"
    "  padding: 10px; }"
    ".qt-root button { background-image: none; background-color: #2a2e37; color: #dce1ea;"
    "  border: 1px solid #3b414d; box-shadow: none; text-shadow: none; -gtk-icon-shadow: none;"
    "  padding: 4px 6px; font-size: 11px; min-height: 22px; }"
    ".qt-root button:hover { background-color: #343945; }"
    ".qt-root button:checked { background-color: #27c0c9; color: #0d1014; border-color: #27c0c9;"
    "  font-weight: bold; }"
    ".qt-root button:checked label { color: #0d1014; }"
    ".qt-root button:focus { outline-color: #ffc943; }"
    ".qt-root button:disabled, .qt-root button:disabled label { color: #5d6573; }"
    ".qt-root button:checked:disabled { background-color: #2f4f55; border-color: #2f4f55; }"
    ".qt-root button:checked:disabled label { color: #8b94a4; }"
    ".qt-root expander arrow { color: #8b94a4; min-width: 12px; min-height: 12px; }"
    ".qt-root expander title > label.qt-section { margin-top: 0; }"
    ".qt-root expander { margin-top: 4px; }"
    ".qt-controls scrolledwindow, .qt-controls viewport { background-color: transparent; }"
    ".qt-root .qt-prec button { min-height: 46px; }"
    ".qt-root .qt-prec button label { font-size: 20px; font-weight: 800; }"
    ".qt-root button.qt-bypass:checked { background-color: #e8484f; border-color: #e8484f; }"
    ".qt-root button.qt-load { background-color: #27c0c9; border-color: #27c0c9;"
    "  padding: 4px 14px; }"
    ".qt-root button.qt-load:hover { background-color: #3fd3dc; }"
    ".qt-root button.qt-load label { color: #0d1014; font-weight: bold; font-size: 12px; }"
    ".qt-error { background-color: #5a1d24; border: 1px solid #e8484f; border-radius: 5px;"
    "  padding: 6px 10px; }"
    ".qt-root .qt-error label { color: #ffd6da; font-weight: bold; }"
    ".qt-root scale trough { background-color: #333843; border: none; min-height: 4px; }"
    ".qt-root scale highlight { background-color: #27c0c9; border: none; }"
    ".qt-root scale slider { background-color: #dce1ea; border: none; min-width: 14px;"
    "  min-height: 14px; border-radius: 7px; }"
    ".qt-root scale value { color: #dce1ea; font-size: 11px; }"
    ".qt-root combobox button { padding: 2px 6px; }"
    ".qt-root tooltip label { color: #ffffff; }";

/** Apply our CSS to one widget tree only (not the screen): in-process the
    host's own widgets must keep their look. */
static void style_tree(GtkWidget *w, gpointer css)
{
  gtk_style_context_add_provider(gtk_widget_get_style_context(w), GTK_STYLE_PROVIDER(css),
                                 GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  if (GTK_IS_CONTAINER(w))
    gtk_container_forall(GTK_CONTAINER(w), style_tree, css);
}

GtkCssProvider *qg_gui_style(GtkWidget *root)
{
  GtkCssProvider *css = gtk_css_provider_new();
  gtk_css_provider_load_from_data(css, qg_css, -1, NULL);
  style_tree(root, css);
  return css;
}
