/*
  The plugin's public interface: port indices, control values and URIs.
  Shared by the plugin, the GUI and the tests; it includes no LV2 or GTK
  header so the GUI process and the tools can use it as it is.
  Port symbols (in ttl/quantone.ttl.in) are a public interface too: hosts,
  presets and scripts address ports by them, so never renumber or rename.
*/
#ifndef QUANTONE_PLUGIN_PORTS_H
#define QUANTONE_PLUGIN_PORTS_H

#define QUANTONE_URI "https://quantone.audio/plugins/quantone"
#define QUANTONE_UI_GTK3_URI QUANTONE_URI "#ui-gtk3"
#define QUANTONE_UI_EXTERNAL_URI QUANTONE_URI "#ui-external"
#define QUANTONE_NS QUANTONE_URI "#"

/*
  Atom protocol (control port: UI/host -> plugin; notify port: plugin -> UI).
  Every message is an atom:Object in an atom:Sequence; "key: type" lists the
  properties in the order the plugin writes them. Keys are QUANTONE_NS
  names unless prefixed (patch: = http://lv2plug.in/ns/ext/patch#).

  UI -> plugin (control port)
  - patch:Set { patch:property qt:model, patch:value atom:Path }
      load a model file (.nam or keras json) in the worker. On success the
      plugin answers with patch:Set model + modelInfo (+ layerSqnr and
      histogram); on failure with qt:error, and the current model keeps
      playing.
  - patch:Set { patch:property qt:histogramLayer, patch:value atom:Int }
      choose the weight matrix (index into modelInfo's qt:linearNames) whose
      histogram the plugin sends.
  - patch:Get { } (or with patch:property qt:model)
      ask for everything: patch:Set model, modelInfo, layerSqnr, histogram
      (the last two while a UI is alive, see qt:uiAlive).
  - patch:Set { patch:property qt:uiAlive, patch:value atom:Bool }
      keep-alive of a UI that shows the streamed data. A UI sends true
      every QUANTONE_UI_ALIVE_INTERVAL_S while it is open (both the Gtk3 UI
      and the external helper do, from the window's redraw timer) and may
      send false when it closes (the external-UI shim does, on hide and
      when its helper window goes away). The plugin streams qt:frames,
      qt:layerSqnr and qt:histogram only while it has had a true within
      the last QUANTONE_UI_ALIVE_TIMEOUT_S of audio (counted in samples
      processed by run(), so a stopped host clock stops nothing early),
      and stops at once on false. Why: hosts keep the notify port
      connected after their UI has closed (Ardour keeps the plugin-to-UI
      ring and stops draining it), and 25 scope frames a second filled its
      ring in seconds and then logged an error per message. Answers to
      explicit requests (patch:Set model and modelInfo on patch:Get or
      after a load, qt:error) go out whether or not a UI is alive.

  plugin -> UI (notify port)
  - patch:Set { patch:property qt:model, patch:value atom:Path }
      the model file now playing (after a load, a restore and on patch:Get).
  - qt:modelInfo {
      qt:path atom:Path, qt:name atom:String, qt:architecture atom:String,
      qt:modelRate atom:Double (Hz), qt:hostRate atom:Double (Hz),
      qt:resampling atom:Bool, qt:latency atom:Int (host frames),
      qt:weightCount atom:Long (float parameters in the file),
      qt:weightBytesFp32 atom:Long, qt:weightBytes atom:Long (active variant),
      qt:variant atom:String (e.g. "4-bit kmeans sym per-channel, float"),
      qt:linearNames atom:Tuple of atom:String }
  - qt:error { qt:message atom:String }   a problem the player must see
      (unreadable model file, unsupported sample rate ratio, a scheme the
      quantizer refuses ...). Also written to the host log (not from run()).
  - qt:frames { qt:sampleRate atom:Float, qt:reference atom:Vector of Float,
      qt:quantized atom:Vector of Float, qt:difference atom:Vector of Float }
      QUANTONE_FRAME_LEN consecutive samples of the float reference, the
      quantized path and quantized - reference, at the model's rate, before
      monitor selection and levels; at most QUANTONE_FRAME_RATE per second.
  - qt:layerSqnr { qt:layerNames atom:Tuple of atom:String,
      qt:values atom:Vector of Float }
      per observed layer (engine.h qm_model_layer_name order), SQNR in dB of
      the active variant's layer output against the float model's, measured
      in the worker over a synthetic guitar-like calibration clip; +inf for
      the FP32 reference. Sent when a variant becomes active.
  - qt:histogram { qt:histogramLayer atom:Int, qt:layerName atom:String,
      qt:min atom:Float, qt:max atom:Float, qt:counts atom:Vector of Int,
      qt:levels atom:Vector of Float }
      QUANTONE_HIST_BINS equal-width bins over [min, max] of the weights the
      active variant multiplies with (dequantized), and the quantizer's
      levels for the first row (empty for FP32).
*/
#define QUANTONE__model QUANTONE_NS "model"
#define QUANTONE__modelInfo QUANTONE_NS "modelInfo"
#define QUANTONE__error QUANTONE_NS "error"
#define QUANTONE__frames QUANTONE_NS "frames"
#define QUANTONE__layerSqnr QUANTONE_NS "layerSqnr"
#define QUANTONE__histogram QUANTONE_NS "histogram"
#define QUANTONE__histogramLayer QUANTONE_NS "histogramLayer"
#define QUANTONE__uiAlive QUANTONE_NS "uiAlive"
/* property keys */
#define QUANTONE__path QUANTONE_NS "path"
#define QUANTONE__name QUANTONE_NS "name"
#define QUANTONE__architecture QUANTONE_NS "architecture"
#define QUANTONE__modelRate QUANTONE_NS "modelRate"
#define QUANTONE__hostRate QUANTONE_NS "hostRate"
#define QUANTONE__resampling QUANTONE_NS "resampling"
#define QUANTONE__latency QUANTONE_NS "latency"
#define QUANTONE__weightCount QUANTONE_NS "weightCount"
#define QUANTONE__weightBytesFp32 QUANTONE_NS "weightBytesFp32"
#define QUANTONE__weightBytes QUANTONE_NS "weightBytes"
#define QUANTONE__variant QUANTONE_NS "variant"
#define QUANTONE__linearNames QUANTONE_NS "linearNames"
#define QUANTONE__message QUANTONE_NS "message"
#define QUANTONE__sampleRate QUANTONE_NS "sampleRate"
#define QUANTONE__reference QUANTONE_NS "reference"
#define QUANTONE__quantized QUANTONE_NS "quantized"
#define QUANTONE__difference QUANTONE_NS "difference"
#define QUANTONE__layerNames QUANTONE_NS "layerNames"
#define QUANTONE__values QUANTONE_NS "values"
#define QUANTONE__layerName QUANTONE_NS "layerName"
#define QUANTONE__min QUANTONE_NS "min"
#define QUANTONE__max QUANTONE_NS "max"
#define QUANTONE__counts QUANTONE_NS "counts"
#define QUANTONE__levels QUANTONE_NS "levels"

