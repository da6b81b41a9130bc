/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Model-file plumbing shared by the loaders: messages, the description's
  memory, typed JSON access, reading files, dispatch by content.
*/
#include "arch_registry.h"
#include "scheme_record.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool qm_fail(qm_ctx *c, const char *fmt, ...)
{
  if (!c->err || c->errlen == 0)
    return false;
  int n = snprintf(c->err, c->errlen, "%s: ", c->name ? c->name : "(model)");
  if (n < 0 || (size_t)n >= c->errlen)
    return false;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return false;
}

const char *qm_nonlinearity_name(qm_nonlinearity a)
{
  static const char *const names[QM_NONLIN_COUNT] = {
      "none",      "tanh",  "relu", "sigmoid",   "hardtanh",      "fasttanh",
      "leakyrelu", "prelu", "silu", "hardswish", "leakyhardtanh", "softsign"};
  return (unsigned)a < QM_NONLIN_COUNT ? names[a] : "?";
}

const char *qm_layer_kind_name(qm_layer_kind k)
{
  switch (k) {
  case QM_LAYER_LSTM: return "lstm";
  case QM_LAYER_GRU: return "gru";
  case QM_LAYER_DENSE: return "dense";
  case QM_LAYER_ACTIVATION: return "activation";
  case QM_LAYER_FIR: return "fir";
  }
  return "?";
}

qm_desc *qm_desc_new(const char *name)
{
  qm_desc *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  d->sample_rate = 48000.0;
  d->path = qm_desc_strdup(d, name ? name : "(model)");
  if (!d->path) {
    qm_desc_free(d);
    return NULL;
  }
  return d;
}

void *qm_desc_alloc(qm_desc *d, size_t bytes)
{
  if (d->n_allocs == d->cap_allocs) {
    size_t cap = d->cap_allocs ? 2 * d->cap_allocs : 32;
    void **a = realloc(d->allocs, cap * sizeof *a);
    if (!a)
      return NULL;
    d->allocs = a;
    d->cap_allocs = cap;
  }
  void *p = calloc(1, bytes ? bytes : 1);
  if (p)
    d->allocs[d->n_allocs++] = p;
  return p;
}

bool qm_desc_adopt(qm_desc *parent, qm_desc *child)
{
  if (parent->n_children == parent->cap_children) {
    size_t cap = parent->cap_children ? 2 * parent->cap_children : 4;
    qm_desc **c = realloc(parent->children, cap * sizeof *c);
    if (!c)
      return false;
    parent->children = c;
    parent->cap_children = cap;
  }
  parent->children[parent->n_children++] = child;
  return true;
}

char *qm_desc_strdup(qm_desc *d, const char *s)
{
  size_t n = strlen(s) + 1;
  char *p = qm_desc_alloc(d, n);
  if (p)
    memcpy(p, s, n);
  return p;
}

void qm_desc_free(qm_desc *d)
{
  if (!d)
    return;
  for (size_t i = 0; i < d->n_children; ++i)
    qm_desc_free(d->children[i]);
  free(d->children);
  for (size_t i = 0; i < d->n_allocs; ++i)
    free(d->allocs[i]);
  qm_scheme_record_free(d->scheme_record);
  json_decref(d->source_json);
  free(d->allocs);
  free(d);
}

/**
   The kind of a JSON syntax error in our own words. jansson's e.text quotes
   the token it stopped at ("near 'root'"), which for a mistaken path such
   as /etc/shadow or /proc/self/environ would copy the file's contents into
   the host log and the GUI; the error code and position say enough.
*/
static const char *json_error_kind(const json_error_t *e)
{
  switch (json_error_code(e)) {
  case json_error_out_of_memory: return "out of memory";
  case json_error_stack_overflow: return "nested too deeply";
  case json_error_invalid_utf8: return "invalid UTF-8";
  case json_error_premature_end_of_input: return "the text ends too early (truncated?)";
  case json_error_end_of_input_expected: return "more text after the end of the JSON value";
  case json_error_invalid_syntax: return "a syntax error";
  case json_error_null_character: return "a NUL byte outside a string";
  case json_error_null_byte_in_key: return "a NUL byte in an object key";
  case json_error_duplicate_key: return "a duplicate object key";
  case json_error_numeric_overflow: return "a number too large to represent";
  default: return "unreadable JSON";
  }
}

