/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Engine internals shared by the architecture files (wavenet.c,
  sequential.c) and engine.c. Not part of the public API.
*/
#ifndef QUANTONE_MODELS_ENGINE_INTERNAL_H
#define QUANTONE_MODELS_ENGINE_INTERNAL_H

#include "engine.h"

typedef struct qm_wavenet qm_wavenet;
typedef struct qm_seq qm_seq;

typedef struct {
  char name[32];
  int channels;
} qm_layer_info;

struct qm_model {
  qm_arch arch;
  const struct qm_arch_ops_s *ops; /**< the architecture's functions (arch_registry.h) */
  int chunk;
  bool fast;
  qk_isa isa;
  double sample_rate;
  int prewarm;
  float in_gain, out_gain;
  bool in_skip;
  float *xin, *yout; /* [chunk] */

  qm_tap_fn tap;
  void *tap_user;
  bool tap_on; /* false while prewarming */

  qm_layer_info *layers;
  int n_layers, cap_layers;
  qm_linear **linears;
  int n_linears, cap_linears;

  qm_wavenet *wn;
  qm_seq *seq;
  /** An architecture's own run-time object, for those added since the
      registry (arch_registry.h): its build() sets it, its free() clears it. */
  void *arch_state;

  /** The prewarmed streaming state is kept by the architecture
      (qm_model_save_prewarm); it belongs to the weights whose signature
      (qm_model_weights_sig) was warm_sig when it was saved. */
  bool warm_ok;
  unsigned warm_sig;
  bool warm_finite; /**< the last prewarm's output and state were finite */

  /** Quantization bookkeeping owned by models/variant.c (the spec and each
      linear's qz_tensor, for the GUI's weights and levels); NULL for a
      float model. Freed by qm_model_free() through variant_free, so the
      engine needs no knowledge of the quantizer. */
  /** The int8 activation scratch its linears share (qm_linear_share_act):
      two pools, so that a fused WaveNet layer's conv and 1x1 have their own. */
  qk_act_s8 act_pool[2];
  size_t act_pool_bytes;

  void *variant;
  void (*variant_free)(void *variant);
  /** The scheme the file was exported with (metadata.quantone), a copy
      the model owns, or NULL: the quantizer encodes on its levels. */
  struct qm_scheme_record *scheme_record;
  /** Who is told how far qm_model_quantize is (variant.h), or NULL. */
  void (*progress)(void *user, const char *stage, double fraction);
  void *progress_user;
  /** Bytes variant holds, for qm_model_memory (set by variant.c). */
  size_t (*variant_bytes)(const void *variant);
};

/** Point every int8 linear's scratch at the model's act_pool (allocated
    to fit the largest). False when out of memory: the linears keep their own. */
bool qm_model_share_act(qm_model *m);

/** Zeroed, 64-byte aligned floats; free with free(). */
float *qm_falloc(size_t n);

/** Registration while building (allocates). Return the index or -1. */
int qm_model_add_layer(qm_model *m, const char *name, int channels);
bool qm_model_add_linear(qm_model *m, qm_linear *L);

/** Build a linear and register it; err gets "PATH: ..." from the caller. */
bool qm_model_linear_init(qm_model *m, qm_linear *L, const char *name, int out, int in,
                          const float *w, const float *bias, char *err, size_t errlen);

/** Whether a tap observes the layers: a loop over many layers asks once
    per block and skips qm_tap() (and its arguments' loads) otherwise. */
static inline bool qm_tapping(const qm_model *m) { return m->tap && m->tap_on; }

static inline void qm_tap(qm_model *m, int layer, const float *y, int ld, int ch, int n)
{
  if (qm_tapping(m))
    m->tap(m->tap_user, layer, y, ld, ch, n);
}

bool qm_wavenet_build(qm_model *m, const qm_desc *d, char *err, size_t errlen);
void qm_wavenet_reset(qm_model *m);
void qm_wavenet_run(qm_model *m, const float *x, float *y, int n);
void qm_wavenet_free(qm_model *m);
/** Copy streaming state (histories) src -> dst; false if shapes differ. RT safe. */
bool qm_wavenet_copy_state(qm_model *dst, const qm_model *src);
/** See qm_model_prepare_quantized(). */
bool qm_wavenet_prepare(qm_model *m, const qk_weights *const *w);
/** Keep a copy of the streaming state (allocates); *finite = every value
    of it is finite. False when out of memory. */
bool qm_wavenet_save_warm(qm_model *m, bool *finite);
/** Back to the state qm_wavenet_save_warm() kept: copies only. RT safe. */
void qm_wavenet_load_warm(qm_model *m);

/**
   Called by the quantizer (models/variant.c) once new weights are in
   place: w[i] describes the quantized weights of m->linears[i] (NULL for
   float ones, or w NULL for a float model). The architecture may derive
   run-time forms from them (the WaveNet's per-tap conv slices, and for an
   int8 layer an int8 history in place of its float lookback). Allocates;
   not real-time. w NULL gives every layer back its float history (before
   a float calibration pass). False when out of memory for a float history:
   the model must not run then.
*/
bool qm_model_prepare_quantized(qm_model *m, const qk_weights *const *w);

/** Add the architecture's blocks to *mem (qm_model_memory). */
void qm_wavenet_memory(const qm_model *m, qm_memory *mem);
void qm_seq_memory(const qm_model *m, qm_memory *mem);
/** A linear's own blocks (float weights, packed, int8 scratch). */
void qm_linear_memory(const qm_linear *L, qm_memory *mem);

bool qm_seq_build(qm_model *m, const qm_desc *d, char *err, size_t errlen);
void qm_seq_reset(qm_model *m);
void qm_seq_run(qm_model *m, const float *x, float *y, int n);
void qm_seq_free(qm_model *m);
/** Copy recurrent state and FIR history src -> dst; false if shapes differ. RT safe. */
bool qm_seq_copy_state(qm_model *dst, const qm_model *src);
/** As qm_wavenet_save_warm / qm_wavenet_load_warm for a chain. */
bool qm_seq_save_warm(qm_model *m, bool *finite);
void qm_seq_load_warm(qm_model *m);

#endif
