/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The WaveNets of .nam 0.6 / 0.7 (A2 and every option) against
  NeuralAmpModelerCore's renders in ../shared/reference/nam/current/:
  wavenet_a2_max.nam (every option: condition_dsp, groups, gating and
  blending, FiLM at all eight points, head1x1, ...), wavenet_condition_dsp.nam,
  slimmable_wavenet.nam at its full size (the slim1.0 render) and the two
  WaveNets of A2.nam (a SlimmableContainer: each submodel's "model" object
  is taken out with jansson and loaded as a file of its own, submodel 0
  against A2.slim0.0, submodel 1 against A2.slim1.0).

  1. With exact (libm) activations, as the renders were made, each must
     reproduce its render with ESR <= 1e-10 at blocks 1, 64 and 4096 after
     the prewarm. With the kernels' activations (qk_tanh / qk_sigmoid,
     |err| <= 2e-6) the ESR is printed and must be <= FAST_ESR_BOUND.
  2. A model given another's state halfway (qm_model_copy_state)
     continues with the same bits.
  3. Each quantized at 8, 4 and 2 bits with four schemes runs and stays
     finite, and at 8 bits with int8 dynamic activations its ESR against
     the float model is below Q8_ESR_BOUND.

  Usage: test_models_reference_current NAM_CURRENT_DIR INPUT_WAV. Exit 77
  (skip) when the reference directory is missing.
*/
#include "engine.h"
#include "model_file.h"
#include "reference_io.h"
#include "variant.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** The renders' own precision: float32 math in a different summation order. */
#define EXACT_ESR_BOUND 1e-10
/** The kernels' tanh / sigmoid (documented |err| <= 2e-6) put at most
    about (2e-6)^2 = 4e-12 of error energy per unit of signal through
    layers of unit gain; measured, they change the ESR by less than 1e-16
    (worst 1.21e-14 against 1.20e-14 with libm, wavenet_condition_dsp). */
#define FAST_ESR_BOUND 1e-11
/** 8-bit weights with int8 dynamic activations (linear per channel,
    k-means per group) against the float model: the worst of the five
    models measured 3.8e-4 (-34 dB, A2 nano, linear); five times that is
    the bound. The other two schemes are only required to run and stay
    finite: power-of-two levels are as coarse at 8 bits as at 4 (the same
    ESR, 4e-2 to 0.18), and static per-tensor int8 activations calibrated
    on this loud signal measure -1 to -16 dB on A1 as on A2 (a property of
    the scheme, not of these models). */
#define Q8_ESR_BOUND 2e-3

static int failures;

static bool all_finite(const float *y, size_t n)
{
  for (size_t i = 0; i < n; ++i)
    if (!isfinite(y[i]))
      return false;
  return true;
}

/** Submodel i of a SlimmableContainer file, loaded as a file of its own. */
static qm_desc *load_submodel(const char *path, int i, char *err, size_t errlen)
{
  json_error_t je;
  json_t *root = json_load_file(path, 0, &je);
  if (!root) {
    snprintf(err, errlen, "%s: %s", path, je.text);
    return NULL;
  }
  json_t *model = json_object_get(
      json_array_get(json_object_get(json_object_get(root, "config"), "submodels"), (size_t)i),
      "model");
  char *text = model ? json_dumps(model, JSON_COMPACT) : NULL;
  qm_desc *d = NULL;
  if (!text)
    snprintf(err, errlen, "%s: no config.submodels[%d].model", path, i);
  else
    d = qm_load_buffer(text, strlen(text), path, err, errlen);
  free(text);
  json_decref(root);
  return d;
}

