/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The LEVELS section's explanation (levels_status.h).
*/
#include "levels_status.h"

#include <math.h>
#include <stdio.h>

static float port_or_default(const qg_gui_data *d, int port)
{
  return d->port_known[port] ? d->port[port] : qt_port_info_get(port)->def;
}

void qg_levels_describe(const qg_gui_data *d, char *out, size_t cap)
{
  if (cap == 0)
    return;
  out[0] = '\0';
  if (!d->have_info)
    return;
  const bool calibrate = port_or_default(d, QT_PORT_CALIBRATE) > 0.5f;
  const float dbu = port_or_default(d, QT_PORT_INPUT_DBU);
  const int mode = (int)lrintf(port_or_default(d, QT_PORT_OUTPUT_MODE));
  char in[160], o[200];
  if (calibrate && d->has_input_level_dbu)
    snprintf(in, sizeof in, "Input calibrated: captured at %.1f dBu, interface %.1f dBu",
             d->input_level_dbu, dbu);
  else if (calibrate)
    snprintf(in, sizeof in, "Input not calibrated: this model has no input_level_dbu");
  else if (d->has_input_level_dbu)
    snprintf(in, sizeof in, "Input calibration off (captured at %.1f dBu)", d->input_level_dbu);
  else
    snprintf(in, sizeof in, "Input calibration off (the model has no input level)");

  if (mode == QT_OUTPUT_NORMALIZED && d->has_loudness)
    snprintf(o, sizeof o, "Output normalized to -18 dB: loudness %.1f dB %s", d->loudness,
             d->loudness_measured ? "measured on the guitar clip" : "from the file");
  else if (mode == QT_OUTPUT_NORMALIZED)
    snprintf(o, sizeof o, "Output raw: no loudness for this model (silent on the guitar clip)");
  else if (mode == QT_OUTPUT_CALIBRATED && d->has_output_level_dbu)
    snprintf(o, sizeof o, "Output calibrated: captured at %.1f dBu, interface %.1f dBu",
             d->output_level_dbu, dbu);
  else if (mode == QT_OUTPUT_CALIBRATED)
    snprintf(o, sizeof o, "Output raw: this model has no output_level_dbu");
  else
    snprintf(o, sizeof o, "Output raw: the model's own level");
  snprintf(out, cap, "%s\n%s", in, o);
}
