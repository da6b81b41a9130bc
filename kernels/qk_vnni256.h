/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The 256-bit dot-product instructions of the AVX-VNNI kernels, named once.

  A release build takes their VEX form (AVX-VNNI: Intel Alder Lake and
  later Core, AMD Zen 5). The test build `-Davxvnni_on_evex=true`
  (tests/avxvnni_evex.sh) compiles the same kernels with the EVEX form of
  the same instructions (AVX512_VNNI + AVX512VL), which computes the same
  integers, so that a CPU with AVX-512 VNNI but without the AVX-VNNI cpuid
  bit (this project's CI VMs) still runs every line of the AVX-VNNI code
  against the scalar oracle. Never a release setting: such a build's
  "avxvnni" ISA needs AVX-512.
*/
#ifndef QUANTONE_KERNELS_QK_VNNI256_H
#define QUANTONE_KERNELS_QK_VNNI256_H

#include <immintrin.h>

#if defined(QK_AVXVNNI_ON_EVEX)
#define QK_VNNI256 1
#define qk_dpbusd256(acc, u, s) _mm256_dpbusd_epi32((acc), (u), (s))
#define qk_dpwssd256(acc, a, b) _mm256_dpwssd_epi32((acc), (a), (b))
#elif defined(__AVXVNNI__)
#define QK_VNNI256 1
#define qk_dpbusd256(acc, u, s) _mm256_dpbusd_avx_epi32((acc), (u), (s))
#define qk_dpwssd256(acc, a, b) _mm256_dpwssd_avx_epi32((acc), (a), (b))
#endif

#endif
