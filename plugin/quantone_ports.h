/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The plugin's public interface: port indices, control values and URIs.
  Shared by the plugin, the GUI and the tests; it includes no LV2 or GTK
  header so the GUI process and the tools can use it as it is.
  Port indices and symbols (the port table below, from which the build
  writes quantone.ttl's ports) are a public interface too: hosts, presets,
  scripts and LADSPA command lines address ports by them, so never
  renumber or rename; names too, since Ardour's Lua API finds parameters
  by name.
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
  - patch:Set { patch:property qt:modelStep, patch:value atom:Int }
      +1: the next model file in the playing model's folder, -1: the
      previous one (.nam, .json, .aidax by name, wrapping around). Files
      that do not load are skipped and named in a qt:error; the switch
      crossfades like any load. Listing and loading are the worker's.
  - patch:Set { patch:property qt:modelAB, patch:value atom:Bool true }
      A/B: load the model that played before the current one (two in a row
      come back), with the same crossfade.
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
      qt:weightBytesFp32 atom:Long (the full-size float model's),
      qt:sizeWeightBytesFp32 atom:Long (the float model of the size that
        plays: what the memory meter compares qt:weightBytes with, so its
        saving is the quantization's alone; equal to qt:weightBytesFp32
        at the full size),
      qt:weightBytes atom:Long (active variant),
      qt:variant atom:String (e.g. "4-bit kmeans sym per-channel, float"),
      qt:linearNames atom:Tuple of atom:String (the weight matrices of the
        size that plays: a smaller size of a slimmable model has its own;
        modelInfo is sent again whenever another variant plays),
      qt:slimmable atom:Bool (the model has more than one size: the slim
        port chooses one),
      qt:slimSteps atom:Tuple of atom:Tuple { atom:Double lo, atom:Double hi,
        atom:String label, atom:Long weights, atom:Double MACs per sample },
        ascending: the slim values in [lo, hi) play that size (the last
        step also at 1.0); one step for a plain model,
      qt:inputLevelDbu atom:Double, qt:outputLevelDbu atom:Double (the
        file's metadata; each absent when the file has none),
      qt:loudness atom:Double (dB: the file's, else the measured one;
        absent when neither), qt:loudnessMeasured atom:Bool }
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
      the FP32 reference. Sent when a variant becomes active. A quantized
      variant adds qt:layerBits atom:Vector of Float: each layer's average
      bits per weight over its weight matrices (mixed with bit_budget, else
      the precision), NaN for a layer without weights of its own.
  - qt:histogram { qt:histogramLayer atom:Int, qt:layerName atom:String,
      qt:sizeLabel atom:String, qt:weightFormat atom:String,
      qt:min atom:Float, qt:max atom:Float,
      qt:counts atom:Vector of Int, qt:levels atom:Vector of Float }
      QUANTONE_HIST_BINS equal-width bins over [min, max] of the weights the
      active variant multiplies with (dequantized), and the quantizer's
      levels for the first row (empty for float weights: FP32, FP16, BF16).
      The weights are those of the size that plays (at FP32 its float
      model's), and qt:sizeLabel names that size (its qt:slimSteps label;
      absent for a model of one size). qt:weightFormat says which float
      format the matrix is stored in, "FP32", "FP16" or "BF16" (what
      precision 16 plays depends on half_form, and a bit budget can give
      one matrix 16 bits), read off the packed matrix the histogram was
      made from, so it always belongs to these counts; absent for
      quantized weights, whose levels say what they are.
  - qt:prepare { qt:variant atom:String, qt:stage atom:String,
      qt:progress atom:Float, qt:seconds atom:Float,
      qt:cpuSeconds atom:Float, qt:cached atom:Bool }
      how far the worker is with a variant that takes calibration work
      (the rounding control's Optimized, calibrated activations): the
      setting (qt:variant's words), the step it is at ("input
      statistics", "rounding layer 12 of 41", "ready"), the share done
      (1 = ready), the wall and worker CPU seconds so far, and whether it
      came from the worker's kept variants (no work: switching back).
      Sent while it works, about every QT_PROGRESS_INTERVAL_S (qt_plugin.h),
      once more when the variant is ready, and the last one again on
      patch:Get.
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
#define QUANTONE__sizeWeightBytesFp32 QUANTONE_NS "sizeWeightBytesFp32"
#define QUANTONE__weightBytes QUANTONE_NS "weightBytes"
#define QUANTONE__variant QUANTONE_NS "variant"
#define QUANTONE__linearNames QUANTONE_NS "linearNames"
#define QUANTONE__slimmable QUANTONE_NS "slimmable"
#define QUANTONE__slimSteps QUANTONE_NS "slimSteps"
#define QUANTONE__inputLevelDbu QUANTONE_NS "inputLevelDbu"
#define QUANTONE__modelStep QUANTONE_NS "modelStep"
#define QUANTONE__modelAB QUANTONE_NS "modelAB"
#define QUANTONE__outputLevelDbu QUANTONE_NS "outputLevelDbu"
#define QUANTONE__loudness QUANTONE_NS "loudness"
#define QUANTONE__loudnessMeasured QUANTONE_NS "loudnessMeasured"
#define QUANTONE__message QUANTONE_NS "message"
#define QUANTONE__sampleRate QUANTONE_NS "sampleRate"
#define QUANTONE__reference QUANTONE_NS "reference"
#define QUANTONE__quantized QUANTONE_NS "quantized"
#define QUANTONE__difference QUANTONE_NS "difference"
#define QUANTONE__layerNames QUANTONE_NS "layerNames"
#define QUANTONE__values QUANTONE_NS "values"
/* Save quantized model (plugin/export.c): patch:Set qt:exportModel to an
   atom:Path asks the worker to write the model as the controls play it
   (models/nam_export.h); the answer is a qt:exported object with
   qt:path (the file written), or qt:error on failure. */
#define QUANTONE__exportModel QUANTONE_NS "exportModel"
#define QUANTONE__exported QUANTONE_NS "exported"
#define QUANTONE__layerName QUANTONE_NS "layerName"
#define QUANTONE__sizeLabel QUANTONE_NS "sizeLabel"
#define QUANTONE__weightFormat QUANTONE_NS "weightFormat"
#define QUANTONE__min QUANTONE_NS "min"
#define QUANTONE__max QUANTONE_NS "max"
#define QUANTONE__counts QUANTONE_NS "counts"
#define QUANTONE__levels QUANTONE_NS "levels"
#define QUANTONE__layerBits QUANTONE_NS "layerBits"
#define QUANTONE__prepare QUANTONE_NS "prepare"
#define QUANTONE__stage QUANTONE_NS "stage"
#define QUANTONE__progress QUANTONE_NS "progress"
#define QUANTONE__seconds QUANTONE_NS "seconds"
#define QUANTONE__cpuSeconds QUANTONE_NS "cpuSeconds"
#define QUANTONE__cached QUANTONE_NS "cached"

#define QUANTONE_FRAME_LEN 256    /**< samples per vector of a qt:frames message */
#define QUANTONE_FRAME_RATE 25    /**< qt:frames messages per second, at most */
#define QUANTONE_HIST_BINS 64     /**< bins of a qt:histogram */
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
  QT_PORT_PRECISION,    /**< 32 = FP32 reference, 16 (QT_PORT_HALF_FORM's form), 8, 4, 2 */
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
  QT_PORT_SLIM,         /**< size of a slimmable model, 0..1 (1 = full); modelInfo's steps */
  QT_PORT_INPUT_DBU,    /**< the interface's level at 0 dBFS, dBu (input calibration) */
  QT_PORT_CALIBRATE,    /**< toggle: input gain from the model's input_level_dbu */
  QT_PORT_OUTPUT_MODE,  /**< qt_output_mode (models/loudness.h qm_output_mode) */
  QT_PORT_BIT_BUDGET,   /**< mixed precision: average bits per weight, 2..8; below 2 off */
  QT_PORT_HALF_FORM,    /**< qt_half_form: what precision 16 plays */
  QT_PORT_ROUNDING,     /**< qt_rounding: nearest, or the best post-training rounding */
  QT_PORT_COUNT
} qt_port_index;

/* ---- The port table ------------------------------------------------------------

   One row per port (by qt_port_index): everything the Turtle says about
   the port. It is the only copy:
   - ttl/gen_ports_ttl.c writes the ports of quantone.ttl from it at build
     time, so the bundle's Turtle cannot say anything else;
   - the plugin clamps every control input to [min, max] and plays the
     default for NaN and for an unconnected port (plugin.c);
   - the LADSPA wrapper derives its port list, names and range hints
     from it (ladspa.c);
   - the GUI takes its ranges and defaults from it, quantone-render its
     defaults;
   - tests/plugin/test_rtpath.c ("ports") reads the installed quantone.ttl
     through lilv and compares it with every field of every row, so a
     hand edit of either side, or a generator bug, fails a test.
   Adding a control: a row here, an index in qt_port_index (append only),
   and whatever the plugin does with it. */

typedef enum {
  QT_KIND_AUDIO_IN = 0,
  QT_KIND_AUDIO_OUT,
  QT_KIND_ATOM_IN,
  QT_KIND_ATOM_OUT,
  QT_KIND_CONTROL_IN,
  QT_KIND_CONTROL_OUT
} qt_port_kind;

/** Units hosts know (the lv2 units extension). Quantities it has no unit
    for (bytes, ratios, counts per second) carry none: Carla warns about
    every custom unit on each load, so those ports say their unit in the
    name or comment instead. */
typedef enum { QT_UNIT_NONE = 0, QT_UNIT_DB, QT_UNIT_FRAME } qt_port_unit;

/** lv2:portProperty flags (lv2core). */
enum {
  QT_PROP_OPTIONAL = 1u << 0,        /**< lv2:connectionOptional */
  QT_PROP_INTEGER = 1u << 1,         /**< lv2:integer */
  QT_PROP_ENUMERATION = 1u << 2,     /**< lv2:enumeration (scale points only) */
  QT_PROP_TOGGLED = 1u << 3,         /**< lv2:toggled */
  QT_PROP_REPORTS_LATENCY = 1u << 4, /**< lv2:reportsLatency */
};

/** lv2:designation of a port. */
typedef enum {
  QT_DESIG_NONE = 0,
  QT_DESIG_CONTROL, /**< lv2:control (the atom ports) */
  QT_DESIG_ENABLED, /**< lv2:enabled */
  QT_DESIG_LATENCY, /**< lv2:latency */
} qt_port_designation;

/** A named value of a control (lv2:scalePoint). */
typedef struct {
  float value;
  const char *label;
} qt_scale_point;

typedef struct {
  const char *symbol; /**< lv2:symbol: public, never rename */
  qt_port_kind kind;
  float min, max, def; /**< control ports only (0 otherwise) */
  const char *name;    /**< lv2:name */
  const char *comment; /**< rdfs:comment, or NULL */
  const char *group;   /**< symbol of its pg:Group (in quantone.ttl.in), or NULL */
  qt_port_unit unit;
  unsigned props; /**< QT_PROP_* */
  qt_port_designation designation;
  unsigned min_size;            /**< rsz:minimumSize of an atom port's buffer, 0 = none */
  const qt_scale_point *points; /**< lv2:scalePoint, in the order the GUI lists them */
  int n_points;
} qt_port_info;

/** Row `index` of the table, or NULL past the last port. A function with
    a local table keeps this header free of definitions that every file
    including it would otherwise carry (or warn about). */
static inline const qt_port_info *qt_port_info_get(int index)
{
#define QT_POINTS_(a) a, (int)(sizeof a / sizeof *a)
  enum {
    QT_P_OPT = QT_PROP_OPTIONAL,
    QT_P_INT = QT_PROP_INTEGER,
    QT_P_ENUM = QT_PROP_ENUMERATION,
    QT_P_TOG = QT_PROP_TOGGLED,
  };
  static const qt_scale_point precision[] = {
      {32, "FP32 reference"}, {16, "16 bits"}, {8, "8 bits"}, {4, "4 bits"}, {2, "2 bits"}};
  static const qt_scale_point half_form[] = {{0, "FP16 weights (float activations)"},
                                             {1, "BF16 compute (bf16 activations)"}};
  static const qt_scale_point mapping[] = {{0, "Linear"}, {1, "Power of two"}, {2, "K-means"}};
  static const qt_scale_point granularity[] = {
      {0, "Per tensor"}, {1, "Per channel"}, {2, "Per group of 32"}};
  static const qt_scale_point activations[] = {
      {0, "Float (weight-only, FP32 CPU)"}, {1, "Int8 dynamic (less CPU)"}, {2, "Int8 calibrated"}};
  static const qt_scale_point output_mode[] = {{0, "Raw"}, {1, "Normalized"}, {2, "Calibrated"}};
  static const qt_scale_point bit_budget[] = {{0, "Off (uniform bits)"}};
  static const qt_scale_point rounding[] = {{0, "Nearest"}, {1, "Optimized"}};
  static const qt_scale_point monitor[] = {{0, "Quantized"}, {1, "Reference"}, {2, "Error"}};
  static const qt_port_info table[QT_PORT_COUNT] = {
      [QT_PORT_IN] = {.symbol = "in", .kind = QT_KIND_AUDIO_IN, .name = "In"},
      [QT_PORT_OUT] = {.symbol = "out", .kind = QT_KIND_AUDIO_OUT, .name = "Out"},
      [QT_PORT_CONTROL] = {.symbol = "control",
                           .kind = QT_KIND_ATOM_IN,
                           .name = "Control",
                           .props = QT_P_OPT,
                           .designation = QT_DESIG_CONTROL},
      /** 64 KiB: a qt:histogram or a modelInfo with many layer names fits
          with room for the scope frames of the same block. */
      [QT_PORT_NOTIFY] = {.symbol = "notify",
                          .kind = QT_KIND_ATOM_OUT,
                          .name = "Notify",
                          .props = QT_P_OPT,
                          .designation = QT_DESIG_CONTROL,
                          .min_size = 65536},
      [QT_PORT_PRECISION] = {.symbol = "precision",
                             .kind = QT_KIND_CONTROL_IN,
                             .min = 2,
                             .max = 32,
                             .def = 8,
                             .name = "Precision",
                             .comment = "Weight bit width; 32 is the float reference, 16 "
                                        "plays the form the 16-bit form control chooses.",
                             .group = "quantization",
                             .props = QT_P_INT | QT_P_ENUM | QT_P_OPT,
                             .points = QT_POINTS_(precision)},
      [QT_PORT_MAPPING] = {.symbol = "mapping",
                           .kind = QT_KIND_CONTROL_IN,
                           .min = 0,
                           .max = 2,
                           .def = 0,
                           .name = "Mapping",
                           .group = "quantization",
                           .props = QT_P_INT | QT_P_ENUM | QT_P_OPT,
                           .points = QT_POINTS_(mapping)},
      [QT_PORT_ASYMMETRIC] = {.symbol = "asymmetric",
                              .kind = QT_KIND_CONTROL_IN,
                              .min = 0,
                              .max = 1,
                              .def = 0,
                              .name = "Asymmetric",
                              .comment = "Fit the levels to [min, max] with a zero point "
                                         "instead of symmetric around 0.",
                              .group = "quantization",
                              .props = QT_P_TOG | QT_P_OPT},
      [QT_PORT_GRANULARITY] = {.symbol = "granularity",
                               .kind = QT_KIND_CONTROL_IN,
                               .min = 0,
                               .max = 2,
                               .def = 1,
                               .name = "Granularity",
                               .group = "quantization",
                               .props = QT_P_INT | QT_P_ENUM | QT_P_OPT,
                               .points = QT_POINTS_(granularity)},
      [QT_PORT_ACTIVATIONS] = {.symbol = "activations",
                               .kind = QT_KIND_CONTROL_IN,
                               .min = 0,
                               .max = 2,
                               .def = 1,
                               .name = "Activations",
                               .comment = "Int8 dynamic (the default) runs the integer SIMD "
                                          "kernels, the path that saves CPU; float keeps "
                                          "activations in float (weight-only quantization: "
                                          "memory saved, CPU about FP32's); int8 calibrated "
                                          "uses fixed scales from a calibration pass.",
                               .group = "quantization",
                               .props = QT_P_INT | QT_P_ENUM | QT_P_OPT,
                               .points = QT_POINTS_(activations)},
      [QT_PORT_MONITOR] = {.symbol = "monitor",
                           .kind = QT_KIND_CONTROL_IN,
                           .min = 0,
                           .max = 2,
                           .def = 0,
                           .name = "Monitor",
                           .comment = "What the output plays: the quantized model, the float "
                                      "reference, or their difference raised by the error "
                                      "gain.",
                           .group = "monitoring",
                           .props = QT_P_INT | QT_P_ENUM | QT_P_OPT,
                           .points = QT_POINTS_(monitor)},
      [QT_PORT_ERROR_GAIN] = {.symbol = "error_gain",
                              .kind = QT_KIND_CONTROL_IN,
                              .min = 0,
                              .max = 60,
                              .def = 20,
                              .name = "Error gain",
                              .group = "monitoring",
                              .unit = QT_UNIT_DB,
                              .props = QT_P_OPT},
      [QT_PORT_INPUT_LEVEL] = {.symbol = "input_level",
                               .kind = QT_KIND_CONTROL_IN,
                               .min = -24,
                               .max = 24,
                               .def = 0,
                               .name = "Input level",
                               .group = "levels",
                               .unit = QT_UNIT_DB,
                               .props = QT_P_OPT},
      [QT_PORT_OUTPUT_LEVEL] = {.symbol = "output_level",
                                .kind = QT_KIND_CONTROL_IN,
                                .min = -40,
                                .max = 12,
                                .def = 0,
                                .name = "Output level",
                                .group = "levels",
                                .unit = QT_UNIT_DB,
                                .props = QT_P_OPT},
      [QT_PORT_ENABLED] = {.symbol = "enabled",
                           .kind = QT_KIND_CONTROL_IN,
                           .min = 0,
                           .max = 1,
                           .def = 1,
                           .name = "Enabled",
                           .props = QT_P_TOG | QT_P_OPT,
                           .designation = QT_DESIG_ENABLED},
      [QT_PORT_ESR_DB] = {.symbol = "esr_db",
                          .kind = QT_KIND_CONTROL_OUT,
                          .min = -120,
                          .max = 40,
                          .def = -120,
                          .name = "ESR dB",
                          .comment = "ESR: error-to-signal ratio of the quantized path against "
                                     "the float reference over the last second, in dB.",
                          .group = "meters",
                          .unit = QT_UNIT_DB,
                          .props = QT_P_OPT},
      /** Names of meters (non-integer outputs) stay within 8 characters:
          generic UIs draw them in a narrow column (test plugin-defaults).
          Names are what Ardour's Lua API finds parameters by (test
          host-ardour looks up "Precision", "Output level" and "Weight
          memory"): rename none. */
      [QT_PORT_CLIPPED] = {.symbol = "clipped",
                           .kind = QT_KIND_CONTROL_OUT,
                           .min = 0,
                           .max = 1000000,
                           .def = 0,
                           .name = "Clips/s",
                           .comment = "Clipped activations: saturated int8 activations per "
                                      "second (calibrated activations).",
                           .group = "meters",
                           .props = QT_P_OPT},
      [QT_PORT_DSP_RATIO] = {.symbol = "dsp_ratio",
                             .kind = QT_KIND_CONTROL_OUT,
                             .min = 0,
                             .max = 16,
                             .def = 1,
                             .name = "DSP x",
                             .comment =
                                 "DSP time ratio, a factor (x): time of the "
                                 "quantized path relative to the float reference (below 1: less "
                                 "CPU than FP32).",
                             .group = "meters",
                             .props = QT_P_OPT},
      [QT_PORT_WEIGHT_BYTES] = {.symbol = "weight_bytes",
                                .kind = QT_KIND_CONTROL_OUT,
                                .min = 0,
                                .max = 268435456,
                                .def = 0,
                                .name = "Weight memory",
                                .comment = "Memory of the weights the active variant "
                                           "multiplies with, in bytes.",
                                .group = "meters",
                                .props = QT_P_INT | QT_P_OPT},
      [QT_PORT_LATENCY] = {.symbol = "latency",
                           .kind = QT_KIND_CONTROL_OUT,
                           .min = 0,
                           .max = 8192,
                           .def = 0,
                           .name = "Latency",
                           .unit = QT_UNIT_FRAME,
                           .props = QT_PROP_REPORTS_LATENCY | QT_P_INT | QT_P_OPT,
                           .designation = QT_DESIG_LATENCY},
      [QT_PORT_SLIM] = {.symbol = "slim",
                        .kind = QT_KIND_CONTROL_IN,
                        .min = 0,
                        .max = 1,
                        .def = 1,
                        .name = "Slim",
                        .comment = "Size of a slimmable model (a NAM SlimmableContainer, or a "
                                   "WaveNet with a slimmable layer array): 1 plays the full "
                                   "model, lower values smaller and cheaper ones, in steps. "
                                   "The meters still compare with the full-size float model. "
                                   "Other models ignore it.",
                        .group = "quantization",
                        .props = QT_P_OPT},
      /** dBu is no lv2 unit: the name says it (QT_UNIT_* are lv2 units only). */
      [QT_PORT_INPUT_DBU] = {.symbol = "input_dbu",
                             .kind = QT_KIND_CONTROL_IN,
                             .min = -20,
                             .max = 30,
                             .def = 12,
                             .name = "Interface level dBu",
                             .comment = "The level in dBu that reads 0 dBFS on your audio "
                                        "interface's input (12 dBu as NAM's plugin assumes). "
                                        "Calibrate input and Calibrated output use it.",
                             .group = "levels",
                             .props = QT_P_OPT},
      [QT_PORT_CALIBRATE] = {.symbol = "calibrate_input",
                             .kind = QT_KIND_CONTROL_IN,
                             .min = 0,
                             .max = 1,
                             .def = 0,
                             .name = "Calibrate input",
                             .comment = "Gain the input by the interface level minus the "
                                        "model's input_level_dbu, so the capture hears "
                                        "the level it was made at. Models without "
                                        "input_level_dbu are not changed.",
                             .group = "levels",
                             .props = QT_P_TOG | QT_P_OPT},
      [QT_PORT_OUTPUT_MODE] = {.symbol = "output_mode",
                               .kind = QT_KIND_CONTROL_IN,
                               .min = 0,
                               .max = 2,
                               .def = 1,
                               .name = "Output mode",
                               .comment = "Raw: the model's output. Normalized: moved to "
                                          "-18 dB loudness, from the file's loudness or, "
                                          "without one, its RMS measured on the built-in "
                                          "guitar clip. Calibrated: the model's "
                                          "output_level_dbu on the interface level's scale "
                                          "(raw without it). Quantized and smaller sizes "
                                          "keep the float model's gain.",
                               .group = "levels",
                               .props = QT_P_INT | QT_P_ENUM | QT_P_OPT,
                               .points = QT_POINTS_(output_mode)},
      /** Mixed precision (models/sensitivity.h): the worker measures the
          model's sensitivity once per scheme (seconds of work, cached)
          and the variant gets the widths that keep the output error
          lowest within the budget. Quarter bits: finer steps would only
          rebuild the same widths. */
      [QT_PORT_BIT_BUDGET] = {.symbol = "bit_budget",
                              .kind = QT_KIND_CONTROL_IN,
                              .min = 0,
                              .max = 8,
                              .def = 0,
                              .name = "Bit budget",
                              .comment = "Mixed precision chosen automatically: 2 to 8 "
                                         "average bits per weight, each weight matrix at "
                                         "8, 4 or 2 bits by how much output error it adds "
                                         "(measured once per model and scheme on the "
                                         "built-in guitar clip). Below 2: off, every "
                                         "matrix at the precision control's bits. Ignored "
                                         "at FP32 and below the full size.",
                              .group = "quantization",
                              .props = QT_P_OPT,
                              .points = QT_POINTS_(bit_budget)},
      [QT_PORT_HALF_FORM] = {.symbol = "half_form",
                             .kind = QT_KIND_CONTROL_IN,
                             .min = 0,
                             .max = 1,
                             .def = 0,
                             .name = "16-bit form",
                             .comment = "What precision 16 plays. FP16 weights: IEEE half "
                                        "weights widened to float in registers, float "
                                        "activations (ESR below -60 dB on every shipped "
                                        "model). BF16 compute: bfloat16 weights and "
                                        "activations, float accumulation (vdpbf16ps where "
                                        "the CPU has AVX512_BF16).",
                             .group = "quantization",
                             .props = QT_P_INT | QT_P_ENUM | QT_P_OPT,
                             .points = QT_POINTS_(half_form)},
      /** Two values, not one per method: Optimized follows the best method
          the quantizer has (models/setting.h qm_setting_set_optimized), so
          sessions and presets saved with it get better as methods do. */
      [QT_PORT_ROUNDING] = {.symbol = "rounding",
                            .kind = QT_KIND_CONTROL_IN,
                            .min = 0,
                            .max = 1,
                            .def = 0,
                            .name = "Rounding",
                            .comment = "Nearest: every weight to its nearest level. Optimized: "
                                       "error-compensating rounding and bias correction "
                                       "against the model's own response to a built-in guitar "
                                       "clip (about a second of work in the background; the "
                                       "result is kept, so switching back is instant). No "
                                       "effect at FP32.",
                            .group = "quantization",
                            .props = QT_P_INT | QT_P_ENUM | QT_P_OPT,
                            .points = QT_POINTS_(rounding)},
  };
#undef QT_POINTS_
  return index >= 0 && index < QT_PORT_COUNT ? &table[index] : 0;
}

/** The lv2 units URI of a unit, or NULL for none. */
static inline const char *qt_port_unit_uri(qt_port_unit u)
{
  switch (u) {
  case QT_UNIT_DB: return "http://lv2plug.in/ns/extensions/units#db";
  case QT_UNIT_FRAME: return "http://lv2plug.in/ns/extensions/units#frame";
  default: return 0;
  }
}

/** The lv2core URI of a designation, or NULL for none. */
static inline const char *qt_port_designation_uri(qt_port_designation d)
{
  switch (d) {
  case QT_DESIG_CONTROL: return "http://lv2plug.in/ns/lv2core#control";
  case QT_DESIG_ENABLED: return "http://lv2plug.in/ns/lv2core#enabled";
  case QT_DESIG_LATENCY: return "http://lv2plug.in/ns/lv2core#latency";
  default: return 0;
  }
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
/** Values of QT_PORT_HALF_FORM (= qm_half, plugin/setting_ports.h). */
typedef enum { QT_HALF_FP16 = 0, QT_HALF_BF16 } qt_half_form;
typedef enum { QT_MONITOR_QUANTIZED = 0, QT_MONITOR_REFERENCE, QT_MONITOR_ERROR } qt_monitor;
typedef enum { QT_OUTPUT_RAW = 0, QT_OUTPUT_NORMALIZED, QT_OUTPUT_CALIBRATED } qt_output_mode;
typedef enum { QT_ROUNDING_NEAREST = 0, QT_ROUNDING_OPTIMIZED } qt_rounding;

/** The budget a bit_budget control value plays: 0 (off, uniform bits)
    below 2, else rounded to a quarter bit in [2, 8]. Real-time safe. */
static inline float qt_bit_budget(float control)
{
  if (!(control >= 2.0f))
    return 0.0f;
  float q = (float)(int)(control * 4.0f + 0.5f) / 4.0f;
  return q > 8.0f ? 8.0f : q;
}

#endif
