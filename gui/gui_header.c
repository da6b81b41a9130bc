/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The window's header: title, the model chooser ("Load model…" and its
  file dialog), the model's name / info / variant labels, and the error
  bar under them.
*/
#include "gui_internal.h"
#include "recent_models.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void qg_gui_show_error(qg_gui *g)
{
  if (g->widgets_gone)
    return;
  if (g->data.have_error) {
    gtk_label_set_text(GTK_LABEL(g->error_label), g->data.error);
    gtk_widget_show(g->error_box);
  } else {
    gtk_widget_hide(g->error_box);
  }
  /** Test hook: lets a script check the label's text without OCR. */
  qg_hook_log(g, "quantone-gui: error label: %s\n",
              g->data.have_error ? gtk_label_get_text(GTK_LABEL(g->error_label)) : "");
}

void qg_gui_load_model(qg_gui *g, const char *path)
{
  g->data.have_error = false; /* a new attempt: the old complaint is moot */
  qg_gui_show_error(g);
  qg_model_status_on_user_load(&g->model_status);
  qg_gui_show_info(g);
  qg_gui_write_atom(g, qg_proto_set_model(&g->proto, g->msg, sizeof g->msg, path));
}

static void on_load(GtkButton *b, gpointer user)
{
  qg_gui *g = user;
  GtkWidget *top = gtk_widget_get_toplevel(GTK_WIDGET(b));
  GtkFileChooserNative *fc = gtk_file_chooser_native_new(
      "Load a model capture", gtk_widget_is_toplevel(top) ? GTK_WINDOW(top) : NULL,
      GTK_FILE_CHOOSER_ACTION_OPEN, "_Load", "_Cancel");
  GtkFileFilter *f = gtk_file_filter_new();
  gtk_file_filter_set_name(f, "Models (.nam, .json, .aidax)");
  gtk_file_filter_add_pattern(f, "*.nam");
  gtk_file_filter_add_pattern(f, "*.json");
  gtk_file_filter_add_pattern(f, "*.aidax");
  gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(fc), f);
  GtkFileFilter *all = gtk_file_filter_new();
  gtk_file_filter_set_name(all, "All files");
  gtk_file_filter_add_pattern(all, "*");
  gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(fc), all);
  if (g->data.model_path[0]) {
    char *dir = g_path_get_dirname(g->data.model_path);
    gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(fc), dir);
    g_free(dir);
  }
  if (gtk_native_dialog_run(GTK_NATIVE_DIALOG(fc)) == GTK_RESPONSE_ACCEPT) {
    char *path = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(fc));
    if (path)
      qg_gui_load_model(g, path);
    g_free(path);
  }
  g_object_unref(fc);
}

/** Save quantized model: the playing model as the controls play it, as a
    .nam file (plugin/export.c writes it in the worker; the answer comes
    back as qt:exported or an error). */
static void on_save_quantized(GtkButton *b, gpointer user)
{
  qg_gui *g = user;
  if (!g->data.model_path[0])
    return;
  GtkWidget *top = gtk_widget_get_toplevel(GTK_WIDGET(b));
  GtkFileChooserNative *fc = gtk_file_chooser_native_new(
      "Save the quantized model", gtk_widget_is_toplevel(top) ? GTK_WINDOW(top) : NULL,
      GTK_FILE_CHOOSER_ACTION_SAVE, "_Save", "_Cancel");
  gtk_file_chooser_set_do_overwrite_confirmation(GTK_FILE_CHOOSER(fc), TRUE);
  char *dir = g_path_get_dirname(g->data.model_path);
  char *base = g_path_get_basename(g->data.model_path);
  char *dot = strrchr(base, '.');
  if (dot)
    *dot = '\0';
  const int bits = (int)g->data.port[QT_PORT_PRECISION];
  char name[512];
  snprintf(name, sizeof name, "%.400s.%s.nam", base,
           bits >= 20  ? "fp32"
           : bits >= 6 ? "8bit"
           : bits >= 3 ? "4bit"
                       : "2bit");
  gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(fc), dir);
  gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(fc), name);
  g_free(dir);
  g_free(base);
  if (gtk_native_dialog_run(GTK_NATIVE_DIALOG(fc)) == GTK_RESPONSE_ACCEPT) {
    char *path = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(fc));
    if (path)
      qg_gui_write_atom(g, qg_proto_export_model(&g->proto, g->msg, sizeof g->msg, path));
    g_free(path);
  }
  g_object_unref(fc);
}

