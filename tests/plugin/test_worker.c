/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The plugin's worker side through the lilv test host (host.c): how model
  loads are requested, coalesced and installed, what a host without a
  worker gets, what the state keeps, and how a model at another rate is
  swapped in. Usage: test_worker BUNDLE_DIR NAM_REFERENCE_DIR TMP_DIR
  (QH_ONLY=name runs one group). Each group prints its figures:
  - storm: patch:Set of the model every block, with a small queue and a
    slow worker (one job per 8 blocks): no schedule is refused, only the
    last file is parsed, and a precision change made during the storm is
    heard during it;
  - inbox: a model answer that finds the plugin's inbox full does not
    block later loads;
  - longpath: a path near 4 KB is loaded (or refused for what it is, not
    for a full queue), a longer one is refused naming the limit;
  - noworker: URID map but no worker: run() stays short while a precision
    change and a model load are prepared, and both take effect;
  - state: a restored path that cannot be loaded is kept for the next
    save and announced as "model missing: PATH", until another model is
    loaded;
  - rates: swapping to a 44.1 kHz and to a 6 kHz model while a steady tone
    plays leaves no 1 ms window near silence.
*/
#include "host.h"

#include <lv2/atom/atom.h>
#include <lv2/state/state.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const LilvPlugin *plugin;
static const char *nam_dir, *tmp_dir, *bundle_dir;
static char model_path[1024], lstm_path[1024], default_path[1024];

#define CHECK qh_check

static void sine(float *x, size_t n, double f, double rate, float amp)
{
  for (size_t i = 0; i < n; ++i)
    x[i] = amp * (float)sin(2 * M_PI * f * (double)i / rate);
}

