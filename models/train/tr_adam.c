/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
#include "tr_adam.h"

#include <math.h>
#include <stdlib.h>

int tr_adam_init(tr_adam *a, size_t n)
{
  a->n = n;
  a->m = calloc(n, sizeof *a->m);
  a->v = calloc(n, sizeof *a->v);
  a->beta1 = 0.9;
  a->beta2 = 0.999;
  a->eps = 1e-8;
  a->clip = 0.0;
  a->t = 0;
  return a->m && a->v;
}

void tr_adam_free(tr_adam *a)
{
  free(a->m);
  free(a->v);
  a->m = a->v = NULL;
}

double tr_adam_step(tr_adam *a, float *p, const float *g, double lr)
{
  double nrm = 0.0;
  for (size_t i = 0; i < a->n; ++i)
    nrm += (double)g[i] * g[i];
  nrm = sqrt(nrm);
  const double sc = (a->clip > 0.0 && nrm > a->clip) ? a->clip / nrm : 1.0;
  a->t++;
  const double c1 = 1.0 - pow(a->beta1, (double)a->t), c2 = 1.0 - pow(a->beta2, (double)a->t);
  for (size_t i = 0; i < a->n; ++i) {
    const double gi = g[i] * sc;
    const double m = a->beta1 * a->m[i] + (1.0 - a->beta1) * gi;
    const double v = a->beta2 * a->v[i] + (1.0 - a->beta2) * gi * gi;
    a->m[i] = (float)m;
    a->v[i] = (float)v;
    p[i] -= (float)(lr * (m / c1) / (sqrt(v / c2) + a->eps));
  }
  return nrm;
}
