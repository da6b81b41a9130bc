/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  NAM's ConvNet (models/nam_convnet.c, models/convnet.c) against
  NeuralAmpModelerCore's renders in ../shared/reference/nam/current:
  - convnet_bn_tanh.nam (8 channels, dilations 1..128, batchnorm, Tanh) and
    convnet_relu.nam (6 channels, dilations 1..32, conv bias, ReLU) play
    input.wav as *.nam-core.wav with ESR <= 1e-10 (DC included) at blocks
    of 1, 64 and 4096 after the prewarm, with libm's tanh as the reference
    used; the kernels' fast tanh is held to the 1e-8 of the other
    reference tests;
  - the saved prewarm state and copy_state give the same bits as a full
    prewarm and an uninterrupted run;
  - every linear is quantized at 8, 4 and 2 bits in several schemes: the
    variants run, their outputs and per-layer SQNRs are finite, they hold
    fewer weight bytes than FP32, and 8 bits stays within a bound measured
    on these models.
  Usage: test_models_convnet NAM_DIR (the directory holding input.wav and
  current/). Exit 77 (skip) when it is missing.
*/
#include "engine.h"
#include "model_file.h"
#include "slim.h"
#include "variant.h"

#define TEST_CHECK_STREAM stdout
#include "test_check.h"

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float *read_wav(const char *path, sf_count_t *frames)
{
  SF_INFO info;
  memset(&info, 0, sizeof info);
  SNDFILE *f = sf_open(path, SFM_READ, &info);
  if (!f)
    return NULL;
  float *x = info.channels == 1 ? malloc((size_t)info.frames * sizeof(float)) : NULL;
  *frames = x ? sf_readf_float(f, x, info.frames) : 0;
  sf_close(f);
  return x;
}

/** sum (y - ref)^2 / sum ref^2, DC included. */
static double esr(const float *y, const float *ref, size_t n, double *max_err)
{
  double num = 0, den = 0, mx = 0;
  for (size_t i = 0; i < n; ++i) {
    const double e = (double)y[i] - (double)ref[i];
    num += e * e;
    den += (double)ref[i] * ref[i];
    mx = fmax(mx, fabs(e));
  }
  if (max_err)
    *max_err = mx;
  return den > 0 ? num / den : num;
}

/** From the model's present state, blocks of `block` frames. */
static void play(qm_model *m, const float *x, float *y, size_t n, int block)
{
  for (size_t done = 0; done < n;) {
    const size_t k = n - done < (size_t)block ? n - done : (size_t)block;
    qm_model_process(m, x + done, y + done, (int)k);
    done += k;
  }
}

typedef struct {
  const char *file;
  int channels, blocks;
  bool batchnorm;
  qm_nonlinearity act;
  /** 8-bit linear per-channel ESR vs the float model in dB, with float
      (weight-only) and int8 dynamic activations: measured on input.wav
      (-38.8 / -34.3 dB and -28.6 / -26.3 dB), plus 3 dB. The random
      weights' errors add up over the blocks: a trained model does better. */
  double esr8_float_db, esr8_dynamic_db;
} reference_model;

static void check_description(const reference_model *r, const qm_desc *d)
{
  const qm_convnet_desc *cn = &d->convnet;
  CHECK(d->arch == QM_ARCH_CONVNET && !strcmp(d->architecture, "ConvNet"), "%s: arch", r->file);
  CHECK(cn->channels == r->channels && cn->n_blocks == r->blocks && cn->batchnorm == r->batchnorm &&
            cn->activation.type == r->act,
        "%s: config %d ch, %d blocks", r->file, cn->channels, cn->n_blocks);
  int rf = 1;
  for (int b = 0; b < cn->n_blocks; ++b) {
    CHECK(cn->blocks[b].dilation == 1 << b, "%s: dilation %d", r->file, b);
    rf += cn->blocks[b].dilation;
  }
  /* NAM's prewarm: 1 + the sum of the dilations */
  CHECK(d->prewarm_samples == rf && qm_desc_receptive_field(d) == rf, "%s: prewarm %d, rf %d",
        r->file, d->prewarm_samples, qm_desc_receptive_field(d));
}

