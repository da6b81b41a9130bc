/*
  quantone-bench subcommands. Each one lives in its own file and takes the
  arguments after its name (argv[0] is the subcommand name); it returns the
  process exit status.
*/
#ifndef QUANTONE_TOOLS_BENCH_H
#define QUANTONE_TOOLS_BENCH_H

/** `quantone-bench kernels`: GEMM/GEMV/tanh throughput per weight format. */
int bench_kernels(int argc, char **argv);

/** `quantone-bench models`: whole-model speed per precision and block size. */
int bench_models(int argc, char **argv);

#endif
