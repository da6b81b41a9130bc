/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The weight walk's primitives (loader_internal.h): each moves one block of
  weights between the file's order and the description's layout, in the
  direction the walk goes. The architectures' walks are sequences of these
  calls, so reading a file and writing one share every index formula.
*/
#include "loader_internal.h"

#include <string.h>

/** Reading: fresh description memory for n floats. Writing: the values to
    emit for *p (the walk's substitute, else *p itself). */
static float *block(qm_walk *w, float **p, size_t n)
{
  if (!w->writing)
    return *p = qm_desc_alloc(w->d, n * sizeof(float));
  const float *v = w->values ? w->values(w->user, *p) : NULL;
  return (float *)(v ? v : *p);
}

/** Move one float between the file position and *x. */
static inline void move(qm_walk *w, float *x)
{
  if (!w->writing)
    *x = *w->src++;
  else if (w->dst)
    *w->dst++ = *x;
  ++w->count;
}

bool qm_walk_grouped(qm_walk *w, float **m, int out, int in, int taps, int groups)
{
  float *v = block(w, m, (size_t)out * (size_t)in * (size_t)taps);
  if (!v)
    return false;
  const int opg = out / groups, ipg = in / groups;
  const size_t row = (size_t)taps * (size_t)in;
  for (int g = 0; g < groups; ++g)
    for (int i = 0; i < opg; ++i)
      for (int j = 0; j < ipg; ++j)
        for (int k = 0; k < taps; ++k)
          move(w, &v[(size_t)(g * opg + i) * row + (size_t)k * (size_t)in + (size_t)(g * ipg + j)]);
  if (!w->writing || groups == 1)
    return true;
  /* The file has no room for what lies off the diagonal blocks: it must be
     zero (it is, unless a quantizer without a zero level moved it). */
  for (int r = 0; r < out; ++r)
    for (int k = 0; k < taps; ++k)
      for (int c = 0; c < in; ++c)
        if (r / opg != c / ipg && v[(size_t)r * row + (size_t)k * (size_t)in + (size_t)c] != 0.0f) {
          w->problem = "a grouped matrix has non-zero weights between its groups (a mapping "
                       "without a zero level?)";
          return false;
        }
  return true;
}

bool qm_walk_floats(qm_walk *w, float **p, size_t n)
{
  float *v = block(w, p, n);
  if (!v)
    return false;
  for (size_t i = 0; i < n; ++i)
    move(w, &v[i]);
  return true;
}

void qm_walk_scalar(qm_walk *w, float *x) { move(w, x); }

bool qm_walk_split_rows(qm_walk *w, float **a, int a_cols, float **b, int b_cols, int rows)
{
  float *va = block(w, a, (size_t)rows * (size_t)a_cols);
  float *vb = va ? block(w, b, (size_t)rows * (size_t)b_cols) : NULL;
  if (!vb)
    return false;
  for (int r = 0; r < rows; ++r) {
    for (int j = 0; j < a_cols; ++j)
      move(w, &va[(size_t)r * (size_t)a_cols + (size_t)j]);
    for (int j = 0; j < b_cols; ++j)
      move(w, &vb[(size_t)r * (size_t)b_cols + (size_t)j]);
  }
  return true;
}

bool qm_walk_reversed(qm_walk *w, float **p, int n)
{
  float *v = block(w, p, (size_t)n);
  if (!v)
    return false;
  for (int i = n - 1; i >= 0; --i)
    move(w, &v[i]);
  return true;
}
