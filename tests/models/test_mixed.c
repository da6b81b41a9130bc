/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Automatic mixed precision (models/sensitivity.h, issue 15 item 2).

    test_models_mixed NAM_DIR MODELS_DIR

  1. The allocator against exhaustive search on small random tables: the
     least predicted error within the budget, never above it, and no
     linear left that could be widened within it.
  2. On wavenet_a1_standard.nam (NAM_DIR) and overdrive_standard.nam
     (MODELS_DIR), scheme linear sym per channel, weight-only (float
     activations; MIXED_ACT=1 for int8 dynamic): the table is measured on
     the built-in clip, and on held-out audio (NAM_DIR/input.wav, never
     seen by the analysis) the allocation at 4.0 is at least 6 dB below
     uniform 4-bit, at 3.0 below it (a1_standard), at 4.5 below it, and
     at 2.0 / 4.0 / 8.0 (where a uniform width has the same average bits)
     not above the uniform width; every budget from 2.0 to 8.0 by 0.5 is
     met (never above) and filled. The targets are printed with
     their outcome.
  3. Error accumulation: the last prefix is the variant's own ESR, and a
     linear's error alone is the table's.

  Under sanitizers only overdrive_standard runs, on a quarter of the clip.
*/
#include "sensitivity.h"

#include "reference_io.h"
#include "test_check.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static double urand(void)
{
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (double)(rng >> 11) / 9007199254740992.0;
}

/** Exhaustive search: the least predicted ESR within the budget. */
static double brute_best(const qm_sensitivity *s, double budget, int *bits, int i)
{
  if (i == s->n)
    return qm_mixed_average_bits(s, bits) <= budget ? qm_mixed_predicted_esr(s, bits) : INFINITY;
  double best = INFINITY;
  for (int w = 0; w < QM_MIXED_WIDTHS; ++w) {
    bits[i] = qm_mixed_width[w];
    double v = brute_best(s, budget, bits, i + 1);
    if (v < best)
      best = v;
  }
  return best;
}

/** Index of a width in qm_mixed_width, -1 if it is none of them. */
static int width_index(int bits)
{
  for (int w = 0; w < QM_MIXED_WIDTHS; ++w)
    if (qm_mixed_width[w] == bits)
      return w;
  return -1;
}

/** Whether some linear could be widened one step within the budget. */
static bool can_widen(const qm_sensitivity *s, const int *bits, double budget)
{
  int tmp[256];
  memcpy(tmp, bits, (size_t)s->n * sizeof *tmp);
  for (int i = 0; i < s->n; ++i) {
    int w = width_index(tmp[i]), v = w - 1;
    while (v >= 0 && isnan(s->esr[v])) /* a width the table does not offer */
      --v;
    if (w < 0 || v < 0)
      continue;
    tmp[i] = qm_mixed_width[v];
    bool fits = qm_mixed_average_bits(s, tmp) <= budget;
    tmp[i] = bits[i];
    if (fits)
      return true;
  }
  return false;
}

static void allocator_exhaustive(void)
{
  for (int trial = 0; trial < 60; ++trial) {
    qm_sensitivity s;
    memset(&s, 0, sizeof s);
    s.n = 3 + trial % 4; /* 6^6 assignments at most for the search */
    long weights[8];
    double esr[8 * QM_MIXED_WIDTHS];
    s.weights = weights;
    s.esr = esr;
    for (int i = 0; i < s.n; ++i) {
      weights[i] = 1 + (long)(urand() * (trial % 2 ? 40 : 800));
      /* errors falling about 4x per bit of width, some layers far more
         sensitive, and now and then a wider width measured worse (noise
         of the clip; the allocator's cost is monotone in the width) */
      double base = pow(10.0, -4.0 + 4.0 * urand());
      for (int w = 0; w < QM_MIXED_WIDTHS; ++w)
        esr[i * QM_MIXED_WIDTHS + w] =
            base * pow(4.0, qm_mixed_width[w] == 2 ? 0 : -(qm_mixed_width[w] - 2)) *
            (0.3 + 1.4 * urand());
      /* a third of the trials: a pow2 / k-means table, widths 6, 5, 3 not
         offered (NaN columns, sensitivity.h) */
      for (int w = 0; trial % 3 == 2 && w < QM_MIXED_WIDTHS; ++w)
        if (qm_mixed_width[w] == 6 || qm_mixed_width[w] == 5 || qm_mixed_width[w] == 3)
          esr[i * QM_MIXED_WIDTHS + w] = NAN;
    }
    for (double budget = 2.0; budget <= 8.0; budget += 0.25 + 0.5 * urand()) {
      int bits[8], probe[8];
      CHECK(qm_mixed_allocate(&s, budget, bits), "trial %d budget %g", trial, budget);
      double avg = qm_mixed_average_bits(&s, bits);
      CHECK(avg <= budget, "trial %d: %.6f average bits over the budget %.6f", trial, avg, budget);
      double got = qm_mixed_predicted_esr(&s, bits);
      double best = brute_best(&s, budget, probe, 0);
      CHECK(got <= best * (1.0 + 1e-12), "trial %d budget %.3f: predicted %.6g, best %.6g", trial,
            budget, got, best);
      CHECK(!can_widen(&s, bits, budget), "trial %d budget %.3f: bits left unspent", trial, budget);
      for (int i = 0; i < s.n; ++i)
        CHECK(!isnan(esr[width_index(bits[i])]), "trial %d: linear %d at %d bits, not offered",
              trial, i, bits[i]);
    }
    int bits[8];
    CHECK(!qm_mixed_allocate(&s, 1.99, bits), "a budget below 2 bits has no allocation");
  }
}

