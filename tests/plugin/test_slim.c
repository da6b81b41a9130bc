/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The slim control through the real bundle (lilv, lv2host's synchronous
  worker), with the reference's slimmable_container.nam (LSTM, then two
  WaveNets: max_values 0.33, 0.66, 1.0) and A2.nam (a trained capture: A2
  nano below 0.5, A2 standard from 0.5) and slimmable_wavenet.nam (1, 2, 3
  channels), these two for the switching checks only.
  Usage: test_plugin_slim BUNDLE_DIR NAM_REFERENCE_DIR [MODELS_DIR] (exit 77
  without the reference; with MODELS_DIR, its overdrive_a2.nam, our own A2
  nano + standard container, is switched too)
  Asserts, each printed with its figures:
  - moving slim across every breakpoint while playing (block 64) plays
    exactly what quantone's own engine plays at each slim: the size
    qm_desc_at_slim() picks, built fresh when the switch lands (a block
    after the control moved: the worker answers between run() calls),
    crossfaded in over QT_FADE_S from the size before, through the DC
    blocker: bit-exact over the whole render, so bit-exact after every
    crossfade;
  - no click: the largest sample-to-sample step near each switch is within
    the largest step of the unswitched renders of both sizes;
  - moving slim within one step builds nothing (one modelInfo per switch,
    none for the moves inside a step) and allocates nothing in run();
  - esr_db compares with the full-size FP32 model: at slim 0 it reads what
    the offline ESR of the slim-0 render against the full render is (well
    above the floor), at slim 1 FP32 the floor;
  - switching the bit width while a smaller size plays (the new variant
    takes the old one's state: same size) does not click either;
  - the per-layer SQNR a UI gets for a smaller size has that size's
    layers (not the full model's);
  - the weights panel and the memory meter at every size, at FP32 and 4
    bits: modelInfo lists that size's weight matrices, each histogram
    counts exactly that size's weights of the matrix (no levels at FP32,
    levels at 4 bits) and names the size; with the container also at 16
    bits, FP16 weights and BF16 compute: no levels, and every histogram
    names its float format (qt:weightFormat FP32, FP16, BF16; none at 4
    bits), what the GUI's caption says; the meter's reference
    (qt:sizeWeightBytesFp32) is that size's float model's bytes, the full
    size's said apart (qt:weightBytesFp32);
  - a plain model ignores slim: bit-identical at 0 and 1, nothing built.
*/
#include "host.h"

#include "dcblock.h"

#include "engine.h"
#include "model_file.h"
#include "reference_io.h" /* tests/models: reading the input, ESR */
#include "slim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK qh_check
#define RATE 48000
#define BLOCK 64
#define SEG 9600                      /**< 0.2 s per slim value */
#define FADE ((int)(0.005 * RATE))    /**< QT_FADE_S */
#define WARM_MAX ((int)(0.15 * RATE)) /**< QT_WARM_MAX_S */

static const LilvPlugin *plugin;
static char container[1200];

static float max_step(const float *y, size_t a, size_t b)
{
  float m = 0;
  for (size_t i = a + 1; i < b; ++i)
    if (fabsf(y[i] - y[i - 1]) > m)
      m = fabsf(y[i] - y[i - 1]);
  return m;
}

/** An instance playing `path` at `slim` (FP32), loaded before any audio. */
static qhost *playing(const char *path, float slim)
{
  qhost *h = qh_new(plugin, RATE);
  h->ctl[QT_PORT_PRECISION] = 32;
  h->ctl[QT_PORT_SLIM] = slim;
  if (path) {
    qh_set_model(h, path);
    qh_settle(h);
    if (strcmp(h->last_path, path) || h->n_errors)
      CHECK(false, "loading %s: %s", path, h->last_error);
  }
  qh_settle(h);
  return h;
}

/* ---- The plan: slim values, one per segment --------------------------------------------- */

/** Steps 2 0 0 1 2 0 1 1 2 0 of the container: every breakpoint crossed
    both ways, and two moves inside a step (0.2 -> 0.25, 0.6 -> 0.4). */
static const float plan_slim[] = {1.0f, 0.2f, 0.25f, 0.5f, 0.9f, 0.1f, 0.6f, 0.4f, 1.0f, 0.0f};
#define PLAN_N ((int)(sizeof plan_slim / sizeof *plan_slim))

static void plan_cb(qhost *h, size_t pos, uint32_t k, void *user)
{
  (void)k;
  (void)user;
  h->ctl[QT_PORT_SLIM] = plan_slim[(pos / SEG) % PLAN_N];
}

/* ---- What the plugin must play, from the engine alone ------------------------------------ */

#define MAX_STEPS 8

/** The step slim value s plays (the plugin's rule, qt_slot_slim_step). */
static int step_at(const qm_slim_step *steps, int n_steps, float s)
{
  for (int i = 0; i + 1 < n_steps; ++i)
    if (s < steps[i].hi)
      return i;
  return n_steps - 1;
}

/** A fresh engine of the size slim s plays (what a switch to it builds). */
static qm_model *engine_at(qm_desc *d, double s)
{
  char err[512];
  qm_options o;
  qm_options_default(&o);
  const qm_desc *sd = qm_desc_at_slim(d, s, err, sizeof err);
  qm_model *m = sd ? qm_model_create(sd, &o, err, sizeof err) : NULL;
  if (!m)
    fprintf(stderr, "engine at slim %g: %s\n", s, err);
  return m;
}

/**
   The switched render as the plugin must play it: the full-size model
   runs throughout (it is the reference, and at the full size FP32 it is
   what plays); a switch to another size lands one block after the control
   moved, with a fresh engine of that size that first runs unheard for its
   prewarm length (at most WARM_MAX) while the old one plays, then
   crossfades in over FADE samples ((pos + 1) / FADE, as switching.c); the
   full size needs no warming (the reference ran all along). Then the DC
   blocker over the whole output. Returns the number of switches; *warm
   gets the longest warm-up; each crossfade's start, and the steps it goes
   from and to, go to fades[].
*/
typedef struct {
  size_t at;
  int from, to;
} fade_info;

static int expected_render(qm_desc *d, const float *x, float *y, size_t n, int *warm_most,
                           fade_info *fades)
{
  qm_slim_step steps[MAX_STEPS];
  int n_steps = qm_desc_slim_steps(d, steps, MAX_STEPS);
  char err[512];
  qm_options o;
  qm_options_default(&o);
  qm_model *full = qm_model_create(d, &o, err, sizeof err);
  float r[BLOCK], q[BLOCK], old_out[BLOCK];
  qm_model *cur = NULL, *old = NULL; /* NULL: the full size (the reference plays) */
  bool fading = false;
  int fade_pos = 0, switches = 0, warm = 0;
  *warm_most = 0;
  int step_of_cur = step_at(steps, n_steps, plan_slim[0]), asked = -1;
  if (step_of_cur != n_steps - 1)
    cur = engine_at(d, plan_slim[0]);
  for (size_t pos = 0; pos < n; pos += BLOCK) {
    int k = (int)(n - pos < BLOCK ? n - pos : BLOCK);
    if (asked >= 0) { /* the worker answered between the two run() calls */
      if (fading && old)
        qm_model_free(old);
      old = cur;
      fading = true;
      fade_pos = 0;
      cur = asked == n_steps - 1 ? NULL : engine_at(d, steps[asked].lo);
      warm = cur ? qm_model_prewarm_samples(cur) : 0;
      warm = warm < WARM_MAX ? warm : WARM_MAX;
      *warm_most = warm > *warm_most ? warm : *warm_most;
      fades[switches].at = pos + (size_t)warm;
      fades[switches].from = step_of_cur;
      fades[switches].to = asked;
      step_of_cur = asked;
      asked = -1;
      ++switches;
    }
    int want = step_at(steps, n_steps, plan_slim[(pos / SEG) % PLAN_N]);
    if (want != step_of_cur)
      asked = want;
    qm_model_process(full, x + pos, r, k);
    if (cur)
      qm_model_process(cur, x + pos, q, k);
    else
      memcpy(q, r, sizeof(float) * (size_t)k);
    if (fading) {
      if (old)
        qm_model_process(old, x + pos, old_out, k);
      else
        memcpy(old_out, r, sizeof(float) * (size_t)k);
      for (int i = 0; i < k && (warm > 0 || fade_pos < FADE); ++i) {
        if (warm > 0) {
          --warm;
          q[i] = old_out[i];
          continue;
        }
        float g = (float)(fade_pos + 1) / (float)FADE;
        q[i] = old_out[i] + g * (q[i] - old_out[i]);
        ++fade_pos;
      }
      if (fade_pos >= FADE) {
        if (old)
          qm_model_free(old);
        old = NULL;
        fading = false;
      }
    }
    memcpy(y + pos, q, sizeof(float) * (size_t)k);
  }
  if (old)
    qm_model_free(old);
  if (cur)
    qm_model_free(cur);
  qm_model_free(full);
  qt_dcblock dc;
  qt_dcblock_init(&dc, RATE);
  qt_dcblock_run(&dc, y, (int)n);
  return switches;
}

/* ---- Tests ---------------------------------------------------------------------------------- */

static void test_switching(const char *path, qm_desc *d, const float *x, size_t n)
{
  const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  printf("%s: slim moved across every breakpoint while playing (block %d)\n", base, BLOCK);
  float *y = malloc(n * sizeof(float)), *e = malloc(n * sizeof(float));
  float *u = malloc(n * sizeof(float));
  qm_slim_step steps[MAX_STEPS];
  int n_steps = qm_desc_slim_steps(d, steps, MAX_STEPS);

  /* unswitched renders: the click limit of each size */
  float lim_of[MAX_STEPS];
  for (int i = 0; i < n_steps; ++i) {
    qhost *h = playing(path, (float)steps[i].lo);
    qh_render(h, x, u, n, BLOCK, 0, NULL, NULL);
    lim_of[i] = max_step(u, 0, n);
    printf("        unswitched slim %.2f (%s): largest step %.5f\n", steps[i].lo, steps[i].label,
           lim_of[i]);
    qh_free(h);
  }
  /* what the plan asks for: switches of size, and moves inside one */
  int want_switches = 0, inside = 0;
  for (int sgm = 1; (size_t)sgm * SEG < n; ++sgm) {
    float a = plan_slim[(sgm - 1) % PLAN_N], b = plan_slim[sgm % PLAN_N];
    if (step_at(steps, n_steps, a) != step_at(steps, n_steps, b))
      ++want_switches;
    else if (a != b)
      ++inside;
  }

  qhost *h = playing(path, plan_slim[0]);
  int info0 = h->n_info;
  qh_allocs_in_run = qh_locks_in_run = 0;
  qh_render(h, x, y, n, BLOCK, 0, plan_cb, NULL);
  long allocs = qh_allocs_in_run, locks = qh_locks_in_run;
  int infos = h->n_info - info0;
  printf("        the plugin's last variant: %s\n", h->info_variant);
  qh_free(h);

  int warm_most = 0;
  fade_info fades[PLAN_N * 2];
  int switches = expected_render(d, x, e, n, &warm_most, fades);
  size_t fd = n;
  for (size_t i = 0; i < n && fd == n; ++i)
    if (memcmp(&y[i], &e[i], sizeof(float)))
      fd = i;
  CHECK(fd == n,
        "output == engine at each slim (qm_desc_at_slim + qm_model_create, warmed up to %d "
        "samples, %d-sample crossfades, DC blocker) bit-exact over %zu frames (first "
        "difference at %zu)",
        warm_most, FADE, n, fd);
  CHECK(switches == want_switches && infos == switches && inside > 0,
        "%d switches, %d modelInfo messages: nothing built for the %d moves inside a step",
        switches, infos, inside);
  if (qh_interposed)
    CHECK(allocs == 0 && locks == 0,
          "allocations %ld, mutex locks %ld in run()/work_response() while switching sizes", allocs,
          locks);

  /* clicks: around every crossfade (the switch itself changes nothing
     heard: the old size plays on while the new one warms up) */
  int bad = 0;
  float worst = 0;
  for (int k = 0; k < switches; ++k) {
    int from = fades[k].from, to = fades[k].to;
    size_t a = fades[k].at - BLOCK, b = fades[k].at + FADE + BLOCK;
    b = b < n ? b : n;
    float lim = fmaxf(lim_of[from], lim_of[to]), st = max_step(y, a, b);
    worst = fmaxf(worst, st / lim);
    if (st > lim) {
      ++bad;
      printf("        crossfade at %zu (size %d -> %d): step %.5f > %.5f\n", fades[k].at, from, to,
             st, lim);
    }
  }
  CHECK(bad == 0, "no click: largest step near a crossfade / unswitched limit = %.3f (<= 1)",
        worst);
  free(y);
  free(e);
  free(u);
}

static const float prec_plan[] = {32, 8, 4, 8, 2, 32};
#define PREC_N ((int)(sizeof prec_plan / sizeof *prec_plan))

static void prec_cb(qhost *h, size_t pos, uint32_t k, void *user)
{
  (void)k;
  (void)user;
  h->ctl[QT_PORT_PRECISION] = prec_plan[(pos / SEG) % PREC_N];
}

static void test_bits_while_slim(const float *x, size_t n)
{
  printf("Bit width switched while slim 0.5 plays (block %d)\n", BLOCK);
  float *y = malloc(n * sizeof(float)), *u = malloc(n * sizeof(float));
  float lim_of[33] = {0};
  for (int i = 0; i < PREC_N; ++i) {
    int p = (int)prec_plan[i];
    if (lim_of[p] > 0)
      continue;
    qhost *h = playing(container, 0.5f);
    h->ctl[QT_PORT_PRECISION] = (float)p;
    qh_settle(h);
    qh_render(h, x, u, n, BLOCK, 0, NULL, NULL);
    lim_of[p] = max_step(u, 0, n);
    printf("        unswitched %2d bits: largest step %.5f\n", p, lim_of[p]);
    qh_free(h);
  }
  qhost *h = playing(container, 0.5f);
  int info0 = h->n_info;
  qh_render(h, x, y, n, BLOCK, 0, prec_cb, NULL);
  int infos = h->n_info - info0;
  qh_free(h);
  int bad = 0, switches = 0;
  float worst = 0;
  for (int sgm = 1; (size_t)sgm * SEG < n; ++sgm) {
    int from = (int)prec_plan[(sgm - 1) % PREC_N], to = (int)prec_plan[sgm % PREC_N];
    if (from == to)
      continue;
    size_t a = (size_t)sgm * SEG - BLOCK, b = (size_t)sgm * SEG + 2 * BLOCK + 2 * FADE;
    float lim = fmaxf(lim_of[from], lim_of[to]), st = max_step(y, a, b);
    worst = fmaxf(worst, st / lim);
    ++switches;
    if (st > lim) {
      ++bad;
      printf("        switch at %d (%d -> %d bits): step %.5f > %.5f\n", sgm * SEG, from, to, st,
             lim);
    }
  }
  CHECK(bad == 0 && infos == switches,
        "%d switches (%d variants built), largest step near a switch / unswitched limit = %.3f "
        "(<= 1)",
        switches, infos, worst);
  free(y);
  free(u);
}

static void test_esr(const float *x, size_t n)
{
  printf("esr_db against the full-size FP32 model\n");
  float *y0 = malloc(n * sizeof(float)), *y1 = malloc(n * sizeof(float));
  qhost *h = playing(container, 1.0f);
  qh_render(h, x, y1, n, 256, 0, NULL, NULL);
  float port1 = h->ctl[QT_PORT_ESR_DB];
  qh_free(h);
  h = playing(container, 0.0f);
  qh_render(h, x, y0, n, 256, 0, NULL, NULL);
  float port0 = h->ctl[QT_PORT_ESR_DB];
  float wb0 = h->ctl[QT_PORT_WEIGHT_BYTES];
  qh_free(h);
  /* the window: the last 50 segments of 960 samples (1 s at 48 kHz) */
  size_t end = n / 960 * 960, start = end - RATE;
  double off = 10 * log10(ref_compare(y0 + start, y1 + start, end - start).esr);
  CHECK(fabs(port0 - off) < 0.01 && port0 > -60.0f,
        "slim 0: esr_db %.3f dB = offline ESR of the slim-0 render against the full render "
        "%.3f dB (weight memory %.0f bytes)",
        port0, off, wb0);
  CHECK(port1 <= -119.0f, "slim 1 FP32: esr_db %.1f dB (the floor)", port1);
  free(y0);
  free(y1);
}

static void test_sqnr(qm_desc *d, const float *x)
{
  printf("Per-layer SQNR of a smaller size\n");
  qm_model *half = engine_at(d, 0.5), *full = engine_at(d, 1.0);
  int want = half ? qm_model_layer_count(half) : -1;
  int n_full = full ? qm_model_layer_count(full) : -1;
  qhost *h = qh_new(plugin, RATE);
  h->alive_every = 12000; /* a UI is open: SQNR streams */
  h->ctl[QT_PORT_PRECISION] = 8;
  h->ctl[QT_PORT_SLIM] = 0.5f;
  qh_set_model(h, container);
  qh_settle(h);
  float y[4800];
  qh_render(h, x, y, 4800, BLOCK, 0, NULL, NULL);
  CHECK(h->n_sqnr > 0 && h->sqnr_layers == want && want != n_full,
        "8 bits at slim 0.5: %d SQNR messages of %d layers (the size has %d, the full model %d)",
        h->n_sqnr, h->sqnr_layers, want, n_full);
  qh_free(h);
  qm_model_free(half);
  qm_model_free(full);
}

/**
   The weights panel and the memory meter as an open UI gets them while
   each size of `path` plays, at FP32 and at 4 bits (with `halves` also at
   16 in both forms), against an engine of that size built here: the
   histogram of every weight matrix the modelInfo lists (asked for with
   qt:histogramLayer), and the float format each histogram names
   (qt:weightFormat: the GUI's caption where there are no levels).
*/
static void test_weights_panel(const char *path, qm_desc *d, bool halves)
{
  const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  printf("%s: weights panel and memory meter at each size\n", base);
  qm_slim_step steps[MAX_STEPS];
  int n_steps = qm_desc_slim_steps(d, steps, MAX_STEPS);
  qm_model *full = engine_at(d, 1.0);
  long long full_bytes = full ? (long long)qm_model_weight_bytes(full) : -2;
  /** precision, half_form, the qt:weightFormat every histogram must say */
  static const struct {
    int bits, half;
    const char *format;
  } widths[] = {{32, QT_HALF_FP16, "FP32"},
                {4, QT_HALF_FP16, ""},
                {16, QT_HALF_FP16, "FP16"},
                {16, QT_HALF_BF16, "BF16"}};
  const int n_widths = halves ? 4 : 2;
  for (int s = 0; s < n_steps; ++s) {
    qm_model *e = engine_at(d, steps[s].lo);
    if (!e) {
      CHECK(false, "%s: no engine at slim %g", base, steps[s].lo);
      continue;
    }
    int n_lin = qm_model_linear_count(e);
    long long bytes = (long long)qm_model_weight_bytes(e);
    for (int b = 0; b < n_widths; ++b) {
      qhost *h = qh_new(plugin, RATE);
      h->alive_every = 12000; /* a UI is open: histograms stream */
      h->ctl[QT_PORT_PRECISION] = (float)widths[b].bits;
      h->ctl[QT_PORT_HALF_FORM] = (float)widths[b].half;
      h->ctl[QT_PORT_SLIM] = (float)steps[s].lo;
      qh_set_model(h, path);
      qh_settle(h);
      float in[BLOCK] = {0}, out[BLOCK];
      long long hist_weights = 0, want_weights = 0;
      int bad = 0, with_levels = 0, most_levels = 0;
      for (int i = 0; i < n_lin; ++i) {
        qm_linear *L = qm_model_linear(e, i);
        int n_hist = h->n_hist;
        qh_set_hist_layer(h, i);
        for (int k = 0; k < 4 && h->n_hist == n_hist; ++k)
          qh_run(h, in, out, BLOCK);
        hist_weights += h->hist_bins_total;
        want_weights += (long long)L->in * L->out;
        with_levels += h->hist_levels > 0;
        most_levels = h->hist_levels > most_levels ? h->hist_levels : most_levels;
        if (h->n_hist == n_hist || strcmp(h->hist_layer, L->name) ||
            h->hist_bins_total != L->in * L->out ||
            strcmp(h->hist_size, n_steps > 1 ? steps[s].label : "") ||
            strcmp(h->hist_format, widths[b].format)) {
          if (bad++ < 3)
            printf("        matrix %d %s (%d weights): histogram of '%s', %d weights, size '%s', "
                   "format '%s'\n",
                   i, L->name, L->in * L->out, h->hist_layer, h->hist_bins_total, h->hist_size,
                   h->hist_format);
        }
      }
      const bool quantized = widths[b].bits < 16;
      bool levels_ok = quantized ? with_levels > 0 && most_levels <= 16 : with_levels == 0;
      bool bytes_ok = h->info_size_bytes_fp32 == bytes && h->info_bytes_fp32 == full_bytes &&
                      (widths[b].bits == 32 ? h->info_bytes == bytes : h->info_bytes < bytes);
      CHECK(bad == 0 && levels_ok && bytes_ok && h->info_linears == n_lin,
            "slim %.2f (%s), %d bits%s%s: %d matrices listed (the size has %d), histograms of "
            "%lld weights (the size's matrices %lld; %d with levels, at most %d; format '%s'); "
            "weight bytes %lld against FP32 of this size %lld (engine %lld), full size %lld "
            "(engine %lld)",
            steps[s].lo, steps[s].label, widths[b].bits, widths[b].bits == 16 ? " " : "",
            widths[b].bits == 16 ? widths[b].format : "", h->info_linears, n_lin, hist_weights,
            want_weights, with_levels, most_levels, h->hist_format, h->info_bytes,
            h->info_size_bytes_fp32, bytes, h->info_bytes_fp32, full_bytes);
      qh_free(h);
    }
    qm_model_free(e);
  }
  qm_model_free(full);
}

/** `plain`: a model with one size (the reference's A1 WaveNet; the
    bundle's default is a container). */
static void test_plain(const char *plain, const float *x, size_t n)
{
  printf("A plain model ignores slim (%s)\n", plain);
  float *y0 = malloc(n * sizeof(float)), *y1 = malloc(n * sizeof(float));
  qhost *h = playing(plain, 1.0f);
  qh_render(h, x, y1, n, BLOCK, 0, NULL, NULL);
  qh_free(h);
  h = playing(plain, 0.0f);
  int info0 = h->n_info;
  qh_render(h, x, y0, n, BLOCK, 0, plan_cb, NULL);
  int infos = h->n_info - info0;
  qh_free(h);
  CHECK(!memcmp(y0, y1, n * sizeof(float)) && infos == 0,
        "slim 0 and slim moving through %d values render bit-identical to slim 1, %d variants "
        "built",
        PLAN_N, infos);
  free(y0);
  free(y1);
}

int main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: %s BUNDLE_DIR NAM_REFERENCE_DIR [MODELS_DIR]\n", argv[0]);
    return 2;
  }
  char in_path[1200];
  snprintf(container, sizeof container, "%s/current/slimmable_container.nam", argv[2]);
  snprintf(in_path, sizeof in_path, "%s/input.wav", argv[2]);
  size_t n = 0;
  float *x = ref_read_wav(in_path, &n);
  char err[512];
  qm_desc *d = x ? qm_load_file(container, err, sizeof err) : NULL;
  if (!d) {
    printf("SKIP: %s or %s not readable\n", in_path, container);
    return 77;
  }
  LilvWorld *world = lilv_world_new();
  qh_world_init(world);
  plugin = qh_find_plugin(world, argv[1]);
  if (!plugin)
    return 1;
  test_switching(container, d, x, n);
  test_weights_panel(container, d, true);
  /** A real trained capture (A2 nano / A2 standard at 0.5), a WaveNet
      whose layer array is slimmable (1, 2 or 3 channels), and the
      bundle's own A2 container (trained by quantone-train, written by
      its container command) when the models directory is given. */
  static const char *const more[] = {"A2.nam", "slimmable_wavenet.nam"};
  const int n_more = argc > 3 ? 3 : 2;
  for (int i = 0; i < n_more; ++i) {
    char path[1200];
    if (i < 2)
      snprintf(path, sizeof path, "%s/current/%s", argv[2], more[i]);
    else
      snprintf(path, sizeof path, "%s/overdrive_a2.nam", argv[3]);
    qm_desc *d2 = qm_load_file(path, err, sizeof err);
    if (!d2)
      CHECK(false, "loading %s: %s", path, err);
    else
      test_switching(path, d2, x, n);
    if (d2)
      test_weights_panel(path, d2, false);
    qm_desc_free(d2);
  }
  test_bits_while_slim(x, n);
  test_esr(x, n);
  test_sqnr(d, x);
  char plain[1200];
  snprintf(plain, sizeof plain, "%s/wavenet_a1_standard.nam", argv[2]);
  test_plain(plain, x, n);
  qm_desc_free(d);
  free(x);
  lilv_world_free(world);
  printf("%s\n", qh_failures ? "FAILED" : "all passed");
  return qh_failures ? 1 : 0;
}