static void check_reference(const reference_model *r, const qm_desc *d, const float *x,
                            const float *ref, float *y, size_t n)
{
  char err[512];
  for (int fast = 0; fast <= 1; ++fast) {
    qm_options o;
    qm_options_default(&o);
    o.fast_activations = fast;
    qm_model *m = qm_model_create(d, &o, err, sizeof err);
    CHECK(m, "%s: %s", r->file, err);
    if (!m)
      continue;
    /* the registry's cost of the description is the built model's */
    CHECK(qm_desc_macs_per_sample(d) == qm_model_macs_per_sample(m),
          "%s: %g MACs from the description, %g from the model", r->file,
          qm_desc_macs_per_sample(d), qm_model_macs_per_sample(m));
    static const int blocks[] = {1, 64, 4096};
    for (int b = 0; b < 3; ++b) {
      qm_model_reset(m);
      play(m, x, y, n, blocks[b]);
      double mx;
      const double e = esr(y, ref, n, &mx);
      const double limit = fast ? 1e-8 : 1e-10;
      printf("  %-20s %-7s block %4d  ESR %.3e (%.1f dB)  max|err| %.2e\n", r->file,
             fast ? "qk_tanh" : "libm", blocks[b], e, 10 * log10(e > 0 ? e : 1e-30), mx);
      CHECK(e <= limit, "%s %s block %d: ESR %.3e over %.0e", r->file, fast ? "fast" : "libm",
            blocks[b], e, limit);
    }
    qm_model_free(m);
  }
}

/** Restore = full prewarm, and copy_state = never stopping, bit for bit. */
static void check_state(const reference_model *r, const qm_desc *d, const float *x, size_t n)
{
  char err[512];
  qm_options o;
  qm_options_default(&o);
  qm_model *a = qm_model_create(d, &o, err, sizeof err);
  o.chunk = 17; /* another batch: copy_state must not depend on it */
  qm_model *b = qm_model_create(d, &o, err, sizeof err);
  float *ya = malloc(n * sizeof(float)), *yb = malloc(n * sizeof(float));
  CHECK(a && b && ya && yb, "%s: %s", r->file, err);
  if (a && b && ya && yb) {
    qm_model_reset(a);
    play(a, x, ya, n, 64);
    play(b, x, yb, n / 3, 64); /* then restore must forget this */
    qm_model_restore_prewarm(b);
    play(b, x, yb, n, 64);
    CHECK(!memcmp(ya, yb, n * sizeof(float)), "%s: restored prewarm differs from reset", r->file);

    const size_t half = n / 2;
    qm_model_reset(a);
    play(a, x, ya, half, 64);
    CHECK(qm_model_copy_state(b, a), "%s: copy_state refused", r->file);
    play(a, x + half, ya + half, n - half, 64);
    play(b, x + half, yb + half, n - half, 100);
    CHECK(!memcmp(ya + half, yb + half, (n - half) * sizeof(float)),
          "%s: copy_state then run differs from running on", r->file);
  }
  free(ya);
  free(yb);
  qm_model_free(a);
  qm_model_free(b);
}

static qm_setting setting(int bits, qz_mapping map, qz_granularity g, qm_actq act)
{
  qm_setting s;
  qm_setting_default(&s);
  s.bits = bits;
  s.mapping = map;
  s.granularity = g;
  s.activations = act;
  return s;
}