void qg_gui_show_exported(qg_gui *g)
{
  if (g->widgets_gone)
    return;
  char buf[4200];
  snprintf(buf, sizeof buf, "Saved the quantized model to %s", g->data.exported);
  gtk_widget_set_tooltip_text(g->save_quantized, buf);
  gtk_label_set_text(GTK_LABEL(g->model_var), buf);
  gtk_widget_set_tooltip_text(g->model_var, buf);
  qg_hook_log(g, "quantone-gui: exported: %s\n", g->data.exported);
}

static void on_dismiss(GtkButton *b, gpointer user)
{
  (void)b;
  qg_gui *g = user;
  g->data.have_error = false;
  qg_gui_show_error(g);
}

void qg_gui_show_info(qg_gui *g)
{
  if (g->widgets_gone)
    return;
  const qg_gui_data *d = &g->data;
  char buf[1024];
  const char *base = strrchr(d->model_path, '/');
  base = base ? base + 1 : d->model_path;
  qg_model_status_title(&g->model_status, d->model_name, d->model_path, buf, sizeof buf);
  gtk_label_set_text(GTK_LABEL(g->model_name), buf);
  /** A missing model is said where the model is chosen, in the error
      colour, until a model loads; the tooltip has the whole path. */
  /** The labels are cut at the end when the window is narrow (the name
      first, the file name leads the line under it); each tooltip has
      the whole text. A missing model's path is cut in the middle instead,
      so its file name stays in view. */
  GtkStyleContext *sc = gtk_widget_get_style_context(g->model_name);
  if (g->model_status.missing) {
    gtk_style_context_add_class(sc, "qt-missing");
    gtk_label_set_ellipsize(GTK_LABEL(g->model_name), PANGO_ELLIPSIZE_MIDDLE);
    gtk_widget_set_tooltip_text(g->model_name, g->model_status.path);
  } else {
    gtk_style_context_remove_class(sc, "qt-missing");
    gtk_label_set_ellipsize(GTK_LABEL(g->model_name), PANGO_ELLIPSIZE_END);
    gchar *tip = g_strdup_printf("%s\n%s", buf, d->model_path);
    gtk_widget_set_tooltip_text(g->model_name, d->model_path[0] ? tip : buf);
    g_free(tip);
  }
  qg_hook_log(g, "quantone-gui: model label: %s\n", buf);
  if (!d->have_info) {
    gtk_label_set_text(GTK_LABEL(g->model_info), "");
    gtk_widget_set_tooltip_text(g->model_info, NULL);
    return;
  }
  char params[32];
  if (d->weight_count >= 1000000)
    snprintf(params, sizeof params, "%.2fM", (double)d->weight_count / 1e6);
  else if (d->weight_count >= 1000)
    snprintf(params, sizeof params, "%.1fk", (double)d->weight_count / 1e3);
  else
    snprintf(params, sizeof params, "%lld", (long long)d->weight_count);
  char rate[128];
  if (d->host_rate > 0 && fabs(d->host_rate - d->model_rate) > 0.5)
    snprintf(rate, sizeof rate, "%g kHz model, %g kHz host: %s", d->model_rate / 1000,
             d->host_rate / 1000, d->resampling ? "resampled" : "NOT resampled");
  else
    snprintf(rate, sizeof rate, "%g kHz", d->model_rate / 1000);
  /** The file name first (unless the title is the file name already):
      which file plays matters more than the latency at the end. */
  char file[320] = "";
  if (strcmp(gtk_label_get_text(GTK_LABEL(g->model_name)), base))
    snprintf(file, sizeof file, "%.300s  ·  ", base);
  snprintf(buf, sizeof buf, "%s%s  ·  %s parameters  ·  %s  ·  latency %d", file, d->architecture,
           params, rate, d->latency);
  gtk_label_set_text(GTK_LABEL(g->model_info), buf);
  gtk_widget_set_tooltip_text(g->model_info, buf);
  gtk_label_set_text(GTK_LABEL(g->model_var), d->variant);
  gtk_widget_set_tooltip_text(g->model_var, d->variant);

  g->updating++;
  gtk_combo_box_text_remove_all(GTK_COMBO_BOX_TEXT(g->hist_combo));
  for (int i = 0; i < d->n_linears; ++i) {
    char item[64];
    snprintf(item, sizeof item, "%d  %s", i + 1, d->linear_names[i]);
    gtk_combo_box_text_append_text(GTK_COMBO_BOX_TEXT(g->hist_combo), item);
  }
  if (d->hist.valid)
    for (int i = 0; i < d->n_linears; ++i)
      if (!strcmp(d->linear_names[i], d->hist.layer))
        gtk_combo_box_set_active(GTK_COMBO_BOX(g->hist_combo), i);
  g->updating--;
}

