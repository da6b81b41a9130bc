/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Not a test: a fixed int8 GEMM workload for counting instructions under
  qemu-user, where timings mean nothing (tests/cross/neon_insn_counts.sh).

    gemm_workload FORMAT M K N CALLS

  packs an M x K matrix of FORMAT (s8, s4, s2, cb4, cb2; per-channel
  scales; codebooks with k-means-like levels up to 112 in magnitude),
  quantizes N random frames once, then runs qk_gemm_s8 CALLS times on the
  ISA the dispatcher picks (QUANTONE_ISA pins one). Two runs that differ
  only in CALLS differ only by those GEMM calls, so the difference of
  their instruction counts is the GEMM's own.
*/
#include "qk.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int8_t kmeans_like4[16] = {-112, -76, -52, -35, -23, -14, -8, -3,
                                        2,    7,   13,  22,  34,  50,  73, 108};
static const int8_t kmeans_like2[4] = {-61, -14, 17, 66};

static uint32_t lcg = 12345u;
static int next_int(int lo, int hi)
{
  lcg = lcg * 1664525u + 1013904223u;
  return lo + (int)((lcg >> 8) % (uint32_t)(hi - lo + 1));
}

static bool format_named(const char *s, qk_format *f)
{
  static const struct {
    const char *name;
    qk_format f;
  } names[] = {{"s8", QK_S8}, {"s4", QK_S4}, {"s2", QK_S2}, {"cb4", QK_CB4}, {"cb2", QK_CB2}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i)
    if (!strcmp(s, names[i].name)) {
      *f = names[i].f;
      return true;
    }
  return false;
}

int main(int argc, char **argv)
{
  qk_format f;
  if (argc != 6 || !format_named(argv[1], &f)) {
    fprintf(stderr, "usage: %s s8|s4|s2|cb4|cb2 M K N CALLS\n", argv[0]);
    return 2;
  }
  const int M = atoi(argv[2]), K = atoi(argv[3]), N = atoi(argv[4]), calls = atoi(argv[5]);
  if (M < 1 || K < 1 || N < 1 || calls < 0) {
    fprintf(stderr, "gemm_workload: sizes must be positive\n");
    return 2;
  }
  int8_t *codes = malloc((size_t)M * (size_t)K);
  float *scales = malloc((size_t)M * sizeof *scales);
  float *x = malloc((size_t)K * (size_t)N * sizeof *x);
  float *y = malloc((size_t)M * (size_t)N * sizeof *y);
  qk_act_s8 a = {.ld = qk_act_ld(K), .per_column = true};
  a.codes = malloc((size_t)a.ld * (size_t)N);
  a.scales = malloc((size_t)N * sizeof *a.scales);
  a.sums = malloc((size_t)N * sizeof *a.sums);
  if (!codes || !scales || !x || !y || !a.codes || !a.scales || !a.sums)
    return 1;
  const bool cb = qk_format_is_codebook(f);
  const int lo = cb ? 0 : qk_format_min(f), hi = cb ? (f == QK_CB4 ? 15 : 3) : qk_format_max(f);
  for (size_t i = 0; i < (size_t)M * (size_t)K; ++i)
    codes[i] = (int8_t)next_int(lo, hi);
  for (int m = 0; m < M; ++m)
    scales[m] = 0.01f;
  for (size_t i = 0; i < (size_t)K * (size_t)N; ++i)
    x[i] = (float)next_int(-1000, 1000) / 1000.0f;
  qk_weights w = {.format = f,
                  .rows = M,
                  .cols = K,
                  .codes = codes,
                  .scales = scales,
                  .codebook = f == QK_CB4   ? kmeans_like4
                              : f == QK_CB2 ? kmeans_like2
                                            : NULL};
  const char *err = NULL;
  qk_packed *p = qk_pack(&w, qk_active_isa(), &err);
  if (!p) {
    fprintf(stderr, "gemm_workload: %s\n", err ? err : "pack failed");
    return 1;
  }
  qk_quantize_act_dynamic(x, K, K, N, &a);
  double check = 0.0;
  for (int c = 0; c < calls; ++c) {
    qk_gemm_s8(p, &a, N, NULL, y, M, 0);
    check += y[c % (M * N)];
  }
  printf("%s %s %dx%d N=%d calls=%d check %.6g\n", qk_isa_name(qk_active_isa()), argv[1], M, K, N,
         calls, check);
  qk_packed_free(p);
  free(codes), free(scales), free(x), free(y), free(a.codes), free(a.scales), free(a.sums);
  return 0;
}
