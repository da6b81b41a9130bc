/*
  The URI table of proto_uris.h: the atom types the forge uses and every
  URI of the protocol in quantone_ports.h.
*/
#include "proto_uris.h"

#include "quantone_ports.h"

#include <lv2/atom/atom.h>
#include <lv2/patch/patch.h>
#include <stddef.h>

const char *const qt_proto_uris[] = {
    LV2_ATOM__Blank, LV2_ATOM__Bool, LV2_ATOM__Chunk, LV2_ATOM__Double, LV2_ATOM__Float,
    LV2_ATOM__Int, LV2_ATOM__Long, LV2_ATOM__Literal, LV2_ATOM__Object, LV2_ATOM__Path,
    LV2_ATOM__Property, LV2_ATOM__Resource, LV2_ATOM__Sequence, LV2_ATOM__String,
    LV2_ATOM__Tuple, LV2_ATOM__URI, LV2_ATOM__URID, LV2_ATOM__Vector,
    LV2_ATOM__eventTransfer, LV2_PATCH__Set, LV2_PATCH__Get, LV2_PATCH__property,
    LV2_PATCH__value, QUANTONE__model, QUANTONE__modelInfo, QUANTONE__error,
    QUANTONE__frames, QUANTONE__layerSqnr, QUANTONE__histogram, QUANTONE__histogramLayer,
    QUANTONE__path, QUANTONE__name, QUANTONE__architecture, QUANTONE__modelRate,
    QUANTONE__hostRate, QUANTONE__resampling, QUANTONE__latency, QUANTONE__weightCount,
    QUANTONE__weightBytesFp32, QUANTONE__weightBytes, QUANTONE__variant,
    QUANTONE__linearNames, QUANTONE__message, QUANTONE__sampleRate, QUANTONE__reference,
    QUANTONE__quantized, QUANTONE__difference, QUANTONE__layerNames, QUANTONE__values,
    QUANTONE__layerName, QUANTONE__min, QUANTONE__max, QUANTONE__counts, QUANTONE__levels,
    QUANTONE__uiAlive, NULL};
