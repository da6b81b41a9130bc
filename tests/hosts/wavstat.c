/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  wavstat: the numbers the host tests judge rendered files by.

    wavstat A.wav            -> "frames=N rate=R rms=X peak=Y"
    wavstat A.wav REF.wav    -> the same, then " esr_db=E" of A against REF
                               (10*log10(sum((a-ref)^2) / sum(ref^2)) over
                               the common length, channel 0 of each)

  Rendered files come from hosts the tests do not control (lv2apply,
  applyplugin, sox, Ardour), in whatever format they write; libsndfile
  reads them all as float, so the shell scripts compare numbers, not bytes.
*/
#include <sndfile.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static float *load(const char *path, long *n, int *rate)
{
  SF_INFO info = {0};
  SNDFILE *f = sf_open(path, SFM_READ, &info);
  if (!f) {
    fprintf(stderr, "wavstat: %s: %s\n", path, sf_strerror(NULL));
    return NULL;
  }
  float *inter =
      malloc(sizeof(float) * (size_t)(info.frames > 0 ? info.frames : 1) * (size_t)info.channels);
  float *x = malloc(sizeof(float) * (size_t)(info.frames > 0 ? info.frames : 1));
  sf_count_t got = inter && x ? sf_readf_float(f, inter, info.frames) : 0;
  sf_close(f);
  for (sf_count_t i = 0; i < got; ++i)
    x[i] = inter[i * info.channels];
  free(inter);
  *n = (long)got;
  *rate = info.samplerate;
  return x;
}

int main(int argc, char **argv)
{
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: wavstat A.wav [REF.wav]\n");
    return 2;
  }
  long n;
  int rate;
  float *a = load(argv[1], &n, &rate);
  if (!a)
    return 1;
  double e = 0, pk = 0;
  for (long i = 0; i < n; ++i) {
    e += (double)a[i] * a[i];
    pk = fmax(pk, fabs(a[i]));
  }
  printf("frames=%ld rate=%d rms=%.6g peak=%.6g", n, rate, n ? sqrt(e / (double)n) : 0.0, pk);
  if (argc == 3) {
    long m;
    int r2;
    float *b = load(argv[2], &m, &r2);
    if (!b)
      return 1;
    double num = 0, den = 0;
    for (long i = 0; i < (n < m ? n : m); ++i) {
      double d = (double)a[i] - b[i];
      num += d * d;
      den += (double)b[i] * b[i];
    }
    printf(" esr_db=%.3f", 10.0 * log10(fmax(num, 1e-30) / fmax(den, 1e-30)));
    free(b);
  }
  printf("\n");
  free(a);
  return 0;
}
