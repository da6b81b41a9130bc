/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The GUI side of the atom protocol documented in quantone_ports.h:
  decoding notify messages into qg_gui_data, forging patch:Get / patch:Set.
  Uses only LV2 atom headers (no GTK), with whatever URID map it is given:
  the host's in-process, or the helper's table in the external UI.
*/
#ifndef QUANTONE_GUI_PROTOCOL_H
#define QUANTONE_GUI_PROTOCOL_H

#include "gui_data.h"
#include "quantone_uris.h"

#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/urid/urid.h>

#include <stdbool.h>

typedef struct {
  qt_uris uris; /**< quantone_uris.h, mapped with the map qg_proto_init is given */
  LV2_Atom_Forge forge;
  double alive_last_s; /**< monotonic time of the last keep-alive, < 0: none yet */
} qg_proto;

/** What a decoded message changed (bit set). */
enum {
  QG_CHG_PATH = 1u << 0,
  QG_CHG_INFO = 1u << 1,
  QG_CHG_ERROR = 1u << 2,
  QG_CHG_FRAMES = 1u << 3,
  QG_CHG_SQNR = 1u << 4,
  QG_CHG_HIST = 1u << 5,
  QG_CHG_EXPORTED = 1u << 6, /**< qt:exported: Save quantized model wrote a file */
  QG_CHG_PREPARE = 1u << 7,
};

void qg_proto_init(qg_proto *p, LV2_URID_Map *map);
/** Decode one notify event; returns QG_CHG_* bits (0: not ours). */
unsigned qg_proto_decode(const qg_proto *p, const LV2_Atom *atom, uint32_t size, qg_gui_data *d);
/** Forge into buf; return the atom's total size (header + body), 0 if it
    does not fit. */
uint32_t qg_proto_get(qg_proto *p, void *buf, uint32_t cap);
uint32_t qg_proto_set_model(qg_proto *p, void *buf, uint32_t cap, const char *path);
/** patch:Set qt:exportModel PATH: Save quantized model (the worker writes it). */
uint32_t qg_proto_export_model(qg_proto *p, void *buf, uint32_t cap, const char *path);
uint32_t qg_proto_set_hist_layer(qg_proto *p, void *buf, uint32_t cap, int layer);
/** patch:Set qt:modelStep: +1 the next, -1 the previous model file of the folder. */
uint32_t qg_proto_model_step(qg_proto *p, void *buf, uint32_t cap, int step);
/** patch:Set qt:modelAB true: back to the model that played before. */
uint32_t qg_proto_model_ab(qg_proto *p, void *buf, uint32_t cap);
/** patch:Set qt:uiAlive: true = keep streaming to me, false = I am gone. */
uint32_t qg_proto_alive(qg_proto *p, void *buf, uint32_t cap, bool alive);
/** The keep-alive's pacing, driven by the window's redraw timer: call it on
    every tick; it forges qt:uiAlive true (and returns its size) when
    QUANTONE_UI_ALIVE_INTERVAL_S or more have passed on the monotonic clock
    since the last one, else returns 0. The first call always forges one. */
uint32_t qg_proto_alive_tick(qg_proto *p, void *buf, uint32_t cap);

#endif
