/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The training loop: mini-batches of random segments, Adam, per-epoch
  validation on held-out audio, best-epoch tracking, checkpoints, and
  optional quantization-aware training (fake-quantized forward, straight-
  through gradient).
*/
#ifndef QUANTONE_TR_TRAIN_H
#define QUANTONE_TR_TRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "quantize.h"
#include "tr_data.h"
#include "tr_loss.h"
#include "tr_model.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How QAT carries the gradient through the quantizer. */
typedef enum {
  TR_QAT_STE = 0, /**< engine's max-abs scales, straight-through (tr_qat.h) */
  TR_QAT_LSQ,     /**< learned per-channel steps (tr_lsq.h) */
} tr_qat_method;

typedef struct {
  int epochs;
  int batch;           /**< segments per step */
  int segment;         /**< scored samples per segment */
  int steps_per_epoch; /**< 0: train samples / (batch * segment) */
  double lr, lr_decay; /**< per-epoch exponential decay */
  double clip;         /**< gradient norm clip, 0 = off */
  uint64_t seed;
  tr_loss loss;
  const qz_scheme *qat; /**< NULL: float training */
  tr_qat_method qat_method;
  /** LSQ: the steps' learning rate as a fraction of the weights' (0: 1).
      Adam moves every parameter by about lr per step whatever its scale,
      and a 4-bit step is Qp = 7 times smaller than the weights it serves. */
  double lsq_step_lr;
  /** QAT: oscillation dampening's weight (tr_osc.h; 0 = off) and the
      epochs over which it ramps in linearly (<= 1: full from the start),
      counted from this run's first epoch (a resumed run ramps in again). */
  double qat_dampen;
  int qat_dampen_ramp;
  /** QAT: after every epoch also measure the held-out ESR with the
      previous epoch's codes on this epoch's steps and float parameters:
      how much of the epoch's change in ESR the code changes made (one
      more held-out pass per epoch). */
  bool qat_code_attribution;
  /** Weight averaging: 0 = off, else the per-step decay d of an exponential
      moving average a <- d a + (1 - d) p of the parameters, started at the
      initial ones. The held-out ESR, the best epoch and the result are then
      the average's. Why: a fake-quantized forward makes the loss surface a
      staircase, and at a learning rate that still makes progress the
      parameters hop between neighbouring codes from step to step (held-out
      ESR jumping 2-4 dB between epochs); their average sits between the hops,
      and it is quantized only when evaluated. Not with LSQ. */
  double ema;
  /** Weight averaging starts at this epoch (0-based, counted like the
      checkpoint's): before it the average is the parameters themselves, so
      a run can move fast first and settle after. */
  int ema_start;
  const char *checkpoint; /**< written after every epoch if not NULL */
  const char *resume;     /**< checkpoint to continue from, or NULL */
  bool resume_best;       /**< continue from the checkpoint's best weights, not its last */
  bool lr_override;       /**< on resume, use lr instead of the checkpoint's decayed rate */
  double time_limit;      /**< seconds; stop after the epoch that crosses it (0 = none) */
  int val_skip;           /**< validation samples not scored at the start */
  /** n_params flags, or NULL: the parameters flagged stay as they are (their
      gradient is zeroed, so Adam never moves them). Nested fine-tuning of a
      slimmable model trains a width around the smaller width it contains. */
  const unsigned char *frozen;
  int quiet;
} tr_train_opts;

void tr_train_opts_default(tr_train_opts *o);

typedef struct {
  double best_val_esr; /**< plain ESR on the held-out audio (fake-quantized if QAT) */
  int best_epoch;
  int epochs_run;
  double seconds;
  /** LSQ: held-out ESR of the best weights re-encoded by the engine's own
      quantizer (max-abs scales), i.e. as the plugin plays the written
      file; -1 otherwise. */
  double lsq_engine_esr;
  /** LSQ: rows of the best weights whose codes never reach +-Qp, which the
      engine's re-encoding does not reproduce (tr_qat_rows_below_top). */
  size_t lsq_rows_off_grid;
  /** QAT, linear symmetric per channel: weight codes that changed in the
      last epoch, and of those the ones back at the code of the epoch
      before (tr_osc.h). */
  size_t codes_changed, codes_back;
} tr_train_result;

/**
   Train m on d. On return m->p holds the best-validating parameters (for
   LSQ their fake-quantized form: the weights to write).
   Returns false with a message on error.
*/
bool tr_train(tr_model *m, const tr_dataset *d, const tr_train_opts *o, tr_train_result *r,
              char *err, size_t errlen);

/**
   Held-out ESR of parameters p (optionally fake-quantized by s) against
   the target; if ref is not NULL, also the ESR against ref's prediction
   (e.g. the float model) in *esr_vs_ref. Prediction in *out if not NULL.
*/
double tr_evaluate(tr_model *m, const float *p, const qz_scheme *s, const tr_signal *v, int skip,
                   const float *ref, double *esr_vs_ref, float *out);

#ifdef __cplusplus
}
#endif

#endif
