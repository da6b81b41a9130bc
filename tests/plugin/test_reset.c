/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Resets inside run() (issue 11, defect 4), in the real quantone.lv2 through
  the lilv test host (host.c), which times each run() call and counts
  allocations and mutex locks inside it.
  Usage: test_reset BUNDLE_DIR MODELS_DIR TMP_DIR
  Asserts, each printed with its figures:
  - NaN / Inf input blocks (the plugin's recover()) cost about what a normal
    block costs: for the default WaveNet at 8 bits (int8 dynamic) and at
    FP32 and for an LSTM, at least 90% of the NaN blocks take less than
    2x the median normal block + 0.5 ms (the old reset prewarmed every
    model again: 3-11 ms per NaN block), with no allocation or lock;
  - a model that blows up on signal (head_scale 3e37: its output on silence,
    about -0.04 * 3e37, is finite, a loud note overflows) is accepted and
    reset on every block at the same cost bound;
  - a model whose weights are all 1e38 is refused at load with a message
    naming the file, and the previous model keeps playing, bit for bit;
  - after a NaN block the output equals a fresh instance's (prewarmed)
    output for the rest of the input, bit for bit.
  Times are ratios against the same process's normal blocks, and 90% of
  the NaN blocks rather than all of them, so a busy shared machine does
  not fail the test while a prewarm in run() does.
*/
#include "host.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const LilvPlugin *plugin;
static const char *bundle_dir, *models_dir, *tmp_dir;
static char default_model[1024];

#define CHECK qh_check

#define BLOCK 256

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n)
{
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n ? v[n / 2] : 0;
}

static size_t first_diff(const float *a, const float *b, size_t n)
{
  for (size_t i = 0; i < n; ++i)
    if (memcmp(&a[i], &b[i], sizeof(float)))
      return i;
  return n;
}

/** A guitar-ish test signal: two decaying plucks per second, peak `amp`. */
static float *signal(size_t n, float amp)
{
  float *x = malloc(n * sizeof(float));
  for (size_t i = 0; i < n; ++i) {
    double t = (double)(i % 24000) / 48000.0;
    double f = (i / 24000) % 2 ? 110.0 : 164.81;
    x[i] = (float)(amp * exp(-3.0 * t) *
                   (0.7 * sin(2 * M_PI * f * t) + 0.3 * sin(2 * M_PI * 2.01 * f * t)));
  }
  return x;
}

static qhost *instance(const char *model, int precision, int activations)
{
  qhost *h = qh_new(plugin, 48000);
  if (!h)
    return NULL;
  h->ctl[QT_PORT_PRECISION] = (float)precision;
  h->ctl[QT_PORT_ACTIVATIONS] = (float)activations;
  if (model)
    qh_set_model(h, model);
  qh_settle(h);
  qh_settle(h);
  return h;
}

/* ---- Model files made by the test --------------------------------------------------------- */

/**
   Copy the .nam at src to dst with every number of its last non-empty
   "weights" array replaced by edit(index, value): a plain model's
   top-level weights, or the last (full-size) submodel's in a
   SlimmableContainer, whose own top-level list is empty. Numbers are
   rewritten with 17 significant digits (exact).
*/
static bool rewrite_weights(const char *src, const char *dst, double (*edit)(size_t, double))
{
  FILE *f = fopen(src, "rb");
  if (!f)
    return false;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *text = malloc((size_t)len + 1);
  bool ok = fread(text, 1, (size_t)len, f) == (size_t)len;
  fclose(f);
  text[len] = 0;
  char *open = NULL;
  for (char *p = strstr(text, "\"weights\""); p; p = strstr(p + 1, "\"weights\"")) {
    char *list = strchr(p, '[');
    char *first = list ? list + 1 + strspn(list + 1, " \t\r\n") : NULL;
    if (first && *first != ']')
      open = list;
  }
  FILE *o = ok && open ? fopen(dst, "wb") : NULL;
  if (!o) {
    free(text);
    return false;
  }
  fwrite(text, 1, (size_t)(open + 1 - text), o);
  char *p = open + 1;
  size_t idx = 0;
  for (;;) {
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t' || *p == ',')
      ++p;
    if (*p == ']' || !*p)
      break;
    char *end;
    double v = strtod(p, &end);
    if (end == p) {
      ok = false;
      break;
    }
    fprintf(o, "%s%.17g", idx ? ", " : "", edit(idx, v));
    ++idx;
    p = end;
  }
  fputs(p, o);
  fclose(o);
  free(text);
  return ok && idx > 0;
}

