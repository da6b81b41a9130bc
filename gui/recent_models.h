/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The Recent list beside the model buttons (issue 18, item 3): from the
  desktop's recently used files (GTK's recent manager, where the window
  records every model that plays), the model files, newest first, without
  the one playing or a file named twice. Plain C, tested headless.
*/
#ifndef QUANTONE_GUI_RECENT_MODELS_H
#define QUANTONE_GUI_RECENT_MODELS_H

/** How many the list shows. */
#define QG_RECENT_MAX 8

/** True for a .nam, .json or .aidax file name (any case). */
int qg_is_model_file(const char *path);

/**
   Fill out[0..max) with the model files of paths[0..n) (local paths, NULL
   for entries that are not), newest first by times[] (seconds), skipping
   `current` (may be NULL) and repeats; returns how many. Pointers into
   paths.
*/
int qg_recent_pick(const char *const *paths, const long *times, int n, const char *current,
                   const char **out, int max);

#endif
