/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/* The ROUNDING section's status line (rounding_status.h). */
#include "rounding_status.h"

#include <math.h>
#include <stdio.h>

static float port_or_default(const qg_gui_data *d, int port)
{
  return d->port_known[port] ? d->port[port] : qt_port_info_get(port)->def;
}

void qg_rounding_describe(const qg_gui_data *d, char *out, size_t cap)
{
  if (cap == 0)
    return;
  const qg_prepare *p = &d->prepare;
  /** Short enough for one line of the controls column (the label
      ellipsizes the rest): the share done comes before the step's name. */
  if (port_or_default(d, QT_PORT_PRECISION) > 16)
    snprintf(out, cap, "FP32: rounding applies to 8, 4, 2 bits.");
  else if (lrintf(port_or_default(d, QT_PORT_ROUNDING)) != QT_ROUNDING_OPTIMIZED)
    snprintf(out, cap, "Nearest: each weight to its closest level.");
  else if (!p->valid)
    snprintf(out, cap, "Optimized: preparing in the background...");
  else if (p->progress < 1.0f)
    snprintf(out, cap, "Optimizing %d%% (%.1f s): %s",
             (int)lrintf(100.0f * fmaxf(0.0f, p->progress)), p->seconds, p->stage);
  else if (p->cached)
    snprintf(out, cap, "Optimized: kept from before, back at once.");
  else
    snprintf(out, cap, "Optimized in %.1f s (%.1f s CPU), kept.", p->seconds, p->cpu_seconds);
}
