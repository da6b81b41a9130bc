/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The bit_budget control through the real bundle (lilv, lv2host's
  synchronous worker), on models/overdrive_nano.nam at 4 bits:
  Usage: test_plugin_mixed BUNDLE_DIR MODELS_DIR
  - turning bit_budget to 4 while playing builds a mixed variant in the
    worker (the plugin's variant label says "mixed" and the budget), with
    no allocation and no lock in run();
  - the switch does not click: the largest sample-to-sample step around
    it is within the largest step of the unswitched renders, uniform and
    mixed;
  - after it, the output is the mixed variant's alone (bit-identical to a
    host that played budget 4 from the start, once the fade is over and
    both run from the same state: compared after a reset);
  - at FP32 the budget asks for nothing (no variant built);
  - back to off (0) plays uniform 4 bits again.
*/
#include "host.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK qh_check
#define RATE 48000
#define BLOCK 64
/** Long enough for the output's DC blocker (plugin/dcblock.h, 5 Hz: tau
    32 ms) to forget the offset step a switch of widths makes: the tail
    compared below starts 0.775 s after the switch (e^-24). With 0.5 s
    (0.275 s after) the step's remainder, measured decaying 5x every 50 ms
    from 0.14 at the switch to 1e-6, still passed the tolerance on samples
    near zero once the allocator had widths 6 / 5 / 3. */
#define N RATE
#define SWITCH_AT (RATE / 8)

static const LilvPlugin *plugin;

static void tone(float *x, size_t n)
{
  for (size_t i = 0; i < n; ++i) {
    double t = (double)i / RATE;
    x[i] = (float)(0.3 * sin(2 * M_PI * 110.0 * t) * exp(-3.0 * fmod(t, 0.25)) +
                   0.1 * sin(2 * M_PI * 330.0 * t));
  }
}

static qhost *playing(const char *model, float budget)
{
  qhost *h = qh_new(plugin, RATE);
  h->ctl[QT_PORT_PRECISION] = 4;
  h->ctl[QT_PORT_BIT_BUDGET] = budget;
  qh_set_model(h, model);
  qh_settle(h);
  qh_settle(h);
  return h;
}

static float switch_to;
static void switch_cb(qhost *h, size_t pos, uint32_t n, void *user)
{
  (void)n, (void)user;
  if (pos >= SWITCH_AT)
    h->ctl[QT_PORT_BIT_BUDGET] = switch_to;
}

int main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: test_plugin_mixed BUNDLE_DIR MODELS_DIR\n");
    return 2;
  }
  char model[1200];
  snprintf(model, sizeof model, "%s/overdrive_nano.nam", argv[2]);
  LilvWorld *world = lilv_world_new();
  qh_world_init(world);
  plugin = qh_find_plugin(world, argv[1]);
  if (!plugin)
    return 1;
  float *x = malloc(N * sizeof *x), *y_switch = malloc(N * sizeof *x);
  float *y_uniform = malloc(N * sizeof *x), *y_mixed = malloc(N * sizeof *x);
  tone(x, N);

  /** Under sanitizers (each host measures the table: seconds there)
      only the switch itself runs. */
#if defined(__SANITIZE_ADDRESS__)
  const bool full = false;
#else
  const bool full = true;
#endif
  qhost *u = playing(model, 0);
  printf("        uniform: %s\n", u->info_variant);
  CHECK(strstr(u->info_variant, "4-bit") && !strstr(u->info_variant, "mixed"),
        "budget off plays uniform 4 bits (%s)", u->info_variant);
  qh_render(u, x, y_uniform, N, BLOCK, 0, NULL, NULL);
  qhost *m = full ? playing(model, 4) : NULL;
  if (m) {
    printf("        mixed: %s\n", m->info_variant);
    CHECK(strstr(m->info_variant, "mixed") && strstr(m->info_variant, "budget 4.00"),
          "budget 4 plays a mixed variant (%s)", m->info_variant);
    qh_render(m, x, y_mixed, N, BLOCK, 0, NULL, NULL);
    size_t differ = 0;
    for (size_t i = 0; i < N; ++i)
      differ += y_mixed[i] != y_uniform[i];
    CHECK(differ > N / 2, "the mixed variant sounds other than uniform (%zu of %d samples differ)",
          differ, N);
  }

  /* the switch while playing */
  qhost *h = playing(model, 0);
  switch_to = 4;
  int info0 = h->n_info;
  qh_allocs_in_run = qh_locks_in_run = 0;
  qh_render(h, x, y_switch, N, BLOCK, 0, switch_cb, NULL);
  long allocs = qh_allocs_in_run, locks = qh_locks_in_run;
  CHECK(h->n_info == info0 + 1 && strstr(h->info_variant, "budget 4.00"),
        "one variant built for the switch (%d), now %s", h->n_info - info0, h->info_variant);
  if (qh_interposed)
    CHECK(allocs == 0 && locks == 0, "allocations %ld, mutex locks %ld in run() while switching",
          allocs, locks);
  if (m) {
    float near = qh_max_step(y_switch, SWITCH_AT, SWITCH_AT + RATE / 20);
    float limit = fmaxf(qh_max_step(y_uniform, 0, N), qh_max_step(y_mixed, 0, N));
    CHECK(near <= limit,
          "no click: largest step %.5f around the switch, %.5f in the unswitched "
          "renders",
          near, limit);
    size_t tail_diff = 0;
    for (size_t i = N - RATE / 10; i < N; ++i)
      tail_diff += fabsf(y_switch[i] - y_mixed[i]) > 1e-3f * fabsf(y_mixed[i]) + 1e-6f;
    CHECK(tail_diff == 0,
          "after the switch the mixed variant plays (%zu samples of the last 0.1 s "
          "differ from the render that played it throughout)",
          tail_diff);
  }

  /* FP32: the budget means nothing, nothing is built */
  h->ctl[QT_PORT_PRECISION] = 32;
  qh_settle(h);
  int info1 = h->n_info;
  h->ctl[QT_PORT_BIT_BUDGET] = 6;
  qh_settle(h);
  CHECK(h->n_info == info1, "at FP32 a budget change builds nothing (%d built)", h->n_info - info1);
  /* back to 4 bits with the budget off: uniform again */
  h->ctl[QT_PORT_PRECISION] = 4;
  h->ctl[QT_PORT_BIT_BUDGET] = 0;
  qh_render(h, x, y_switch, RATE / 10, BLOCK, 0, NULL, NULL);
  CHECK(strstr(h->info_variant, "4-bit") && !strstr(h->info_variant, "mixed"),
        "budget off plays uniform bits again (%s)", h->info_variant);

  qh_free(h);
  if (m)
    qh_free(m);
  qh_free(u);
  free(x), free(y_switch), free(y_uniform), free(y_mixed);
  lilv_world_free(world);
  printf("%s\n", qh_failures ? "FAILED" : "all passed");
  return qh_failures ? 1 : 0;
}
