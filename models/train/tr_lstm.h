/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Trainable NAM LSTM (1..4 stacked layers, a linear head), forward and
  hand-written backpropagation through time.
*/
#ifndef QUANTONE_TR_LSTM_H
#define QUANTONE_TR_LSTM_H

#include "tr_model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TR_LSTM_MAX_LAYERS 4

typedef struct {
  int hidden, layers;
  int burn_in; /**< samples run before the loss counts (state warm-up) */
  int prewarm; /**< zeros run after reset in predict (NAM: 0.5 s) */
} tr_lstm_config;

size_t tr_lstm_param_count(const tr_lstm_config *cfg);

/** New model, PyTorch's LSTM init U(+-1/sqrt(H)), zero initial states. */
tr_model *tr_lstm_new(const tr_lstm_config *cfg, unsigned long long seed, int threads);

const tr_lstm_config *tr_lstm_cfg(const tr_model *m);

#ifdef __cplusplus
}
#endif

#endif
