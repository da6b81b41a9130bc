/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
#include "tr_model.h"

void tr_tensor_get(const tr_tensor *t, const float *p, float *m)
{
  if (t->taps > 1) {
    const int in = t->cols / t->taps;
    for (int r = 0; r < t->rows; ++r)
      for (int k = 0; k < t->taps; ++k)
        for (int i = 0; i < in; ++i)
          m[(size_t)r * t->cols + (size_t)k * in + i] =
              p[t->off + ((size_t)r * in + i) * t->taps + k];
  } else {
    for (int r = 0; r < t->rows; ++r)
      for (int c = 0; c < t->cols; ++c)
        m[(size_t)r * t->cols + c] = p[t->off + (size_t)r * t->stride + c];
  }
}

void tr_tensor_set(const tr_tensor *t, float *p, const float *m)
{
  if (t->taps > 1) {
    const int in = t->cols / t->taps;
    for (int r = 0; r < t->rows; ++r)
      for (int k = 0; k < t->taps; ++k)
        for (int i = 0; i < in; ++i)
          p[t->off + ((size_t)r * in + i) * t->taps + k] =
              m[(size_t)r * t->cols + (size_t)k * in + i];
  } else {
    for (int r = 0; r < t->rows; ++r)
      for (int c = 0; c < t->cols; ++c)
        p[t->off + (size_t)r * t->stride + c] = m[(size_t)r * t->cols + c];
  }
}

void tr_model_free(tr_model *m)
{
  if (m && m->destroy)
    m->destroy(m);
}
