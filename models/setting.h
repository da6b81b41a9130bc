/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  A quantization setting: the one type that says how a model is quantized
  (precision, mapping, symmetry, granularity and group size, activations
  and their observer, optional per-linear bit widths), with its string
  form, its normal form, its human description and the name tables of
  every field.

  The engine builds variants from it (variant.h), the plugin keeps the
  setting its controls ask for in it (its control values are these enums,
  checked at compile time in plugin/setting_ports.h), and the tools parse
  and print it. It depends on nothing but the C library, so the plugin,
  the GUI and the tools can link its small library (qm_setting) without
  the rest of the engine.

  String form (quantone-render's LIST entries):

      PRECISION[:MAPPING][:sym|asym][:GRANULARITY][:ACTIVATIONS]

  PRECISION is 32 (also fp32, FP32), fp16 (also 16, FP16: FP16 weights,
  float activations), bf16 (BF16: bfloat16 weights and activations,
  float accumulation), 8, 4 or 2 and comes first (3 bits, linear codes in
  the 4-bit format, are quantone-run --precision 3 only: normalise snaps
  3 to 4, as the plugin's precision port does); the other
  fields follow in any order (their words do not overlap), each at most
  once: MAPPING linear|pow2|kmeans, GRANULARITY tensor|channel|group,
  ACTIVATIONS float|dynamic|static (calibrated = static), slim=S (a
  slimmable model's size, 0 <= S <= 1, slim.h), ROUNDING nearest|gptq|adaround
  and bc (bias correction; both rounding.h, they need calibration audio),
  eq (cross-layer equalization before quantizing, models/equalize.h).
  Missing fields
  are the plugin's defaults: linear, sym, channel, dynamic, slim=1,
  nearest, no bias correction, no equalization. The group
  size is QZ_DEFAULT_GROUP and the observer the default one: the string
  form has no words for them (the plugin has no control for them either).
*/
#ifndef QUANTONE_MODELS_SETTING_H
#define QUANTONE_MODELS_SETTING_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Fields ------------------------------------------------------------------ */

/** Weight levels (see quantize.h for each mapping's formula). */
typedef enum {
  QZ_LINEAR = 0, /**< uniform levels (scale, optional zero point) */
  QZ_POW2,       /**< 0 and signed powers of two (log2 levels) */
  QZ_KMEANS,     /**< Lloyd's k-means codebook */
  QZ_MAPPING_COUNT
} qz_mapping;

/** What one weight scale (and zero point) covers. */
typedef enum {
  QZ_PER_TENSOR = 0,
  QZ_PER_CHANNEL, /**< per output row */
  QZ_PER_GROUP,   /**< per row and group of `group` consecutive inputs */
  QZ_GRANULARITY_COUNT
} qz_granularity;

/** How static activation scales are chosen (see calibrate.h). */
typedef enum { QZ_OBS_MINMAX = 0, QZ_OBS_PERCENTILE, QZ_OBS_MSE, QZ_OBS_COUNT } qz_observer_kind;

/** Activation quantization. Not to be confused with a layer's
    nonlinearity (qm_nonlinearity, model_file.h): that is part of the
    model, this is part of the setting. */
typedef enum {
  QM_ACTQ_FLOAT = 0, /**< weight-only ("partial") quantization */
  QM_ACTQ_DYNAMIC,   /**< int8, a scale per time step computed at run time */
  QM_ACTQ_STATIC,    /**< int8, scales from a calibration pass over audio */
  QM_ACTQ_COUNT
} qm_actq;

/** How weights are rounded onto the scheme's levels (rounding.h). */
typedef enum {
  QZ_ROUND_NEAREST = 0, /**< each weight to its nearest level */
  QZ_ROUND_GPTQ,        /**< error-compensating, against calibration inputs */
  QZ_ROUND_ADAROUND,    /**< gptq, then learned up/down per weight (adaround.h) */
  QZ_ROUNDING_COUNT
} qz_rounding;

/** The 16-bit forms (precision QM_BITS_HALF; kernels/qk_half.h). */
typedef enum {
  QM_HALF_FP16 = 0, /**< IEEE half weights widened in registers, float activations */
  QM_HALF_BF16,     /**< bfloat16 weights and activations, float accumulation */
  QM_HALF_COUNT
} qm_half;

#define QM_BITS_FP32 32
#define QM_BITS_HALF 16
/** Default group size for QZ_PER_GROUP. */
#define QZ_DEFAULT_GROUP 32

/* ---- Name tables --------------------------------------------------------------

   name: the word of the string form, the reports and the tools' options.
   label: the short caption the GUI puts on the field's button.
   Out-of-range values give "?"; *_from_name accepts exactly the names. */

const char *qz_mapping_name(qz_mapping m);         /**< "linear", "pow2", "kmeans" */
const char *qz_granularity_name(qz_granularity g); /**< "tensor", "channel", "group" */
const char *qz_observer_name(qz_observer_kind k);  /**< "minmax", "percentile", "mse" */
const char *qm_actq_name(qm_actq a);               /**< "float", "dynamic", "static" */
const char *qz_rounding_name(qz_rounding r);       /**< "nearest", "gptq", "adaround" */
bool qz_rounding_from_name(const char *name, qz_rounding *out);
const char *qz_rounding_label(qz_rounding r); /**< "Nearest", "Optimized", "Learned" */
/** Precision: "32", "fp32" or "FP32" (QM_BITS_FP32), "16", "fp16", "FP16",
    "bf16", "BF16" (QM_BITS_HALF), "8", "4", "3", "2". */
bool qm_bits_from_name(const char *name, int *out);
/** The 16-bit form a precision word names: BF16 for "bf16"/"BF16", else FP16. */
qm_half qm_half_from_precision_name(const char *name);
const char *qm_half_name(qm_half h);  /**< "fp16", "bf16" (the string form's words) */
const char *qm_half_label(qm_half h); /**< "FP16", "BF16" */
bool qz_mapping_from_name(const char *name, qz_mapping *out);
bool qz_granularity_from_name(const char *name, qz_granularity *out);
bool qz_observer_from_name(const char *name, qz_observer_kind *out);
bool qm_actq_from_name(const char *name, qm_actq *out);

const char *qz_mapping_label(qz_mapping m);         /**< "Linear", "Power of 2", "K-means" */
const char *qz_granularity_label(qz_granularity g); /**< "Tensor", "Channel", "Group 32" */
const char *qm_actq_label(qm_actq a);               /**< "Float", "Int8 dyn", "Int8 cal" */

/* ---- The setting --------------------------------------------------------------- */

typedef struct {
  int bits; /**< QM_BITS_FP32 (float reference), QM_BITS_HALF, 8, 4, 3 or 2 */
  /** At QM_BITS_HALF (uniform or some linear's width): which 16-bit form.
      FP16 (0) at any other precision. */
  qm_half half;
  qz_mapping mapping;
  bool asymmetric;
  qz_granularity granularity;
  int group; /**< for QZ_PER_GROUP, multiple of 16 (default 32) */
  qm_actq activations;
  qz_observer_kind observer; /**< for QM_ACTQ_STATIC */
  /** The size a slimmable model plays at (slim.h: qm_desc_at_slim), in
      [0, 1]; 1.0 (the default) is the full size, and every model's only
      size when it is not slimmable. Errors are measured against the
      full-size FP32 model, so width and bits sit on one scale. */
  double slim;
  /** Post-training rounding of the weights and bias correction
      (rounding.h); both read statistics of calibration audio run through
      the float model, so a variant with either needs calibration audio. */
  qz_rounding rounding;
  bool bias_correction;
  /** Cross-layer equalization (models/equalize.h): the float weights are
      rescaled channel by channel, by powers of two, where the function
      stays bit for bit the same, before they are quantized. Needs no
      calibration audio; with it, a guard keeps it only where it does not
      raise the calibration ESR (variant.h). */
  bool equalize;
  /** Mixed precision: bits per qm_linear (index as qm_model_linear()),
      0 = use `bits`. NULL for a uniform width. Not owned. */
  const int *linear_bits;
  int n_linear_bits;
} qm_setting;

/** FP32 reference, linear symmetric per channel, group QZ_DEFAULT_GROUP,
    float activations, percentile observer, uniform width. */
void qm_setting_default(qm_setting *s);

/**
   The normal form, so that two settings that build the same variant
   compare equal (qm_setting_eq): precision rounded to the nearest width
   (>= 20 is FP32, >= 12 is 16, >= 6 is 8, >= 3 is 4, else 2: what a
   precision knob between the steps means), a field out of its range set to its default
   (linear, channel, float activations, percentile, group
   QZ_DEFAULT_GROUP when not a positive multiple of 16), and at FP32 with
   a uniform width every scheme field zeroed (mapping linear, sym, tensor,
   float, default group and observer): the reference ignores them, so
   turning a scheme knob at FP32 must not ask for a new variant. The same
   at 16 bits (both forms have no scheme), and the 16-bit form is FP16
   where no linear plays 16 bits. slim is
   kept in [0, 1] (NaN is 1, the full size); it stays at FP32 (a smaller
   model in float is a variant of its own).
   No allocation, no locks: the plugin calls it from run().
*/
void qm_setting_normalise(qm_setting *s);

/** Whether two normalised settings build the same variant: the group
    counts only per group, the observer only for static activations, the
    per-linear widths by value. Real-time safe. */
bool qm_setting_eq(const qm_setting *a, const qm_setting *b);

/**
   The human label the GUI shows and the plugin's messages use:
   "FP32 reference", "FP16 weights, float activations", "BF16 compute,
   float accumulation", or BITS-bit[ mixed] MAPPING sym|asym per-GRANULARITY,
   ACTIVATIONS, e.g. "4-bit kmeans sym per-channel, int8 dynamic". The
   activations read "float activations", "int8 dynamic" or "int8
   calibrated"; a group size other than QZ_DEFAULT_GROUP follows
   "per-group" and an observer other than the default follows
   "calibrated" in parentheses (the plugin never makes either). Below the
   full size, ", slim S" follows ("FP32, slim 0.5" then: not the
   reference).
*/
void qm_setting_describe(const qm_setting *s, char *buf, size_t len);

/**
   Parse the string form (see the top of this file) into *out, normalised.
   False with a message in err (naming the entry and the bad word) for an
   empty string, a bad precision, an unknown or repeated field; *out is
   then unchanged.
*/
bool qm_setting_parse(const char *str, qm_setting *out, char *err, size_t errlen);

/** The string form of a setting, every field spelled out: "32" for the
    reference, "fp16" / "bf16" for the 16-bit forms, else e.g. "4:kmeans:sym:channel:float", with
   ":slim=S" after either below the full size ("32:slim=0.5"). Parsing it gives the setting back
   (group size and observer at their defaults). */
void qm_setting_format(const qm_setting *s, char *buf, size_t len);

/**
   The plugin's Rounding control: Optimized is the best post-training
   method the quantizer has, and this is the one place that says which
   (today gptq rounding with bias correction; update it here when a
   better method lands, e.g. learned rounding or equalization). The
   plugin, its GUI and quantone-render all go through it. Not optimized
   is nearest rounding without correction. Leaves s normalised (at FP32
   it changes nothing: the reference has no rounding). Real-time safe:
   the plugin calls it from run().
*/
void qm_setting_set_optimized(qm_setting *s, bool optimized);

/** Whether s (normalised) is what qm_setting_set_optimized(s, true)
    makes of it, i.e. what the plugin plays with Rounding at Optimized. */
bool qm_setting_is_optimized(const qm_setting *s);

/** Whether building the setting's variant needs calibration audio:
    static activations, post-training rounding, bias correction, or FP16
    weights (rounded against it: models/rounding.h). */
bool qm_setting_needs_calibration(const qm_setting *s);

/** How many settings the plugin's controls can ask for: FP32, the 16-bit
    forms, and every mapping, symmetry, granularity and activations at 8,
    4 and 2 bits (at the full size: the slim values a model has are its
    own, slim.h). */
#define QM_SETTING_ALL_COUNT                                                                       \
  (1 + QM_HALF_COUNT + 3 * QZ_MAPPING_COUNT * 2 * QZ_GRANULARITY_COUNT * QM_ACTQ_COUNT)

/** Those settings, normalised, FP32 first, FP16 and BF16, then by bits (8, 4, 2), mapping,
    symmetry, granularity and activations (the last varying fastest);
    writes min(max, QM_SETTING_ALL_COUNT) and returns how many it wrote. */
int qm_setting_all(qm_setting *out, int max);

#ifdef __cplusplus
}
#endif

#endif
