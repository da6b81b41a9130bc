/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  quantone-demo-clip: write a guitar-like demo clip the project synthesizes
  itself (nothing downloaded, no recordings to license).

  The audio is the trainer's Karplus-Strong material (models/train/
  tr_synth.c: plucked notes, strummed chords, palm-muted riffs, slides,
  sweeps and quiet passages at levels from -40 to -1 dBFS), so the demo
  plays what the models were trained on and no second synthesizer exists
  to drift from it. 48 kHz mono, 24-bit PCM (every WAV reader, including
  applyplugin's and sox's, takes it).
*/
#include "tr_synth.h"
#include "tr_wav.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** A seed whose first seconds are playing, not one of the synthesizer's
    silences, so a short demo is not mostly a noise floor. */
#define DEMO_SEED 7

static void usage(FILE *f)
{
  fprintf(f,
          "Usage: quantone-demo-clip OUT.wav [--seconds S] [--seed N]\n"
          "Write S seconds (default 8) of synthesized guitar (Karplus-Strong plucks,\n"
          "chords, riffs, slides) at 48 kHz, mono, 24-bit. The same seed (default %d)\n"
          "always gives the same audio.\n",
          DEMO_SEED);
}

int main(int argc, char **argv)
{
  const char *out = NULL;
  double seconds = 8.0;
  unsigned long long seed = DEMO_SEED;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
      seconds = atof(argv[++i]);
    } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
      seed = strtoull(argv[++i], NULL, 10);
    } else if (argv[i][0] != '-' && !out) {
      out = argv[i];
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (!out || !(seconds > 0.0) || seconds > 3600.0) {
    usage(stderr);
    return 2;
  }
  const int rate = 48000;
  size_t n = (size_t)(seconds * rate);
  float *x = malloc(n * sizeof *x);
  if (!x) {
    fprintf(stderr, "quantone-demo-clip: out of memory\n");
    return 1;
  }
  tr_synth_guitar(x, n, (uint64_t)seed);
  bool ok = tr_wav_write(out, x, n, rate, false);
  free(x);
  if (!ok) {
    fprintf(stderr, "quantone-demo-clip: cannot write %s\n", out);
    return 1;
  }
  return 0;
}
