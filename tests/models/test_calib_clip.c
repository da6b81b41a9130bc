/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The calibration clip is synthesized once per (rate, seconds) and handed
  out as copies (models/calib_clip.c). Checks that what a caller gets is
  the clip it asked for, whatever was asked before:
  - each of six (rate, seconds) pairs, more than the clips kept, so some
    are made again after being given up, is bit for bit what the first
    call for that pair gave, and has rate * seconds samples;
  - a caller may write into its copy without changing the next one's;
  - four threads asking for the same and for other clips at once get
    the same bits.
*/
#include "calib_clip.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void check(int ok, const char *what)
{
  printf("  %s %s\n", ok ? "ok  " : "FAIL", what);
  if (!ok)
    ++failures;
}

static const struct {
  double rate, seconds;
} keys[] = {{48000, 1.0}, {44100, 1.0}, {48000, 0.25}, {96000, 1.0}, {22050, 0.5}, {6400, 1.0}};
#define N_KEYS ((int)(sizeof keys / sizeof keys[0]))

static float *first[N_KEYS];
static int first_n[N_KEYS];

static int same_as_first(int k)
{
  int n = 0;
  float *x = qm_calib_clip(keys[k].rate, keys[k].seconds, &n);
  int ok = x && n == first_n[k] && !memcmp(x, first[k], sizeof(float) * (size_t)n);
  free(x);
  return ok;
}

static void *ask_all(void *arg)
{
  int *ok = arg;
  *ok = 1;
  for (int round = 0; round < 3; ++round)
    for (int k = 0; k < N_KEYS; ++k)
      *ok &= same_as_first((k + round) % N_KEYS);
  return NULL;
}

int main(void)
{
  printf("Calibration clips, kept per (rate, seconds)\n");
  int lengths_ok = 1;
  for (int k = 0; k < N_KEYS; ++k) {
    first[k] = qm_calib_clip(keys[k].rate, keys[k].seconds, &first_n[k]);
    lengths_ok &= first[k] && first_n[k] == (int)(keys[k].rate * keys[k].seconds);
  }
  check(lengths_ok, "six clips of rate * seconds samples each");
  int distinct = memcmp(first[0], first[2], sizeof(float) * (size_t)first_n[2]) != 0;
  check(distinct, "1 s and 0.25 s at 48 kHz are different clips (the notes enter at n / 8)");

  int again = 1;
  for (int round = 0; round < 2; ++round)
    for (int k = N_KEYS - 1; k >= 0; --k)
      again &= same_as_first(k);
  check(again, "each asked again, after the others (some given up and made again): same bits");

  int n = 0;
  float *x = qm_calib_clip(48000, 1.0, &n);
  if (x)
    memset(x, 0x7f, sizeof(float) * (size_t)n);
  free(x);
  check(same_as_first(0), "a caller writing into its copy leaves the next copy alone");

  pthread_t th[4];
  int ok[4] = {0};
  int started = 1;
  for (int i = 0; i < 4; ++i)
    started &= pthread_create(&th[i], NULL, ask_all, &ok[i]) == 0;
  int all = started;
  for (int i = 0; i < 4 && started; ++i) {
    pthread_join(th[i], NULL);
    all &= ok[i];
  }
  check(all, "four threads at once, every clip three times each: same bits");
  for (int k = 0; k < N_KEYS; ++k)
    free(first[k]);
  printf("%s (%d failure%s)\n", failures ? "FAILED" : "all passed", failures,
         failures == 1 ? "" : "s");
  return failures ? 1 : 0;
}
