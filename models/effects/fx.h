/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Quantone reference effects: nonlinear circuits with memory, simulated
  from their physics, that the trainer uses as built-in capture targets.

  Each effect is a small state struct plus process(); all run at 48 kHz
  (FX_RATE) and are deterministic, so a dataset is reproducible from the
  synthesizer's seed alone. Values and equations are documented in each
  implementation file.
*/
#ifndef QUANTONE_FX_H
#define QUANTONE_FX_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FX_RATE 48000.0

/* ---- Diode clipper (fx_diode.c) ---------------------------------------- */

typedef struct {
  double R, C;     /**< series resistor (ohm), shunt capacitor (farad) */
  double Is, nVt;  /**< diode saturation current (A), emission coeff * thermal voltage (V) */
  double drive;    /**< volts per unit of digital input */
  double out_gain; /**< digital output per volt across the capacitor */
  double v;        /**< state: capacitor voltage */
  double u_prev;   /**< previous input voltage (trapezoidal rule) */
  double tol;      /**< Newton tolerance on the voltage (V) */
  int max_iter;    /**< Newton iterations before falling back to bisection */
  /* statistics for tests */
  long newton_iters, bisections, steps;
  double max_residual; /**< largest |g(V)| accepted, in volts */
} fx_diode;

void fx_diode_init(fx_diode *d, double drive);
/** One sample: trapezoidal step solved by safeguarded Newton. */
float fx_diode_tick(fx_diode *d, float x);
void fx_diode_process(fx_diode *d, const float *x, float *y, size_t n);
/** The implicit-step residual g(V) for the last step (tests). */
double fx_diode_residual(const fx_diode *d, double v_prev, double u_prev, double u, double v);

/* ---- Overdrive (fx_overdrive.c) ---------------------------------------- */

typedef struct {
  double a[4], b[4]; /**< direct-form coefficients, a[0] = 1 */
  double s[3];       /**< transposed direct form II state */
} fx_iir3;

typedef struct {
  double in_volts;      /**< volts per unit of digital input */
  double r_drive, r_in; /**< feedback (drive) and ground-leg resistors */
  double Is, nVt;       /**< clipping diodes */
  double out_gain;
  fx_iir3 hp;      /**< ground leg R_in + C_in: high-pass current */
  fx_iir3 tone_lp; /**< post-clip RC low-pass */
  fx_iir3 stack;   /**< Fender '59 Bassman tone stack, 3rd order */
  double vd_prev;  /**< Newton warm start */
} fx_overdrive;

/** drive in [0, 1]; treble, mid, bass pot positions in [0, 1]. */
void fx_overdrive_init(fx_overdrive *o, double drive, double treble, double mid, double bass);
float fx_overdrive_tick(fx_overdrive *o, float x);
void fx_overdrive_process(fx_overdrive *o, const float *x, float *y, size_t n);

/** Bilinear transform of H(s) = sum b_k s^k / sum a_k s^k (order <= 3, c = 2 fs). */
void fx_iir3_bilinear(fx_iir3 *f, const double bs[4], const double as[4], int order, double fs);
double fx_iir3_tick(fx_iir3 *f, double x);

/* ---- By name ------------------------------------------------------------ */

/** "diode" or "overdrive": render x through a freshly initialised effect. 0 if unknown. */
int fx_render(const char *name, const float *x, float *y, size_t n);

#ifdef __cplusplus
}
#endif

#endif
