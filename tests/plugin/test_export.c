/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  "Save quantized model" through the real bundle (issue 15, item 3), from
  the host's side (patch:Set qt:exportModel, no GUI):
  - with overdrive_standard.nam at 4-bit linear asymmetric per channel, the
    plugin answers qt:exported with the path; the file is a WaveNet whose
    metadata.quantone names that setting, and its FP32 render equals the
    original's weight-only 4-bit render (ESR <= 1e-12);
  - run() allocates and locks nothing while it takes the request (the
    worker writes the file);
  - an unwritable path answers qt:error naming the failure, and nothing is
    exported.
  Usage: test_plugin_export BUNDLE_DIR MODELS_DIR TMP_DIR
*/
#include "host.h"

#include "model_file.h"
#include "scheme_record.h"
#include "train/tr_synth.h"
#include "variant.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(c, ...) qh_check((c), __VA_ARGS__)

static double esr(const float *y, const float *ref, int n)
{
  double num = 0, den = 0;
  for (int i = 0; i < n; ++i) {
    num += ((double)y[i] - ref[i]) * ((double)y[i] - ref[i]);
    den += (double)ref[i] * ref[i];
  }
  return den > 0 ? num / den : num;
}

static void render(qm_model *m, const float *x, float *y, int n)
{
  qm_model_reset(m);
  qm_model_process(m, x, y, n);
}

int main(int argc, char **argv)
{
  if (argc < 4) {
    fprintf(stderr, "usage: %s BUNDLE_DIR MODELS_DIR TMP_DIR\n", argv[0]);
    return 2;
  }
  char cmd[1200], model[1200], out[1200], err[512] = "";
  snprintf(cmd, sizeof cmd, "mkdir -p '%s'", argv[3]);
  if (system(cmd) != 0)
    return 1;
  snprintf(model, sizeof model, "%s/overdrive_standard.nam", argv[2]);
  snprintf(out, sizeof out, "%s/overdrive_standard.4bit.nam", argv[3]);
  unlink(out);
  LilvWorld *world = lilv_world_new();
  qh_world_init(world);
  const LilvPlugin *plugin = qh_find_plugin(world, argv[1]);
  if (!plugin)
    return 1;

  qhost *h = qh_new(plugin, 48000);
  h->ctl[QT_PORT_PRECISION] = 4;
  h->ctl[QT_PORT_MAPPING] = 0;
  h->ctl[QT_PORT_ASYMMETRIC] = 1;
  h->ctl[QT_PORT_GRANULARITY] = 1;
  qh_set_model(h, model);
  qh_settle(h);
  CHECK(!strcmp(h->last_path, model), "the model plays (%s)", h->last_path);

  printf("Save quantized model to %s\n", out);
  qh_allocs_in_run = qh_locks_in_run = 0;
  qh_export_model(h, out);
  static float silence[64], y[64];
  qh_run(h, silence, y, 64); /* takes the request, schedules the job */
  long allocs = qh_allocs_in_run, locks = qh_locks_in_run;
  qh_settle(h); /* the worker writes; its answer goes out */
  CHECK(allocs == 0 && locks == 0, "run() taking the request: %ld allocations, %ld locks", allocs,
        locks);
  CHECK(h->n_exported == 1 && !strcmp(h->last_exported, out), "qt:exported %d time(s), path '%s'",
        h->n_exported, h->last_exported);

  qm_desc *orig = qm_load_file(model, err, sizeof err);
  qm_desc *exp = qm_load_file(out, err, sizeof err);
  CHECK(orig && exp, "loading: %s", err);
  if (orig && exp) {
    CHECK(!strcmp(exp->architecture, "WaveNet"), "exported as %s", exp->architecture);
    const char *rec = exp->scheme_record ? exp->scheme_record->setting : "(none)";
    printf("        metadata.quantone.setting: %s\n", rec);
    CHECK(!strncmp(rec, "4:linear:asym:channel:", 22), "recorded setting %s", rec);
    qm_setting spec;
    qm_setting_parse("4:linear:asym:channel:float", &spec, err, sizeof err);
    const int n = 24000;
    float *x = malloc(n * sizeof *x), *yq = malloc(n * sizeof *yq), *yf = malloc(n * sizeof *yf);
    tr_synth_guitar(x, n, 9);
    qm_model *q = qm_variant_create(orig, &spec, NULL, NULL, 0, err, sizeof err);
    qm_model *f = qm_model_create(exp, NULL, err, sizeof err);
    CHECK(q && f, "%s", err);
    if (q && f) {
      render(q, x, yq, n);
      render(f, x, yf, n);
      const double e = esr(yf, yq, n);
      printf("        export FP32 vs the original 4-bit weight-only: ESR %.3g\n", e);
      /* 1e-12 where the weight-only GEMM decodes float weights (AVX-512),
         float rounding elsewhere (tests/models/test_export.c, check_isa) */
      const double bound = qk_active_isa() == QK_ISA_AVX512VNNI ? 1e-12 : 1e-9;
      CHECK(e <= bound, "export FP32 vs weight-only ESR %.3g (bound %g)", e, bound);
    }
    qm_model_free(q);
    qm_model_free(f);
    free(x), free(yq), free(yf);
  }
  qm_desc_free(orig);
  qm_desc_free(exp);

  printf("Save quantized model to a folder that does not exist\n");
  int errors = h->n_errors, exported = h->n_exported;
  qh_export_model(h, "/nonexistent-quantone-dir/x.nam");
  qh_settle(h);
  CHECK(h->n_errors == errors + 1 && strstr(h->last_error, "Save quantized model") &&
            h->n_exported == exported,
        "error '%s', %d exported", h->last_error, h->n_exported - exported);
  qh_free(h);
  lilv_world_free(world);
  unlink(out);
  printf("%s (%d failure%s)\n", qh_failures ? "FAILED" : "all passed", qh_failures,
         qh_failures == 1 ? "" : "s");
  return qh_failures ? 1 : 0;
}
