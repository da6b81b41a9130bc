/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The atom protocol's URIDs, one list for the plugin, the GUI and the
  external-UI shim (in the style of lv2's eg-sampler uris.h). The message
  layouts are documented beside the QUANTONE__ names in quantone_ports.h.

  QUANTONE_URIS(X) expands X(field, uri) once per URI. It makes the
  qt_uris struct and qt_uris_map() here, and the shim's string table
  (ui_external.c) from the same lines, so a URI added here is a field on
  both sides and is in the table the shim hands the helper process.
  LV2 headers only: no GTK, no engine.
*/
#ifndef QUANTONE_PLUGIN_URIS_H
#define QUANTONE_PLUGIN_URIS_H

#include "quantone_ports.h"

#include <lv2/atom/atom.h>
#include <lv2/patch/patch.h>
#include <lv2/urid/urid.h>

/** Every atom type lv2_atom_forge_init() maps is listed, even those no
    message uses: the helper process maps only the URIs the shim sent it
    (anything else gets a private id the host never heard of), so the
    forge's types must be in the table for its atoms to mean the same in
    the host. */
#define QUANTONE_URIS(X)                                                                           \
  X(atom_Blank, LV2_ATOM__Blank)                                                                   \
  X(atom_Bool, LV2_ATOM__Bool)                                                                     \
  X(atom_Chunk, LV2_ATOM__Chunk)                                                                   \
  X(atom_Double, LV2_ATOM__Double)                                                                 \
  X(atom_Float, LV2_ATOM__Float)                                                                   \
  X(atom_Int, LV2_ATOM__Int)                                                                       \
  X(atom_Long, LV2_ATOM__Long)                                                                     \
  X(atom_Literal, LV2_ATOM__Literal)                                                               \
  X(atom_Object, LV2_ATOM__Object)                                                                 \
  X(atom_Path, LV2_ATOM__Path)                                                                     \
  X(atom_Property, LV2_ATOM__Property)                                                             \
  X(atom_Resource, LV2_ATOM__Resource)                                                             \
  X(atom_Sequence, LV2_ATOM__Sequence)                                                             \
  X(atom_String, LV2_ATOM__String)                                                                 \
  X(atom_Tuple, LV2_ATOM__Tuple)                                                                   \
  X(atom_URI, LV2_ATOM__URI)                                                                       \
  X(atom_URID, LV2_ATOM__URID)                                                                     \
  X(atom_Vector, LV2_ATOM__Vector)                                                                 \
  X(atom_eventTransfer, LV2_ATOM__eventTransfer)                                                   \
  X(patch_Set, LV2_PATCH__Set)                                                                     \
  X(patch_Get, LV2_PATCH__Get)                                                                     \
  X(patch_property, LV2_PATCH__property)                                                           \
  X(patch_value, LV2_PATCH__value)                                                                 \
  X(qt_model, QUANTONE__model)                                                                     \
  X(qt_modelInfo, QUANTONE__modelInfo)                                                             \
  X(qt_error, QUANTONE__error)                                                                     \
  X(qt_frames, QUANTONE__frames)                                                                   \
  X(qt_layerSqnr, QUANTONE__layerSqnr)                                                             \
  X(qt_histogram, QUANTONE__histogram)                                                             \
  X(qt_histogramLayer, QUANTONE__histogramLayer)                                                   \
  X(qt_uiAlive, QUANTONE__uiAlive)                                                                 \
  X(qt_path, QUANTONE__path)                                                                       \
  X(qt_name, QUANTONE__name)                                                                       \
  X(qt_architecture, QUANTONE__architecture)                                                       \
  X(qt_modelRate, QUANTONE__modelRate)                                                             \
  X(qt_hostRate, QUANTONE__hostRate)                                                               \
  X(qt_resampling, QUANTONE__resampling)                                                           \
  X(qt_latency, QUANTONE__latency)                                                                 \
  X(qt_weightCount, QUANTONE__weightCount)                                                         \
  X(qt_weightBytesFp32, QUANTONE__weightBytesFp32)                                                 \
  X(qt_sizeWeightBytesFp32, QUANTONE__sizeWeightBytesFp32)                                         \
  X(qt_weightBytes, QUANTONE__weightBytes)                                                         \
  X(qt_variant, QUANTONE__variant)                                                                 \
  X(qt_linearNames, QUANTONE__linearNames)                                                         \
  X(qt_slimmable, QUANTONE__slimmable)                                                             \
  X(qt_slimSteps, QUANTONE__slimSteps)                                                             \
  X(qt_modelStep, QUANTONE__modelStep)                                                             \
  X(qt_modelAB, QUANTONE__modelAB)                                                                 \
  X(qt_inputLevelDbu, QUANTONE__inputLevelDbu)                                                     \
  X(qt_outputLevelDbu, QUANTONE__outputLevelDbu)                                                   \
  X(qt_loudness, QUANTONE__loudness)                                                               \
  X(qt_loudnessMeasured, QUANTONE__loudnessMeasured)                                               \
  X(qt_message, QUANTONE__message)                                                                 \
  X(qt_sampleRate, QUANTONE__sampleRate)                                                           \
  X(qt_reference, QUANTONE__reference)                                                             \
  X(qt_quantized, QUANTONE__quantized)                                                             \
  X(qt_difference, QUANTONE__difference)                                                           \
  X(qt_layerNames, QUANTONE__layerNames)                                                           \
  X(qt_values, QUANTONE__values)                                                                   \
  X(qt_layerName, QUANTONE__layerName)                                                             \
  X(qt_sizeLabel, QUANTONE__sizeLabel)                                                             \
  X(qt_weightFormat, QUANTONE__weightFormat)                                                       \
  X(qt_min, QUANTONE__min)                                                                         \
  X(qt_max, QUANTONE__max)                                                                         \
  X(qt_counts, QUANTONE__counts)                                                                   \
  X(qt_levels, QUANTONE__levels)                                                                   \
  X(qt_layerBits, QUANTONE__layerBits)                                                             \
  X(qt_exportModel, QUANTONE__exportModel)                                                         \
  X(qt_exported, QUANTONE__exported)                                                         \
  X(qt_prepare, QUANTONE__prepare)                                                                 \
  X(qt_stage, QUANTONE__stage)                                                                     \
  X(qt_progress, QUANTONE__progress)                                                               \
  X(qt_seconds, QUANTONE__seconds)                                                                 \
  X(qt_cpuSeconds, QUANTONE__cpuSeconds)                                                           \
  X(qt_cached, QUANTONE__cached)

#define QUANTONE_URI_FIELD_(field, uri) LV2_URID field;
typedef struct {
  QUANTONE_URIS(QUANTONE_URI_FIELD_)
} qt_uris;
#undef QUANTONE_URI_FIELD_

/** Map every URI once, outside run() (the host's map may allocate or
    lock): at instantiate in the plugin, when the window is built in the
    GUI. */
static inline void qt_uris_map(qt_uris *u, LV2_URID_Map *map)
{
#define QUANTONE_URI_MAP_(field, uri) u->field = map->map(map->handle, uri);
  QUANTONE_URIS(QUANTONE_URI_MAP_)
#undef QUANTONE_URI_MAP_
}

#endif
