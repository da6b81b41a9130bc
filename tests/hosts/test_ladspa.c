/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The LADSPA entry point of quantone.so in-process (dlopen, as any LADSPA
  host does), for what applyplugin and sox cannot show:
  1. controls set before activate() are in effect from the first sample
     (activate() prepares the variant synchronously);
  2. a control change after activate() is prepared by the instance's
     background worker thread while run() keeps being called, and arrives
     (weight_bytes changes) within a few seconds, with finite, non-silent
     output throughout and run() never waiting for it;
  3. in-place processing (input buffer == output buffer) and cleanup with
     a job possibly still queued.
  usage: test_ladspa PATH/quantone.so
*/
#include <ladspa.h>

#include <dlfcn.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
  IN,
  OUT,
  PREC,
  MAP,
  ASYM,
  GRAN,
  ACT,
  MON,
  EGAIN,
  INL,
  OUTL,
  ESR,
  CLIP,
  DSP,
  WB,
  LAT,
  SLIM,
  INDBU,
  CALIB,
  OMODE,
  BUDGET,
  HALF,
  ROUND,
  N
};

static int failures;
#define CHECK(c, ...)                                                                              \
  do {                                                                                             \
    if (!(c)) {                                                                                    \
      printf("FAIL: " __VA_ARGS__);                                                                \
      printf("\n");                                                                                \
      ++failures;                                                                                  \
    }                                                                                              \
  } while (0)

typedef struct {
  const LADSPA_Descriptor *d;
  LADSPA_Handle h;
  float ctl[N];
  float in[256], out[256];
  double phase;
} inst;

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void setup(inst *q, const LADSPA_Descriptor *d, float precision, int in_place)
{
  memset(q, 0, sizeof *q);
  q->d = d;
  q->h = d->instantiate(d, 48000);
  if (!q->h) {
    printf("FAIL: instantiate returned NULL\n");
    exit(1);
  }
  static const float defaults[N] = {0,
                                    0,
                                    8,
                                    0,
                                    0,
                                    1,
                                    1,
                                    0,
                                    20,
                                    0,
                                    0,
                                    [SLIM] = 1,
                                    [INDBU] = 12,
                                    [CALIB] = 0,
                                    [OMODE] = 1,
                                    [BUDGET] = 0,
                                    [HALF] = 0,
                                    [ROUND] = 0};
  memcpy(q->ctl, defaults, sizeof defaults);
  q->ctl[PREC] = precision;
  d->connect_port(q->h, IN, q->in);
  d->connect_port(q->h, OUT, in_place ? q->in : q->out);
  for (int p = PREC; p < N; ++p)
    d->connect_port(q->h, (unsigned long)p, &q->ctl[p]);
}

