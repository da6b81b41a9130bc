/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Smoothed gains: input level, output level and the bypass (enabled) mix.
  Controls move in steps (a host writes a new value per block); applying a
  step at once clicks, so every gain glides to its target with a one-pole
  filter, per sample, which also makes the result independent of how the
  host cuts the audio into blocks.
*/
#include "qt_plugin.h"

#include <math.h>
#include <string.h>

void qt_gain_init(qt_gain *g, double rate, double tau_s)
{
  g->g = g->target = 1.0f;
  g->coef = (float)(1.0 - exp(-1.0 / (tau_s * rate)));
  g->init = false;
}

void qt_gain_set_lin(qt_gain *g, float lin)
{
  g->target = lin;
  /** The first value a control takes is where the gain starts, so a render
      does not begin with a ramp from unity. */
  if (!g->init) {
    g->g = lin;
    g->init = true;
  }
}

void qt_gain_set_db(qt_gain *g, float db)
{
  if (!(db > -200.0f))
    db = -200.0f;
  qt_gain_set_lin(g, powf(10.0f, db / 20.0f));
}

/** One sample of the glide; snaps when within 1e-6 relative so a settled
    gain is exactly its target (unity then copies bit-exactly). */
static inline float glide(qt_gain *g)
{
  float d = g->target - g->g;
  if (fabsf(d) <= 1e-6f * fabsf(g->target) + 1e-12f)
    g->g = g->target;
  else
    g->g += g->coef * d;
  return g->g;
}

void qt_gain_apply(qt_gain *g, const float *in, float *out, int n)
{
  if (g->g == g->target) {
    if (g->g == 1.0f) {
      if (out != in)
        memmove(out, in, (size_t)n * sizeof(float));
    } else {
      for (int i = 0; i < n; ++i)
        out[i] = g->g * in[i];
    }
    return;
  }
  for (int i = 0; i < n; ++i)
    out[i] = glide(g) * in[i];
}

void qt_gain_mix(qt_gain *g, const float *dry, const float *wet, float *out, int n)
{
  if (g->g == g->target && (g->g == 1.0f || g->g == 0.0f)) {
    const float *src = g->g == 1.0f ? wet : dry;
    if (out != src)
      memmove(out, src, (size_t)n * sizeof(float));
    return;
  }
  for (int i = 0; i < n; ++i) {
    float k = glide(g);
    out[i] = dry[i] + k * (wet[i] - dry[i]);
  }
}
