/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  quantone-bench: command-line entry point. Dispatches to one subcommand
  per file (see bench.h); adding one means adding a row to `commands`.
*/
#include "bench.h"

#include <stdio.h>
#include <string.h>

typedef struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} bench_command;

static const bench_command commands[] = {
    {"kernels", bench_kernels, "GEMM/GEMV/tanh throughput per weight format on one ISA"},
    {"layer", bench_layer, "the int8 WaveNet layer (A1, A2) against its steps and float"},
    {"models", bench_models, "whole-model speed: FP32 and 8/4/2 bits at block 1..1024"},
    {"prepare", bench_prepare, "CPU time of the worker's preparation of a variant, per step"},
};

#define NCOMMANDS ((int)(sizeof commands / sizeof commands[0]))

static void usage(FILE *out)
{
  fprintf(out, "usage: quantone-bench <command> [options]\n\ncommands:\n");
  for (int i = 0; i < NCOMMANDS; ++i)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\nRun 'quantone-bench <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return 0;
  }
  for (int i = 0; i < NCOMMANDS; ++i) {
    if (!strcmp(argv[1], commands[i].name))
      return commands[i].run(argc - 1, argv + 1);
  }
  fprintf(stderr, "quantone-bench: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
