/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Export of quantized models (models/nam_export.h, issue 15 item 3), per
  architecture: A1 (wavenet_a1_standard), A2.nam (a SlimmableContainer of
  A2 nano and standard) at slim 0 and 1, a WaveNet with slimmable arrays
  at three sizes, a WaveNet with every option (wavenet_a2_max), a
  condition_dsp WaveNet, LSTM, ConvNet with batchnorm, a Linear, and a
  three-submodel SlimmableContainer at each of its sizes.

  For each, at a few schemes:
  - the export rendered through the FP32 path equals the original rendered
    through the weight-only quantized path (ESR <= 1e-12);
  - the export has the original's architecture and version, and
    metadata.quantone gives the setting back;
  - reloaded and quantized to that setting, every quantized linear has the
    original's codes and scales exactly (the recorded levels: a second
    quantization does not move the weights), and renders the same.
  Also the codes export (--export-codes) and the refusals.

  Usage: test_export NAM_DIR (the reference directory with current/);
  exit 77 without it. Under ASan it renders a quarter of the audio.
*/
#include "engine.h"
#include "model_file.h"
#include "nam_export.h"
#include "scheme_record.h"
#include "slim.h"
#include "test_check.h"
#include "train/tr_synth.h"
#include "variant.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int n_audio;
static float *audio;
static char tmp_dir[] = "/tmp/quantone-export-XXXXXX";

static void render(qm_model *m, float *y)
{
  qm_model_reset(m);
  for (int done = 0; done < n_audio;) {
    int k = n_audio - done < 256 ? n_audio - done : 256;
    qm_model_process(m, audio + done, y + done, k);
    done += k;
  }
}

static double esr(const float *y, const float *ref)
{
  double num = 0, den = 0;
  for (int i = 0; i < n_audio; ++i) {
    const double e = (double)y[i] - (double)ref[i];
    num += e * e;
    den += (double)ref[i] * (double)ref[i];
  }
  return den > 0 ? num / den : num;
}

/** The export played through FP32 against the original played
    weight-only: the issue asks ESR <= 1e-12; every ISA's weight-only GEMM
    decodes each weight to its float, scale * (v - z), and sums it in the
    order of its F32 GEMM (tests/kernels/test_kernels.c checks that per
    ISA, NEON included, under qemu), so the two renders are the same bits. */
#define EXPORT_EXACT_ESR 0.0

/** Every quantized linear of b has a's codes, scales, zero points and
    codebook exactly. Returns how many linears differ. */
static int differing_linears(const qm_model *a, const qm_model *b, const char *what)
{
  int bad = 0;
  const int n = qm_model_linear_count((qm_model *)a);
  CHECK(n == qm_model_linear_count((qm_model *)b), "%s: %d linears, reloaded %d", what, n,
        qm_model_linear_count((qm_model *)b));
  for (int i = 0; i < n && n == qm_model_linear_count((qm_model *)b); ++i) {
    const qz_tensor *s = qm_model_linear_tensor(a, i), *t = qm_model_linear_tensor(b, i);
    if (!s && !t)
      continue;
    bool same = s && t && s->w.format == t->w.format && s->ngroups == t->ngroups &&
                s->w.rows == t->w.rows && s->w.cols == t->w.cols;
    const size_t cells = same ? (size_t)s->w.rows * (size_t)s->w.cols : 0,
                 slots = same ? (size_t)s->w.rows * (size_t)s->ngroups : 0;
    same = same && !memcmp(s->codes, t->codes, cells) &&
           !memcmp(s->scales, t->scales, slots * sizeof(float)) &&
           !s->zero_points == !t->zero_points &&
           (!s->zero_points || !memcmp(s->zero_points, t->zero_points, slots * sizeof(int32_t))) &&
           !s->codebook == !t->codebook && (!s->codebook || !memcmp(s->codebook, t->codebook, 16));
    if (!same && ++bad <= 3)
      CHECK(same, "%s: linear %s moved on reload", what, qm_model_linear((qm_model *)a, i)->name);
  }
  return bad;
}

/** Export d (loaded from `name`) at `setting` and check the three claims
    at each slim value in slims[0..n_slims). */
