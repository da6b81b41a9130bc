/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Automatic mixed precision (issue 15, item 2): how much output error each
  weight matrix adds at each bit width, a choice of bits per matrix that
  keeps the output error lowest under a budget in average bits per weight,
  and where error comes from and where it accumulates.

    sensitivity   qm_sensitivity_measure: for every qm_linear i and width
                  b in {8, 6, 5, 4, 3, 2}, the output ESR against the float model
                  on calibration audio with linear i alone quantized at b
                  (the setting's mapping, symmetry, granularity and
                  activations; every other linear float):
                      e_i(b) = sum_t (y_ib[t] - y[t])^2 / sum_t y[t]^2
    budget        average bits per weight, each linear weighted by its
                  weight count n_i = out x in:
                      avg(b) = sum_i n_i b_i / sum_i n_i  <=  B
    allocator     qm_mixed_allocate: minimise sum_i e_i(b_i) subject to
                  avg(b) <= B (see sensitivity.c for why dynamic
                  programming), then qm_mixed_choose guards the result
                  end to end against the uniform width the budget allows.
    accumulation  qm_error_accumulation: per linear, its error alone and
                  the output ESR with every linear up to it (model order)
                  quantized at its width and the rest float.

  Everything here allocates and renders audio: prepare time only (the
  plugin's worker, the tools).
*/
#ifndef QUANTONE_MODELS_SENSITIVITY_H
#define QUANTONE_MODELS_SENSITIVITY_H

#include "variant.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The widths the analysis measures, widest first. 6, 5 and 3 bits are
    linear codes of a narrower range in the 8- and 4-bit formats
    (quantize.h): they cost the memory of their format, and give the
    allocator steps of one bit where 8 / 4 / 2 alone forced every trade to
    move two or four bits per weight at once. */
#define QM_MIXED_WIDTHS 6
extern const int qm_mixed_width[QM_MIXED_WIDTHS]; /**< 8, 6, 5, 4, 3, 2 */

/** Calibration audio of the analysis: QM_MIXED_CLIP_S seconds made of
    QM_MIXED_CLIP_PIECES equal pieces, piece k taken from the start of
    second k of the built-in guitar clip (models/train/tr_synth.h) with
    quantone-run's calibration seed (not a test or demo input), each
    brought to QM_MIXED_CLIP_LEVEL_DB RMS. The pieces cover the clip's
    kinds of playing (single notes, chords, muted riffs, sweeps): the first
    second alone, one plucked phrase, measured a table whose allocation at
    4.0 bits won 3.1 dB over uniform 4-bit on wavenet_a1_standard.nam's
    held-out input, where eight pieces won 5.2 dB (widths 8 / 4 / 2 only).
    The level: at the clip's own levels (pieces from -68 to -19 dB RMS,
    the ESR made by one or two of them) overdrive_standard at 3.0 bits
    missed uniform 4-bit by 0.78 dB on held-out audio; pieces at one level
    share the ESR equally, and a hot level (-6 dB RMS, where amp captures
    are driven) drives the models' nonlinearities as playing does. Sixteen
    pieces of 1/16 s at -6 dB meet every target at the same cost (README.md
    "Mixed precision" has the levels and piece counts measured). */
#define QM_MIXED_CLIP_S 1.0
#define QM_MIXED_CLIP_PIECES 16
#define QM_MIXED_CLIP_LEVEL_DB (-6.0)
#define QM_MIXED_CLIP_SEED 17

/** The analysis clip at 48 kHz frames (played at the model's rate as it
    is); malloc'd, NULL without memory. */
float *qm_mixed_clip(int *n);

/** The measured table of one model and scheme. */
typedef struct {
  int n;             /**< linears (qm_model_linear_count) */
  long *weights;     /**< per linear: out x in */
  double *esr;       /**< [i * QM_MIXED_WIDTHS + w]: e_i(qm_mixed_width[w]), linear ESR */
  double ms;         /**< wall time of the measurement */
  qm_setting scheme; /**< the scheme measured (its bits and widths not used) */
} qm_sensitivity;

/**
   Measure the table for `d` under `scheme`'s mapping, symmetry,
   granularity, group and activations (static activations calibrate on the
   same audio) on calib (n_calib samples), and its rounding and bias
   correction (rounding.h: each entry's linear is then rounded on the same
   audio, one more render per entry), so what is measured is what plays.
   QM_MIXED_WIDTHS x linears renders of the clip (twice that with
   post-training rounding). False with a message on failure (out is then
   empty).
*/
bool qm_sensitivity_measure(const qm_desc *d, const qm_setting *scheme, const float *calib,
                            int n_calib, qm_sensitivity *out, char *err, size_t errlen);
void qm_sensitivity_free(qm_sensitivity *s);

/** sum_i n_i bits[i] / sum_i n_i (bits[i] 32 counts as 32). */
double qm_mixed_average_bits(const qm_sensitivity *s, const int *bits);

/** The predicted output ESR of an assignment: sum_i e_i(bits[i]) (0 for a
    float linear). */
double qm_mixed_predicted_esr(const qm_sensitivity *s, const int *bits);

/**
   The allocator: bits[i] in qm_mixed_width for every linear, minimising the
   predicted ESR with qm_mixed_average_bits(bits) <= budget, and then no
   linear can be widened one step without passing the budget. False (bits
   untouched) for a budget below 2 or a NaN. Fast: no audio.
*/
bool qm_mixed_allocate(const qm_sensitivity *s, double budget, int *bits);

/** What qm_mixed_choose decided, on the calibration audio. */
typedef struct {
  double budget;
  double average_bits; /**< of the widths chosen */
  double predicted_db; /**< 10 log10 of the allocator's predicted ESR */
  double mixed_db;     /**< measured ESR of the allocator's widths */
  int uniform_bits;    /**< the widest uniform width within the budget */
  double uniform_db;   /**< its measured ESR */
  bool kept_mixed;     /**< false: the uniform width measured lower and plays */
} qm_mixed_report;

/**
   qm_mixed_allocate, then the end-to-end guard: render calib through the
   float model, the allocated widths and the widest uniform width within
   the budget (scheme as measured), and keep the allocation only if its
   ESR is not higher (the additive model ignores how layers' errors
   interact). Two renders besides the table's. bits gets the widths that
   should play; report may be NULL.
*/
bool qm_mixed_choose(const qm_desc *d, const qm_sensitivity *s, double budget, const float *calib,
                     int n_calib, int *bits, qm_mixed_report *report, char *err, size_t errlen);

/**
   Error accumulation of the widths in spec (spec->linear_bits, or
   spec->bits for all), in model order: alone[i] = output ESR with linear i
   alone quantized at its width, prefix[i] = output ESR with linears
   0..i quantized at their widths and the rest float (prefix[n-1] is the
   variant's). A float linear adds 0 alone. alone is read from s when s
   measured the same scheme (may be NULL). 2 x linears renders at most.
*/
bool qm_error_accumulation(const qm_desc *d, const qm_setting *spec, const qm_sensitivity *s,
                           const float *calib, int n_calib, double *alone, double *prefix,
                           char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
