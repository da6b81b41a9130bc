/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  libFuzzer target for the model-file loaders. Built twice: with
  QM_FUZZ_KERAS for the keras/RTNeural loader, without for the .nam loader.
  A file that loads and is small is also built and run for a few blocks, so
  the engine sees every shape the loader accepts; a slimmable one at each
  of its first sizes too (slim.h), so the slicing sees them as well.
*/
#include "engine.h"
#include "model_file.h"
#include "slim.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char err[256];
#ifdef QM_FUZZ_KERAS
  qm_desc *d = qm_load_keras_buffer((const char *)data, size, "fuzz.json", err, sizeof err);
#else
  qm_desc *d = qm_load_nam_buffer((const char *)data, size, "fuzz.nam", err, sizeof err);
#endif
  if (!d)
    return 0;
  qm_slim_step steps[4];
  const int n_steps = qm_desc_slim_steps(d, steps, 4);
  for (int k = 0; k < n_steps; ++k) {
    const qm_desc *size = qm_desc_at_slim(d, steps[k].lo, err, sizeof err);
    if (!size || size->n_weights > 20000 || qm_desc_receptive_field(size) > 20000 ||
        size->prewarm_samples > 30000)
      continue;
    qm_options o;
    qm_options_default(&o);
    o.chunk = 32;
    qm_model *m = qm_model_create(size, &o, err, sizeof err);
    if (m) {
      float x[100], y[100];
      for (int i = 0; i < 100; ++i)
        x[i] = (float)((i * 37) % 19) / 19.0f - 0.5f;
      qm_model_process(m, x, y, 1);
      qm_model_process(m, x, y, 100);
      qm_model_free(m);
    }
  }
  qm_desc_free(d);
  return 0;
}
