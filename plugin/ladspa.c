/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Quantone as a LADSPA plugin: the same DSP as the LV2 plugin, for hosts
  that only speak LADSPA (sox, applyplugin, older DAWs).

  One engine-driving core. This file contains no DSP and no switching
  logic: a LADSPA instance wraps an instance of the LV2 plugin compiled into
  the same quantone.so (plugin.c's descriptor, called directly), so
  instantiate / activate / run / cleanup, the crossfaded variant switching,
  the reference beside the quantized path, meters, monitor and levels are
  exactly the LV2 code. What LADSPA lacks, this file supplies:

  - Ports: LADSPA port i maps to an LV2 port index (ladspa_to_lv2[]),
    both taken from the port table (quantone_ports.h) with names and range
    hints; the atom ports and `enabled` are simply left unconnected, which
    the LV2 core allows (they are lv2:connectionOptional, and it plays its
    control defaults for unconnected controls).
  - The default model: LADSPA passes no bundle path, so the directory of
    this very .so file (dladdr + realpath, so a symlink from
    LIBDIR/ladspa into the LV2 bundle works) is handed to the LV2
    instantiate() as its bundle path; the model installed beside the .so is
    loaded there. LADSPA has no way to name another file.
  - A worker. LADSPA has none and this file passes the core no features,
    so the core runs its own background thread (bgworker.c), as it does for any
    LV2 host without a worker: run() never allocates, frees, locks or
    waits, and the descriptor claims LADSPA_PROPERTY_HARD_RT_CAPABLE.
    Offline hosts (applyplugin, sox) set their controls before activate(),
    where the core prepares what they ask for synchronously, before the
    first sample; later changes (a live host turning a knob) go through
    the thread and take effect a moment later with a crossfade.
*/
#include "quantone_ports.h"

#include <ladspa.h>
#include <lv2/core/lv2.h>

#include <dlfcn.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** LADSPA unique IDs are handed out by ladspa.org; this one is unassigned
    there as far as we know and outside the 1..1000 test range. */
#define QL_UNIQUE_ID 4851

/* ---- Ports -------------------------------------------------------------------- */

/** The LADSPA ports are the LV2 port table's audio and control ports, in
    its order, but for the one designated lv2:enabled (LADSPA hosts bypass
    by themselves); the atom ports have no LADSPA counterpart. The order
    is the command-line order of applyplugin and sox (control inputs are
    positional there), so it is a public interface, which the table's
    append-only indices keep. Everything below is filled in once, from the
    table, by fill_ports(). */
static uint32_t ladspa_to_lv2[QT_PORT_COUNT];
static unsigned long n_ports;
static LADSPA_PortDescriptor port_desc[QT_PORT_COUNT];
static const char *port_names[QT_PORT_COUNT];
static char name_buf[QT_PORT_COUNT][160];
static LADSPA_PortRangeHint port_hints[QT_PORT_COUNT];

/** The value a LADSPA default hint stands for (ladspa.h's definitions). */
static double ladspa_default_value(LADSPA_PortRangeHintDescriptor d, double lo, double hi, bool lg)
{
  double w;
  switch (d) {
  case LADSPA_HINT_DEFAULT_MINIMUM: return lo;
  case LADSPA_HINT_DEFAULT_MAXIMUM: return hi;
  case LADSPA_HINT_DEFAULT_0: return 0;
  case LADSPA_HINT_DEFAULT_1: return 1;
  case LADSPA_HINT_DEFAULT_100: return 100;
  case LADSPA_HINT_DEFAULT_440: return 440;
  case LADSPA_HINT_DEFAULT_LOW: w = 0.25; break;
  case LADSPA_HINT_DEFAULT_MIDDLE: w = 0.5; break;
  default: w = 0.75; break; /* HIGH */
  }
  if (lg && lo > 0 && hi > 0)
    return exp(log(lo) * (1 - w) + log(hi) * w);
  return lo * (1 - w) + hi * w;
}

/** The default hint nearest the table's default on a linear (lg false)
    or logarithmic range; *dist is how far it is. Candidates in
    preference order, 0 and 1 first: the only defaults a toggled port may
    carry. */
static LADSPA_PortRangeHintDescriptor nearest_default(const qt_port_info *p, bool lg, double *dist)
{
  static const LADSPA_PortRangeHintDescriptor defaults[] = {
      LADSPA_HINT_DEFAULT_0,       LADSPA_HINT_DEFAULT_1,      LADSPA_HINT_DEFAULT_MINIMUM,
      LADSPA_HINT_DEFAULT_LOW,     LADSPA_HINT_DEFAULT_MIDDLE, LADSPA_HINT_DEFAULT_HIGH,
      LADSPA_HINT_DEFAULT_MAXIMUM, LADSPA_HINT_DEFAULT_100,    LADSPA_HINT_DEFAULT_440,
  };
  LADSPA_PortRangeHintDescriptor best = LADSPA_HINT_DEFAULT_MIDDLE;
  double best_d = INFINITY;
  for (size_t k = 0; k < sizeof defaults / sizeof *defaults; ++k) {
    double v = ladspa_default_value(defaults[k], p->min, p->max, lg);
    double d = fabs(v - p->def);
    if (v >= p->min && v <= p->max && d < best_d - 1e-9) {
      best = defaults[k];
      best_d = d;
    }
  }
  *dist = best_d;
  return best;
}

/** Range hints from the table. LADSPA can only name a default as a point
    of the range (or 0, 1, 100, 440): take the one nearest the table's
    default on a linear range, or on a logarithmic one where only that
    reaches the default exactly (precision: [2, 32]'s logarithmic middle
    is 8, its linear points are 2, 9.5, 17, ...). Every port lands on its
    default exactly except error_gain, whose 20 dB in [0, 60] is not
    expressible: hosts that apply defaults start it at 15 dB (LOW), which
    only matters while the monitor plays the error. */
static void fill_hint(LADSPA_PortRangeHint *h, const qt_port_info *p)
{
  memset(h, 0, sizeof *h);
  if (p->kind == QT_KIND_CONTROL_OUT) {
    /** sox treats every control port as an input it must fill from its
        arguments or the port's default, so outputs carry a default. */
    h->HintDescriptor = LADSPA_HINT_DEFAULT_0;
    return;
  }
  if (p->kind != QT_KIND_CONTROL_IN)
    return;
  double d_lin, d_log;
  LADSPA_PortRangeHintDescriptor style = 0, def = nearest_default(p, false, &d_lin);
  if (p->props & QT_PROP_TOGGLED)
    style = LADSPA_HINT_TOGGLED;
  else {
    style = LADSPA_HINT_BOUNDED_BELOW | LADSPA_HINT_BOUNDED_ABOVE;
    if (p->props & QT_PROP_INTEGER)
      style |= LADSPA_HINT_INTEGER;
    LADSPA_PortRangeHintDescriptor def_log = nearest_default(p, true, &d_log);
    if (d_lin > 1e-9 && d_log <= 1e-9 && p->min > 0) {
      style |= LADSPA_HINT_LOGARITHMIC;
      def = def_log;
    }
  }
  h->HintDescriptor = style | def;
  h->LowerBound = p->min;
  h->UpperBound = p->max;
}

/** A LADSPA port name from the table: LADSPA has no scale points and no
    units, so the name carries them ("Mapping (0=Linear, 1=Power of two,
    2=K-means)", "Error gain (dB)"). The lv2:latency port is "latency",
    the name hosts (Ardour) look for to learn a LADSPA plugin's latency. */
static void fill_name(char *buf, size_t len, const qt_port_info *p)
{
  if (p->designation == QT_DESIG_LATENCY) {
    snprintf(buf, len, "latency");
    return;
  }
  size_t n = (size_t)snprintf(buf, len, "%s", p->name);
  if (p->n_points > 0) {
    for (int k = 0; k < p->n_points && n < len; ++k)
      n += (size_t)snprintf(buf + n, len - n, "%s%g=%s", k ? ", " : " (",
                            (double)p->points[k].value, p->points[k].label);
    if (n < len)
      snprintf(buf + n, len - n, ")");
  } else if (p->props & QT_PROP_TOGGLED) {
    snprintf(buf + n, len - n, " (0=off, 1=on)");
  } else if (p->unit == QT_UNIT_DB && !strstr(p->name, "dB")) {
    snprintf(buf + n, len - n, " (dB)");
  } else if (p->unit == QT_UNIT_FRAME) {
    snprintf(buf + n, len - n, " (frames)");
  }
}

static void fill_ports(void)
{
  n_ports = 0;
  for (int i = 0; i < QT_PORT_COUNT; ++i) {
    const qt_port_info *p = qt_port_info_get(i);
    LADSPA_PortDescriptor d;
    switch (p->kind) {
    case QT_KIND_AUDIO_IN: d = LADSPA_PORT_INPUT | LADSPA_PORT_AUDIO; break;
    case QT_KIND_AUDIO_OUT: d = LADSPA_PORT_OUTPUT | LADSPA_PORT_AUDIO; break;
    case QT_KIND_CONTROL_IN: d = LADSPA_PORT_INPUT | LADSPA_PORT_CONTROL; break;
    case QT_KIND_CONTROL_OUT: d = LADSPA_PORT_OUTPUT | LADSPA_PORT_CONTROL; break;
    default: continue; /* atom ports */
    }
    if (p->designation == QT_DESIG_ENABLED)
      continue;
    ladspa_to_lv2[n_ports] = (uint32_t)i;
    port_desc[n_ports] = d;
    fill_name(name_buf[n_ports], sizeof name_buf[n_ports], p);
    port_names[n_ports] = name_buf[n_ports];
    fill_hint(&port_hints[n_ports], p);
    ++n_ports;
  }
}

/* ---- The instance ---------------------------------------------------------------- */

typedef struct {
  const LV2_Descriptor *lv2;
  LV2_Handle core;
} ql_instance;

/** The directory holding this .so, symlinks resolved: the bundle. */
static char *own_dir(void)
{
  Dl_info info;
  if (!dladdr((const void *)&own_dir, &info) || !info.dli_fname)
    return NULL;
  char *real = realpath(info.dli_fname, NULL);
  if (!real)
    return NULL;
  char *slash = strrchr(real, '/');
  if (slash)
    slash[1] = 0;
  return real;
}

static LADSPA_Handle ql_instantiate(const LADSPA_Descriptor *d, unsigned long rate)
{
  (void)d;
  ql_instance *q = calloc(1, sizeof *q);
  if (!q)
    return NULL;
  q->lv2 = lv2_descriptor(0);
  static const LV2_Feature *const no_features[] = {NULL};
  char *dir = own_dir();
  /** The core loads the default model here (instantiate is not real-time
      in LADSPA either) and starts its worker thread. */
  q->core = q->lv2->instantiate(q->lv2, (double)rate, dir ? dir : "./", no_features);
  free(dir);
  if (!q->core) {
    free(q);
    return NULL;
  }
  return q;
}

static void ql_connect_port(LADSPA_Handle h, unsigned long port, LADSPA_Data *data)
{
  ql_instance *q = h;
  if (port < n_ports)
    q->lv2->connect_port(q->core, ladspa_to_lv2[port], data);
}

static void ql_activate(LADSPA_Handle h)
{
  ql_instance *q = h;
  q->lv2->activate(q->core);
}

static void ql_run(LADSPA_Handle h, unsigned long n)
{
  ql_instance *q = h;
  q->lv2->run(q->core, (uint32_t)n);
}

static void ql_cleanup(LADSPA_Handle h)
{
  ql_instance *q = h;
  q->lv2->cleanup(q->core);
  free(q);
}

static LADSPA_Descriptor descriptor = {
    .UniqueID = QL_UNIQUE_ID,
    .Label = "quantone",
    .Properties = LADSPA_PROPERTY_HARD_RT_CAPABLE,
    .Name = "Quantone (neural amp capture at FP32 / INT8 / INT4 / INT2)",
    .Maker = "Quantone",
    .Copyright = "ISC",
    .PortCount = 0, /* fill_ports() */
    .PortDescriptors = port_desc,
    .PortNames = port_names,
    .PortRangeHints = port_hints,
    .ImplementationData = NULL,
    .instantiate = ql_instantiate,
    .connect_port = ql_connect_port,
    .activate = ql_activate,
    .run = ql_run,
    .run_adding = NULL,
    .set_run_adding_gain = NULL,
    .deactivate = NULL,
    .cleanup = ql_cleanup,
};

static void fill_descriptor(void)
{
  fill_ports();
  descriptor.PortCount = n_ports;
}

__attribute__((visibility("default"))) const LADSPA_Descriptor *
ladspa_descriptor(unsigned long index)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, fill_descriptor);
  return index == 0 ? &descriptor : NULL;
}
