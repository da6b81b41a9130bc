/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
#include "reference_io.h"

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

float *ref_read_wav(const char *path, size_t *frames)
{
  SF_INFO info;
  memset(&info, 0, sizeof info);
  SNDFILE *f = sf_open(path, SFM_READ, &info);
  if (!f) {
    fprintf(stderr, "cannot open %s: %s\n", path, sf_strerror(NULL));
    return NULL;
  }
  float *x = info.channels == 1 ? malloc((size_t)info.frames * sizeof(float) + 1) : NULL;
  if (!x)
    fprintf(stderr, "%s: expected mono\n", path);
  else
    *frames = (size_t)sf_readf_float(f, x, info.frames);
  sf_close(f);
  return x;
}

ref_cmp ref_compare(const float *y, const float *ref, size_t n)
{
  double num = 0, den = 0, mx = 0;
  for (size_t i = 0; i < n; ++i) {
    const double e = (double)y[i] - (double)ref[i];
    num += e * e;
    den += (double)ref[i] * ref[i];
    mx = fmax(mx, fabs(e));
  }
  ref_cmp c = {den > 0 ? num / den : num, mx};
  return c;
}

/** x through m from its current state, in blocks as ref_render() says. */
static void play(qm_model *m, const float *x, float *y, size_t n, int block)
{
  static const int pattern[] = {1, 7, 64, 3, 256, 5000, 128, 2, 511, 33};
  size_t done = 0;
  for (int i = 0; done < n; ++i) {
    const size_t want = (size_t)(block ? block : pattern[i % 10]);
    const size_t k = n - done < want ? n - done : want;
    qm_model_process(m, x + done, y + done, (int)k);
    done += k;
  }
}

void ref_render(qm_model *m, const float *x, float *y, size_t n, int block)
{
  qm_model_reset(m);
  play(m, x, y, n, block);
}

void ref_render_cold(qm_model *m, const float *x, float *y, size_t n, int block)
{
  qm_model_reset_cold(m);
  play(m, x, y, n, block);
}
