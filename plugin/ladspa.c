/*
  Quantone as a LADSPA plugin: the same DSP as the LV2 plugin, for hosts
  that only speak LADSPA (sox, applyplugin, older DAWs).

  One engine-driving core. This file contains no DSP and no switching
  logic: a LADSPA instance wraps an instance of the LV2 plugin compiled into
  the same quantone.so (plugin.c's descriptor, called directly), so
  instantiate / activate / run / cleanup, the crossfaded variant switching,
  the reference beside the quantized path, meters, monitor and levels are
  exactly the LV2 code. What LADSPA lacks, this file supplies:

  - Ports: LADSPA port i maps to an LV2 port index (ladspa_to_lv2[]); the
    atom ports and `enabled` are simply left unconnected, which the LV2
    core allows (they are lv2:connectionOptional, and it plays its control
    defaults for unconnected controls).
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

enum {
  QL_IN,
  QL_OUT,
  QL_PRECISION,
  QL_MAPPING,
  QL_ASYMMETRIC,
  QL_GRANULARITY,
  QL_ACTIVATIONS,
  QL_MONITOR,
  QL_ERROR_GAIN,
  QL_INPUT_LEVEL,
  QL_OUTPUT_LEVEL,
  QL_ESR_DB,
  QL_CLIPPED,
  QL_DSP_RATIO,
  QL_WEIGHT_BYTES,
  QL_LATENCY,
  QL_PORT_COUNT
};

/** Port order is the command-line order of applyplugin and sox (control
    inputs are positional there), so it is a public interface: append
    only. */
static const uint32_t ladspa_to_lv2[QL_PORT_COUNT] = {
  QT_PORT_IN,          QT_PORT_OUT,          QT_PORT_PRECISION,   QT_PORT_MAPPING,
  QT_PORT_ASYMMETRIC,  QT_PORT_GRANULARITY,  QT_PORT_ACTIVATIONS, QT_PORT_MONITOR,
  QT_PORT_ERROR_GAIN,  QT_PORT_INPUT_LEVEL,  QT_PORT_OUTPUT_LEVEL, QT_PORT_ESR_DB,
  QT_PORT_CLIPPED,     QT_PORT_DSP_RATIO,    QT_PORT_WEIGHT_BYTES, QT_PORT_LATENCY,
};

static const LADSPA_PortDescriptor port_desc[QL_PORT_COUNT] = {
  LADSPA_PORT_INPUT | LADSPA_PORT_AUDIO,    LADSPA_PORT_OUTPUT | LADSPA_PORT_AUDIO,
  LADSPA_PORT_INPUT | LADSPA_PORT_CONTROL,  LADSPA_PORT_INPUT | LADSPA_PORT_CONTROL,
  LADSPA_PORT_INPUT | LADSPA_PORT_CONTROL,  LADSPA_PORT_INPUT | LADSPA_PORT_CONTROL,
  LADSPA_PORT_INPUT | LADSPA_PORT_CONTROL,  LADSPA_PORT_INPUT | LADSPA_PORT_CONTROL,
  LADSPA_PORT_INPUT | LADSPA_PORT_CONTROL,  LADSPA_PORT_INPUT | LADSPA_PORT_CONTROL,
  LADSPA_PORT_INPUT | LADSPA_PORT_CONTROL,  LADSPA_PORT_OUTPUT | LADSPA_PORT_CONTROL,
  LADSPA_PORT_OUTPUT | LADSPA_PORT_CONTROL, LADSPA_PORT_OUTPUT | LADSPA_PORT_CONTROL,
  LADSPA_PORT_OUTPUT | LADSPA_PORT_CONTROL, LADSPA_PORT_OUTPUT | LADSPA_PORT_CONTROL,
};

/** The enumerations are spelled out in the names because LADSPA has no
    scale points; "latency" is the name hosts (Ardour) look for to learn a
    LADSPA plugin's latency. */
static const char *const port_names[QL_PORT_COUNT] = {
  "Input",
  "Output",
  "Precision (32=FP32 reference, 8, 4, 2 bits)",
  "Mapping (0=linear, 1=power-of-two, 2=k-means)",
  "Asymmetric (0=symmetric, 1=zero point)",
  "Granularity (0=tensor, 1=channel, 2=group)",
  "Activations (0=float, 1=int8 dynamic, 2=int8 calibrated)",
  "Monitor (0=quantized, 1=reference, 2=error)",
  "Error gain (dB)",
  "Input level (dB)",
  "Output level (dB)",
  "ESR (dB)",
  "Clipped activations (per second)",
  "DSP time ratio (quantized / FP32)",
  "Weight memory (bytes)",
  "latency",
};

