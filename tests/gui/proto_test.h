/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  What the headless GUI status tests share: a forge writing one message
  into a buffer, the GUI's decoding of it into qg_gui_data, and a port
  value as the host would report it. Header-only.
*/
#ifndef QUANTONE_TESTS_GUI_PROTO_TEST_H
#define QUANTONE_TESTS_GUI_PROTO_TEST_H

#include "protocol.h"

#include <lv2/atom/forge.h>

/** Start forging one message into buf[cap]. */
static void proto_test_forge(LV2_Atom_Forge *f, LV2_URID_Map *m, uint8_t *buf, size_t cap)
{
  lv2_atom_forge_init(f, m);
  lv2_atom_forge_set_buffer(f, buf, cap);
}

/** The GUI's decoding of the message forged in buf (its QG_CHG_* bits). */
static unsigned proto_test_decode(const qg_proto *p, const uint8_t *buf, qg_gui_data *d)
{
  const LV2_Atom *a = (const LV2_Atom *)buf;
  return qg_proto_decode(p, a, (uint32_t)(sizeof(LV2_Atom) + a->size), d);
}

/** A port value the host reported. */
static void proto_test_set_port(qg_gui_data *d, int port, float v)
{
  d->port[port] = v;
  d->port_known[port] = true;
}

#endif
