/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  What the Slim slider says: which size of a slimmable model a slim value
  plays and what that size costs next to the full one. Plain C on
  qg_gui_data (no GTK), so it is tested headless with the protocol.
*/
#ifndef QUANTONE_GUI_SLIM_STATUS_H
#define QUANTONE_GUI_SLIM_STATUS_H

#include "gui_data.h"

#include <stddef.h>

/** The step slim value s plays, as the plugin picks it (the first whose
    hi is above s, else the last); -1 when the model has no steps. */
int qg_slim_step_at(const qg_gui_data *d, double s);
/** "LABEL, 2.1k weights, 40% of the MACs" for the step s plays, the MACs
    as a share of the full (last) size's; "" when the model has no steps. */
void qg_slim_describe(const qg_gui_data *d, double s, char *out, size_t cap);

#endif
