/*
  The real-time path of the real quantone.lv2 bundle, through the lilv
  test host (host.c), for issue 11:

  - ports:   the port table (quantone_ports.h) equals the Turtle, port by
             port: symbol, kind, minimum, maximum, default (read via lilv);
  - clamp:   every control input at out-of-range, infinite and NaN values
             gives finite output, sample for sample what the value clamped
             to the Turtle's range (NaN: the Turtle's default) gives;
  - alive:   scope frames stream only while the host sends qt:uiAlive:
             none after the timeout without one, steady with them, none
             from the block of an explicit "off"; patch:Get still answered;
  - dc:      on 3 s of silence after half a second of signal the output's
             mean is below 1e-3 over the last 2 s, for every shipped model
             (models/ *.nam) at 32, 8, 4 and 2 bits, float and int8 dynamic
             activations; prints the mean of 3 s of silence from the start
             too (the table in models/README.md);
  - silence: the esr_db port holds the value it had when the signal stops,
             through 3 s of silence, instead of measuring the models' idle
             output.

  usage: test_rtpath BUNDLE_DIR MODELS_DIR
  QH_ONLY=group runs one group.
*/
#include "host.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const LilvPlugin *plugin;
static LilvWorld *world;
static const char *models_dir;
static float *sig;
static size_t n_sig;

/** A guitar-like test signal that never pauses: a plucked note (six
    decaying harmonics) every quarter second, cycling through the open
    strings, peaks around 0.5. */
static float *pluck_signal(size_t n)
{
  static const double f0[] = {82.41, 110.0, 146.83, 196.0, 246.94, 329.63};
  float *x = calloc(n, sizeof *x);
  const size_t step = 12000;
  for (size_t on = 0, k = 0; on < n; on += step, ++k) {
    double f = f0[k % 6];
    size_t len = n - on < 4 * step ? n - on : 4 * step;
    for (size_t i = 0; i < len; ++i) {
      double t = (double)i / 48000.0, v = 0;
      for (int h = 1; h <= 6; ++h)
        v += sin(2 * M_PI * f * h * t) * exp(-t * (2.0 + 1.5 * h)) / h;
      x[on + i] += (float)(0.2 * v);
    }
  }
  return x;
}

/* ---- ports ----------------------------------------------------------------------------------- */

static void test_ports(void)
{
  printf("Port table against the Turtle\n");
  uint32_t np = lilv_plugin_get_num_ports(plugin);
  qh_check(np == QT_PORT_COUNT, "%u ports in the Turtle, %d in the table", np, QT_PORT_COUNT);
  float mins[64], maxs[64], defs[64];
  if (np > 64)
    return;
  lilv_plugin_get_port_ranges_float(plugin, mins, maxs, defs);
  LilvNode *in = lilv_new_uri(world, LV2_CORE__InputPort);
  LilvNode *out = lilv_new_uri(world, LV2_CORE__OutputPort);
  LilvNode *audio = lilv_new_uri(world, LV2_CORE__AudioPort);
  LilvNode *ctl = lilv_new_uri(world, LV2_CORE__ControlPort);
  LilvNode *atom = lilv_new_uri(world, "http://lv2plug.in/ns/ext/atom#AtomPort");
  int bad = 0;
  for (uint32_t i = 0; i < np && i < QT_PORT_COUNT; ++i) {
    const LilvPort *port = lilv_plugin_get_port_by_index(plugin, i);
    const qt_port_info *t = qt_port_info_get((int)i);
    const char *sym = lilv_node_as_string(lilv_port_get_symbol(plugin, port));
    bool is_in = lilv_port_is_a(plugin, port, in), is_out = lilv_port_is_a(plugin, port, out);
    qt_port_kind kind = (qt_port_kind)-1;
    if (lilv_port_is_a(plugin, port, audio))
      kind = is_in ? QT_KIND_AUDIO_IN : QT_KIND_AUDIO_OUT;
    else if (lilv_port_is_a(plugin, port, atom))
      kind = is_in ? QT_KIND_ATOM_IN : QT_KIND_ATOM_OUT;
    else if (lilv_port_is_a(plugin, port, ctl))
      kind = is_in ? QT_KIND_CONTROL_IN : QT_KIND_CONTROL_OUT;
    bool ok = !strcmp(sym, t->symbol) && kind == t->kind && is_in != is_out;
    if (t->kind == QT_KIND_CONTROL_IN || t->kind == QT_KIND_CONTROL_OUT)
      ok = ok && mins[i] == t->min && maxs[i] == t->max && defs[i] == t->def;
    if (!ok) {
      ++bad;
      printf("        port %u: Turtle %s kind %d [%g, %g] default %g; table %s kind %d [%g, %g] "
             "default %g\n",
             i, sym, (int)kind, mins[i], maxs[i], defs[i], t->symbol, (int)t->kind, t->min,
             t->max, t->def);
    }
  }
  qh_check(bad == 0, "every port's symbol, kind, minimum, maximum and default match (%d differ)",
        bad);
  lilv_node_free(in);
  lilv_node_free(out);
  lilv_node_free(audio);
  lilv_node_free(ctl);
  lilv_node_free(atom);
}

