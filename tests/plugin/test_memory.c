/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Memory per instance (issue 11, defect 17): the resident memory N instances
  of the real quantone.lv2 add to a process, through the lilv test host.
  Usage: test_memory BUNDLE_DIR [N] [PRECISION] [ACTIVATIONS]
  (defaults: 16 instances, 8 bits, int8 dynamic activations = 1).

  One instance is made, played and freed first, so what a process pays once
  (lilv's world, libraries, kernel dispatch, glibc arenas) is not counted.
  Then N instances play the bundle's default model at the setting for half
  a second each (so the variant is built, its per-layer SQNR analysed and
  a histogram made, as with a UI), and the growth of the resident set
  (/proc/self/statm) is divided by N. The test host's own per-instance
  buffers (sizeof(qhost), about 250 KB of ports and worker queues) are made
  resident on purpose and subtracted, so the figure is the plugin's.
  Asserts: under 2 MB (2,000,000 bytes) per instance at 8 bits with int8
  dynamic activations (not under AddressSanitizer, whose redzones and
  quarantine it would count: there it only runs, and reports a skip). It also prints the heap bytes
  in use per instance (mallinfo2), which does not depend on how glibc returns memory to the system.
*/
#include "host.h"

#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long resident_bytes(void)
{
  FILE *f = fopen("/proc/self/statm", "r");
  long size = 0, res = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &size, &res) != 2)
      res = 0;
    fclose(f);
  }
  return res * sysconf(_SC_PAGESIZE);
}

static size_t heap_in_use(void)
{
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

/** Write every page of the host's struct, so all of it is resident and
    can be subtracted exactly. */
static void touch(qhost *h)
{
  volatile unsigned char *p = (volatile unsigned char *)h;
  const long page = sysconf(_SC_PAGESIZE);
  for (size_t i = 0; i < sizeof *h; i += (size_t)page)
    p[i] = p[i];
  p[sizeof *h - 1] = p[sizeof *h - 1];
}

static qhost *play(const LilvPlugin *plugin, const float *x, size_t n, int precision,
                   int activations)
{
  qhost *h = qh_new(plugin, 48000);
  if (!h)
    return NULL;
  touch(h);
  h->ctl[QT_PORT_PRECISION] = (float)precision;
  h->ctl[QT_PORT_ACTIVATIONS] = (float)activations;
  qh_settle(h);
  static float y[QH_MAX_BLOCK];
  for (size_t pos = 0; pos < n; pos += 256)
    qh_run(h, x + pos, y, 256);
  qh_settle(h);
  return h;
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: %s BUNDLE_DIR [N] [PRECISION] [ACTIVATIONS]\n", argv[0]);
    return 2;
  }
  const char *bundle_dir = argv[1];
  const int N = argc > 2 ? atoi(argv[2]) : 16;
  const int precision = argc > 3 ? atoi(argv[3]) : 8;
  const int activations = argc > 4 ? atoi(argv[4]) : 1;
  if (N < 1)
    return 2;

  const LilvPlugin *plugin = NULL;
  LilvWorld *world = lilv_world_new();
  qh_world_init(world);
  if (!(plugin = qh_find_plugin(world, bundle_dir)))
    return 1;

  const size_t n = 24064; /* half a second at 48 kHz, whole blocks of 256 */
  float *x = malloc(n * sizeof(float));
  for (size_t i = 0; i < n; ++i)
    x[i] = (float)(0.3 * sin(2 * M_PI * 110.0 * (double)i / 48000.0) *
                   exp(-2.0 * (double)i / 48000.0));

  qh_free(play(plugin, x, n, precision, activations)); /* what the process pays once */
  malloc_trim(0);
  const long r0 = resident_bytes();
  const size_t h0 = heap_in_use();
  qhost **hs = calloc((size_t)N, sizeof *hs);
  int made = 0;
  for (int i = 0; i < N; ++i)
    made += (hs[i] = play(plugin, x, n, precision, activations)) != NULL;
  const long r1 = resident_bytes();
  const size_t h1 = heap_in_use();
  const long page = sysconf(_SC_PAGESIZE);
  const long host_bytes = ((long)sizeof(qhost) + page - 1) / page * page;
  const double per = ((double)(r1 - r0) - (double)made * (double)host_bytes) / (made ? made : 1);
  const double heap_per =
      ((double)h1 - (double)h0 - (double)made * (double)sizeof(qhost)) / (made ? made : 1);
  printf("%d instances at precision %d, activations %d: resident +%.2f MB (%.0f bytes) per "
         "instance, heap in use +%.2f MB per instance (test host's %ld bytes each subtracted)\n",
         made, precision, activations, per / 1e6, per, heap_per / 1e6, host_bytes);
  int failures = 0;
  bool errors = false;
  for (int i = 0; i < N; ++i)
    errors |= hs[i] && hs[i]->n_errors > 0;
  if (made != N || errors) {
    printf("  FAIL %d of %d instances made, errors: %s\n", made, N, errors ? "yes" : "no");
    ++failures;
  }
#if defined(__SANITIZE_ADDRESS__)
  /* AddressSanitizer's redzones and quarantine are not the plugin's */
  const bool judge = false;
#else
  const bool judge = true;
#endif
  if (judge && precision == 8 && activations == 1) {
    bool ok = per < 2e6;
    printf("%s resident memory per instance %.0f bytes < 2,000,000\n", ok ? "  ok  " : "  FAIL",
           per);
    failures += !ok;
  }
  for (int i = 0; i < N; ++i)
    qh_free(hs[i]);
  free(hs);
  free(x);
  lilv_world_free(world);
  printf("%s\n", failures ? "FAILED" : judge ? "all passed" : "skip: no bound under ASan");
  return failures ? 1 : judge ? 0 : 77;
}
