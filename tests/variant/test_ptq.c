/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Post-training rounding on a real model (issue 17): the bundle's
  overdrive_standard.nam (a trained WaveNet), calibrated on 3 s of the
  synthesized guitar clip (seed 17) and judged on 2 s of another (seed 99)
  the calibration never saw. Usage: test_ptq MODELS_DIR
  - gptq: every quantized linear's output SQNR on the calibration inputs is
    at least nearest rounding's, at 4 and 2 bits for every mapping, and the
    held-out ESR against the float model is at least 3 dB better than
    nearest's at 4-bit linear per channel, and below -25 dB (the issue's
    target for 4 bits);
  - 3 bits (linear codes in the 4-bit format), gptq: the same layer
    check and the 3-bit target, -18 dB (release build only);
  - adaround: the same layer check on these real layers (linear mapping,
    4 bits, release build only: under sanitizers adaround runs in the
    bias-correction check; its 2-bit runs are in README.md) and the same
    4-bit targets;
  - bias correction, after adaround: with the float model's
    input means of each linear on the calibration audio (gathered here
    through the observe hook), the installed bias offset cancels the mean
    output error of the quantized weights, (W_hat - W) mu + (b' - b) = 0,
    for every linear;
  - the end-to-end guard: the asked rounding is kept exactly when its
    ESR on the calibration audio is not above nearest's, and otherwise the
    model plays the nearest variant's very samples;
  - quantizing again with nearest rounding gives the file's biases back.
*/
#include "engine.h"
#include "test_asan.h"
#include "model_file.h"
#include "tr_synth.h"
#include "variant.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    bool ok_ = (cond);                                                                             \
    printf("%s ", ok_ ? "  ok  " : "  FAIL");                                                      \
    printf(__VA_ARGS__);                                                                           \
    printf("\n");                                                                                  \
    if (!ok_)                                                                                      \
      ++failures;                                                                                  \
  } while (0)

#define RATE 48000
#define N_CALIB (3 * RATE)
#define N_TEST (2 * RATE)

static void render(qm_model *m, const float *x, float *y, int n)
{
  for (int i = 0; i < n; i += 64)
    qm_model_process(m, x + i, y + i, n - i < 64 ? n - i : 64);
}

static double esr_db(const float *y, const float *ref, int n)
{
  double num = 0, den = 0;
  for (int i = 0; i < n; ++i) {
    num += ((double)y[i] - ref[i]) * ((double)y[i] - ref[i]);
    den += (double)ref[i] * ref[i];
  }
  return 10 * log10(num / den);
}

/** Sum of each linear's input columns (the observe hook), for the means. */
typedef struct {
  double *sum;
  long count;
} input_sum;

static void sum_input(void *user, const qm_linear *L, const float *X, int ldx, int N)
{
  input_sum *s = user;
  for (int n = 0; n < N; ++n)
    for (int k = 0; k < L->in; ++k)
      s->sum[k] += X[(size_t)n * ldx + k];
  s->count += N;
}

