/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Helpers shared by the quantone-bench subcommands: a clock, calibrated
  timing of a repeated call, medians, a seeded PRNG, aligned buffers, the
  CPU's name, and sinks that keep the compiler from dropping measured work.
*/
#ifndef QUANTONE_TOOLS_BENCH_UTIL_H
#define QUANTONE_TOOLS_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/** Monotonic time in seconds. */
double bench_now(void);

/**
   Work to time: performs `iters` repetitions of one operation on ctx.
   It should pass its output through bench_clobber() so that the calls
   cannot be merged or dropped.
*/
typedef void (*bench_fn)(void *ctx, long iters);

/**
   Number of repetitions of fn that take at least min_seconds (after one
   warm-up call), found by growing a trial batch and scaling it up.
*/
long bench_calibrate(bench_fn fn, void *ctx, double min_seconds);

/** Seconds per repetition of one batch of `iters` repetitions. */
double bench_time_per_iter(bench_fn fn, void *ctx, long iters);

/**
   Seconds per repetition of each of n calls (fn on ctx[i]): each call's
   batch is calibrated to min_seconds, then the calls are timed in turn,
   `runs` rounds, and sec[i] is the median of call i's rounds. Interleaving
   makes a load change on a shared machine hit every call alike.
*/
void bench_median_times(bench_fn fn, void *const *ctx, int n, double min_seconds, int runs,
                        double *sec);

/** Median of n values (n >= 1); v is left unchanged. */
double bench_median(const double *v, int n);

/** Compiler barrier: memory behind p may have been read or written. */
static inline void bench_clobber(void *p) { __asm__ __volatile__("" : : "r"(p) : "memory"); }

/** Feed a result into a volatile sink so the work producing it is kept. */
void bench_sink(float x);

/** xorshift64* generator; any nonzero seed. */
typedef struct {
  uint64_t s;
} bench_rng;

void bench_rng_seed(bench_rng *r, uint64_t seed);
uint32_t bench_rng_u32(bench_rng *r);
/** Uniform in [lo, hi). */
float bench_rng_uniform(bench_rng *r, float lo, float hi);
/** Uniform integer in [lo, hi]. */
int bench_rng_int(bench_rng *r, int lo, int hi);

/** 64-byte aligned, zeroed; exits with a message when out of memory. */
void *bench_alloc(size_t bytes);
void bench_free(void *p);

/** The CPU's model name from /proc/cpuinfo (or "unknown") into buf. */
void bench_cpu_name(char *buf, size_t size);

#endif