#define QUANTONE_FRAME_LEN 256 /**< samples per vector of a qt:frames message */
#define QUANTONE_FRAME_RATE 25 /**< qt:frames messages per second, at most */
#define QUANTONE_HIST_BINS 64  /**< bins of a qt:histogram */
#define QUANTONE_ESR_WINDOW_S 1.0 /**< esr_db / clipped window, seconds */
/** A UI sends qt:uiAlive true at about this period (seconds)... */
#define QUANTONE_UI_ALIVE_INTERVAL_S 0.33
/** ... and the plugin stops streaming after this much audio without one:
    three missed keep-alives, so a busy GUI thread does not blink. */
#define QUANTONE_UI_ALIVE_TIMEOUT_S 1.0
/** Reference level (mean square, about -70 dBFS) under which a segment of
    the ESR window counts as silence and does not enter the window. */
#define QUANTONE_ESR_SILENCE_MS 1e-7

typedef enum {
  QT_PORT_IN = 0,
  QT_PORT_OUT,
  QT_PORT_CONTROL,      /**< atom in: patch:Set / patch:Get */
  QT_PORT_NOTIFY,       /**< atom out: model info, errors, GUI data */
  QT_PORT_PRECISION,    /**< 32 = FP32 reference, 8, 4, 2 */
  QT_PORT_MAPPING,      /**< qt_mapping */
  QT_PORT_ASYMMETRIC,   /**< toggle */
  QT_PORT_GRANULARITY,  /**< qt_granularity */
  QT_PORT_ACTIVATIONS,  /**< qt_activations */
  QT_PORT_MONITOR,      /**< qt_monitor */
  QT_PORT_ERROR_GAIN,   /**< dB applied to the error signal when monitored */
  QT_PORT_INPUT_LEVEL,  /**< dB, smoothed */
  QT_PORT_OUTPUT_LEVEL, /**< dB, smoothed */
  QT_PORT_ENABLED,      /**< lv2:enabled (bypass when 0) */
  QT_PORT_ESR_DB,       /**< out: ESR of quantized vs reference, sliding window */
  QT_PORT_CLIPPED,      /**< out: saturated int8 activations per second */
  QT_PORT_DSP_RATIO,    /**< out: DSP time of the quantized path / FP32 */
  QT_PORT_WEIGHT_BYTES, /**< out: weight memory of the active variant */
  QT_PORT_LATENCY,      /**< out: lv2:latency in frames */
  QT_PORT_COUNT
} qt_port_index;