static void quantize(qm_model *m, int bits, qz_mapping mapping, qz_rounding r, bool bc,
                     const float *calib)
{
  qm_setting s;
  qm_setting_default(&s);
  s.bits = bits;
  s.mapping = mapping;
  s.rounding = r;
  s.bias_correction = bc;
  char err[256] = "";
  bool ok = qm_model_quantize(m, &s, calib, N_CALIB, err, sizeof err);
  if (!ok)
    CHECK(false, "quantize %d-bit %s: %s", bits, qz_mapping_name(mapping), err);
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: test_ptq MODELS_DIR\n");
    return 2;
  }
  char path[1024], err[256];
  snprintf(path, sizeof path, "%s/overdrive_standard.nam", argv[1]);
  qm_desc *d = qm_load_file(path, err, sizeof err);
  if (!d) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  float *calib = malloc(N_CALIB * sizeof *calib), *x = malloc(N_TEST * sizeof *x);
  float *ref = malloc(N_TEST * sizeof *ref), *y = malloc(N_TEST * sizeof *y);
  float *y_near = malloc(N_TEST * sizeof *y_near);
  tr_synth_guitar(calib, N_CALIB, 17);
  tr_synth_guitar(x, N_TEST, 99);
  qm_model *f = qm_model_create(d, NULL, err, sizeof err);
  qm_model *m = qm_model_create(d, NULL, err, sizeof err);
  if (!f || !m) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  render(f, x, ref, N_TEST);
  const int n = qm_model_linear_count(m);

  /* gptq: layer SQNR never below nearest's, every mapping, 4 and 2 bits,
     and 3 bits (linear only: codes in the 4-bit format); adaround: the
     linear mapping (its descent costs more), not 3 bits */
  static const int widths[3] = {4, 3, 2};
  static const qz_rounding roundings[2] = {QZ_ROUND_GPTQ, QZ_ROUND_ADAROUND};
  for (int r = 0; r < 2; ++r)
    for (int b = 0; b < 3; ++b) {
      for (int mp = 0; mp < QZ_MAPPING_COUNT; ++mp) {
        const qz_rounding rounding = roundings[r];
        const char *rname = qz_rounding_name(rounding);
        if (rounding == QZ_ROUND_ADAROUND && (mp != QZ_LINEAR || widths[b] != 4 || ASAN_BUILD))
          continue;
        if (widths[b] == 3 && (mp != QZ_LINEAR || rounding == QZ_ROUND_ADAROUND || ASAN_BUILD))
          continue;
        quantize(m, widths[b], (qz_mapping)mp, QZ_ROUND_NEAREST, false, calib);
        qm_model_reset(m);
        render(m, x, y, N_TEST);
        const double near = esr_db(y, ref, N_TEST);
        memcpy(y_near, y, N_TEST * sizeof *y);
        quantize(m, widths[b], (qz_mapping)mp, rounding, false, calib);
        qm_model_reset(m);
        render(m, x, y, N_TEST);
        const double opt = esr_db(y, ref, N_TEST);
        double g_near, g_opt;
        bool kept;
        if (qm_model_rounding_guard(m, &g_near, &g_opt, &kept))
          CHECK(kept == (g_opt <= g_near) && (kept || !memcmp(y, y_near, N_TEST * sizeof *y)),
                "%d-bit %s guard: calibration ESR nearest %.2f dB, %s %.2f dB, %s", widths[b],
                qz_mapping_name((qz_mapping)mp), g_near, rname, g_opt,
                kept ? "kept" : "nearest plays (same samples as the nearest variant)");
        else
          CHECK(false, "%d-bit %s: no guard report", widths[b], qz_mapping_name((qz_mapping)mp));
        int measured = 0, worse = 0;
        double gain = 0.0;
        for (int i = 0; i < n; ++i) {
          double a, c;
          if (!qm_model_linear_rounding_sqnr(m, i, &a, &c))
            continue;
          ++measured;
          worse += c < a;
          gain += c - a;
        }
        CHECK(measured > n / 2 && worse == 0,
              "%d-bit %s: %s layer SQNR >= nearest on all %d measured linears (%d below), mean "
              "gain %.2f dB; held-out ESR nearest %.2f dB, %s %.2f dB",
              widths[b], qz_mapping_name((qz_mapping)mp), rname, measured, worse,
              measured ? gain / measured : 0.0, near, rname, opt);
        if (widths[b] == 3 && mp == QZ_LINEAR)
          CHECK(opt < -18.0, "3-bit linear per channel %s %.2f dB < -18 dB (issue 17's target)",
                rname, opt);
        if (widths[b] == 4 && mp == QZ_LINEAR) {
          CHECK(opt < near - 3.0, "4-bit linear: %s %.2f dB at least 3 dB below nearest %.2f dB",
                rname, opt, near);
          CHECK(opt < -25.0, "4-bit linear per channel %s %.2f dB < -25 dB (issue 17's target)",
                rname, opt);
        }
      }
    }

  /* bias correction: the float model's input means on the calibration audio */
  input_sum *sums = calloc((size_t)n, sizeof *sums);
  qm_model_reset(f); /* its prewarm is not calibration audio: hooks after it */
  for (int i = 0; i < n; ++i) {
    qm_linear *L = qm_model_linear(f, i);
    sums[i].sum = calloc((size_t)L->in, sizeof(double));
    L->observe = sum_input;
    L->observe_user = &sums[i];
  }
  float *scratch = malloc(N_CALIB * sizeof *scratch);
  for (int i = 0; i < N_CALIB; i += 64)
    qm_model_process(f, calib + i, scratch, N_CALIB - i < 64 ? N_CALIB - i : 64);
  for (int i = 0; i < n; ++i)
    qm_model_linear(f, i)->observe = NULL;
  /** after adaround (the correction is the same code after gptq's codes:
      checking both only cost time) */
  quantize(m, 2, QZ_LINEAR, QZ_ROUND_ADAROUND, true, calib);
  int corrected = 0, missing = 0;
  double worst = 0.0, worst_uncorrected = 0.0;
  for (int i = 0; i < n; ++i) {
    qm_linear *L = qm_model_linear(m, i);
    if (L->in == 1)
      continue;
    if (!L->bias_file) {
      ++missing;
      continue;
    }
    ++corrected;
    float *wh = malloc((size_t)L->out * L->in * sizeof *wh);
    qm_model_linear_used_weights(m, i, wh, L->out * L->in);
    for (int o = 0; o < L->out; ++o) {
      double e = 0.0, scale = 0.0;
      for (int k = 0; k < L->in; ++k) {
        double mu = sums[i].sum[k] / (double)sums[i].count;
        e += ((double)wh[(size_t)o * L->in + k] - L->w[(size_t)o * L->in + k]) * mu;
        scale += fabs(L->w[(size_t)o * L->in + k] * mu);
      }
      worst_uncorrected = fmax(worst_uncorrected, fabs(e));
      worst = fmax(worst, fabs(e + (double)L->bias[o] - L->bias_file[o]) / (1.0 + scale));
    }
    free(wh);
  }
  CHECK(missing == 0, "every linear with more than one input has a corrected bias (%d not)",
        missing);
  CHECK(corrected > n / 2 && worst < 1e-5 && worst_uncorrected > 1e-4,
        "bias correction after %s on %d linears: mean output error %.2g after (relative), up "
        "to %.2g before",
        qz_rounding_name(QZ_ROUND_ADAROUND), corrected, worst, worst_uncorrected);
  quantize(m, 2, QZ_LINEAR, QZ_ROUND_NEAREST, false, calib);
  bool restored = true;
  for (int i = 0; i < n; ++i) {
    const qm_linear *L = qm_model_linear(m, i), *F = qm_model_linear(f, i);
    restored = restored && !L->bias_file && !L->bias == !F->bias &&
               (!L->bias || !memcmp(L->bias, F->bias, (size_t)L->out * sizeof(float)));
  }
  CHECK(restored, "nearest rounding again: the file's biases are back");

  for (int i = 0; i < n; ++i)
    free(sums[i].sum);
  free(sums), free(scratch), free(calib), free(x), free(ref), free(y), free(y_near);
  qm_model_free(f);
  qm_model_free(m);
  qm_desc_free(d);
  printf("ptq: %d failures\n", failures);
  return failures ? 1 : 0;
}
