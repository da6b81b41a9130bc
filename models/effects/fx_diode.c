/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Diode clipper: the classic RC low-pass into a pair of antiparallel diodes.

      u(t) --[ R ]--+-- v(t)
                    |      |
                   [C]  D1 >|< D2   (antiparallel, to ground)
                    |      |
                   GND    GND

  Kirchhoff's current law at the output node, with the Shockley diode law
  i_D = Is (exp(v/nVt) - 1) for each diode (the pair sums to 2 Is sinh):

      C dv/dt = (u - v)/R - 2 Is sinh(v / nVt)                       (1)

  Values: R = 2.2 kohm, C = 10 nF (fc = 1/(2 pi R C) = 7.23 kHz), 1N4148
  diodes Is = 2.52 nA, n = 1.752, Vt = 25.85 mV. The diode term makes (1)
  stiff: its conductance 2 Is cosh(v/nVt)/nVt grows by e^40 over a volt, so
  an explicit step (forward Euler at 48 kHz) blows up on loud input. We use
  the trapezoidal rule, A-stable and second order, and solve the implicit
  equation per sample:

      g(v) = v - v_prev - T/2 [ f(v, u) + f(v_prev, u_prev) ] = 0      (2)
      f(v, u) = (u - v)/(R C) - (2 Is / C) sinh(v / nVt)
      g'(v) = 1 + T/2 [ 1/(R C) + 2 Is cosh(v/nVt) / (C nVt) ]  >= 1

  Since g' >= 1, g is strictly increasing: (2) has exactly one root, and a
  bracket [lo, hi] with g(lo) < 0 < g(hi) always exists. Newton from the
  previous voltage converges in 2-4 iterations on ordinary input; a Newton
  step that leaves the bracket is replaced by bisection, so the solver
  converges for any input (that is the property the tests check).
*/
#include "fx.h"

#include <math.h>

static double f_rhs(const fx_diode *d, double v, double u)
{
  return (u - v) / (d->R * d->C) - (2.0 * d->Is / d->C) * sinh(v / d->nVt);
}

double fx_diode_residual(const fx_diode *d, double v_prev, double u_prev, double u, double v)
{
  const double T = 1.0 / FX_RATE;
  return v - v_prev - 0.5 * T * (f_rhs(d, v, u) + f_rhs(d, v_prev, u_prev));
}

void fx_diode_init(fx_diode *d, double drive)
{
  d->R = 2.2e3;
  d->C = 10e-9;
  d->Is = 2.52e-9;
  d->nVt = 1.752 * 25.85e-3;
  d->drive = drive;
  /** The diodes hold |v| below ~0.75 V: scale that back to about 0.9 FS. */
  d->out_gain = 1.2;
  d->v = 0.0;
  d->u_prev = 0.0;
  d->tol = 1e-10;
  d->max_iter = 200;
  d->newton_iters = d->bisections = d->steps = 0;
  d->max_residual = 0.0;
}

float fx_diode_tick(fx_diode *d, float x)
{
  const double T = 1.0 / FX_RATE;
  const double u = d->drive * (double)x;
  const double v_prev = d->v;
  const double f_prev = f_rhs(d, v_prev, d->u_prev);
  double v = v_prev;
  double lo = -INFINITY, hi = INFINITY, dx_old = INFINITY;
  int it = 0;
  for (; it < d->max_iter; ++it) {
    const double g = v - v_prev - 0.5 * T * (f_rhs(d, v, u) + f_prev);
    if (g > 0.0)
      hi = v;
    else if (g < 0.0)
      lo = v;
    else
      break;
    const double dg =
        1.0 + 0.5 * T * (1.0 / (d->R * d->C) + 2.0 * d->Is * cosh(v / d->nVt) / (d->C * d->nVt));
    double vn = v - g / dg;
    /** Safeguard (as in "rtsafe"): bisect when the Newton step leaves the bracket or
        does not at least halve the previous step. Far above the knee the exponential
        makes Newton crawl down by ~nVt per iteration; bisection takes over there. */
    if (!(vn > lo && vn < hi) || (isfinite(dx_old) && fabs(vn - v) > 0.5 * fabs(dx_old))) {
      if (isfinite(lo) && isfinite(hi))
        vn = 0.5 * (lo + hi);
      else if (isfinite(lo))
        vn = lo + 1.0 + fabs(lo);
      else
        vn = hi - 1.0 - fabs(hi);
      d->bisections++;
    }
    dx_old = vn - v;
    const double dv = fabs(dx_old);
    v = vn;
    if (dv < d->tol)
      break;
  }
  d->newton_iters += it + 1;
  d->steps++;
  const double r = fabs(fx_diode_residual(d, v_prev, d->u_prev, u, v));
  if (r > d->max_residual)
    d->max_residual = r;
  d->v = v;
  d->u_prev = u;
  return (float)(d->out_gain * v);
}

void fx_diode_process(fx_diode *d, const float *x, float *y, size_t n)
{
  for (size_t i = 0; i < n; ++i)
    y[i] = fx_diode_tick(d, x[i]);
}