static void check_export(qm_desc *d, const char *name, const char *setting, const double *slims,
                         int n_slims)
{
  char err[512], what[256], path[512];
  qm_setting spec;
  if (!qm_setting_parse(setting, &spec, err, sizeof err)) {
    CHECK(false, "%s", err);
    return;
  }
  spec.activations = QM_ACTQ_FLOAT;
  spec.slim = slims[0];
  snprintf(path, sizeof path, "%s/export.nam", tmp_dir);
  const int n_calib = n_audio < 24000 ? n_audio : 24000;
  if (!qm_export_nam(d, &spec, NULL, audio, n_calib, path, err, sizeof err)) {
    CHECK(false, "%s at %s: export failed: %s", name, setting, err);
    return;
  }
  char lerr[512];
  qm_desc *e = qm_load_file(path, lerr, sizeof lerr);
  CHECK(e != NULL, "%s at %s: the export does not load: %s", name, setting, lerr);
  if (!e)
    return;
  CHECK(!strcmp(e->architecture, d->architecture) && !strcmp(e->version, d->version),
        "%s: exported as %s %s, not %s %s", name, e->architecture, e->version, d->architecture,
        d->version);
  const qm_desc *full = qm_desc_full_size(e);
  CHECK(full->scheme_record != NULL, "%s at %s: no metadata.quantone read back", name, setting);
  qm_setting back;
  qm_setting_default(&back);
  if (full->scheme_record) {
    CHECK(qm_setting_parse(full->scheme_record->setting, &back, err, sizeof err), "%s", err);
    qm_setting expect = spec;
    expect.slim = 1.0;
    back.activations = QM_ACTQ_FLOAT;
    CHECK(qm_setting_eq(&back, &expect), "%s: recorded setting %s, exported %s", name,
          full->scheme_record->setting, setting);
  }
  float *yq = malloc((size_t)n_audio * sizeof *yq), *yf = malloc((size_t)n_audio * sizeof *yf),
        *yr = malloc((size_t)n_audio * sizeof *yr);
  /* A container exports all its sizes at once; other models the size that plays. */
  const int sizes = d->arch == QM_ARCH_CONTAINER ? n_slims : 1;
  for (int k = 0; k < sizes && yq && yf && yr; ++k) {
    spec.slim = slims[k];
    snprintf(what, sizeof what, "%s at %s, slim %.2f", name, setting, slims[k]);
    const qm_desc *orig = qm_desc_at_slim(d, slims[k], err, sizeof err);
    const qm_desc *exp =
        qm_desc_at_slim(e, d->arch == QM_ARCH_CONTAINER ? slims[k] : 1.0, err, sizeof err);
    back.slim = 1.0;
    qm_model *q =
        orig ? qm_variant_create(orig, &spec, NULL, audio, n_calib, err, sizeof err) : NULL;
    qm_model *f = exp ? qm_model_create(exp, NULL, err, sizeof err) : NULL;
    qm_model *r = exp ? qm_variant_create(exp, &back, NULL, audio, n_calib, err, sizeof err) : NULL;
    CHECK(q && f && r, "%s: %s", what, err);
    if (q && f && r) {
      render(q, yq);
      render(f, yf);
      render(r, yr);
      const double e_fp32 = esr(yf, yq), e_reload = esr(yr, yq);
      printf("%-60s export FP32 vs weight-only ESR %.3g, reloaded at its scheme %.3g\n", what,
             e_fp32, e_reload);
      CHECK(e_fp32 <= EXPORT_EXACT_ESR,
            "%s: the export's FP32 render is ESR %.3g from the quantized one", what, e_fp32);
      CHECK(e_reload <= 1e-12, "%s: the reloaded export at its scheme is ESR %.3g away", what,
            e_reload);
      CHECK(differing_linears(q, r, what) == 0, "%s: codes moved on reload", what);
    }
    qm_model_free(q);
    qm_model_free(f);
    qm_model_free(r);
  }
  free(yq);
  free(yf);
  free(yr);
  qm_desc_free(e);
  unlink(path);
}

/** The export (FP32) against the original's weight-only 4-bit path, both
    built for `isa`. */
static void check_isa(qm_desc *d, const char *name, qk_isa isa)
{
  char err[512], path[512];
  qm_setting spec;
  qm_setting_parse("4:linear:asym:channel:float", &spec, err, sizeof err);
  snprintf(path, sizeof path, "%s/isa.nam", tmp_dir);
  qm_options o;
  qm_options_default(&o);
  o.isa = (int)isa;
  qm_desc *e = qm_export_nam(d, &spec, &o, NULL, 0, path, err, sizeof err)
                   ? qm_load_file(path, err, sizeof err)
                   : NULL;
  qm_model *q = e ? qm_variant_create(d, &spec, &o, NULL, 0, err, sizeof err) : NULL;
  qm_model *f = q ? qm_model_create(qm_desc_full_size(e), &o, err, sizeof err) : NULL;
  CHECK(f != NULL, "%s on %s: %s", name, qk_isa_name(isa), err);
  float *yq = malloc((size_t)n_audio * sizeof *yq), *yf = malloc((size_t)n_audio * sizeof *yf);
  if (f && yq && yf) {
    render(q, yq);
    render(f, yf);
    const double e_isa = esr(yf, yq);
    printf("%-20s on %-12s export FP32 vs weight-only ESR %.3g\n", name, qk_isa_name(isa), e_isa);
    CHECK(e_isa <= EXPORT_EXACT_ESR, "%s on %s: ESR %.3g", name, qk_isa_name(isa), e_isa);
  }
  free(yq), free(yf);
  qm_model_free(q);
  qm_model_free(f);
  qm_desc_free(e);
  unlink(path);
}

