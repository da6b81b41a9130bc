/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Random-weight keras recurrent models for quantone-bench (bench_rnn_shapes.h).
  Weights are uniform in +-1/sqrt(units) (keras' default initialisers give
  values of that size), biases in +-0.1: a stable, non-trivial recurrence.
*/
#include "bench_rnn_shapes.h"

#include "bench_util.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/** n numbers in +-amp as a JSON array. */
static void write_vector(FILE *f, bench_rng *rng, int n, float amp)
{
  fputc('[', f);
  for (int c = 0; c < n; ++c)
    fprintf(f, c ? ",%.9g" : "%.9g", (double)bench_rng_uniform(rng, -amp, amp));
  fputc(']', f);
}

/** rows x cols numbers as a JSON matrix. */
static void write_matrix(FILE *f, bench_rng *rng, int rows, int cols, float amp)
{
  fputc('[', f);
  for (int r = 0; r < rows; ++r) {
    if (r)
      fputc(',', f);
    write_vector(f, rng, cols, amp);
  }
  fputc(']', f);
}

int bench_rnn_shape_write(const char *path, const char *type, int units, unsigned seed)
{
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "quantone-bench: cannot write %s\n", path);
    return -1;
  }
  bench_rng rng;
  bench_rng_seed(&rng, seed);
  const bool lstm = !strcmp(type, "lstm");
  const int G = (lstm ? 4 : 3) * units;
  const float amp = 1.0f / sqrtf((float)units);
  fprintf(f, "{\"in_shape\": [null, null, 1], \"in_skip\": 0, \"metadata\": {\"samplerate\": "
             "48000, \"name\": \"benchmark shape\"},\n \"layers\": [\n");
  fprintf(f,
          "  {\"type\": \"%s\", \"activation\": \"\", \"shape\": [null, null, %d], \"weights\": [",
          type, units);
  write_matrix(f, &rng, 1, G, 1.0f); /* kernel [1][G] */
  fputc(',', f);
  write_matrix(f, &rng, units, G, amp); /* recurrent [H][G] */
  fputc(',', f);
  if (lstm)
    write_vector(f, &rng, G, 0.1f);
  else
    write_matrix(f, &rng, 2, G, 0.1f); /* input and recurrent bias */
  fprintf(f, "]},\n  {\"type\": \"dense\", \"activation\": \"\", \"shape\": [null, null, 1], "
             "\"weights\": [");
  write_matrix(f, &rng, units, 1, amp);
  fputc(',', f);
  write_vector(f, &rng, 1, 0.1f);
  fprintf(f, "]}\n ]\n}\n");
  return fclose(f) == 0 ? 0 : -1;
}

int bench_rnn_shapes_write(const char *dir, char paths[BENCH_RNN_SHAPES][1200])
{
  static const struct {
    const char *type;
    int units;
  } shapes[BENCH_RNN_SHAPES] = {{"lstm", 12}, {"lstm", 20}, {"lstm", 40},
                                {"gru", 12},  {"gru", 20},  {"gru", 40}};
  for (int i = 0; i < BENCH_RNN_SHAPES; ++i) {
    snprintf(paths[i], 1200, "%s/%s%d.json", dir, shapes[i].type, shapes[i].units);
    if (bench_rnn_shape_write(paths[i], shapes[i].type, shapes[i].units, 1000u + (unsigned)i))
      return -1;
  }
  return 0;
}