static void check_exact(const char *label, const qm_desc *d, const float *x, const float *ref,
                        float *y, size_t n)
{
  static const int blocks[] = {1, 64, 4096};
  for (int fast = 0; fast <= 1; ++fast) {
    qm_options o;
    qm_options_default(&o);
    o.fast_activations = fast;
    char err[512];
    qm_model *m = qm_model_create(d, &o, err, sizeof err);
    if (!m) {
      printf("FAIL create %s\n", err);
      ++failures;
      continue;
    }
    for (int b = 0; b < 3; ++b) {
      ref_render(m, x, y, n, blocks[b]);
      const double e = ref_compare(y, ref, n).esr;
      const double bound = fast ? FAST_ESR_BOUND : EXACT_ESR_BOUND;
      const bool ok = e <= bound && all_finite(y, n);
      printf("  %-26s %-7s block %-5d ESR %.3e (%6.1f dB)  %s\n", label, fast ? "qk_*" : "libm",
             blocks[b], e, 10 * log10(e > 0 ? e : 1e-30), ok ? "ok" : "FAIL");
      failures += !ok;
    }
    qm_model_free(m);
  }
}

/**
   Streaming state: a second model given the first one's state halfway
   through (qm_model_copy_state: every layer's, array head's, post-stack
   head's and condition_dsp's history) must continue with the same bits.
*/
static void check_copy_state(const char *label, const qm_desc *d, const float *x, float *y,
                             size_t n)
{
  char err[512];
  qm_model *a = qm_model_create(d, NULL, err, sizeof err);
  qm_model *b = qm_model_create(d, NULL, err, sizeof err);
  float *yb = malloc(n * sizeof(float));
  if (!a || !b || !yb) {
    printf("FAIL create %s\n", err);
    ++failures;
  } else {
    const size_t half = n / 2 + 17;
    qm_model_reset(a);
    qm_model_reset(b);
    qm_model_process(b, x, yb, 4096); /* some other state to be overwritten */
    for (size_t done = 0; done < half; done += 64)
      qm_model_process(a, x + done, y + done, (int)(half - done < 64 ? half - done : 64));
    const bool copied = qm_model_copy_state(b, a);
    for (size_t done = half; done < n; done += 64) {
      const int k = (int)(n - done < 64 ? n - done : 64);
      qm_model_process(a, x + done, y + done, k);
      qm_model_process(b, x + done, yb + done, k);
    }
    const bool ok = copied && !memcmp(y + half, yb + half, (n - half) * sizeof(float));
    printf("  %-26s state copied halfway: the copy continues %s  %s\n", label,
           ok ? "with the same bits" : "DIFFERENTLY", ok ? "ok" : "FAIL");
    failures += !ok;
  }
  qm_model_free(a);
  qm_model_free(b);
  free(yb);
}

typedef struct {
  const char *name;
  bool bounded; /* its 8-bit ESR must be <= Q8_ESR_BOUND */
  qz_mapping mapping;
  bool asymmetric;
  qz_granularity granularity;
  qm_actq activations;
} scheme;

static void check_quantized(const char *label, const qm_desc *d, const float *x, float *y, size_t n)
{
  static const scheme schemes[] = {
      {"linear per-channel int8-dynamic", true, QZ_LINEAR, false, QZ_PER_CHANNEL, QM_ACTQ_DYNAMIC},
      {"k-means per-group int8-dynamic", true, QZ_KMEANS, true, QZ_PER_GROUP, QM_ACTQ_DYNAMIC},
      {"power-of-two per-channel", false, QZ_POW2, false, QZ_PER_CHANNEL, QM_ACTQ_FLOAT},
      {"linear asym per-tensor static", false, QZ_LINEAR, true, QZ_PER_TENSOR, QM_ACTQ_STATIC},
  };
  static const int bits[] = {8, 4, 2};
  char err[512];
  qm_model *ref_model = qm_model_create(d, NULL, err, sizeof err);
  float *yref = malloc(n * sizeof(float));
  if (!ref_model || !yref) {
    printf("FAIL create %s\n", err);
    ++failures;
    qm_model_free(ref_model);
    free(yref);
    return;
  }
  ref_render(ref_model, x, yref, n, 64);
  qm_model_free(ref_model);
  for (size_t s = 0; s < sizeof schemes / sizeof schemes[0]; ++s)
    for (int b = 0; b < 3; ++b) {
      qm_setting set;
      qm_setting_default(&set);
      set.bits = bits[b];
      set.mapping = schemes[s].mapping;
      set.asymmetric = schemes[s].asymmetric;
      set.granularity = schemes[s].granularity;
      set.group = 32;
      set.activations = schemes[s].activations;
      qm_model *m =
          qm_variant_create(d, &set, NULL, x, (int)(n < 48000 ? n : 48000), err, sizeof err);
      if (!m) {
        printf("FAIL %s %s %d bits: %s\n", label, schemes[s].name, bits[b], err);
        ++failures;
        continue;
      }
      ref_render(m, x, y, n, 64);
      const bool finite = all_finite(y, n);
      const double e = ref_compare(y, yref, n).esr;
      const bool ok = finite && (bits[b] != 8 || !schemes[s].bounded || e <= Q8_ESR_BOUND);
      printf("  %-26s %d bits %-32s ESR vs float %.3e (%6.1f dB)%s  %s\n", label, bits[b],
             schemes[s].name, e, 10 * log10(e > 0 ? e : 1e-30), finite ? "" : " NOT FINITE",
             ok ? "ok" : "FAIL");
      failures += !ok;
      qm_model_free(m);
    }
  free(yref);
}