/** The codes file: one entry per linear with codes that decode to the
    weights the quantized model plays. */
static void check_codes(qm_desc *d)
{
  char err[512], path[512];
  qm_setting spec;
  qm_setting_parse("4:kmeans:asym:group:float", &spec, err, sizeof err);
  snprintf(path, sizeof path, "%s/codes.json", tmp_dir);
  CHECK(qm_export_codes(d, &spec, NULL, audio, n_audio, path, err, sizeof err), "codes: %s", err);
  json_error_t je;
  json_t *o = json_load_file(path, 0, &je);
  qm_model *q = qm_variant_create(d, &spec, NULL, audio, n_audio, err, sizeof err);
  json_t *list = json_object_get(o, "linears");
  CHECK(o && q && (int)json_array_size(list) == qm_model_linear_count(q),
        "codes: %zu linears in the file", json_array_size(list));
  int checked = 0, wrong = 0;
  for (int i = 0; q && i < qm_model_linear_count(q) && i < (int)json_array_size(list); ++i) {
    json_t *L = json_array_get(list, (size_t)i), *codes = json_object_get(L, "codes");
    const qz_tensor *t = qm_model_linear_tensor(q, i);
    const int rows = t->w.rows, cols = t->w.cols;
    json_t *cb = json_object_get(L, "codebook"), *zp = json_object_get(L, "zero_points"),
           *sc = json_object_get(L, "scales");
    const int group = (int)json_integer_value(json_object_get(L, "group"));
    const bool per_group = !strcmp(json_string_value(json_object_get(L, "granularity")), "group");
    const int ng = per_group ? (cols + group - 1) / group : 1;
    float *w = malloc((size_t)rows * (size_t)cols * sizeof *w);
    qm_model_linear_used_weights(q, i, w, rows * cols);
    for (int m = 0; m < rows; ++m)
      for (int k = 0; k < cols; ++k) {
        const int slot = m * ng + (per_group ? k / group : 0);
        const int c = (int)json_integer_value(json_array_get(codes, (size_t)(m * cols + k)));
        const int v = cb ? (int)json_integer_value(json_array_get(cb, (size_t)c)) : c;
        const int z = zp ? (int)json_integer_value(json_array_get(zp, (size_t)slot)) : 0;
        const float s = (float)json_number_value(json_array_get(sc, (size_t)slot));
        wrong += s * (float)(v - z) != w[m * cols + k];
        ++checked;
      }
    free(w);
  }
  printf("codes file: %d weights decoded from the documented layout, %d differ\n", checked, wrong);
  CHECK(checked > 0 && wrong == 0, "codes: %d of %d weights do not decode", wrong, checked);
  qm_model_free(q);
  json_decref(o);
  unlink(path);
}

static qm_desc *load(const char *dir, const char *file)
{
  char path[1024], err[512];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  qm_desc *d = qm_load_file(path, err, sizeof err);
  CHECK(d != NULL, "%s", err);
  return d;
}

