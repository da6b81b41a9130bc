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

/** Properties and messages exchanged over the atom ports. */
#define QUANTONE__model QUANTONE_NS "model"             /**< patch:Set value: atom:Path */
#define QUANTONE__modelInfo QUANTONE_NS "modelInfo"     /**< plugin -> UI object */
#define QUANTONE__error QUANTONE_NS "error"             /**< plugin -> UI string */
#define QUANTONE__frames QUANTONE_NS "frames"           /**< reference/quantized/error frames */
#define QUANTONE__layerSqnr QUANTONE_NS "layerSqnr"     /**< per-layer SQNR vector */
#define QUANTONE__histogram QUANTONE_NS "histogram"     /**< weight histogram + levels */
#define QUANTONE__histogramLayer QUANTONE_NS "histogramLayer"

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

typedef enum { QT_MAPPING_LINEAR = 0, QT_MAPPING_POW2, QT_MAPPING_KMEANS } qt_mapping;
typedef enum { QT_GRAN_TENSOR = 0, QT_GRAN_CHANNEL, QT_GRAN_GROUP } qt_granularity;
typedef enum { QT_ACT_FLOAT = 0, QT_ACT_DYNAMIC, QT_ACT_STATIC } qt_activations;
typedef enum { QT_MONITOR_QUANTIZED = 0, QT_MONITOR_REFERENCE, QT_MONITOR_ERROR } qt_monitor;

#endif