/** What LADSPA needs beyond the port table: how a host should present
    the value. Bounds and defaults come from the table
    (quantone_ports.h), which is the Turtle's, so the LADSPA plugin
    advertises exactly the range the core clamps every control to. */
static const LADSPA_PortRangeHintDescriptor port_style[QL_PORT_COUNT] = {
  [QL_PRECISION] = LADSPA_HINT_INTEGER | LADSPA_HINT_LOGARITHMIC,
  [QL_MAPPING] = LADSPA_HINT_INTEGER,
  [QL_ASYMMETRIC] = LADSPA_HINT_TOGGLED,
  [QL_GRANULARITY] = LADSPA_HINT_INTEGER,
  [QL_ACTIVATIONS] = LADSPA_HINT_INTEGER,
  [QL_MONITOR] = LADSPA_HINT_INTEGER,
};

static LADSPA_PortRangeHint port_hints[QL_PORT_COUNT];

/** The value a LADSPA default hint stands for (ladspa.h's definitions). */
static double ladspa_default_value(LADSPA_PortRangeHintDescriptor d, double lo, double hi,
                                   bool lg)
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

/** LADSPA can only name a default as a point of the range (or 0, 1, 100,
    440): take the one nearest the table's default. Every port lands on
    it exactly (precision's [2, 32] logarithmic middle is 8) except
    error_gain, whose 20 dB in [0, 60] is not expressible: hosts that
    apply defaults start it at 15 dB (LOW), which only matters while the
    monitor plays the error. */
static void fill_hints(void)
{
  static const LADSPA_PortRangeHintDescriptor defaults[] = {
    /* 0 and 1 first: the only defaults a toggled port may carry */
    LADSPA_HINT_DEFAULT_0,    LADSPA_HINT_DEFAULT_1,       LADSPA_HINT_DEFAULT_MINIMUM,
    LADSPA_HINT_DEFAULT_LOW,  LADSPA_HINT_DEFAULT_MIDDLE,  LADSPA_HINT_DEFAULT_HIGH,
    LADSPA_HINT_DEFAULT_MAXIMUM, LADSPA_HINT_DEFAULT_100,  LADSPA_HINT_DEFAULT_440,
  };
  for (int i = 0; i < QL_PORT_COUNT; ++i) {
    const qt_port_info *p = qt_port_info_get((int)ladspa_to_lv2[i]);
    LADSPA_PortRangeHint *h = &port_hints[i];
    memset(h, 0, sizeof *h);
    if (p->kind == QT_KIND_CONTROL_OUT) {
      /** sox treats every control port as an input it must fill from its
          arguments or the port's default, so outputs carry a default. */
      h->HintDescriptor = LADSPA_HINT_DEFAULT_0;
      continue;
    }
    if (p->kind != QT_KIND_CONTROL_IN)
      continue;
    bool lg = (port_style[i] & LADSPA_HINT_LOGARITHMIC) != 0;
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
    h->HintDescriptor =
        port_style[i] | best |
        (port_style[i] & LADSPA_HINT_TOGGLED ? 0
                                              : LADSPA_HINT_BOUNDED_BELOW | LADSPA_HINT_BOUNDED_ABOVE);
    h->LowerBound = p->min;
    h->UpperBound = p->max;
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
  if (!dladdr((const void *)&port_names, &info) || !info.dli_fname)
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
  if (port < QL_PORT_COUNT)
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

static const LADSPA_Descriptor descriptor = {
  .UniqueID = QL_UNIQUE_ID,
  .Label = "quantone",
  .Properties = LADSPA_PROPERTY_HARD_RT_CAPABLE,
  .Name = "Quantone (neural amp capture at FP32 / INT8 / INT4 / INT2)",
  .Maker = "Quantone",
  .Copyright = "ISC",
  .PortCount = QL_PORT_COUNT,
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

__attribute__((visibility("default"))) const LADSPA_Descriptor *
ladspa_descriptor(unsigned long index)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, fill_hints);
  return index == 0 ? &descriptor : NULL;
}