/* ---- clamp ----------------------------------------------------------------------------------- */

/** Render `n` frames of the signal with control `port` at `v` (and the
    monitor on the error where the port is the error gain, so it is
    heard); fresh instance each time, so two renders compare exactly. */
static void render_with(int port, float v, float *y, size_t n)
{
  qhost *h = qh_new(plugin, 48000);
  h->ctl[port] = v;
  if (port == QT_PORT_ERROR_GAIN)
    h->ctl[QT_PORT_MONITOR] = 2;
  qh_settle(h);
  qh_render(h, sig, y, n, 256, 0, NULL, NULL);
  qh_free(h);
}

static void test_clamp(void)
{
  printf("Control inputs out of range, infinite or NaN\n");
  float mins[64], maxs[64], defs[64];
  lilv_plugin_get_port_ranges_float(plugin, mins, maxs, defs);
  const size_t n = 9600 < n_sig ? 9600 : n_sig;
  float *y = malloc(n * sizeof *y), *ref = malloc(n * sizeof *ref);
  const float vals[] = {1e30f, -1e30f, INFINITY, -INFINITY, NAN, 0, 0};
  for (int p = QT_PORT_PRECISION; p <= QT_PORT_ENABLED; ++p) {
    float v7[7];
    memcpy(v7, vals, sizeof v7);
    v7[5] = maxs[p] + 1000.0f;
    v7[6] = mins[p] - 1000.0f;
    int bad = 0, nonfinite = 0;
    float last_expect = NAN;
    for (int k = 0; k < 7; ++k) {
      float v = v7[k];
      /* independent of the plugin's table: the Turtle as lilv reads it */
      float expect = isnan(v) ? defs[p] : v < mins[p] ? mins[p] : v > maxs[p] ? maxs[p] : v;
      if (expect != last_expect) {
        render_with(p, expect, ref, n);
        last_expect = expect;
      }
      render_with(p, v, y, n);
      size_t nf = 0, diff = n;
      for (size_t i = 0; i < n; ++i) {
        nf += !isfinite(y[i]);
        if (diff == n && memcmp(&y[i], &ref[i], sizeof(float)) != 0)
          diff = i;
      }
      if (nf || diff != n) {
        ++bad;
        printf("        %s = %g: %zu non-finite samples, first difference from %s = %g at %zu\n",
               qt_port_info_get(p)->symbol, v, nf, qt_port_info_get(p)->symbol, expect, diff);
      }
      nonfinite += nf != 0;
    }
    qh_check(bad == 0, "%-12s at +-1e30, +-inf, NaN, max+1000, min-1000: finite, exactly as "
          "clamped [%g, %g] / default %g (%d of 7 differ, %d non-finite)",
          qt_port_info_get(p)->symbol, mins[p], maxs[p], defs[p], bad, nonfinite);
  }
  free(y);
  free(ref);
}