json_t *qm_parse_json(qm_ctx *c, const char *data, size_t len, const qm_split *split)
{
  json_error_t e;
  /* JSON_ALLOW_NUL: a NUL inside a string is a content error reported later,
     not a reason to misreport the file as truncated. */
  json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e);
  if (!root) {
    int line = e.line, column = e.column;
    size_t byte = e.position > 0 ? (size_t)e.position : 0;
    if (split)
      qm_split_position(split, &line, &column, &byte);
    qm_fail(c, "not valid JSON: %s at line %d, column %d (byte %zu)", json_error_kind(&e), line,
            column, byte);
    return NULL;
  }
  if (!json_is_object(root)) {
    json_decref(root);
    qm_fail(c, "not a model file: the JSON top level is not an object");
    return NULL;
  }
  return root;
}

const char *qm_shown(const char *s, char *buf, size_t n)
{
  size_t len = strlen(s);
  bool word = len > 0 && len <= 32;
  for (size_t i = 0; word && i < len; ++i)
    word = isalnum((unsigned char)s[i]) || strchr("._+-", s[i]);
  if (word)
    snprintf(buf, n, "\"%s\"", s);
  else
    snprintf(buf, n, "(a string of %zu bytes)", len);
  return buf;
}

static const char *type_name(json_t *v)
{
  switch (json_typeof(v)) {
  case JSON_OBJECT: return "an object";
  case JSON_ARRAY: return "an array";
  case JSON_STRING: return "a string";
  case JSON_INTEGER: return "an integer";
  case JSON_REAL: return "a number";
  case JSON_TRUE:
  case JSON_FALSE: return "a boolean";
  case JSON_NULL: return "null";
  }
  return "?";
}

json_t *qm_get(qm_ctx *c, json_t *obj, const char *where, const char *key, bool required)
{
  json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
  if (!v && required)
    qm_fail(c, "missing key \"%s\" in %s", key, where);
  return v;
}

bool qm_json_int(qm_ctx *c, json_t *v, const char *what, long long lo, long long hi, int *out)
{
  double x;
  if (json_is_integer(v)) {
    json_int_t i = json_integer_value(v);
    if (i < lo || i > hi)
      return qm_fail(c, "%s is %lld, outside [%lld, %lld]", what, (long long)i, lo, hi);
    *out = (int)i;
    return true;
  }
  if (!json_is_real(v))
    return qm_fail(c, "%s must be an integer, not %s", what, type_name(v));
  x = json_real_value(v);
  if (x != floor(x))
    return qm_fail(c, "%s must be an integer, not %g", what, x);
  if (x < (double)lo || x > (double)hi)
    return qm_fail(c, "%s is %g, outside [%lld, %lld]", what, x, lo, hi);
  *out = (int)x;
  return true;
}

bool qm_get_int(qm_ctx *c, json_t *obj, const char *where, const char *key, bool required,
                long long lo, long long hi, long long dflt, int *out)
{
  json_t *v = qm_get(c, obj, where, key, required);
  if (!v || (json_is_null(v) && !required)) {
    if (required)
      return false;
    *out = (int)dflt;
    return true;
  }
  char what[160];
  snprintf(what, sizeof what, "\"%s\" in %s", key, where);
  return qm_json_int(c, v, what, lo, hi, out);
}

bool qm_get_bool(qm_ctx *c, json_t *obj, const char *where, const char *key, bool required,
                 bool dflt, bool *out)
{
  json_t *v = qm_get(c, obj, where, key, required);
  if (!v) {
    *out = dflt;
    return !required;
  }
  if (!json_is_boolean(v))
    return qm_fail(c, "\"%s\" in %s must be true or false, not %s", key, where, type_name(v));
  *out = json_is_true(v);
  return true;
}

bool qm_get_double(qm_ctx *c, json_t *obj, const char *where, const char *key, bool required,
                   double dflt, double *out)
{
  json_t *v = qm_get(c, obj, where, key, required);
  if (!v || (json_is_null(v) && !required)) {
    *out = dflt;
    return !required || v;
  }
  if (!json_is_number(v))
    return qm_fail(c, "\"%s\" in %s must be a number, not %s", key, where, type_name(v));
  double x = json_number_value(v);
  if (!isfinite(x))
    return qm_fail(c, "\"%s\" in %s is not finite", key, where);
  *out = x;
  return true;
}