static void on_prev(GtkButton *b, gpointer user)
{
  (void)b;
  qg_gui *g = user;
  qg_gui_write_atom(g, qg_proto_model_step(&g->proto, g->msg, sizeof g->msg, -1));
}

static void on_next(GtkButton *b, gpointer user)
{
  (void)b;
  qg_gui *g = user;
  qg_gui_write_atom(g, qg_proto_model_step(&g->proto, g->msg, sizeof g->msg, 1));
}

static void on_ab(GtkButton *b, gpointer user)
{
  (void)b;
  qg_gui *g = user;
  qg_gui_write_atom(g, qg_proto_model_ab(&g->proto, g->msg, sizeof g->msg));
}

static void on_recent(GtkComboBox *c, gpointer user)
{
  qg_gui *g = user;
  const char *path = gtk_combo_box_get_active_id(c);
  if (g->updating || !path || !path[0])
    return;
  char chosen[4096];
  snprintf(chosen, sizeof chosen, "%s", path);
  g->updating++;
  gtk_combo_box_set_active(c, 0); /* back to "Recent" */
  g->updating--;
  qg_gui_load_model(g, chosen);
}

void qg_gui_show_recent(qg_gui *g)
{
  if (g->widgets_gone || !g->recent_combo)
    return;
  GtkRecentManager *mgr = gtk_recent_manager_get_default();
  const char *current = g->data.have_info ? g->data.model_path : NULL;
  if (current && current[0] == '/' && strcmp(g->played[0], current)) {
    gchar *uri = g_filename_to_uri(current, NULL, NULL);
    if (uri)
      gtk_recent_manager_add_item(mgr, uri);
    g_free(uri);
    /** The manager saves and reloads its list later (at idle): what this
        window played is kept here too, newest first, so the list is right
        at once. */
    memmove(g->played[1], g->played[0], sizeof g->played - sizeof g->played[0]);
    snprintf(g->played[0], sizeof g->played[0], "%s", current);
  }
  GList *items = gtk_recent_manager_get_items(mgr);
  int n = (int)g_list_length(items) + QG_RECENT_MAX, i = 0;
  char **paths = g_new0(char *, n);
  long *times = g_new0(long, n);
  for (int j = 0; j < QG_RECENT_MAX; ++j, ++i) {
    paths[i] = g->played[j][0] ? g_strdup(g->played[j]) : NULL;
    times[i] = LONG_MAX - j; /* newer than anything the manager had */
  }
  for (GList *l = items; l; l = l->next, ++i) {
    GtkRecentInfo *info = l->data;
    paths[i] = g_filename_from_uri(gtk_recent_info_get_uri(info), NULL, NULL);
    times[i] = (long)gtk_recent_info_get_modified(info);
  }
  const char *pick[QG_RECENT_MAX];
  int k = qg_recent_pick((const char *const *)paths, times, n, current, pick, QG_RECENT_MAX);
  g->updating++;
  GtkComboBoxText *c = GTK_COMBO_BOX_TEXT(g->recent_combo);
  gtk_combo_box_text_remove_all(c);
  gtk_combo_box_text_append(c, "", k ? "Recent" : "Recent (none yet)");
  for (int j = 0; j < k; ++j) {
    const char *slash = strrchr(pick[j], '/');
    gtk_combo_box_text_append(c, pick[j], slash ? slash + 1 : pick[j]);
  }
  gtk_combo_box_set_active(GTK_COMBO_BOX(c), 0);
  g->updating--;
  for (i = 0; i < n; ++i)
    g_free(paths[i]);
  g_free(paths);
  g_free(times);
  g_list_free_full(items, (GDestroyNotify)gtk_recent_info_unref);
}

