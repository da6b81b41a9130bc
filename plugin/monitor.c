/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  What the player hears: the quantized path, the float reference, or their
  difference raised by error_gain so that small errors become audible.
  The three are weighted sums with weights that ramp over QT_FADE_S, so
  flipping the monitor while playing does not click. When the weights are
  settled on "quantized" or "reference" the signal is copied, not
  multiplied, which keeps the FP32 path bit-exact with the engine.
*/
#include "qt_plugin.h"

#include <math.h>
#include <string.h>

void qt_monitor_init(qt_monitor_mix *m, double rate)
{
  memset(m, 0, sizeof *m);
  m->w[0] = m->target[0] = 1.0f;
  m->step = (float)(1.0 / (QT_FADE_S * rate));
  m->eg = m->eg_target = 1.0f;
  m->eg_coef = (float)(1.0 - exp(-1.0 / (0.01 * rate)));
}

void qt_monitor_set(qt_monitor_mix *m, int mode, float error_gain_db)
{
  if (mode < 0 || mode > 2)
    mode = 0;
  for (int i = 0; i < 3; ++i)
    m->target[i] = i == mode ? 1.0f : 0.0f;
  /** The declared range: plugin.c clamps already, this keeps the monitor
      safe whoever calls it. */
  error_gain_db = qt_port_clamp(QT_PORT_ERROR_GAIN, error_gain_db);
  m->eg_target = powf(10.0f, error_gain_db / 20.0f);
}

bool qt_monitor_needs_ref(const qt_monitor_mix *m)
{
  return m->w[1] != 0.0f || m->w[2] != 0.0f || m->target[1] != 0.0f || m->target[2] != 0.0f;
}

static bool settled(const qt_monitor_mix *m)
{
  return m->w[0] == m->target[0] && m->w[1] == m->target[1] && m->w[2] == m->target[2];
}

void qt_monitor_run(qt_monitor_mix *m, const float *q, const float *r, float *y, int n,
                    bool advance)
{
  if (settled(m) && m->w[2] == 0.0f) {
    const float *src = m->w[0] == 1.0f ? q : r;
    memmove(y, src, (size_t)n * sizeof(float));
    return;
  }
  float w0 = m->w[0], w1 = m->w[1], w2 = m->w[2], eg = m->eg;
  for (int i = 0; i < n; ++i) {
    if (advance) {
      float *w[3] = {&w0, &w1, &w2};
      for (int k = 0; k < 3; ++k) {
        float d = m->target[k] - *w[k];
        *w[k] = fabsf(d) <= m->step ? m->target[k] : *w[k] + (d > 0 ? m->step : -m->step);
      }
      float d = m->eg_target - eg;
      eg = fabsf(d) <= 1e-6f * m->eg_target ? m->eg_target : eg + m->eg_coef * d;
    }
    float e = q[i] - r[i];
    y[i] = w0 * q[i] + w1 * r[i] + w2 * eg * e;
  }
  if (advance) {
    m->w[0] = w0;
    m->w[1] = w1;
    m->w[2] = w2;
    m->eg = eg;
  }
}