/** One 256-frame block of a decaying 110 Hz pluck-ish tone; returns RMS. */
static double block(inst *q, int in_place)
{
  for (int i = 0; i < 256; ++i) {
    q->phase += 2 * M_PI * 110.0 / 48000.0;
    q->in[i] = (float)(0.3 * sin(q->phase) + 0.1 * sin(3 * q->phase));
  }
  q->d->run(q->h, 256);
  const float *y = in_place ? q->in : q->out;
  double e = 0;
  for (int i = 0; i < 256; ++i) {
    if (!isfinite(y[i]))
      return -1;
    e += (double)y[i] * y[i];
  }
  return sqrt(e / 256);
}

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: test_ladspa PATH/quantone.so\n");
    return 2;
  }
  void *so = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!so) {
    printf("FAIL: dlopen %s: %s\n", argv[1], dlerror());
    return 1;
  }
  LADSPA_Descriptor_Function fn = (LADSPA_Descriptor_Function)dlsym(so, "ladspa_descriptor");
  CHECK(fn != NULL, "no ladspa_descriptor symbol");
  if (!fn)
    return 1;
  const LADSPA_Descriptor *d = fn(0);
  CHECK(d && fn(1) == NULL, "one plugin expected");
  CHECK(d->PortCount == N, "port count %lu", d->PortCount);
  CHECK(!strcmp(d->PortNames[LAT], "latency"), "latency port name");

  /* weight memory per precision, each prepared at activate() */
  float wb[33] = {0};
  static const int precs[] = {32, 8, 4, 2};
  for (int k = 0; k < 4; ++k) {
    inst q;
    setup(&q, d, (float)precs[k], 0);
    d->activate(q.h);
    double r = block(&q, 0);
    wb[precs[k]] = q.ctl[WB];
    printf("  activated at %2d bits: weight_bytes %.0f, first block rms %.4f\n", precs[k],
           q.ctl[WB], r);
    CHECK(r > 1e-3, "%d bits: silent or non-finite first block (%g)", precs[k], r);
    d->cleanup(q.h);
  }
  CHECK(wb[32] > wb[8] && wb[8] > wb[4] && wb[4] > wb[2],
        "weight_bytes should shrink with the bit width (already at the first block)");

  /* live switch through the worker thread, in place */
  inst q;
  setup(&q, d, 32, 1);
  d->activate(q.h);
  for (int i = 0; i < 20; ++i)
    block(&q, 1);
  CHECK(q.ctl[WB] == wb[32], "FP32 before the switch");
  q.ctl[PREC] = 4;
  double t0 = now_s(), worst_run = 0;
  int blocks = 0;
  bool arrived = false;
  while (now_s() - t0 < 20.0) {
    double a = now_s();
    double r = block(&q, 1);
    worst_run = fmax(worst_run, now_s() - a);
    ++blocks;
    CHECK(r >= 0, "non-finite output during the switch");
    if (r < 0)
      break;
    if (q.ctl[WB] == wb[4]) {
      arrived = true;
      break;
    }
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL); /* about real time: let the worker thread run */
  }
  printf("  live switch FP32 -> 4 bits: %s after %d blocks (%.3f s); longest run() %.2f ms\n",
         arrived ? "arrived" : "NOT arrived", blocks, now_s() - t0, 1e3 * worst_run);
  CHECK(arrived, "the 4-bit variant never arrived from the worker thread");
  for (int i = 0; i < 20; ++i)
    CHECK(block(&q, 1) > 1e-3, "silent after the switch");
  /** Rounding to Optimized: seconds of work, on the thread, never in
      run(). LADSPA has no message port, so the control outputs tell
      when the optimized variant plays: the weight memory grows where
      bias correction adds a bias to a linear that had none (A1), and
      the ESR meter falls where every linear has one already (the A2
      default: gptq+bc is -15 -> -23 dB on input.wav). */
  for (int i = 0; i < 200; ++i)
    block(&q, 1);
  const float esr_nearest = q.ctl[ESR];
  q.ctl[ROUND] = 1;
  t0 = now_s();
  worst_run = 0;
  blocks = 0;
  arrived = false;
  while (now_s() - t0 < 120.0) {
    double a = now_s();
    double r = block(&q, 1);
    worst_run = fmax(worst_run, now_s() - a);
    ++blocks;
    CHECK(r >= 0, "non-finite output while optimizing");
    if (r < 0)
      break;
    if (q.ctl[WB] != wb[4] || q.ctl[ESR] < esr_nearest - 3.0f) {
      arrived = true;
      break;
    }
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  printf("  live switch to Optimized rounding: %s after %d blocks (%.3f s); longest run() "
         "%.2f ms; weight_bytes %.0f -> %.0f, ESR meter %.1f -> %.1f dB\n",
         arrived ? "arrived" : "NOT arrived", blocks, now_s() - t0, 1e3 * worst_run, wb[4],
         q.ctl[WB], esr_nearest, q.ctl[ESR]);
  CHECK(arrived, "the optimized variant never arrived from the worker thread");
  /* a change right before cleanup: the job may still be queued or running */
  q.ctl[PREC] = 2;
  block(&q, 1);
  d->cleanup(q.h);
  dlclose(so);
  if (failures)
    return 1;
  printf("PASS: LADSPA in-process\n");
  return 0;
}
