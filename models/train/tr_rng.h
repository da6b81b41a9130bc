/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Deterministic random numbers for the trainer (splitmix64 seeding a
  xoshiro256** generator): the same seed gives the same dataset, the same
  initial weights and the same batch order on every machine.
*/
#ifndef QUANTONE_TR_RNG_H
#define QUANTONE_TR_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct {
  uint64_t s[4];
} tr_rng;

static inline uint64_t tr_splitmix64(uint64_t *x)
{
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static inline void tr_rng_seed(tr_rng *r, uint64_t seed)
{
  for (int i = 0; i < 4; ++i)
    r->s[i] = tr_splitmix64(&seed);
}

static inline uint64_t tr_rng_u64(tr_rng *r)
{
  uint64_t *s = r->s;
  const uint64_t t = s[1] << 17;
  uint64_t x = s[1] * 5;
  const uint64_t res = ((x << 7) | (x >> 57)) * 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = (s[3] << 45) | (s[3] >> 19);
  return res;
}

/** Uniform in [0, 1). */
static inline double tr_rng_uniform(tr_rng *r)
{
  return (double)(tr_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

static inline double tr_rng_range(tr_rng *r, double lo, double hi)
{
  return lo + (hi - lo) * tr_rng_uniform(r);
}

/** Uniform integer in [0, n). */
static inline int tr_rng_int(tr_rng *r, int n) { return (int)(tr_rng_uniform(r) * n); }

static inline double tr_rng_normal(tr_rng *r)
{
  double u = tr_rng_uniform(r), v = tr_rng_uniform(r);
  if (u < 1e-300)
    u = 1e-300;
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

#endif
