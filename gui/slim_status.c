/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
#include "slim_status.h"

#include <stdio.h>

int qg_slim_step_at(const qg_gui_data *d, double s)
{
  if (d->n_slim < 1)
    return -1;
  for (int i = 0; i + 1 < d->n_slim; ++i)
    if (s < d->slim[i].hi)
      return i;
  return d->n_slim - 1;
}

/** 950, 2.1k, 1.25M: weights read at a glance. */
static void short_count(int64_t n, char *out, size_t cap)
{
  if (n < 1000)
    snprintf(out, cap, "%lld", (long long)n);
  else if (n < 1000000)
    snprintf(out, cap, "%.1fk", (double)n / 1e3);
  else
    snprintf(out, cap, "%.2fM", (double)n / 1e6);
}

void qg_slim_describe(const qg_gui_data *d, double s, char *out, size_t cap)
{
  int i = qg_slim_step_at(d, s);
  if (cap == 0)
    return;
  out[0] = '\0';
  if (i < 0)
    return;
  const qg_slim_step *st = &d->slim[i];
  double full = d->slim[d->n_slim - 1].macs;
  char w[32];
  short_count(st->weights, w, sizeof w);
  if (full > 0)
    snprintf(out, cap, "%s, %s weights, %.0f%% of the MACs", st->label, w, 100.0 * st->macs / full);
  else
    snprintf(out, cap, "%s, %s weights", st->label, w);
}
