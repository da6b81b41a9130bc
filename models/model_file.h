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
    the QM_ACT_ prefix. The formulas are NeuralAmpModelerCore's
    (NAM/activations.h); the parameters live in qm_activation. */
typedef enum {
  QM_NONLIN_NONE = 0, /**< identity ("", "linear", absent) */
  QM_NONLIN_TANH,
  QM_NONLIN_RELU,
  QM_NONLIN_SIGMOID,
  QM_NONLIN_HARDTANH,       /**< clamp to [-1, 1] */
  QM_NONLIN_FASTTANH,       /**< NAM's rational tanh approximation */
  QM_NONLIN_LEAKY_RELU,     /**< x > 0 ? x : negative_slope * x */
  QM_NONLIN_PRELU,          /**< LeakyReLU with a slope per channel */
  QM_NONLIN_SILU,           /**< x * sigmoid(x) ("SiLU", swish) */
  QM_NONLIN_HARDSWISH,      /**< x * clamp(x + 3, 0, 6) / 6 */
  QM_NONLIN_LEAKY_HARDTANH, /**< identity in [min_val, max_val], sloped outside */
  QM_NONLIN_SOFTSIGN,       /**< x / (1 + |x|) */
  QM_NONLIN_COUNT
} qm_nonlinearity;

const char *qm_nonlinearity_name(qm_nonlinearity a);

/** A nonlinearity with its parameters (NAM's ActivationConfig). The
    parameters a type does not use are ignored. */
typedef struct {
  qm_nonlinearity type;
  float negative_slope; /**< LEAKY_RELU; PRELU when n_slopes == 0 */
  /** PRELU per channel: channel c of the activated vector uses
      slopes[c % n_slopes] (the loader requires n_slopes to be the vector's
      width); NULL and 0 for a single slope. */
  float *slopes;
  int n_slopes;
  float min_val, max_val, min_slope, max_slope; /**< LEAKY_HARDTANH */
} qm_activation;

typedef enum {
  QM_FILE_NAM = 0, /**< Neural Amp Modeler .nam (JSON), versions 0.5.0 to 0.7.x */
  QM_FILE_KERAS    /**< RTNeural / AIDA-X keras-style JSON */
} qm_file_kind;

typedef enum {
  QM_ARCH_WAVENET = 0, /**< NAM WaveNet (A1, A2 and every option of 0.5-0.7 files) */
  QM_ARCH_SEQUENTIAL,  /**< a chain of LSTM / GRU / Dense / FIR layers */
  QM_ARCH_CONTAINER,   /**< NAM SlimmableContainer: one submodel plays (slim.h) */
  QM_ARCH_CONVNET      /**< NAM ConvNet (models/nam_convnet.c, models/convnet.c) */
} qm_arch;

/* ---- WaveNet ------------------------------------------------------------- */

/*
  NeuralAmpModelerCore's WaveNet (NAM/wavenet/), every option. Notation per
  layer array: C = channels, B = bottleneck, Z = 2B for a gated or blended
  layer else B, Q = condition_size, H1 = head1x1.out_channels, HO = what a
  layer adds to the head accumulator (H1 with head1x1, else B).

  Every matrix is dense row-major [out][in]. A grouped convolution (groups
  > 1) is stored block-diagonal: output row g*(out/groups) + i reads input
  g*(in/groups) + j only, the other entries are zero, so the engine and the
  quantizer see plain matrices; NAM's per-group weight order is undone by
  the loader. A convolution over K taps is [out][K*in]: column k*in + c
  multiplies input channel c at time t - dilation*(K-1-k) (tap 0 the
  oldest).

  Slimming (NAM/wavenet/slimmable.cpp, a slimmable array's smaller sizes)
  keeps the first rows and the first input channels of each matrix and the
  first entries of each bias: a top-left sub-block, per tap for a conv
  (column k*C + c becomes k*C' + c). A slimmed description is a copy with
  the smaller shapes; a loaded one is always the full size.
*/

/** The points in a layer where FiLM (out = in * scale(cond) + shift(cond))
    can modulate a vector, in the order their weights follow in the file. */
typedef enum {
  QM_FILM_CONV_PRE = 0,    /**< the conv's input, C channels */
  QM_FILM_CONV_POST,       /**< the conv's output, Z */
  QM_FILM_MIXIN_PRE,       /**< the condition before input_mixin, Q */
  QM_FILM_MIXIN_POST,      /**< input_mixin's output, Z */
  QM_FILM_ACTIVATION_PRE,  /**< z before the activation, Z */
  QM_FILM_ACTIVATION_POST, /**< the activated vector, B */
  QM_FILM_LAYER1X1_POST,   /**< layer1x1's output, C (NAM applies it in blended layers only) */
  QM_FILM_HEAD1X1_POST,    /**< head1x1's output, H1 */
  QM_FILM_COUNT
} qm_film_point;

/** What a layer array says about one FiLM point (the same for its layers). */
typedef struct {
  bool active;
  bool shift; /**< scale and shift (2*dim outputs), else scale only (dim) */
  int groups; /**< of the condition -> scale/shift 1x1 */
} qm_film_config;

