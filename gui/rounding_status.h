/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  What the ROUNDING section says under its buttons: nothing to wait for
  with Nearest; with Optimized, how far the worker is (its qt:prepare
  messages: the step, the share done, the seconds so far) and, once the
  variant plays, what it took, or that it came back at once from the
  worker's kept variants. Plain C on qg_gui_data (no GTK), tested headless
  with the protocol.
*/
#ifndef QUANTONE_GUI_ROUNDING_STATUS_H
#define QUANTONE_GUI_ROUNDING_STATUS_H

#include "gui_data.h"

#include <stddef.h>

/** One line from the precision and rounding ports (their defaults until
    the host says otherwise) and the last qt:prepare. */
void qg_rounding_describe(const qg_gui_data *d, char *out, size_t cap);

#endif