/* ---- The port table ------------------------------------------------------------

   One row per port (by qt_port_index): symbol, kind and, for control
   ports, the range and default of ttl/quantone.ttl.in. The plugin clamps
   every control input to [min, max] and plays the default for NaN (and
   for an unconnected port), the LADSPA wrapper derives its range hints
   from it, and a test (tests/plugin/test_rtpath.c, "ports") checks every
   row against the Turtle through lilv, so the two cannot drift apart. */

typedef enum {
  QT_KIND_AUDIO_IN = 0,
  QT_KIND_AUDIO_OUT,
  QT_KIND_ATOM_IN,
  QT_KIND_ATOM_OUT,
  QT_KIND_CONTROL_IN,
  QT_KIND_CONTROL_OUT
} qt_port_kind;

typedef struct {
  const char *symbol;
  qt_port_kind kind;
  float min, max, def; /**< control ports only (0 otherwise) */
} qt_port_info;

/** Row `index` of the table, or NULL past the last port. A function with
    a local table keeps this header free of definitions that every file
    including it would otherwise carry (or warn about). */
static inline const qt_port_info *qt_port_info_get(int index)
{
  static const qt_port_info table[QT_PORT_COUNT] = {
    [QT_PORT_IN] = {"in", QT_KIND_AUDIO_IN, 0, 0, 0},
    [QT_PORT_OUT] = {"out", QT_KIND_AUDIO_OUT, 0, 0, 0},
    [QT_PORT_CONTROL] = {"control", QT_KIND_ATOM_IN, 0, 0, 0},
    [QT_PORT_NOTIFY] = {"notify", QT_KIND_ATOM_OUT, 0, 0, 0},
    [QT_PORT_PRECISION] = {"precision", QT_KIND_CONTROL_IN, 2, 32, 8},
    [QT_PORT_MAPPING] = {"mapping", QT_KIND_CONTROL_IN, 0, 2, 0},
    [QT_PORT_ASYMMETRIC] = {"asymmetric", QT_KIND_CONTROL_IN, 0, 1, 0},
    [QT_PORT_GRANULARITY] = {"granularity", QT_KIND_CONTROL_IN, 0, 2, 1},
    [QT_PORT_ACTIVATIONS] = {"activations", QT_KIND_CONTROL_IN, 0, 2, 1},
    [QT_PORT_MONITOR] = {"monitor", QT_KIND_CONTROL_IN, 0, 2, 0},
    [QT_PORT_ERROR_GAIN] = {"error_gain", QT_KIND_CONTROL_IN, 0, 60, 20},
    [QT_PORT_INPUT_LEVEL] = {"input_level", QT_KIND_CONTROL_IN, -24, 24, 0},
    [QT_PORT_OUTPUT_LEVEL] = {"output_level", QT_KIND_CONTROL_IN, -40, 12, 0},
    [QT_PORT_ENABLED] = {"enabled", QT_KIND_CONTROL_IN, 0, 1, 1},
    [QT_PORT_ESR_DB] = {"esr_db", QT_KIND_CONTROL_OUT, -120, 40, -120},
    [QT_PORT_CLIPPED] = {"clipped", QT_KIND_CONTROL_OUT, 0, 1000000, 0},
    [QT_PORT_DSP_RATIO] = {"dsp_ratio", QT_KIND_CONTROL_OUT, 0, 16, 1},
    [QT_PORT_WEIGHT_BYTES] = {"weight_bytes", QT_KIND_CONTROL_OUT, 0, 268435456, 0},
    [QT_PORT_LATENCY] = {"latency", QT_KIND_CONTROL_OUT, 0, 8192, 0},
  };
  return index >= 0 && index < QT_PORT_COUNT ? &table[index] : 0;
}

/** A control input's value as the plugin plays it: NaN is the default,
    anything else (infinities included) is clamped to the declared range.
    `v != v` rather than isnan() so this header needs no <math.h>. */
static inline float qt_port_clamp(int index, float v)
{
  const qt_port_info *p = qt_port_info_get(index);
  if (!p || p->kind != QT_KIND_CONTROL_IN)
    return v;
  if (v != v)
    return p->def;
  return v < p->min ? p->min : v > p->max ? p->max : v;
}

typedef enum { QT_MAPPING_LINEAR = 0, QT_MAPPING_POW2, QT_MAPPING_KMEANS } qt_mapping;
typedef enum { QT_GRAN_TENSOR = 0, QT_GRAN_CHANNEL, QT_GRAN_GROUP } qt_granularity;
typedef enum { QT_ACT_FLOAT = 0, QT_ACT_DYNAMIC, QT_ACT_STATIC } qt_activations;
typedef enum { QT_MONITOR_QUANTIZED = 0, QT_MONITOR_REFERENCE, QT_MONITOR_ERROR } qt_monitor;

#endif
