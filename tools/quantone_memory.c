/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  quantone-memory: where a model's memory goes, by category, for the float
  reference and for a quantized variant, as the plugin builds them
  (qm_options defaults: internal batches of QM_DEFAULT_CHUNK frames).

    build/tools/quantone-memory [--model FILE] [--bits B] [--activations float|dynamic|static]

  Prints qm_model_memory() of each model (bytes the engine allocates for
  it) and the heap growth glibc reports (mallinfo2) around building it, so
  the two can be checked against each other. The plugin adds, per loaded
  model, its description (the file's weights once more) and model-rate
  step buffers, and per instance a few host-rate buffers and its dry delay
  line; tests/plugin/test_memory.c measures the whole instance through
  lilv.
*/
#include "engine.h"
#include "model_file.h"
#include "variant.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef QT_SOURCE_ROOT
#define QT_SOURCE_ROOT "."
#endif

static size_t heap(void)
{
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

static void print(const char *what, const qm_model *m, size_t grew)
{
  qm_memory b;
  qm_model_memory(m, &b);
  static const char *names[] = {"weights, float copies", "weights, packed",
                                "weights, derived",      "int8 activation scratch",
                                "histories, float",      "histories, int8",
                                "per-batch scratch",     "prewarmed state",
                                "quantizer codes (GUI)", "other"};
  const size_t v[] = {b.weights_float, b.weights_packed, b.weights_derived, b.act_scratch,
                      b.history_float, b.history_int8,   b.scratch,         b.prewarm,
                      b.quantizer,     b.other};
  printf("%s: %zu bytes (%.1f KiB); heap grew %zu bytes building it\n", what, b.total,
         b.total / 1024.0, grew);
  for (size_t i = 0; i < sizeof v / sizeof v[0]; ++i)
    printf("  %-26s %9zu  %5.1f%%\n", names[i], v[i], b.total ? 100.0 * v[i] / b.total : 0);
}

int main(int argc, char **argv)
{
  const char *model = QT_SOURCE_ROOT "/models/overdrive_a2.nam";
  qm_setting spec;
  qm_setting_default(&spec);
  spec.bits = 8;
  spec.activations = QM_ACTQ_DYNAMIC;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--model") && i + 1 < argc)
      model = argv[++i];
    else if (!strcmp(argv[i], "--bits") && i + 1 < argc)
      spec.bits = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--activations") && i + 1 < argc) {
      if (!qm_actq_from_name(argv[++i], &spec.activations)) {
        fprintf(stderr, "activations: float, dynamic or static\n");
        return 2;
      }
    } else {
      fprintf(stderr, "usage: %s [--model FILE] [--bits B] [--activations float|dynamic|static]\n",
              argv[0]);
      return 2;
    }
  }
  char err[512];
  size_t h0 = heap();
  qm_desc *d = qm_load_file(model, err, sizeof err);
  if (!d) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  printf("%s: description %zu bytes (heap)\n", model, heap() - h0);
  qm_options o;
  qm_options_default(&o);
  h0 = heap();
  qm_model *ref = qm_model_create(d, &o, err, sizeof err);
  if (!ref) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  print("float reference", ref, heap() - h0);
  /* a calibration clip as the plugin's, for static activations */
  const int n_calib = (int)qm_model_sample_rate(ref);
  float *calib = calloc((size_t)n_calib, sizeof(float));
  for (int i = 0; i < n_calib; ++i)
    calib[i] = 0.3f * (float)((i * 7919) % 2001 - 1000) / 1000.0f;
  h0 = heap();
  qm_model *q = qm_variant_create(d, &spec, &o, calib, n_calib, err, sizeof err);
  if (!q) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  char desc[128];
  qm_setting_describe(&spec, desc, sizeof desc);
  print(desc, q, heap() - h0);
  qm_model_free(q);
  qm_model_free(ref);
  qm_desc_free(d);
  free(calib);
  return 0;
}
