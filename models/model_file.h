/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Quantone model files: what a `.nam` or RTNeural / AIDA-X keras JSON file
  says, as an in-memory description the engine (engine.h) builds from.

  The loaders validate everything a file can get wrong (syntax, keys, types,
  shapes, weight counts, non-finite values, absurd sizes) and report it in a
  caller buffer as "PATH: problem". They never abort, and they refuse any
  shape whose weights or run-time state would exceed QM_MAX_MODEL_BYTES, so a
  hostile file cannot make the host allocate gigabytes. A load's peak memory
  is about three times the weights' floats plus the file's text outside its
  "weights" array (models/json_split.c).

  Weights are stored already transposed to the orientation the engine
  multiplies with: every matrix is row-major [outputs][inputs], the layout
  qk_weights.f32 takes. The comments on each field give the exact mapping
  from the file's layout.

  Loading allocates and reads files: never call it on the audio thread.
*/
#ifndef QUANTONE_MODELS_MODEL_FILE_H
#define QUANTONE_MODELS_MODEL_FILE_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Limits a file must respect (refused with a message beyond them). */
#define QM_MAX_MODEL_BYTES ((size_t)256 << 20) /**< weights + run-time state */
/** Float parameters in one model: 76 times NAM's "standard" WaveNet (13,802),
    several times the largest capture files in use (a few MB, about 30
    bytes a weight), so a few seconds of loading and 4 MiB of floats. */
#define QM_MAX_WEIGHTS (1 << 20)
/** Bytes a weight may take in a file: its number (24 characters at most
    in the shortest form that reads back exactly, as Python's json and
    NAM's exporter write it), a comma, a newline and 14 of indentation
    (NAM's exporter writes 8: 34 bytes). */
#define QM_FILE_BYTES_PER_WEIGHT 40
/** Room for everything else: config, metadata, an RTNeural file's test
    vectors. */
#define QM_FILE_SLACK_BYTES ((size_t)1 << 20)
/** The size of the file itself, derived from the largest model the other
    limits allow: 2^20 weights x 40 bytes + 1 MiB = 41 MiB (42,991,616 bytes).
    A larger file is refused by its size before a byte of it is read. */
#define QM_MAX_FILE_BYTES ((size_t)QM_MAX_WEIGHTS * QM_FILE_BYTES_PER_WEIGHT + QM_FILE_SLACK_BYTES)
#define QM_MAX_CHANNELS 1024             /**< channels, hidden units, head size */
#define QM_MAX_KERNEL 64                 /**< WaveNet kernel_size */
#define QM_MAX_DILATION 65536            /**< WaveNet dilation */
#define QM_MAX_LAYERS 1024               /**< layers in one model */
#define QM_MAX_RECEPTIVE_FIELD (1 << 20) /**< samples of history */
/** Metadata strings (name, modeled_by, gear ...) longer than this many
    bytes are cut at load, ending in an ellipsis, so the stored string,
    terminator excluded, is at most this long and valid UTF-8. */
#define QM_MAX_META_BYTES 256

/** A WaveNet layer's history holds its lookback and room for this many
    times the lookback beyond it (at least one batch), so the lookback is
    moved to the front that much less often (models/wavenet.c); the
    loader's state-memory estimate counts the same frames. */
#define QM_WAVENET_HISTORY_ROOM 4
#define QM_MAX_LINEAR_TAPS 65536 /**< NAM Linear receptive_field */

/** A layer's nonlinearity, as the model file names it. Not the setting's
    activation quantization (qm_actq, setting.h): the two used to share
    the QM_ACT_ prefix. */
typedef enum {
  QM_NONLIN_NONE = 0, /**< identity ("", "linear", absent) */
  QM_NONLIN_TANH,
  QM_NONLIN_RELU,
  QM_NONLIN_SIGMOID,
  QM_NONLIN_HARDTANH, /**< clamp to [-1, 1] */
  QM_NONLIN_FASTTANH, /**< NAM's rational tanh approximation */
  QM_NONLIN_COUNT
} qm_nonlinearity;

