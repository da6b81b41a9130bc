/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The LEVELS section's explanation, headless (issue 18): modelInfo's level
  fields decoded by the GUI's protocol, cleared by a model without them,
  and what gui/levels_status.c says for each control state, including why
  calibration or a mode does nothing for a model without the field.
*/
#include "levels_status.h"
#include "protocol.h"
#include "proto_test.h"
#include "test_urid_map.h"

#include <lv2/atom/forge.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void check(bool ok, const char *what, const char *text)
{
  printf("%s: %s%s%s\n", ok ? "ok" : "FAIL", what, text ? " -- " : "", text ? text : "");
  if (!ok)
    ++failures;
}

/** A modelInfo with the level fields given (NAN: absent). */
static unsigned send_info(const qg_proto *p, LV2_URID_Map *m, qg_gui_data *d, double in_dbu,
                          double out_dbu, double loudness, bool measured)
{
  uint8_t buf[4096];
  LV2_Atom_Forge f;
  proto_test_forge(&f, m, buf, sizeof buf);
  LV2_Atom_Forge_Frame fr;
  lv2_atom_forge_object(&f, &fr, 0, p->uris.qt_modelInfo);
  lv2_atom_forge_key(&f, p->uris.qt_path);
  lv2_atom_forge_path(&f, "/m/a.nam", 8);
  if (in_dbu == in_dbu) {
    lv2_atom_forge_key(&f, p->uris.qt_inputLevelDbu);
    lv2_atom_forge_double(&f, in_dbu);
  }
  if (out_dbu == out_dbu) {
    lv2_atom_forge_key(&f, p->uris.qt_outputLevelDbu);
    lv2_atom_forge_double(&f, out_dbu);
  }
  if (loudness == loudness) {
    lv2_atom_forge_key(&f, p->uris.qt_loudness);
    lv2_atom_forge_double(&f, loudness);
    lv2_atom_forge_key(&f, p->uris.qt_loudnessMeasured);
    lv2_atom_forge_bool(&f, measured);
  }
  lv2_atom_forge_pop(&f, &fr);
  return proto_test_decode(p, buf, d);
}

int main(void)
{
  LV2_URID_Map m = {NULL, test_urid_map};
  qg_proto p;
  qg_proto_init(&p, &m);
  static qg_gui_data d;
  memset(&d, 0, sizeof d);
  char t[400];

  qg_levels_describe(&d, t, sizeof t);
  check(t[0] == '\0', "nothing before modelInfo", NULL);

  /* A2.nam-like: input level and a loudness from the file */
  send_info(&p, &m, &d, 14.76, NAN, -26.3839, false);
  check(d.has_input_level_dbu && d.input_level_dbu == 14.76 && !d.has_output_level_dbu &&
            d.has_loudness && !d.loudness_measured,
        "A2-like modelInfo decoded", NULL);
  qg_levels_describe(&d, t, sizeof t); /* the defaults: calibration off, Normalized */
  check(strstr(t, "calibration off (captured at 14.8 dBu)") &&
            strstr(t, "normalized to -18 dB: loudness -26.4 dB from the file"),
        "defaults: calibration off, Normalized from the file", t);
  proto_test_set_port(&d, QT_PORT_CALIBRATE, 1);
  proto_test_set_port(&d, QT_PORT_INPUT_DBU, 18);
  qg_levels_describe(&d, t, sizeof t);
  check(strstr(t, "Input calibrated: captured at 14.8 dBu, interface 18.0 dBu") != NULL,
        "calibration on", t);
  proto_test_set_port(&d, QT_PORT_OUTPUT_MODE, QT_OUTPUT_CALIBRATED);
  qg_levels_describe(&d, t, sizeof t);
  check(strstr(t, "Output raw: this model has no output_level_dbu") != NULL,
        "Calibrated without output_level_dbu says why", t);

  /* a model without any of it: the previous model's fields are gone */
  send_info(&p, &m, &d, NAN, NAN, -15.01, true);
  check(!d.has_input_level_dbu && d.has_loudness && d.loudness_measured,
        "a model without metadata clears the fields; its loudness is measured", NULL);
  qg_levels_describe(&d, t, sizeof t);
  check(strstr(t, "Input not calibrated: this model has no input_level_dbu") != NULL,
        "calibration on without input_level_dbu says why", t);
  proto_test_set_port(&d, QT_PORT_OUTPUT_MODE, QT_OUTPUT_NORMALIZED);
  qg_levels_describe(&d, t, sizeof t);
  check(strstr(t, "loudness -15.0 dB measured on the guitar clip") != NULL,
        "Normalized from the measured loudness", t);

  /* a capture with an output level */
  send_info(&p, &m, &d, 12.0, 4.5, NAN, false);
  proto_test_set_port(&d, QT_PORT_OUTPUT_MODE, QT_OUTPUT_CALIBRATED);
  qg_levels_describe(&d, t, sizeof t);
  check(strstr(t, "Output calibrated: captured at 4.5 dBu, interface 18.0 dBu") != NULL,
        "Calibrated with output_level_dbu", t);
  proto_test_set_port(&d, QT_PORT_OUTPUT_MODE, QT_OUTPUT_NORMALIZED);
  qg_levels_describe(&d, t, sizeof t);
  check(strstr(t, "Output raw: no loudness") != NULL, "Normalized without any loudness says why",
        t);
  proto_test_set_port(&d, QT_PORT_OUTPUT_MODE, QT_OUTPUT_RAW);
  qg_levels_describe(&d, t, sizeof t);
  check(strstr(t, "Output raw: the model's own level") != NULL, "Raw", t);

  test_urid_map_free();
  printf("%s\n", failures ? "FAILED" : "all passed");
  return failures ? 1 : 0;
}
