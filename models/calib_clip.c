/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The plugin's calibration clip (see calib_clip.h), synthesized once per
  process for each (rate, seconds) and handed out as copies.
*/
#include "calib_clip.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static float *synthesize(double rate, double seconds, int *n_out)
{
  int n = (int)(rate * seconds);
  float *x = calloc((size_t)(n > 0 ? n : 1), sizeof(float));
  if (!x)
    return NULL;
  static const double notes[] = {82.41, 110.0, 146.83, 196.0, 246.94, 329.63, 164.81, 98.0};
  int step = n / 8;
  for (int k = 0; k < 8; ++k) {
    double f0 = notes[k];
    for (int i = k * step; i < n; ++i) {
      double t = (i - k * step) / rate, v = 0;
      /* harmonic h at f0 h sqrt(1 + 1e-4 h^2) (a stiff string), decaying
         faster the higher it is, below rate / 2.2 (no aliasing) */
      for (int h = 1; h <= 10 && f0 * h < rate / 2.2; ++h) {
        double fh = f0 * h * sqrt(1.0 + 1e-4 * h * h);
        v += sin(2 * M_PI * fh * t) * exp(-t * (3.0 + 1.5 * h)) / h;
      }
      x[i] += (float)(0.22 * v);
    }
  }
  *n_out = n;
  return x;
}

/** Clips already synthesized. Every plugin instance, and every variant it
    prepares or analyses, asks for the same one or two clips (1 s at each
    model rate); synthesizing one is about 2 million sin/exp pairs, 13% of
    a fresh instance's cost before this cache. A few entries: the rates a
    process plays are few, and the oldest entry gives way to a new one. */
#define KEPT_CLIPS 4
static struct {
  double rate, seconds;
  int n;
  float *x; /**< NULL: unused slot */
} kept[KEPT_CLIPS];
static int next_evicted;
/** Held only to look up or store a clip (a copy of at most a few hundred
    kB), never while synthesizing; callers are workers and tools, never an
    audio callback. */
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;

static float *copy_of(const float *x, int n)
{
  float *y = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
  if (y && n > 0)
    memcpy(y, x, (size_t)n * sizeof(float));
  return y;
}

/** A copy of the kept clip of (rate, seconds), or NULL (none kept, or out
    of memory). Caller holds kept_lock. */
static float *kept_copy(double rate, double seconds, int *n_out)
{
  for (int i = 0; i < KEPT_CLIPS; ++i)
    if (kept[i].x && kept[i].rate == rate && kept[i].seconds == seconds) {
      float *y = copy_of(kept[i].x, kept[i].n);
      if (y)
        *n_out = kept[i].n;
      return y;
    }
  return NULL;
}

float *qm_calib_clip(double rate, double seconds, int *n_out)
{
  pthread_mutex_lock(&kept_lock);
  float *y = kept_copy(rate, seconds, n_out);
  pthread_mutex_unlock(&kept_lock);
  if (y)
    return y;
  int n = 0;
  float *x = synthesize(rate, seconds, &n);
  if (!x)
    return NULL;
  y = copy_of(x, n);
  if (!y) { /* no memory for a copy to keep: hand out the one clip */
    *n_out = n;
    return x;
  }
  pthread_mutex_lock(&kept_lock);
  float *dup = kept_copy(rate, seconds, &n); /* another thread made it meanwhile */
  if (dup) {
    free(dup);
    free(x);
  } else {
    int slot = next_evicted;
    next_evicted = (next_evicted + 1) % KEPT_CLIPS;
    free(kept[slot].x);
    kept[slot].rate = rate;
    kept[slot].seconds = seconds;
    kept[slot].n = n;
    kept[slot].x = x;
  }
  pthread_mutex_unlock(&kept_lock);
  *n_out = n;
  return y;
}

/** The plugin's shared object can be unloaded (dlclose) while the process
    goes on: its kept clips go with it, or a leak checker counts them. */
__attribute__((destructor)) static void free_kept_clips(void)
{
  for (int i = 0; i < KEPT_CLIPS; ++i) {
    free(kept[i].x);
    kept[i].x = NULL;
  }
}