static double all_huge(size_t i, double v)
{
  (void)i;
  (void)v;
  return 1e38;
}

/** NAM stores a WaveNet's head_scale as the last weight of the file. */
static size_t n_weights;
static double count_weights(size_t i, double v)
{
  n_weights = i + 1;
  return v;
}
static double huge_head_scale(size_t i, double v) { return i + 1 == n_weights ? 3e37 : v; }

/* ---- Timing -------------------------------------------------------------------------------- */

typedef struct {
  double med_normal, med_bad, max_bad, max_normal;
  int n_bad, n_over; /* bad blocks, and those over the bound */
  int silent_blocks;
  long allocs, locks;
  bool silent_bad, finite;
} timing;

/**
   Render `blocks` blocks of x through h; blocks for which bad[] is true
   get a NaN (odd ones an Inf) at a varying position. The first 20 blocks
   only warm up caches.
*/
static timing time_blocks(qhost *h, const float *x, int blocks, const bool *bad)
{
  timing t;
  memset(&t, 0, sizeof t);
  double *tn = malloc(sizeof(double) * (size_t)blocks),
         *tb = malloc(sizeof(double) * (size_t)blocks);
  int nn = 0, nb = 0;
  float in[BLOCK], out[BLOCK];
  t.silent_bad = t.finite = true;
  qh_allocs_in_run = qh_locks_in_run = 0;
  for (int b = 0; b < blocks; ++b) {
    memcpy(in, x + (size_t)b * BLOCK, sizeof in);
    if (bad[b])
      in[(b * 37) % BLOCK] = b % 2 ? INFINITY : NAN;
    qh_run(h, in, out, BLOCK);
    bool silent = true;
    for (int i = 0; i < BLOCK; ++i)
      silent = silent && out[i] == 0.0f;
    t.silent_blocks += silent;
    for (int i = 0; i < BLOCK; ++i) {
      t.finite = t.finite && isfinite(out[i]);
      if (bad[b])
        t.silent_bad = t.silent_bad && out[i] == 0.0f;
    }
    if (b < 20)
      continue;
    if (bad[b]) {
      tb[nb++] = h->last_run_s;
      t.max_bad = fmax(t.max_bad, h->last_run_s);
    } else {
      tn[nn++] = h->last_run_s;
      t.max_normal = fmax(t.max_normal, h->last_run_s);
    }
  }
  t.allocs = qh_allocs_in_run;
  t.locks = qh_locks_in_run;
  t.med_normal = median(tn, nn);
  const double bound = 2 * t.med_normal + 0.5e-3;
  for (int i = 0; i < nb; ++i)
    t.n_over += tb[i] >= bound;
  t.n_bad = nb;
  t.med_bad = median(tb, nb);
  free(tn);
  free(tb);
  return t;
}

static void report(const char *what, const timing *t)
{
  printf("        %s: normal block median %.3f ms (max %.3f), NaN block median %.3f ms, "
         "max %.3f ms\n",
         what, 1e3 * t->med_normal, 1e3 * t->max_normal, 1e3 * t->med_bad, 1e3 * t->max_bad);
  CHECK(t->n_bad > 0 && t->n_over * 10 <= t->n_bad,
        "%s: %d of %d NaN/Inf blocks over 2 x median + 0.5 ms = %.3f ms (at most 10%%)", what,
        t->n_over, t->n_bad, 1e3 * (2 * t->med_normal + 0.5e-3));
  CHECK(t->silent_bad && t->finite, "%s: NaN blocks silent (%d), all output finite (%d)", what,
        t->silent_bad, t->finite);
  if (qh_interposed)
    CHECK(t->allocs == 0 && t->locks == 0, "%s: %ld allocations, %ld locks in run()", what,
          t->allocs, t->locks);
}

