/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  qk_tanh_exact (the exact activations' tanh) against libm's tanhf over
  the whole float range: every 97th bit pattern of both signs (every
  997th under sanitizers), in vectors of varying length so that the
  masked tail runs too, plus the edges one by one: +-0 (the sign kept),
  the smallest and largest subnormals, the smallest normal, values around
  the range reduction's steps and where tanh reaches 1 in float, FLT_MAX,
  the infinities and NaN (NaN out). Passes when every value is within
  2 ulp of tanhf (qk.h; glibc's tanhf is itself up to 2 ulp off) and
  within 1 ulp of the true value (double tanh rounded to float); prints
  the largest distance to tanhf and the time per value.
*/
#include "qk.h"
#include "test_asan.h"
#include "test_check.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STRIDE (ASAN_BUILD ? 997u : 97u)

static uint32_t bits_of(float f)
{
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

/** Distance in ulp between two floats of the same sign class (monotone key). */
static int64_t ulp_distance(float a, float b)
{
  int64_t ka = bits_of(a), kb = bits_of(b);
  ka = (ka & 0x80000000) ? -(ka & 0x7fffffff) : ka;
  kb = (kb & 0x80000000) ? -(kb & 0x7fffffff) : kb;
  return ka > kb ? ka - kb : kb - ka;
}

static int64_t worst;
static float worst_x;

static void check_value(float x, float got)
{
  const float want = tanhf(x);
  if (isnan(want)) {
    CHECK(isnan(got), "tanh(%a) = %a, not NaN", (double)x, (double)got);
    return;
  }
  if (want == 0.0f) /* +-0 in, the same zero out */
    CHECK(bits_of(got) == bits_of(want), "tanh(%a) = %a, want %a", (double)x, (double)got,
          (double)want);
  const int64_t d = ulp_distance(got, want);
  if (d > worst) {
    worst = d;
    worst_x = x;
  }
  CHECK(d <= 2, "tanh(%a) = %a, tanhf %a: %lld ulp", (double)x, (double)got, (double)want,
        (long long)d);
  /* and within 1 ulp of the true value (libm's double tanh, rounded) */
  const float truth = (float)tanh((double)x);
  CHECK(ulp_distance(got, truth) <= 1, "tanh(%a) = %a, true value %a", (double)x, (double)got,
        (double)truth);
}

int main(void)
{
  enum { CHUNK = 4099 }; /* not a multiple of any vector width: the tail runs */
  float *x = malloc(CHUNK * sizeof(float)), *y = malloc(CHUNK * sizeof(float));
  if (!x || !y)
    return 1;
  const float edges[] = {0.0f,        -0.0f,     0x1p-149f, -0x1p-149f, 0x1.fffffcp-127f,
                         -0x1p-126f,  0x1p-126f, 0x1p-12f,  0x1p-24f,   0.3465735f,
                         0.34657362f, 0.5f,      1.0f,      -2.5f,      8.9f,
                         9.01f,       -9.02f,    10.0f,     19.99f,     20.0f,
                         20.01f,      88.7f,     1e30f,     FLT_MAX,    -FLT_MAX,
                         INFINITY,    -INFINITY, NAN,       -NAN};
  const size_t ne = sizeof edges / sizeof edges[0];
  qk_tanh_exact(y, edges, ne);
  for (size_t i = 0; i < ne; ++i)
    check_value(edges[i], y[i]);
  for (size_t i = 0; i < ne; ++i) { /* one at a time: the masked form alone */
    qk_tanh_exact(y, &edges[i], 1);
    check_value(edges[i], y[0]);
  }

  size_t n = 0, checked = 0;
  double t_vec = 0.0, t_libm = 0.0;
  for (uint64_t u = 0; u <= 0xffffffffu; u += STRIDE) {
    const uint32_t b = (uint32_t)u;
    memcpy(&x[n++], &b, sizeof b);
    if (n == CHUNK || u + STRIDE > 0xffffffffu) {
      const size_t len = n - (checked % 7); /* vary the length a little */
      struct timespec t0, t1, t2;
      clock_gettime(CLOCK_MONOTONIC, &t0);
      qk_tanh_exact(y, x, len);
      clock_gettime(CLOCK_MONOTONIC, &t1);
      for (size_t i = 0; i < len; ++i)
        check_value(x[i], y[i]);
      clock_gettime(CLOCK_MONOTONIC, &t2);
      t_vec += (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
      t_libm += (double)(t2.tv_sec - t1.tv_sec) + 1e-9 * (double)(t2.tv_nsec - t1.tv_nsec);
      checked += len;
      n = 0;
    }
  }
  printf("%s: %zu floats, largest distance to tanhf %lld ulp (at %a); qk_tanh_exact %.2f ns, "
         "tanhf + check %.2f ns per value\n",
         qk_isa_name(qk_active_isa()), checked, (long long)worst, (double)worst_x,
         1e9 * t_vec / (double)checked, 1e9 * t_libm / (double)checked);
  free(x);
  free(y);
  printf("%d failures\n", failures);
  return failures ? 1 : 0;
}
