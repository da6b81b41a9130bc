/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The ROUNDING section's status line, headless (issue 17, item 2): the
  plugin's qt:prepare messages decoded by the GUI's protocol (a message
  without its share done is ignored), and what gui/rounding_status.c says
  for FP32, Nearest, Optimized before any news, while the worker works,
  once it is ready, and when the variant came back from the worker's kept
  ones.
*/
#include "protocol.h"
#include "proto_test.h"
#include "rounding_status.h"

#include "test_check.h"
#include "test_urid_map.h"

#include <lv2/atom/forge.h>

#include <string.h>

/** A qt:prepare; progress < 0 leaves qt:progress out. */
static unsigned send_prepare(const qg_proto *p, LV2_URID_Map *m, qg_gui_data *d, const char *stage,
                             float progress, float seconds, float cpu, bool cached)
{
  uint8_t buf[1024];
  LV2_Atom_Forge f;
  proto_test_forge(&f, m, buf, sizeof buf);
  LV2_Atom_Forge_Frame fr;
  lv2_atom_forge_object(&f, &fr, 0, p->uris.qt_prepare);
  static const char var[] = "4-bit linear sym per-channel, int8 dynamic, gptq rounding";
  lv2_atom_forge_key(&f, p->uris.qt_variant);
  lv2_atom_forge_string(&f, var, (uint32_t)strlen(var));
  lv2_atom_forge_key(&f, p->uris.qt_stage);
  lv2_atom_forge_string(&f, stage, (uint32_t)strlen(stage));
  if (progress >= 0) {
    lv2_atom_forge_key(&f, p->uris.qt_progress);
    lv2_atom_forge_float(&f, progress);
  }
  lv2_atom_forge_key(&f, p->uris.qt_seconds);
  lv2_atom_forge_float(&f, seconds);
  lv2_atom_forge_key(&f, p->uris.qt_cpuSeconds);
  lv2_atom_forge_float(&f, cpu);
  lv2_atom_forge_key(&f, p->uris.qt_cached);
  lv2_atom_forge_bool(&f, cached);
  lv2_atom_forge_pop(&f, &fr);
  return proto_test_decode(p, buf, d);
}

static void expect(const qg_gui_data *d, const char *want, const char *what)
{
  char t[200];
  qg_rounding_describe(d, t, sizeof t);
  CHECK(strstr(t, want) != NULL, "%s: '%s' lacks '%s'", what, t, want);
  printf("%-44s %s\n", what, t);
}

int main(void)
{
  LV2_URID_Map m = {NULL, test_urid_map};
  qg_proto p;
  qg_proto_init(&p, &m);
  static qg_gui_data d;
  memset(&d, 0, sizeof d);

  /* port defaults: precision 8, rounding Nearest */
  expect(&d, "Nearest: each weight to its closest level", "defaults");
  proto_test_set_port(&d, QT_PORT_ROUNDING, QT_ROUNDING_OPTIMIZED);
  expect(&d, "Optimized: preparing in the background", "Optimized, no news yet");
  proto_test_set_port(&d, QT_PORT_PRECISION, 32);
  expect(&d, "FP32: rounding applies to 8, 4, 2 bits", "FP32 with Optimized");
  proto_test_set_port(&d, QT_PORT_PRECISION, 4);

  CHECK(send_prepare(&p, &m, &d, "rounding layer 12 of 41", -1, 0.4f, 0.3f, false) == 0 &&
            !d.prepare.valid,
        "a qt:prepare without qt:progress is ignored");
  CHECK(send_prepare(&p, &m, &d, "rounding layer 12 of 41", 0.62f, 0.84f, 0.5f, false) ==
            QG_CHG_PREPARE,
        "qt:prepare decoded");
  CHECK(d.prepare.valid && !strcmp(d.prepare.stage, "rounding layer 12 of 41") &&
            strstr(d.prepare.variant, "gptq") && !d.prepare.cached,
        "its fields: stage '%s', variant '%s'", d.prepare.stage, d.prepare.variant);
  expect(&d, "Optimizing 62% (0.8 s): rounding layer 12 of 41", "while the worker works");
  send_prepare(&p, &m, &d, "ready", 1.0f, 1.24f, 0.91f, false);
  expect(&d, "Optimized in 1.2 s (0.9 s CPU), kept", "ready");
  send_prepare(&p, &m, &d, "ready", 1.0f, 0.0f, 0.0f, true);
  expect(&d, "Optimized: kept from before, back at once", "from the kept variants");
  proto_test_set_port(&d, QT_PORT_ROUNDING, QT_ROUNDING_NEAREST);
  expect(&d, "Nearest", "back to Nearest");

  test_urid_map_free();
  printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
