/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Shared by the model-file loaders (not installed, not for the engine):
  error reporting, the description's allocation list, and typed access to
  jansson values with messages that say which key was wrong and how.
*/
#ifndef QUANTONE_MODELS_LOADER_INTERNAL_H
#define QUANTONE_MODELS_LOADER_INTERNAL_H

#include "model_file.h"

#include <jansson.h>
#include <stdint.h>

/** Where a loader reports: the file name prefixes every message. */
typedef struct {
  const char *name;
  char *err;
  size_t errlen;
} qm_ctx;

#if defined(__GNUC__)
#define QM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define QM_PRINTF(a, b)
#endif

/** Writes "NAME: message" into the context's buffer; returns false so callers can `return
 * qm_fail(...)`. */
bool qm_fail(qm_ctx *c, const char *fmt, ...) QM_PRINTF(2, 3);

qm_desc *qm_desc_new(const char *name);
/** Zeroed memory owned (and freed) by the description; NULL on failure. */
void *qm_desc_alloc(qm_desc *d, size_t bytes);
char *qm_desc_strdup(qm_desc *d, const char *s);
/** Make parent own child (freed by qm_desc_free(parent)); false when out of
    memory, and then the caller still owns child. */
bool qm_desc_adopt(qm_desc *parent, qm_desc *child);

/* ---- Splitting a file's text (json_split.c) ----------------------------- */

#define QM_STR_(x) #x
#define QM_STR(x) QM_STR_(x)

/** The longest number the weights array may hold, in characters: 24 is
    the longest a double prints in shortest round-trip form
    (-2.2250738585072014e-308); more is room, not a need. */
#define QM_MAX_NUMBER_CHARS 32

/** Values (each a DOM node) a file may hold outside its top-level
    "weights" array: a .nam file's config and metadata need a few hundred,
    a keras file's weights are all here (AIDA-X's LSTM 40 has 6,800; an
    RTNeural file's test vectors a few thousand more). Caps jansson's DOM
    at about 18 MB: an empty array, the dearest value, costs about 135
    bytes (models-huge-file measures it). */
#define QM_MAX_JSON_VALUES (1 << 17)

typedef enum { QM_SPLIT_NONE, QM_SPLIT_FIRST, QM_SPLIT_VALUE, QM_SPLIT_COMMA } qm_split_expect;

/**
   A file's text split while it is read: the numbers of the top-level
   "weights" array as floats (w[0..n_w), have_weights), everything else in
   `rest`, where that array reads "[]". Fields below `rest` and `w` are the
   scanner's state.
*/
typedef struct {
  char *rest;
  size_t rest_len, rest_cap;
  float *w;
  size_t n_w, cap_w;
  bool have_weights;
  bool failed;
  size_t values; /**< JSON values seen outside "weights" */
  size_t offset; /**< bytes fed (after a byte order mark) */
  int line, col; /**< of the byte being looked at */
  char last;     /**< that byte */
  bool started;
  int depth; /**< nesting outside "weights" */
  bool top_object, key_next, in_string, escape, in_key, key_escaped, key_is_weights;
  bool in_scalar, weights_next, weights_done, in_weights;
  char key[8];
  size_t key_len;
  qm_split_expect expect;
  char tok[QM_MAX_NUMBER_CHARS + 1];
  size_t tok_len;
  int open_line, open_col;  /**< where "weights" opened */
  size_t map_at, map_bytes; /**< the rest's "]" and how many bytes went before it */
  int map_lines, map_col;
} qm_split;

void qm_split_init(qm_split *s);
void qm_split_free(qm_split *s);
/** Feed the next n bytes of the file; false (with a message) on a problem. */
bool qm_split_feed(qm_split *s, qm_ctx *c, const char *p, size_t n);
/** After the last byte: false if the text ended inside "weights". */
bool qm_split_finish(qm_split *s, qm_ctx *c);
/** Map a position in `rest` (jansson's line, column, byte) to the file's. */
void qm_split_position(const qm_split *s, int *line, int *column, size_t *byte);

/**
   A model file as the loaders read it: the DOM of all but the top-level
   "weights" array, whose numbers are in w[0..n_w) when have_weights (else
   that array, if any, is in the DOM: a key written with escapes).
*/
typedef struct {
  json_t *root;
  float *w;
  size_t n_w;
  bool have_weights;
} qm_doc;

/** Split and parse a buffer / a file (regular files only, at most
    QM_MAX_FILE_BYTES, refused by size before a byte is read). */
bool qm_doc_from_buffer(qm_ctx *c, const char *data, size_t len, qm_doc *doc);
bool qm_doc_from_file(qm_ctx *c, const char *path, qm_doc *doc);
void qm_doc_free(qm_doc *doc);

/** The loaders proper, on a parsed file (nam_file.c, keras_file.c). */
qm_desc *qm_nam_from_doc(qm_ctx *c, qm_doc *doc);
/**
   A .nam model nested as a JSON object inside another file (a
   SlimmableContainer's submodel, a WaveNet's condition_dsp): the same
   loader, its weights read from the DOM. `where` names it in messages
   ("config.submodels[1].model"). The caller adopts the result
   (qm_desc_adopt) or frees it.
*/
qm_desc *qm_nam_from_object(qm_ctx *c, json_t *obj, const char *where);
qm_desc *qm_keras_from_doc(qm_ctx *c, qm_doc *doc);

