/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  state:interface: the model file path (and the histogram layer) are the
  plugin's state; every control is a port and the host saves those itself.

  save() may run concurrently with run() (the state extension allows it),
  so it reads the path through the seqlock in qt_read_path() and never
  touches the model objects. The path is stored abstract (mapPath), so a
  session that moves keeps its model.

  restore() is in the instantiation class: run() is not running, so it may
  load synchronously and install the model directly. The worker might still
  be busy with an older job that reads the old model, so the old model goes
  to the garbage list like any other and run() hands it back in order.
  A missing or broken file is not fatal: the player gets a message
  ("model missing: PATH ...", which the GUI shows) and the default model,
  never a crash and never silence without a reason. The state keeps naming
  the file the session asked for, not the default standing in for it, so
  saving the session again (before the file is back, or on a machine
  without it) does not lose the user's choice; loading another model
  replaces it as usual.
*/
#include "qt_plugin.h"

#include <lv2/core/lv2_util.h>
#include <lv2/state/state.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static LV2_State_Status save(LV2_Handle h, LV2_State_Store_Function store, LV2_State_Handle sh,
                             uint32_t flags, const LV2_Feature *const *features)
{
  (void)flags;
  qt_plugin *self = h;
  if (!self->map)
    return LV2_STATE_ERR_NO_FEATURE;
  LV2_State_Map_Path *map_path = NULL;
  LV2_State_Free_Path *free_path = NULL;
  lv2_features_query(features, LV2_STATE__mapPath, &map_path, false, LV2_STATE__freePath,
                     &free_path, false, NULL);
  char path[QT_PATH_MAX];
  qt_read_path(self, path, sizeof path);
  if (path[0]) {
    char *apath = map_path ? map_path->abstract_path(map_path->handle, path) : NULL;
    const char *p = apath ? apath : path;
    store(sh, self->uris.qt_model, p, strlen(p) + 1, self->uris.atom_Path,
          LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
    if (apath) {
      if (free_path)
        free_path->free_path(free_path->handle, apath);
      else
        free(apath); /* what state.h says to do without freePath */
    }
  }
  int32_t layer = self->hist_layer;
  store(sh, self->uris.qt_histogramLayer, &layer, sizeof layer, self->uris.atom_Int,
        LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
  return LV2_STATE_SUCCESS;
}

static LV2_State_Status restore(LV2_Handle h, LV2_State_Retrieve_Function retrieve,
                                LV2_State_Handle sh, uint32_t flags,
                                const LV2_Feature *const *features)
{
  (void)flags;
  qt_plugin *self = h;
  if (!self->map)
    return LV2_STATE_ERR_NO_FEATURE;
  LV2_State_Map_Path *map_path = NULL;
  LV2_State_Free_Path *free_path = NULL;
  lv2_features_query(features, LV2_STATE__mapPath, &map_path, false, LV2_STATE__freePath,
                     &free_path, false, NULL);
  size_t size = 0;
  uint32_t type = 0, vflags = 0;
  const void *v = retrieve(sh, self->uris.qt_histogramLayer, &size, &type, &vflags);
  if (v && type == self->uris.atom_Int && size == sizeof(int32_t)) {
    self->hist_layer = *(const int32_t *)v;
    self->hist_requested = true;
  }
  v = retrieve(sh, self->uris.qt_model, &size, &type, &vflags);
  if (!v)
    return LV2_STATE_SUCCESS; /* nothing saved: keep what plays */
  if ((type != self->uris.atom_Path && type != self->uris.atom_String) || size == 0 ||
      ((const char *)v)[size - 1] != 0)
    return LV2_STATE_ERR_BAD_TYPE;
  char *apath = map_path ? map_path->absolute_path(map_path->handle, v) : NULL;
  const char *path = apath ? apath : v;

  char err[QT_MSG_MAX];
  qm_setting fp; /* run() requests the controls' variant */
  qm_setting_default(&fp);
  qm_setting_normalise(&fp);
  qt_slot *m = qt_slot_load(self, path, &fp, 1.0f, true, NULL, err, sizeof err);
  bool missing = m == NULL;
  if (missing) {
    char msg[QT_MSG_MAX];
    size_t pl = strlen(path);
    const char *why = !strncmp(err, path, pl) && err[pl] == ':' ? err + pl + 1 : err;
    while (*why == ' ')
      ++why;
    snprintf(msg, sizeof msg, "model missing: %.380s (%.80s); playing the default model", path,
             why);
    lv2_log_error(&self->logger, "Quantone: %s\n", msg);
    qt_set_error(self, msg);
    m = qt_slot_load(self, self->default_model, &fp, 1.0f, true, NULL, err, sizeof err);
    if (!m)
      lv2_log_error(&self->logger, "Quantone: default model: %s\n", err);
  }
  /** The session's choice replaces any load still on its way (run() is
      not running, so the request slot is ours to write). */
  qt_seqstr_write(&self->load_req, "", 0, ++self->load_gen);
  self->load_pending = false;
  if (m) {
    qt_slot_reset_all(m);
    qt_install_model(self, m, false);
    if (self->model_old) { /* a load was fading: session load wins at once */
      qt_garbage(self, QT_FREE_MODEL, self->model_old);
      self->model_old = NULL;
    }
  }
  if (missing) { /* after the install, which names the default */
    qt_publish_path(self, path);
    snprintf(self->missing_msg, sizeof self->missing_msg, "%s", self->error_msg);
  }
  if (apath) {
    if (free_path)
      free_path->free_path(free_path->handle, apath);
    else
      free(apath);
  }
  return LV2_STATE_SUCCESS;
}

static const LV2_State_Interface state_iface = {save, restore};

const void *qt_state_interface(void) { return &state_iface; }
