/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The QAT presets (ttl/meson.build's table) play what they promise: each
  preset's model, at the preset's scheme, against the built-in overdrive
  effect on fresh audio (seed 7's synthesized guitar, which no training run
  saw: they train and pick their epoch on seed 1), at every size of the
  container (Slim 0 and 1).

  A model fine-tuned for one scheme only pays off at that scheme, and the
  preset is what chooses it; so the test renders the preset's own setting
  string (built from the table's port values by meson) and checks, per size:
    - the QAT model is at least 2x closer to the effect than plain rounding
      of the float model it was fine-tuned from, at the same scheme (a
      preset whose scheme is not the one the model was trained for, or a
      quantizer that moved its grid, loses that);
    - on the larger size, its ESR is at most RATIO times the float
      model's (issue 16's 1.5x for 4 bits; 0: not checked) and at most
      MAX_ESR (issue 16's 0.02 for 2 bits).
  Release builds judge 20 s (the figures of models/README.md's tables,
  quantone-run --ref-skip 0.1); the sanitized build checks on 0.25 s that
  everything loads and runs.

  Usage: test_qat_presets MODELS_DIR QAT_FILE BASE_FILE SETTING RATIO MAX_ESR [...]
*/
#include "test_check.h"
#include "slim.h"
#include "tr_data.h"
#include "tr_loss.h"
#include "variant.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** Samples quantone-run --ref-skip 0.1 leaves out at the clip's start
    (from silence), where the clip is long enough to have them. */
static size_t skip_of(size_t n) { return n > 48000 ? 4800 : 0; }

/** ESR against the effect of `path` played at setting `s` (NAN on failure). */
static double play(const char *path, const qm_setting *s, const tr_signal *fresh, float *y)
{
  char err[512];
  qm_desc *d = qm_load_file(path, err, sizeof err);
  CHECK(d, "%s: %s", path, err);
  if (!d)
    return NAN;
  const qm_desc *size = qm_desc_at_slim(d, s->slim, err, sizeof err);
  CHECK(size, "%s: %s", path, err);
  qm_model *m = size ? qm_variant_create(size, s, NULL, NULL, 0, err, sizeof err) : NULL;
  CHECK(m, "%s: %s", path, err);
  double r = NAN;
  if (m) {
    qm_model_process(m, fresh->x, y, (int)fresh->n);
    const size_t skip = skip_of(fresh->n);
    r = tr_esr(y + skip, fresh->y + skip, fresh->n - skip);
    qm_model_free(m);
  }
  qm_desc_free(d);
  return r;
}

static void check_preset(const char *dir, const char *qat, const char *base, const char *setting,
                         double ratio, double max_esr, const tr_signal *fresh, float *y)
{
  char qat_path[1024], base_path[1024], err[256];
  snprintf(qat_path, sizeof qat_path, "%s/%s", dir, qat);
  snprintf(base_path, sizeof base_path, "%s/%s", dir, base);
  qm_setting scheme, fp32;
  const bool parsed = qm_setting_parse(setting, &scheme, err, sizeof err);
  CHECK(parsed, "%s: %s", setting, err);
  if (!parsed || !qm_setting_parse("32", &fp32, err, sizeof err))
    return;
  qm_desc *d = qm_load_file(qat_path, err, sizeof err);
  CHECK(d, "%s: %s", qat_path, err);
  const int first = d && qm_desc_slimmable(d) ? 0 : 1; /* a plain model has one size */
  qm_desc_free(d);
  for (int size = first; size < 2; ++size) {
    scheme.slim = fp32.slim = size;
    const double e_float = play(base_path, &fp32, fresh, y);
    const double e_plain = play(base_path, &scheme, fresh, y);
    const double e_qat = play(qat_path, &scheme, fresh, y);
    printf("  %-28s %-22s slim %d: ESR vs effect: QAT %.5f, plain %.5f (%.1fx), float %.5f "
           "(QAT %.2fx float)\n",
           qat, setting, size, e_qat, e_plain, e_plain / e_qat, e_float, e_qat / e_float);
    CHECK(isfinite(e_qat) && isfinite(e_plain) && isfinite(e_float), "%s slim %d: no figure",
          qat, size);
    if (ASAN_BUILD)
      continue;
    CHECK(2.0 * e_qat <= e_plain, "%s at %s, slim %d: QAT %.5f not 2x below plain rounding %.5f",
          qat, setting, size, e_qat, e_plain);
    if (size == 1) {
      CHECK(ratio <= 0.0 || e_qat <= ratio * e_float, "%s at %s: ESR %.5f > %.2f x float %.5f",
            qat, setting, e_qat, ratio, e_float);
      CHECK(e_qat <= max_esr, "%s at %s: ESR %.5f > %.4f", qat, setting, e_qat, max_esr);
    }
  }
}

int main(int argc, char **argv)
{
  if (argc < 2 || (argc - 2) % 5 != 0) {
    fprintf(stderr, "usage: %s MODELS_DIR [QAT_FILE BASE_FILE SETTING RATIO MAX_ESR]...\n",
            argv[0]);
    return 2;
  }
  /** Seed 7's fresh audio: 20 s (0.25 s sanitized), the first 0.1 s skipped */
  const double seconds = ASAN_BUILD ? 0.25 : 20.0;
  tr_dataset data;
  char err[256];
  if (!tr_dataset_builtin(&data, "overdrive", 0.1, seconds, 7, err, sizeof err)) {
    fprintf(stderr, "built-in overdrive: %s\n", err);
    return 1;
  }
  float *y = malloc(data.val.n * sizeof(float));
  if (!y)
    return 1;
  printf("QAT presets against the built-in overdrive, %.2f s of seed 7's audio\n", seconds);
  for (int i = 2; i + 4 < argc; i += 5)
    check_preset(argv[1], argv[i], argv[i + 1], argv[i + 2], atof(argv[i + 3]),
                 atof(argv[i + 4]), &data.val, y);
  CHECK(argc > 2, "no preset given");
  free(y);
  tr_dataset_free(&data);
  printf("%d checks, %d failures\n", checks, failures);
  return failures != 0;
}