/** ESR (dB) of spec's variant of d on x against ref_y. */
static double held_out_db(const qm_desc *d, const qm_setting *spec, const float *x,
                          const float *ref_y, float *y, size_t n)
{
  qm_options o;
  qm_options_default(&o);
  char err[512];
  qm_model *m = qm_variant_create(d, spec, &o, NULL, 0, err, sizeof err);
  if (!m) {
    fprintf(stderr, "%s\n", err);
    return NAN;
  }
  ref_render(m, x, y, n, 64);
  qm_model_free(m);
  return 10.0 * log10(ref_compare(y, ref_y, n).esr);
}

static void model_targets(const char *path, const float *x, size_t n, int calib_div)
{
  char err[512];
  qm_desc *d = qm_load_file(path, err, sizeof err);
  CHECK(d != NULL, "%s", err);
  if (!d)
    return;
  qm_options o;
  qm_options_default(&o);
  qm_model *ref = qm_model_create(d, &o, err, sizeof err);
  float *ref_y = malloc(n * sizeof *ref_y), *y = malloc(n * sizeof *y);
  ref_render(ref, x, ref_y, n, 64);
  qm_model_free(ref);

  qm_setting spec;
  qm_setting_default(&spec);
  spec.bits = 4;
  spec.activations = getenv("MIXED_ACT") ? (qm_actq)atoi(getenv("MIXED_ACT")) : QM_ACTQ_FLOAT;
  qm_setting_normalise(&spec);
  int n_calib = 0;
  float *calib = qm_mixed_clip(&n_calib);
  n_calib /= calib_div;
  qm_sensitivity s;
  CHECK(qm_sensitivity_measure(d, &spec, calib, n_calib, &s, err, sizeof err), "%s", err);
  printf("%s: %d linears, table measured in %.0f ms (%d renders of %.2f s)\n", path, s.n, s.ms,
         s.n * QM_MIXED_WIDTHS, n_calib / 48000.0);

  double uniform_db[9] = {0};
  for (int b = 2; b <= 8; b *= 2) {
    qm_setting u = spec;
    u.bits = b;
    uniform_db[b] = held_out_db(d, &u, x, ref_y, y, n);
    printf("  uniform %d-bit: held-out ESR %.2f dB\n", b, uniform_db[b]);
  }
  int *bits = malloc((size_t)s.n * sizeof *bits);
  /** Every budget of the README's table is met (never above) and
      filled; no audio needed. */
  for (double budget = 2.0; budget <= 8.0; budget += 0.5) {
    CHECK(qm_mixed_allocate(&s, budget, bits), "budget %.1f", budget);
    CHECK(qm_mixed_average_bits(&s, bits) <= budget, "budget %.1f: %.6f average bits", budget,
          qm_mixed_average_bits(&s, bits));
    CHECK(!can_widen(&s, bits, budget), "budget %.1f: bits left unspent", budget);
  }
  /** Held-out audio at the budgets the issue names (the whole sweep is
      README.md's table, by quantone-run: a test must stay short). */
  static const double budgets[] = {2.0, 3.0, 4.0, 4.5, 8.0};
  for (size_t k = 0; k < sizeof budgets / sizeof budgets[0]; ++k) {
    const double budget = budgets[k];
    qm_mixed_report r;
    bool ok = qm_mixed_choose(d, &s, budget, calib, n_calib, bits, &r, err, sizeof err);
    CHECK(ok, "budget %.1f: %s", budget, err);
    if (!ok)
      continue;
    qm_setting mixed = spec;
    mixed.linear_bits = bits;
    mixed.n_linear_bits = s.n;
    double db = held_out_db(d, &mixed, x, ref_y, y, n);
    printf("  budget %.1f: %.3f average bits, held-out ESR %.2f dB (calib: mixed %.2f, uniform "
           "%d-bit %.2f dB%s)\n",
           budget, r.average_bits, db, r.mixed_db, r.uniform_bits, r.uniform_db,
           r.kept_mixed ? "" : ", uniform plays");
    CHECK(r.average_bits <= budget, "budget %.1f: %.6f average bits", budget, r.average_bits);
    CHECK(r.average_bits == qm_mixed_average_bits(&s, bits), "the report's average");
    CHECK(!can_widen(&s, bits, budget) || !r.kept_mixed, "budget %.1f: bits left unspent", budget);
    if (budget == 2.0 || budget == 4.0 || budget == 8.0)
      CHECK(db <= uniform_db[(int)budget] + 1e-9, "budget %.1f: %.2f dB, uniform %.2f dB", budget,
            db, uniform_db[(int)budget]);
    /** The targets: at 4.0, at least 6 dB below uniform 4-bit
        (asserted on the whole clip; measured 8.5 dB on a1_standard, 7.6
        dB on overdrive_standard); at 3.0, below uniform 4-bit (measured
        1.6 dB on a1_standard, 1.1 dB on overdrive_standard, which missed
        it by 0.8 dB with the clip's pieces at their own levels, README.md
        "Mixed precision"). The quarter clip of the
        sanitized build measures another table: there the allocation must
        still win over uniform 4-bit at 4.0 and 4.5. */
    if (budget == 4.0 || budget == 3.0) {
      const double aim = budget == 4.0 ? uniform_db[4] - 6.0 : uniform_db[4];
      printf("  issue target at %.1f: <= %.2f dB: %s (%.2f dB)\n", budget, aim,
             db <= aim ? "met" : "MISSED", db);
      if (calib_div == 1)
        CHECK(db <= aim, "budget %.1f: %.2f dB, the issue's target is %.2f dB", budget, db, aim);
    }
    if (budget == 4.0 || budget == 4.5)
      CHECK(db < uniform_db[4], "budget %.1f: %.2f dB, not below uniform 4-bit %.2f", budget, db,
            uniform_db[4]);
    if (budget == 4.0) {
      /* accumulation of the budget-4 widths */
      double *alone = malloc((size_t)s.n * sizeof *alone);
      double *prefix = malloc((size_t)s.n * sizeof *prefix);
      CHECK(qm_error_accumulation(d, &mixed, &s, calib, n_calib, alone, prefix, err, sizeof err),
            "%s", err);
      CHECK(fabs(10.0 * log10(prefix[s.n - 1]) - r.mixed_db) < 1e-6,
            "last prefix %.4f dB is not the variant's %.4f dB", 10.0 * log10(prefix[s.n - 1]),
            r.mixed_db);
      int worst = 0;
      for (int i = 0; i < s.n; ++i) {
        int w = width_index(bits[i]);
        CHECK(w >= 0 && alone[i] == s.esr[i * QM_MIXED_WIDTHS + w], "alone %d", i);
        if (alone[i] > alone[worst])
          worst = i;
      }
      printf("  budget 4.0: largest error alone %.2f dB (linear %d at %d bits)\n",
             10.0 * log10(alone[worst]), worst, bits[worst]);
      free(alone);
      free(prefix);
    }
  }
  free(bits);
  qm_sensitivity_free(&s);
  free(calib);
  free(ref_y);
  free(y);
  qm_desc_free(d);
}

int main(int argc, char **argv)
{
  allocator_exhaustive();
  if (argc < 3) {
    fprintf(stderr, "usage: test_models_mixed NAM_DIR MODELS_DIR\n");
    return 2;
  }
  char path[1024];
  snprintf(path, sizeof path, "%s/input.wav", argv[1]);
  size_t n = 0;
  float *x = ref_read_wav(path, &n);
  if (!x) {
    printf("skip: no %s\n", path);
    return failures ? 1 : 77;
  }
  snprintf(path, sizeof path, "%s/overdrive_standard.nam", argv[2]);
  model_targets(path, x, n, SANITIZED ? 4 : 1);
  if (!SANITIZED) {
    snprintf(path, sizeof path, "%s/wavenet_a1_standard.nam", argv[1]);
    model_targets(path, x, n, 1);
  }
  free(x);
  printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