/* ---- alive ----------------------------------------------------------------------------------- */

/** Frames received while rendering `seconds` of the signal (looped). */
static int frames_during(qhost *h, double seconds, size_t *pos)
{
  int f0 = h->n_frames;
  size_t n = (size_t)(seconds * h->rate);
  float y[256];
  for (size_t done = 0; done < n; done += 256) {
    if (*pos + 256 > n_sig)
      *pos = 0;
    qh_run(h, sig + *pos, y, 256);
    *pos += 256;
  }
  return h->n_frames - f0;
}

static void test_alive(void)
{
  printf("Streaming only while a UI says it is alive (qt:uiAlive)\n");
  size_t pos = 0;
  qhost *h = qh_new(plugin, 48000);
  qh_settle(h);
  int silent = frames_during(h, 1.0, &pos);
  qh_check(silent == 0, "notify connected, no keep-alive ever: %d scope frames in 1 s (0)", silent);

  h->alive_every = 16000; /* a keep-alive every third of a second */
  int on = frames_during(h, 2.0, &pos);
  qh_check(on >= 45 && on <= 51, "keep-alive every 1/3 s: %d frames in 2 s (25/s: 45..51)", on);

  h->alive_every = 0; /* the UI went away without a word */
  int tail = frames_during(h, 1.1, &pos);
  int after = frames_during(h, 2.0, &pos);
  qh_check(tail > 0 && after == 0,
        "keep-alives stopped: %d frames in the next 1.1 s (timeout 1 s), then %d in 2 s (0)",
        tail, after);
  int i0 = h->n_info, p0 = h->n_paths;
  qh_get(h);
  qh_settle(h);
  qh_check(h->n_info > i0 && h->n_paths > p0,
        "patch:Get without a UI alive is still answered (model path %d, modelInfo %d)",
        h->n_paths - p0, h->n_info - i0);

  h->alive_every = 16000;
  h->alive_count = 0;
  on = frames_during(h, 1.0, &pos);
  h->alive_every = 0;
  qh_ui_alive(h, false);
  int off = frames_during(h, 1.0, &pos);
  qh_check(on >= 20 && off == 0, "back alive: %d frames in 1 s; after uiAlive false: %d (0)", on,
        off);
  qh_free(h);
}

