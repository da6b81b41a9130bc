/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Overdrive: a Tube-Screamer-style clipping amplifier followed by a tone
  low-pass and a passive Fender '59 Bassman tone stack. All values in SI.

  1. Clipping amplifier (non-inverting op-amp, diodes in the feedback loop).
     The inverting input follows vin, so the ground leg R_in + C_in draws
         I(s) = vin(s) * s C_in / (1 + s R_in C_in)                     (1)
     (R_in = 4.7 kohm, C_in = 47 nF: a high-pass at 720 Hz. This is the
     pre-emphasis: only the mids and highs are amplified into the diodes,
     which keeps the bass tight.) The same current flows through the
     feedback network, R_drive in parallel with two antiparallel 1N4148s:
         i = Vd / R_drive + 2 Is sinh(Vd / nVt)                         (2)
     and the output is vout = vin + Vd. (2) is strictly increasing in Vd,
     so Newton from the previous sample's Vd converges (bisection guard as
     in fx_diode.c). R_drive = 51 kohm + drive * 500 kohm.
  2. Tone low-pass: RC, R = 1 kohm, C = 47 nF (3.39 kHz), tames the
     clipping harmonics:  H(s) = 1 / (1 + s R C).
  3. Tone stack (D. T. Yeh and J. O. Smith, "Discretization of the '59
     Fender Bassman tone stack", DAFx 2006): C1 = 250 pF, C2 = C3 = 20 nF,
     R1 = 250 k (treble pot, t), R2 = 1 M (bass pot, l), R3 = 25 k (mid
     pot, m), R4 = 56 k. H(s) = (b1 s + b2 s^2 + b3 s^3) /
     (1 + a1 s + a2 s^2 + a3 s^3) with the coefficients in stack_coeffs()
     below, derived by nodal analysis in that paper.
  Every linear stage is discretized by the bilinear transform
  s = 2 fs (1 - z^-1) / (1 + z^-1) (fx_iir3_bilinear) and run in
  transposed direct form II, in double precision.
*/
#include "fx.h"

#include <math.h>
#include <string.h>

void fx_iir3_bilinear(fx_iir3 *f, const double bs[4], const double as[4], int order, double fs)
{
  /** Multiply through by (1 + z^-1)^N: s^k -> c^k (1 - z^-1)^k (1 + z^-1)^(N-k). */
  const double c = 2.0 * fs;
  double B[4] = {0}, A[4] = {0};
  for (int k = 0; k <= order; ++k) {
    double poly[4] = {1, 0, 0, 0};
    int deg = 0;
    for (int j = 0; j < order; ++j) {
      const double sgn = j < k ? -1.0 : 1.0; /* factor (1 + sgn z^-1) */
      for (int i = deg + 1; i >= 1; --i)
        poly[i] += sgn * poly[i - 1];
      deg++;
    }
    const double ck = pow(c, k);
    for (int i = 0; i <= order; ++i) {
      B[i] += bs[k] * ck * poly[i];
      A[i] += as[k] * ck * poly[i];
    }
  }
  memset(f, 0, sizeof *f);
  for (int i = 0; i <= order; ++i) {
    f->b[i] = B[i] / A[0];
    f->a[i] = A[i] / A[0];
  }
}

double fx_iir3_tick(fx_iir3 *f, double x)
{
  const double y = f->b[0] * x + f->s[0];
  f->s[0] = f->b[1] * x - f->a[1] * y + f->s[1];
  f->s[1] = f->b[2] * x - f->a[2] * y + f->s[2];
  f->s[2] = f->b[3] * x - f->a[3] * y;
  return y;
}

static void stack_coeffs(double t, double m, double l, double b[4], double a[4])
{
  const double C1 = 250e-12, C2 = 20e-9, C3 = 20e-9;
  const double R1 = 250e3, R2 = 1e6, R3 = 25e3, R4 = 56e3;
  b[0] = 0.0;
  b[1] = t * C1 * R1 + m * C3 * R3 + l * (C1 * R2 + C2 * R2) + (C1 * R3 + C2 * R3);
  b[2] = t * (C1 * C2 * R1 * R4 + C1 * C3 * R1 * R4) -
         m * m * (C1 * C3 * R3 * R3 + C2 * C3 * R3 * R3) +
         m * (C1 * C3 * R1 * R3 + C1 * C3 * R3 * R3 + C2 * C3 * R3 * R3) +
         l * (C1 * C2 * R1 * R2 + C1 * C2 * R2 * R4 + C1 * C3 * R2 * R4) +
         l * m * (C1 * C3 * R2 * R3 + C2 * C3 * R2 * R3) +
         (C1 * C2 * R1 * R3 + C1 * C2 * R3 * R4 + C1 * C3 * R3 * R4);
  const double C123 = C1 * C2 * C3;
  b[3] = l * m * (C123 * R1 * R2 * R3 + C123 * R2 * R3 * R4) -
         m * m * (C123 * R1 * R3 * R3 + C123 * R3 * R3 * R4) +
         m * (C123 * R1 * R3 * R3 + C123 * R3 * R3 * R4) + t * C123 * R1 * R3 * R4 -
         t * m * C123 * R1 * R3 * R4 + t * l * C123 * R1 * R2 * R4;
  a[0] = 1.0;
  a[1] = (C1 * R1 + C1 * R3 + C2 * R3 + C2 * R4 + C3 * R4) + m * C3 * R3 + l * (C1 * R2 + C2 * R2);
  a[2] = m * (C1 * C3 * R1 * R3 - C2 * C3 * R3 * R4 + C1 * C3 * R3 * R3 + C2 * C3 * R3 * R3) +
         l * m * (C1 * C3 * R2 * R3 + C2 * C3 * R2 * R3) -
         m * m * (C1 * C3 * R3 * R3 + C2 * C3 * R3 * R3) +
         l * (C1 * C2 * R2 * R4 + C1 * C2 * R1 * R2 + C1 * C3 * R2 * R4 + C2 * C3 * R2 * R4) +
         (C1 * C2 * R1 * R4 + C1 * C3 * R1 * R4 + C1 * C2 * R3 * R4 + C1 * C2 * R1 * R3 +
          C1 * C3 * R3 * R4 + C2 * C3 * R3 * R4);
  a[3] = l * m * (C123 * R1 * R2 * R3 + C123 * R2 * R3 * R4) -
         m * m * (C123 * R1 * R3 * R3 + C123 * R3 * R3 * R4) +
         m * (C123 * R3 * R3 * R4 + C123 * R1 * R3 * R3 - C123 * R1 * R3 * R4) +
         l * C123 * R1 * R2 * R4 + C123 * R1 * R3 * R4;
}

void fx_overdrive_init(fx_overdrive *o, double drive, double treble, double mid, double bass)
{
  memset(o, 0, sizeof *o);
  o->in_volts = 0.5; /**< a hot single-coil peaks around half a volt */
  o->r_in = 4.7e3;
  o->r_drive = 51e3 + drive * 500e3;
  o->Is = 2.52e-9;
  o->nVt = 1.752 * 25.85e-3;
  o->out_gain = 2.0;
  const double Cin = 47e-9;
  /* (1): I/vin = s Cin / (1 + s Rin Cin) */
  double bs[4] = {0, Cin, 0, 0}, as[4] = {1, o->r_in * Cin, 0, 0};
  fx_iir3_bilinear(&o->hp, bs, as, 1, FX_RATE);
  double bl[4] = {1, 0, 0, 0}, al[4] = {1, 1e3 * 47e-9, 0, 0};
  fx_iir3_bilinear(&o->tone_lp, bl, al, 1, FX_RATE);
  double b3[4], a3[4];
  stack_coeffs(treble, mid, bass, b3, a3);
  fx_iir3_bilinear(&o->stack, b3, a3, 3, FX_RATE);
}

/** Solve (2) for Vd given the current i: monotone, Newton with a bracket. */
static double solve_vd(fx_overdrive *o, double i)
{
  double v = o->vd_prev, lo = -INFINITY, hi = INFINITY, dx_old = INFINITY;
  for (int it = 0; it < 200; ++it) {
    const double e = v / o->r_drive + 2.0 * o->Is * sinh(v / o->nVt) - i;
    if (e > 0.0)
      hi = v;
    else if (e < 0.0)
      lo = v;
    else
      break;
    const double de = 1.0 / o->r_drive + 2.0 * o->Is * cosh(v / o->nVt) / o->nVt;
    double vn = v - e / de;
    /** Bisect when Newton leaves the bracket or stops halving its step: above the
        knee an overshoot would otherwise crawl back by ~nVt per iteration. */
    if (!(vn > lo && vn < hi) || (isfinite(dx_old) && fabs(vn - v) > 0.5 * fabs(dx_old))) {
      if (isfinite(lo) && isfinite(hi))
        vn = 0.5 * (lo + hi);
      else if (isfinite(lo))
        vn = lo + 0.5 + fabs(lo);
      else
        vn = hi - 0.5 - fabs(hi);
    }
    dx_old = vn - v;
    const double dv = fabs(dx_old);
    v = vn;
    if (dv < 1e-12)
      break;
  }
  o->vd_prev = v;
  return v;
}

float fx_overdrive_tick(fx_overdrive *o, float x)
{
  const double vin = o->in_volts * (double)x;
  const double i = fx_iir3_tick(&o->hp, vin);
  const double vout = vin + solve_vd(o, i);
  const double lp = fx_iir3_tick(&o->tone_lp, vout);
  return (float)(o->out_gain * fx_iir3_tick(&o->stack, lp));
}

void fx_overdrive_process(fx_overdrive *o, const float *x, float *y, size_t n)
{
  for (size_t k = 0; k < n; ++k)
    y[k] = fx_overdrive_tick(o, x[k]);
}

int fx_render(const char *name, const float *x, float *y, size_t n)
{
  if (strcmp(name, "diode") == 0) {
    fx_diode d;
    fx_diode_init(&d, 4.0);
    fx_diode_process(&d, x, y, n);
    return 1;
  }
  if (strcmp(name, "overdrive") == 0) {
    fx_overdrive o;
    fx_overdrive_init(&o, 0.5, 0.6, 0.5, 0.5);
    fx_overdrive_process(&o, x, y, n);
    return 1;
  }
  return 0;
}
