/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Everything the GUI knows about the plugin, as plain data: the last
  value of every port, what the notify messages said, and the view data
  derived from them. Filled by protocol.c and the port-event handler, read
  by the views; no GTK, so the decoding is testable headless.
*/
#ifndef QUANTONE_GUI_GUI_DATA_H
#define QUANTONE_GUI_GUI_DATA_H

#include "views.h"
#include "quantone_ports.h"

#include <stdbool.h>
#include <stdint.h>

#define QG_GUI_MAX_LINEARS 128
#define QG_GUI_MAX_SLIM 32

/** One size of a slimmable model, as modelInfo's qt:slimSteps gives it. */
typedef struct {
  double lo, hi; /**< the slim values [lo, hi) play it (the last also 1.0) */
  char label[64];
  int64_t weights;
  double macs; /**< multiply-adds per sample */
} qg_slim_step;

/** The plugin's last qt:prepare: how far its worker is with a variant
    that takes calibration work (the rounding control's Optimized). */
typedef struct {
  bool valid;
  char variant[128], stage[64];
  float progress; /**< 0..1, 1 = ready */
  float seconds, cpu_seconds;
  bool cached; /**< from the worker's kept variants: no work */
} qg_prepare;

typedef struct {
  float port[QT_PORT_COUNT]; /**< last value seen or written, per port */
  bool port_known[QT_PORT_COUNT];

  char model_path[4096];
  bool have_info;
  char model_name[256], architecture[64], variant[128];
  double model_rate, host_rate;
  bool resampling;
  int latency;
  /** modelInfo's weight bytes: the full-size float model's, the float
      model's of the size that plays, the active variant's. */
  int64_t weight_count, weight_bytes_fp32, size_weight_bytes_fp32, weight_bytes;
  int n_linears;
  char linear_names[QG_GUI_MAX_LINEARS][48];
  bool slimmable; /**< more than one size: the Slim slider shows */
  int n_slim;
  qg_slim_step slim[QG_GUI_MAX_SLIM];
  /** What the levels work from (modelInfo); has_* false when absent. */
  bool has_input_level_dbu, has_output_level_dbu, has_loudness, loudness_measured;
  double input_level_dbu, output_level_dbu, loudness;

  char error[512];
  bool have_error;
  char exported[4096]; /**< the file Save quantized model wrote last ("" none) */
  qg_prepare prepare;

  qg_esr_view esr;
  qg_scope_view scope;
  qg_spectrum_view spectrum;
  qg_sqnr_view sqnr;
  qg_hist_view hist;
  qg_cost_view cost;
} qg_gui_data;

#endif