const char *qm_nonlinearity_name(qm_nonlinearity a);

typedef enum {
  QM_FILE_NAM = 0, /**< Neural Amp Modeler .nam (JSON), versions 0.5.0 to 0.7.x */
  QM_FILE_KERAS    /**< RTNeural / AIDA-X keras-style JSON */
} qm_file_kind;

typedef enum {
  QM_ARCH_WAVENET = 0, /**< NAM WaveNet "A1" */
  QM_ARCH_SEQUENTIAL,  /**< a chain of LSTM / GRU / Dense / FIR layers */
  QM_ARCH_CONVNET      /**< NAM ConvNet (models/nam_convnet.c, models/convnet.c) */
} qm_arch;

/* ---- WaveNet (NAM A1) ------------------------------------------------ */

/** One dilated layer. C = channels, Z = 2C if gated else C, K = kernel_size. */
typedef struct {
  int dilation;
  /** [Z][K*C]. Column k*C + c multiplies input channel c at time
      t - dilation*(K-1-k): tap 0 is the oldest. (File order: out, in, tap.) */
  float *conv_w;
  float *conv_b;  /**< [Z] */
  float *mixin_w; /**< [Z][condition_size], no bias */
  float *w1x1;    /**< [C][C] */
  float *b1x1;    /**< [C] */
} qm_wn_layer;

typedef struct {
  int input_size, condition_size, head_size, channels, kernel_size;
  qm_nonlinearity activation; /**< applied to z (gated: to its top half) */
  bool gated;                 /**< a = act(z[0:C]) * sigmoid(z[C:2C]) */
  bool head_bias;
  int n_layers;
  qm_wn_layer *layers;
  float *rechannel_w; /**< [C][input_size], no bias */
  float *head_w;      /**< [head_size][C] */
  float *head_b;      /**< [head_size], NULL unless head_bias */
} qm_wn_array;

typedef struct {
  int n_arrays;
  qm_wn_array *arrays;
  float head_scale; /**< the last weight of the file */
} qm_wavenet_desc;

/* ---- ConvNet (NAM) ----------------------------------------------------- */

/** NAM's ConvNet convolutions always have two taps (its source hard-codes it). */
#define QM_CONVNET_KERNEL 2

/** One block: y = act(conv(x) + b), C outputs from `in` inputs (1 for the
    first block, C after it). A batchnorm of the file is folded in
    (models/nam_convnet.c says how and why that is exact enough). */
typedef struct {
  int dilation;
  /** [C][2*in]. Column k*in + i multiplies input i at time
      t - dilation*(1-k): tap 0 is the older. (File order: out, in, tap.) */
  float *conv_w;
  float *conv_b; /**< [C]: the conv bias, or the folded batchnorm shift */
} qm_cn_block;

typedef struct {
  int channels;
  qm_nonlinearity activation;
  bool batchnorm; /**< the file had batchnorm (now folded into conv_w, conv_b) */
  int n_blocks;
  qm_cn_block *blocks;
  float *head_w; /**< [1][C] */
  float *head_b; /**< [1] */
} qm_convnet_desc;

/* ---- Sequential layers (NAM LSTM / Linear, keras) ---------------------- */

typedef enum {
  QM_LAYER_LSTM = 0,
  QM_LAYER_GRU,
  QM_LAYER_DENSE,
  QM_LAYER_ACTIVATION,
  QM_LAYER_FIR
} qm_layer_kind;

const char *qm_layer_kind_name(qm_layer_kind k);

