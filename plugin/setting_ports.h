/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The setting controls (precision, mapping, asymmetric, granularity,
  activations) as a qm_setting (models/setting.h), and back.

  The control values of quantone_ports.h (QT_MAPPING_*, QT_GRAN_*,
  QT_ACT_*) are the model enums' values, checked here at compile time: the
  plugin, the GUI and the tools pass a control value to the engine as it
  is, and a mapping added on one side only stops the build. The check
  lives on the plugin side because models/ must not include plugin
  headers (kernels <- models <- plugin), and quantone_ports.h stays free of
  engine headers for the GUI. Neither header here includes LV2 or GTK.
*/
#ifndef QUANTONE_PLUGIN_SETTING_PORTS_H
#define QUANTONE_PLUGIN_SETTING_PORTS_H

#include "quantone_ports.h"
#include "setting.h"

#include <math.h>

_Static_assert((int)QT_MAPPING_LINEAR == (int)QZ_LINEAR, "mapping port value");
_Static_assert((int)QT_MAPPING_POW2 == (int)QZ_POW2, "mapping port value");
_Static_assert((int)QT_MAPPING_KMEANS == (int)QZ_KMEANS, "mapping port value");
_Static_assert((int)QT_MAPPING_KMEANS + 1 == (int)QZ_MAPPING_COUNT,
               "a mapping without a port value");
_Static_assert((int)QT_GRAN_TENSOR == (int)QZ_PER_TENSOR, "granularity port value");
_Static_assert((int)QT_GRAN_CHANNEL == (int)QZ_PER_CHANNEL, "granularity port value");
_Static_assert((int)QT_GRAN_GROUP == (int)QZ_PER_GROUP, "granularity port value");
_Static_assert((int)QT_GRAN_GROUP + 1 == (int)QZ_GRANULARITY_COUNT,
               "a granularity without a port value");
_Static_assert((int)QT_ACT_FLOAT == (int)QM_ACTQ_FLOAT, "activations port value");
_Static_assert((int)QT_ACT_DYNAMIC == (int)QM_ACTQ_DYNAMIC, "activations port value");
_Static_assert((int)QT_ACT_STATIC == (int)QM_ACTQ_STATIC, "activations port value");
_Static_assert((int)QT_ACT_STATIC + 1 == (int)QM_ACTQ_COUNT,
               "an activation mode without a port value");
_Static_assert((int)QT_HALF_FP16 == (int)QM_HALF_FP16, "16-bit form port value");
_Static_assert((int)QT_HALF_BF16 == (int)QM_HALF_BF16, "16-bit form port value");
_Static_assert((int)QT_HALF_BF16 + 1 == (int)QM_HALF_COUNT, "a 16-bit form without a port value");

/** The normalised setting the five controls ask for (values as the plugin
    reads its ports: rounded to the nearest integer, asymmetric above
    0.5). No allocation: called from run(). */
static inline void qt_setting_from_controls(qm_setting *s, float precision, float mapping,
                                            float asymmetric, float granularity, float activations)
{
  qm_setting_default(s);
  s->bits = (int)lrintf(precision);
  s->half = QM_HALF_FP16;
  s->mapping = (qz_mapping)lrintf(mapping);
  s->asymmetric = asymmetric > 0.5f;
  s->granularity = (qz_granularity)lrintf(granularity);
  s->activations = (qm_actq)lrintf(activations);
  qm_setting_normalise(s);
}

/** With the 16-bit form control (QT_PORT_HALF_FORM) too: what precision 16
    plays. Kept apart from the five so their callers stay as they are. */
static inline void qt_setting_from_controls_half(qm_setting *s, float precision, float mapping,
                                                 float asymmetric, float granularity,
                                                 float activations, float half_form)
{
  qt_setting_from_controls(s, precision, mapping, asymmetric, granularity, activations);
  if (s->bits == QM_BITS_HALF && lrintf(half_form) == QT_HALF_BF16)
    s->half = QM_HALF_BF16;
}

/** The rounding control on a setting made by qt_setting_from_controls:
    Optimized is whatever qm_setting_set_optimized says. Real-time safe. */
static inline void qt_setting_apply_rounding(qm_setting *s, float rounding)
{
  qm_setting_set_optimized(s, lrintf(rounding) == QT_ROUNDING_OPTIMIZED);
}

/** The control values of a setting, into a table indexed by port. */
static inline void qt_setting_to_controls(const qm_setting *s, float ctl[QT_PORT_COUNT])
{
  ctl[QT_PORT_HALF_FORM] = (float)s->half;
  ctl[QT_PORT_PRECISION] = (float)s->bits;
  ctl[QT_PORT_MAPPING] = (float)s->mapping;
  ctl[QT_PORT_ASYMMETRIC] = s->asymmetric ? 1.0f : 0.0f;
  ctl[QT_PORT_GRANULARITY] = (float)s->granularity;
  ctl[QT_PORT_ACTIVATIONS] = (float)s->activations;
  ctl[QT_PORT_ROUNDING] =
      (float)(qm_setting_is_optimized(s) ? QT_ROUNDING_OPTIMIZED : QT_ROUNDING_NEAREST);
}

#endif
