/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The input calibration and output mode of the playing model, as gains
  the input and output levels glide to (levels.c): the formulas are
  models/loudness.h's, fed with the file's metadata and, for a model
  without a loudness, the one the worker measured when it loaded the file.
  The gain belongs to the file, not to the variant: a quantized variant
  or a smaller size plays at the float model's gain, so what quantization
  changes in level is heard.
*/
#include "qt_plugin.h"

#include "loudness.h"

_Static_assert((int)QT_OUTPUT_RAW == (int)QM_OUTPUT_RAW, "output_mode port value");
_Static_assert((int)QT_OUTPUT_NORMALIZED == (int)QM_OUTPUT_NORMALIZED, "output_mode port value");
_Static_assert((int)QT_OUTPUT_CALIBRATED == (int)QM_OUTPUT_CALIBRATED, "output_mode port value");
_Static_assert((int)QT_OUTPUT_CALIBRATED + 1 == (int)QM_OUTPUT_MODE_COUNT,
               "output_mode port: one value per qm_output_mode");

void qt_model_gains_get(const qt_slot *M, bool calibrate_input, float interface_dbu,
                        int output_mode, qt_model_gains *g)
{
  g->input_db = g->output_db = 0.0f;
  g->input_applies = g->output_applies = false;
  if (!M)
    return;
  const qm_metadata *meta = &M->desc->meta;
  double db = 0.0;
  if (calibrate_input) {
    g->input_applies = qm_input_calibration_db(meta, interface_dbu, &db);
    g->input_db = (float)db;
  }
  g->output_applies = qm_output_gain_db(meta, (qm_output_mode)output_mode, interface_dbu,
                                        M->has_measured_loudness, M->measured_loudness_db, &db);
  g->output_db = (float)db;
}
