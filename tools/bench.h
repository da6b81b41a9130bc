/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  quantone-bench subcommands. Each one lives in its own file and takes the
  arguments after its name (argv[0] is the subcommand name); it returns the
  process exit status.
*/
#ifndef QUANTONE_TOOLS_BENCH_H
#define QUANTONE_TOOLS_BENCH_H

/** `quantone-bench kernels`: GEMM/GEMV/tanh throughput per weight format. */
int bench_kernels(int argc, char **argv);

/**
   Part of `kernels`: the int8 WaveNet layer (qk_wavenet_layer_s8), A1
   layers at 16 and 8 channels and A2 standard layers (kernels 6 and 15,
   blocks 64 and 16), as the engine runs it on `isa`, against its
   step-by-step composition and (A2) the float path: ns per frame, medians
   of `runs` interleaved timings.
*/
void bench_wavenet_layer(int isa, double min_seconds, int runs);

/**
   Part of `kernels`: this core's register-only vpdpbusd throughput (512-
   and 256-bit forms where the CPU has them), GMAC/s; nothing off x86-64.
*/
void bench_vnni_peak(double min_seconds, int runs);

/** `quantone-bench layer`: bench_wavenet_layer alone. */
int bench_layer(int argc, char **argv);

/** `quantone-bench models`: whole-model speed per precision and block size. */
int bench_models(int argc, char **argv);

/** `quantone-bench prepare`: CPU time of preparing a variant as the
    plugin's worker does, per step (post-training rounding). */
int bench_prepare(int argc, char **argv);

#endif
