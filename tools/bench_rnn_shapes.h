/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Benchmark shapes of AIDA-X-style recurrent models (keras .json files that
  RTNeural and AIDA-X load): LSTM-12 (AIDA-X's "tw40" shape), LSTM-20,
  LSTM-40, GRU-12, GRU-20 and GRU-40, each followed by a Dense to one output, with random
  weights from a fixed seed. Written at run time, never committed.
*/
#ifndef QUANTONE_TOOLS_BENCH_RNN_SHAPES_H
#define QUANTONE_TOOLS_BENCH_RNN_SHAPES_H

#include <stddef.h>

#define BENCH_RNN_SHAPES 6

/**
   Write the shapes into dir as lstm12.json, lstm20.json, lstm40.json,
   gru12.json; paths[i] receives each file's path. 0 on success, else -1
   (with a message on stderr).
*/
int bench_rnn_shapes_write(const char *dir, char paths[BENCH_RNN_SHAPES][1200]);

/** One shape: a recurrent layer ("lstm" or "gru") of `units`, Dense units->1. */
int bench_rnn_shape_write(const char *path, const char *type, int units, unsigned seed);

#endif