/**
   One layer of a sequential model, with in inputs and out outputs (out = H,
   the hidden size, for recurrent layers).
   LSTM:  wx [4H][in], wh [4H][H], b [4H]; gate rows in the order i, f, g
          (cell candidate), o. c' = sig(f)*c + sig(i)*tanh(g);
          h' = sig(o)*tanh(c'). h0, c0 [H] are the state after reset (NAM
          stores them in the file; NULL means zero).
   GRU:   wx [3H][in], wh [3H][H], b [3H] (input bias), bh [3H] (recurrent
          bias); rows z, r, n (keras reset_after=True):
          z = sig(Wz x + bz + Uz h + bhz), r likewise,
          n = tanh(Wn x + bn + r*(Un h + bhn)), h' = (1-z)*n + z*h.
   DENSE: wx [out][in], b [out] (may be NULL); y = act(wx x + b).
   ACTIVATION: y = act(x), in == out.
   FIR:   in = out = 1; wx [1][taps], column j multiplies x[t-(taps-1)+j];
          b [1] or NULL (NAM Linear).
*/
typedef struct {
  qm_layer_kind kind;
  int in, out;
  int taps;                   /**< FIR only */
  qm_nonlinearity activation; /**< DENSE / ACTIVATION */
  float *wx, *wh, *b, *bh, *h0, *c0;
} qm_seq_layer;

typedef struct {
  int n_layers;
  qm_seq_layer *layers;
} qm_sequential_desc;

/* ---- Metadata and the description -------------------------------------- */

/** What the GUI shows. Strings are NULL when absent, at most
    QM_MAX_META_BYTES long, without control characters; has_* flags the
    numbers. */
typedef struct {
  char *name, *modeled_by, *gear_type, *gear_make, *gear_model, *tone_type;
  bool has_loudness, has_gain, has_input_level, has_output_level, has_validation_esr;
  double loudness; /**< dB */
  double gain;
  double input_level_dbu; /**< input calibration level */
  double output_level_dbu;
  double validation_esr;
} qm_metadata;

typedef struct qm_desc {
  qm_file_kind kind;
  qm_arch arch;
  char *path;         /**< as given to the loader */
  char *version;      /**< NAM file version ("0.5.4"); NULL for keras */
  /** A reason to tell the player although the file loaded (a newer patch
      version than this build knows), or NULL. */
  char *warning;
  char *architecture; /**< "WaveNet", "LSTM", "Linear", or "keras" */
  double sample_rate; /**< model rate; 48000 when the file says nothing */
  bool sample_rate_in_file;
  qm_metadata meta;
  /** Keras / AIDA-X extras: y = out_gain * (model(in_gain * x) + in_skip * in_gain * x). */
  bool in_skip;
  double in_gain_db, out_gain_db;
  /** Zeros processed on reset so state starts at the zero-input steady
      state (NAM: the receptive field for WaveNet, 0.5 s for LSTM). */
  int prewarm_samples;
  size_t n_weights; /**< float parameters the file carried */
  qm_wavenet_desc wavenet;
  qm_sequential_desc seq;
  qm_convnet_desc convnet;

  void **allocs; /**< internal: every block this description owns */
  size_t n_allocs, cap_allocs;
  /** internal: descriptions nested in this one (a container's submodels,
      a WaveNet's condition_dsp), freed with it (qm_desc_adopt) */
  struct qm_desc **children;
  size_t n_children, cap_children;
} qm_desc;

/**
   Load a model file, choosing the loader by content: a JSON object with
   "architecture" and "weights" is a .nam file, one with "layers" is keras.
   Returns NULL on any problem with a message "PATH: problem" in err.
*/
qm_desc *qm_load_file(const char *path, char *err, size_t errlen);

/** Load from memory; name stands for the path in messages. */
qm_desc *qm_load_buffer(const char *data, size_t len, const char *name, char *err, size_t errlen);
qm_desc *qm_load_nam_buffer(const char *data, size_t len, const char *name, char *err,
                            size_t errlen);
qm_desc *qm_load_keras_buffer(const char *data, size_t len, const char *name, char *err,
                              size_t errlen);

void qm_desc_free(qm_desc *d);

/** Samples of input history the model sees (1 for memoryless models). */
int qm_desc_receptive_field(const qm_desc *d);

/** Bytes of float weights the description holds. */
size_t qm_desc_weight_bytes(const qm_desc *d);

#ifdef __cplusplus
}
#endif

#endif
