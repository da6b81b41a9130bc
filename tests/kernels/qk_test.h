/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  What the kernel tests share: the counting CHECK (test_check.h) and a
  seeded xorshift64* generator, so every failure can be replayed. A test
  may define QK_TEST_SEED before including this. Header-only: each test is
  one executable.
*/
#ifndef QUANTONE_TESTS_QK_TEST_H
#define QUANTONE_TESTS_QK_TEST_H

#include "test_check.h"

#include <stdint.h>

#ifndef QK_TEST_SEED
#define QK_TEST_SEED 0x9E3779B97F4A7C15ull
#endif

static uint64_t rng_state = QK_TEST_SEED;

static inline uint64_t rng_next(void)
{
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Dull;
}

/** Uniform in [lo, hi], both inclusive. */
static inline int rng_int(int lo, int hi)
{
  return lo + (int)(rng_next() % (uint64_t)(hi - lo + 1));
}

/** Uniform in [lo, hi) with 24 random bits. */
static inline float rng_float(float lo, float hi)
{
  return lo + (hi - lo) * (float)((rng_next() >> 40) * (1.0 / 16777216.0));
}

#endif