/** Previous / next model of the folder and A/B, with their keys (Alt+P,
    Alt+N, Alt+A): the plugin lists the folder and loads in its worker. */
static GtkWidget *browse_buttons(qg_gui *g)
{
  static const struct {
    const char *label, *tip;
    void (*fn)(GtkButton *, gpointer);
  } bt[] = {
      {"◀ _Prev",
       "The previous model file in this model's folder (Alt+P); files that do not "
       "load are skipped and named.",
       on_prev},
      {"_Next ▶", "The next model file in this model's folder (Alt+N), wrapping around.", on_next},
      {"_A/B", "Back to the model that played before this one (Alt+A), crossfaded.", on_ab},
  };
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_style_context_add_class(gtk_widget_get_style_context(box), "linked");
  for (int i = 0; i < 3; ++i) {
    GtkWidget *b = gtk_button_new_with_mnemonic(bt[i].label);
    gtk_widget_set_tooltip_text(b, bt[i].tip);
    g_signal_connect(b, "clicked", G_CALLBACK(bt[i].fn), g);
    gtk_box_pack_start(GTK_BOX(box), b, FALSE, FALSE, 0);
  }
  /** The recently played model files (the desktop's recent list, where
      every model that plays is recorded): choosing one loads it. */
  g->recent_combo = gtk_combo_box_text_new();
  gtk_widget_set_tooltip_text(g->recent_combo, "Model files played recently, newest first.");
  gtk_combo_box_text_append(GTK_COMBO_BOX_TEXT(g->recent_combo), "", "Recent");
  gtk_combo_box_set_active(GTK_COMBO_BOX(g->recent_combo), 0);
  g_signal_connect(g->recent_combo, "changed", G_CALLBACK(on_recent), g);
  /** File names are cut at the end: a long one must not widen the
      header and take the model title's room (the list shows them whole). */
  GList *cells = gtk_cell_layout_get_cells(GTK_CELL_LAYOUT(g->recent_combo));
  for (GList *l = cells; l; l = l->next)
    if (GTK_IS_CELL_RENDERER_TEXT(l->data))
      g_object_set(l->data, "ellipsize", PANGO_ELLIPSIZE_END, "max-width-chars", 18, NULL);
  g_list_free(cells);
  gtk_combo_box_set_popup_fixed_width(GTK_COMBO_BOX(g->recent_combo), FALSE);
  gtk_box_pack_start(GTK_BOX(box), g->recent_combo, TRUE, TRUE, 6);
  return box;
}

