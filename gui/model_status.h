/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  What the model name label says, as plain data (no GTK, tested headless):
  the model's name, or "model missing: PATH" while a saved session's model
  file cannot be found.

  The plugin reports a missing model with a qt:error whose message starts
  with QG_MODEL_MISSING_PREFIX and goes on with the path; it keeps playing
  some other model meanwhile (the bundle's default) and keeps the path for
  the next save. The label keeps saying "missing" until a model loads:
  the user picks one here, or the plugin reports info for the missing path
  itself (the file came back) or for a model other than the one that was
  playing when the error came (a preset or another UI loaded one). Info
  re-sent for the stand-in model (on patch:Get, on a variant change) does
  not clear it.
*/
#ifndef QUANTONE_GUI_MODEL_STATUS_H
#define QUANTONE_GUI_MODEL_STATUS_H

#include <stdbool.h>
#include <stddef.h>

#define QG_MODEL_MISSING_PREFIX "model missing: "
/** Bytes of a missing path shown in the label at most (the full path is
    the label's tooltip); the file name is kept whole when it fits. */
#define QG_MODEL_MISSING_SHOWN 96

typedef struct {
  bool missing;
  char path[4096]; /**< the missing model's path */
  bool standin_known;
  char standin[4096]; /**< the model that plays meanwhile */
} qg_model_status;

/** A qt:error arrived; playing: the path of the model the GUI last had
    info for, or NULL if none yet. */
void qg_model_status_on_error(qg_model_status *s, const char *message, const char *playing);
/** A qt:modelInfo arrived for path. */
void qg_model_status_on_info(qg_model_status *s, const char *path);
/** The user asked for a model in this GUI. */
void qg_model_status_on_user_load(qg_model_status *s);
/** The label text: "model missing: PATH" (shortened), else the model's
    name when it has one other than its file name, else the file name,
    else "No model". */
void qg_model_status_title(const qg_model_status *s, const char *name, const char *path, char *buf,
                           size_t len);

#endif