static void test_nan_time(const char *what, const char *model, int precision, int activations)
{
  printf("NaN input blocks: %s\n", what);
  enum { BLOCKS = 400 };
  float *x = signal((size_t)BLOCKS * BLOCK, 0.4f);
  bool bad[BLOCKS];
  for (int b = 0; b < BLOCKS; ++b)
    bad[b] = b >= 20 && b % 8 == 5;
  qhost *h = instance(model, precision, activations);
  if (!h) {
    CHECK(false, "%s: instantiate", what);
    free(x);
    return;
  }
  timing t = time_blocks(h, x, BLOCKS, bad);
  report(what, &t);
  qh_free(h);
  free(x);
}

/** Every block of a model that blows up on this input is reset. */
static void test_blowup_time(void)
{
  printf("A model that blows up on signal\n");
  char path[1200], a1[1200];
  snprintf(path, sizeof path, "%s/blowup.nam", tmp_dir);
  /* an A1 WaveNet, whose last weight is its head_scale (the default A2
     model's head sum on silence is too large for this scale to stay finite) */
  snprintf(a1, sizeof a1, "%s/overdrive_standard.nam", models_dir);
  if (!rewrite_weights(a1, path, count_weights) || !rewrite_weights(a1, path, huge_head_scale)) {
    CHECK(false, "writing %s", path);
    return;
  }
  enum { BLOCKS = 200 };
  /* a 110 Hz sine of amplitude 4 drives the overdrive to its full output
     (head sum about 25) in every block */
  const size_t n = (size_t)BLOCKS * BLOCK;
  float *x = malloc(n * sizeof(float));
  for (size_t i = 0; i < n; ++i)
    x[i] = (float)(4.0 * sin(2 * M_PI * 110.0 * (double)i / 48000.0));
  bool none[BLOCKS] = {false};
  qhost *g = instance(NULL, 8, QT_ACT_DYNAMIC);
  qhost *h = instance(path, 8, QT_ACT_DYNAMIC);
  CHECK(h->n_errors == 0 && !strcmp(h->last_path, path),
        "accepted (finite on silence): playing %s, errors %d", h->last_path, h->n_errors);
  /* the same process's normal blocks: the default model on this input */
  timing tg = time_blocks(g, x, BLOCKS, none);
  timing tb = time_blocks(h, x, BLOCKS, none);
  const double bound = 2 * tg.med_normal + 0.5e-3;
  printf("        default model: median block %.3f ms; blown-up model: median %.3f ms, "
         "max %.3f ms\n",
         1e3 * tg.med_normal, 1e3 * tb.med_normal, 1e3 * tb.max_normal);
  CHECK(tb.med_normal < bound,
        "blown-up model: median block %.3f ms < 2 x normal median + 0.5 ms = %.3f ms",
        1e3 * tb.med_normal, 1e3 * bound);
  CHECK(tb.finite && tb.silent_blocks * 10 >= BLOCKS * 9,
        "its output stays finite (%d), silent in %d of %d blocks (it blew up)", tb.finite,
        tb.silent_blocks, BLOCKS);
  if (qh_interposed)
    CHECK(tb.allocs == 0 && tb.locks == 0, "%ld allocations, %ld locks in run()", tb.allocs,
          tb.locks);
  qh_free(g);
  qh_free(h);
  free(x);
}

/* ---- Refused at load ------------------------------------------------------------------------ */

