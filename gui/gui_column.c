/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The controls column's frame: the controls scroll vertically in their own
  scroller (never sideways), with Bypass pinned under it, so the window's
  height is set by the views and fits a 1024x768 screen however many
  sections the column grows; and the collapsible sections for the groups
  a player rarely touches.

  A wheel over a slider or a combo box inside the column scrolls the
  column instead of changing the control, unless that control has the
  keyboard focus: a player scrolling down to Levels must not move the
  Input level on the way.
*/
#include "gui_internal.h"

/** The scroll event goes to the column's scroller instead of the control
    under the pointer (which keeps it when focused: a click on a slider
    focuses it, so the wheel adjusts what the player just touched). */
static gboolean on_wheel(GtkWidget *w, GdkEvent *ev, gpointer user)
{
  (void)user;
  if (gtk_widget_has_focus(w))
    return FALSE;
  GtkWidget *scroller = gtk_widget_get_ancestor(w, GTK_TYPE_SCROLLED_WINDOW);
  if (!scroller)
    return FALSE;
  gtk_propagate_event(scroller, ev);
  return TRUE;
}

static void wheel_scrolls_column(GtkWidget *w, gpointer g)
{
  if (GTK_IS_RANGE(w) || GTK_IS_COMBO_BOX(w))
    g_signal_connect(w, "scroll-event", G_CALLBACK(on_wheel), g);
  else if (GTK_IS_CONTAINER(w))
    gtk_container_forall(GTK_CONTAINER(w), wheel_scrolls_column, g);
}

GtkWidget *qg_gui_column(qg_gui *g, GtkWidget *content, GtkWidget *pinned)
{
  GtkWidget *column = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
  gtk_style_context_add_class(gtk_widget_get_style_context(column), "qt-controls");
  gtk_widget_set_size_request(column, 290, -1);

  GtkWidget *scroller = gtk_scrolled_window_new(NULL, NULL);
  gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroller), GTK_POLICY_NEVER,
                                 GTK_POLICY_AUTOMATIC);
  /** Its natural height is not the content's (propagate-natural-height
      stays off): the views decide the window's height, the column
      scrolls within it. Room for the precision buttons at the least. */
  gtk_scrolled_window_set_min_content_height(GTK_SCROLLED_WINDOW(scroller), 120);
  gtk_widget_set_vexpand(scroller, TRUE);
  gtk_container_add(GTK_CONTAINER(scroller), content);
  GtkWidget *viewport = gtk_bin_get_child(GTK_BIN(scroller));
  if (GTK_IS_VIEWPORT(viewport))
    gtk_viewport_set_shadow_type(GTK_VIEWPORT(viewport), GTK_SHADOW_NONE);
  wheel_scrolls_column(content, g);
  /** Tab to a control below the fold scrolls it into view. */
  gtk_container_set_focus_vadjustment(
      GTK_CONTAINER(content), gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(scroller)));
  g->column_scroller = scroller;
  g->column_content = content;

  gtk_box_pack_start(GTK_BOX(column), scroller, TRUE, TRUE, 0);
  gtk_box_pack_start(GTK_BOX(column), pinned, FALSE, FALSE, 4);
  return column;
}

GtkWidget *qg_gui_expander(GtkWidget *title, GtkWidget *body, bool expanded)
{
  GtkWidget *e = gtk_expander_new(NULL);
  gtk_expander_set_label_widget(GTK_EXPANDER(e), title);
  gtk_expander_set_expanded(GTK_EXPANDER(e), expanded);
  gtk_container_add(GTK_CONTAINER(e), body);
  return e;
}
