/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Timing, statistics, random numbers and system information for
  quantone-bench.
*/
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double bench_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double bench_time_per_iter(bench_fn fn, void *ctx, long iters)
{
  double t0 = bench_now();
  fn(ctx, iters);
  double t1 = bench_now();
  return (t1 - t0) / (double)iters;
}

long bench_calibrate(bench_fn fn, void *ctx, double min_seconds)
{
  fn(ctx, 1); /* warm caches, page in buffers */
  /* Grow a trial batch until it is long enough to scale from reliably. */
  const double trial = min_seconds / 8.0;
  long iters = 1;
  double elapsed = 0.0;
  for (;;) {
    double t0 = bench_now();
    fn(ctx, iters);
    elapsed = bench_now() - t0;
    if (elapsed >= trial || iters >= (1L << 40))
      break;
    /* jump close to the trial length, at most 16x per step */
    double grow = elapsed > 0.0 ? 1.5 * trial / elapsed : 16.0;
    if (grow > 16.0)
      grow = 16.0;
    if (grow < 2.0)
      grow = 2.0;
    iters = (long)((double)iters * grow);
  }
  /* 10% headroom so a batch stays above min_seconds despite jitter. */
  double want = (double)iters * 1.1 * min_seconds / (elapsed > 0.0 ? elapsed : 1e-9);
  if (want < 1.0)
    want = 1.0;
  if (want > 1e12)
    want = 1e12;
  return (long)want;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double bench_median(const double *v, int n)
{
  double tmp[64];
  double *s = n <= 64 ? tmp : malloc((size_t)n * sizeof *s);
  if (!s) {
    fprintf(stderr, "quantone-bench: out of memory\n");
    exit(1);
  }
  memcpy(s, v, (size_t)n * sizeof *s);
  qsort(s, (size_t)n, sizeof *s, cmp_double);
  double m = (n % 2) ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
  if (s != tmp)
    free(s);
  return m;
}

static volatile float sink;

void bench_sink(float x) { sink += x; }

void bench_rng_seed(bench_rng *r, uint64_t seed) { r->s = seed ? seed : 0x9E3779B97F4A7C15ull; }

uint32_t bench_rng_u32(bench_rng *r)
{
  uint64_t x = r->s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  r->s = x;
  return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

float bench_rng_uniform(bench_rng *r, float lo, float hi)
{
  float u = (float)(bench_rng_u32(r) >> 8) * (1.0f / 16777216.0f);
  return lo + (hi - lo) * u;
}

int bench_rng_int(bench_rng *r, int lo, int hi)
{
  uint32_t span = (uint32_t)(hi - lo) + 1u;
  return lo + (int)(bench_rng_u32(r) % span);
}

void *bench_alloc(size_t bytes)
{
  size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded == 0)
    rounded = 64;
  void *p = aligned_alloc(64, rounded);
  if (!p) {
    fprintf(stderr, "quantone-bench: out of memory\n");
    exit(1);
  }
  memset(p, 0, rounded);
  return p;
}

void bench_free(void *p) { free(p); }

void bench_cpu_name(char *buf, size_t size)
{
  snprintf(buf, size, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f)
    return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    /* x86: "model name"; some Arm kernels: "Model" or "Hardware" */
    if (strncmp(line, "model name", 10) && strncmp(line, "Model", 5) &&
        strncmp(line, "Hardware", 8))
      continue;
    char *colon = strchr(line, ':');
    if (!colon)
      continue;
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
      ++v;
    size_t len = strlen(v);
    while (len && (v[len - 1] == '\n' || v[len - 1] == ' ' || v[len - 1] == '\t'))
      v[--len] = '\0';
    if (len) {
      snprintf(buf, size, "%s", v);
      break;
    }
  }
  fclose(f);
}

void bench_median_times(bench_fn fn, void *const *ctx, int n, double min_seconds, int runs,
                        double *sec)
{
  long *iters = bench_alloc((size_t)n * sizeof *iters);
  double *times = bench_alloc((size_t)n * (size_t)runs * sizeof *times);
  for (int c = 0; c < n; ++c)
    iters[c] = bench_calibrate(fn, ctx[c], min_seconds);
  for (int r = 0; r < runs; ++r)
    for (int c = 0; c < n; ++c)
      times[(size_t)c * (size_t)runs + (size_t)r] = bench_time_per_iter(fn, ctx[c], iters[c]);
  for (int c = 0; c < n; ++c)
    sec[c] = bench_median(times + (size_t)c * (size_t)runs, runs);
  bench_free(times);
  bench_free(iters);
}