static void test_huge_refused(void)
{
  printf("A model with every weight 1e38\n");
  char path[1200];
  snprintf(path, sizeof path, "%s/huge_weights.nam", tmp_dir);
  if (!rewrite_weights(default_model, path, all_huge)) {
    CHECK(false, "writing %s", path);
    return;
  }
  const size_t n = 48000;
  float *x = signal(n, 0.4f), *y0 = malloc(n * sizeof(float)), *y1 = malloc(n * sizeof(float));
  qhost *a = instance(NULL, 8, QT_ACT_DYNAMIC), *b = instance(NULL, 8, QT_ACT_DYNAMIC);
  int e0 = b->n_errors;
  const size_t half = n / 2 / BLOCK * BLOCK;
  qh_render(a, x, y0, n, BLOCK, 0, NULL, NULL);
  qh_render(b, x, y1, half, BLOCK, 0, NULL, NULL);
  qh_set_model(b, path);
  qh_render(b, x + half, y1 + half, n - half, BLOCK, 0, NULL, NULL);
  CHECK(b->n_errors > e0 && strstr(b->last_error, "huge_weights.nam") &&
            strstr(b->last_error, "not finite"),
        "refused with a message naming the file and the problem: \"%s\"", b->last_error);
  CHECK(strcmp(b->last_path, path) != 0, "still playing %s", b->last_path);
  size_t fd = first_diff(y0, y1, n);
  CHECK(fd == n, "the previous model kept playing, output unchanged (first difference %zu of %zu)",
        fd, n);
  qh_free(a);
  qh_free(b);
  free(x);
  free(y0);
  free(y1);
}

/* ---- Bit-exact recovery -----------------------------------------------------------------------
 */

static void test_recover_exact(const char *what, const char *model, int precision, int activations)
{
  printf("After a NaN block = a fresh start: %s\n", what);
  const size_t n = 96000, at = 24064;
  float *x = signal(n, 0.4f), *xn = malloc(n * sizeof(float));
  float *y = malloc(n * sizeof(float)), *g = malloc(n * sizeof(float));
  memcpy(xn, x, n * sizeof(float));
  xn[at + 3] = NAN;
  qhost *h = instance(model, precision, activations);
  qh_render(h, xn, y, n, BLOCK, 0, NULL, NULL);
  qhost *f = instance(model, precision, activations);
  const size_t rest = n - at - BLOCK;
  qh_render(f, x + at + BLOCK, g, rest, BLOCK, 0, NULL, NULL);
  size_t fd = first_diff(g, y + at + BLOCK, rest);
  CHECK(fd == rest,
        "%s: output after the NaN block equals a fresh instance's (first difference "
        "%zu of %zu)",
        what, fd, rest);
  qh_free(h);
  qh_free(f);
  free(x);
  free(xn);
  free(y);
  free(g);
}

int main(int argc, char **argv)
{
  if (argc < 4) {
    fprintf(stderr, "usage: %s BUNDLE_DIR MODELS_DIR TMP_DIR\n", argv[0]);
    return 2;
  }
  bundle_dir = argv[1];
  models_dir = argv[2];
  tmp_dir = argv[3];
  snprintf(default_model, sizeof default_model, "%s/overdrive_a2.nam", bundle_dir);
  char lstm[1200];
  snprintf(lstm, sizeof lstm, "%s/diode_lstm.nam", models_dir);
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "mkdir -p '%s'", tmp_dir);
  if (system(cmd) != 0 || access(default_model, R_OK) != 0 || access(lstm, R_OK) != 0) {
    printf("cannot find %s or %s, or make %s\n", default_model, lstm, tmp_dir);
    return 1;
  }

  LilvWorld *world = lilv_world_new();
  qh_world_init(world);
  if (!(plugin = qh_find_plugin(world, bundle_dir)))
    return 1;

  test_nan_time("default WaveNet, 8-bit int8 dynamic", NULL, 8, QT_ACT_DYNAMIC);
  test_nan_time("default WaveNet, FP32", NULL, 32, QT_ACT_FLOAT);
  test_nan_time("LSTM (diode_lstm.nam), 8-bit int8 dynamic", lstm, 8, QT_ACT_DYNAMIC);
  test_blowup_time();
  test_huge_refused();
  /* loaded with the setting, so the variant starts from its own prewarm
     (a variant switched to later starts from the running reference's state) */
  test_recover_exact("default WaveNet, FP32", default_model, 32, QT_ACT_FLOAT);
  test_recover_exact("default WaveNet, 8-bit int8 dynamic", default_model, 8, QT_ACT_DYNAMIC);
  test_recover_exact("LSTM, 8-bit int8 dynamic", lstm, 8, QT_ACT_DYNAMIC);

  lilv_world_free(world);
  printf("%s (%d failure%s)\n", qh_failures ? "FAILED" : "all passed", qh_failures,
         qh_failures == 1 ? "" : "s");
  return qh_failures ? 1 : 0;
}