/**
   The file's weights for a .nam model (nam_file.c): exactly `expected`
   floats, from the splitter or the DOM's "weights" array; they live in
   `doc` until the load ends. Sets d->n_weights. NULL with a message on a
   count mismatch or a bad value.
*/
const float *qm_nam_read_weights(qm_ctx *c, qm_desc *d, qm_doc *doc, json_t *weights,
                                 uint64_t expected);
/** A .nam "WaveNet" config and its weights into d (nam_wavenet.c). */
bool qm_nam_load_wavenet(qm_ctx *c, qm_desc *d, json_t *config, qm_doc *doc, json_t *weights);
/** A .nam activation (a name or an object with its parameters) read as
    NeuralAmpModelerCore's ActivationConfig::from_json does (nam_wavenet.c);
    `what` names it in messages. */
bool qm_nam_activation(qm_ctx *c, qm_desc *d, json_t *v, const char *what, qm_activation *out);

/* ---- The weight walk (nam_walk.c) ------------------------------------------

   One function per architecture visits its weights in the file's order
   (qm_arch_entry.walk). Reading, it takes them from the file into fresh
   description memory in the engine's layout; writing (models/nam_export.c),
   it emits the description's matrices in the file's layout, so the
   exporter is the loader's inverse by construction: there is one order. */

typedef struct qm_walk {
  bool writing;
  qm_desc *d;       /**< reading: owns what the walk allocates */
  const float *src; /**< reading: the file's next weight */
  float *dst;       /**< writing: the next slot of the output (NULL: only count) */
  /** writing: the values to emit for a matrix or vector of the
      description (the quantized weights that play in its place), or NULL
      for its own; user is its first argument */
  const float *(*values)(void *user, const float *p);
  void *user;
  size_t count;        /**< floats walked so far */
  const char *problem; /**< writing: why the description cannot be written */
} qm_walk;

/** A grouped [out][taps*in] matrix (per group g, output i, input j, tap k
    in the file; dense block-diagonal in the description). */
bool qm_walk_grouped(qm_walk *w, float **m, int out, int in, int taps, int groups);
/** n floats in the same order in both. */
bool qm_walk_floats(qm_walk *w, float **v, size_t n);
/** One float held by value (head_scale). */
void qm_walk_scalar(qm_walk *w, float *x);
/** rows of a_cols + b_cols floats in the file, split into a [rows][a_cols]
    and b [rows][b_cols] (an LSTM's W = [Wx | Wh]). */
bool qm_walk_split_rows(qm_walk *w, float **a, int a_cols, float **b, int b_cols, int rows);
/** n floats in reverse order (NAM Linear: file k multiplies x[t-k]). */
bool qm_walk_reversed(qm_walk *w, float **v, int n);

/** The walks (nam_file.c, nam_wavenet.c, nam_convnet.c); false when out of
    memory reading, or with w->problem writing. */
bool qm_nam_walk_wavenet(qm_walk *w, qm_desc *d);
bool qm_nam_walk_lstm(qm_walk *w, qm_desc *d);
bool qm_nam_walk_linear(qm_walk *w, qm_desc *d);
bool qm_nam_walk_convnet(qm_walk *w, qm_desc *d);

/** Parse JSON text; on error a message with the kind of error, line, column
    and byte (mapped through `split` when given), never the file's text. */
json_t *qm_parse_json(qm_ctx *c, const char *data, size_t len, const qm_split *split);

/**
   A string value from the file as a message may show it: a short word of
   letters, digits and "._+-" (an activation, architecture or version the
   loader does not support) in quotes; anything else only by its length, so
   that a file which is not a model never has its contents echoed. Returns
   buf (QM_SHOWN_BYTES is enough).
*/
#define QM_SHOWN_BYTES 48
const char *qm_shown(const char *s, char *buf, size_t n);

/** Key lookups: `required` missing -> error; wrong type -> error naming what. */
json_t *qm_get(qm_ctx *c, json_t *obj, const char *where, const char *key, bool required);
bool qm_get_int(qm_ctx *c, json_t *obj, const char *where, const char *key, bool required,
                long long lo, long long hi, long long dflt, int *out);
bool qm_get_bool(qm_ctx *c, json_t *obj, const char *where, const char *key, bool required,
                 bool dflt, bool *out);
/** A number that must be finite. */
bool qm_get_double(qm_ctx *c, json_t *obj, const char *where, const char *key, bool required,
                   double dflt, double *out);
/** An integer-valued number within [lo, hi] (accepts 3 and 3.0). */
bool qm_json_int(qm_ctx *c, json_t *v, const char *what, long long lo, long long hi, int *out);

/**
   Convert JSON number v to a float that must be finite; `what` and index
   name it in the message ("weight 17 is not finite").
*/
bool qm_json_float(qm_ctx *c, json_t *v, const char *what, size_t index, float *out);

/** Reads `count` floats from a flat JSON array (length checked by the caller). */
bool qm_json_floats(qm_ctx *c, json_t *arr, const char *what, size_t first, size_t count,
                    float *out);

/** Metadata helpers: copy an optional string (capped, see QM_MAX_META_BYTES) /
    number; wrong types are ignored. */
void qm_meta_string(qm_desc *d, json_t *obj, const char *key, char **out);
void qm_meta_number(json_t *obj, const char *key, bool *has, double *out);

#endif
