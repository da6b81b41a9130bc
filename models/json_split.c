/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Splits a model file's JSON text, fed in pieces as it is read, into the
  numbers of its top-level "weights" array, converted straight into a
  float buffer, and the rest of the text, which goes to jansson. A .nam
  file is almost all weights: as a DOM they cost about 50 bytes per number
  (a node each plus the array's table) and a 200 MB file took over 1 GB
  and ten seconds; here they cost the 4 bytes of a float, and the file
  itself is never held in memory.

  The scanner understands just enough JSON to find that array: strings
  (with escapes), nesting depth, and in the top-level object whether a
  string is a key. The array itself is checked strictly (RFC 8259 numbers,
  commas, no trailing comma); the rest keeps the array's brackets with
  nothing between them, so it is valid JSON exactly when the file was, and
  jansson judges it. Values in the rest are counted as they pass and
  refused beyond QM_MAX_JSON_VALUES, before any DOM is built, so no other
  part of a file (a keras model's weights included) can make the DOM
  large either.
*/
#include "loader_internal.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void qm_split_init(qm_split *s)
{
  memset(s, 0, sizeof *s);
  s->line = 1;
}

void qm_split_free(qm_split *s)
{
  free(s->rest);
  free(s->w);
  s->rest = NULL;
  s->w = NULL;
}

/** A syntax error at the current position, in the words qm_parse_json uses. */
static bool syntax_error(qm_split *s, qm_ctx *c, const char *kind)
{
  s->failed = true;
  /* jansson reads a whole UTF-8 character before it reports: so do we. */
  unsigned char b = (unsigned char)s->last;
  size_t byte = s->offset + (b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : b >= 0xC0 ? 1 : 0);
  return qm_fail(c, "not valid JSON: %s at line %d, column %d (byte %zu)", kind, s->line, s->col,
                 byte);
}

static bool rest_put(qm_split *s, qm_ctx *c, const char *p, size_t n)
{
  if (s->rest_cap - s->rest_len < n + 1) {
    size_t cap = s->rest_cap ? s->rest_cap : 4096;
    while (cap - s->rest_len < n + 1)
      cap *= 2;
    char *r = realloc(s->rest, cap);
    if (!r) {
      s->failed = true;
      return qm_fail(c, "out of memory reading the file");
    }
    s->rest = r;
    s->rest_cap = cap;
  }
  memcpy(s->rest + s->rest_len, p, n);
  s->rest_len += n;
  s->rest[s->rest_len] = '\0';
  return true;
}

/** RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool number_syntax(const char *t, bool *integer)
{
  const char *p = t;
  if (*p == '-')
    ++p;
  if (*p == '0')
    ++p;
  else if (*p >= '1' && *p <= '9')
    while (*p >= '0' && *p <= '9')
      ++p;
  else
    return false;
  *integer = true;
  if (*p == '.') {
    *integer = false;
    if (!(*++p >= '0' && *p <= '9'))
      return false;
    while (*p >= '0' && *p <= '9')
      ++p;
  }
  if (*p == 'e' || *p == 'E') {
    *integer = false;
    ++p;
    if (*p == '+' || *p == '-')
      ++p;
    if (!(*p >= '0' && *p <= '9'))
      return false;
    while (*p >= '0' && *p <= '9')
      ++p;
  }
  return *p == '\0';
}

/**
   The number token in s->tok as a float, converted as jansson converts
   (the loaders did json_number_value, then a cast): integers through
   strtoll, others through strtod with '.' swapped for the locale's decimal
   point, an overflowing double refused as jansson refuses it.
*/
static bool finish_number(qm_split *s, qm_ctx *c)
{
  s->tok[s->tok_len] = '\0';
  bool integer;
  if (!number_syntax(s->tok, &integer))
    return syntax_error(s, c, "a malformed number in \"weights\"");
  double x;
  errno = 0;
  if (integer) {
    long long v = strtoll(s->tok, NULL, 10);
    if (errno == ERANGE)
      return syntax_error(s, c, "a number too large to represent");
    x = (double)v;
  } else {
    const char *point = localeconv()->decimal_point;
    char *dot = strchr(s->tok, '.');
    if (dot && point && point[0] && point[0] != '.')
      *dot = point[0];
    x = strtod(s->tok, NULL);
    if (errno == ERANGE && (x == HUGE_VAL || x == -HUGE_VAL))
      return syntax_error(s, c, "a number too large to represent");
  }
  float f = (float)x;
  /* A finite double beyond FLT_MAX becomes inf here: refused as before. */
  if (!isfinite(f)) {
    s->failed = true;
    return qm_fail(c, "weight %zu is not finite (%g)", s->n_w, x);
  }
  if (s->n_w == QM_MAX_WEIGHTS) {
    s->failed = true;
    return qm_fail(c, "model too large: more than %d weights (the limit)", QM_MAX_WEIGHTS);
  }
  if (s->n_w == s->cap_w) {
    size_t cap = s->cap_w ? 2 * s->cap_w : 16384;
    if (cap > QM_MAX_WEIGHTS)
      cap = QM_MAX_WEIGHTS;
    float *w = realloc(s->w, cap * sizeof *w);
    if (!w) {
      s->failed = true;
      return qm_fail(c, "out of memory for %zu weights", cap);
    }
    s->w = w;
    s->cap_w = cap;
  }
  s->w[s->n_w++] = f;
  s->tok_len = 0;
  return true;
}

static bool number_char(char ch)
{
  return (ch >= '0' && ch <= '9') || ch == '-' || ch == '+' || ch == '.' || ch == 'e' || ch == 'E';
}

static bool space(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'; }

/** One byte inside the weights array. */
static bool weights_byte(qm_split *s, qm_ctx *c, char ch)
{
  if (s->tok_len) {
    if (number_char(ch)) {
      if (s->tok_len == QM_MAX_NUMBER_CHARS)
        return syntax_error(
            s, c, "a number of over " QM_STR(QM_MAX_NUMBER_CHARS) " characters in \"weights\"");
      s->tok[s->tok_len++] = ch;
      return true;
    }
    if (!finish_number(s, c))
      return false;
    s->expect = QM_SPLIT_COMMA;
  }
  if (space(ch))
    return true;
  if (s->expect != QM_SPLIT_COMMA && (ch == '-' || (ch >= '0' && ch <= '9'))) {
    s->tok[s->tok_len++] = ch;
    return true;
  }
  if (ch == ']' && s->expect != QM_SPLIT_VALUE) {
    /* Where the rest's "[]" stands for the array, to map jansson's
       positions back to the file's. */
    s->map_at = s->rest_len;
    s->map_bytes = s->offset - 1 - s->rest_len;
    s->map_lines = s->line - s->open_line;
    s->map_col = s->col - (s->open_col + 1);
    s->in_weights = false;
    s->have_weights = true;
    s->expect = QM_SPLIT_NONE;
    ++s->values;
    return rest_put(s, c, &ch, 1);
  }
  if (ch == ',' && s->expect == QM_SPLIT_COMMA) {
    s->expect = QM_SPLIT_VALUE;
    return true;
  }
  if (s->expect != QM_SPLIT_COMMA) {
    const char *what = ch == 'n'                ? "null"
                       : ch == 't' || ch == 'f' ? "a boolean"
                       : ch == '"'              ? "a string"
                       : ch == '['              ? "an array"
                       : ch == '{'              ? "an object"
                                                : NULL;
    if (what) {
      s->failed = true;
      return qm_fail(c, "weight %zu is %s, not a number", s->n_w, what);
    }
  }
  return syntax_error(s, c, "a syntax error in \"weights\"");
}

/** One byte outside the weights array: copied to the rest, structure tracked. */
static bool rest_byte(qm_split *s, qm_ctx *c, char ch)
{
  if (!rest_put(s, c, &ch, 1))
    return false;
  if (s->in_string) {
    if (s->escape)
      s->escape = false;
    else if (ch == '\\')
      s->escape = true;
    else if (ch == '"') {
      s->in_string = false;
      if (s->in_key) {
        s->in_key = false;
        s->key_is_weights = s->key_len == 7 && !s->key_escaped && !memcmp(s->key, "weights", 7);
      }
      return true;
    }
    if (s->in_key) {
      if (ch == '\\')
        s->key_escaped = true;
      if (s->key_len < sizeof s->key)
        s->key[s->key_len] = ch;
      ++s->key_len;
    }
    return true;
  }
  bool scalar = number_char(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
  if (scalar && !s->in_scalar && ++s->values > QM_MAX_JSON_VALUES)
    goto too_many;
  s->in_scalar = scalar;
  if (space(ch) || scalar) {
    if (scalar)
      s->weights_next = false;
    return true;
  }
  bool top = s->depth == 1 && s->top_object;
  switch (ch) {
  case '"':
    s->in_string = true;
    if (top && s->key_next) {
      s->in_key = true;
      s->key_next = false;
      s->key_len = 0;
      s->key_escaped = false;
    }
    if (++s->values > QM_MAX_JSON_VALUES)
      goto too_many;
    break;
  case ':':
    if (top && s->key_is_weights && !s->weights_done)
      s->weights_next = true;
    s->key_is_weights = false;
    return true;
  case ',':
    if (top)
      s->key_next = true;
    break;
  case '[':
  case '{':
    if (++s->values > QM_MAX_JSON_VALUES)
      goto too_many;
    if (s->depth == 0 && ch == '{')
      s->top_object = true;
    if (s->weights_next && ch == '[') {
      s->in_weights = true;
      s->weights_done = true;
      s->expect = QM_SPLIT_FIRST;
      s->open_line = s->line;
      s->open_col = s->col;
      s->weights_next = false;
      --s->values; /* counted when it closes */
      return true;
    }
    if (s->depth == 0 && ch == '{')
      s->key_next = true;
    if (s->depth < INT_MAX)
      ++s->depth;
    break;
  case ']':
  case '}':
    if (s->depth > 0)
      --s->depth;
    break;
  default: break;
  }
  s->weights_next = false;
  return true;
too_many:
  s->failed = true;
  return qm_fail(c, "too many JSON values outside \"weights\" (more than %d)", QM_MAX_JSON_VALUES);
}

bool qm_split_feed(qm_split *s, qm_ctx *c, const char *p, size_t n)
{
  /* A UTF-8 byte order mark before the text is skipped, as before, and
     positions count from after it. The first piece fed holds it whole. */
  if (!s->started && n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) {
    p += 3;
    n -= 3;
  }
  s->started = s->started || n > 0;
  for (size_t i = 0; i < n && !s->failed; ++i) {
    char ch = p[i];
    s->last = ch;
    ++s->offset;
    if ((unsigned char)ch >= 0x80 && ((unsigned char)ch & 0xC0) == 0x80)
      ; /* a UTF-8 continuation byte: same column (jansson counts characters) */
    else
      ++s->col;
    if (!(s->in_weights ? weights_byte(s, c, ch) : rest_byte(s, c, ch)))
      return false;
    if (ch == '\n') {
      ++s->line;
      s->col = 0;
    }
  }
  return !s->failed;
}

bool qm_split_finish(qm_split *s, qm_ctx *c)
{
  if (s->failed)
    return false;
  if (s->in_weights) {
    ++s->col;
    return syntax_error(s, c, "the text ends inside \"weights\" (truncated?)");
  }
  return s->rest_len > 0 || rest_put(s, c, "", 0);
}

void qm_split_position(const qm_split *s, int *line, int *column, size_t *byte)
{
  if (!s->have_weights || *byte <= s->map_at)
    return;
  *byte += s->map_bytes;
  if (*line == s->open_line)
    *column += s->map_col;
  *line += s->map_lines;
}
