/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Model browsing and A/B through the real bundle (issue 18, item 3), from
  the host's side (patch:Set qt:modelStep / qt:modelAB, no GUI):
  - next / previous over a folder of mixed files (a.nam, b.json, a broken
    c.aidax, d.nam, and notes.txt that is no model): the name order, the
    wrap-around both ways, the broken file skipped with a message naming it;
  - A/B goes back to the model that played before, and again back;
    without one it says so;
  - A/B every 100 ms between overdrive_nano.nam and overdrive_standard.nam
    does not click: the largest sample-to-sample step near each switch is
    within the largest step of the two models' unswitched renders (the
    test of bit switching, test_plugin.c), and run() allocates and locks
    nothing meanwhile.
  Usage: test_plugin_browse BUNDLE_DIR MODELS_DIR TMP_DIR
*/
#include "host.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c, ...) qh_check((c), __VA_ARGS__)

static const LilvPlugin *plugin;

static bool write_file(const char *dir, const char *name, const char *text)
{
  char path[1400];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f)
    return false;
  bool ok = fputs(text, f) >= 0;
  return fclose(f) == 0 && ok;
}

static const char *base(const char *path)
{
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

/** Step, let the worker answer, and say which file plays. */
static const char *step(qhost *h, int s)
{
  qh_step_model(h, s);
  qh_settle(h);
  return base(h->last_path);
}

static void folder(const char *tmp)
{
  printf("Next / previous over a folder of mixed files\n");
  char dir[1200], cmd[1300];
  snprintf(dir, sizeof dir, "%s/browse", tmp);
  snprintf(cmd, sizeof cmd, "rm -rf '%.600s' && mkdir -p '%.600s'", dir, dir);
  if (system(cmd) != 0) {
    CHECK(false, "making %s", dir);
    return;
  }
#define LINEAR(w)                                                                                  \
  "{\"version\": \"0.5.0\", \"architecture\": \"Linear\", \"config\": {\"receptive_field\": 1, "   \
  "\"bias\": false}, \"weights\": [" w "]}"
  bool ok = write_file(dir, "a.nam", LINEAR("0.5")) && write_file(dir, "b.json", LINEAR("0.25")) &&
            write_file(dir, "c.aidax", "{ \"broken\": ") &&
            write_file(dir, "d.nam", LINEAR("0.125")) &&
            write_file(dir, "notes.txt", LINEAR("1.0"));
  CHECK(ok, "files written in %s", dir);
  qhost *h = qh_new(plugin, 48000);
  char a[1300];
  snprintf(a, sizeof a, "%s/a.nam", dir);
  qh_set_model(h, a);
  qh_settle(h);
  CHECK(!strcmp(base(h->last_path), "a.nam"), "a.nam plays (%s)", h->last_path);
  static const struct {
    int step;
    const char *want;
    bool skips;
  } seq[] = {{1, "b.json", false}, {1, "d.nam", true},   {1, "a.nam", false}, {-1, "d.nam", false},
             {-1, "b.json", true}, {-1, "a.nam", false}, {-1, "d.nam", false}};
  for (size_t i = 0; i < sizeof seq / sizeof *seq; ++i) {
    int e0 = h->n_errors;
    const char *got = step(h, seq[i].step);
    bool said = h->n_errors > e0 && strstr(h->last_error, "skipped c.aidax");
    CHECK(!strcmp(got, seq[i].want) && said == seq[i].skips, "%s: %s (want %s)%s%s",
          seq[i].step > 0 ? "next" : "previous", got, seq[i].want, said ? ", said: " : "",
          said ? h->last_error : "");
  }
  qh_free(h);
}

static void ab_order(const char *models)
{
  printf("A/B\n");
  char nano[1300], std[1300];
  snprintf(nano, sizeof nano, "%s/overdrive_nano.nam", models);
  snprintf(std, sizeof std, "%s/overdrive_standard.nam", models);
  qhost *h = qh_new(plugin, 48000);
  int e0 = h->n_errors;
  qh_ab_model(h);
  qh_settle(h);
  CHECK(h->n_errors > e0 && strstr(h->last_error, "A/B"),
        "A/B with no model before says so: \"%s\"", h->last_error);
  qh_set_model(h, nano);
  qh_settle(h);
  qh_set_model(h, std);
  qh_settle(h);
  qh_ab_model(h);
  qh_settle(h);
  bool first = !strcmp(base(h->last_path), "overdrive_nano.nam");
  qh_ab_model(h);
  qh_settle(h);
  bool second = !strcmp(base(h->last_path), "overdrive_standard.nam");
  CHECK(first && second, "A/B: standard -> nano -> standard (now %s)", base(h->last_path));
  qh_free(h);
}

static float max_step(const float *y, size_t a, size_t b)
{
  float m = 0;
  for (size_t i = a + 1; i < b; ++i)
    if (fabsf(y[i] - y[i - 1]) > m)
      m = fabsf(y[i] - y[i - 1]);
  return m;
}

typedef struct {
  size_t at[64];
  int n;
} ab_plan;

static void ab_cb(qhost *h, size_t pos, uint32_t k, void *user)
{
  (void)k;
  ab_plan *p = user;
  if (pos > 0 && pos % 4800 == 0 && p->n < 64) {
    qh_ab_model(h);
    p->at[p->n++] = pos;
  }
}

static void ab_clicks(const char *models)
{
  printf("A/B every 100 ms (block 64)\n");
  char paths[2][1300];
  snprintf(paths[0], sizeof paths[0], "%s/overdrive_nano.nam", models);
  snprintf(paths[1], sizeof paths[1], "%s/overdrive_standard.nam", models);
  /** A steady low note: small steps of its own, so a switch that cut
      from one model's output to the other's would stand out. */
  size_t n = 2 * 48000;
  float *clip = malloc(n * sizeof *clip), *y = malloc(n * sizeof *y),
        *alone[2] = {malloc(n * sizeof(float)), malloc(n * sizeof(float))};
  if (!clip || !y || !alone[0] || !alone[1])
    return;
  for (size_t i = 0; i < n; ++i)
    clip[i] = (float)(0.3 * sin(2 * M_PI * 82.41 * (double)i / 48000.0));
  float lim = 0;
  for (int i = 0; i < 2; ++i) {
    qhost *h = qh_new(plugin, 48000);
    qh_set_model(h, paths[i]);
    qh_settle(h);
    qh_render(h, clip, alone[i], n, 64, 0, NULL, NULL);
    float s = max_step(alone[i], 0, n);
    printf("        unswitched %s: largest step %.5f\n", base(paths[i]), s);
    lim = fmaxf(lim, s);
    qh_free(h);
  }
  float cut = 0;
  for (size_t i = 0; i < n; ++i)
    cut = fmaxf(cut, fabsf(alone[0][i] - alone[1][i]));
  CHECK(cut > lim, "a switch without crossfade could step %.5f > %.5f: the check can fail", cut,
        lim);
  qhost *h = qh_new(plugin, 48000);
  qh_set_model(h, paths[0]);
  qh_settle(h);
  qh_set_model(h, paths[1]);
  qh_settle(h);
  ab_plan plan = {.n = 0};
  int paths0 = h->n_paths;
  qh_allocs_in_run = qh_locks_in_run = 0;
  qh_render(h, clip, y, n, 64, 0, ab_cb, &plan);
  long allocs = qh_allocs_in_run, locks = qh_locks_in_run;
  int bad = 0;
  float worst = 0;
  for (int s = 0; s < plan.n; ++s) {
    size_t a = plan.at[s] - 64, b = plan.at[s] + 1024 < n ? plan.at[s] + 1024 : n;
    float st = max_step(y, a, b);
    worst = fmaxf(worst, st / lim);
    if (st > lim) {
      ++bad;
      printf("        A/B %d at %zu: step %.5f > %.5f\n", s, plan.at[s], st, lim);
    }
  }
  CHECK(plan.n >= 15 && h->n_paths - paths0 >= plan.n && bad == 0,
        "%d A/B switches (%d models played), largest step near a switch / unswitched limit = "
        "%.3f (<= 1)",
        plan.n, h->n_paths - paths0, worst);
  if (qh_interposed)
    CHECK(allocs == 0 && locks == 0, "allocations %ld, mutex locks %ld in run() meanwhile", allocs,
          locks);
  qh_free(h);
  free(y);
  free(clip);
  free(alone[0]);
  free(alone[1]);
}

int main(int argc, char **argv)
{
  if (argc < 4) {
    fprintf(stderr, "usage: %s BUNDLE_DIR MODELS_DIR TMP_DIR\n", argv[0]);
    return 2;
  }
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "mkdir -p '%s'", argv[3]);
  if (system(cmd) != 0)
    return 1;
  LilvWorld *world = lilv_world_new();
  qh_world_init(world);
  if (!(plugin = qh_find_plugin(world, argv[1])))
    return 1;
  folder(argv[3]);
  ab_order(argv[2]);
  ab_clicks(argv[2]);
  lilv_world_free(world);
  printf("%s (%d failure%s)\n", qh_failures ? "FAILED" : "all passed", qh_failures,
         qh_failures == 1 ? "" : "s");
  return qh_failures ? 1 : 0;
}
