/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The Quantone window's CSS. Applied per widget (never to the screen):
  in-process, the host's own widgets keep their look.
*/
#ifndef QUANTONE_GUI_GUI_STYLE_H
#define QUANTONE_GUI_GUI_STYLE_H

#include <gtk/gtk.h>

/** Style root and every widget below it; returns the provider (the
    caller unrefs it). Widgets added later are not styled. */
GtkCssProvider *qg_gui_style(GtkWidget *root);

#endif