bool qm_json_float(qm_ctx *c, json_t *v, const char *what, size_t index, float *out)
{
  if (!json_is_number(v))
    return qm_fail(c, "%s %zu is %s, not a number", what, index, v ? type_name(v) : "missing");
  double x = json_number_value(v);
  float f = (float)x;
  /* A finite double beyond FLT_MAX becomes inf here: refused the same way. */
  if (!isfinite(x) || !isfinite(f))
    return qm_fail(c, "%s %zu is not finite (%g)", what, index, x);
  *out = f;
  return true;
}

bool qm_json_floats(qm_ctx *c, json_t *arr, const char *what, size_t first, size_t count,
                    float *out)
{
  for (size_t i = 0; i < count; ++i)
    if (!qm_json_float(c, json_array_get(arr, first + i), what, first + i, &out[i]))
      return false;
  return true;
}

/** What a non-regular file is, for the refusal message. */
static const char *file_type_name(mode_t m)
{
  if (S_ISDIR(m))
    return "a directory";
  if (S_ISFIFO(m))
    return "a FIFO (named pipe)";
  if (S_ISCHR(m))
    return "a character device";
  if (S_ISBLK(m))
    return "a block device";
  if (S_ISSOCK(m))
    return "a socket";
  return "not a regular file";
}

/** The split text parsed; takes the weights from the splitter. */
static bool doc_from_split(qm_ctx *c, qm_split *sp, qm_doc *doc)
{
  memset(doc, 0, sizeof *doc);
  bool ok =
      qm_split_finish(sp, c) && (doc->root = qm_parse_json(c, sp->rest, sp->rest_len, sp)) != NULL;
  if (ok) {
    doc->w = sp->w;
    doc->n_w = sp->n_w;
    doc->have_weights = sp->have_weights;
    sp->w = NULL;
  }
  qm_split_free(sp);
  return ok;
}

bool qm_doc_from_buffer(qm_ctx *c, const char *data, size_t len, qm_doc *doc)
{
  qm_split sp;
  qm_split_init(&sp);
  qm_split_feed(&sp, c, data, len);
  return doc_from_split(c, &sp, doc);
}

bool qm_doc_from_file(qm_ctx *c, const char *path, qm_doc *doc)
{
  memset(doc, 0, sizeof *doc);
  /* Only regular files are model files. O_NONBLOCK so that opening a FIFO
     with no writer (or a device that waits for a carrier) returns at once
     instead of blocking the worker forever; fstat on the descriptor (not
     stat on the path, which could change in between) then says what it is,
     and /dev/zero or /dev/urandom are refused before a byte is read. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return qm_fail(c, "cannot open: %s", strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    qm_fail(c, "cannot stat: %s", strerror(errno));
    close(fd);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    qm_fail(c, "%s, not a model file (only regular files are read)", file_type_name(st.st_mode));
    close(fd);
    return false;
  }
  if ((uintmax_t)st.st_size > QM_MAX_FILE_BYTES) {
    qm_fail(c, "file too large: %jd bytes, the limit is %zu (%zu MiB, room for %d weights)",
            (intmax_t)st.st_size, QM_MAX_FILE_BYTES, QM_MAX_FILE_BYTES >> 20, QM_MAX_WEIGHTS);
    close(fd);
    return false;
  }
  /* Read in pieces straight into the splitter: the text is never held
     whole, only the floats and what is not "weights". */
  qm_split sp;
  qm_split_init(&sp);
  static const size_t piece = 65536;
  char *buf = malloc(piece);
  bool ok = buf != NULL || qm_fail(c, "out of memory reading the file");
  size_t total = 0;
  while (ok) {
    ssize_t got = read(fd, buf, piece);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      ok = qm_fail(c, "read error: %s", strerror(errno));
      break;
    }
    if (got == 0)
      break;
    total += (size_t)got;
    /* The file may have grown since fstat. */
    if (total > QM_MAX_FILE_BYTES)
      ok = qm_fail(c, "file too large: more than %zu bytes (%zu MiB)", QM_MAX_FILE_BYTES,
                   QM_MAX_FILE_BYTES >> 20);
    else
      ok = qm_split_feed(&sp, c, buf, (size_t)got);
  }
  free(buf);
  close(fd);
  if (!ok) {
    qm_split_free(&sp);
    return false;
  }
  return doc_from_split(c, &sp, doc);
}

