/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The messages the Prev / Next / A/B buttons send (gui/protocol.c), read
  back as the plugin reads them: patch:Set of qt:modelStep with an Int of
  -1 or +1 (any step is one file), and of qt:modelAB with Bool true; and
  Save quantized model's patch:Set of qt:exportModel with the path.
*/
#include "protocol.h"
#include "test_urid_map.h"

#include <lv2/atom/util.h>
#include <lv2/patch/patch.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

/** The property and Int/Bool value of a patch:Set, or false. */
static bool read_set(const qg_proto *p, const uint8_t *buf, uint32_t size, LV2_URID *prop,
                     LV2_URID *type, int *value)
{
  const LV2_Atom_Object *o = (const LV2_Atom_Object *)buf;
  if (size < sizeof(LV2_Atom) || o->atom.type != p->uris.atom_Object ||
      o->body.otype != p->uris.patch_Set)
    return false;
  const LV2_Atom *pr = NULL, *v = NULL;
  lv2_atom_object_get(o, p->uris.patch_property, &pr, p->uris.patch_value, &v, 0);
  if (!pr || !v || pr->type != p->uris.atom_URID)
    return false;
  *prop = ((const LV2_Atom_URID *)pr)->body;
  *type = v->type;
  *value = ((const LV2_Atom_Int *)v)->body;
  return true;
}

static void check(bool ok, const char *what)
{
  printf("%s: %s\n", ok ? "ok" : "FAIL", what);
  if (!ok)
    ++failures;
}

int main(void)
{
  LV2_URID_Map m = {NULL, test_urid_map};
  qg_proto p;
  qg_proto_init(&p, &m);
  uint8_t buf[256];
  LV2_URID prop = 0, type = 0;
  int v = 0;
  static const struct {
    int step, want;
  } steps[] = {{1, 1}, {-1, -1}, {5, 1}, {-3, -1}};
  for (int i = 0; i < 4; ++i) {
    uint32_t n = qg_proto_model_step(&p, buf, sizeof buf, steps[i].step);
    char what[96];
    snprintf(what, sizeof what, "step %+d: patch:Set qt:modelStep Int %+d", steps[i].step,
             steps[i].want);
    check(n > 0 && read_set(&p, buf, n, &prop, &type, &v) && prop == p.uris.qt_modelStep &&
              type == p.uris.atom_Int && v == steps[i].want,
          what);
  }
  uint32_t n = qg_proto_model_ab(&p, buf, sizeof buf);
  check(n > 0 && read_set(&p, buf, n, &prop, &type, &v) && prop == p.uris.qt_modelAB &&
            type == p.uris.atom_Bool && v == 1,
        "A/B: patch:Set qt:modelAB Bool true");
  check(qg_proto_model_ab(&p, buf, 8) == 0, "a buffer too small forges nothing");
  /* Save quantized model: patch:Set qt:exportModel to the chosen path */
  n = qg_proto_export_model(&p, buf, sizeof buf, "/tmp/a.4bit.nam");
  const LV2_Atom *pr = NULL, *val = NULL;
  const LV2_Atom_Object *o = (const LV2_Atom_Object *)buf;
  if (n > 0)
    lv2_atom_object_get(o, p.uris.patch_property, &pr, p.uris.patch_value, &val, 0);
  check(n > 0 && o->body.otype == p.uris.patch_Set && pr &&
            ((const LV2_Atom_URID *)pr)->body == p.uris.qt_exportModel && val &&
            val->type == p.uris.atom_Path &&
            !strcmp((const char *)LV2_ATOM_BODY_CONST(val), "/tmp/a.4bit.nam"),
        "Save quantized model: patch:Set qt:exportModel Path");
  test_urid_map_free();
  printf("%s\n", failures ? "FAILED" : "all passed");
  return failures ? 1 : 0;
}