int main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: %s NAM_CURRENT_DIR INPUT_WAV\n", argv[0]);
    return 2;
  }
  const char *dir = argv[1];
  FILE *probe = fopen(argv[2], "rb");
  char a2[1024];
  snprintf(a2, sizeof a2, "%s/A2.nam", dir);
  FILE *probe2 = fopen(a2, "rb");
  if (!probe || !probe2) {
    printf("SKIP: no reference files in %s (see ../shared/reference/nam/current/README.md)\n", dir);
    if (probe)
      fclose(probe);
    if (probe2)
      fclose(probe2);
    return 77;
  }
  fclose(probe);
  fclose(probe2);

  static const struct {
    const char *file;
    int submodel; /* -1: the file itself */
    const char *render;
  } models[] = {
      {"wavenet_a2_max.nam", -1, "wavenet_a2_max.nam-core.wav"},
      {"wavenet_condition_dsp.nam", -1, "wavenet_condition_dsp.nam-core.wav"},
      {"slimmable_wavenet.nam", -1, "slimmable_wavenet.slim1.0.nam-core.wav"},
      {"A2.nam", 0, "A2.slim0.0.nam-core.wav"},
      {"A2.nam", 1, "A2.slim1.0.nam-core.wav"},
  };
  size_t n = 0;
  float *x = ref_read_wav(argv[2], &n);
  if (!x) {
    printf("FAIL reading %s\n", argv[2]);
    return 1;
  }
  float *y = malloc((size_t)n * sizeof(float));
  for (size_t i = 0; i < sizeof models / sizeof models[0]; ++i) {
    char path[1100], refpath[1100], label[64], err[1400];
    snprintf(path, sizeof path, "%s/%s", dir, models[i].file);
    snprintf(refpath, sizeof refpath, "%s/%s", dir, models[i].render);
    if (models[i].submodel >= 0)
      snprintf(label, sizeof label, "%s[%d]", models[i].file, models[i].submodel);
    else
      snprintf(label, sizeof label, "%s", models[i].file);
    qm_desc *d = models[i].submodel >= 0 ? load_submodel(path, models[i].submodel, err, sizeof err)
                                         : qm_load_file(path, err, sizeof err);
    size_t nref = 0;
    float *ref = ref_read_wav(refpath, &nref);
    if (!d || !ref || nref != n) {
      printf("FAIL %s: %s\n", label, d ? "cannot read its render" : err);
      ++failures;
      qm_desc_free(d);
      free(ref);
      continue;
    }
    printf("%s: %zu weights, prewarm %d, receptive field %d\n", label, d->n_weights,
           d->prewarm_samples, qm_desc_receptive_field(d));
    check_exact(label, d, x, ref, y, (size_t)n);
    check_copy_state(label, d, x, y, (size_t)n);
    check_quantized(label, d, x, y, (size_t)n);
    free(ref);
    qm_desc_free(d);
  }
  free(x);
  free(y);
  printf(failures ? "%d FAILED\n" : "all ok\n", failures);
  return failures ? 1 : 0;
}