void qm_doc_free(qm_doc *doc)
{
  json_decref(doc->root);
  free(doc->w);
  memset(doc, 0, sizeof *doc);
}

void qm_meta_string(qm_desc *d, json_t *obj, const char *key, char **out)
{
  json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
  if (!json_is_string(v))
    return;
  /* A name is one line in the GUI and the host log, and travels to the UI
     in one atom message: a 1 MB name never arrived there. Longer strings
     are cut on a UTF-8 character boundary (jansson has checked the
     encoding) and end in an ellipsis, and control characters become
     spaces. */
  static const char ellipsis[] = "\xE2\x80\xA6";
  const char *s = json_string_value(v);
  size_t n = strlen(s);
  bool cut = n > QM_MAX_META_BYTES;
  if (cut) {
    n = QM_MAX_META_BYTES - (sizeof ellipsis - 1);
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
      --n; /* s[n] continues a character: cut before that character */
  }
  char *p = qm_desc_alloc(d, n + sizeof ellipsis);
  if (!p)
    return;
  for (size_t i = 0; i < n; ++i)
    p[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7F ? ' ' : s[i];
  if (cut)
    memcpy(p + n, ellipsis, sizeof ellipsis);
  *out = p;
}

void qm_meta_number(json_t *obj, const char *key, bool *has, double *out)
{
  json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
  if (json_is_number(v) && isfinite(json_number_value(v))) {
    *has = true;
    *out = json_number_value(v);
  }
}

/** Choose the loader by content: .nam keys first, then keras ones. */
static qm_desc *load_doc(qm_ctx *c, qm_doc *doc)
{
  json_t *root = doc->root;
  bool nam = doc->have_weights || json_object_get(root, "architecture") ||
             json_object_get(root, "weights") || json_object_get(root, "version");
  bool keras = json_object_get(root, "layers") || json_object_get(root, "in_shape");
  if (nam)
    return qm_nam_from_doc(c, doc);
  if (keras)
    return qm_keras_from_doc(c, doc);
  qm_fail(c, "not a model file: neither a .nam file (no \"architecture\"/\"weights\") nor "
             "a keras/RTNeural model (no \"layers\")");
  return NULL;
}

/** A buffer split, parsed and handed to `load`, with messages named `name`. */
static qm_desc *load_buffer_with(const char *data, size_t len, const char *name, char *err,
                                 size_t errlen, qm_desc *(*load)(qm_ctx *, qm_doc *))
{
  qm_ctx c = {name ? name : "(model)", err, errlen};
  qm_doc doc;
  if (!qm_doc_from_buffer(&c, data, len, &doc))
    return NULL;
  qm_desc *d = load(&c, &doc);
  qm_doc_free(&doc);
  return d;
}

qm_desc *qm_load_buffer(const char *data, size_t len, const char *name, char *err, size_t errlen)
{
  return load_buffer_with(data, len, name, err, errlen, load_doc);
}

qm_desc *qm_load_nam_buffer(const char *data, size_t len, const char *name, char *err,
                            size_t errlen)
{
  return load_buffer_with(data, len, name, err, errlen, qm_nam_from_doc);
}

qm_desc *qm_load_keras_buffer(const char *data, size_t len, const char *name, char *err,
                              size_t errlen)
{
  return load_buffer_with(data, len, name, err, errlen, qm_keras_from_doc);
}

qm_desc *qm_load_file(const char *path, char *err, size_t errlen)
{
  qm_ctx c = {path, err, errlen};
  qm_doc doc;
  if (!qm_doc_from_file(&c, path, &doc))
    return NULL;
  qm_desc *d = load_doc(&c, &doc);
  qm_doc_free(&doc);
  return d;
}

int qm_desc_receptive_field(const qm_desc *d)
{
  const qm_arch_ops *ops = qm_arch_ops_of(d->arch);
  const long long rf = ops ? ops->receptive_field(d) : 1;
  return rf > QM_MAX_RECEPTIVE_FIELD ? QM_MAX_RECEPTIVE_FIELD : (int)rf;
}

size_t qm_desc_weight_bytes(const qm_desc *d) { return d->n_weights * sizeof(float); }
