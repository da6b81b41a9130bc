/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Saved prewarm state and the compact histories (issue 11, defects 4 and
  17), on the engine alone. Usage: test_state MODELS_DIR
  For the bundle's WaveNet (FP32, 8-bit int8 dynamic, 4-bit int8 static,
  8-bit weight-only) and an LSTM (FP32, 8-bit int8 dynamic):
  - qm_model_restore_prewarm() after playing (and after NaN input) gives
    the same output, bit for bit, as qm_model_reset()'s full prewarm;
  - qm_model_memory() agrees with what the heap grew by building the model
    (within 10%), and an 8-bit int8-dynamic WaveNet keeps no float
    lookback (its float histories are one batch per layer);
  - the state of an int8 variant copied into the float model (the plugin's
    catch-up of an idle reference) continues it closely: ESR of the float
    model's output against one that ran along below -40 dB.
*/
#include "engine.h"
#include "model_file.h"
#include "variant.h"

#include <malloc.h>
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

static void render(qm_model *m, const float *x, float *y, int n, int block)
{
  for (int i = 0; i < n; i += block)
    qm_model_process(m, x + i, y + i, n - i < block ? n - i : block);
}

static size_t heap(void)
{
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
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

static void check_model(const qm_desc *d, const char *label, const qm_setting *spec, const float *x,
                        int n)
{
  char err[512];
  const size_t h0 = heap();
  qm_model *m = spec ? qm_variant_create(d, spec, NULL, x, n, err, sizeof err)
                     : qm_model_create(d, NULL, err, sizeof err);
  const size_t grew = heap() - h0;
  CHECK(m != NULL, "%s: built (%s)", label, m ? "" : err);
  if (!m)
    return;
  qm_memory mem;
  qm_model_memory(m, &mem);
#if defined(__SANITIZE_ADDRESS__)
  /* ASan's allocator keeps mallinfo2 at zero */
  printf("        %s: qm_model_memory %zu bytes (heap growth not measurable under ASan)\n", label,
         mem.total);
  (void)grew;
#else
  CHECK(fabs((double)mem.total - (double)grew) <= 0.1 * (double)grew,
        "%s: qm_model_memory %zu bytes, heap grew %zu", label, mem.total, grew);
#endif

  float *a = malloc(sizeof(float) * (size_t)n), *b = malloc(sizeof(float) * (size_t)n);
  float *xn = malloc(sizeof(float) * (size_t)n);
  qm_model_reset(m);
  render(m, x, a, n, 100);
  /* play something else, poison the state with NaN, then restore */
  memcpy(xn, x, sizeof(float) * (size_t)n);
  xn[n / 3] = NAN;
  render(m, xn + 7, b, n / 2, 64);
  qm_model_restore_prewarm(m);
  render(m, x, b, n, 100);
  CHECK(!memcmp(a, b, sizeof(float) * (size_t)n),
        "%s: after NaN input, restore_prewarm = the full prewarm, bit for bit", label);
  free(a);
  free(b);
  free(xn);
  qm_model_free(m);
}

/** Copy an int8 variant's state into the float model, as the plugin does
    for an idle reference, and compare with a float model that ran along. */
static void check_catch_up(const qm_desc *d, const float *x, int n)
{
  char err[512];
  qm_setting s;
  qm_setting_default(&s);
  s.bits = 8;
  s.activations = QM_ACTQ_DYNAMIC;
  qm_model *q = qm_variant_create(d, &s, NULL, NULL, 0, err, sizeof err);
  qm_model *f = qm_model_create(d, NULL, err, sizeof err);
  qm_model *g = qm_model_create(d, NULL, err, sizeof err);
  if (!q || !f || !g) {
    CHECK(false, "catch-up: build (%s)", err);
    return;
  }
  /* against the float model's full histories: the int8 history itself
     may be narrow (a fused form's columns of C codes), so it is no scale */
  qm_memory mem, full;
  qm_model_memory(q, &mem);
  qm_model_memory(f, &full);
  CHECK(mem.history_float <= full.history_float / 4,
        "8-bit int8 dynamic: float histories %zu bytes (one batch per layer), the float "
        "model's %zu, int8 %zu",
        mem.history_float, full.history_float, mem.history_int8);
  const int half = n / 2;
  float *y = malloc(sizeof(float) * (size_t)n), *yf = malloc(sizeof(float) * (size_t)n);
  render(q, x, y, half, 64);
  render(f, x, yf, half, 64);
  CHECK(qm_model_copy_state(g, q), "copy_state int8 variant -> float model");
  render(f, x + half, yf + half, n - half, 64);
  render(g, x + half, y + half, n - half, 64);
  const double e = esr_db(y + half, yf + half, n - half);
  CHECK(e < -40,
        "float model seeded from the int8 variant vs one that ran along: ESR %.1f dB "
        "(< -40)",
        e);
  free(y);
  free(yf);
  qm_model_free(q);
  qm_model_free(f);
  qm_model_free(g);
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODELS_DIR\n", argv[0]);
    return 2;
  }
  const int n = 24000;
  float *x = malloc(sizeof(float) * (size_t)n);
  for (int i = 0; i < n; ++i)
    x[i] = (float)(0.4 * sin(2 * M_PI * 110.0 * i / 48000.0) * exp(-2.0 * i / 48000.0) +
                   0.1 * sin(2 * M_PI * 331.0 * i / 48000.0));
  static const char *files[] = {"overdrive_standard.nam", "diode_lstm.nam"};
  for (int k = 0; k < 2; ++k) {
    char path[2048], err[512];
    snprintf(path, sizeof path, "%s/%s", argv[1], files[k]);
    qm_desc *d = qm_load_file(path, err, sizeof err);
    if (!d) {
      CHECK(false, "%s", err);
      continue;
    }
    printf("%s\n", path);
    qm_setting s8d, s4s, s8f;
    qm_setting_default(&s8d);
    s8d.bits = 8;
    s8d.activations = QM_ACTQ_DYNAMIC;
    s4s = s8d;
    s4s.bits = 4;
    s4s.activations = QM_ACTQ_STATIC;
    s8f = s8d;
    s8f.activations = QM_ACTQ_FLOAT;
    check_model(d, "FP32", NULL, x, n);
    check_model(d, "8-bit int8 dynamic", &s8d, x, n);
    if (k == 0) {
      check_model(d, "4-bit int8 static", &s4s, x, n);
      check_model(d, "8-bit weight-only", &s8f, x, n);
      check_catch_up(d, x, n);
    }
    qm_desc_free(d);
  }
  free(x);
  printf("%s (%d failure%s)\n", failures ? "FAILED" : "all passed", failures,
         failures == 1 ? "" : "s");
  return failures ? 1 : 0;
}