/* ---- dc -------------------------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_dc(void)
{
  printf("DC on 3 s of silence, every shipped model, 32/8/4/2 bits\n");
  DIR *d = opendir(models_dir);
  if (!d) {
    qh_check(false, "open %s", models_dir);
    return;
  }
  char *names[64];
  int nm = 0;
  struct dirent *e;
  while ((e = readdir(d)) && nm < 64) {
    size_t l = strlen(e->d_name);
    if (l > 4 && !strcmp(e->d_name + l - 4, ".nam"))
      names[nm++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, (size_t)nm, sizeof *names, cmp_str);
  qh_check(nm > 0, "%d models in %s", nm, models_dir);
  static const int prec[] = {32, 8, 4, 2};
  const size_t n = 3 * 48000, tail = 48000; /* mean over [1 s, 3 s) */
  float *zero = calloc(n, sizeof(float)), *y = malloc(n * sizeof(float));
  printf("        %-32s %-8s %10s %10s %10s %10s  (output mean)\n", "model",
         "act", "32", "8", "4", "2");
  printf("        (first row: mean of 3 s of silence from the start; second: mean of the\n"
         "        last 2 s of 3 s of silence after 0.5 s of signal)\n");
  for (int m = 0; m < nm; ++m) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", models_dir, names[m]);
    for (int act = 0; act <= 1; ++act) {
      double whole[4], last[4];
      char errs[4][160] = {{0}};
      int worst = 0;
      for (int k = 0; k < 4; ++k) {
        qhost *h = qh_new(plugin, 48000);
        h->ctl[QT_PORT_PRECISION] = (float)prec[k];
        h->ctl[QT_PORT_ACTIVATIONS] = (float)act;
        qh_set_model(h, path);
        qh_settle(h);
        if (h->n_errors)
          snprintf(errs[k], sizeof errs[k], "%.150s", h->last_error);
        qh_render(h, zero, y, n, 256, 0, NULL, NULL);
        double s = 0;
        for (size_t i = 0; i < n; ++i)
          s += y[i];
        whole[k] = s / (double)n;
        /* the same after half a second of playing: the offset then has to
           be filtered out, not just never let in */
        qh_render(h, sig, y, 24000, 256, 0, NULL, NULL);
        qh_render(h, zero, y, n, 256, 0, NULL, NULL);
        double sl = 0;
        for (size_t i = tail; i < n; ++i)
          sl += y[i];
        last[k] = sl / (double)(n - tail);
        if (fabs(last[k]) > fabs(last[worst]))
          worst = k;
        qh_free(h);
      }
      printf("        %-32s %-8s", names[m], act ? "dynamic" : "float");
      for (int k = 0; k < 4; ++k)
        printf(" %+10.6f", whole[k]);
      printf("\n        %-32s %-8s", "", "");
      for (int k = 0; k < 4; ++k)
        printf(" %+10.2e", last[k]);
      printf("\n");
      for (int k = 0; k < 4; ++k)
        if (errs[k][0])
          printf("        (%d bits: %s)\n", prec[k], errs[k]);
      qh_check(fabs(last[worst]) < 1e-3, "%s, %s activations: |mean| of the last 2 s %.2e at %d "
            "bits, the largest (< 1e-3)",
            names[m], act ? "dynamic" : "float", fabs(last[worst]), prec[worst]);
    }
  }
  for (int m = 0; m < nm; ++m)
    free(names[m]);
  free(zero);
  free(y);
}

/* ---- silence --------------------------------------------------------------------------------- */

static void test_silence(int precision)
{
  printf("esr_db through silence at %d bits\n", precision);
  qhost *h = qh_new(plugin, 48000);
  h->ctl[QT_PORT_PRECISION] = (float)precision;
  qh_settle(h);
  size_t n = n_sig < 2 * 48000 ? n_sig : 2 * 48000;
  float *y = malloc(n * sizeof(float)), zero[256] = {0}, o[256];
  qh_render(h, sig, y, n, 256, 0, NULL, NULL);
  float playing = h->ctl[QT_PORT_ESR_DB];
  float lo = playing, hi = playing;
  for (size_t i = 0; i < 3 * 48000; i += 256) {
    qh_run(h, zero, o, 256);
    float v = h->ctl[QT_PORT_ESR_DB];
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  float end = h->ctl[QT_PORT_ESR_DB];
  qh_check(playing > -119.0f && fabsf(end - playing) < 0.5f && hi - lo < 1.0f,
        "esr_db %.2f dB playing; through 3 s of silence %.2f .. %.2f, at the end %.2f "
        "(holds: within 0.5 dB, range < 1 dB)",
        playing, lo, hi, end);
  free(y);
  qh_free(h);
}

int main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: %s BUNDLE_DIR MODELS_DIR\n", argv[0]);
    return 2;
  }
  models_dir = argv[2];
  sig = pluck_signal(8 * 48000);
  n_sig = 8 * 48000;
  world = lilv_world_new();
  qh_world_init(world);
  plugin = qh_find_plugin(world, argv[1]);
  if (!plugin)
    return 1;
  const char *only = getenv("QH_ONLY");
#define WANT(name) (!only || !strcmp(only, name))
  if (WANT("ports"))
    test_ports();
  if (WANT("clamp"))
    test_clamp();
  if (WANT("alive"))
    test_alive();
  if (WANT("silence")) {
    test_silence(8);
    test_silence(4);
  }
  if (WANT("dc"))
    test_dc();
  lilv_world_free(world);
  free(sig);
  printf("%s (%d failure%s)\n", qh_failures ? "FAILED" : "all passed", qh_failures,
         qh_failures == 1 ? "" : "s");
  return qh_failures ? 1 : 0;
}