/** A NAM Linear (no reference file has one): 48 taps and a bias. */
static qm_desc *linear_model(void)
{
  char buf[4096];
  int used = snprintf(buf, sizeof buf,
                      "{\"version\": \"0.5.4\", \"architecture\": \"Linear\", \"config\": "
                      "{\"receptive_field\": 48, \"bias\": true}, \"weights\": [");
  for (int i = 0; i <= 48; ++i)
    used += snprintf(buf + used, sizeof buf - (size_t)used, "%s%.6f", i ? ", " : "",
                     0.3 * sin(0.7 * i) * exp(-0.05 * i));
  snprintf(buf + used, sizeof buf - (size_t)used, "]}");
  char err[256];
  qm_desc *d = qm_load_buffer(buf, strlen(buf), "linear48.nam", err, sizeof err);
  CHECK(d != NULL, "%s", err);
  return d;
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: test_export NAM_DIR\n");
    return 2;
  }
  const char *dir = argv[1];
  char probe[1024];
  snprintf(probe, sizeof probe, "%s/current/A2.nam", dir);
  if (access(probe, R_OK) != 0) {
    printf("SKIP: %s not found\n", probe);
    return 77;
  }
  if (!mkdtemp(tmp_dir)) {
    perror("mkdtemp");
    return 1;
  }
  n_audio = ASAN_BUILD ? 12000 : 48000;
  audio = malloc((size_t)n_audio * sizeof *audio);
  tr_synth_guitar(audio, (size_t)n_audio, 5);

  /* file (under NAM_DIR; NULL: the Linear built here), setting, slim values */
  static const struct {
    const char *file, *name, *setting;
    double slims[3];
    int n_slims;
  } cases[] = {
      {"wavenet_a1_standard.nam", "a1_standard", "4:linear:sym:channel", {1.0}, 1},
      {"wavenet_a1_standard.nam", "a1_standard", "2:kmeans:asym:group", {1.0}, 1},
      {"wavenet_a1_standard.nam", "a1_standard", "8:pow2:sym:tensor", {1.0}, 1},
      {"wavenet_a1_standard.nam", "a1_standard", "4:linear:asym:channel:gptq", {1.0}, 1},
      {"current/A2.nam", "A2", "4:linear:asym:group", {1.0}, 1},
      {"current/A2.nam", "A2", "4:linear:asym:group", {0.0}, 1},
      {"current/A2.nam", "A2", "2:kmeans:sym:channel", {0.0}, 1},
      {"current/slimmable_wavenet.nam", "slimmable_wavenet", "4:linear:sym:channel", {0.0}, 1},
      {"current/slimmable_wavenet.nam", "slimmable_wavenet", "8:linear:asym:group", {0.5}, 1},
      {"current/slimmable_wavenet.nam", "slimmable_wavenet", "4:pow2:sym:channel", {1.0}, 1},
      {"current/wavenet_a2_max.nam", "wavenet_a2_max", "8:linear:asym:channel", {1.0}, 1},
      {"current/wavenet_condition_dsp.nam", "condition_dsp", "4:linear:sym:channel", {1.0}, 1},
      {"lstm.nam", "lstm", "4:linear:sym:channel", {1.0}, 1},
      {"lstm.nam", "lstm", "2:pow2:asym:tensor", {1.0}, 1},
      {"current/convnet_bn_tanh.nam", "convnet_bn_tanh", "4:kmeans:sym:channel", {1.0}, 1},
      {NULL, "linear48", "4:linear:asym:group", {1.0}, 1},
      {"current/slimmable_container.nam", "container", "4:linear:sym:channel", {0.2, 0.5, 1.0}, 3},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    qm_desc *d = cases[i].file ? load(dir, cases[i].file) : linear_model();
    if (d)
      check_export(d, cases[i].name, cases[i].setting, cases[i].slims, cases[i].n_slims);
    qm_desc_free(d);
  }
  qm_desc *d = load(dir, "wavenet_a1_standard.nam");
  if (d) {
    check_codes(d);
    /* bias correction gives the array head (no bias in A1) a bias */
    char err[512];
    qm_setting bc;
    qm_setting_parse("4:bc", &bc, err, sizeof err);
    snprintf(probe, sizeof probe, "%s/refused.nam", tmp_dir);
    CHECK(!qm_export_nam(d, &bc, NULL, audio, n_audio, probe, err, sizeof err) &&
              strstr(err, "has no place"),
          "bias correction on a bias-less linear: exported or wrong message '%s'", err);
    CHECK(access(probe, F_OK) != 0, "a refused export left a file");
    qm_desc_free(d);
  }
  /* Every other ISA this CPU runs (the active one is checked above):
     the export against the weight-only path built for it. Before the
     scalar and AVX2 weight-only kernels decoded weights first, these
     measured 2.4e-11 (A1) and 6.3e-11 (lstm.nam). */
  static const char *const isa_models[] = {"wavenet_a1_standard.nam", "lstm.nam"};
  for (size_t i = 0; i < sizeof isa_models / sizeof isa_models[0]; ++i) {
    qm_desc *d = load(dir, isa_models[i]);
    for (int isa = 0; d && isa < QK_ISA_COUNT; ++isa)
      if (isa != (int)qk_active_isa() && qk_isa_supported((qk_isa)isa))
        check_isa(d, isa_models[i], (qk_isa)isa);
    qm_desc_free(d);
  }
  free(audio);
  rmdir(tmp_dir);
  printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
