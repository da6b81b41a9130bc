/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  What the quantizer tests share: the counting CHECK (test_check.h) and a
  seeded splitmix64 generator for reproducible test tensors. Header-only: each test is one
  executable.
*/
#ifndef QUANTONE_TESTS_QZ_CHECK_H
#define QUANTONE_TESTS_QZ_CHECK_H

#include "test_check.h"

#include <math.h>
#include <stdint.h>

static uint64_t rng_state;

/** splitmix64: tiny, seedable, good enough for test data. */
static inline uint64_t rng_next(void)
{
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static inline double rng_uniform(void) { return (double)(rng_next() >> 11) * 0x1.0p-53; }

/** Box-Muller: one standard normal value. */
static inline double rng_gauss(void)
{
  double u = rng_uniform(), v = rng_uniform();
  if (u < 1e-300)
    u = 1e-300;
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

#endif
