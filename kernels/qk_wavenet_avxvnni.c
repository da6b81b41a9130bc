/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The fused int8 WaveNet layer on AVX-VNNI: qk_wavenet_avx2.c's frame loop
  (8 rows of int32 per ymm, where AVX-512 has 16), compiled with -mavxvnni
  so that each channel pair is one vpdpwssd. One source for both ISAs:
  the differences are the few QK_WAVENET_AVXVNNI lines there.
*/
#define QK_WAVENET_AVXVNNI 1
#include "qk_wavenet_avx2.c"
