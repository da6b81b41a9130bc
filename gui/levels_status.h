/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  What the LEVELS section says about input calibration and the output
  mode for the playing model: what each works from, and why it does
  nothing when the model lacks the field. Plain C on qg_gui_data (no
  GTK), so it is tested headless with the protocol.
*/
#ifndef QUANTONE_GUI_LEVELS_STATUS_H
#define QUANTONE_GUI_LEVELS_STATUS_H

#include "gui_data.h"

#include <stddef.h>

/** Two lines, input then output, from modelInfo's level fields and the
    calibrate_input, input_dbu and output_mode ports (their defaults until
    the host says otherwise); "" before any modelInfo. */
void qg_levels_describe(const qg_gui_data *d, char *out, size_t cap);

#endif