static void check_quantized(const reference_model *r, const qm_desc *d, const float *x, int n)
{
  static const struct {
    qz_mapping map;
    qz_granularity gran;
    qm_actq act;
  } schemes[] = {
      {QZ_LINEAR, QZ_PER_CHANNEL, QM_ACTQ_DYNAMIC}, {QZ_LINEAR, QZ_PER_CHANNEL, QM_ACTQ_FLOAT},
      {QZ_LINEAR, QZ_PER_TENSOR, QM_ACTQ_STATIC},   {QZ_POW2, QZ_PER_CHANNEL, QM_ACTQ_DYNAMIC},
      {QZ_KMEANS, QZ_PER_GROUP, QM_ACTQ_DYNAMIC},
  };
  static const int widths[] = {8, 4, 2};
  char err[512];
  printf("  %s: ESR dB vs float (%d samples)\n", r->file, n);
  for (size_t s = 0; s < sizeof schemes / sizeof schemes[0]; ++s) {
    printf("    %-7s %-8s %-8s", qz_mapping_name(schemes[s].map),
           qz_granularity_name(schemes[s].gran), qm_actq_name(schemes[s].act));
    for (int w = 0; w < 3; ++w) {
      const qm_setting q = setting(widths[w], schemes[s].map, schemes[s].gran, schemes[s].act);
      qm_analysis an;
      if (!qm_analyze(d, &q, x, n, 64, &an, err, sizeof err)) {
        CHECK(0, "%s %d-bit: %s", r->file, widths[w], err);
        continue;
      }
      printf(" %2d-bit %7.2f", widths[w], an.esr_db);
      CHECK(isfinite(an.esr_db), "%s %d-bit: ESR not finite", r->file, widths[w]);
      CHECK(an.n_layers == r->blocks + 1, "%s: %d observed layers", r->file, an.n_layers);
      for (int l = 0; l < an.n_layers; ++l)
        CHECK(!isnan(an.layer_sqnr_db[l]), "%s %d-bit layer %d SQNR", r->file, widths[w], l);
      CHECK(an.weight_bytes < an.weight_bytes_fp32, "%s %d-bit: %zu weight bytes, FP32 %zu",
            r->file, widths[w], an.weight_bytes, an.weight_bytes_fp32);
      if (widths[w] == 8 && schemes[s].map == QZ_LINEAR && schemes[s].gran == QZ_PER_CHANNEL) {
        const double bound =
            schemes[s].act == QM_ACTQ_FLOAT ? r->esr8_float_db : r->esr8_dynamic_db;
        CHECK(an.esr_db < bound, "%s 8-bit %s: ESR %.2f dB over %.1f", r->file,
              qm_actq_name(schemes[s].act), an.esr_db, bound);
      }
      qm_analysis_free(&an);
    }
    printf("\n");
  }
  /* A variant names and quantizes every linear (the blocks' convs and the
     head), and plays the same bits at any block length. */
  const qm_setting q = setting(4, QZ_LINEAR, QZ_PER_CHANNEL, QM_ACTQ_DYNAMIC);
  qm_model *v = qm_variant_create(d, &q, NULL, NULL, 0, err, sizeof err);
  CHECK(v, "%s: variant: %s", r->file, err);
  float *y = malloc((size_t)n * sizeof(float)), *y1 = malloc((size_t)n * sizeof(float));
  if (v && y && y1) {
    CHECK(qm_model_linear_count(v) == r->blocks + 1, "%s: %d linears", r->file,
          qm_model_linear_count(v));
    for (int i = 0; i < qm_model_linear_count(v); ++i) {
      const qm_linear *L = qm_model_linear(v, i);
      char want[48];
      snprintf(want, sizeof want, i < r->blocks ? "b%d.conv" : "head", i);
      CHECK(!strcmp(L->name, want), "%s: linear %d is %s", r->file, i, L->name);
      CHECK(qk_packed_format(L->W) != QK_F32 && L->act_mode == QM_LINEAR_ACT_S8_DYNAMIC,
            "%s: %s not quantized", r->file, L->name);
    }
    qm_model_reset(v);
    play(v, x, y1, (size_t)n, 1);
    bool finite = true;
    for (int i = 0; i < n; ++i)
      finite = finite && isfinite(y1[i]);
    CHECK(finite, "%s: 4-bit output not finite", r->file);
    static const int blocks[] = {64, 4096, 13};
    for (int b = 0; b < 3; ++b) {
      qm_model_reset(v);
      play(v, x, y, (size_t)n, blocks[b]);
      CHECK(!memcmp(y, y1, (size_t)n * sizeof(float)), "%s: 4-bit int8 block %d != block 1",
            r->file, blocks[b]);
    }
  }
  free(y);
  free(y1);
  qm_model_free(v);
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: %s NAM_DIR\n", argv[0]);
    return 2;
  }
  char path[1200], refpath[1300], err[512];
  snprintf(path, sizeof path, "%s/input.wav", argv[1]);
  sf_count_t n;
  float *x = read_wav(path, &n);
  if (!x) {
    printf("reference data not found at %s: skipped\n", argv[1]);
    return 77;
  }
  static const reference_model models[] = {
      {"convnet_bn_tanh.nam", 8, 8, true, QM_NONLIN_TANH, -35.8, -31.3},
      {"convnet_relu.nam", 6, 6, false, QM_NONLIN_RELU, -25.6, -23.3},
  };
  float *y = malloc((size_t)n * sizeof(float));
  for (size_t i = 0; i < sizeof models / sizeof models[0]; ++i) {
    const reference_model *r = &models[i];
    snprintf(path, sizeof path, "%s/current/%s", argv[1], r->file);
    snprintf(refpath, sizeof refpath, "%s-core.wav", path);
    qm_desc *d = qm_load_file(path, err, sizeof err);
    sf_count_t nref = 0;
    float *ref = read_wav(refpath, &nref);
    CHECK(d && ref && nref == n, "%s: %s", r->file, d ? refpath : err);
    if (d && ref && nref == n) {
      check_description(r, d);
      check_reference(r, d, x, ref, y, (size_t)n);
      check_state(r, d, x, (size_t)n);
      check_quantized(r, d, x, (int)n);
    }
    free(ref);
    qm_desc_free(d);
  }
  free(x);
  free(y);
  printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