GtkWidget *qg_gui_build_header(qg_gui *g)
{
  GtkWidget *h = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *brand = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *title = gtk_label_new("QUANTONE");
  gtk_style_context_add_class(gtk_widget_get_style_context(title), "qt-title");
  gtk_widget_set_halign(title, GTK_ALIGN_START);
  GtkWidget *sub = gtk_label_new("neural amp captures at low precision");
  gtk_style_context_add_class(gtk_widget_get_style_context(sub), "qt-subtitle");
  gtk_widget_set_halign(sub, GTK_ALIGN_START);
  gtk_box_pack_start(GTK_BOX(brand), title, FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(brand), sub, FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(h), brand, FALSE, FALSE, 0);

  GtkWidget *load = gtk_button_new_with_mnemonic("_Load model…");
  gtk_style_context_add_class(gtk_widget_get_style_context(load), "qt-load");
  gtk_widget_set_tooltip_text(load, "Open a .nam capture or an AIDA-X / RTNeural .json model.");
  gtk_widget_set_valign(load, GTK_ALIGN_CENTER);
  g_signal_connect(load, "clicked", G_CALLBACK(on_load), g);
  /** The buttons in two rows (load and save over browsing), so the
      model's title beside them keeps most of a 1024-pixel window. */
  GtkWidget *buttons = gtk_grid_new();
  gtk_grid_set_row_spacing(GTK_GRID(buttons), 4);
  gtk_grid_set_column_spacing(GTK_GRID(buttons), 6);
  gtk_widget_set_valign(buttons, GTK_ALIGN_CENTER);
  gtk_grid_attach(GTK_GRID(buttons), load, 0, 0, 1, 1);
  g->save_quantized = gtk_button_new_with_mnemonic("_Save quantized model…");
  gtk_widget_set_tooltip_text(g->save_quantized,
                              "Write the model as it plays now (precision, scheme, size) as a "
                              ".nam file any NAM player plays; Quantone reloads it quantized.");
  gtk_widget_set_valign(g->save_quantized, GTK_ALIGN_CENTER);
  g_signal_connect(g->save_quantized, "clicked", G_CALLBACK(on_save_quantized), g);
  gtk_grid_attach(GTK_GRID(buttons), g->save_quantized, 1, 0, 1, 1);
  gtk_grid_attach(GTK_GRID(buttons), browse_buttons(g), 0, 1, 2, 1);
  gtk_box_pack_start(GTK_BOX(h), buttons, FALSE, FALSE, 6);

  GtkWidget *info = gtk_box_new(GTK_ORIENTATION_VERTICAL, 1);
  g->model_name = gtk_label_new("No model");
  gtk_style_context_add_class(gtk_widget_get_style_context(g->model_name), "qt-model-name");
  g->model_info = gtk_label_new("");
  gtk_style_context_add_class(gtk_widget_get_style_context(g->model_info), "qt-model-info");
  g->model_var = gtk_label_new("");
  gtk_style_context_add_class(gtk_widget_get_style_context(g->model_var), "qt-variant");
  /** The labels fill what the buttons leave (and all of a wider
      window: hexpand gives them the rest), cut at the end; their natural
      width is bounded so a long name never makes the window's default
      size wider than the views under it. */
  GtkWidget *labels[] = {g->model_name, g->model_info, g->model_var};
  for (int i = 0; i < 3; ++i) {
    gtk_widget_set_halign(labels[i], GTK_ALIGN_FILL);
    gtk_label_set_ellipsize(GTK_LABEL(labels[i]), PANGO_ELLIPSIZE_END);
    gtk_label_set_max_width_chars(GTK_LABEL(labels[i]), 12);
    gtk_label_set_xalign(GTK_LABEL(labels[i]), 0);
    gtk_box_pack_start(GTK_BOX(info), labels[i], FALSE, FALSE, 0);
  }
  gtk_widget_set_hexpand(info, TRUE);
  gtk_widget_set_valign(info, GTK_ALIGN_CENTER);
  gtk_box_pack_start(GTK_BOX(h), info, TRUE, TRUE, 0);
  return h;
}

GtkWidget *qg_gui_build_error(qg_gui *g)
{
  g->error_box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
  gtk_style_context_add_class(gtk_widget_get_style_context(g->error_box), "qt-error");
  GtkWidget *icon = gtk_label_new("⚠");
  g->error_label = gtk_label_new("");
  gtk_label_set_line_wrap(GTK_LABEL(g->error_label), TRUE);
  gtk_label_set_xalign(GTK_LABEL(g->error_label), 0);
  gtk_label_set_selectable(GTK_LABEL(g->error_label), TRUE);
  gtk_widget_set_hexpand(g->error_label, TRUE);
  GtkWidget *x = gtk_button_new_with_label("Dismiss");
  gtk_widget_set_valign(x, GTK_ALIGN_CENTER);
  g_signal_connect(x, "clicked", G_CALLBACK(on_dismiss), g);
  gtk_box_pack_start(GTK_BOX(g->error_box), icon, FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(g->error_box), g->error_label, TRUE, TRUE, 0);
  gtk_box_pack_start(GTK_BOX(g->error_box), x, FALSE, FALSE, 0);
  /** Hidden until there is an error: show_all of the window must skip the
      box, so its children are shown here and the box alone toggles. */
  gtk_widget_show(icon);
  gtk_widget_show(g->error_label);
  gtk_widget_show(x);
  gtk_widget_set_no_show_all(g->error_box, TRUE);
  return g->error_box;
}
