/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Part of `quantone-bench kernels`: this core's vpdpbusd throughput, the
  ceiling for every int8 kernel. Twelve independent accumulator chains of
  register-only 512-bit (AVX-512 VNNI) or 256-bit (AVX-VNNI) vpdpbusd, so
  neither latency nor loads limit it: 64 (32) multiply-adds per
  instruction, timed by the thread's CPU time (a shared machine's waits
  left out), median of several runs. The int8 models' GMAC/s divided by
  this is the fraction of the peak they reach.
*/
#include "bench.h"
#include "bench_util.h"

#include "qk.h"

#include <stdio.h>
#include <time.h>

#if defined(__x86_64__)

/** Instructions per loop iteration (independent chains). */
#define CHAINS 12

static double thread_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* {vex} keeps the 256-bit form the AVX-VNNI encoding (the EVEX one is AVX-512's) */
#define DP(reg, width) "%{vex%} vpdpbusd %%" width "13, %%" width "14, %%" width reg "\n\t"
#define DPZ(reg) "vpdpbusd %%zmm13, %%zmm14, %%zmm" reg "\n\t"
#define TWELVE(op)                                                                                 \
  op("0") op("1") op("2") op("3") op("4") op("5") op("6") op("7") op("8") op("9") op("10") op("1"  \
                                                                                              "1")
#define DPY(reg) DP(reg, "ymm")

__attribute__((target("avx512f,avx512vnni"))) static void run_zmm(long iters)
{
  __asm__ __volatile__("vpxord %%zmm13, %%zmm13, %%zmm13\n\t"
                       "vpxord %%zmm14, %%zmm14, %%zmm14\n\t"
                       "1:\n\t" TWELVE(DPZ) "dec %0\n\t"
                                            "jnz 1b\n\t"
                       : "+r"(iters)
                       :
                       : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                         "xmm9", "xmm10", "xmm11", "xmm13", "xmm14", "cc");
}

__attribute__((target("avx2,avxvnni"))) static void run_ymm(long iters)
{
  __asm__ __volatile__("vpxor %%ymm13, %%ymm13, %%ymm13\n\t"
                       "vpxor %%ymm14, %%ymm14, %%ymm14\n\t"
                       "1:\n\t" TWELVE(DPY) "dec %0\n\t"
                                            "jnz 1b\n\t"
                       : "+r"(iters)
                       :
                       : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                         "xmm9", "xmm10", "xmm11", "xmm13", "xmm14", "cc");
}

/** GMAC/s of `run`: median of `runs` timings of about min_seconds each. */
static double peak(void (*run)(long), int macs_per_insn, double min_seconds, int runs)
{
  long iters = 1000;
  for (;;) { /* grow until one batch takes a tenth of the time asked */
    const double t0 = thread_seconds();
    run(iters);
    if (thread_seconds() - t0 >= 0.1 * min_seconds || iters > (1L << 40))
      break;
    iters *= 4;
  }
  {
    const double t0 = thread_seconds();
    run(iters);
    const double dt = thread_seconds() - t0;
    if (dt > 0.0)
      iters = (long)((double)iters * min_seconds / dt) + 1;
  }
  double gmacs[64];
  const int n = runs < 64 ? runs : 64;
  for (int r = 0; r < n; ++r) {
    const double t0 = thread_seconds();
    run(iters);
    const double dt = thread_seconds() - t0;
    gmacs[r] = (double)iters * CHAINS * macs_per_insn / dt * 1e-9;
  }
  return bench_median(gmacs, n);
}

void bench_vnni_peak(double min_seconds, int runs)
{
  printf("\nvpdpbusd peak (%d independent chains, registers only, thread CPU time):\n", CHAINS);
  if (qk_isa_supported(QK_ISA_AVX512VNNI))
    printf("  512-bit (AVX-512 VNNI): %7.1f GMAC/s\n", peak(run_zmm, 64, min_seconds, runs));
  if (qk_isa_supported(QK_ISA_AVXVNNI))
    printf("  256-bit (AVX-VNNI):     %7.1f GMAC/s\n", peak(run_ymm, 32, min_seconds, runs));
  if (!qk_isa_supported(QK_ISA_AVX512VNNI) && !qk_isa_supported(QK_ISA_AVXVNNI))
    printf("  (no VNNI on this CPU)\n");
}

#else

void bench_vnni_peak(double min_seconds, int runs)
{
  (void)min_seconds;
  (void)runs;
}

#endif