/** One FiLM point's weights in one layer: dim modulated channels, rows =
    (shift ? 2 : 1) * dim, scale rows first, then shift rows. */
typedef struct {
  int dim;
  float *w; /**< [rows][Q], block-diagonal by the config's groups; NULL when inactive */
  float *b; /**< [rows] */
} qm_wn_film;

typedef enum {
  QM_GATING_NONE = 0, /**< a = act(z) */
  QM_GATING_GATED,    /**< a = act(z[0:B]) * secondary(z[B:2B]) */
  QM_GATING_BLENDED,  /**< s = secondary(z[B:2B]); a = s * act(z[0:B]) + (1 - s) * z[0:B] */
} qm_gating;

/** One dilated layer of an array. */
typedef struct {
  int dilation;
  int kernel_size; /**< K */
  qm_activation activation;
  qm_gating gating;
  qm_activation secondary; /**< gated / blended layers */
  float *conv_w;           /**< [Z][K*C], groups_input */
  float *conv_b;           /**< [Z] */
  float *mixin_w;          /**< [Z][Q], no bias, groups_input_mixin */
  float *w1x1;             /**< [C][B] (layer1x1), NULL when inactive */
  float *b1x1;             /**< [C] */
  float *head1x1_w;        /**< [H1][B], NULL when inactive */
  float *head1x1_b;        /**< [H1] */
  qm_wn_film film[QM_FILM_COUNT];
} qm_wn_layer;

/** A layer array's `slimmable` key: the channel counts it may be cut to
    (ascending, the last == channels). n_allowed 0: not slimmable. */
typedef struct {
  int n_allowed;
  int *allowed_channels;
} qm_wn_slim;

typedef struct {
  int input_size, condition_size, head_size, channels, bottleneck;
  int groups_input, groups_input_mixin;
  bool layer1x1;       /**< layer1x1.active (default true); false needs B == C */
  int layer1x1_groups; /**< of the [C][B] 1x1 */
  bool head1x1;
  int head1x1_out, head1x1_groups;
  qm_film_config film[QM_FILM_COUNT];
  int n_layers;
  qm_wn_layer *layers;
  float *rechannel_w; /**< [C][input_size], no bias */
  /** The array's head: a conv HO -> head_size over head_kernel taps
      head_dilation apart (legacy head_size / head_bias: kernel 1). */
  int head_kernel, head_dilation;
  bool head_bias;
  float *head_w; /**< [head_size][head_kernel * HO] */
  float *head_b; /**< [head_size], NULL unless head_bias */
  qm_wn_slim slim;
} qm_wn_array;

/** One conv of the post-stack head, preceded by the head's activation. */
typedef struct {
  int in, out, kernel_size; /**< dilation 1, always a bias */
  float *w;                 /**< [out][kernel_size * in] */
  float *b;                 /**< [out] */
} qm_wn_head_conv;

/** The optional post-stack head (config "head"): head_scale times the last
    array's head output goes through act -> conv -> act -> conv ... */
typedef struct {
  int channels, out_channels;
  qm_activation activation;
  int n_convs; /**< 0: no post-stack head */
  qm_wn_head_conv *convs;
} qm_wn_post_head;

typedef struct {
  int in_channels;  /**< 1: the plugin is mono */
  int out_channels; /**< last head_size, or the post-stack head's out_channels */
  int n_arrays;
  qm_wn_array *arrays;
  qm_wn_post_head head;
  float head_scale; /**< the last weight of the file */
  /** config.condition_dsp, a nested WaveNet (owned by the description
      through qm_desc_adopt), or NULL: its out_channels outputs are the
      condition of every array instead of the input. */
  const struct qm_desc *condition_dsp;
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
  /** The file's batchnorm (running_mean, running_var, weight, bias [C]
      each, eps), as read before it is folded; NULL without batchnorm. */
  float *batchnorm_file;
} qm_cn_block;

typedef struct {
  int channels;
  qm_activation activation;
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

/* ---- SlimmableContainer (NAM 0.7, models/nam_container.c) ------------- */

typedef struct {
  /** Plays for slim values below this; the last submodel also at and above it. */
  double max_value;
  /** A complete description of any architecture but a container, owned by
      the container (qm_desc_adopt); its path is the container's file. */
  struct qm_desc *model;
} qm_submodel;

typedef struct {
  int n_submodels;
  qm_submodel *submodels; /**< max_value strictly ascending, the last >= 1.0 */
} qm_container_desc;

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
  char *path;    /**< as given to the loader */
  char *version; /**< NAM file version ("0.5.4"); NULL for keras */
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
  qm_container_desc container;
  qm_convnet_desc convnet;

  /** The scheme a quantized export was made with (its metadata.quantone,
      models/scheme_record.h), or NULL. */
  struct qm_scheme_record *scheme_record;
  /** internal: the file's JSON object (a json_t *, its "weights" emptied
      once read), which models/nam_export.c writes back with new weights;
      NULL for keras and for sizes qm_desc_at_slim() cut. Read only. */
  void *source_json;

  /** internal: what qm_desc_at_slim() built, one per step (slim.c) */
  const struct qm_desc **slim_sizes;
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