static void sleep_ms(int ms)
{
  struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

/* ---- 13. Coalesced loads ------------------------------------------------------------ */

static void test_storm(void)
{
  printf("Model load storm: patch:Set every block; a 2 KB worker queue taking one job every "
         "8 blocks\n");
  qh_opts o = {.queue_limit = 2048, .worker_every = 8, .jobs_per_round = 1};
  qhost *h = qh_new_opts(plugin, 48000, &o);
  h->ctl[QT_PORT_PRECISION] = 8;
  for (int i = 0; i < 80; ++i)
    qh_run(h, NULL, NULL, 0);
  const char *files[3] = {model_path, lstm_path, default_path};
  float x[256], y[256];
  sine(x, 256, 220, 48000, 0.3f);
  long loads0 = qh_loads_logged;
  int fails0 = h->n_sched_fail;
  const int storm = 96, change = 24;
  int heard4 = -1;
  const char *last = NULL;
  for (int b = 0; b < storm; ++b) {
    last = files[b % 3];
    qh_set_model(h, last);
    if (b == change)
      h->ctl[QT_PORT_PRECISION] = 4;
    qh_run(h, x, y, 256);
    if (heard4 < 0 && b >= change && strstr(h->info_variant, "4-bit"))
      heard4 = b - change;
  }
  long parsed_storm = qh_loads_logged - loads0;
  for (int b = 0; b < 400; ++b)
    qh_run(h, x, y, 256);
  long parsed = qh_loads_logged - loads0;
  int fails = h->n_sched_fail - fails0;
  CHECK(fails == 0, "%d schedule_work() calls refused (queue full) during %d requests", fails,
        storm);
  CHECK(parsed <= 2 && parsed >= 1, "%ld files parsed for %d requests (%ld while they kept coming)",
        parsed, storm, parsed_storm);
  CHECK(!strcmp(h->last_path, last), "the last request plays: %s", h->last_path);
  CHECK(heard4 >= 0,
        "precision 4, set during the storm, playing %d blocks later (-1: not "
        "before the storm ended, %d blocks later)",
        heard4, storm - change);
  CHECK(strstr(h->info_variant, "4-bit") != NULL, "and after it: \"%s\"", h->info_variant);
  qh_free(h);
}

/** More answers at once than the plugin's inbox holds (histogram requests
    piling up behind a busy worker) must not leave the load slot taken. */
static void test_inbox(void)
{
  printf("A model answer that finds the plugin's inbox full\n");
  qh_opts o = {.worker_every = 64};
  qhost *h = qh_new_opts(plugin, 48000, &o);
  for (int i = 0; i < 64; ++i)
    qh_run(h, NULL, NULL, 0);
  for (int b = 0; b < 40; ++b) {
    qh_set_hist_layer(h, b % 3);
    if (b == 39)
      qh_set_model(h, model_path);
    qh_run(h, NULL, NULL, 0);
  }
  for (int i = 0; i < 3 * 64; ++i)
    qh_run(h, NULL, NULL, 0);
  CHECK(!strcmp(h->last_path, model_path), "the model behind 39 histograms loads: %s",
        h->last_path);
  qh_set_model(h, lstm_path);
  for (int i = 0; i < 2 * 64; ++i)
    qh_run(h, NULL, NULL, 0);
  CHECK(!strcmp(h->last_path, lstm_path), "and the next one too: %s", h->last_path);
  qh_free(h);
}

/* ---- 15. Long paths ------------------------------------------------------------------- */

static void long_path(char *buf, size_t len)
{
  /* components under NAME_MAX, so the file system says "no such file" */
  size_t k = (size_t)snprintf(buf, len + 1, "%s/no-such-dir", tmp_dir);
  while (k < len) {
    buf[k] = (k % 200 == 0) ? '/' : 'a';
    ++k;
  }
  buf[len] = 0;
}

static void test_longpath(void)
{
  printf("Long model paths (a jalv-sized 4 KB worker queue)\n");
  qh_opts o = {.queue_limit = 4096};
  qhost *h = qh_new_opts(plugin, 48000, &o);
  qh_settle(h);
  static char p[6000];
  long_path(p, 4090);
  int e0 = h->n_errors;
  qh_set_model(h, p);
  qh_settle(h);
  CHECK(h->n_errors > e0 && !strstr(h->last_error, "queue") && !strstr(h->last_error, "again"),
        "4090-byte path: the load was tried, message \"%.60s...%s\"", h->last_error,
        strlen(h->last_error) > 40 ? h->last_error + strlen(h->last_error) - 40 : "");
  long_path(p, 5000);
  e0 = h->n_errors;
  qh_set_model(h, p);
  qh_settle(h);
  CHECK(h->n_errors > e0 && strstr(h->last_error, "too long") && strstr(h->last_error, "4095"),
        "5000-byte path: \"%s\"", h->last_error);
  qh_set_model(h, model_path);
  qh_settle(h);
  CHECK(!strcmp(h->last_path, model_path), "a good path afterwards loads: %s", h->last_path);
  qh_free(h);
}

/* ---- 16. No worker --------------------------------------------------------------------- */

/** run() of 256 frames (5.3 ms at 48 kHz) playing, at most, two models
    and the reference through a crossfade; a file load or a variant build
    in it costs 100 ms and more. AddressSanitizer builds run about 4 times
    slower (as meson's --timeout-multiplier 4 for them assumes). */
#ifdef __SANITIZE_ADDRESS__
#define RUN_LIMIT_S 0.020
#else
#define RUN_LIMIT_S 0.005
#endif

static void test_noworker(void)
{
  printf("Host with URID map but no worker\n");
  qh_opts o = {.no_worker = true};
  qhost *h = qh_new_opts(plugin, 48000, &o);
  CHECK(h != NULL, "instantiated without a worker");
  if (!h)
    return;
  h->ctl[QT_PORT_PRECISION] = 8;
  qh_get(h);
  float x[256], y[256];
  sine(x, 256, 220, 48000, 0.3f);
  for (int i = 0; i < 20; ++i)
    qh_run(h, x, y, 256);
  float wb8 = h->ctl[QT_PORT_WEIGHT_BYTES];
  h->max_run_s = h->max_run_cpu_s = 0;
  long a0 = qh_allocs_in_run, l0 = qh_locks_in_run;
  h->ctl[QT_PORT_PRECISION] = 4;
  qh_set_model(h, model_path);
  /* blocks at about real-time pace (5.3 ms each), up to 20 s */
  double waited = 0;
  int blocks = 0;
  bool loaded = false, switched = false;
  for (; blocks < 4000 && !(loaded && switched); ++blocks) {
    qh_run(h, x, y, 256);
    loaded = !strcmp(h->last_path, model_path);
    switched = strstr(h->info_variant, "4-bit") != NULL && h->ctl[QT_PORT_WEIGHT_BYTES] != wb8;
    sleep_ms(5);
    waited += 0.005;
  }
  long a = qh_allocs_in_run - a0, l = qh_locks_in_run - l0;
  CHECK(loaded && switched, "model loaded (%d) and 4 bits playing (%d, \"%s\") after %d blocks",
        loaded, switched, h->info_variant, blocks);
  CHECK(h->max_run_cpu_s < RUN_LIMIT_S,
        "longest run() of 256 frames meanwhile: %.2f ms of CPU (limit %.0f ms; %.2f ms "
        "wall-clock, other processes included)",
        1e3 * h->max_run_cpu_s, 1e3 * RUN_LIMIT_S, 1e3 * h->max_run_s);
  if (qh_interposed)
    CHECK(a == 0 && l == 0, "allocations %ld, mutex locks %ld in run()", a, l);
  qh_free(h);

  /* an offline host: controls set before activate are heard from sample 0 */
  qhost *g = qh_new_opts(plugin, 48000, &o);
  qh_opts w = {0};
  qhost *r = qh_new_opts(plugin, 48000, &w);
  lilv_instance_deactivate(g->inst);
  lilv_instance_deactivate(r->inst);
  g->ctl[QT_PORT_PRECISION] = r->ctl[QT_PORT_PRECISION] = 2;
  lilv_instance_activate(g->inst);
  lilv_instance_activate(r->inst);
  qh_settle(r); /* the synchronous worker prepares it before audio */
  static float yg[4800], yr[4800], xx[4800];
  sine(xx, 4800, 220, 48000, 0.3f);
  qh_render(g, xx, yg, 4800, 1, 0, NULL, NULL);
  qh_render(r, xx, yr, 4800, 1, 0, NULL, NULL);
  size_t d = 0;
  while (d < 4800 && yg[d] == yr[d])
    ++d;
  CHECK(d == 4800,
        "precision set before activate plays from the first sample "
        "(first difference to a worker host: %zu of 4800)",
        d);
  qh_free(g);
  qh_free(r);
}

/* ---- 10. Missing model in a saved session --------------------------------------------- */

typedef struct {
  LV2_URID key, type;
  char value[4200];
  const char *give; /**< retrieve: the model path to hand over */
} state_io;

static LV2_State_Status store_fn(LV2_State_Handle sh, uint32_t key, const void *value, size_t size,
                                 uint32_t type, uint32_t flags)
{
  (void)flags;
  state_io *s = sh;
  if (key == s->key && size < sizeof s->value) {
    memcpy(s->value, value, size);
    s->value[size] = 0;
    s->type = type;
  }
  return LV2_STATE_SUCCESS;
}

static const void *retrieve_fn(LV2_State_Handle sh, uint32_t key, size_t *size, uint32_t *type,
                               uint32_t *flags)
{
  state_io *s = sh;
  if (key != s->key)
    return NULL;
  *size = strlen(s->give) + 1;
  *type = qh_map()->map(qh_map()->handle, LV2_ATOM__Path);
  *flags = LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE;
  return s->give;
}

static const char *saved_path(qhost *h, const LV2_State_Interface *si, state_io *io)
{
  io->value[0] = 0;
  si->save(lilv_instance_get_handle(h->inst), store_fn, io, LV2_STATE_IS_POD, NULL);
  return io->value;
}

static void test_state(void)
{
  printf("Session with a missing model file\n");
  char gone[1200];
  snprintf(gone, sizeof gone, "%s/moved-away/amp.nam", tmp_dir);
  qhost *h = qh_new(plugin, 48000);
  const LV2_State_Interface *si = lilv_instance_get_extension_data(h->inst, LV2_STATE__interface);
  state_io io;
  memset(&io, 0, sizeof io);
  io.key = qh_map()->map(qh_map()->handle, QUANTONE__model);
  io.give = gone;
  int e0 = h->n_errors;
  si->restore(lilv_instance_get_handle(h->inst), retrieve_fn, &io, 0, NULL);
  qh_get(h);
  qh_settle(h);
  char want[1300];
  snprintf(want, sizeof want, "model missing: %s", gone);
  CHECK(h->n_errors > e0 && !strncmp(h->last_error, want, strlen(want)),
        "restore: message \"%.200s\"", h->last_error);
  CHECK(strstr(h->last_path, bundle_dir) != NULL, "the default model plays: %s", h->last_path);
  const char *p = saved_path(h, si, &io);
  CHECK(!strcmp(p, gone), "saved again: the path is still the missing one (%s)", p);
  float x[256], y[256];
  sine(x, 256, 220, 48000, 0.3f);
  for (int i = 0; i < 10; ++i)
    qh_run(h, x, y, 256);
  p = saved_path(h, si, &io);
  CHECK(!strcmp(p, gone), "and after playing and switching nothing: %s", p);
  /* A GUI opened after the restore asks with patch:Get: it must learn why
     the default plays, not only that it does. */
  e0 = h->n_errors;
  h->last_error[0] = '\0';
  qh_get(h);
  qh_settle(h);
  CHECK(h->n_errors > e0 && !strncmp(h->last_error, want, strlen(want)),
        "patch:Get later: \"model missing\" sent again (\"%.120s\")", h->last_error);
  qh_set_model(h, model_path);
  qh_settle(h);
  p = saved_path(h, si, &io);
  CHECK(!strcmp(p, model_path), "after the user loads a model the state names it: %s", p);
  e0 = h->n_errors;
  qh_get(h);
  qh_settle(h);
  CHECK(h->n_errors == e0, "patch:Get once it plays: no \"model missing\" (%d errors)",
        h->n_errors - e0);
  qh_free(h);
}

/* ---- 12. Swapping in a model at another rate ------------------------------------------- */

/** A copy of the bundle's default model that says it was trained at rate:
    every "sample_rate" in it, since a SlimmableContainer's submodels must
    state the container's rate. */
static bool model_at_rate(const char *out, int rate)
{
  FILE *f = fopen(default_path, "rb");
  if (!f)
    return false;
  static char buf[1 << 21];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  const char *key = "\"sample_rate\": 48000";
  const char *from = buf;
  char *at = strstr(from, key);
  if (!at)
    return false;
  FILE *g = fopen(out, "wb");
  if (!g)
    return false;
  for (; at; at = strstr(from, key)) {
    fwrite(from, 1, (size_t)(at - from), g);
    fprintf(g, "\"sample_rate\": %d", rate);
    from = at + strlen(key);
  }
  fputs(from, g);
  return fclose(g) == 0;
}

static double rms(const float *y, size_t a, size_t b)
{
  double s = 0;
  for (size_t i = a; i < b; ++i)
    s += (double)y[i] * y[i];
  return sqrt(s / (double)(b - a));
}

static void swap_to(int rate)
{
  char path[1200];
  snprintf(path, sizeof path, "%s/default-at-%d.nam", tmp_dir, rate);
  if (!model_at_rate(path, rate)) {
    CHECK(false, "writing %s", path);
    return;
  }
  qhost *h = qh_new(plugin, 48000);
  h->ctl[QT_PORT_PRECISION] = 32;
  qh_settle(h);
  size_t n = 48000 * 3 / 2, at = 24000;
  float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
  sine(x, n, 1500, 48000, 0.3f); /* 1.5 cycles per 1 ms window; under 3 kHz */
  qh_render(h, x, y, at, 256, 0, NULL, NULL);
  qh_set_model(h, path);
  qh_render(h, x + at, y + at, n - at, 256, 0, NULL, NULL);
  int lat = (int)h->ctl[QT_PORT_LATENCY];
  double before = rms(y, at - 12000, at), after = rms(y, n - 12000, n);
  double steady = before < after ? before : after, worst = INFINITY;
  size_t worst_at = 0;
  for (size_t i = at - 4800; i + 48 <= at + 24000; i += 12) {
    double r = rms(y, i, i + 48);
    if (r < worst) {
      worst = r;
      worst_at = i;
    }
  }
  CHECK(!strcmp(h->last_path, path) && lat > 0, "%d Hz model swapped in (latency %d frames)", rate,
        lat);
  /* a crossfade between two different sounds may partly cancel; silence
     is the resampler's start-up zeros faded in */
  CHECK(worst >= 0.2 * steady,
        "quietest 1 ms window %.4f at %+.1f ms from the swap, steady level %.4f / %.4f "
        "(before / after; need >= 0.2 x the lower)",
        worst, 1e3 * ((double)worst_at - (double)at) / 48000.0, before, after);
  qh_free(h);
  free(x);
  free(y);
}

static void test_rates(void)
{
  printf("Swapping in a model at another rate while a tone plays (host 48 kHz)\n");
  swap_to(44100);
  swap_to(6000);
}

int main(int argc, char **argv)
{
  if (argc != 4) {
    fprintf(stderr, "usage: %s BUNDLE_DIR NAM_REFERENCE_DIR TMP_DIR\n", argv[0]);
    return 2;
  }
  bundle_dir = argv[1], nam_dir = argv[2], tmp_dir = argv[3];
  snprintf(model_path, sizeof model_path, "%s/wavenet_a1_standard.nam", nam_dir);
  snprintf(lstm_path, sizeof lstm_path, "%s/lstm.nam", nam_dir);
  if (access(model_path, R_OK) != 0 || access(lstm_path, R_OK) != 0) {
    printf("skip: %s or %s not found\n", model_path, lstm_path);
    return 77;
  }
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "mkdir -p '%s'", tmp_dir);
  if (system(cmd) != 0) {
    printf("cannot create %s\n", tmp_dir);
    return 1;
  }

  LilvWorld *world = lilv_world_new();
  qh_world_init(world);
  if (!(plugin = qh_find_plugin(world, bundle_dir)))
    return 1;
  char *abs = realpath(bundle_dir, NULL);
  snprintf(default_path, sizeof default_path, "%s/overdrive_a2.nam", abs ? abs : bundle_dir);
  free(abs);

  const char *only = getenv("QH_ONLY");
#define WANT(name) (!only || !strcmp(only, name))
  if (WANT("storm"))
    test_storm();
  if (WANT("inbox"))
    test_inbox();
  if (WANT("longpath"))
    test_longpath();
  if (WANT("noworker"))
    test_noworker();
  if (WANT("state"))
    test_state();
  if (WANT("rates"))
    test_rates();

  lilv_world_free(world);
  printf("%s (%d failure%s)\n", qh_failures ? "FAILED" : "all passed", qh_failures,
         qh_failures == 1 ? "" : "s");
  return qh_failures ? 1 : 0;
}
