/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The real-time path of the real quantone.lv2 bundle, through the lilv
  test host (host.c), for issue 11:

  - ports:   the port table (quantone_ports.h) equals the installed
             quantone.ttl as lilv reads it, port by port and field by
             field: index, symbol, kind, name, comment, minimum, maximum,
             default, every scale point (value and label), unit, group,
             designation, buffer size, port properties (nothing more,
             nothing less); the ttl's ports are generated from the table,
             so this guards the generator and any hand edit of either
             side; then the maintainer, homepage and license hosts show,
             and that every unit is an lv2 unit; every preset's port
             values are ones the table allows (issue 12, items 2, 6);
  - clamp:   every control input at out-of-range, infinite and NaN values
             gives finite output, sample for sample what the value clamped
             to the Turtle's range (NaN: the Turtle's default) gives;
  - alive:   scope frames stream only while the host sends qt:uiAlive:
             none after the timeout without one, steady with them, none
             from the block of an explicit "off"; patch:Get still answered;
             a variant built while no UI listens is not analysed (its
             per-layer SQNR comes from one worker job when a UI opens),
             one built while a UI listens brings its SQNR along, and one
             built again later gets the figures the worker kept;
  - dc:      on 3 s of silence after half a second of signal the output's
             mean is below 1e-3 over the last 2 s, for every shipped model
             (models/ *.nam) at 32, 8, 4 and 2 bits, float and int8 dynamic
             activations; prints the mean of 3 s of silence from the start
             too (the table in models/README.md);
  - silence: the esr_db port holds the value it had when the signal stops,
             through 3 s of silence, instead of measuring the models' idle
             output;
  - slim:    with a slimmable model (NAM_DIR's slimmable_container.nam),
             slim and precision moving while playing at random block
             sizes with a UI alive: every size and bit width is built and
             crossfaded in, and run() allocates and locks nothing.

  - rounding: the rounding control moving between Nearest and Optimized
             at 4 bits while playing at random block sizes with a UI
             alive: the optimized variant (gptq rounding, bias-corrected)
             is prepared in the worker with qt:prepare progress, the
             switches back to it come from the worker's kept variants,
             and run() allocates and locks nothing (so it prepares
             nothing: every preparation allocates); with the plugin's own
             worker thread (a host without a worker), qt:prepare progress
             reaches the UI while the thread works, before the variant.

  Built with AddressSanitizer, clamp and dc run a subset (every port with
  +1e30 and NaN; every model at 32 and 2 bits with the default
  int8 dynamic activations): the sanitizer looks for memory errors, which
  the subset reaches on the same code paths, and the whole matrix takes
  over 5 minutes there. The release build runs all of it.

  usage: test_rtpath BUNDLE_DIR MODELS_DIR [NAM_DIR]
  QH_ONLY=group runs one group.
*/
#include "host.h"
#include "test_asan.h"

#include <lv2/atom/atom.h>
#include <lv2/core/lv2.h>
#include <lv2/port-groups/port-groups.h>
#include <lv2/presets/presets.h>
#include <lv2/resize-port/resize-port.h>
#include <lv2/units/units.h>

#include <dirent.h>
#include <stdarg.h>
#include <math.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const LilvPlugin *plugin;
static LilvWorld *world;
static const char *models_dir, *nam_dir;
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

/** Mismatches of the port being compared: each printed as it is found,
    so a failure names the port and the field. */
static int port_bad;

static void port_differs(uint32_t i, const char *sym, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void port_differs(uint32_t i, const char *sym, const char *field, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  printf("        port %u (%s) %s: ", i, sym, field);
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  ++port_bad;
}

/** The one value of `predicate` on a port as a string (a URI or a
    literal), or NULL when it has none; two values are a mismatch too. */
static const char *port_one(const LilvPort *port, const char *predicate, uint32_t i,
                            const char *sym, char *buf, size_t len)
{
  LilvNode *pred = lilv_new_uri(world, predicate);
  LilvNodes *vals = lilv_port_get_value(plugin, port, pred);
  lilv_node_free(pred);
  const char *r = NULL;
  if (vals && lilv_nodes_size(vals) > 1)
    port_differs(i, sym, predicate, "%u values in the Turtle", lilv_nodes_size(vals));
  if (vals && lilv_nodes_size(vals) > 0) {
    snprintf(buf, len, "%s", lilv_node_as_string(lilv_nodes_get_first(vals)));
    r = buf;
  }
  lilv_nodes_free(vals);
  return r;
}

/** Compares two optional strings; NULL is "absent". */
static void port_same_str(uint32_t i, const char *sym, const char *field, const char *turtle,
                          const char *table)
{
  if ((turtle == NULL) != (table == NULL) || (turtle && strcmp(turtle, table)))
    port_differs(i, sym, field, "Turtle \"%s\", table \"%s\"", turtle ? turtle : "(none)",
                 table ? table : "(none)");
}

static void test_port_row(uint32_t i, const LilvPort *port, const qt_port_info *t)
{
  static const struct {
    unsigned flag;
    const char *uri;
  } props[] = {
      {QT_PROP_OPTIONAL, LV2_CORE__connectionOptional},    {QT_PROP_INTEGER, LV2_CORE__integer},
      {QT_PROP_ENUMERATION, LV2_CORE__enumeration},        {QT_PROP_TOGGLED, LV2_CORE__toggled},
      {QT_PROP_REPORTS_LATENCY, LV2_CORE__reportsLatency},
  };
  char buf[1024], tbuf[1024];
  const char *sym = lilv_node_as_string(lilv_port_get_symbol(plugin, port));

  /* index and symbol */
  if (lilv_port_get_index(plugin, port) != i)
    port_differs(i, sym, "index", "Turtle %u", lilv_port_get_index(plugin, port));
  port_same_str(i, sym, "symbol", sym, t->symbol);

  /* kind: audio / atom / control, input / output */
  LilvNode *in = lilv_new_uri(world, LV2_CORE__InputPort);
  LilvNode *out = lilv_new_uri(world, LV2_CORE__OutputPort);
  LilvNode *audio = lilv_new_uri(world, LV2_CORE__AudioPort);
  LilvNode *ctl = lilv_new_uri(world, LV2_CORE__ControlPort);
  LilvNode *atom = lilv_new_uri(world, LV2_ATOM__AtomPort);
  bool is_in = lilv_port_is_a(plugin, port, in), is_out = lilv_port_is_a(plugin, port, out);
  int kind = -1;
  if (lilv_port_is_a(plugin, port, audio))
    kind = is_in ? QT_KIND_AUDIO_IN : QT_KIND_AUDIO_OUT;
  else if (lilv_port_is_a(plugin, port, atom))
    kind = is_in ? QT_KIND_ATOM_IN : QT_KIND_ATOM_OUT;
  else if (lilv_port_is_a(plugin, port, ctl))
    kind = is_in ? QT_KIND_CONTROL_IN : QT_KIND_CONTROL_OUT;
  if (kind != (int)t->kind || is_in == is_out)
    port_differs(i, sym, "kind", "Turtle %d (input %d, output %d), table %d", kind, is_in, is_out,
                 (int)t->kind);
  lilv_node_free(in);
  lilv_node_free(out);
  lilv_node_free(audio);
  lilv_node_free(ctl);
  lilv_node_free(atom);

  /* name and comment */
  LilvNode *name = lilv_port_get_name(plugin, port);
  port_same_str(i, sym, "name", name ? lilv_node_as_string(name) : NULL, t->name);
  lilv_node_free(name);
  port_same_str(i, sym, "comment", port_one(port, LILV_NS_RDFS "comment", i, sym, buf, sizeof buf),
                t->comment);

  /* minimum, maximum, default: present exactly on control ports */
  LilvNode *def = NULL, *min = NULL, *max = NULL;
  lilv_port_get_range(plugin, port, &def, &min, &max);
  const bool control = t->kind == QT_KIND_CONTROL_IN || t->kind == QT_KIND_CONTROL_OUT;
  const struct {
    const char *field;
    const LilvNode *turtle;
    float table;
  } range[] = {{"minimum", min, t->min}, {"maximum", max, t->max}, {"default", def, t->def}};
  for (int k = 0; k < 3; ++k) {
    if (!control) {
      if (range[k].turtle)
        port_differs(i, sym, range[k].field, "Turtle %s on a port without a range",
                     lilv_node_as_string(range[k].turtle));
    } else if (!range[k].turtle) {
      port_differs(i, sym, range[k].field, "none in the Turtle, table %g", (double)range[k].table);
    } else if (lilv_node_as_float(range[k].turtle) != range[k].table) {
      port_differs(i, sym, range[k].field, "Turtle %s, table %.9g",
                   lilv_node_as_string(range[k].turtle), (double)range[k].table);
    }
  }
  lilv_node_free(def);
  lilv_node_free(min);
  lilv_node_free(max);

  /* scale points: the same (value, label) pairs; values are unique in
     the table, so equal counts and every table point found is a match */
  LilvScalePoints *sps = lilv_port_get_scale_points(plugin, port);
  unsigned n_sp = sps ? lilv_scale_points_size(sps) : 0;
  if (n_sp != (unsigned)t->n_points)
    port_differs(i, sym, "scale points", "%u in the Turtle, %d in the table", n_sp, t->n_points);
  for (int k = 0; k < t->n_points; ++k) {
    for (int m = 0; m < k; ++m)
      if (t->points[m].value == t->points[k].value)
        port_differs(i, sym, "scale points", "the table has value %g twice",
                     (double)t->points[k].value);
    bool found = false;
    const char *label = NULL;
    LILV_FOREACH(scale_points, it, sps)
    {
      const LilvScalePoint *sp = lilv_scale_points_get(sps, it);
      if (lilv_node_as_float(lilv_scale_point_get_value(sp)) == t->points[k].value) {
        found = true;
        label = lilv_node_as_string(lilv_scale_point_get_label(sp));
      }
    }
    if (!found)
      port_differs(i, sym, "scale point", "value %g (\"%s\") not in the Turtle",
                   (double)t->points[k].value, t->points[k].label);
    else
      port_same_str(i, sym, "scale point label", label, t->points[k].label);
  }
  lilv_scale_points_free(sps);

  /* unit, group, designation, buffer size */
  port_same_str(i, sym, "unit", port_one(port, LV2_UNITS__unit, i, sym, buf, sizeof buf),
                qt_port_unit_uri(t->unit));
  if (t->group)
    snprintf(tbuf, sizeof tbuf, "%s%s", QUANTONE_NS, t->group);
  port_same_str(i, sym, "group", port_one(port, LV2_PORT_GROUPS__group, i, sym, buf, sizeof buf),
                t->group ? tbuf : NULL);
  port_same_str(i, sym, "designation",
                port_one(port, LV2_CORE__designation, i, sym, buf, sizeof buf),
                qt_port_designation_uri(t->designation));
  const char *size = port_one(port, LV2_RESIZE_PORT__minimumSize, i, sym, buf, sizeof buf);
  if ((size ? strtoul(size, NULL, 10) : 0) != t->min_size)
    port_differs(i, sym, "minimum buffer size", "Turtle %s, table %u", size ? size : "(none)",
                 t->min_size);

  /* port properties: the same set, and none the table cannot say */
  unsigned have = 0;
  LilvNodes *pp = lilv_port_get_properties(plugin, port);
  LILV_FOREACH(nodes, it, pp)
  {
    const char *uri = lilv_node_as_string(lilv_nodes_get(pp, it));
    unsigned flag = 0;
    for (size_t k = 0; k < sizeof props / sizeof *props; ++k)
      if (!strcmp(uri, props[k].uri))
        flag = props[k].flag;
    if (!flag)
      port_differs(i, sym, "port property", "Turtle %s, unknown to the table", uri);
    have |= flag;
  }
  lilv_nodes_free(pp);
  for (size_t k = 0; k < sizeof props / sizeof *props; ++k)
    if ((have & props[k].flag) != (t->props & props[k].flag))
      port_differs(i, sym, "port property", "%s %s in the Turtle, %s in the table", props[k].uri,
                   have & props[k].flag ? "present" : "absent",
                   t->props & props[k].flag ? "present" : "absent");
}

/** Preset values the table does not allow: an unknown symbol, a port
    that is not a control input, a value outside [min, max], a value of
    an enumeration that is none of its scale points, a fraction on an
    integer or toggled port. */
static int preset_bad;

static void on_preset_value(const char *symbol, void *user, const void *value, uint32_t size,
                            uint32_t type)
{
  (void)size;
  (void)type;
  const char *preset = user;
  float v = *(const float *)value;
  const qt_port_info *t = NULL;
  for (int i = 0; i < QT_PORT_COUNT; ++i)
    if (!strcmp(qt_port_info_get(i)->symbol, symbol))
      t = qt_port_info_get(i);
  bool ok = t && t->kind == QT_KIND_CONTROL_IN && v >= t->min && v <= t->max;
  if (ok && (t->props & (QT_PROP_INTEGER | QT_PROP_TOGGLED)))
    ok = v == (float)(long)v;
  if (ok && (t->props & QT_PROP_ENUMERATION)) {
    bool point = false;
    for (int k = 0; k < t->n_points; ++k)
      point = point || t->points[k].value == v;
    ok = point;
  }
  if (!ok) {
    printf("        preset %s: %s = %g is not a value of the table's %s\n", preset, symbol,
           (double)v, symbol);
    ++preset_bad;
  }
}

/** The presets (ttl/presets.ttl.in, and the QAT preset ttl/meson.build
    adds) hold port values by symbol: each must be one the table allows. */
static void test_presets(void)
{
  LilvNode *preset_class = lilv_new_uri(world, LV2_PRESETS__Preset);
  LilvNodes *presets = lilv_plugin_get_related(plugin, preset_class);
  int n = 0;
  preset_bad = 0;
  LILV_FOREACH(nodes, i, presets)
  {
    const LilvNode *pr = lilv_nodes_get(presets, i);
    lilv_world_load_resource(world, pr);
    LilvState *st = lilv_state_new_from_world(world, qh_map(), pr);
    if (!st) {
      printf("        preset %s: lilv cannot read it\n", lilv_node_as_uri(pr));
      ++preset_bad;
      continue;
    }
    ++n;
    lilv_state_emit_port_values(st, on_preset_value, (void *)lilv_node_as_uri(pr));
    lilv_state_free(st);
  }
  qh_check(n >= 2 && preset_bad == 0,
           "%d presets: every port value is a control input's, in its range, on a scale point "
           "of an enumeration (%d not)",
           n, preset_bad);
  lilv_nodes_free(presets);
  lilv_node_free(preset_class);
}

static void test_ports(void)
{
  printf("Port table against the Turtle\n");
  uint32_t np = lilv_plugin_get_num_ports(plugin);
  qh_check(np == QT_PORT_COUNT, "%u ports in the Turtle, %d in the table", np, QT_PORT_COUNT);
  port_bad = 0;
  for (uint32_t i = 0; i < np && i < QT_PORT_COUNT; ++i)
    test_port_row(i, lilv_plugin_get_port_by_index(plugin, i), qt_port_info_get((int)i));
  qh_check(port_bad == 0,
           "every port's index, symbol, kind, name, comment, minimum, maximum, default, "
           "scale points (value and label), unit, group, designation, buffer size and port "
           "properties match (%d differ)",
           port_bad);

  printf("Metadata hosts show\n");
  LilvNode *author = lilv_plugin_get_author_name(plugin);
  LilvNode *home = lilv_plugin_get_author_homepage(plugin);
  LilvNode *license_p = lilv_new_uri(world, "http://usefulinc.com/ns/doap#license");
  LilvNodes *license = lilv_plugin_get_value(plugin, license_p);
  const char *a = author ? lilv_node_as_string(author) : "(none)";
  const char *hp = home ? lilv_node_as_string(home) : "(none)";
  const char *li = license && lilv_nodes_size(license) == 1
                       ? lilv_node_as_string(lilv_nodes_get_first(license))
                       : "(none or several)";
  qh_check(!strcmp(a, "Quantone developers") && !strcmp(hp, "https://quantone.audio/") &&
               !strcmp(li, "http://opensource.org/licenses/isc"),
           "author \"%s\", homepage %s, license %s", a, hp, li);
  lilv_node_free(author);
  lilv_node_free(home);
  lilv_nodes_free(license);
  lilv_node_free(license_p);

  /* Carla warns on every load about a unit it does not know */
  int custom = 0;
  LilvNode *unit_p = lilv_new_uri(world, LV2_UNITS__unit);
  for (uint32_t i = 0; i < np; ++i) {
    LilvNodes *u = lilv_port_get_value(plugin, lilv_plugin_get_port_by_index(plugin, i), unit_p);
    LILV_FOREACH(nodes, it, u)
    {
      const char *uri = lilv_node_as_string(lilv_nodes_get(u, it));
      if (strncmp(uri, LV2_UNITS_PREFIX, strlen(LV2_UNITS_PREFIX))) {
        printf("        port %u: unit %s\n", i, uri);
        ++custom;
      }
    }
    lilv_nodes_free(u);
  }
  lilv_node_free(unit_p);
  qh_check(custom == 0, "every unit is one of lv2 units (%d custom)", custom);

  printf("Presets against the table\n");
  test_presets();
}

/* ---- clamp ----------------------------------------------------------------------------------- */

/** Render `n` frames of the signal with control `port` at `v` (and the
    monitor on the error where the port is the error gain, so it is
    heard); fresh instance each time, so two renders compare exactly.
    For bit_budget the instance plays the shipped nano model: a budget
    above "off" starts the sensitivity analysis of the playing model in
    the worker, 10 s of CPU for the default standard model (it was most
    of this group's time in both builds) and a small part of that for the
    nano; clamping is the plugin's, not the model's. */
/** The controls as the test host sets them before a render (its own
    choices, not always the Turtle's defaults). */
static float host_initial[QT_PORT_COUNT];

static void render_with(int port, float v, float *y, size_t n)
{
  qhost *h = qh_new(plugin, 48000);
  if (port == QT_PORT_BIT_BUDGET) {
    char nano[4200];
    snprintf(nano, sizeof nano, "%s/overdrive_nano.nam", models_dir);
    qh_set_model(h, nano);
    qh_settle(h);
  }
  h->ctl[port] = v;
  if (port == QT_PORT_ERROR_GAIN)
    h->ctl[QT_PORT_MONITOR] = 2;
  qh_settle(h);
  qh_render(h, sig, y, n, 256, 0, NULL, NULL);
  qh_free(h);
}

static const bool sanitized = ASAN_BUILD;

/** The renders one port's values are compared with, one per clamped
    value (the port's minimum, maximum and default), each made once. */
typedef struct {
  float value[3];
  float *y[3];
  int n;
} clamp_refs;

/** The render with `port` at `expect`, from refs or made now; a port at
    the value the host gives it anyway plays as the host's untouched
    instance, rendered once for all ports (not for bit_budget, whose
    instance plays another model, nor for error_gain, which turns the
    monitor to the error). */
static const float *clamp_ref(clamp_refs *r, int port, float expect, const float *untouched,
                              size_t n)
{
  if (expect == host_initial[port] && port != QT_PORT_BIT_BUDGET && port != QT_PORT_ERROR_GAIN)
    return untouched;
  for (int i = 0; i < r->n; ++i)
    if (r->value[i] == expect)
      return r->y[i];
  float *y = malloc(n * sizeof *y);
  render_with(port, expect, y, n);
  r->value[r->n] = expect;
  r->y[r->n++] = y;
  return y;
}

static void test_clamp(void)
{
  printf("Control inputs out of range, infinite or NaN\n");
  float mins[64], maxs[64], defs[64];
  lilv_plugin_get_port_ranges_float(plugin, mins, maxs, defs);
  const size_t n = 9600 < n_sig ? 9600 : n_sig;
  float *y = malloc(n * sizeof *y), *untouched = malloc(n * sizeof *untouched);
  qhost *probe = qh_new(plugin, 48000);
  memcpy(host_initial, probe->ctl, sizeof host_initial);
  qh_free(probe);
  render_with(QT_PORT_PRECISION, host_initial[QT_PORT_PRECISION], untouched, n);
  const float vals[] = {1e30f, -1e30f, INFINITY, -INFINITY, NAN, 0, 0};
  for (int p = QT_PORT_PRECISION; p < QT_PORT_COUNT; ++p) {
    if (qt_port_info_get(p)->kind != QT_KIND_CONTROL_IN)
      continue; /* the meters; slim comes after them */
    float v7[7];
    memcpy(v7, vals, sizeof v7);
    v7[5] = maxs[p] + 1000.0f;
    v7[6] = mins[p] - 1000.0f;
    int bad = 0, nonfinite = 0;
    clamp_refs refs = {.n = 0};
    for (int k = 0; k < 7; ++k) {
      if (sanitized && k != 0 && k != 4)
        continue;
      float v = v7[k];
      /* independent of the plugin's table: the Turtle as lilv reads it */
      float expect = isnan(v) ? defs[p] : v < mins[p] ? mins[p] : v > maxs[p] ? maxs[p] : v;
      const float *ref = clamp_ref(&refs, p, expect, untouched, n);
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
    for (int i = 0; i < refs.n; ++i)
      free(refs.y[i]);
    qh_check(bad == 0,
             "%-12s at %s: finite, exactly as clamped [%g, %g] / default %g (%d of %d differ, "
             "%d non-finite)",
             qt_port_info_get(p)->symbol,
             sanitized ? "+1e30, NaN" : "+-1e30, +-inf, NaN, max+1000, min-1000", mins[p], maxs[p],
             defs[p], bad, sanitized ? 2 : 7, nonfinite);
  }
  free(y);
  free(untouched);
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

/** The per-layer SQNR analysis (a fifth to a third of a fresh instance's
    work) runs only for a UI: asked for when one opens on a variant built
    without it, done with the build while one listens. */
static void test_sqnr_on_demand(void)
{
  printf("Per-layer SQNR analysed only while a UI listens\n");
  size_t pos = 0;
  qhost *h = qh_new(plugin, 48000);
  h->ctl[QT_PORT_PRECISION] = 8;
  qh_settle(h);
  int jobs = h->n_jobs, sqnr = h->n_sqnr;
  h->alive_every = 16000; /* a UI opens on the 8-bit variant */
  frames_during(h, 0.1, &pos);
  qh_check(h->n_sqnr > sqnr && h->sqnr_layers > 0 && h->n_jobs - jobs == 1,
           "UI opened after a switch: %d SQNR message(s) of %d layers, from %d worker job(s) (1: "
           "the analysis was not done without a UI)",
           h->n_sqnr - sqnr, h->sqnr_layers, h->n_jobs - jobs);
  int layers = h->sqnr_layers;
  sqnr = h->n_sqnr;
  h->ctl[QT_PORT_PRECISION] = 4; /* a switch while the UI listens */
  frames_during(h, 0.1, &pos);
  qh_check(h->n_sqnr > sqnr && h->sqnr_layers == layers,
           "4 bits while the UI listens: %d SQNR message(s) of %d layers (%d)", h->n_sqnr - sqnr,
           h->sqnr_layers, layers);
  h->alive_every = 0; /* the UI closes; back to 8 bits, built again */
  qh_ui_alive(h, false);
  h->ctl[QT_PORT_PRECISION] = 8;
  frames_during(h, 0.1, &pos); /* the 4-bit variant fades out and is handed back */
  jobs = h->n_jobs;
  sqnr = h->n_sqnr;
  h->alive_every = 16000; /* it opens again */
  h->alive_count = 0;
  frames_during(h, 0.1, &pos);
  qh_check(h->n_sqnr > sqnr && h->sqnr_layers == layers && h->n_jobs == jobs,
           "UI opened again on 8 bits, rebuilt meanwhile: %d SQNR message(s) of %d layers from %d "
           "job(s) (0: the worker kept the figures)",
           h->n_sqnr - sqnr, h->sqnr_layers, h->n_jobs - jobs);
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
  printf("        %-32s %-8s %10s %10s %10s %10s  (output mean)\n", "model", "act", "32", "8", "4",
         "2");
  printf("        (first row: mean of 3 s of silence from the start; second: mean of the\n"
         "        last 2 s of 3 s of silence after 0.5 s of signal)\n");
  for (int m = 0; m < nm; ++m) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", models_dir, names[m]);
    for (int act = sanitized ? QT_ACT_DYNAMIC : 0; act <= 1; ++act) {
      double whole[4], last[4];
      char errs[4][160] = {{0}};
      int worst = 0;
      for (int k = 0; k < 4; ++k) {
        if (sanitized && (prec[k] == 8 || prec[k] == 4)) {
          whole[k] = last[k] = 0;
          continue;
        }
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
      qh_check(fabs(last[worst]) < 1e-3,
               "%s, %s activations: |mean| of the last 2 s %.2e at %d "
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

/* ---- slim ------------------------------------------------------------------------------------ */

/** The first n frames of the test signal at random block sizes from
    seed, cb moving the controls: what run() (and work_response())
    allocated and locked, and how many output samples were not finite. */
typedef struct {
  long allocs, locks;
  size_t nonfinite;
} rt_count;

static rt_count render_counted(qhost *h, size_t n, unsigned seed, qh_block_fn cb, void *user)
{
  float *y = malloc(n * sizeof(float));
  rt_count c = {0, 0, 0};
  qh_allocs_in_run = qh_locks_in_run = 0;
  qh_render(h, sig, y, n, 0, seed, cb, user);
  c.allocs = qh_allocs_in_run;
  c.locks = qh_locks_in_run;
  for (size_t i = 0; i < n; ++i)
    c.nonfinite += !isfinite(y[i]);
  free(y);
  return c;
}

/** Slim across the container's breakpoints (0.33, 0.66) and within a
    step, and the precision, each on its own period; the histogram's
    matrix too, past the smaller sizes' last one (3 in the LSTM, 13 in
    the middle WaveNet, 64 in the full one: the worker clamps). */
static void slim_cb(qhost *h, size_t pos, uint32_t k, void *user)
{
  (void)user;
  static const float slim[] = {1.0f, 0.1f, 0.5f, 0.2f, 0.9f, 0.4f, 0.0f, 0.7f};
  static const float prec[] = {32, 8, 4, 8, 2};
  h->ctl[QT_PORT_SLIM] = slim[(pos / 7000) % 8];
  h->ctl[QT_PORT_PRECISION] = prec[(pos / 11000) % 5];
  if (pos % 5000 < k)
    qh_set_hist_layer(h, (int)((pos / 5000) * 7 % 70));
}

static void test_slim(void)
{
  printf("Slim switching in run()\n");
  char path[4200];
  snprintf(path, sizeof path, "%s/current/slimmable_container.nam", nam_dir ? nam_dir : "");
  FILE *f = nam_dir ? fopen(path, "r") : NULL;
  if (!f) {
    printf("  skip  no %s (give NAM_DIR)\n", path);
    return;
  }
  fclose(f);
  if (!qh_interposed) {
    printf("  skip  AddressSanitizer owns malloc; the release build counts\n");
    return;
  }
  qhost *h = qh_new(plugin, 48000);
  h->alive_every = 12000; /* a UI is open: frames, SQNR and histograms stream */
  qh_set_model(h, path);
  qh_settle(h);
  size_t n = n_sig < 4 * 48000 ? n_sig : 4 * 48000;
  int info0 = h->n_info, hist0 = h->n_hist;
  rt_count c = render_counted(h, n, 7, slim_cb, NULL);
  qh_check(c.allocs == 0 && c.locks == 0 && c.nonfinite == 0 && h->n_info - info0 >= 20 &&
               h->n_hist - hist0 >= 20 && !h->n_errors,
           "allocations %ld, mutex locks %ld in run()/work_response() over %zu frames while %d "
           "variants of 3 sizes x 4 widths and %d histograms came in (%zu non-finite samples, %d "
           "errors)",
           c.allocs, c.locks, n, h->n_info - info0, h->n_hist - hist0, c.nonfinite, h->n_errors);
  qh_free(h);
}

/** The levels of issue 18 on their own periods, and loads alternating a
    model with metadata (A2.nam: loudness, input_level_dbu) and one whose
    loudness the worker measures (overdrive_nano.nam). */
static void levels_cb(qhost *h, size_t pos, uint32_t k, void *user)
{
  const char *const *models = user;
  static const float dbu[] = {12, -20, 30, 4.5f};
  h->ctl[QT_PORT_OUTPUT_MODE] = (float)((pos / 5000) % 3);
  h->ctl[QT_PORT_CALIBRATE] = (float)((pos / 7000) % 2);
  h->ctl[QT_PORT_INPUT_DBU] = dbu[(pos / 3000) % 4];
  size_t period = 40000;
  if (pos % period < k && models[(pos / period) % 2])
    qh_set_model(h, models[(pos / period) % 2]);
}

static void test_levels(void)
{
  printf("Input calibration, output modes and loads in run()\n");
  if (!qh_interposed) {
    printf("  skip  AddressSanitizer owns malloc; the release build counts\n");
    return;
  }
  char a2[4200], nano[4200];
  snprintf(a2, sizeof a2, "%s/current/A2.nam", nam_dir ? nam_dir : "");
  snprintf(nano, sizeof nano, "%s/overdrive_nano.nam", models_dir);
  FILE *f = nam_dir ? fopen(a2, "r") : NULL;
  if (f)
    fclose(f);
  else
    printf("  (no %s: loads of overdrive_nano.nam only)\n", a2);
  const char *models[2] = {nano, f ? a2 : NULL};
  qhost *h = qh_new(plugin, 48000);
  h->alive_every = 12000;
  qh_settle(h);
  size_t n = n_sig < 4 * 48000 ? n_sig : 4 * 48000;
  int paths0 = h->n_paths;
  rt_count c = render_counted(h, n, 11, levels_cb, (void *)models);
  qh_check(c.allocs == 0 && c.locks == 0 && c.nonfinite == 0 && h->n_paths - paths0 >= 3 &&
               !h->n_errors,
           "allocations %ld, mutex locks %ld in run()/work_response() over %zu frames of "
           "mode / calibration / interface level changes and %d model loads (%zu non-finite, "
           "%d errors)",
           c.allocs, c.locks, n, h->n_paths - paths0, c.nonfinite, h->n_errors);
  qh_free(h);
}

/** Nearest and Optimized in turn, every half second. */
static void rounding_cb(qhost *h, size_t pos, uint32_t k, void *user)
{
  (void)k;
  (void)user;
  h->ctl[QT_PORT_ROUNDING] =
      (float)((pos / 24000) % 2 ? QT_ROUNDING_OPTIMIZED : QT_ROUNDING_NEAREST);
}

/** The plugin's own worker thread works while run() goes on: progress
    messages come before the prepared variant. */
static void test_rounding_progress(void)
{
  qh_opts o = {.no_worker = true};
  qhost *h = qh_new_opts(plugin, 48000, &o);
  h->ctl[QT_PORT_PRECISION] = 4;
  qh_settle(h);
  h->ctl[QT_PORT_ROUNDING] = QT_ROUNDING_OPTIMIZED;
  float x[256] = {0}, y[256];
  int waited_ms = 0;
  for (; h->n_prep_ready == 0 && waited_ms < 120000; waited_ms += 5) {
    qh_run(h, x, y, 256);
    usleep(5000);
  }
  qh_check(h->n_prep_progress >= 2 && h->n_prep_ready == 1 && !strcmp(h->prep_stage, "ready"),
           "own worker thread: %d qt:prepare progress messages while it worked, then '%s' "
           "after %.2f s CPU (%d ms of run() calls)",
           h->n_prep_progress, h->prep_stage, h->prep_cpu_s, waited_ms);
  qh_free(h);
}

static void test_rounding(void)
{
  printf("Rounding switching in run()\n");
  test_rounding_progress();
  if (!qh_interposed) {
    printf("  skip  AddressSanitizer owns malloc; the release build counts\n");
    return;
  }
  qhost *h = qh_new(plugin, 48000);
  h->alive_every = 12000;
  h->ctl[QT_PORT_PRECISION] = 4;
  qh_settle(h);
  size_t n = n_sig < 4 * 48000 ? n_sig : 4 * 48000;
  int info0 = h->n_info;
  rt_count c = render_counted(h, n, 13, rounding_cb, NULL);
  qh_check(c.allocs == 0 && c.locks == 0 && c.nonfinite == 0 && h->n_info - info0 >= 6 &&
               !h->n_errors,
           "allocations %ld, mutex locks %ld in run()/work_response() over %zu frames of "
           "Nearest / Optimized at 4 bits (%d variants in, %zu non-finite, %d errors)",
           c.allocs, c.locks, n, h->n_info - info0, c.nonfinite, h->n_errors);
  qh_check(h->n_prep_ready == 1 && h->n_prep_cached >= 2,
           "qt:prepare: %d prepared (%.2f s CPU), %d from the worker's kept variants (want 1, "
           ">= 2)",
           h->n_prep_ready, h->prep_cpu_s, h->n_prep_cached);
  /* the last switch (at 3.5 s) is to Optimized */
  h->ctl[QT_PORT_ROUNDING] = QT_ROUNDING_OPTIMIZED;
  qh_settle(h);
  qh_check(strstr(h->info_variant, "gptq") && strstr(h->info_variant, "bias-corrected"),
           "Optimized plays '%s'", h->info_variant);
  qh_free(h);
}

int main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: %s BUNDLE_DIR MODELS_DIR\n", argv[0]);
    return 2;
  }
  models_dir = argv[2];
  nam_dir = argc > 3 ? argv[3] : NULL;
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
  if (WANT("alive")) {
    test_alive();
    test_sqnr_on_demand();
  }
  if (WANT("silence")) {
    test_silence(8);
    test_silence(4);
  }
  if (WANT("dc"))
    test_dc();
  if (WANT("slim"))
    test_slim();
  if (WANT("levels"))
    test_levels();
  if (WANT("rounding"))
    test_rounding();
  lilv_world_free(world);
  free(sig);
  printf("%s (%d failure%s)\n", qh_failures ? "FAILED" : "all passed", qh_failures,
         qh_failures == 1 ? "" : "s");
  return qh_failures ? 1 : 0;
}
