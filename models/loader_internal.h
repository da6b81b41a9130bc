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

/** Writes "NAME: message" into the context's buffer; returns false so callers can `return qm_fail(...)`. */
bool qm_fail(qm_ctx *c, const char *fmt, ...) QM_PRINTF(2, 3);

qm_desc *qm_desc_new(const char *name);
/** Zeroed memory owned (and freed) by the description; NULL on failure. */
void *qm_desc_alloc(qm_desc *d, size_t bytes);
char *qm_desc_strdup(qm_desc *d, const char *s);

/** Parse JSON text; on error a message with line and column. */
json_t *qm_parse_json(qm_ctx *c, const char *data, size_t len);

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

/** Read a whole file (at most QM_MAX_FILE_BYTES) into a malloc'd buffer. */
char *qm_read_file(qm_ctx *c, const char *path, size_t *len);

/** Metadata helpers: copy an optional string (capped, see QM_MAX_META_BYTES) /
    number; wrong types are ignored. */
void qm_meta_string(qm_desc *d, json_t *obj, const char *key, char **out);
void qm_meta_number(json_t *obj, const char *key, bool *has, double *out);

#endif
